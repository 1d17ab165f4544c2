"""The open-text material probes draw from: invented words and names, plain words, questions with
exact answers, story attributes and filler turns. Fixed lists plus a seeded generator: the same
seed gives the same prompts everywhere."""

from __future__ import annotations

import random

_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "kr", "st", "th", "qu")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ou")
_CODAS = ("", "", "n", "r", "l", "s", "x", "th")

# Common, unambiguous, non-palindromic words for the string maps (reverse, uppercase, last letter).
WORDS = (
    "apple",
    "river",
    "stone",
    "cloud",
    "garden",
    "pencil",
    "window",
    "silver",
    "bridge",
    "candle",
    "forest",
    "planet",
    "rocket",
    "basket",
    "winter",
    "summer",
    "mirror",
    "ladder",
    "button",
    "jacket",
    "orange",
    "camera",
    "dragon",
    "violin",
    "tomato",
    "pillow",
    "butter",
    "carpet",
    "wallet",
    "ticket",
    "island",
    "market",
    "parrot",
    "anchor",
    "helmet",
    "cactus",
    "bottle",
    "castle",
    "spider",
    "lemon",
)

CAPITALS = (
    ("France", "Paris"),
    ("Japan", "Tokyo"),
    ("Italy", "Rome"),
    ("Spain", "Madrid"),
    ("Germany", "Berlin"),
    ("Egypt", "Cairo"),
    ("Russia", "Moscow"),
    ("Greece", "Athens"),
    ("Portugal", "Lisbon"),
    ("Ireland", "Dublin"),
    ("Norway", "Oslo"),
    ("Kenya", "Nairobi"),
)

JOBS = (
    "beekeeper",
    "glassblower",
    "cartographer",
    "falconer",
    "clockmaker",
    "lighthouse keeper",
    "puppeteer",
    "blacksmith",
    "perfumer",
    "astronomer",
    "locksmith",
    "beekeeping teacher",
    "violin maker",
    "balloon pilot",
    "cheesemaker",
    "bookbinder",
)

# Neutral dialogue turns about unrelated things: distance without new information about anyone.
FILLER = (
    "User: What is a good way to keep bread fresh?\nAssistant: Store it in a cloth bag at room temperature.",
    "User: How long should I boil an egg?\nAssistant: About nine minutes for a firm yolk.",
    "User: Why is the sky blue?\nAssistant: Air scatters blue light more than red light.",
    "User: Can you suggest a name for a cat?\nAssistant: Pepper, Miso or Juniper are friendly choices.",
    "User: How do I water a cactus?\nAssistant: Soak the soil, then let it dry out completely.",
    "User: What is the boiling point of water?\nAssistant: One hundred degrees Celsius at sea level.",
    "User: How many legs does a spider have?\nAssistant: Eight legs.",
    "User: What should I pack for a rainy hike?\nAssistant: A waterproof jacket, spare socks and snacks.",
    "User: How do I clean a cast iron pan?\nAssistant: Rinse it with hot water and dry it over heat.",
    "User: What is a haiku?\nAssistant: A short poem of three lines with five, seven and five syllables.",
    "User: How can I sleep better?\nAssistant: Keep a regular schedule and a dark, cool room.",
    "User: Which planet is the largest?\nAssistant: Jupiter is the largest planet in the solar system.",
)

DENIAL = (
    r"never heard|don'?t know|do not know|no information|not familiar|who is|not sure who"
    r"|no (?:record|mention)|can'?t find|cannot find|isn'?t mentioned|is not mentioned"
)


def invented_word(rng: random.Random) -> str:
    """A pronounceable word that is (almost surely) in no dictionary: 2–3 syllables."""
    return "".join(
        rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(rng.randint(2, 3))
    )


def invented_name(rng: random.Random) -> str:
    """A capitalised first and last name, both invented."""
    return f"{invented_word(rng).capitalize()} {invented_word(rng).capitalize()}"


def question(rng: random.Random) -> tuple[str, str]:
    """(question, exact answer): small sums, capitals, the next letter, a word's first letter."""
    kind = rng.randrange(4)
    if kind == 0:
        a, b = rng.randint(2, 49), rng.randint(2, 49)
        return f"What is {a} plus {b}?", str(a + b)
    if kind == 1:
        country, capital = rng.choice(CAPITALS)
        return f"What is the capital of {country}?", capital
    if kind == 2:
        c = rng.choice("abcdefghijklmnopqrstuvwxy")
        return f"Which letter comes right after {c} in the alphabet?", chr(ord(c) + 1)
    w = rng.choice(WORDS)
    return f"What is the first letter of the word {w}?", w[0]
