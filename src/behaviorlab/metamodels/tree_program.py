"""Tree programs: a traversal, a step budget and a decision list of term-level rules.

They run on the same inputs as token programs (a `Batch`, whose node table is built once and
cached on it) and print as text such as

    program tree/drop-left-past-3
      term inorder steps all
      if depth >= 3 and side == left then drop
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from behaviorlab.errors import BadInput
from behaviorlab.metamodels.batch import Batch, Vocab
from behaviorlab.metamodels.features import gamma
from behaviorlab.metamodels.rules import is_op
from behaviorlab.metamodels.tree_batch import TreeBatch
from behaviorlab.metamodels.tree_machine import Decoded, actions, decode
from behaviorlab.metamodels.tree_rules import (
    ALL_STEPS,
    NAMED,
    NodeCmp,
    TreeAction,
    TreeRule,
    is_node_feature,
    is_tree_action,
)

EXCEPTIONS_SUFFIX = "+patch"
EXCEPTIONS_END = "--- exceptions above, shortcut below"


def tree_batch(batch: Batch, fn: str) -> TreeBatch:
    """The node table of a batch's inputs, built once per batch and traversal."""
    key = ("tree", fn)
    got = batch.cache.get(key)
    if got is None:
        got = batch.cache[key] = TreeBatch(batch.texts(batch.X, batch.n), fn)
    assert isinstance(got, TreeBatch)
    return got


@dataclass(frozen=True)
class TreeProgram:
    """`fn` (inorder/preorder), default budget `steps` (ALL_STEPS = normal form), rules, and an
    optional cap on the output's units; the first `exceptions` rules are patched onto the
    shortcut below them."""

    name: str
    fn: str
    steps: int
    rules: tuple[TreeRule, ...] = ()
    exceptions: int = 0
    cap: int = 0  # at most this many units (letters and calls) in any output; 0: no cap

    @property
    def size_bits(self) -> float:
        """Description length: the header (traversal, budget) and the rules."""
        budget = 1.0 if self.steps == ALL_STEPS else 1.0 + gamma(self.steps + 1)
        marker = gamma(self.exceptions + 1) if self.exceptions else 0.0
        cap = 1.0 + (gamma(self.cap) if self.cap else 0.0)
        return 2.0 + budget + cap + marker + sum(r.bits() for r in self.rules)

    @property
    def inorder(self) -> bool:
        return self.fn == "inorder"

    def uses_reference(self) -> bool:
        """Tree programs carry their own reduction: no oracle."""
        return False

    def bind(self, oracle: Callable[[str], str] | None) -> TreeProgram:
        return self

    def batch(self, texts: Sequence[str], vocab: Vocab | None = None) -> Batch:
        return Batch.of_texts(texts, vocab)

    def decoded(self, tb: TreeBatch) -> Decoded:
        """The walk on every input of a node table."""
        act, k = actions(tb, self.rules, self.steps, self.inorder)
        return decode(tb.nodes, act, k, self.steps, self.inorder, self.cap)

    def outputs(self, batch: Batch) -> list[str]:
        """Output strings; a program has nothing to say ("") on inputs that are not terms of `fn`."""
        tb = tree_batch(batch, self.fn)
        d = self.decoded(tb)
        return [tb.units.print(d.U[b, : d.n[b]].tolist()) if tb.ok[b] else "" for b in range(len(tb))]

    def matches(self, batch: Batch, model_outs: Sequence[str]) -> np.ndarray:
        """[B] whether the output equals the model's ("" on inputs that are not terms)."""
        tb = tree_batch(batch, self.fn)
        m, d = tb.outputs(model_outs), self.decoded(tb)
        W = max(d.U.shape[1], m.U.shape[1])
        mine = np.pad(d.U, ((0, 0), (0, W - d.U.shape[1])), constant_values=-1)
        theirs = np.pad(m.U, ((0, 0), (0, W - m.U.shape[1])), constant_values=-1)
        same = m.ok & (d.n == m.n) & (mine == theirs).all(1)
        silent = np.array([y == "" for y in model_outs], dtype=bool)
        return np.where(tb.ok, same, silent)

    def run_many(self, texts: Sequence[str]) -> list[str]:
        return self.outputs(Batch.of_texts(texts))

    def run(self, text: str) -> str:
        return self.run_many([text])[0]

    def renamed(self, name: str) -> TreeProgram:
        return replace(self, name=name)

    def without(self, k: int) -> TreeProgram:
        """Rule k dropped."""
        rules = self.rules[:k] + self.rules[k + 1 :]
        return replace(self, rules=rules, exceptions=self.exceptions - (k < self.exceptions))

    def replacing(self, k: int, rule: TreeRule) -> TreeProgram:
        return replace(self, rules=self.rules[:k] + (rule,) + self.rules[k + 1 :])

    def prepending(self, rules: Sequence[TreeRule], name: str) -> TreeProgram:
        """Exception rules in front."""
        return replace(
            self, name=name, rules=tuple(rules) + self.rules, exceptions=self.exceptions + len(rules)
        )

    @property
    def label(self) -> str:
        k = self.exceptions
        return self.name if not k else f"{self.shortcut().name} + {k} exception{'s' * (k > 1)}"

    def shortcut(self) -> TreeProgram:
        """Without its exceptions."""
        k = self.exceptions
        name = self.name.removesuffix(EXCEPTIONS_SUFFIX)
        return replace(self, name=name, rules=self.rules[k:], exceptions=0)


