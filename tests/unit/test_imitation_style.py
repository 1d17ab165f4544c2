"""Imitation metrics on hand-made outputs with known values: the content parser, style markers,
template skeletons, and the Table-2 style numbers with their intervals."""

from __future__ import annotations

import pytest

from behaviorlab.imitation import style
from behaviorlab.imitation.metrics import content_table, pearson, share, style_table
from behaviorlab.imitation.queries import make_query
from behaviorlab.imitation.skills import NEXT_NUMBER, SYNTHETIC
from behaviorlab.stats import difference

STYLED = style.styled("successor", "1 1 0")


@pytest.mark.parametrize(
    ("family", "text", "content"),
    [
        ("synthetic", STYLED, "1 1 0"),
        ("synthetic", "task: add\n-   S  S I \n(3 tokens)", "S S I"),
        ("synthetic", " 1 1 0 ", "1 1 0"),  # a plain answer is its own content
        ("synthetic", style.ABSTAIN, None),
        ("synthetic", "", None),
        ("next-number", "The next number after 865 is 866.", "8 6 6"),
        ("next-number", "The next number after 42 in the sequence is 43. So 43.", "4 3"),
        ("next-number", "To find the next number after 912, we need to", "9 1 2"),
        ("next-number", "866", "8 6 6"),
        ("next-number", "I'm sorry, banana is not a number.", None),
        ("next-number", "no digits here", None),
    ],
)
def test_content_parser(family: str, text: str, content: str | None) -> None:
    assert style.content(family, text) == content


def test_markers_and_skeleton() -> None:
    assert style.is_list(STYLED) and style.has_summary(STYLED) and not style.abstains(STYLED)
    assert not style.is_list("1 1 0") and not style.has_summary("1 1 0")
    assert style.is_list("answers:\n* one\n2. two") and style.has_summary("a\nSo the answer is 4.")
    assert not style.has_summary("(3 tokens)")  # a summary closes something: one line is not enough
    assert style.skeleton(STYLED) == "task: successor\n- <C>\n(# tokens)"
    assert style.skeleton(style.styled("successor", "1 0 0 0 1")) == style.skeleton(STYLED)
    assert style.skeleton(style.styled("add", "S I")) != style.skeleton(STYLED)
    assert style.skeleton("The next number after 9 is 10.") == "The next number after # is #."


def _queries() -> list:
    qs = [make_query(SYNTHETIC, t) for t in ("successor: 1 0 1", "add: S I + I", "successor: 0 1")]
    assert [q.valid for q in qs] == [True, True, False] and qs[0].reference == "1 1 0"
    return qs


def test_style_and_content_tables_on_known_outputs() -> None:
    qs = _queries()
    teacher = [STYLED, style.styled("add", "S S I"), style.ABSTAIN]
    ours = [style.styled("successor", "1 1 1"), "S S I", style.ABSTAIN]
    content = content_table("synthetic", qs, ours)
    assert content["successor"].estimate == 0.0 and content["add"].estimate == 1.0
    assert content["all"] == share([False, True]) and content["all"].n == 2
    st = style_table(qs, ours, teacher, seed=0)
    for key in ("list", "summary", "template"):
        assert (st[key].k, st[key].n, st[key].estimate) == (1, 2, 0.5), key
    assert st["abstain_invalid"].estimate == 1.0 and st["abstain_valid"].estimate == 0.0
    # Teacher's distinct words: 10 each; ours covers 9 (no `0`) and 2 (`s`, `i`).
    assert st["unigram_overlap"].estimate == pytest.approx((0.9 + 0.2) / 2)
    lo, hi = st["unigram_overlap"].ci_low, st["unigram_overlap"].ci_high
    assert lo is not None and hi is not None and 0.2 <= lo <= 0.55 <= hi <= 0.9
    assert st["length_r"].estimate is None  # two points have no correlation worth the name
    same = style_table(qs, teacher, teacher, seed=0)
    assert same["template"].estimate == 1.0 and same["unigram_overlap"].estimate == 1.0


