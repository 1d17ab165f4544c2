"""peano-add and binary-successor: reference functions against Python ints, printers, metadata."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from behaviorlab import tasks
from behaviorlab.tasks import binary, peano

VALUES = st.integers(min_value=1, max_value=2**40)


@settings(max_examples=200, deadline=None)
@given(VALUES)
def test_binary_successor_is_plus_one_in_both_orders(value: int) -> None:
    rev = tasks.get("binary-successor", order="reverse")
    nat = tasks.get("binary-successor", order="natural")
    assert binary.to_int(binary.succ(binary.from_int(value))) == value + 1
    nat_text = " ".join(bin(value)[2:])
    assert nat.print(nat.parse(nat_text)) == nat_text
    assert nat.solve(nat_text) == " ".join(bin(value + 1)[2:])
    rev_text = rev.print(binary.from_int(value))
    # Reading the reverse form backwards and dropping the X's gives the natural form.
    assert " ".join(t[-1] for t in reversed(rev_text.split())).replace("O", "0") == nat_text
    successor = rev.parse(rev.solve(rev_text))
    assert isinstance(successor, binary.O1 | binary.XO | binary.X1)
    assert binary.to_int(successor) == value + 1


@settings(max_examples=100, deadline=None)
@given(VALUES)
def test_binary_meta_counts_the_carry_chain(value: int) -> None:
    task = tasks.get("binary-successor", order="natural")
    bits = bin(value)[2:]
    meta = task.meta(" ".join(bits))
    assert meta["carry"] == len(bits) - len(bits.rstrip("1"))
    assert meta["all_ones"] == int(set(bits) == {"1"})
    assert meta["size"] == meta["length"] == len(bits)
    assert meta["output_length"] == len(bin(value + 1)[2:])
    rev = tasks.get("binary-successor", order="reverse")
    assert rev.meta(rev.print(binary.from_int(value))) == meta


@settings(max_examples=100, deadline=None)
@given(VALUES)
def test_binary_examples_from_ints_equal_printed_solved_and_measured(value: int) -> None:
    # draw() spells numbers straight from their ints; it must agree with the numeral route.
    for order in ("natural", "reverse"):
        task = tasks.get("binary-successor", order=order)
        text = binary._spell(value, task.reverse)
        assert text == task.print(binary.from_int(value))
        assert binary._spell(value + 1, task.reverse) == task.solve(text)
        assert binary._int_meta(value) == task.meta(text)
    ex = tasks.get("binary-successor", order="reverse").sample(20, seed=value % 97, edge_fraction=0.3)
    task = tasks.get("binary-successor", order="reverse")
    assert all(e.output == task.solve(e.input) and e.meta == task.meta(e.input) for e in ex)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 60), st.integers(1, 60))
def test_peano_add_is_addition(a: int, b: int) -> None:
    task = tasks.get("peano-add")
    text = f"{'S ' * (a - 1)}I + {'S ' * (b - 1)}I"
    problem = task.parse(text)
    assert task.print(problem) == text
    out = task.solve(text)
    total = task.parse_output(out)
    assert isinstance(total, peano.One | peano.Succ)
    assert peano.to_int(total) == a + b
    assert task.print(task.parse_output(out)) == out
    assert task.meta(text) == {
        "length": a + b + 1,
        "output_length": a + b,
        "size": max(a, b),
        "a": a,
        "b": b,
        "recursion_depth": a,
    }
    assert task.size_of(text) == max(a, b)


def test_peano_add_recurses_on_the_first_operand() -> None:
    calls: list[int] = []
    original = peano.add

    def spy(x: peano.Peano, m: peano.Peano) -> peano.Peano:
        calls.append(peano.to_int(x))
        return original(x, m)

    try:
        peano.add = spy  # type: ignore[assignment]
        assert peano.to_int(peano.add(peano.from_int(3), peano.from_int(5))) == 8
    finally:
        peano.add = original
    assert calls == [3, 2, 1]


def test_all_ones_changes_length() -> None:
    task = tasks.get("binary-successor")
    assert task.solve("X1 X1 X1 O1") == "XO XO XO XO O1"
    assert task.meta("X1 X1 X1 O1")["all_ones"] == 1
    assert task.meta("X1 X1 XO O1")["carry"] == 2


@pytest.mark.parametrize("value", [0, -3])
def test_from_int_rejects_non_positive(value: int) -> None:
    with pytest.raises(ValueError):
        binary.from_int(value)
    with pytest.raises(ValueError):
        peano.from_int(value)
