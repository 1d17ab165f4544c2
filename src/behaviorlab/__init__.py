"""behaviorlab: what has a generative model actually learned, and where will it fail?"""

__version__ = "0.1.0"
