"""`HookedHF`: a Hugging Face (or GGUF) language model as a `HookedModel`, hooked on its real modules.

Hook points sit where the alias map (lm/hf_arch.py) says: PyTorch forward hooks on the embedding,
attention, MLP, block, final-norm and head modules hand each output to a `HookPoint` under our
name, and use what it returns, so editing a hook's output changes the computation downstream.

How the attention patterns are guaranteed to be the ones the model used: the model's attention
implementation is switched to "behaviorlab", a function registered with transformers'
`AttentionInterface` that calls the architecture's own eager attention function — the function
`attn_implementation="eager"` runs, found in the module that defines the attention class — with
the arguments the model passes (its mask with padding and sliding windows, queries and keys after
rotary positions, soft-capping, relative position bias, grouped-query heads it repeats itself).
The pattern hook receives that function's softmax output, the very weights it multiplied the
values with. Nothing is recomputed unless a hook returns a different pattern: only then is the
per-head output `pattern @ values` formed again, the product the eager function ends with. The
masks come from transformers' eager mask function, registered under the same name.

Batches follow models/hooked.py: src [B, S] prompt ids and tgt_in [B, T] = [slot] + y, padded
with -1 (our pad outside; the tokenizer's pad id and an attention mask inside). A causal LM reads
[left-padded prompt | y]: the prompt's last token fills the slot of target position 0, which
predicts y1; logits (and `dec.logits`) cover the target positions only, as in our decoder-only
kind. Hook contexts carry the decoding step (None when teacher-forced; 0 for the prompt pass of a
cached generation) and each row's positions counted from its first real token.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Hashable
from typing import Any

import torch
from torch import Tensor, nn

from behaviorlab.errors import BadInput
from behaviorlab.lm.hf_arch import Arch, Stack, arch_for
from behaviorlab.lm.hf_model import HFModel
from behaviorlab.models.generate import Generation, StepFn, decode
from behaviorlab.models.hooked import AttnSite, Display, View, joined_views, own_display, stack_views
from behaviorlab.models.hooks import HookedMixin, HookPoint, RunInfo

ATTN = "behaviorlab"
PAD = -1  # marks padding in src / tgt_in (any real id, pad included, may be a content token)


def _register() -> None:
    """Our attention function and its (eager) masks, under one implementation name."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, eager_mask

    AttentionInterface.register(ATTN, _attention)
    AttentionMaskInterface.register(ATTN, eager_mask)


def own_eager(module: nn.Module) -> Callable[..., tuple[Tensor, Tensor]]:
    """The eager attention function of a module's own architecture."""
    if getattr(module, "reorder_and_upcast_attn", False):  # GPT-2's upcast variant under eager
        return lambda m, q, k, v, mask, **_: m._upcast_and_reordered_attn(q, k, v, mask)
    fn = getattr(sys.modules[type(module).__module__], "eager_attention_forward", None)
    if fn is None:
        raise BadInput(f"{type(module).__name__}: its module defines no eager_attention_forward to hook")
    return fn


def _attention(
    module: nn.Module, query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None, **kwargs: Any
) -> tuple[Tensor, Tensor]:
    """The registered attention function: the module's eager attention, then our two hooks."""
    site: _Site | None = getattr(module, "_behaviorlab_site", None)
    out, weights = own_eager(module)(module, query, key, value, mask, **kwargs)
    return (out, weights) if site is None else site.hooks(out, weights, value)


def repeat_heads(x: Tensor, n_rep: int) -> Tensor:
    """[B, Hkv, T, d] -> [B, Hkv * n_rep, T, d]: query head h reads key/value head h // n_rep."""
    if n_rep == 1:
        return x
    b, h, t, d = x.shape
    return x[:, :, None].expand(b, h, n_rep, t, d).reshape(b, h * n_rep, t, d)


