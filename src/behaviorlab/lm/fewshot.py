"""A text model asked few-shot: task inputs in, its parsed answers out — so a pretrained LM can be
explained like one of our task models (the same shortcut search on its answers).

A prompt is K demonstrations `Input: x\\nOutput: y\\n` and then `Input: q\\nOutput:`; the answer
is the completion's first non-empty line, whitespace-normalised (an echoed `Output:` dropped).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from behaviorlab.lm.base import GREEDY, Completion, Decoding, TextModel


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


def few_shot_prompt(demos: Sequence[tuple[str, str]], query: str, gap: str = "\n") -> str:
    """Demonstrations in the `Input:` / `Output:` format (each ended by `gap`), then the query."""
    shots = "".join(f"Input: {x}\nOutput: {y}{gap}" for x, y in demos)
    return f"{shots}Input: {query}\nOutput:"


class FewShotModel:
    """`model` asked with the same K demonstrations before every query; `canonical` maps a parsed
    answer to the task's canonical spelling when it can (e.g. `1011` -> `1 0 1 1`)."""

    has_chat_template = False
    context_length: int | None = None  # the demonstrations count against the inner model's
    alphabet: tuple[str, ...] | None = None

    def __init__(
        self,
        model: TextModel,
        demos: Sequence[tuple[str, str]],
        canonical: Callable[[str], str] | None = None,
        chat: bool = False,
    ) -> None:
        self.model, self.demos, self.canonical, self.chat = model, list(demos), canonical, chat
        self.spec = f"{model.spec}#fewshot={len(self.demos)}"
        self.name = f"{model.name} ({len(self.demos)}-shot)"

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
    ) -> list[Completion]:
        """Each task input asked few-shot; the completion's text is the parsed answer."""
        asked = [few_shot_prompt(self.demos, q) for q in prompts]
        # A task token can be several LM tokens (and a space): leave room for that.
        budget = 4 * max_new_tokens + 8
        raw = self.model.generate(asked, budget, decoding=decoding, stop=("\n", *stop), chat=self.chat)
        out = []
        for c in raw:
            text = parse_answer(c.text)
            if self.canonical is not None:
                text = self.canonical(text)
            out.append(Completion(text, c.tokens, c.logprobs, c.finish, {"raw": c.text}))
        return out

    def score(
        self, prompts: Sequence[str], continuations: Sequence[str], *, chat: bool = False
    ) -> list[list[float]]:
        """Log-probs of each continuation (after a space) given its few-shot prompt."""
        asked = [few_shot_prompt(self.demos, q) for q in prompts]
        return self.model.score(asked, [" " + c for c in continuations], chat=self.chat)
