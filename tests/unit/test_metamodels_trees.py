"""Tree programs: the vectorised term machine against a plain recursive walk, the reference
reduction, text/JSON round trips, and planted term-level slips recovered by the search."""

from __future__ import annotations

import random

import pytest

from behaviorlab import tasks
from behaviorlab.lm.function import FunctionModel
from behaviorlab.metamodels import explain, from_json, from_text, normal_form, to_json, to_text
from behaviorlab.metamodels.batch import Batch
from behaviorlab.metamodels.families import tree_family
from behaviorlab.metamodels.tree_exceptions import fit_tree_exceptions
from behaviorlab.metamodels.tree_program import TreeProgram, tree_from_text
from behaviorlab.metamodels.tree_rules import ALL_STEPS, NAMED, NodeCmp, TreeAction, TreeRule
from behaviorlab.tasks import terms
from behaviorlab.tasks.trees import Branch, Tree, print_tree

STEPS = (1, 2, 3, "all")


def _budget(steps: int | str) -> int:
    return ALL_STEPS if steps == "all" else int(steps)


# --- a plain recursive walk: the semantics the vectorised machine must match -------------------


def _feats(t: Tree, depth: int, side: str, ipos: int) -> dict[str, int]:
    from behaviorlab.tasks.trees import depth as height
    from behaviorlab.tasks.trees import size

    kids = isinstance(t, Branch)
    return {
        "kind": NAMED["kind"].index("branch" if kids else "leaf"),
        "side": NAMED["side"].index(side),
        "depth": depth,
        "size": size(t),
        "height": height(t),
        "lsize": size(t.left) if isinstance(t, Branch) else 0,
        "rsize": size(t.right) if isinstance(t, Branch) else 0,
        "ipos": ipos,
    }


def _action(rules: tuple[TreeRule, ...], f: dict[str, int]) -> TreeAction:
    ops = {"==": int.__eq__, "!=": int.__ne__, "<=": int.__le__, ">=": int.__ge__}
    for r in rules:
        if all(ops[a.op](f[a.feat], a.const) for a in r.guard):
            return r.action
    return TreeAction("reduce")


class _Stop(Exception):
    pass


def _walk(p: TreeProgram, t: Tree, budget: int, depth: int, side: str, ipos: int, out: list[str]) -> int:
    """Append t's units to out; return the token position after t in the input."""
    end = ipos + len(print_tree(t, nested=True).replace("(", "( ").replace(")", " )").split())
    a = _action(p.rules, _feats(t, depth, side, ipos))
    budget = a.k if a.kind == "steps" else budget
    if a.kind == "stop":
        raise _Stop
    if a.kind == "drop":
        return end
    call = f"{p.fn} {print_tree(t, nested=True)}"
    if a.kind == "keep" or not isinstance(t, Branch) or budget == 0:
        if a.kind == "keep" or budget == 0:
            out.append(call)
        return end
    kids = [("left", t.left), ("right", t.right)]
    if a.kind == "dropleft":
        kids[0] = ("left", None)  # type: ignore[assignment]
    if a.kind == "dropright":
        kids[1] = ("right", None)  # type: ignore[assignment]
    letters = [f"'{t.c}'"] * {"dup": 2, "skip": 0}.get(a.kind, 1)
    starts = {"left": ipos + 3}
    starts["right"] = starts["left"] + len(
        print_tree(t.left, nested=True).replace("(", "( ").replace(")", " )").split()
    )
    parts: list[list[str]] = []
    for s, kid in kids[::-1] if a.kind == "swap" else kids:
        part: list[str] = []
        if kid is not None:
            try:
                _walk(p, kid, budget - 1, depth + 1, s, starts[s], part)
            except _Stop:
                parts.append(part)
                _flush(p, letters, parts, out)
                raise
        parts.append(part)
    _flush(p, letters, parts, out)
    return end