# --- text -----------------------------------------------------------------------------------------


def _const_text(a: NodeCmp) -> str:
    return NAMED[a.feat][a.const] if a.feat in NAMED else str(a.const)


def node_atom_text(a: NodeCmp) -> str:
    return f"{a.feat} {a.op} {_const_text(a)}"


def tree_action_text(a: TreeAction) -> str:
    if a.kind != "steps":
        return a.kind
    return f"steps {'all' if a.k == ALL_STEPS else a.k}"


def tree_to_text(p: TreeProgram) -> str:
    """`program NAME`, `term FN steps K`, then one line per rule."""
    cap = f" cap {p.cap}" if p.cap else ""
    lines = [f"program {p.name}", f"  term {p.fn} steps {'all' if p.steps == ALL_STEPS else p.steps}{cap}"]
    for k, r in enumerate(p.rules):
        if p.exceptions and k == p.exceptions:
            lines.append(f"  {EXCEPTIONS_END}")
        act = tree_action_text(r.action)
        if r.guard:
            lines.append(f"  if {' and '.join(node_atom_text(a) for a in r.guard)} then {act}")
        else:
            lines.append(f"  else {act}")
    return "\n".join(lines)


def _steps(s: str, where: str) -> int:
    if s == "all":
        return ALL_STEPS
    if not s.isdigit():
        raise BadInput(f"bad step count {s!r} in {where!r}: expected a number or `all`")
    return int(s)


def _node_atom(s: str) -> NodeCmp:
    m = re.match(r"^(\w+) (==|!=|<=|>=|<|>) (-?\w+)$", s)
    feat, op = (m.group(1), m.group(2)) if m else ("", "")
    if not m or not is_node_feature(feat) or not is_op(op):
        raise BadInput(f"bad node guard {s!r}: expected e.g. `depth >= 3` or `side == left`")
    value = m.group(3)
    if feat in NAMED:
        if value not in NAMED[feat]:
            raise BadInput(f"bad value {value!r} in {s!r}: {feat} is one of {', '.join(NAMED[feat])}")
        return NodeCmp(feat, op, NAMED[feat].index(value))
    if not re.match(r"^-?\d+$", value):
        raise BadInput(f"bad value {value!r} in {s!r}: expected a number")
    return NodeCmp(feat, op, int(value))


