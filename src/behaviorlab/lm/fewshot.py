"""A text model asked few-shot: task inputs in, its parsed answers out — so a pretrained LM can be
explained like one of our task models (the same shortcut search on its answers).

A prompt is K demonstrations `Input: x\\nOutput: y\\n` and then `Input: q\\nOutput:`; the answer
is the completion's first non-empty line, whitespace-normalised (an echoed `Output:` dropped).
The demonstrations are the same for every query, so they go to the model as a shared `prefix`
(read once, KV-cached, where the model can); a greedy answer is asked once per query and kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby

from behaviorlab.lm.base import GREEDY, Completion, Decoding, TextModel

# (query, budget in the model's tokens, decoding label, prefix, stop strings): what fixes an answer.
Key = tuple[str, int, str, str, tuple[str, ...]]
# Queries per call to the wrapped model: its batch, and the pace of the progress callback.
PIECE = 32


def first_line(text: str) -> str:
    """The first non-empty line of a completion, whitespace-normalised."""
    for line in text.splitlines():
        if line.strip():
            return " ".join(line.split())
    return ""


def parse_answer(text: str) -> str:
    """The answer in a completion: its first line, without an echoed "Output:" label."""
    line = first_line(text)
    return " ".join(line[len("output:") :].split()) if line.casefold().startswith("output:") else line


def demonstrations(demos: Sequence[tuple[str, str]], gap: str = "\n") -> str:
    """Demonstrations in the `Input:` / `Output:` format, each ended by `gap`."""
    return "".join(f"Input: {x}\nOutput: {y}{gap}" for x, y in demos)


def question(query: str) -> str:
    """The part of a few-shot prompt after the demonstrations."""
    return f"Input: {query}\nOutput:"


def few_shot_prompt(demos: Sequence[tuple[str, str]], query: str, gap: str = "\n") -> str:
    """Demonstrations (each ended by `gap`), then the query."""
    return demonstrations(demos, gap) + question(query)


class FewShotModel:
    """`model` asked with the same K demonstrations before every query; `canonical` maps a parsed
    answer to the task's canonical spelling when it can (e.g. `1011` -> `1 0 1 1`).

    `budget(query)` is the most tokens of the wrapped model an answer may take (the task's longest
    answer in its tokens, plus a margin); without it, 4 per task token of the caller's budget plus
    8. Greedy answers are kept by query, so an input asked twice costs one model call;
    `on_asked(k)` hears of every `k` queries the wrapped model has answered."""

    has_chat_template = False
    context_length: int | None = None  # the demonstrations count against the inner model's
    alphabet: tuple[str, ...] | None = None

    def __init__(
        self,
        model: TextModel,
        demos: Sequence[tuple[str, str]],
        canonical: Callable[[str], str] | None = None,
        chat: bool = False,
        budget: Callable[[str], int] | None = None,
        on_asked: Callable[[int], None] | None = None,
    ) -> None:
        self.model, self.demos, self.canonical, self.chat = model, list(demos), canonical, chat
        self.budget, self.on_asked = budget, on_asked
        self.spec = f"{model.spec}#fewshot={len(self.demos)}"
        self.name = f"{model.name} ({len(self.demos)}-shot)"
        self.shots = demonstrations(self.demos)
        self.kept: dict[Key, Completion] = {}  # greedy answers by query and settings

    def tokenize(self, text: str) -> list[str]:
        """Whitespace tokens: a query's budget is counted in the task's tokens, not the LM's."""
        return text.split()

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
        """Each task input asked few-shot (after `prefix`, then the demonstrations); the
        completion's text is the parsed answer. Unasked queries go shortest budget first, in
        batches of similar length."""
        stops = ("\n", *stop)
        lead = prefix + self.shots
        keys = [(q, self._budget(q, max_new_tokens), decoding.label(), lead, stops) for q in prompts]
        if not decoding.greedy:  # a sampled answer is a draw, not a fact about the query: keep none
            got = self._ask(keys, decoding, piece=max(len(keys), 1))
            return [got[i] for i in range(len(keys))]
        todo = sorted({k for k in keys if k not in self.kept}, key=lambda k: (k[1], len(k[0]), k[0]))
        self._ask(todo, decoding, piece=PIECE)
        return [self.kept[k] for k in keys]

    def budget_of(self, query: str) -> int:
        """The model tokens a query's answer may take (0 when the caller's budget decides)."""
        return self.budget(query) if self.budget is not None else 0

    def _budget(self, query: str, max_new_tokens: int) -> int:
        return self.budget(query) if self.budget is not None else 4 * max_new_tokens + 8

    def _ask(self, keys: Sequence[Key], decoding: Decoding, piece: int) -> dict[int, Completion]:
        """Completions of `keys` by index, asked in runs of equal budget (`keys` sorted by it), at
        most `piece` per call; greedy ones are kept as they come (an interrupt loses one call)."""
        out: dict[int, Completion] = {}
        order = sorted(range(len(keys)), key=lambda i: keys[i][1])
        for budget, run in groupby(order, key=lambda i: keys[i][1]):
            idx = list(run)
            for start in range(0, len(idx), piece):
                part = idx[start : start + piece]
                raw = self.model.generate(
                    [question(keys[i][0]) for i in part],
                    budget,
                    decoding=decoding,
                    stop=keys[part[0]][4],
                    chat=self.chat,
                    prefix=keys[part[0]][3],
                )
                for i, c in zip(part, raw, strict=True):
                    out[i] = self._parsed(c)
                    if decoding.greedy:
                        self.kept[keys[i]] = out[i]
                if self.on_asked is not None:
                    self.on_asked(len(part))
        return out

    def _parsed(self, c: Completion) -> Completion:
        text = parse_answer(c.text)
        if self.canonical is not None:
            text = self.canonical(text)
        return Completion(text, c.tokens, c.logprobs, c.finish, {"raw": c.text})

    def score(
        self, prompts: Sequence[str], continuations: Sequence[str], *, chat: bool = False, prefix: str = ""
    ) -> list[list[float]]:
        """Log-probs of each continuation (after a space) given its few-shot prompt."""
        asked = [question(q) for q in prompts]
        return self.model.score(
            asked, [" " + c for c in continuations], chat=self.chat, prefix=prefix + self.shots
        )
