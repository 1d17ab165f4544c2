"""`copying`: does the model reproduce strings planted in its prompt?

Open text: "Repeat exactly: …" with random invented words, and a context that introduces an
invented name. Closed vocabularies: random alphabet sequences of several lengths as the prompt.
Copy rate by span length L: the share of outputs that share a contiguous run of ≥ L model tokens
with the planted string; verbatim: the output contains the whole planted string.
"""

from __future__ import annotations

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
from behaviorlab.probes.content import invented_name, invented_word
from behaviorlab.probes.text import bare, longest_common_span, normalize_ws
from behaviorlab.results import Finding, Plot, Row
from behaviorlab.stats import percent, share


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

    def run(self, model: TextModel, facts: ModelFacts, rec: Recorder) -> Finding:
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
        return self._finding(items, spans, verbatim, notes)

    def _rows(self, items: list[Item], spans: list[int], verbatim: list[bool]) -> list[Row]:
        """Per template: the copy rate by span length L (only planted strings of at least L tokens
        can show a copied span of L), then verbatim copies by planted length."""
        rows = []
        for template, idx in indices(items, lambda it: it.data["template"]).items():
            for L in self.config.spans:
                ok = [i for i in idx if len(items[i].data["planted"]) >= L]
                if ok:
                    keys = {"template": template, "measure": f"span >= {L}", "span": L}
                    rows.append(Row(keys, {"rate": share(sum(spans[i] >= L for i in ok), len(ok))}))
            for k, sub in indices([items[i] for i in idx], lambda it: it.data["length"]).items():
                keys = {"template": template, "measure": f"verbatim, length {k}", "length": k}
                rows.append(Row(keys, {"rate": tally(verbatim, [idx[i] for i in sub])}))
        return rows

    def _finding(
        self, items: list[Item], spans: list[int], verbatim: list[bool], notes: list[str]
    ) -> Finding:
        """The verbatim rate of the first template, its longest copied span, the behaviour score."""
        rows = self._rows(items, spans, verbatim)
        main = str(items[0].data["template"]) if items else "none"
        headline = tally(verbatim, [i for i, it in enumerate(items) if it.data["template"] == main])
        behavior = behavior_score(
            "planted template and length",
            "B(x) = (prompt template, planted length); feature: longest copied span, in powers of two",
            [it.condition for it in items],
            [_bucket(s) for s in spans],
            self.config.seed,
        )
        longest = [r for r in rows if r.keys["template"] == main and "span" in r.keys][-1:]
        tail = (
            f"; a span of ≥ {longest[0].keys['span']} tokens in {percent(longest[0].values['rate'])}"
            if longest
            else ""
        )
        verdict = f"copies the planted string verbatim in {percent(headline)} of {main} prompts{tail}"
        plots = [
            Plot("copy-by-span", "Copy rate by span length", "span", "span length L (model tokens)",
                 "share with a copied span ≥ L", by="template", log_x=True),
            Plot("verbatim-by-length", "Verbatim copies by planted length", "length",
                 "planted length (words open / tokens closed)", "verbatim copy rate", by="template",
                 log_x=True),
        ]  # fmt: skip
        label = f"verbatim copy rate ({main})"
        return Finding(
            self.name, label, headline, verdict, rows, ["template", "measure"], plots, behavior, notes
        )
