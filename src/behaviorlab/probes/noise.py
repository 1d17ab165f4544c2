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
    indices,
    rng_for,
    tally,
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
from behaviorlab.results import Finding, Plot, Row
from behaviorlab.stats import percent, pooled, share

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

    def run(self, model: TextModel, facts: ModelFacts, rec: Recorder) -> Finding:
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
        rows = self._rows(facts, noisy, changed, right, clean_right, len(clean))
        return self._finding(facts, noisy, changed, rows, len(clean))

    def _rows(
        self,
        facts: ModelFacts,
        noisy: list[Item],
        changed: list[bool],
        right: list[bool],
        clean_right: int,
        n: int,
    ) -> list[Row]:
        """Per op and rate (rate 0 is the clean input, unchanged by definition), then per single
        edit site: how often the answer changed, and accuracy against the reference."""
        at = indices(noisy, lambda it: it.condition)
        rows = []
        for op in TOKEN_OPS if facts.closed else CHAR_OPS:
            for r in self.config.rates:
                keys = {"op": op, "where": "anywhere", "noise": r}
                if r == 0:
                    rows.append(Row(keys, {"rate": share(0, n), "accuracy": share(clean_right, n)}))
                else:
                    idx = at.get((op, r), [])
                    rows.append(Row(keys, {"rate": tally(changed, idx), "accuracy": tally(right, idx)}))
        for where in ("boundary", "inside"):
            for op in TOKEN_OPS if facts.closed else CHAR_OPS:
                if idx := at.get((op, where), []):
                    keys = {"op": op, "where": where, "noise": None}
                    rows.append(Row(keys, {"rate": tally(changed, idx), "accuracy": tally(right, idx)}))
        return rows

    def _finding(
        self, facts: ModelFacts, noisy: list[Item], changed: list[bool], rows: list[Row], n: int
    ) -> Finding:
        """Headline at the headline rate (all ops pooled), the worst op at the top rate, the
        boundary-vs-inside contrast, the behaviour score and the plots."""
        cfg = self.config
        at = cfg.headline_rate if cfg.headline_rate in cfg.rates else max(cfg.rates)
        headline = tally(changed, [j for j, it in enumerate(noisy) if it.data.get("noise") == at])
        rated = [(j, it) for j, it in enumerate(noisy) if it.data["where"] == "anywhere"]
        behavior = behavior_score(
            "noise op and rate",
            "B(x) = (edit op, noise rate) of the input, clean inputs included; feature: answer changed",
            [("clean", 0.0)] * n + [it.condition for _, it in rated],
            [False] * n + [changed[j] for j, _ in rated],
            cfg.seed,
        )
        unit = "token" if facts.closed else "character"
        top = max(cfg.rates)
        measured = [r for r in rows if r.keys["noise"] == top and r.values["rate"].defined]
        worst = max(measured, key=lambda r: r.values["rate"].value, default=None)
        verdict = f"answers change in {percent(headline)} of inputs at {at:g} {unit} noise"
        if worst is not None:
            verdict += f"; worst op at {top:g}: {worst.keys['op']} {percent(worst.values['rate'])}"
        sites = {w: [r.values["rate"] for r in rows if r.keys["where"] == w] for w in ("boundary", "inside")}
        notes = []
        if any(sites.values()):
            b, i = pooled(sites["boundary"]), pooled(sites["inside"])
            verdict += f"; one edit at a token boundary {percent(b)} vs inside a token {percent(i)}"
        elif not facts.closed:
            notes.append("boundary analysis skipped: the tokenizer's tokens do not spell the questions")
        if facts.closed:
            notes.append("token-level edits always sit at token boundaries: no boundary/inside split")
        if facts.closed and facts.task is None:
            notes.append("no task reference: the model's clean output is the reference")
        label = f"answer change rate at {at:g} noise (all ops)"
        plots = _plots(unit, any(sites.values()))
        return Finding(self.name, label, headline, verdict, rows, KEYS, plots, behavior, notes)


KEYS = ["op", "where", "noise"]


def _plots(unit: str, sites: bool) -> list[Plot]:
    """Answer changes and accuracy against the noise rate per op; one edit at a boundary vs inside."""
    rated = {"where": ["anywhere"]}
    plots = [
        Plot("noise-change", f"Answer changed vs {unit} noise rate", "noise", f"{unit} noise rate",
             "share of answers that changed", by="op", where=rated),
        Plot("noise-accuracy", "Accuracy vs noise rate", "noise", f"{unit} noise rate",
             "accuracy vs reference", values={"accuracy": ""}, by="op", where=rated),
    ]  # fmt: skip
    if sites:
        plots.append(
            Plot("noise-boundary", "One edit: at a token boundary vs inside a token", "op", "edit op",
                 "share of answers that changed", by="where", where={"where": ["boundary", "inside"]},
                 kind="bar", categorical_x=True)
        )  # fmt: skip
    return plots
