"""`copying`: does the model reproduce strings planted in its prompt?

Open text: "Repeat exactly: …" with random invented words, and a context that introduces an
invented name. Closed vocabularies: random alphabet sequences of several lengths as the prompt.
Copy rate by span length L: the share of outputs that share a contiguous run of ≥ L model tokens
with the planted string; verbatim: the output contains the whole planted string.
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
from behaviorlab.probes.content import invented_name, invented_word
from behaviorlab.probes.text import bare, longest_common_span, normalize_ws


class CopyingConfig(ProbeConfig):
    """Planted lengths (invented words for open text, tokens for closed) and span thresholds."""

    n: int = Field(6, ge=1)
    closed_n: int = Field(20, ge=1)  # x 5 planted lengths: 100 items behind the headline
    open_lengths: tuple[int, ...] = (1, 2, 4, 8)
    closed_lengths: tuple[int, ...] = (1, 2, 4, 8, 16)
    spans: tuple[int, ...] = (1, 2, 4, 8, 16)
    extra_tokens: int = Field(16, ge=1)  # generation budget beyond the planted string's own tokens


def _bucket(span: int) -> int:
    """0, then powers of two: the longest copied span, coarsened for the behaviour score."""
    return 0 if span == 0 else 1 << (span.bit_length() - 1)


class Copying(Probe[CopyingConfig]):
    name = "copying"
    title = "Copying planted strings"
    Config = CopyingConfig

    def _items(self, model: TextModel, facts: ModelFacts) -> tuple[list[Item], list[str]]:
        cfg, notes, items = self.config, [], []
        rng = rng_for(cfg.seed, self.name)
        if facts.closed:
            for k in cfg.closed_lengths:
                limit = facts.max_prompt_tokens(k + cfg.extra_tokens)
                if limit is not None and k > limit:
                    notes.append(f"planted length {k} skipped: beyond the model's context ({limit} tokens)")
                    continue
                for i in range(cfg.closed_n):
                    toks = [rng.choice(facts.alphabet) for _ in range(k)]
                    data = {"template": "sequence", "length": k, "planted": toks}
                    items.append(Item(f"seq-{k}-{i}", facts.join(toks), ("sequence", k), data))
            return items, notes
        for k in cfg.open_lengths:
            for i in range(cfg.n):
                text = " ".join(invented_word(rng) for _ in range(k))
                data = {"template": "repeat", "length": k, "text": text}
                items.append(Item(f"repeat-{k}-{i}", f"Repeat exactly: {text}\n", ("repeat", k), data))
        for i in range(cfg.n):
            name = invented_name(rng)
            prompt = (
                f"My new neighbour is called {name}. "
                "Write one sentence about my neighbour, using the full name.\n"
            )
            items.append(
                Item(f"name-{i}", prompt, ("name", 2), {"template": "name", "length": 2, "text": name})
            )
        for it in items:
            # As it sits in the prompt: after a space (BPE spells that as part of the first token).
            it.data["planted"] = model.tokenize(" " + str(it.data["text"]))
        return items, notes

    def run(self, model: TextModel, facts: ModelFacts, rec: Recorder) -> dict[str, Any]:
        cfg = self.config
        items, notes = self._items(model, facts)
        by_budget: dict[int, list[Item]] = {}
        for it in items:
            # Budgets rounded up to a multiple of 8: fewer, fuller generate calls.
            need = len(it.data["planted"]) + cfg.extra_tokens
            by_budget.setdefault(-(-need // 8) * 8, []).append(it)
        outputs: dict[str, str] = {}
        for budget, group in sorted(by_budget.items()):
            for it, c in zip(group, rec.generate(group, budget), strict=True):
                outputs[it.id] = c.text
        spans, verbatim = [], []
        for it in items:
            out = outputs[it.id]
            toks = model.tokenize(out) if out else []
            planted = it.data["planted"]
            if facts.closed:
                span = longest_common_span(planted, toks)
                whole = span == len(planted)
            else:
                # Space markers dropped: a word copied at the start of a line is the same copy.
                span = longest_common_span([bare(t) for t in planted], [bare(t) for t in toks])
                whole = normalize_ws(str(it.data["text"])) in normalize_ws(out)
            spans.append(span)
            verbatim.append(whole)
        return self._result(items, spans, verbatim, notes)

    def _result(
        self, items: list[Item], spans: list[int], verbatim: list[bool], notes: list[str]
    ) -> dict[str, Any]:
        cfg = self.config
        templates = list(dict.fromkeys(str(it.data["template"]) for it in items))
        table: list[dict[str, Any]] = []
        span_rows: dict[str, list[dict[str, Any]]] = {}
        verb_rows: dict[str, list[dict[str, Any]]] = {}
        for t in templates:
            idx = [i for i, it in enumerate(items) if it.data["template"] == t]
            for L in cfg.spans:
                # Only planted strings of at least L tokens can show a copied span of L tokens.
                ok = [i for i in idx if len(items[i].data["planted"]) >= L]
                if ok:
                    hits = sum(spans[i] >= L for i in ok)
                    span_rows.setdefault(t, []).append(
                        {"template": t, "measure": f"span >= {L}", "span": L, **rate(hits, len(ok))}
                    )
            for k in dict.fromkeys(items[i].data["length"] for i in idx):
                sub = [i for i in idx if items[i].data["length"] == k]
                hits = sum(verbatim[i] for i in sub)
                verb_rows.setdefault(t, []).append(
                    {"template": t, "measure": f"verbatim, length {k}", "length": k, **rate(hits, len(sub))}
                )
            table += span_rows.get(t, []) + verb_rows.get(t, [])
        main = templates[0] if templates else "none"
        head = [i for i, it in enumerate(items) if it.data["template"] == main]
        headline = {
            "label": f"verbatim copy rate ({main})",
            **rate(sum(verbatim[i] for i in head), len(head)),
        }
        figures = [
            figure(
                "copy-by-span",
                "Copy rate by span length",
                "span length L (model tokens)",
                "share with a copied span ≥ L",
                [series(t, rows, "span") for t, rows in span_rows.items()],
                log_x=True,
            ),
            figure(
                "verbatim-by-length",
                "Verbatim copies by planted length",
                "planted length (words open / tokens closed)",
                "verbatim copy rate",
                [series(t, rows, "length") for t, rows in verb_rows.items()],
                log_x=True,
            ),
        ]
        behavior = behavior_score(
            "planted template and length",
            "B(x) = (prompt template, planted length); feature: longest copied span, in powers of two",
            [it.condition for it in items],
            [_bucket(s) for s in spans],
            cfg.seed,
        )
        longest = span_rows.get(main, [])[-1:]
        tail = f"; a span of ≥ {longest[0]['span']} tokens in {ci(longest[0])}" if longest else ""
        return result(
            headline=headline,
            keys=["template", "measure"],
            table=table,
            figures=figures,
            behavior=behavior,
            verdict=f"copies the planted string verbatim in {ci(headline)} of {main} prompts{tail}",
            notes=notes,
        )
