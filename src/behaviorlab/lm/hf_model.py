"""`HFModel`: the TextModel over a loaded transformers model and its tokenizer.

Causal LMs read left-padded batches (so every row's next token sits in the last column) with
explicit position ids; encoder-decoders pad the encoder input and decode from the start token.
Both decode with our own loop over the KV cache, so each chosen token's log-prob is exact and
sampling draws from one seeded generator per row: a row's completion depends on its prompt, the
seed and how many times that prompt came earlier in the call, not on the batch it shares.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import torch
from torch import Tensor

from behaviorlab.errors import BadInput
from behaviorlab.lm.base import GREEDY, Completion, Decoding, Finish, cut_at_stop
from behaviorlab.lm.prefix import PrefixCache, shared_length

# (next ids [B] or None for the first call) -> next-token logits [B, V]; holds the cache itself.
Stepper = Callable[[Tensor | None], Tensor]


def row_seed(seed: int, text: str, repeat: int) -> int:
    """A 63-bit seed for one row, stable across processes (Python's hash() is salted)."""
    digest = hashlib.sha256(f"{seed}\x00{repeat}\x00{text}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def row_seeds(seed: int, texts: Sequence[str]) -> list[int]:
    """Each row's seed: the k-th repeat of a prompt gets its own stream (every backend alike)."""
    seen: dict[str, int] = {}
    seeds = []
    for text in texts:
        seeds.append(row_seed(seed, text, seen.get(text, 0)))
        seen[text] = seen.get(text, 0) + 1
    return seeds


def _as_ids(value: object) -> set[int]:
    """An id or a list of ids (generation configs use both) as a set."""
    if value is None:
        return set()
    if isinstance(value, int):
        return {value}
    return {int(v) for v in value}  # type: ignore[attr-defined]


class HFModel:
    """A TextModel over a transformers causal LM or encoder-decoder and its tokenizer."""

    alphabet: tuple[str, ...] | None = None

    def __init__(self, model: Any, tokenizer: Any, *, spec: str, name: str, batch_size: int = 32) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.spec = spec
        self.name = name
        self.batch_size = batch_size
        self.has_chat_template = bool(getattr(tokenizer, "chat_template", None))
        self.seq2seq = bool(getattr(model.config, "is_encoder_decoder", False))
        self.context_length = context_length(model.config)
        gen_config = getattr(model, "generation_config", None)
        self.eos_ids = _as_ids(getattr(gen_config, "eos_token_id", None)) | _as_ids(tokenizer.eos_token_id)
        self.pad_id = next((i for i in (tokenizer.pad_token_id, tokenizer.eos_token_id) if i is not None), 0)
        # transformers 5.x renamed `past_key_values` to `cache`; older and remote-code models keep it.
        params = inspect.signature(model.forward).parameters
        self._cache_arg = "cache" if "cache" in params else "past_key_values"
        self._positions = "position_ids" in params and not self.seq2seq
        self._keep_logits = "logits_to_keep" in params
        # A shared prefix is read once per call when positions can be given (pads then sit between
        # prefix and prompt); `prefix_cache = False` reads it with every prompt (benchmarks, checks).
        self.prefix_cache = self._positions
        # What hooks on the network change now (lm/hooked_hf.py sets it): the prefix cache is keyed
        # by it, and None (hooks that cannot say, e.g. recorders) reads the prefix with every prompt.
        self.intervention: Callable[[], Hashable | None] = lambda: ()
        self._prefixes = PrefixCache(self._encode_prefix, lambda: self.intervention())

    # --- text <-> ids ---------------------------------------------------------------------------

    def tokenize(self, text: str) -> list[str]:
        """The tokens the model reads for `text` (no special tokens added)."""
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        return list(self.tokenizer.convert_ids_to_tokens(ids))

    def prompt_text(self, prompt: str, chat: bool) -> str:
        """The text the model reads: the prompt as one user turn of the chat template, or as is."""
        if not (chat and self.has_chat_template):
            return prompt
        text = self.tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
        return str(text)

    def prompt_ids(self, prompt: str, chat: bool) -> list[int]:
        """Token ids of a prompt: a chat template writes its own specials, a plain prompt gets the
        tokenizer's."""
        templated = chat and self.has_chat_template
        ids = list(
            self.tokenizer(self.prompt_text(prompt, chat), add_special_tokens=not templated)["input_ids"]
        )
        if not ids:  # the model needs one token to condition on
            start = self.tokenizer.bos_token_id
            start = self.tokenizer.eos_token_id if start is None else start
            if start is None:
                raise BadInput(
                    f"{self.spec}: empty prompt, and the tokenizer has no bos or eos to start from"
                )
            ids = [int(start)]
        return ids

    def _decode(self, ids: list[int]) -> str:
        return str(self.tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False))

    def continuation_text(self, prompt_ids: list[int], ids: list[int], head: str | None = None) -> str:
        """Generated text; a causal LM's is decoded after its prompt (`head`, the prompt decoded), so
        a tokenizer that drops a leading space at the start of a text keeps it here."""
        if self.seq2seq or not ids:
            return self._decode(ids)
        head = self._decode(prompt_ids) if head is None else head
        full = self._decode(prompt_ids + ids)
        return full[len(head) :] if full.startswith(head) else self._decode(ids)

    def _fit(self, rows: list[list[int]], max_new_tokens: int) -> tuple[list[list[int]], list[int]]:
        """Prompts cut to their last tokens so that they fit the context with room for the
        continuation (a decoder reserves up to half of it), as evaluation harnesses do; with the
        number of tokens dropped from each."""
        ctx = self.context_length
        if ctx is None:
            return rows, [0] * len(rows)
        room = ctx if self.seq2seq else ctx - min(max_new_tokens, ctx // 2)
        return [r[-room:] for r in rows], [max(0, len(r) - room) for r in rows]

    # --- batching -------------------------------------------------------------------------------

    def _chunks(self, lengths: Sequence[int]) -> list[list[int]]:
        """Row indices grouped into batches of similar length (less padding)."""
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]

    def _pad(self, rows: Sequence[list[int]], left: bool) -> tuple[Tensor, Tensor]:
        """Ids [B, L] and attention mask [B, L], padded on the left or the right."""
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros(len(rows), width, dtype=torch.long)
        for i, row in enumerate(rows):
            span = slice(width - len(row), width) if left else slice(0, len(row))
            ids[i, span] = torch.tensor(row, dtype=torch.long)
            mask[i, span] = 1
        return ids, mask

    def _decoder_start(self) -> int:
        for value in (
            getattr(self.model.config, "decoder_start_token_id", None),
            getattr(self.model.generation_config, "decoder_start_token_id", None),
            self.tokenizer.pad_token_id,
            self.tokenizer.bos_token_id,
        ):
            if value is not None:
                return int(value)
        raise BadInput(f"{self.spec}: the encoder-decoder names no decoder start token")

    def _cache_of(self, out: Any) -> Any:
        cache = getattr(out, "cache", None)
        return cache if cache is not None else getattr(out, "past_key_values", None)

    # --- steppers: prompt batch in, next-token logits out, the cache kept inside -----------------

    def _shared(self, rows: Sequence[list[int]], prefix: str, chat: bool) -> int:
        """How many leading tokens all rows share and the prefix cache will read once (0: none):
        at most the prefix's own, so every call with this prefix reuses one cache. A chat
        template's own opening (a system prompt) is a prefix every templated prompt shares; no
        cache while hooks other than a head ablation could change what it holds."""
        templated = chat and self.has_chat_template
        if not (rows and (prefix or templated) and self.prefix_cache and not self.seq2seq):
            return 0
        if self.intervention() is None:
            return 0
        own = shared_length([rows[0], self.prompt_ids(prefix, chat)], keep=0)
        shared = min(shared_length(rows), own)
        return shared if shared and self._prefixes.usable(rows[0][:shared]) else 0

    def _encode_prefix(self, ids: list[int]) -> Any:
        """The model's cache after reading `ids` (a batch of one, positions from 0)."""
        kwargs: dict[str, Any] = {"use_cache": True}
        if self._keep_logits:
            kwargs["logits_to_keep"] = 1
        inputs = torch.tensor([ids], dtype=torch.long)  # [1, P]
        out = self.model(
            input_ids=inputs,
            attention_mask=torch.ones_like(inputs),
            position_ids=torch.arange(len(ids))[None],
            **kwargs,
        )
        return self._cache_of(out)

    def _causal_stepper(self, rows: Sequence[list[int]], shared: int = 0) -> Stepper:
        """With `shared` > 0, the rows' first `shared` tokens come from the prefix cache; each row
        is then [prefix | pads | own tokens], its positions counted as if unpadded."""
        ids, mask = self._pad([r[shared:] for r in rows], left=True)  # [B, L]
        positions = shared + (mask.cumsum(1) - 1).clamp(min=0)  # [B, L]: pads sit at `shared`
        state: dict[str, Any] = {"cache": None}
        if shared:
            state["cache"] = self._prefixes.for_batch(rows[0][:shared], len(rows))
            mask = torch.cat([torch.ones(len(rows), shared, dtype=mask.dtype), mask], dim=1)  # [B, P+L]

        def step(next_ids: Tensor | None) -> Tensor:
            nonlocal mask, positions
            kwargs: dict[str, Any] = {"use_cache": True}
            if next_ids is None:
                inputs = ids
                if self._keep_logits:
                    kwargs["logits_to_keep"] = 1
                if state["cache"] is not None:  # the shared prefix, already read
                    kwargs[self._cache_arg] = state["cache"]
            else:
                inputs = next_ids[:, None]  # [B, 1]
                mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
                positions = positions[:, -1:] + 1
                if self.context_length is not None:  # finished rows run on; nothing reads them
                    positions = positions.clamp(max=self.context_length - 1)
                kwargs[self._cache_arg] = state["cache"]
            if self._positions:
                kwargs["position_ids"] = positions[:, -inputs.shape[1] :]
            out = self.model(input_ids=inputs, attention_mask=mask, **kwargs)
            state["cache"] = self._cache_of(out)
            return out.logits[:, -1]  # [B, V]

        return step

    def _seq2seq_stepper(self, rows: Sequence[list[int]]) -> Stepper:
        ids, mask = self._pad(rows, left=False)  # [B, S]
        encoded = self.model.get_encoder()(input_ids=ids, attention_mask=mask)
        start = torch.full((len(rows), 1), self._decoder_start(), dtype=torch.long)
        state: dict[str, Any] = {"cache": None}

        def step(next_ids: Tensor | None) -> Tensor:
            kwargs: dict[str, Any] = {"use_cache": True}
            if next_ids is not None:
                kwargs[self._cache_arg] = state["cache"]
            dec = start if next_ids is None else next_ids[:, None]  # [B, 1]
            out = self.model(encoder_outputs=encoded, attention_mask=mask, decoder_input_ids=dec, **kwargs)
            state["cache"] = self._cache_of(out)
            return out.logits[:, -1]  # [B, V]

        return step

    # --- generation -----------------------------------------------------------------------------

    @torch.inference_mode()
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
        """One completion per prompt, batched; stops at eos, a stop string or the budget. Each
        prompt is read as `prefix + prompt`; the tokens they all share are read once (KV cache).

        A stop string cuts the text; the tokens keep the one that completed it. Special tokens other
        than eos stay in the text as the tokenizer spells them."""
        prompts = [prefix + p for p in prompts]
        texts = [self.prompt_text(p, chat) for p in prompts]
        rows, cut = self._fit([self.prompt_ids(p, chat) for p in prompts], max_new_tokens)
        shared = self._shared(rows, prefix, chat)
        seeds = row_seeds(decoding.seed, texts)
        out: list[Completion | None] = [None] * len(prompts)
        for chunk in self._chunks([len(r) for r in rows]):
            done = self._generate_batch(
                [rows[i] for i in chunk], [seeds[i] for i in chunk], max_new_tokens, decoding, stop, shared
            )
            for i, completion in zip(chunk, done, strict=True):
                meta: dict[str, object] = {"chat_prompt": texts[i]} if chat and self.has_chat_template else {}
                if cut[i]:
                    meta["truncated"] = cut[i]
                out[i] = Completion(
                    completion.text, completion.tokens, completion.logprobs, completion.finish, meta
                )
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
        """Decode one batch of prompt ids until every row has finished (the first `shared` ids of
        every row from the prefix cache)."""
        n = len(rows)
        gens = [torch.Generator().manual_seed(s) for s in seeds] if not decoding.greedy else []
        ids: list[list[int]] = [[] for _ in range(n)]
        logps: list[list[float]] = [[] for _ in range(n)]
        finish: list[Finish] = ["length"] * n
        active = [True] * n
        if max_new_tokens <= 0:
            return [Completion("", finish="length") for _ in range(n)]
        heads = [self._decode(r) if stop and not self.seq2seq else None for r in rows]
        step = self._seq2seq_stepper(rows) if self.seq2seq else self._causal_stepper(rows, shared)
        logits = step(None)  # [B, V]
        for t in range(max_new_tokens):
            chosen, chosen_logp = self._choose(logits, decoding, gens, active)
            for i in range(n):
                if not active[i]:
                    continue
                token = int(chosen[i])
                if token in self.eos_ids:
                    active[i], finish[i] = False, "eos"
                    continue
                ids[i].append(token)
                logps[i].append(float(chosen_logp[i]))
                if stop and cut_at_stop(self.continuation_text(rows[i], ids[i], heads[i]), stop)[1]:
                    active[i], finish[i] = False, "stop"
                elif self._full(rows[i], ids[i]):  # the position table ends here
                    active[i] = False
            if not any(active) or t == max_new_tokens - 1:
                break
            # Finished rows keep being fed (pad) so the batch stays rectangular; nothing reads them.
            logits = step(chosen.masked_fill(~torch.tensor(active), self.pad_id))
        return [self._completion(rows[i], ids[i], logps[i], finish[i], stop) for i in range(n)]

    def _full(self, prompt: list[int], ids: list[int]) -> bool:
        """Whether a row has used every position the model has (a decoder's prompt counts)."""
        ctx = self.context_length
        return ctx is not None and len(ids) + (0 if self.seq2seq else len(prompt)) >= ctx

    def _choose(
        self, logits: Tensor, decoding: Decoding, gens: list[torch.Generator], active: list[bool]
    ) -> tuple[Tensor, Tensor]:
        """Next id per row [B] and its temperature-1 log-prob [B]; one generator per sampled row."""
        logp = torch.log_softmax(logits.float(), dim=-1)  # [B, V]
        if decoding.greedy:
            chosen = logp.argmax(dim=-1)
        else:
            probs = torch.softmax(logits.float() / decoding.temperature, dim=-1)  # [B, V]
            chosen = torch.zeros(logits.shape[0], dtype=torch.long)
            for i, gen in enumerate(gens):
                if active[i]:  # a finished row draws nothing, so its stream matches a solo run
                    chosen[i] = torch.multinomial(probs[i], 1, generator=gen)[0]
        return chosen, logp.gather(1, chosen[:, None]).squeeze(1)

    def _completion(
        self, prompt: list[int], ids: list[int], logps: list[float], finish: Finish, stop: Sequence[str]
    ) -> Completion:
        text, hit = cut_at_stop(self.continuation_text(prompt, ids), stop)
        tokens = tuple(str(t) for t in self.tokenizer.convert_ids_to_tokens(ids))
        return Completion(text, tokens, tuple(logps), "stop" if hit else finish)

    # --- scoring --------------------------------------------------------------------------------

    @torch.inference_mode()
    def score(
        self, prompts: Sequence[str], continuations: Sequence[str], *, chat: bool = False, prefix: str = ""
    ) -> list[list[float]]:
        """Log-prob of each token of each continuation given `prefix + prompt` (teacher-forced);
        the tokens all prompts share are read once."""
        if len(prompts) != len(continuations):
            raise BadInput(f"{self.spec}: {len(prompts)} prompts but {len(continuations)} continuations")
        heads = [self.prompt_ids(prefix + p, chat) for p in prompts]
        tails = [list(self.tokenizer(c, add_special_tokens=False)["input_ids"]) for c in continuations]
        limit = self.context_length
        for i, (h, t) in enumerate(zip(heads, tails, strict=True)):
            used = len(h) if self.seq2seq else len(h) + len(t)
            if limit is not None and used > limit:
                raise BadInput(
                    f"{self.spec}: prompt {i} and its continuation need {used} positions; "
                    f"the model's context holds {limit}"
                )
        out: list[list[float]] = [[] for _ in prompts]
        shared = self._shared(heads, prefix, chat)
        for chunk in self._chunks([len(heads[i]) + len(tails[i]) for i in range(len(prompts))]):
            live = [i for i in chunk if tails[i]]
            if not live:
                continue
            part = ([heads[i] for i in live], [tails[i] for i in live])
            got = self._score_seq2seq(*part) if self.seq2seq else self._score_causal(*part, shared)
            for i, row in zip(live, got, strict=True):
                out[i] = row
        return out

    def _score_causal(
        self, heads: list[list[int]], tails: list[list[int]], shared: int = 0
    ) -> list[list[float]]:
        ids, mask = self._pad(
            [(h + t)[shared:] for h, t in zip(heads, tails, strict=True)], left=True
        )  # [B, L]
        keep = max(len(t) for t in tails) + 1
        kwargs: dict[str, Any] = {"use_cache": bool(shared)}
        if self._keep_logits:  # continuations sit at the right edge: only those logits are needed
            kwargs["logits_to_keep"] = keep
        if self._positions:
            kwargs["position_ids"] = shared + (mask.cumsum(1) - 1).clamp(min=0)
        if shared:  # [prefix | pads | own tokens], as in generation
            kwargs[self._cache_arg] = self._prefixes.for_batch(heads[0][:shared], len(heads))
            mask = torch.cat([torch.ones(len(heads), shared, dtype=mask.dtype), mask], dim=1)  # [B, P+L]
        logits = self.model(input_ids=ids, attention_mask=mask, **kwargs).logits[:, -keep:]  # [B, keep, V]
        logp = torch.log_softmax(logits.float(), dim=-1)
        rows = []
        for i, tail in enumerate(tails):
            # token j of the tail sits at kept index keep-len+j and is predicted one position earlier
            at = torch.arange(keep - len(tail) - 1, keep - 1)
            rows.append(logp[i, at, torch.tensor(tail)].tolist())
        return rows

    def _score_seq2seq(self, heads: list[list[int]], tails: list[list[int]]) -> list[list[float]]:
        ids, mask = self._pad(heads, left=False)  # [B, S]
        start = self._decoder_start()
        dec, dec_mask = self._pad([[start] + t[:-1] for t in tails], left=False)  # [B, T]
        out = self.model(
            input_ids=ids,
            attention_mask=mask,
            decoder_input_ids=dec,
            decoder_attention_mask=dec_mask,
            use_cache=False,
        )
        logp = torch.log_softmax(out.logits.float(), dim=-1)  # [B, T, V]
        return [logp[i, torch.arange(len(t)), torch.tensor(t)].tolist() for i, t in enumerate(tails)]


def context_length(config: Any) -> int | None:
    """The positions a model's config bounds it to (absolute or rotary position tables), or None
    (relative positions, as in T5, bound nothing)."""
    for key in ("max_position_embeddings", "n_positions", "n_ctx", "max_sequence_length"):
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return None
