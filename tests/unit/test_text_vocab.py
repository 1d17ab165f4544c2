"""Vocabularies for recorded text: every string round-trips exactly; unknown pieces are <unk>."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from behaviorlab.tasks.text import UNK, TextVocab, split_words, word_vocabulary


@given(st.text())
def test_word_pieces_cover_the_text(text: str) -> None:
    assert "".join(split_words(text)) == text


@given(st.text())
def test_bytes_round_trip_any_text(text: str) -> None:
    v = TextVocab("bytes")
    assert v.detokenize(v.tokenize(text)) == text
    assert v.decode(v.encode(text) + [v.eos_id, 5]) == text


@given(st.lists(st.text(max_size=30), min_size=1, max_size=5))
def test_words_round_trip_text_from_the_data(texts: list[str]) -> None:
    v = TextVocab("words", word_vocabulary(texts))
    for t in texts:
        assert UNK not in v.tokenize(t)
        assert v.detokenize(v.tokenize(t)) == t


def test_words_keep_layout_and_mark_the_unknown() -> None:
    v = TextVocab("words", word_vocabulary(["- 1 0\n- 1 1\nanswer: 1 0 0."]))
    assert v.tokenize("- 1 0") == ["-", " 1", " 0"]
    assert v.detokenize(v.tokenize("answer:\n- 1")) == "answer:\n- 1"
    assert v.tokenize("answer: cat") == ["answer", ":", UNK]
    assert v.text_of(["<bos>", "answer", "<eos>"]) == "answer"
