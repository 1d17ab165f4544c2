"""The probes' measuring tools: loops, copied spans, answers, noise, token spans, and the mapping rule."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from behaviorlab.probes.base import ProbeConfig
from behaviorlab.probes.mapping import classify, compare
from behaviorlab.probes.text import (
    answer_key,
    char_noise,
    contains_run,
    contains_word,
    edit_sites,
    find_loop,
    longest_common_span,
    single_edit,
    token_noise,
    token_spans,
)
from behaviorlab.stats import percent, quartiles, share


def test_find_loop_takes_the_longest_tail_and_needs_three_repeats() -> None:
    assert find_loop([]) is None
    assert find_loop(list("abc")) is None
    assert find_loop(list("abab")) is None  # two repeats only
    assert find_loop(list("xyababab")) == (2, 2)
    assert find_loop(list("aaa")) == (0, 1)
    assert find_loop(list("qaaaa")) == (1, 1)  # period 1 beats period 2 at the same start
    unit = [str(i) for i in range(17)]
    assert find_loop(unit * 3) is None  # period 17 is above the cap
    assert find_loop(unit * 3, max_period=17) == (0, 17)


@given(st.lists(st.sampled_from("ab"), max_size=12), st.integers(1, 4))
def test_find_loop_tail_really_repeats(prefix: list[str], p: int) -> None:
    toks = prefix + list("xyzw"[:p]) * 3
    found = find_loop(toks)
    assert found is not None
    start, period = found
    tail = toks[start:]
    assert len(tail) >= 3 * period and all(tail[i] == tail[i + period] for i in range(len(tail) - period))


def test_spans_and_runs() -> None:
    assert longest_common_span(list("abcde"), list("xxbcdy")) == 3
    assert longest_common_span([], list("ab")) == 0
    assert contains_run(list("xxabc"), list("abc")) and not contains_run(list("xxabd"), list("abc"))
    assert not contains_run(list("abc"), [])


def test_answers() -> None:
    assert answer_key("  Paris.\nmore") == "paris"
    assert contains_word("The capital is Paris.", "paris")
    assert not contains_word("Parisian", "Paris")
    assert not contains_word("anything", "")


def test_char_noise_rates_and_determinism() -> None:
    text = "What is the capital of France?"
    assert char_noise(text, "drop", 0.0, random.Random(0)) == text
    assert char_noise(text, "drop", 1.0, random.Random(0)) == ""
    assert char_noise(text, "case", 1.0, random.Random(0)) == text.swapcase()
    assert len(char_noise(text, "insert", 1.0, random.Random(0))) == 2 * len(text)
    assert char_noise(text, "swap", 0.3, random.Random(5)) == char_noise(text, "swap", 0.3, random.Random(5))
    assert sorted(char_noise(text, "swap", 0.3, random.Random(5))) == sorted(text)


def test_token_noise_stays_in_the_alphabet() -> None:
    toks, alphabet = ["1", "0", "1", "1"], ("0", "1")
    assert token_noise(toks, "replace", 0.0, alphabet, random.Random(0)) == toks
    replaced = token_noise(toks, "replace", 1.0, alphabet, random.Random(0))
    assert all(a != b for a, b in zip(toks, replaced, strict=True))
    for op in ("swap", "drop", "insert", "replace"):
        assert set(token_noise(toks, op, 0.5, alphabet, random.Random(1))) <= set(alphabet)


def test_token_spans_follow_space_markers() -> None:
    assert token_spans("What is", ["What", "Ġis"]) == [(0, 0, 4), (4, 5, 7)]
    assert (
        token_spans("What is", ["▁What", "▁is"]) is None
    )  # SentencePiece's leading space is not in the text
    assert token_spans(" What is", ["▁What", "▁is"]) == [(0, 1, 5), (5, 6, 8)]
    assert token_spans("What is", ["What", "Ġare"]) is None


@pytest.mark.parametrize("op", ["swap", "drop", "insert", "case"])
def test_inside_edits_keep_each_token_edge(op: str) -> None:
    text = "Which letter comes right after k in the alphabet?"
    tokens = re.findall(r"\s*\w+|\s*[^\w\s]", text)
    spans = token_spans(text, tokens)
    assert spans is not None
    boundary, inside = edit_sites(spans, text, op)
    assert boundary and inside
    rng = random.Random(0)
    edges = [(text[a], text[b - 1]) for _, a, b in spans]
    for pos in inside:
        edited = single_edit(text, op, pos, rng)
        words = re.findall(r"\s*\w+|\s*[^\w\s]", edited)
        got = [(w.strip()[0], w.strip()[-1]) for w in words]
        assert [(a.lower(), b.lower()) for a, b in got] == [(a.lower(), b.lower()) for a, b in edges]


def test_shares_and_quartiles() -> None:
    r = share(3, 10)
    assert r.estimate == 0.3 and r.ci_low is not None and r.ci_high is not None
    assert 0 < r.ci_low < 0.3 < r.ci_high < 1 and (r.k, r.n, r.method) == (3, 10, "wilson")
    empty = share(0, 0)  # a share of no cases is undefined, not 0% or 100%
    assert empty.estimate is None and empty.ci_low is None and not empty.defined
    assert quartiles([]).estimate is None
    assert percent(share(1, 4)) == "25% [5%–70%]"  # as verdicts spell it
    assert percent(empty) == "n/a (no cases)"
    q = quartiles([1, 2, 3, 4, 5])
    assert (q.estimate, q.ci_low, q.ci_high, q.method) == (3, 2, 4, "quartiles")


def test_limit_caps_items_and_sets_the_seed() -> None:
    cfg = ProbeConfig(n=8, seed=0)
    assert cfg.limited(3, 7).n == 3 and cfg.limited(3, 7).seed == 7
    assert cfg.limited(None, 1).n == 8


def test_mapping_classes() -> None:
    data = [share(50, 100), share(50, 100), share(0, 100), share(50, 100)]
    outs = [share(48, 100), share(5, 100), share(10, 100), share(0, 100)]
    assert [classify(d, o) for d, o in zip(data, outs, strict=True)] == [
        "shared",
        "contingent",
        "idiosyncratic",
        "unexpressed",
    ]
    # Intervals apart but the ratio inside [0.5, 2]: still shared.
    assert classify(share(500, 1000), share(700, 1000)) == "shared"
    pairs_data = [(["1"], ["1", "0"])] * 20
    pairs_out = [(["1"], ["1", "1", "1"])] * 20
    m = compare(pairs_data, pairs_out)
    by = {f["feature"]: f["class"] for f in m["features"]}
    assert by["1-gram 1"] == "shared"
    assert by["1-gram 0"] == "unexpressed"
    assert by["loops (period ≤ 16, ≥ 3 repeats)"] == "idiosyncratic"
    assert by["copies its whole input"] == "shared"
    assert sum(m["counts"].values()) >= len(m["features"])


def test_one_line_replies_of_the_self_written_variant() -> None:
    from behaviorlab.probes.consistency import first_phrase

    assert first_phrase("**Ila Vorn**\nmore text", 4) == "Ila Vorn"
    assert first_phrase("Name: Tor Mesk.", 4) == "Tor Mesk"
    assert first_phrase("An underwater lamplighter!", 4) == "underwater lamplighter"
    assert first_phrase("Here is a name for your character: Tor Mesk.", 4) == "Tor Mesk"
    assert first_phrase("I'll write a full name for you:\n\nEmma Blackstone", 4) == "Emma Blackstone"
    assert first_phrase("Once upon a time, in a land far, far away, there was a", 4) is None
    assert first_phrase("", 4) is None
