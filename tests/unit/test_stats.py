"""stats.py: the one place numbers get their intervals — undefined shares, usable shares, spreads
against random baselines (never a mean), exact chance levels, clipped MI, and how they print."""

from __future__ import annotations

import itertools

import pytest

from behaviorlab.stats import (
    chance_of_run,
    clipped_at_zero,
    exact,
    percent,
    rank_p,
    share,
    spread,
    undefined,
    usable_share,
    versus_random,
    versus_text,
)


def test_a_share_of_nothing_is_undefined_and_says_so() -> None:
    e = share(0, 0)
    assert not e.defined and e.ci_low is None and e.ci_high is None
    assert percent(e, undefined("failures")) == "n/a (no failures)"
    assert "100%" not in percent(e) and "0%" not in percent(e)


def test_usable_share_counts_only_usable_cases_and_names_the_rest() -> None:
    e = usable_share([True, True, False, None, None, True])
    assert (e.k, e.n, e.excluded) == (3, 4, 2)
    assert percent(e).endswith("(2 unusable left out)")
    none = usable_share([None] * 4)
    assert not none.defined and percent(none) == "n/a (none of 4 usable)"
    assert type(e).from_json(e.to_json()) == e and "excluded" not in share(1, 2).to_json()


def test_found_heads_against_random_draws_report_spread_and_rank_p() -> None:
    # The issue's example: found heads drop accuracy 100%; the random draws' mean is 44.9%, but
    # 3 of 8 draws drop it by >= 94% — a mean hides that, the range and the rank p-value do not.
    draws = [0.94, 0.97, 1.0, 0.1, 0.05, 0.2, 0.1, 0.23]
    vs = versus_random(1.0, draws)
    assert vs.random.method == "range" and vs.random.ci_low == 0.05 and vs.random.ci_high == 1.0
    assert vs.random.estimate == pytest.approx(0.215)
    assert vs.at_least == 1 and vs.p_value == pytest.approx(2 / 9) and not vs.beats_all
    text = versus_text(vs)
    assert "median 21.5% (range 5.0%–100.0%) over 8 random draws; 1 of 8 reach it" in text
    assert "mean" not in text
    assert versus_random(0.5, [0.1, 0.2]).beats_all and rank_p(0.5, [0.1, 0.2]) == pytest.approx(1 / 3)
    assert rank_p(0.5, []) is None and not spread([]).defined


def test_chance_of_a_run_is_exact() -> None:
    for key, alphabet in ((["0", "1", "0"], "01"), (["1", "1"], "01"), (["a", "b", "a"], "abc")):
        for length in range(7):
            strings = list(itertools.product(alphabet, repeat=length))
            hits = sum(any(list(s[i : i + len(key)]) == key for i in range(length)) for s in strings)
            assert chance_of_run(key, len(alphabet), length) == pytest.approx(hits / len(strings))
    assert percent(exact(0.25, 6)) == "25% (exact)"


def test_clipping_keeps_what_was_not_negative() -> None:
    e = clipped_at_zero(type(share(1, 2))(-0.1, -0.2, 0.4, 30, "miller-madow"))
    assert (e.estimate, e.ci_low, e.ci_high, e.method) == (0.0, 0.0, 0.4, "miller-madow")
