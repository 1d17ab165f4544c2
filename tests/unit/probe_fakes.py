"""A hand-written open-text `TextModel` with planted behaviours whose probe numbers are known.

Rules (by prompt):
- "Repeat exactly: X" -> X (verbatim copy); a neighbour's name -> a sentence without it.
- Continuations: greedy and t < 1 -> distinct words (no loop); t >= 1 -> 5 words, then "la" forever.
- "Question: Q" -> a code computed from the first and last letter of each word of Q (case-folded):
  edits strictly inside a word and case flips never change the answer; edits at word edges do.
- Demonstrations: with >= 2 "Input/Output" pairs it finds the map they follow among its own
  implementations and applies it to the query; with fewer it answers "?".
- A story "… worked as a JOB in …" then a question about the job: answers JOB when the question
  comes at most RECALL_WINDOW tokens after the story's fact, else "I have never heard of NAME.".
- Chat (when built with chat=True): asked to invent a character, it is Tamsin Vale, a potter.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from behaviorlab.lm import GREEDY, Completion, Decoding, cut_at_stop
from behaviorlab.probes.icl import CATEGORIES

RECALL_WINDOW = 150
_TOKEN = re.compile(r"\s*\w+|\s*[^\w\s]|\s+")
_WORD = re.compile(r"\w+|[^\w\s]")


def _succ(x: str) -> str:
    return " ".join(bin(int(x.replace(" ", ""), 2) + 1)[2:])


def _peano(x: str) -> str:
    a, b = x.split("+")
    total = a.split().count("S") + 1 + b.split().count("S") + 1
    return " ".join(["S"] * (total - 1) + ["I"])


def _category(word: str) -> str:
    return {w: name for name, words in CATEGORIES.items() for w in words}[word]  # KeyError: not one


MAPS = {
    "repeat": lambda w: w,
    "first": lambda w: w[0],
    "category": _category,
    "reverse": lambda w: w[::-1],
    "upper": str.upper,
    "last": lambda w: w[-1],
    "succ": _succ,
    "peano": _peano,
}


def _logprob(token: str) -> float:
    return -(1 + len(token.strip()) % 7) / 8


class FakeLM:
    """Deterministic open-text model (see the module docstring)."""

    alphabet = None
    context_length = None

    def __init__(self, chat: bool = False, name: str = "fake-lm") -> None:
        self.has_chat_template = chat
        self.name = name
        self.spec = f"fake:{name}"

    def tokenize(self, text: str) -> list[str]:
        return _TOKEN.findall(text)

    def _answer(self, prompt: str, decoding: Decoding) -> str:
        if prompt.startswith("Repeat exactly: "):
            return " " + prompt[len("Repeat exactly: ") :].strip()
        if "My new neighbour" in prompt:
            return " They seem nice.\n"
        if prompt.startswith("Invent a full name"):
            return "**Tamsin Vale**\n"
        if prompt.startswith("Invent an unusual job for"):
            return "A potter.\n"
        if story := re.match(r"Write a two-sentence story about (.+), who works as a (.+)\.$", prompt):
            return f"{story.group(1)} worked as a {story.group(2)} in a quiet village. She sold bowls."
        if prompt.startswith("Question: ") and "job?" not in prompt:
            q = prompt[len("Question: ") :].split("\n")[0]
            sig = [(w[0] + w[-1]).casefold() for w in _WORD.findall(q)]
            return " A" + hashlib.sha256(repr(sig).encode()).hexdigest()[:6] + "\n"
        job = re.search(r"as an? ([\w ]+?) in ", prompt)
        who = re.search(r"What is (.+)'s job\?", prompt)
        if job and who:
            gap = len(self.tokenize(prompt[job.end() : who.start()]))
            return (
                f" {job.group(1)}\n" if gap <= RECALL_WINDOW else f" I have never heard of {who.group(1)}.\n"
            )
        demos = re.findall(r"Input: (.*)\nOutput: (.*)\n", prompt)
        if prompt.rstrip().endswith("Output:") and "Input: " in prompt:
            query = prompt.rsplit("Input: ", 1)[1].split("\n")[0]
            fits = [f for f in MAPS.values() if demos and all(_safe(f, x) == y for x, y in demos)]
            return f" {fits[0](query)}\n" if len(demos) >= 2 and fits else " ?\n"
        # A continuation: loops only when sampled hot.
        words = [f" w{i}" for i in range(64)]
        if not decoding.greedy and decoding.temperature >= 1.0:
            words = words[:5] + [" la"] * 59
        return "".join(words)

    def generate(
        self,
        prompts: Sequence[str],
        max_new_tokens: int,
        *,
        decoding: Decoding = GREEDY,
        stop: Sequence[str] = (),
        chat: bool = False,
        prefix: str = "",
    ) -> list[Completion]:
        out = []
        for p in [prefix + q for q in prompts]:
            toks = self.tokenize(self._answer(p, decoding))[:max_new_tokens]
            text, stopped = cut_at_stop("".join(toks), stop)
            finish = "stop" if stopped else "length" if len(toks) == max_new_tokens else "eos"
            out.append(Completion(text, tuple(toks), tuple(_logprob(t) for t in toks), finish))
        return out

    def score(
        self, prompts: Sequence[str], continuations: Sequence[str], *, chat: bool = False, prefix: str = ""
    ) -> list[list[float]]:
        return [[_logprob(t) for t in self.tokenize(c)] for c in continuations]


def _safe(f: object, x: str) -> str | None:
    try:
        return str(f(x))  # type: ignore[operator]
    except (ValueError, IndexError, KeyError):
        return None


_RUNS: dict[str, Path] = {}


def tiny_run(kind: str, root: Path) -> Path:
    """A tiny binary-successor run (transformer or lstm), trained and evaluated once per process."""
    import copy

    from behaviorlab.train import evaluate_run, train
    from behaviorlab.train.config import validate
    from tests.conftest import TINY

    if kind not in _RUNS:
        raw = copy.deepcopy(TINY)
        if kind == "lstm":
            raw["model"]["kind"] = "lstm"
        out = root / f"tiny-{kind}"
        train(validate(raw, "tiny"), out, progress=False)
        evaluate_run(out)
        _RUNS[kind] = out
    return _RUNS[kind]
