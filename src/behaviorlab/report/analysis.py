"""Sections read from RUN_DIR/analysis/. The files (all optional; analysis stages write them):

- attention.json    list of {kind: encoder|decoder|cross, layer, head, query_tokens, key_tokens,
                    weights: [query][key], group} — one heatmap each, tokens on both axes
- head_scores.json  list of {hypothesis, head, layer, kind, score} — ranked bars per hypothesis
- metamodel.json    {program_text, failure_prediction_rate, failure_precision, metamodel_agreement,
                    metamodel_size, mutual_information_bits, ...} — the program and its numbers
- perturbation.json, ablation.json, patching.json — lists of row dicts (tables)
- any other *.json holding a list of row dicts (or an object), and any *.parquet — a table,
  so a new analysis shows up without code changes.
A file that cannot be read becomes a warning in its section instead of stopping the report.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from behaviorlab.report.canvas import Canvas, grid
from behaviorlab.report.figures import Figure, Heatmap, Series, slug
from behaviorlab.report.html import cards, esc, fmt, note, table
from behaviorlab.rundir import ABLATION, ATTENTION, HEAD_SCORES, METAMODEL, PATCHING, PERTURBATION
from behaviorlab.stats import MI_NOTE

TABLES = {
    PERTURBATION: "Perturbation",
    ABLATION: "Ablation",
    PATCHING: "Activation patching",
}
KNOWN = (ATTENTION, HEAD_SCORES, METAMODEL, *TABLES)
ANALYSIS_FILES = KNOWN  # the names analysis stages should write (see the module docstring)
MAX_HEATMAPS = 12  # each map is a full chart; beyond this the page gets slow to scroll
TOP_HEADS = 12
METAMODEL_NUMBERS = (
    "failure_prediction_rate",
    "failure_precision",
    "metamodel_agreement",
    "metamodel_size",
    "mutual_information_bits",
)


class _Unreadable(Exception):
    """An analysis file that is missing fields or not the expected shape."""


def _load(path: Path) -> Any:
    try:
        if path.suffix == ".parquet":
            return pq.read_table(path).to_pylist()
        return json.loads(path.read_text(encoding="utf-8"))
    except Exception as e:  # any reader failure becomes a visible warning, not a crash
        raise _Unreadable(f"could not read {path.name}: {e}") from None


def _rows(obj: Any, name: str) -> list[dict[str, Any]]:
    if not isinstance(obj, list) or not all(isinstance(r, dict) for r in obj):
        raise _Unreadable(f"{name}: expected a list of objects")
    return obj


def _attention(obj: Any, canvas: Canvas) -> str:
    maps = _rows(obj, ATTENTION)
    # Cross and decoder maps of the last layers first: that is where the study's recursion
    # heads live, and only the first MAX_HEATMAPS are drawn.
    kind_rank = {"cross": 0, "decoder": 1, "encoder": 2}
    maps = sorted(maps, key=lambda m: (kind_rank.get(str(m.get("kind")), 3), -int(m.get("layer", 0) or 0)))
    specs = []  # validated before any figure is registered, so a bad map leaves no orphans
    for i, m in enumerate(maps[:MAX_HEATMAPS]):
        try:
            q, k = [str(t) for t in m["query_tokens"]], [str(t) for t in m["key_tokens"]]
            z = [[float(v) for v in row] for row in m["weights"]]
        except (KeyError, TypeError, ValueError) as e:
            raise _Unreadable(f"{ATTENTION}[{i}]: {e!r}") from None
        if isinstance(m.get("n"), int) and m["n"] > 1 and m.get("labels") != "position":
            # Written before maps named a token only where every input agrees: positions only.
            q, k = [t.split(":", 1)[0] for t in q], [t.split(":", 1)[0] for t in k]
        if not q or not k or len(z) != len(q) or any(len(row) != len(k) for row in z):
            raise _Unreadable(f"{ATTENTION}[{i}]: weights are not [{len(q)}][{len(k)}] (query x key)")
        title = f"{m.get('kind', '?')} · layer {m.get('layer', '?')} · head {m.get('head', '?')}"
        if m.get("group") not in (None, ""):
            title += f" · {m['group']}"
        title += _averaged(m)
        # Per-map colour scale: long key sequences spread weight thin; the colour bar shows it.
        peak = max(1e-9, max(max(row) for row in z))
        axes = ("key position (attended to)", "query position")
        heat = Heatmap(z, k, q, *axes, zmin=0.0, zmax=peak)
        specs.append(
            Figure(
                f"attn-{i}",
                title,
                heatmap=heat,
                height=min(560, max(260, 90 + 18 * len(q))),
                wide=False,
            )
        )
    figs = [canvas.figure(f) for f in specs]
    more = note(f"Showing {MAX_HEATMAPS} of {len(maps)} attention maps.") if len(maps) > MAX_HEATMAPS else ""
    return note("Each row is a query position, each column a key; darker is more weight.") + grid(figs) + more


def _averaged(m: dict[str, Any]) -> str:
    """ " · test_id, mean of 200 inputs" for a map averaged over inputs (its axes are positions: a
    token is named only where every input has the same one)."""
    split = f" · {m['split']}" if m.get("split") else ""
    n = m.get("n")
    return split + (f", mean of {n} inputs" if isinstance(n, int) and n > 1 else "")


def _head_label(r: dict[str, Any]) -> str:
    return f"{r.get('kind', '?')} L{r.get('layer', '?')} H{r.get('head', '?')}"


def _head_scores(obj: Any, canvas: Canvas) -> str:
    rows = _rows(obj, HEAD_SCORES)
    by_hyp: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if isinstance(r.get("score"), int | float):
            by_hyp[str(r.get("hypothesis", "—"))].append(r)
    figs = []
    for hyp, rs in by_hyp.items():
        top = sorted(rs, key=lambda r: -float(r["score"]))[:TOP_HEADS]
        labels = [_head_label(r) for r in top]
        series = [Series("score", labels, [float(r["score"]) for r in top], kind="bar")]
        if all(isinstance(r.get("baseline"), int | float) for r in top):
            # The text compares each score against uniform attention: draw that beside it.
            base: list[float | None] = [float(r["baseline"]) for r in top]
            series.append(Series("baseline (uniform attention)", labels, base, kind="bar", dashed=True))
        split = f" · {top[0]['split']}" if top and top[0].get("split") else ""
        figs.append(
            canvas.figure(
                Figure(
                    f"heads-{hyp}",
                    f"Top heads for “{hyp}”{split}",
                    "head",
                    "share of attention on the hypothesis's keys",
                    series,
                    horizontal=True,
                    height=110 + 30 * len(top),
                    wide=False,
                )
            )
        )
    ranked = sorted(rows, key=lambda r: (str(r.get("hypothesis")), -float(r.get("score") or 0)))
    return grid(figs) + "<details><summary>All head scores</summary>" + table(ranked) + "</details>"


def _share(rate: Any, ci: Any, none: str) -> str:
    """ "25.6% [19.6%, 32.7%]" from a rate and its interval; `none` when there were no cases."""
    if not isinstance(rate, int | float):
        return none
    inside = f" [{100 * ci[0]:.1f}%, {100 * ci[1]:.1f}%]" if isinstance(ci, list) and len(ci) == 2 else ""
    return f"{100 * rate:.1f}%{inside}"


def _bits(obj: dict[str, Any], key: str, ci_key: str | None = None) -> str:
    """An MI in bits with its interval, from either the flat or the Estimate form."""
    v = obj.get(key)
    if isinstance(v, dict):
        return fmt(v).replace(" (n=", " bits (n=") if v.get("estimate") is not None else "n/a"
    ci = obj.get(ci_key) if ci_key else None
    inside = f" [{fmt(ci[0])}, {fmt(ci[1])}]" if isinstance(ci, list) and len(ci) == 2 else ""
    return "n/a" if v is None else f"{fmt(v)} bits{inside}"


def _check_rows(check: dict[str, Any]) -> list[dict[str, Any]]:
    """The fresh check per split, in words and percentages (no raw lists or objects)."""
    rows = []
    for split, c in check.items():
        risk = c.get("risk") if isinstance(c.get("risk"), dict) else {}
        rows.append(
            {
                "split": split,
                "n": c.get("n"),
                "agreement": _share(c.get("metamodel_agreement"), None, "n/a"),
                "model failures": c.get("n_failures"),
                "failures predicted (95% CI)": _share(
                    c.get("failure_prediction_rate"), c.get("failure_prediction_ci"), "n/a (no failures)"
                ),
                "precision": _share(c.get("failure_precision"), None, "n/a (none predicted)"),
                "risk AUC": fmt(risk.get("auc")) if risk else "—",
            }
        )
    return rows


# Fields the metamodel section shows in its own words; everything else goes to the details table.
_SHOWN = {
    *METAMODEL_NUMBERS,
    "program_text",
    "program",  # the same program as JSON: the text above says it
    "fresh_check",
    "candidates",
    "risk",
    "explains",
    "verdict",
    "failure_prediction_ci",
    "mutual_information_ci",
    "mutual_information_method",
}


def _metamodel(obj: Any) -> str:
    if not isinstance(obj, dict):
        raise _Unreadable(f"{METAMODEL}: expected an object")
    body = ""
    explains = obj.get("explains", True)
    if not explains:
        body += note(str(obj.get("verdict") or "no program in the language explains this model"), "warn")
    numbers = [
        ("failures predicted", _share(obj.get("failure_prediction_rate"), obj.get("failure_prediction_ci"),
                                      "n/a (no failures)")),
        ("precision", _share(obj.get("failure_precision"), None, "n/a (none predicted)")),
        ("agreement (held out)", _share(obj.get("metamodel_agreement"), None, "n/a")),
        ("program size", f"{fmt(obj.get('metamodel_size'))} bits"),
        ("I(model; program)", _bits(obj, "mutual_information_bits", "mutual_information_ci")),
    ]  # fmt: skip
    body += cards([(k, esc(v)) for k, v in numbers if "None" not in v])
    body += note(f"MI: {obj.get('mutual_information_method') or MI_NOTE}.")
    if obj.get("program_text"):
        label = "Program" if explains else "Closest candidate (not an explanation)"
        body += f'<h3>{label}</h3><pre class="program">{esc(obj["program_text"])}</pre>'
    check = obj.get("fresh_check")
    if isinstance(check, dict) and all(isinstance(c, dict) for c in check.values()):
        body += "<h3>Fresh check (inputs drawn like each test split)</h3>" + table(_check_rows(check))
    cands = obj.get("candidates")
    if isinstance(cands, list) and cands and all(isinstance(c, dict) for c in cands):
        rows = [
            {
                "candidate": c.get("name"),
                "size (bits)": c.get("size_bits"),
                "code (bits)": c.get("code_bits"),
                "fit agreement": _share(c.get("fit_agreement"), None, "—"),
                "held-out agreement": _share(c.get("heldout_agreement"), None, "—"),
                "MDL (bits)": c.get("mdl"),
            }
            for c in cands
        ]
        body += "<h3>Candidates (best MDL first)</h3>" + table(rows, limit=None)
    body += _object({k: v for k, v in obj.items() if k not in _SHOWN})
    return body


def _object(obj: dict[str, Any]) -> str:
    """Scalars as a key/value table; lists of row dicts as their own tables."""
    scalars = [
        {"field": k, "value": v}
        for k, v in obj.items()
        if not (isinstance(v, list) and v and all(isinstance(x, dict) for x in v))
    ]
    out = table(scalars) if scalars else ""
    for k, v in obj.items():
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            out += f"<h3>{esc(k)}</h3>" + table(v)
    return out


def _generic(obj: Any, name: str) -> str:
    if isinstance(obj, dict):
        return _object(obj)
    return table(_rows(obj, name))


def _title(name: str) -> str:
    return Path(name).stem.replace("_", " ").replace("-", " ").capitalize()


def analysis_sections(folder: Path, canvas: Canvas) -> list[tuple[str, str, str | None]]:
    """(anchor, title, html) for each analysis file present, known files first."""
    if not folder.is_dir():
        return []
    present = {
        p.name: p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix in (".json", ".parquet")
    }
    order = [n for n in KNOWN if n in present] + [n for n in present if n not in KNOWN]
    out: list[tuple[str, str, str | None]] = []
    for name in order:
        title = {
            ATTENTION: "Attention patterns",
            HEAD_SCORES: "Head scores",
            METAMODEL: "Metamodel: shortcut program and failure prediction",
        }.get(name, TABLES.get(name, _title(name)))
        try:
            obj = _load(present[name])
            if name == ATTENTION:
                body = _attention(obj, canvas)
            elif name == HEAD_SCORES:
                body = _head_scores(obj, canvas)
            elif name == METAMODEL:
                body = _metamodel(obj)
            else:
                body = _generic(obj, name)
        except _Unreadable as e:
            body = note(str(e), "warn")
        src = f'<p class="source">from <code>analysis/{esc(name)}</code></p>'
        out.append((f"analysis-{slug(Path(name).stem)}", title, src + body))
    return out