class _Site:
    """The pattern and z hook points of one attention module (held by index: swappable points)."""

    def __init__(self, owner: HookedHF, stack: str, pattern: int, z: int) -> None:
        self.owner, self.stack, self.pattern, self.z = owner, stack, pattern, z

    def hooks(self, out: Tensor, weights: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
        """Run the pattern hook (recomputing the output only if it returned a new pattern), then z."""
        pattern, z = self.owner.points[self.pattern], self.owner.points[self.z]
        if not (pattern.active or z.active):
            return out, weights
        run = self.owner.runs[self.stack]
        if pattern.active:
            new = pattern(weights, run)  # [B, H, Tq, Tk]
            if new is not weights:
                values = repeat_heads(value, new.shape[1] // value.shape[1])
                out = torch.matmul(new.to(values.dtype), values).transpose(1, 2).contiguous()
                weights = new
        return z(out, run), weights  # z: [B, Tq, H, dh]


def _first(output: Any) -> Tensor:
    return output[0] if isinstance(output, tuple) else output


class HookedHF(HookedMixin):
    """Our hook names on a transformers causal LM or encoder-decoder (see the module docstring)."""

    one_pass = False
    hf: HFModel  # set with object.__setattr__ (not a submodule)

    def __init__(self, hf: HFModel, arch: Arch) -> None:
        super().__init__()
        # Held, not registered: hook-point discovery walks only our points, not the whole network.
        object.__setattr__(self, "hf", hf)
        self.arch = arch
        net = hf.model
        cfg = net.config
        self.seq2seq = hf.seq2seq
        self.generation_patchable = self.seq2seq  # a causal LM's rows are left-padded
        self.points = nn.ModuleList()
        self.runs: dict[str, RunInfo] = {}
        self._step: dict[str, int] = {}
        self._sites: list[AttnSite] = []
        self._handles: list[Any] = []
        self._n_heads = int(_cfg(cfg, "num_attention_heads", "n_head", "num_heads"))
        self._kv_heads = int(getattr(cfg, "num_key_value_heads", None) or self._n_heads)
        self._width = int(_cfg(cfg, "hidden_size", "n_embd", "d_model"))
        params = inspect.signature(net.forward).parameters
        self._positions_arg = "position_ids" in params and not self.seq2seq
        self._keep_arg = "logits_to_keep" in params
        for stack in arch.stacks:
            self._install(net, stack)
        self._logits_point(net)
        _register()
        net.set_attn_implementation(ATTN)
        hf.intervention = self.intervention
        self.pad_id = PAD
        gen = getattr(net, "generation_config", None)
        first = getattr(gen, "eos_token_id", None)
        first = first[0] if isinstance(first, list) and first else first
        self.eos_id = int(first) if isinstance(first, int) else min(hf.eos_ids, default=0)
        self._eos = torch.tensor(sorted(hf.eos_ids | {self.eos_id}))
        start = hf.tokenizer.bos_token_id if hf.tokenizer.bos_token_id is not None else self.eos_id
        self.bos_id = hf._decoder_start() if self.seq2seq else int(start)  # causal: a slot, never fed

    def __repr__(self) -> str:
        return f"<HookedHF {self.hf.spec} {len(self.hook_names())} hooks>"

    # --- installing hooks -----------------------------------------------------------------------

    def _new_point(self, name: str) -> int:
        self.points.append(HookPoint(name))
        return len(self.points) - 1

    def _point_on(self, module: nn.Module, name: str, stack: str) -> None:
        """A hook point on a module's output (the first element of a tuple output)."""
        i = self._new_point(name)

        def fn(mod: nn.Module, args: Any, output: Any) -> Any:
            point = self.points[i]
            if not point.active:
                return None
            x = _first(output)
            new = point(x, self.runs[stack])
            if new is x:
                return None
            return (new, *output[1:]) if isinstance(output, tuple) else new

        self._handles.append(module.register_forward_hook(fn))

    def _logits_point(self, net: nn.Module) -> None:
        """`dec.logits`: the model's output logits (after any final soft-capping), for the positions
        it returned logits for (a generation step may keep only the last)."""
        i = self._new_point("dec.logits")

        def fn(mod: nn.Module, args: Any, output: Any) -> Any:
            point = self.points[i]
            if not point.active:
                return None
            run = self.runs["dec"]
            n = output.logits.shape[1]
            output.logits = point(output.logits, RunInfo(run.step, run.positions[:, -n:]))
            return output

        self._handles.append(net.register_forward_hook(fn))

    def _point_before(self, module: nn.Module, name: str, stack: str) -> None:
        """A hook point on a module's first input (the residual stream entering a block)."""
        i = self._new_point(name)

        def fn(mod: nn.Module, args: Any, kwargs: Any) -> Any:
            point = self.points[i]
            if not point.active:
                return None
            if args:
                return (point(args[0], self.runs[stack]), *args[1:]), kwargs
            return args, {**kwargs, "hidden_states": point(kwargs["hidden_states"], self.runs[stack])}

        self._handles.append(module.register_forward_pre_hook(fn, with_kwargs=True))

    def _install(self, net: nn.Module, stack: Stack) -> None:
        p = stack.prefix
        root = net.get_submodule(stack.root)
        self._handles.append(
            root.register_forward_pre_hook(lambda m, a, k: self._enter(p, a, k), with_kwargs=True)
        )
        blocks = list(net.get_submodule(stack.layers).children())
        if stack.tok is not None:
            self._point_on(net.get_submodule(stack.tok), f"{p}.embed.tok", p)
        else:
            self._point_before(blocks[0], f"{p}.embed.tok", p)
        if stack.pos is not None:
            self._point_on(net.get_submodule(stack.pos), f"{p}.embed.pos", p)
        for layer, block in enumerate(blocks):
            attns = [("decoder" if p == "dec" else "encoder", stack.attn_name, stack.self_attn)]
            if stack.cross_attn is not None:
                attns.append(("cross", "cross_attn", stack.cross_attn))
            for kind, name, path in attns:
                module = block.get_submodule(path)
                hook = f"{p}.{layer}.{name}"
                pattern, z = self._new_point(f"{hook}.pattern"), self._new_point(f"{hook}.z")
                object.__setattr__(module, "_behaviorlab_site", _Site(self, p, pattern, z))
                kv = self._kv_heads if kind != "cross" else self._n_heads
                self._sites.append(AttnSite(kind, layer, f"{hook}.pattern", f"{hook}.z", self._n_heads, kv))
                self._point_on(module, f"{hook}.out", p)
            self._point_on(block.get_submodule(stack.mlp), f"{p}.{layer}.mlp.out", p)
            self._point_on(block, f"{p}.{layer}.resid.post", p)
        if stack.final_norm is not None and p == "enc":
            self._point_on(net.get_submodule(stack.final_norm), "enc.out", p)

    def _enter(self, stack: str, args: Any, kwargs: dict[str, Any]) -> None:
        """A pass of one stack begins: its decoding step and the query positions of its hooks."""
        x = kwargs.get("input_ids")
        if x is None:
            x = args[0] if args else kwargs["inputs_embeds"]
        b, t = int(x.shape[0]), int(x.shape[1])
        cache = kwargs.get("cache", kwargs.get("past_key_values"))
        past = int(cache.get_seq_length()) if cache is not None else 0
        step: int | None = None
        if kwargs.get("use_cache"):
            step = 0 if past == 0 else self._step.get(stack, -1) + 1
        self._step[stack] = -1 if step is None else step
        pos = kwargs.get("position_ids")
        positions = pos.expand(b, t) if pos is not None else torch.arange(past, past + t).expand(b, t)
        self.runs[stack] = RunInfo(step, positions)

    def intervention(self) -> Hashable | None:
        """What the attached hooks change, for the text model's prefix cache (lm/prefix.py): () with
        none attached, the hooks' own `key`s when each states one (zeroed heads do), else None — a
        hook that records or edits in ways it cannot name must see the prefix read again."""
        key: list[tuple[str, Hashable]] = []
        for point in self.points:
            for fn in getattr(point, "_fns", ()):
                own = getattr(fn, "key", None)
                if own is None:
                    return None
                key.append((str(point.name), own))
        return tuple(key)

    def uninstall(self) -> None:
        """Remove every PyTorch hook and restore the eager attention implementation."""
        for h in self._handles:
            h.remove()
        self._handles = []
        self.hf.model.set_attn_implementation("eager")
        self.hf.intervention = lambda: ()
        self.hf.__dict__.pop("_behaviorlab_hooked", None)  # hook_hf hooks it afresh

    # --- running --------------------------------------------------------------------------------

    def forward(self, src: Tensor, tgt_in: Tensor) -> Tensor:
        """Teacher-forced logits [B, T, V]; position t predicts y_{t+1}."""
        net, pad = self.hf.model, self.hf.pad_id
        if self.seq2seq:
            enc_ok, dec_ok = src != PAD, tgt_in != PAD
            out = net(
                input_ids=src.masked_fill(~enc_ok, pad),
                attention_mask=enc_ok.long(),
                decoder_input_ids=tgt_in.masked_fill(~dec_ok, pad),
                decoder_attention_mask=dec_ok.long(),
                use_cache=False,
            )
            return out.logits
        s, t = src.shape[1], tgt_in.shape[1]
        offset = s - (src != PAD).sum(1)  # [B] left padding
        idx = torch.arange(s)[None, :] - offset[:, None]
        left = src.gather(1, idx.clamp(min=0)).masked_fill(idx < 0, PAD)
        seq = torch.cat([left, tgt_in[:, 1:]], dim=1)  # [B, S + T - 1]
        valid = seq != PAD
        ctx = self.hf.context_length
        if ctx is not None and int(valid.sum(1).max()) > ctx:
            raise BadInput(f"{self.hf.spec}: {int(valid.sum(1).max())} tokens exceed the context of {ctx}")
        kwargs: dict[str, Any] = {"use_cache": False}
        if self._positions_arg:
            kwargs["position_ids"] = (valid.long().cumsum(1) - 1).clamp(min=0)
        if self._keep_arg:  # the target positions are the last t: the head runs on those only
            kwargs["logits_to_keep"] = t
        logits = net(input_ids=seq.masked_fill(~valid, pad), attention_mask=valid.long(), **kwargs).logits
        return logits[:, -t:]  # [B, T, V]: positions S-1 .. S+T-2

    def stepper(self, src: Tensor, max_new_tokens: int) -> StepFn:
        """Cached decoding through the text model's own stepper (step 0 runs the prompt)."""
        rows = [src[b][src[b] != PAD].tolist() for b in range(src.shape[0])]
        inner = self.hf._seq2seq_stepper(rows) if self.seq2seq else self.hf._causal_stepper(rows)

        def step(prev: Tensor, t: int) -> Tensor:
            if t == 0:  # the prompt (a causal LM) or the decoder start token (seq2seq)
                return inner(None)
            return inner(prev.masked_fill(prev == PAD, self.hf.pad_id))

        return step

    def max_new(self, src: Tensor, max_new_tokens: int) -> int:
        """A causal LM's prompt and continuation share its context."""
        ctx = self.hf.context_length
        if ctx is None or self.seq2seq:
            return max_new_tokens
        room = ctx - int((src != PAD).sum(1).max())
        if room < 1:
            raise BadInput(f"{self.hf.spec}: a prompt of {ctx - room} tokens leaves no room in its context")
        return min(max_new_tokens, room)

    @torch.no_grad()
    def generate(
        self,
        src: Tensor,
        max_new_tokens: int,
        *,
        greedy: bool = True,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
        use_cache: bool = True,
    ) -> Generation:
        """Greedy or sampled cached decoding; every end id counts as eos."""
        n = self.max_new(src, max_new_tokens)
        return decode(
            self.stepper(src, n),
            src.shape[0],
            n,
            bos_id=self.bos_id,
            eos_id=self.eos_id,
            pad_id=PAD,
            device=src.device,
            greedy=greedy,
            temperature=temperature,
            generator=generator,
            is_eos=self.is_eos,
        )

    def is_eos(self, ids: Tensor) -> Tensor:
        """Any of the model's end ids."""
        return torch.isin(ids, self._eos)

    def train(self, mode: bool = True) -> HookedHF:
        """Switch the wrapped network too (it is not a registered submodule)."""
        super().train(mode)
        self.hf.model.train(mode)
        return self

    # --- layout ---------------------------------------------------------------------------------

    def attention_sites(self) -> list[AttnSite]:
        """Every attention module, with its query and key/value head counts."""
        return list(self._sites)

    def views(self, site: AttnSite, pattern: Tensor, src_ok: Tensor, tgt_ok: Tensor) -> dict[str, View]:
        """Causal LM: one stack over [prompt | y] (the prompt's last token predicts y1)."""
        if self.seq2seq:
            return stack_views(site, pattern, src_ok, tgt_ok)
        return joined_views(pattern, src_ok, tgt_ok, -1)

    def display(self, site: AttnSite, views: dict[str, View]) -> Display:
        """Causal LM: the whole text on both axes."""
        if self.seq2seq:
            return own_display(site, views)
        return Display("sequence", views["sequence"], "seq", ("seq",))

    def sequence_tokens(self, src: list[str], tgt: list[str]) -> list[str]:
        """The prompt, then the output (the slot of target position 0 is the prompt's last token)."""
        return list(src) if self.seq2seq else [*src, *tgt[1:]]

    def position_table(self, stack: str) -> Callable[[Tensor], Tensor] | None:
        """An absolute position embedding (GPT-2's), or None (rotary and relative positions)."""
        path = {s.prefix: s.pos for s in self.arch.stacks}.get(stack)
        return None if path is None else self.hf.model.get_submodule(path)

    def d_model(self) -> int:
        """Width of the residual stream."""
        return self._width


def _cfg(cfg: Any, *names: str) -> Any:
    for n in names:
        value = getattr(cfg, n, None)
        if value is not None:
            return value
    raise BadInput(f"model config {type(cfg).__name__} has none of {', '.join(names)}")


def hook_hf(hf: HFModel) -> HookedHF:
    """The white-box view of a loaded model: hooks installed once, on the model itself (so its
    TextModel generations run through them too)."""
    hooked = hf.__dict__.get("_behaviorlab_hooked")
    if hooked is None:
        model_type = str(getattr(hf.model.config, "model_type", "?"))
        hooked = HookedHF(hf, arch_for(model_type, hf.spec))
        hf.__dict__["_behaviorlab_hooked"] = hooked
    return hooked
