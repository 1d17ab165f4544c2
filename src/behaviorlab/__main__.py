"""`python -m behaviorlab` runs the CLI."""

from behaviorlab.cli import main

main()