def _flush(p: TreeProgram, letters: list[str], parts: list[list[str]], out: list[str]) -> None:
    if p.inorder:
        out += parts[0] + (letters + parts[1] if len(parts) > 1 else [])
    else:
        out += letters + [u for part in parts for u in part]


def plain_run(p: TreeProgram, text: str) -> str:
    term = terms.parse_term(terms.TokenStream(text, "t"), p.fn)  # type: ignore[attr-defined]
    out: list[str] = []
    pos = 0
    try:
        for item in term.items:
            if isinstance(item, terms.Lit):
                for k, c in enumerate(item.letters):
                    f = {"kind": 2, "side": 0, "depth": 0, "size": 1, "height": 1, "lsize": 0, "rsize": 0}
                    a = _action(p.rules, {**f, "ipos": pos + 1 + 2 * k})
                    if a.kind == "stop":
                        raise _Stop
                    out += [f"'{c}'"] * {"dup": 2, "skip": 0, "drop": 0}.get(a.kind, 1)
                pos += 2 * len(item.letters) + 2
            else:
                pos = _walk(p, item.tree, p.steps, 0, "root", pos + 1, out) + 1
    except _Stop:
        pass
    return _print(out[: p.cap] if p.cap else out)


def _print(units: list[str]) -> str:
    items: list[str] = []
    for u in units:
        if u.startswith("'") and items and items[-1].startswith("["):
            items[-1] = items[-1][:-1] + f"; {u}]"
        else:
            items.append(f"[{u}]" if u.startswith("'") else u)
    return " ++ ".join(items) or "[]"


def _random_program(rng: random.Random, fn: str, steps: int) -> TreeProgram:
    feats = ["kind", "side", "depth", "size", "height", "lsize", "rsize", "ipos"]
    kinds = ["keep", "drop", "dup", "skip", "swap", "dropleft", "dropright", "stop", "steps"]
    rules = []
    for _ in range(rng.randint(1, 3)):
        guard = []
        for _ in range(rng.randint(1, 2)):
            f = rng.choice(feats)
            const = rng.randrange(len(NAMED[f])) if f in NAMED else rng.randint(0, 12 if f == "ipos" else 3)
            guard.append(NodeCmp(f, rng.choice(["==", "!=", "<=", ">="]), const))  # type: ignore[arg-type]
        kind = rng.choice(kinds)
        rules.append(TreeRule(tuple(guard), TreeAction(kind, rng.randint(0, 2) if kind == "steps" else 0)))  # type: ignore[arg-type]
    return TreeProgram("random", fn, steps, tuple(rules), cap=rng.choice([0, 0, 2, 4]))


@pytest.mark.parametrize("fn", ["inorder", "preorder"])
def test_machine_matches_a_plain_recursive_walk(fn: str) -> None:
    rng = random.Random(7)
    task = tasks.get(f"tree-{fn}", steps=2)
    xs = [e.input for e in task.sample(60, 1, min_size=1, max_size=6)]
    for _ in range(40):
        p = _random_program(rng, fn, rng.choice([1, 2, ALL_STEPS]))
        assert p.run_many(xs) == [plain_run(p, x) for x in xs], to_text(p)


@pytest.mark.parametrize("fn", ["inorder", "preorder"])
@pytest.mark.parametrize("steps", STEPS)
def test_reference_program_is_the_task(fn: str, steps: int | str) -> None:
    task = tasks.get(f"tree-{fn}", steps=steps)
    xs = [e.input for e in task.sample(200, 2, min_size=1, max_size=7)]
    ref = next(p for p in tree_family(task.key) if p.name == "tree/reference")
    assert ref.run_many(xs) == [task.solve(x) for x in xs]