def _tree_action(s: str) -> TreeAction:
    parts = s.split()
    if len(parts) == 2 and parts[0] == "steps":
        return TreeAction("steps", _steps(parts[1], s))
    if len(parts) == 1 and is_tree_action(parts[0]) and parts[0] != "steps":
        return TreeAction(parts[0])
    raise BadInput(f"bad tree action {s!r}: expected reduce, keep, drop, dup, skip, swap, dropleft, "
                   "dropright, stop or steps K")  # fmt: skip


def tree_from_text(text: str) -> TreeProgram:
    """Inverse of `tree_to_text`."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if len(lines) < 2 or not lines[0].startswith("program "):
        raise BadInput("tree program text must start with `program NAME` and `term FN steps K`")
    m = re.match(r"^term (inorder|preorder) steps (\S+)(?: cap (\d+))?$", lines[1])
    if not m:
        raise BadInput(f"bad term line {lines[1]!r}: expected `term inorder|preorder steps K|all [cap C]`")
    rules: list[TreeRule] = []
    exceptions = 0
    for ln in lines[2:]:
        if ln == EXCEPTIONS_END and not exceptions and rules:
            exceptions = len(rules)
        elif ln.startswith("else "):
            rules.append(TreeRule((), _tree_action(ln[5:])))
        elif mm := re.match(r"^if (.+) then (.+)$", ln):
            rules.append(
                TreeRule(tuple(_node_atom(a) for a in mm.group(1).split(" and ")), _tree_action(mm.group(2)))
            )
        else:
            raise BadInput(f"bad rule line {ln!r}: expected `if GUARD then ACTION` or `else ACTION`")
    name = lines[0][len("program ") :]
    cap = int(m.group(3) or 0)
    return TreeProgram(name, m.group(1), _steps(m.group(2), lines[1]), tuple(rules), exceptions, cap)


# --- JSON -----------------------------------------------------------------------------------------


def tree_to_json(p: TreeProgram) -> dict[str, Any]:
    """Plain JSON-able dict (`kind: tree` tells it from a token program)."""
    return {
        "kind": "tree",
        "name": p.name,
        "size_bits": p.size_bits,
        "fn": p.fn,
        "steps": p.steps,
        "exceptions": p.exceptions,
        "cap": p.cap,
        "rules": [
            {
                "guard": [[a.feat, a.op, a.const] for a in r.guard],
                "action": {"kind": r.action.kind, "k": r.action.k},
            }
            for r in p.rules
        ],
    }


def tree_from_json(d: dict[str, Any]) -> TreeProgram:
    """Inverse of `tree_to_json`."""
    rules = []
    for r in d["rules"]:
        guard = []
        for feat, op, const in r["guard"]:
            if not is_node_feature(feat) or not is_op(op):
                raise BadInput(f"bad node guard {feat} {op} {const} in program {d['name']!r}")
            guard.append(NodeCmp(feat, op, int(const)))
        kind = r["action"]["kind"]
        if not is_tree_action(kind):
            raise BadInput(f"bad tree action {kind!r} in program {d['name']!r}")
        rules.append(TreeRule(tuple(guard), TreeAction(kind, int(r["action"]["k"]))))
    exceptions, cap = int(d.get("exceptions", 0)), int(d.get("cap", 0))
    return TreeProgram(d["name"], d["fn"], int(d["steps"]), tuple(rules), exceptions, cap)


def tree_normal_form(p: TreeProgram) -> tuple[Any, tuple[Any, ...]]:
    """Traversal and budget, and rules with sorted guards up to the first `else` (names ignored)."""
    rules: list[TreeRule] = []
    for r in p.rules:
        rules.append(TreeRule(tuple(sorted(r.guard, key=node_atom_text)), r.action))
        if not r.guard:
            break
    while rules and not rules[-1].guard and rules[-1].action.kind == "reduce":
        rules.pop()  # a final `else reduce` is the default anyway
    return ("tree", p.fn, p.steps, p.cap), tuple(rules)
