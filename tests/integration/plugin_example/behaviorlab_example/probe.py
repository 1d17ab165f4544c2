"""A probe: does the model answer with as many tokens as it was given?"""

from behaviorlab.probes import Item, Probe, ProbeConfig, indices, rng_for, tally
from behaviorlab.results import Finding, Row
from behaviorlab.stats import percent


class SameLength(Probe[ProbeConfig]):
    name, title = "same-length", "Output as long as the input"

    def run(self, model, facts, rec):  # type: ignore[no-untyped-def]
        rng = rng_for(self.config.seed, self.name)
        words = facts.alphabet or ("one", "two", "three")
        items = [
            Item(f"{k}-{i}", facts.join(rng.choices(words, k=k)), k)
            for k in (1, 2, 4)
            for i in range(self.config.n)
        ]
        outs = rec.generate(items, 12)
        same = [len(o.text.split()) == len(it.prompt.split()) for it, o in zip(items, outs, strict=True)]
        by_length = indices(items, lambda it: it.condition)
        rows = [Row({"length": k}, {"rate": tally(same, idx)}) for k, idx in by_length.items()]
        head = tally(same, range(len(items)))
        return Finding(
            self.name, "same length", head, f"as long as the input in {percent(head)}", rows, ["length"]
        )
