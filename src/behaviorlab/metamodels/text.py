"""Programs as readable if/then text and as JSON, both round-tripping exactly."""

from __future__ import annotations

import re
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.metamodels.features import Term, is_feature
from behaviorlab.metamodels.program import Program
from behaviorlab.metamodels.rules import Action, Atom, Cmp, Rule, Source, TokEq, is_action, is_op, is_source


def term_text(t: Term, first: bool) -> str:
    """`run(1)`, `- n`, `+ 2*i` …"""
    name = t.feat if t.arg is None else f"{t.feat}({t.arg})"
    mag = abs(t.coef)
    body = name if mag == 1 else f"{mag}*{name}"
    if first:
        return body if t.coef > 0 else f"-{body}"
    return f"{'+' if t.coef > 0 else '-'} {body}"


def atom_text(a: Atom) -> str:
    """One guard atom as text."""
    if isinstance(a, TokEq):
        lhs = {"prev": "prev", "x": f"x[{a.offset}]", "at": f"x@{a.offset}"}[a.source]
        return f"{lhs} {'!=' if a.negate else '=='} {a.token}"
    lhs = " ".join(term_text(t, k == 0) for k, t in enumerate(a.terms))
    return f"{lhs} {a.op} {a.const}"


def action_text(a: Action) -> str:
    """One action as text."""
    if a.kind in ("copy", "flip"):
        return f"{a.kind} x[{a.offset}]"
    if a.kind == "emit":
        return f"emit {a.token}"
    return a.kind


def view_text(view: tuple[int, int]) -> str:
    """`view x[:10]` or `view x[:9] + x[-1:]`."""
    head, tail = view
    return f"view x[:{head}]" + (f" + x[-{tail}:]" if tail else "")


EXCEPTIONS_END = "--- exceptions above, shortcut below"


def to_text(p: Program) -> str:
    """`program NAME` then one `if … then …` / `else …` line per rule."""
    lines = [f"program {p.name}"]
    for k, r in enumerate(p.rules):
        if p.exceptions and k == p.exceptions:
            lines.append(f"  {EXCEPTIONS_END}")
        if p.view is not None and k == p.view_at:
            lines.append(f"  {view_text(p.view)}")
        if r.guard:
            lines.append(f"  if {' and '.join(atom_text(a) for a in r.guard)} then {action_text(r.action)}")
        else:
            lines.append(f"  else {action_text(r.action)}")
    return "\n".join(lines)


_TERM = re.compile(r"^(-)?(?:(\d+)\*)?([a-z]+)(?:\((.+)\))?$")


def _parse_terms(s: str) -> tuple[Term, ...]:
    parts = s.split(" ")
    terms: list[Term] = []
    sign = 1
    for k, part in enumerate(parts):
        if part in ("+", "-") and k > 0:
            sign = 1 if part == "+" else -1
            continue
        m = _TERM.match(part)
        feat = m.group(3) if m else ""
        if not m or not is_feature(feat):
            raise BadInput(f"bad term {part!r} in {s!r}: expected e.g. `i`, `run(1)`, `2*n`")
        if feat == "is" and not re.match(r"^\S+@-?\d+$", m.group(4) or ""):
            raise BadInput(f"bad term {part!r} in {s!r}: expected `is(TOKEN@POSITION)`, e.g. `is(X1@2)`")
        coef = int(m.group(2) or 1) * (-1 if m.group(1) else 1) * sign
        terms.append(Term(feat, m.group(4), coef))
        sign = 1
    return tuple(terms)


def _parse_atom(s: str) -> Atom:
    m = re.match(r"^(prev|x\[(-?\d+)\]|x@(-?\d+)) (==|!=) (\S+)$", s)
    if m:
        source: Source = "prev" if m.group(1) == "prev" else "x" if m.group(2) is not None else "at"
        offset = int(m.group(2) or m.group(3) or 0)
        return TokEq(source, m.group(5), offset, m.group(4) == "!=")
    m = re.match(r"^(.+) (==|!=|<=|>=|<|>) (-?\d+)$", s)
    op = m.group(2) if m else ""
    if not m or not is_op(op):
        raise BadInput(f"bad guard atom {s!r}: expected `TERMS OP INT`, `x[k] == TOKEN` or `x@k == TOKEN`")
    return Cmp(_parse_terms(m.group(1)), op, int(m.group(3)))


