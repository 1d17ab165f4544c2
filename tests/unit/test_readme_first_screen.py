"""The README's first screen explains (issue: it was one ten-line sentence, never defined
"metamodel", "MDL" or the XO/X1/O1 spelling, and reached other people's models at line 150)."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_first_screen_says_what_it_answers_shows_output_and_defines_its_words() -> None:
    text = README.read_text(encoding="utf-8")
    first = text.split("\n## ", 1)[0]  # everything before the first section heading
    lines = first.splitlines()
    assert "what has a model actually learned, and where will it fail?" in " ".join(lines[:4])
    assert "hf" in first[:800].lower() or "hugging face" in first[:800].lower()  # other people's models
    example = first.split("```console", 1)[1].split("```", 1)[0]
    assert "$ behaviorlab train" in example and "$ behaviorlab explain" in example
    assert "failures, predicted by the program:" in example  # its real output, not a description
    glossary = first.split("### Words used here", 1)[1]
    for word in ("**behavior**", "**metamodel**", "**MDL**", "**failure prediction**", "**ID / OOD**"):
        assert word in glossary, word
    assert "`XO b` = 2b" in glossary and "`X1 b` = 2b+1" in glossary and "`O1` = one" in glossary
    assert max(len(p) for p in first.split("\n\n")[:2]) < 700  # no ten-line opening sentence
