"""`noise`: how much input noise does it take to change the model's answer?

Inputs with a known answer (open text: short questions with exact answers; closed: the run's task
inputs with their references, or random sequences with the model's clean output as reference) are
edited at increasing rates — characters (swap, drop, insert, case) for open text, tokens (swap,
drop, insert, replace) for closed vocabularies. Per op and rate: how often the answer differs from
the clean answer, and accuracy against the reference. Open text also gets single edits placed at a
token boundary or strictly inside a token of the clean tokenization: where does damage sit?
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from behaviorlab.lm import TextModel
from behaviorlab.probes.base import (
    Item,
    ModelFacts,
    Probe,
    ProbeConfig,
    Recorder,
    behavior_score,
    ci,
    figure,
    rate,
    result,
    rng_for,
    series,
)
from behaviorlab.probes.content import question
from behaviorlab.probes.text import (
    answer_key,
    char_noise,
    contains_word,
    edit_sites,
    first_line,
    normalize_ws,
    single_edit,
    token_noise,
    token_spans,
)

CHAR_OPS = ("swap", "drop", "insert", "case")
TOKEN_OPS = ("swap", "drop", "insert", "replace")


class NoiseConfig(ProbeConfig):
    """Items, noise rates (0 is the clean input) and generation budgets."""

    n: int = Field(8, ge=1)
    closed_n: int = Field(25, ge=1)  # x 4 edit ops: 100 items behind the headline
    rates: tuple[float, ...] = (0.0, 0.02, 0.05, 0.1, 0.2)
    headline_rate: float = 0.05
    max_new_tokens: int = Field(12, ge=1)  # open text: a short answer
    closed_max_new_tokens: int = Field(32, ge=1)
    closed_length: int = Field(6, ge=1)  # random closed inputs when the run has no task
    boundary: bool = True  # open text: single edits at token boundaries vs inside tokens


class Noise(Probe[NoiseConfig]):
    name = "noise"
    title = "Input noise"
    Config = NoiseConfig

    def _clean(self, facts: ModelFacts) -> list[dict[str, Any]]:
        """Clean inputs: {text, ref, wrap}; `wrap` turns the (noised) text into the prompt."""
        cfg, rng = self.config, rng_for(self.config.seed, self.name, "items")
        if not facts.closed:
            tmpl = "{} Answer with one word or number." if facts.chat else "Question: {}\nAnswer:"
            return [dict(zip(("text", "ref"), question(rng), strict=True), wrap=tmpl) for _ in range(cfg.n)]
        if facts.task is not None:
            lo, hi = facts.sizes or facts.task.default_sizes
            exs = facts.task.sample(cfg.closed_n, rng.randrange(2**31), min_size=lo, max_size=hi)
            return [{"text": e.input, "ref": e.output, "wrap": "{}"} for e in exs]
        seqs = [
            facts.join([rng.choice(facts.alphabet) for _ in range(cfg.closed_length)])
            for _ in range(cfg.closed_n)
        ]
        return [{"text": s, "ref": None, "wrap": "{}"} for s in seqs]

    def _noisy(self, model: TextModel, facts: ModelFacts, clean: list[dict[str, Any]]) -> list[Item]:
        """Rate-based edits of every clean input, then (open text) single boundary/inside edits."""
        cfg = self.config
        ops = TOKEN_OPS if facts.closed else CHAR_OPS
        items = []
        for op in ops:
            for r in (r for r in cfg.rates if r > 0):
                rng = rng_for(cfg.seed, self.name, op, r)
                for i, c in enumerate(clean):
                    if facts.closed:
                        text = facts.join(token_noise(model.tokenize(c["text"]), op, r, facts.alphabet, rng))
                    else:
                        text = char_noise(c["text"], op, r, rng)
                    items.append(
                        Item(
                            f"{op}-{r:g}-{i}",
                            c["wrap"].format(text),
                            (op, r),
                            {"i": i, "where": "anywhere", "noise": r},
                        )
                    )
        if facts.closed or not cfg.boundary:
            return items
        rng = rng_for(cfg.seed, self.name, "sites")
        for i, c in enumerate(clean):
            toks = model.tokenize(c["text"])
            spans = token_spans(c["text"], toks)
            if spans is None and (lead := token_spans(" " + c["text"], toks)) is not None:
                # SentencePiece spells a leading space the text does not have: shift it away.
                spans = [(max(s - 1, 0), v - 1, e - 1) for s, v, e in lead]
            if spans is None:
                continue
            for op in ops:
                for where, sites in zip(
                    ("boundary", "inside"), edit_sites(spans, c["text"], op), strict=True
                ):
                    if sites:
                        text = single_edit(c["text"], op, rng.choice(sites), rng)
                        items.append(
                            Item(
                                f"{op}-{where}-{i}",
                                c["wrap"].format(text),
                                (op, where),
                                {"i": i, "where": where},
                            )
                        )
        return items

    def run(self, model: TextModel, facts: ModelFacts, rec: Recorder) -> dict[str, Any]:
        cfg = self.config
        budget = cfg.closed_max_new_tokens if facts.closed else cfg.max_new_tokens
        stop = () if facts.closed else ("\n",)
        clean = self._clean(facts)
        base = [
            Item(f"clean-{i}", c["wrap"].format(c["text"]), ("clean", 0.0), {"i": i})
            for i, c in enumerate(clean)
        ]
        base_out = [c.text for c in rec.generate(base, budget, stop=stop)]
        if facts.closed and facts.task is None:
            for c, out in zip(clean, base_out, strict=True):
                c["ref"] = normalize_ws(out)  # no reference function: the clean output is the reference
        noisy = self._noisy(model, facts, clean)
        outs = [c.text for c in rec.generate(noisy, budget, stop=stop)]
        key = (lambda t: normalize_ws(t)) if facts.closed else answer_key

        def correct(text: str, ref: str) -> bool:
            return normalize_ws(text) == ref if facts.closed else contains_word(first_line(text), ref)

        changed = [key(o) != key(base_out[it.data["i"]]) for it, o in zip(noisy, outs, strict=True)]
        right = [correct(o, clean[it.data["i"]]["ref"]) for it, o in zip(noisy, outs, strict=True)]
        clean_right = sum(correct(o, c["ref"]) for o, c in zip(base_out, clean, strict=True))
        return self._result(facts, noisy, changed, right, clean_right, len(clean))

    def _result(
        self,
        facts: ModelFacts,
        noisy: list[Item],
        changed: list[bool],
        right: list[bool],
        clean_right: int,
        n: int,
    ) -> dict[str, Any]:
        cfg = self.config
        ops = TOKEN_OPS if facts.closed else CHAR_OPS
        table: list[dict[str, Any]] = []
        by_op: dict[str, list[dict[str, Any]]] = {}
        for op in ops:
            for r in cfg.rates:
                if r == 0:
                    # The clean input is the rate-0 point: unchanged by definition.
                    row = {"op": op, "where": "anywhere", "noise": 0.0, **rate(0, n), **_acc(clean_right, n)}
                else:
                    idx = [j for j, it in enumerate(noisy) if it.condition == (op, r)]
                    row = {
                        "op": op,
                        "where": "anywhere",
                        "noise": r,
                        **rate(sum(changed[j] for j in idx), len(idx)),
                        **_acc(sum(right[j] for j in idx), len(idx)),
                    }
                table.append(row)
                by_op.setdefault(op, []).append(row)
        sites: dict[str, list[dict[str, Any]]] = {}
        for where in ("boundary", "inside"):
            for op in ops:
                idx = [j for j, it in enumerate(noisy) if it.condition == (op, where)]
                if idx:
                    row = {
                        "op": op,
                        "where": where,
                        "noise": None,
                        **rate(sum(changed[j] for j in idx), len(idx)),
                        **_acc(sum(right[j] for j in idx), len(idx)),
                    }
                    table.append(row)
                    sites.setdefault(where, []).append(row)
        at = cfg.headline_rate if cfg.headline_rate in cfg.rates else max(cfg.rates)
        pooled = [j for j, it in enumerate(noisy) if it.data.get("noise") == at]
        headline = {
            "label": f"answer change rate at {at:g} noise (all ops)",
            **rate(sum(changed[j] for j in pooled), len(pooled)),
        }
        rated = [(j, it) for j, it in enumerate(noisy) if it.data["where"] == "anywhere"]
        behavior = behavior_score(
            "noise op and rate",
            "B(x) = (edit op, noise rate) of the input, clean inputs included; feature: answer changed",
            [("clean", 0.0)] * n + [it.condition for _, it in rated],
            [False] * n + [changed[j] for j, _ in rated],
            cfg.seed,
        )
        unit = "token" if facts.closed else "character"
        figures = [
            figure(
                "noise-change",
                f"Answer changed vs {unit} noise rate",
                f"{unit} noise rate",
                "share of answers that changed",
                [series(op, rows, "noise") for op, rows in by_op.items()],
            ),
            figure(
                "noise-accuracy",
                "Accuracy vs noise rate",
                f"{unit} noise rate",
                "accuracy vs reference",
                [series(op, rows, "noise", "accuracy") | _acc_band(rows) for op, rows in by_op.items()],
            ),
        ]
        if sites:
            figures.append(
                figure(
                    "noise-boundary",
                    "One edit: at a token boundary vs inside a token",
                    "edit op",
                    "share of answers that changed",
                    [series(w, rows, "op") | {"kind": "bar"} for w, rows in sites.items()],
                    categorical_x=True,
                )
            )
        top = max(cfg.rates)
        worst = max(
            (r for r in table if r["noise"] == top and r["rate"] is not None),
            key=lambda r: r["rate"],
            default=None,
        )
        verdict = f"answers change in {ci(headline)} of inputs at {at:g} {unit} noise"
        if worst is not None:
            verdict += f"; worst op at {top:g}: {worst['op']} {ci(worst)}"
        notes = []
        if sites:
            b = rate(
                sum(r["k"] for r in sites.get("boundary", [])), sum(r["n"] for r in sites.get("boundary", []))
            )
            i = rate(
                sum(r["k"] for r in sites.get("inside", [])), sum(r["n"] for r in sites.get("inside", []))
            )
            verdict += f"; one edit at a token boundary {ci(b)} vs inside a token {ci(i)}"
        elif not facts.closed:
            notes.append("boundary analysis skipped: the tokenizer's tokens do not spell the questions")
        if facts.closed:
            notes.append("token-level edits always sit at token boundaries: no boundary/inside split")
        if facts.closed and facts.task is None:
            notes.append("no task reference: the model's clean output is the reference")
        return result(
            headline=headline,
            keys=["op", "where", "noise"],
            table=table,
            figures=figures,
            behavior=behavior,
            verdict=verdict,
            notes=notes,
        )


def _acc(k: int, n: int) -> dict[str, Any]:
    r = rate(k, n)
    return {"accuracy": r["rate"], "acc_lo": r["lo"], "acc_hi": r["hi"]}


def _acc_band(rows: list[dict[str, Any]]) -> dict[str, Any]:
    kept = [r for r in rows if r.get("accuracy") is not None]
    return {"lo": [r["acc_lo"] for r in kept], "hi": [r["acc_hi"] for r in kept]}