def test_tree_program_text_and_json_round_trip() -> None:
    for p in tree_family("tree-preorder/steps=2"):
        assert from_text(to_text(p)) == p and from_json(to_json(p)) == p
    odd = "program x\n  term inorder steps all cap 5\n  if side == left and depth >= 3 then steps 1"
    p = from_text(odd)
    assert isinstance(p, TreeProgram) and to_text(p) == odd.replace("  term", "  term")


PLANTED = "program planted\n  term inorder steps all\n  if depth >= 3 then dropleft"


def test_planted_drop_left_past_depth_3_is_recovered_exactly() -> None:
    task = tasks.get("tree-inorder", steps="all")
    planted = tree_from_text(PLANTED)
    xs = [e.input for e in task.sample(400, 5, min_size=1, max_size=9)]
    outs = planted.run_many(xs)
    assert sum(o != task.solve(x) for o, x in zip(outs, xs, strict=True)) > 50
    ref = TreeProgram("tree/reference", "inorder", ALL_STEPS)
    got = fit_tree_exceptions(ref, Batch.of_texts(xs), outs)
    assert got.exceptions == 1 and normal_form(got) == normal_form(planted)


def test_explain_names_a_planted_tree_shortcut_and_predicts_its_failures() -> None:
    task = tasks.get("tree-inorder", steps="all")
    # "Past depth 3, drop the left subtree", said another way than the family says it.
    planted = tree_from_text(PLANTED.replace("then dropleft", "and side == left then drop"))
    data = [e.input for e in task.sample(300, 9, min_size=1, max_size=9)]
    pairs = [(x, planted.run(x)) for x in data]
    r = explain(task, pairs[:150], pairs[150:], model=FunctionModel(planted.run, "planted"), extra_fit=100)
    assert r.n_failures > 20 and r.failure_prediction_rate == 1.0 and r.failure_precision == 1.0
    assert r.family_match == "tree/drop-left-past-2"  # the same slip: left children at depth >= 3
    assert r.risk_model is not None and r.to_json()["risk"]["heldout"]["auc"] > 0.9


def test_tree_hypotheses_score_a_hand_built_attention_pattern() -> None:
    import torch

    from behaviorlab.interpret._layout import View
    from behaviorlab.interpret.hypotheses import TREE, Sample
    from behaviorlab.interpret.scores import _score, target_mask
    from behaviorlab.tasks.tokenize import lex

    src = [t for t, _ in lex("inorder (Branch 'a' (Branch 'c' Leaf Leaf) Leaf) ++ ['b']")]
    tgt = ["<bos>"] + [t for t, _ in lex("inorder (Branch 'c' Leaf Leaf) ++ ['a'] ++ inorder Leaf ++ ['b']")]
    s = Sample(src, tgt, {})
    hyp = {h.name: h for h in TREE}
    copy = hyp["copy source of the next token"].fn(s)
    assert copy[1:7] == [4, 5, 6, 7, 8, 9]  # `inorder (Branch 'c' …` copies the subtree at 4..9
    assert hyp["parent of the copied node"].fn(s)[2] == 3  # … whose parent is 'a'
    assert hyp["closing bracket ahead (look-ahead to closure)"].fn(s)[2] == 9
    # Head 0 attends exactly where "copy source" says; head 1 always to the first input token.
    Q, K = len(tgt), len(src)
    tm = target_mask([copy], Q, K)
    w = torch.zeros(1, 2, Q, K)
    w[0, 0] = torch.where(tm[0].any(-1, keepdim=True), tm[0].float(), torch.full((Q, K), 1.0 / K))
    w[0, 1, :, 0] = 1.0
    v = View(
        w,
        torch.ones(1, Q, dtype=torch.bool),
        torch.ones(1, K, dtype=torch.bool),
        torch.full((1, Q), float(K)),
    )
    mass, base, n = _score(v, tm)
    assert n == sum(c is not None for c in copy)
    assert mass[0].item() / n == pytest.approx(1.0) and mass[1].item() / n == pytest.approx(0.0)
    assert base / n == pytest.approx(1.0 / K)
