"""Plain Python functions as text models: hand-written black boxes for tests and studies.

A function has no token probabilities, so `score` refuses (BadInput) rather than invent them.
Generation is deterministic: the decoding settings are accepted and ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from behaviorlab.errors import BadInput
from behaviorlab.lm.base import GREEDY, Completion, Decoding, cut_at_stop


def _words(text: str) -> list[str]:
    return text.split()


def _spaced(tokens: Sequence[str]) -> str:
    return " ".join(tokens)


class BatchFunctionModel:
    """A function `list[str] -> list[str]` (prompts in, completions out) as a TextModel.

    Completions longer than `max_new_tokens` tokens (by `tokenize`) are cut to that many and
    re-joined with `detokenize`; exceptions of the function propagate.
    """

    has_chat_template = False
    context_length: int | None = None  # the wrapped callable bounds nothing we can know

    def __init__(
        self,
        predict: Callable[[list[str]], list[str]],
        name: str,
        *,
        alphabet: Sequence[str] | None = None,
        tokenize: Callable[[str], list[str]] = _words,
        detokenize: Callable[[Sequence[str]], str] = _spaced,
    ) -> None:
        self.predict, self.name, self.spec = predict, name, f"function:{name}"
        self.alphabet = None if alphabet is None else tuple(alphabet)
        self._tokenize, self._detokenize = tokenize, detokenize

    def tokenize(self, text: str) -> list[str]:
        """The tokens of `text` (whitespace-separated words unless told otherwise)."""
        return self._tokenize(text)

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
        """The function's output for each `prefix + prompt`, cut at a stop string or the token budget."""
        outs = self.predict([prefix + p for p in prompts])
        if len(outs) != len(prompts):
            raise BadInput(f"function model {self.name!r}: {len(outs)} outputs for {len(prompts)} prompts")
        return [self._completion(text, max_new_tokens, stop) for text in outs]

    def _completion(self, text: str, max_new_tokens: int, stop: Sequence[str]) -> Completion:
        text, stopped = cut_at_stop(text, stop)
        tokens = self._tokenize(text)
        if len(tokens) > max_new_tokens:
            tokens = tokens[:max_new_tokens]
            return Completion(self._detokenize(tokens), tuple(tokens), finish="length")
        return Completion(text, tuple(tokens), finish="stop" if stopped else "eos")

    def score(
        self, prompts: Sequence[str], continuations: Sequence[str], *, chat: bool = False, prefix: str = ""
    ) -> list[list[float]]:
        """Refused: a function has no token probabilities."""
        raise BadInput(f"a function model has no token probabilities ({self.name!r})")


class FunctionModel(BatchFunctionModel):
    """A function `str -> str` as a TextModel: tokens are whitespace-separated words."""

    def __init__(self, fn: Callable[[str], str], name: str, alphabet: Sequence[str] | None = None) -> None:
        super().__init__(lambda prompts: [fn(p) for p in prompts], name, alphabet=alphabet)
        self.fn = fn
