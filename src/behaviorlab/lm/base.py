"""The text-model interface: any generative model as prompts in, text and token log-probs out.

A `TextModel` is all a black-box study needs: our own runs, a local Hugging Face directory and a
GGUF file all implement it, so a probe or a metamodel search runs unchanged on each. Sampling is
reproducible: the same prompts, settings and seed give the same completions on the same machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from behaviorlab.errors import BadInput

if TYPE_CHECKING:
    from behaviorlab.tasks import Task

Finish = Literal["eos", "stop", "length"]


@dataclass(frozen=True)
class Completion:
    """One generated continuation of a prompt."""

    text: str  # the continuation as text, cut before a stop string (the prompt is not repeated)
    tokens: tuple[str, ...] = ()  # generated tokens as the model's tokenizer spells them; eos excluded
    logprobs: tuple[float, ...] = ()  # the model's own (temperature 1) log-prob of each token above
    finish: Finish = "length"  # why generation ended: end-of-sequence, a stop string, the budget
    meta: dict[str, object] = field(default_factory=dict)  # adapter-specific extras (e.g. chat prompt)


@dataclass(frozen=True)
class Decoding:
    """How to choose tokens: greedy, or sampled at a temperature from a seeded generator."""

    greedy: bool = True
    temperature: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.greedy and not self.temperature > 0:
            raise BadInput(f"sampling temperature must be > 0; got {self.temperature}")

    def label(self) -> str:
        """`greedy` or `t=0.7,seed=1`, for records and tables."""
        return "greedy" if self.greedy else f"t={self.temperature:g},seed={self.seed}"


GREEDY = Decoding()


@runtime_checkable
class TextModel(Protocol):
    """Prompts in, completions out; per-token log-probs of given continuations.

    - `spec` reopens the same model (`run:/abs/dir`, `hf:/abs/dir`, `gguf:/abs/file.gguf`) and is
      what records store; `name` is a short label for tables.
    - `alphabet` is the closed token set a prompt may be built from (our task models read only
      their grammar), or None when any text is welcome (a pretrained LM).
    - `has_chat_template`: `chat=True` wraps each prompt as one user turn with the model's chat
      template; models without one read the prompt as it is.
    - `context_length`: the most positions the model reads (prompt + continuation for a decoder, the
      prompt for an encoder-decoder), or None when not bounded or not known. Hugging Face and GGUF
      models keep a longer prompt's last tokens, leaving room for the continuation (at most half
      the context; `meta["truncated"]` counts the dropped ones), and stop at the context's end.
    - `prefix` (of `generate` and `score`): text read before every prompt of the call, exactly as if
      each prompt were `prefix + prompt` (same tokens, same outputs). It says the prompts share it,
      so a model may read it once and reuse its key-value cache for every prompt (the Hugging Face
      and GGUF adapters do; greedy outputs stay token-identical to the uncached path); a model for
      which caching means nothing (our runs, functions) just prepends it.

    An adapter that knows more about its model than these attributes say (our runs know their
    task and training sizes) also defines `facts() -> ModelFacts`; see `facts`.
    """

    spec: str
    name: str
    alphabet: tuple[str, ...] | None
    has_chat_template: bool
    context_length: int | None

    def tokenize(self, text: str) -> list[str]:
        """The tokens the model reads for `text` (no special tokens added)."""
        ...

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
        """One completion per `prefix + prompt`, batched; stops at eos, a stop string or the budget."""
        ...

    def score(
        self, prompts: Sequence[str], continuations: Sequence[str], *, chat: bool = False, prefix: str = ""
    ) -> list[list[float]]:
        """Log-prob of each token of each continuation given `prefix + prompt` (teacher-forced)."""
        ...


@dataclass(frozen=True)
class ModelFacts:
    """What a black-box study may use about a model besides generate/score/tokenize. The adapter
    knows them (`facts(model)`), so no study re-reads the model's spec."""

    closed: bool  # prompts only from `alphabet` (our task models)
    alphabet: tuple[str, ...]  # tokens a closed prompt is built from (`<unk>` left out)
    chat: bool = False  # the study's choice: wrap prompts with the chat template
    sep: str = " "  # how the model's tokens join into a prompt that tokenizes back to them
    task: Task | None = None  # the task a run learned (reference function and sampler), if any
    sizes: tuple[int, int] | None = None  # the run's training size range
    max_len: int | None = None  # positions the model reads (a run's positional limit, else its context)
    decoder_only: bool = False  # prompt and output share max_len
    run_dir: Path | None = None  # the run directory behind one of our runs

    def join(self, tokens: Sequence[str]) -> str:
        """A closed prompt from alphabet tokens."""
        return self.sep.join(tokens)

    def max_prompt_tokens(self, new_tokens: int) -> int | None:
        """Longest prompt the model accepts when `new_tokens` should still fit (None: no known limit)."""
        if self.max_len is None:
            return None
        return self.max_len - (new_tokens + 1 if self.decoder_only else 0)


def facts(model: TextModel) -> ModelFacts:
    """The adapter's facts when it states them (`model.facts()`), else what the protocol tells."""
    own = getattr(model, "facts", None)
    return own() if callable(own) else protocol_facts(model)


def protocol_facts(model: TextModel) -> ModelFacts:
    """Facts from the protocol's attributes alone: the model's context bounds prompt and output."""
    closed = model.alphabet is not None
    alphabet = tuple(t for t in model.alphabet or () if t != "<unk>")
    sep = separator(model, alphabet) if closed else " "
    return ModelFacts(closed, alphabet, sep=sep, max_len=model.context_length, decoder_only=True)


def separator(model: TextModel, alphabet: Sequence[str]) -> str:
    """ " " for grammar tokens (`1 0 1`), "" for text pieces that carry their own spaces (` the`)."""
    sample = list(alphabet[:4])
    for sep in (" ", ""):
        try:
            if model.tokenize(sep.join(sample)) == sample:
                return sep
        except BadInput:
            continue
    return " "


def texts(
    model: TextModel,
    prompts: Sequence[str],
    max_new_tokens: int,
    *,
    decoding: Decoding = GREEDY,
    stop: Sequence[str] = (),
    chat: bool = False,
    prefix: str = "",
) -> list[str]:
    """Just the completion texts (what a black-box search reads)."""
    got = model.generate(prompts, max_new_tokens, decoding=decoding, stop=stop, chat=chat, prefix=prefix)
    return [c.text for c in got]


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """`text` up to the earliest stop string, and whether one was found."""
    cuts = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return (text[: min(cuts)], True) if cuts else (text, False)