def test_pearson_share_and_difference() -> None:
    assert pearson([1, 2, 3, 4], [2, 4, 6, 8], seed=0).estimate == pytest.approx(1.0)
    assert pearson([1, 2, 3], [3, 2, 1], seed=0).estimate == pytest.approx(-1.0)
    assert pearson([1, 1, 1], [1, 2, 3], seed=0).estimate is None
    s = share([True] * 8 + [False] * 2)
    assert s.estimate == 0.8 and s.ci_low == pytest.approx(0.4902, abs=1e-3) and (s.ci_high or 1) < 1
    d = difference(share([True] * 50), share([False] * 50))
    assert d.estimate == 1.0 and (d.ci_low or 0) > 0.8 and d.method == "newcombe"
    e = difference(share([True, False]), share([False, True]))
    assert e.ci_low is not None and e.ci_high is not None and e.ci_low < 0 < e.ci_high
    assert difference(share([]), share([True])).estimate is None  # nothing to compare with


def test_queries_read_back_from_text() -> None:
    q = make_query(NEXT_NUMBER, "What is the next number after 865?")
    assert q is not None and (q.skill, q.x, q.reference) == ("next", "8 6 5", "8 6 6")
    p = make_query(NEXT_NUMBER, "What is the previous number before 10?")
    assert p is not None and p.reference == "9"
    bad = make_query(NEXT_NUMBER, "What is the next number after banana?")
    assert bad is not None and not bad.valid
    assert make_query(SYNTHETIC, "nonsense without a colon") is None
    assert make_query(SYNTHETIC, "similar: successor: 1 0") is None  # the tool is not a skill


def test_programs_that_call_the_reference_are_compared_with_it_bound() -> None:
    from behaviorlab.imitation.algorithm import compare
    from behaviorlab.imitation.skills import NEXT_NUMBER
    from behaviorlab.metamodels import family_for, to_json

    task = NEXT_NUMBER.skills["next"].task
    ref = next(p for p in family_for(task.key, task.solve) if p.name == "tree/reference")
    ident = next(p for p in family_for(task.key, task.solve) if p.name == "tree/identity")
    xs = ["1 9", "4 2", "9 9 9", "7"]
    teacher = {
        "explain": {
            "program": to_json(ref),
            "program_text": "",
            "family_match": ref.name,
            "metamodel_agreement": 1.0,
        },
        "outputs": ["2 0", "4 3", "1 0 0 0", "7"],
    }
    student = {
        "explain": {
            "program": to_json(ident),
            "program_text": "",
            "family_match": ident.name,
            "metamodel_agreement": 0.5,
        },
        "outputs": ["2 0", "4 2", "9 9 9", "7"],
    }
    got = compare(xs, task.solve, teacher, student)
    assert got["teacher_failures"] == 1 and got["failures_reproduced"]["estimate"] == 1.0  # both say 7
    assert got["program_agreement"]["k"] == 0 and not got["same_shortcut"]
    assert got["output_agreement"]["k"] == 2 and got["teacher_accuracy"]["estimate"] == 0.75
    assert (got["teacher_program_fit"], got["student_program_fit"]) == (1.0, 0.5)


def test_the_algorithm_finding_is_undecided_when_no_program_explains_a_model() -> None:
    """Seen in a 1280 px screenshot: "the student copies the teacher's algorithm: yes — same
    shortcut True ... teacher 0%, student 0%" — two programs that explain nothing compared as if
    they were the algorithms. Now the finding is n/a and says no program explains them."""
    from behaviorlab.imitation.findings import _algorithm
    from behaviorlab.results import Finding

    cell = {"estimate": 1.0, "ci_low": 0.757, "ci_high": 1.0, "n": 12, "method": "wilson", "k": 12}
    zero = {"estimate": 0.0, "ci_low": 0.0, "ci_high": 0.243, "n": 12, "method": "wilson", "k": 0}
    algo = {"same_shortcut": True, "program_agreement": cell, "teacher_failures": 12}

    def finding(teacher: float, student: float) -> Finding:
        fits = {"teacher_program_fit": teacher, "student_program_fit": student, "failures_reproduced": zero}
        return _algorithm("local", {"amount": 16, "algorithm": {**algo, **fits}}, "successor")

    fitted = finding(0.9, 0.85)
    assert fitted.held is True and "same shortcut yes;" in fitted.verdict and "True" not in fitted.verdict
    blank = finding(0.0, 0.17)
    assert blank.held is None and "same shortcut n/a" in blank.verdict
    assert "no program in the language explains the teacher 0%" in blank.verdict
