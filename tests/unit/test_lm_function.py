"""Plain functions as text models: what the metamodel tests put to explain."""

from __future__ import annotations

import pytest

from behaviorlab.errors import BadInput
from behaviorlab.lm import TextModel, texts
from behaviorlab.lm.function import BatchFunctionModel, FunctionModel


def test_function_model_is_a_text_model() -> None:
    m = FunctionModel(lambda x: x.upper(), "upper", alphabet=["a", "b"])
    assert isinstance(m, TextModel) and m.spec == "function:upper" and m.alphabet == ("a", "b")
    assert m.tokenize(" a  b ") == ["a", "b"]
    got = m.generate(["a b", "b"], 8)
    assert [c.text for c in got] == ["A B", "B"] and got[0].tokens == ("A", "B")
    assert {c.finish for c in got} == {"eos"}


def test_budget_and_stop_strings_cut_the_completion() -> None:
    m = FunctionModel(lambda x: f"{x} ; {x}", "twice")
    (cut,) = m.generate(["a b c"], 4)
    assert (cut.text, cut.finish) == ("a b c ;", "length")
    (stopped,) = m.generate(["a b"], 10, stop=[" ;"])
    assert (stopped.text, stopped.finish) == ("a b", "stop")
    assert texts(m, ["a"], 10) == ["a ; a"]


def test_no_token_probabilities_and_errors_propagate() -> None:
    m = FunctionModel(lambda x: x, "echo")
    with pytest.raises(BadInput, match="no token probabilities"):
        m.score(["a"], ["a"])

    def picky(x: str) -> str:
        raise BadInput(f"cannot read {x!r}")

    with pytest.raises(BadInput, match="cannot read"):
        FunctionModel(picky, "picky").generate(["?"], 4)
    short = BatchFunctionModel(lambda xs: xs[:1], "short")
    with pytest.raises(BadInput, match="1 outputs for 2 prompts"):
        short.generate(["a", "b"], 4)