def _parse_action(s: str) -> Action:
    m = re.match(r"^(copy|flip) x\[(-?\d+)\]$", s)
    if m:
        return Action("copy" if m.group(1) == "copy" else "flip", int(m.group(2)))
    if s.startswith("emit "):
        return Action("emit", token=s[5:])
    if is_action(s):
        return Action(s)
    raise BadInput(f"bad action {s!r}: expected copy x[k], flip x[k], emit TOKEN, stop, reference")


def from_text(text: str) -> Program:
    """Inverse of `to_text`."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines or not lines[0].startswith("program "):
        raise BadInput("program text must start with `program NAME`")
    rules: list[Rule] = []
    view, view_at, exceptions = None, 0, 0
    for ln in lines[1:]:
        if ln == EXCEPTIONS_END and not exceptions and rules:
            exceptions = len(rules)
            continue
        if ln.startswith("view ") and view is None:
            m = re.match(r"^view x\[:(\d+)\](?: \+ x\[-(\d+):\])?$", ln)
            if not m:
                raise BadInput(f"bad view line {ln!r}: expected `view x[:H]` or `view x[:H] + x[-T:]`")
            view, view_at = (int(m.group(1)), int(m.group(2) or 0)), len(rules)
            continue
        if ln.startswith("else "):
            rules.append(Rule((), _parse_action(ln[5:])))
            continue
        m = re.match(r"^if (.+) then (.+)$", ln)
        if not m:
            raise BadInput(f"bad rule line {ln!r}: expected `if GUARD then ACTION` or `else ACTION`")
        guard = tuple(_parse_atom(a) for a in m.group(1).split(" and "))
        rules.append(Rule(guard, _parse_action(m.group(2))))
    name = lines[0][len("program ") :]
    return Program(name, tuple(rules), view=view, view_at=view_at, exceptions=exceptions)


def _atom_json(a: Atom) -> dict[str, Any]:
    if isinstance(a, TokEq):
        return {"tok": a.token, "source": a.source, "offset": a.offset, "negate": a.negate}
    return {"terms": [[t.feat, t.arg, t.coef] for t in a.terms], "op": a.op, "const": a.const}


def to_json(p: Program) -> dict[str, Any]:
    """Plain JSON-able dict."""
    return {
        "name": p.name,
        "size_bits": p.size_bits,
        "view": None if p.view is None else list(p.view),
        "view_at": p.view_at,
        "exceptions": p.exceptions,
        "rules": [
            {
                "guard": [_atom_json(a) for a in r.guard],
                "action": {"kind": r.action.kind, "offset": r.action.offset, "token": r.action.token},
            }
            for r in p.rules
        ],
    }


def _atom_from_json(a: dict[str, Any], name: str) -> Atom:
    if "tok" in a:
        if not is_source(a["source"]):
            raise BadInput(f"bad token-test source {a['source']!r} in program {name!r}")
        return TokEq(a["source"], a["tok"], a["offset"], a["negate"])
    terms = []
    for f, g, c in a["terms"]:
        if not is_feature(f):
            raise BadInput(f"bad feature {f!r} in program {name!r}")
        terms.append(Term(f, g, c))
    if not is_op(a["op"]):
        raise BadInput(f"bad comparison {a['op']!r} in program {name!r}")
    return Cmp(tuple(terms), a["op"], a["const"])


def from_json(d: dict[str, Any]) -> Program:
    """Inverse of `to_json` (the oracle, if any, must be re-bound with `Program.bind`)."""
    rules = []
    for r in d["rules"]:
        guard = [_atom_from_json(a, d["name"]) for a in r["guard"]]
        act = r["action"]
        if not is_action(act["kind"]):
            raise BadInput(f"bad action {act['kind']!r} in program {d['name']!r}")
        rules.append(Rule(tuple(guard), Action(act["kind"], act["offset"], act["token"])))
    view = d.get("view")
    return Program(
        d["name"],
        tuple(rules),
        view=None if view is None else (view[0], view[1]),
        view_at=d.get("view_at", 0),
        exceptions=d.get("exceptions", 0),
    )


def normal_form(p: Program) -> tuple[tuple[int, int, int] | None, tuple[Rule, ...]]:
    """View, and rules with guard atoms sorted and trailing unreachable rules dropped (names
    ignored)."""
    rules: list[Rule] = []
    for r in p.rules:
        rules.append(Rule(tuple(sorted(r.guard, key=atom_text)), r.action))
        if not r.guard:
            break  # everything after an `else` is dead
    while rules and not rules[-1].guard and rules[-1].action.kind == "stop":
        rules.pop()  # a final `else stop` is the default anyway
    return (None if p.view is None else (*p.view, p.view_at)), tuple(rules)
