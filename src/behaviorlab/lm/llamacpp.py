"""`open_llama`: a GGUF file as a TextModel run by llama.cpp (`llama-cpp-python`), quantised as it is.

The transformers path (`gguf.py`) dequantises a GGUF to float32: about 4 bytes a parameter, 28 GB for
a 7B model. llama.cpp reads the quantised weights in place (memory-mapped), so a Q4 7B model needs
about 5 GB. This adapter is for black-box work (generate, score, tokenize, chat); white-box work
(hooks, ablation) needs the transformers path. `llama-cpp-python` is an optional extra built from
source (`make setup-llamacpp`); without it every use is one line saying how to install it.

Batching: up to `SEQUENCES` prompts share one context, each in its own KV stream of
`seq_context()` positions; each prompt is evaluated on its own, then every decoding step evaluates one
token of each unfinished row in one batch. Tokens are chosen here, from the logits llama.cpp
returns: greedy, or sampled from one seeded generator per row as the transformers adapter does, so
a row's completion depends on its prompt, the seed and how many times that prompt came earlier in
the call, not on the batch: texts always, log-probs bit for bit for SmolLM2's Q4_1 weights (alone and
in a batch of 20); with float32 or Q8_0 weights llama.cpp picks its matrix kernel by batch size and
log-probs round apart by up to a few 1e-3 nats over a continuation. Scoring walks a
continuation one token at a time after its prompt, as generation does, because llama.cpp's CPU
kernels give a token evaluated inside a many-token batch log-probs up to ~0.2 nats away from the
same token evaluated alone (flash attention, which accumulates in float16, is off for the same
reason).

A shared `prefix` (few-shot demonstrations) is read once into a KV stream of its own and copied
into each row's stream before the row reads its own tokens; it stays there for the next call with
the same prefix. Reading a prompt in two pieces rounds like any other split of a long prompt into
batches: a row's log-probs move by the same few 1e-3 nats as between batch sizes, greedy texts
agree (tested), and a replay with the same prefix is bit for bit.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from behaviorlab.errors import BadInput
from behaviorlab.lm.base import GREEDY, Completion, Decoding, Finish, cut_at_stop
from behaviorlab.lm.gguf_header import check_magic, check_readable, llama_bytes
from behaviorlab.lm.hf import GiB, first_line, fits, memory_budget
from behaviorlab.lm.hf_model import row_seeds
from behaviorlab.lm.prefix import shared_length

INSTALL = (
    "the llama.cpp backend needs llama-cpp-python, built from source: "
    "make setup-llamacpp (or pip install 'behaviorlab[llamacpp]')"
)
CONTEXT_ENV = "BEHAVIORLAB_LLAMA_CONTEXT"
THREADS_ENV = "BEHAVIORLAB_LLAMA_THREADS"
SEQUENCES = 8  # sequences decoded together; the KV cache holds one more stream, the shared prefix's
PREFIX_SEQ = SEQUENCES  # the stream a shared prefix is read into once
N_BATCH = 256  # tokens per llama_decode call (bounds the logits buffer: N_BATCH x vocabulary floats)


def seq_context() -> int:
    """Positions of one sequence's KV stream, the model's context here: `$BEHAVIORLAB_LLAMA_CONTEXT`,
    default 1024 (the default probes' prompts stay under it; the cache grows with it)."""
    raw = os.environ.get(CONTEXT_ENV, "").strip() or "1024"
    if not raw.isdigit() or not 16 <= int(raw) <= 1 << 20:
        raise BadInput(f"${CONTEXT_ENV}={raw!r}: expected a number of positions from 16 to 1048576")
    return int(raw)


def threads() -> int:
    """Threads llama.cpp computes with: `$BEHAVIORLAB_LLAMA_THREADS`, else torch's count. Its
    threads spin while they wait, so on a machine with more busy processes than cores one thread
    can be many times faster than two (BENCHMARKS.md)."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        return torch.get_num_threads()
    if not raw.isdigit() or int(raw) < 1:
        raise BadInput(f"${THREADS_ENV}={raw!r}: expected a number of threads, at least 1")
    return int(raw)


def cells() -> int:
    """KV-cache positions the context allocates: SEQUENCES row streams and the prefix's stream,
    each of `seq_context()` positions."""
    return (SEQUENCES + 1) * seq_context()


def llama_cpp() -> Any:
    """The `llama_cpp` module, or BadInput saying how to install it."""
    try:
        import llama_cpp as module
    except ImportError:
        raise BadInput(INSTALL) from None
    logging.getLogger("llama-cpp-python").setLevel(logging.CRITICAL)  # its log callback prints below this
    return module


def available() -> bool:
    """Whether llama-cpp-python is installed (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


def open_llama(path: Path) -> LlamaCppModel:
    """Open a GGUF file with llama.cpp; `llama:ABS_PATH` reopens it the same way."""
    path = Path(path).expanduser().absolute()
    check_magic(path)
    reader = check_readable(path)
    needed = llama_bytes(path, reader, cells(), N_BATCH)
    if not fits(needed):
        raise BadInput(
            f"{path}: needs about {needed / GiB:.1f} GiB through llama.cpp, "
            f"only {(memory_budget() or 0) / GiB:.1f} GiB of memory available"
        )
    return LlamaCppModel(path, threads=threads())


class LlamaCppModel:
    """A TextModel over a llama.cpp model and context (black-box: no hooks)."""

    alphabet: tuple[str, ...] | None = None

    def __init__(self, path: Path, *, threads: int = 1) -> None:
        lc = llama_cpp()
        from llama_cpp import _internals
        from llama_cpp._utils import suppress_stdout_stderr

        self.spec = f"llama:{path}"
        self.name = path.stem
        self.threads = max(1, threads)
        params = lc.llama_model_default_params()
        try:
            self._model = _internals.LlamaModel(path_model=str(path), params=params, verbose=False)
        except ValueError as err:
            raise BadInput(
                f"{path}: llama.cpp ({lc.__version__}) cannot load it ({first_line(err)})"
            ) from err
        self._vocab = self._model.vocab
        self.n_vocab = self._model.n_vocab()
        self.context_length: int | None = min(self._model.n_ctx_train() or seq_context(), seq_context())
        ctx = lc.llama_context_default_params()
        ctx.n_ctx, ctx.n_batch, ctx.n_ubatch = cells(), N_BATCH, N_BATCH
        ctx.n_seq_max = SEQUENCES + 1
        ctx.n_threads = ctx.n_threads_batch = self.threads
        ctx.kv_unified = False  # one KV stream per sequence: a row's numbers do not depend on its batch
        # Plain attention: the CPU flash-attention kernel accumulates in float16, which moves log-probs
        # by ~0.05 nats and makes them depend on the batch.
        ctx.flash_attn_type = lc.LLAMA_FLASH_ATTN_TYPE_DISABLED
        with suppress_stdout_stderr(disable=False):
            try:
                self._ctx = _internals.LlamaContext(model=self._model, params=ctx, verbose=False)
            except ValueError as err:
                raise BadInput(f"{path}: llama.cpp cannot make a context ({first_line(err)})") from err
        self._batch = _internals.LlamaBatch(n_tokens=N_BATCH, embd=0, n_seq_max=1, verbose=False)
        meta = self._model.metadata()
        self._template = meta.get("tokenizer.chat_template")
        self.has_chat_template = bool(self._template)
        self._lc = lc
        self._prefix: tuple[int, ...] = ()  # the tokens PREFIX_SEQ holds

    def __repr__(self) -> str:
        return f"<LlamaCppModel {self.spec}>"

    # --- text <-> ids ---------------------------------------------------------------------------

    def _ids(self, text: str, add_bos: bool) -> list[int]:
        # special=True: control tokens written in the text (a chat template's) are read as such,
        # as a Hugging Face tokenizer does.
        return list(self._model.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True))

    def tokenize(self, text: str) -> list[str]:
        """The tokens the model reads for `text` (no special tokens added), spelt as in its vocabulary."""
        return [self._model.token_get_text(i) for i in self._ids(text, add_bos=False)]

    def _piece(self, token: int) -> bytes:
        return bytes(self._model.token_to_piece(token, special=True)).rstrip(b"\x00")

    def _text(self, ids: Sequence[int]) -> str:
        return b"".join(self._piece(i) for i in ids).decode("utf-8", errors="replace")

    def prompt_text(self, prompt: str, chat: bool) -> str:
        """The text the model reads: the prompt as one user turn of the chat template, or as is."""
        if not (chat and self._template):
            return prompt
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        def token(i: int) -> str:
            return self._model.token_get_text(i) if i >= 0 else ""

        fmt = Jinja2ChatFormatter(
            self._template, token(self._model.token_eos()), token(self._model.token_bos())
        )
        return str(fmt(messages=[{"role": "user", "content": prompt}]).prompt)

    def prompt_ids(self, prompt: str, chat: bool) -> list[int]:
        """Token ids of a prompt: a chat template writes its own specials, a plain prompt gets the
        vocabulary's (a bos where the file asks for one)."""
        templated = chat and bool(self._template)
        ids = self._ids(self.prompt_text(prompt, chat), add_bos=not templated and self._model.add_bos_token())
        if not ids:  # the model needs one token to condition on
            start = self._model.token_bos()
            start = self._model.token_eos() if start < 0 else start
            if start < 0:
                raise BadInput(
                    f"{self.spec}: empty prompt, and the vocabulary has no bos or eos to start from"
                )
            ids = [start]
        return ids

    def _fit(self, rows: list[list[int]], max_new_tokens: int) -> tuple[list[list[int]], list[int]]:
        """Prompts cut to their last tokens, leaving up to half the context for the continuation
        (as the transformers adapter does); with the number of tokens dropped from each."""
        ctx = self.context_length or seq_context()
        room = ctx - min(max_new_tokens, ctx // 2)
        return [r[-room:] for r in rows], [max(0, len(r) - room) for r in rows]

    # --- evaluation -----------------------------------------------------------------------------

    def _groups(self, lengths: Sequence[int]) -> list[list[int]]:
        """Row indices grouped by similar length into batches of at most SEQUENCES rows."""
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        return [order[i : i + SEQUENCES] for i in range(0, len(order), SEQUENCES)]

    def _eval(self, entries: list[tuple[int, int, int, bool]]) -> dict[int, np.ndarray]:
        """Evaluate (token, position, sequence, want logits) entries in order, N_BATCH at a time;
        the logits [V] of every entry that wants them, by entry index."""
        out: dict[int, np.ndarray] = {}
        b = self._batch.batch
        for start in range(0, len(entries), N_BATCH):
            part = entries[start : start + N_BATCH]
            for j, (tok, pos, seq, want) in enumerate(part):
                b.token[j], b.pos[j], b.n_seq_id[j], b.logits[j] = tok, pos, 1, want
                b.seq_id[j][0] = seq
            b.n_tokens = len(part)
            self._ctx.decode(self._batch)
            for j, (*_, want) in enumerate(part):
                if want:
                    ptr = self._ctx.get_logits_ith(j)
                    out[start + j] = np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy()
        return out

    def _shared(self, rows: Sequence[list[int]], prefix: str, chat: bool) -> int:
        """How many leading tokens every row shares with the prefix's own tokens (0: none); a chat
        template's opening (a system prompt) counts as a prefix every templated prompt shares."""
        if not (rows and (prefix or (chat and self._template))):
            return 0
        own = shared_length([rows[0], self.prompt_ids(prefix, chat)], keep=0)
        return min(shared_length(rows), own)

    def _read_prefix(self, ids: Sequence[int]) -> None:
        """PREFIX_SEQ holds `ids` (read now unless it already does)."""
        if tuple(ids) == self._prefix:
            return
        self._ctx.kv_cache_seq_rm(PREFIX_SEQ, -1, -1)
        self._prefix = ()
        self._eval([(t, p, PREFIX_SEQ, False) for p, t in enumerate(ids)])
        self._prefix = tuple(ids)

    def _prefill(self, rows: Sequence[list[int]], shared: int = 0) -> torch.Tensor:
        """Row i as sequence i, each row evaluated on its own (so its numbers do not depend on the
        others), its first `shared` tokens copied from the prefix's stream; the logits [B, V] after
        each row's last token."""
        if shared:
            self._read_prefix(rows[0][:shared])
        last = []
        for i, row in enumerate(rows):
            self._ctx.kv_cache_seq_rm(i, -1, -1)
            if shared:  # the whole stream: llama.cpp copies across streams only whole
                self._ctx.kv_cache_seq_cp(PREFIX_SEQ, i, -1, -1)
            got = self._eval([(t, p, i, p == len(row) - 1) for p, t in enumerate(row) if p >= shared])
            last.append(got[len(row) - 1 - shared])
        return torch.from_numpy(np.stack(last))

    def _step(self, feed: Sequence[tuple[int, int, int]]) -> torch.Tensor:
        """One token (token, position, sequence) for each row in `feed`; their next logits [len, V]."""
        got = self._eval([(t, p, i, True) for t, p, i in feed])
        return torch.from_numpy(np.stack([got[j] for j in range(len(feed))]))

    # --- generation -----------------------------------------------------------------------------

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
        """One completion per `prefix + prompt`, batched; stops at an end-of-generation token, a
        stop string, the budget or the context. The tokens all rows share with the prefix are read
        once. A stop string cuts the text; the tokens keep the one that completed it."""
        prompts = [prefix + p for p in prompts]
        texts = [self.prompt_text(p, chat) for p in prompts]
        rows, cut = self._fit([self.prompt_ids(p, chat) for p in prompts], max_new_tokens)
        shared = self._shared(rows, prefix, chat)
        seeds = row_seeds(decoding.seed, texts)
        out: list[Completion | None] = [None] * len(prompts)
        for group in self._groups([len(r) for r in rows]):
            done = self._generate_batch(
                [rows[i] for i in group], [seeds[i] for i in group], max_new_tokens, decoding, stop, shared
            )
            for i, c in zip(group, done, strict=True):
                meta: dict[str, object] = {"chat_prompt": texts[i]} if chat and self._template else {}
                if cut[i]:
                    meta["truncated"] = cut[i]
                out[i] = Completion(c.text, c.tokens, c.logprobs, c.finish, meta)
        return [c for c in out if c is not None]

    def _generate_batch(
        self,
        rows: list[list[int]],
        seeds: list[int],
        max_new_tokens: int,
        decoding: Decoding,
        stop: Sequence[str],
        shared: int = 0,
    ) -> list[Completion]:
        n = len(rows)
        if max_new_tokens <= 0:
            return [Completion("", finish="length") for _ in range(n)]
        gens = [torch.Generator().manual_seed(s) for s in seeds] if not decoding.greedy else []
        ids: list[list[int]] = [[] for _ in range(n)]
        logps: list[list[float]] = [[] for _ in range(n)]
        finish: list[Finish] = ["length"] * n
        active = [True] * n
        logits = self._prefill(rows, shared)  # [B, V]
        live = list(range(n))  # the rows `logits` holds, in order
        ctx = self.context_length or seq_context()
        for t in range(max_new_tokens):
            chosen, chosen_logp = self._choose(logits, decoding, [gens[i] for i in live] if gens else [])
            for j, i in enumerate(live):
                token = int(chosen[j])
                if self._lc.llama_vocab_is_eog(self._vocab, token):
                    active[i], finish[i] = False, "eos"
                    continue
                ids[i].append(token)
                logps[i].append(float(chosen_logp[j]))
                if stop and cut_at_stop(self._text(ids[i]), stop)[1]:
                    active[i], finish[i] = False, "stop"
                elif len(rows[i]) + len(ids[i]) >= ctx:  # the context ends here
                    active[i] = False
            live = [i for i in range(n) if active[i]]
            if not live or t == max_new_tokens - 1:
                break
            logits = self._step([(ids[i][-1], len(rows[i]) + len(ids[i]) - 1, i) for i in live])  # [live, V]
        return [self._completion(ids[i], logps[i], finish[i], stop) for i in range(n)]

    @staticmethod
    def _choose(
        logits: torch.Tensor, decoding: Decoding, gens: list[torch.Generator]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Next id per row [B] and its temperature-1 log-prob [B]; one generator per sampled row."""
        logp = torch.log_softmax(logits.float(), dim=-1)  # [B, V]
        if decoding.greedy:
            chosen = logp.argmax(dim=-1)
        else:
            probs = torch.softmax(logits.float() / decoding.temperature, dim=-1)  # [B, V]
            chosen = torch.stack([torch.multinomial(probs[j], 1, generator=g)[0] for j, g in enumerate(gens)])
        return chosen, logp.gather(1, chosen[:, None]).squeeze(1)

    def _completion(
        self, ids: list[int], logps: list[float], finish: Finish, stop: Sequence[str]
    ) -> Completion:
        text, hit = cut_at_stop(self._text(ids), stop)
        tokens = tuple(self._model.token_get_text(i) for i in ids)
        return Completion(text, tokens, tuple(logps), "stop" if hit else finish)

    # --- scoring --------------------------------------------------------------------------------

    def score(
        self, prompts: Sequence[str], continuations: Sequence[str], *, chat: bool = False, prefix: str = ""
    ) -> list[list[float]]:
        """Log-prob of each token of each continuation given `prefix + prompt` (teacher-forced);
        the tokens all prompts share with the prefix are read once."""
        if len(prompts) != len(continuations):
            raise BadInput(f"{self.spec}: {len(prompts)} prompts but {len(continuations)} continuations")
        heads = [self.prompt_ids(prefix + p, chat) for p in prompts]
        tails = [self._ids(c, add_bos=False) for c in continuations]
        limit = self.context_length or seq_context()
        for i, (h, t) in enumerate(zip(heads, tails, strict=True)):
            if len(h) + len(t) > limit:
                raise BadInput(
                    f"{self.spec}: prompt {i} and its continuation need {len(h) + len(t)} positions; "
                    f"the model's context holds {limit}"
                )
        out: list[list[float]] = [[] for _ in prompts]
        scored = [i for i in range(len(prompts)) if tails[i]]
        shared = self._shared([heads[i] for i in scored], prefix, chat)
        # Grouped by prompt length as generation groups, so a replay's batches match the recorded ones.
        for group in self._groups([len(heads[i]) for i in scored]):
            rows = [scored[g] for g in group]
            logp = torch.log_softmax(
                self._prefill([heads[i] for i in rows], shared).float(), dim=-1
            )  # [B, V]
            # Then token by token, as generation goes: a many-token batch would round differently.
            for step in range(max(len(tails[i]) for i in rows)):
                going = [(j, i) for j, i in enumerate(rows) if step < len(tails[i])]
                for j, i in going:
                    out[i].append(float(logp[j, tails[i][step]]))
                feed = [(j, i) for j, i in going if step + 1 < len(tails[i])]
                if not feed:
                    break
                step_logits = self._step([(tails[i][step], len(heads[i]) + step, j) for j, i in feed])
                logp = logp.clone()
                for k, (j, _) in enumerate(feed):
                    logp[j] = torch.log_softmax(step_logits[k].float(), dim=-1)
        return out
