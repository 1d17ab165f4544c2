"""Alias maps: where our hook names sit in a Hugging Face architecture's real modules.

One `Arch` per transformers `model_type`, registered in registry.py (kind `architecture`, so a
plugin can add its own), in the spirit of nnsight's `rename` and TransformerLens's bridge adapters:
a few module paths per stack, nothing re-implemented. A stack's hooks are, with P = "dec" or "enc"
and L the block index:

    P.embed.tok        the residual stream entering block 0 (after any embedding scale), or the
                       token embedding module's output where positions are added apart (GPT-2)
    P.embed.pos        the position embedding module's output (absolute positions only)
    P.L.self_attn.*    (P.L.attn.* in an encoder) pattern [B, H, Tq, Tk], z [B, Tq, H, dh], out
    P.L.cross_attn.*   the decoder's cross-attention (seq2seq)
    P.L.mlp.out        the MLP module's output;  P.L.resid.post  the block's output
    enc.out            the encoder's final norm output;  dec.logits  the model's output logits

Adding an architecture is one `Arch` here and one registry line (CONTRIBUTING.md, "Adding an
architecture"), and a test that its patterns equal transformers' own eager `output_attentions`.
"""

from __future__ import annotations

from dataclasses import dataclass

from behaviorlab import registry
from behaviorlab.errors import BadInput


@dataclass(frozen=True)
class Stack:
    """One stack of blocks: the module a pass enters, the block list and paths inside a block."""

    prefix: str  # "dec" | "enc"
    root: str  # the stack's module (its forward starts a pass: positions and decoding step)
    layers: str  # the ModuleList of blocks
    self_attn: str  # inside a block
    mlp: str  # inside a block
    cross_attn: str | None = None  # inside a decoder block of a seq2seq model
    tok: str | None = None  # a token-embedding module whose output is embed.tok (else block 0's input)
    pos: str | None = None  # an absolute position-embedding module (embed.pos)
    final_norm: str | None = None  # the stack's last norm (its output is `enc.out` for an encoder)

    @property
    def attn_name(self) -> str:
        """Our name for a block's self-attention: `attn` in an encoder, `self_attn` in a decoder."""
        return "attn" if self.prefix == "enc" else "self_attn"


@dataclass(frozen=True)
class Arch:
    """The stacks of one architecture (decoder, and an encoder for seq2seq models)."""

    dec: Stack
    enc: Stack | None = None

    @property
    def stacks(self) -> tuple[Stack, ...]:
        """Encoder (if any), then decoder: the order hook names are listed in."""
        return (self.enc, self.dec) if self.enc is not None else (self.dec,)


# Llama and the families that kept its module names (Mistral, Qwen2/3, Gemma, Gemma2; SmolLM2 is
# a Llama). Sliding windows, soft-capping and grouped-query attention live in the masks and the
# attention function transformers passes in, so they need no entry of their own.
LLAMA_LIKE = Arch(Stack("dec", "model", "model.layers", "self_attn", "mlp"))
GPT2 = Arch(
    Stack("dec", "transformer", "transformer.h", "attn", "mlp", tok="transformer.wte", pos="transformer.wpe")
)
T5 = Arch(
    dec=Stack("dec", "decoder", "decoder.block", "layer.0.SelfAttention", "layer.2.DenseReluDense",
              cross_attn="layer.1.EncDecAttention"),
    enc=Stack("enc", "encoder", "encoder.block", "layer.0.SelfAttention", "layer.1.DenseReluDense",
              final_norm="encoder.final_layer_norm"),
)  # fmt: skip


def arch_for(model_type: str, where: str) -> Arch:
    """The alias map registered for a model_type, or one line saying there is none and how to add it."""
    if model_type not in registry.names("architecture"):
        raise BadInput(
            f"{where}: no hook alias map for model_type {model_type!r} (known: "
            f"{', '.join(sorted(registry.names('architecture')))}); write an Arch for it "
            "(behaviorlab/lm/hf_arch.py) and register it as an architecture in registry.py or a plugin "
            "(CONTRIBUTING.md: adding an architecture)"
        )
    arch = registry.load("architecture", model_type)
    if not isinstance(arch, Arch):
        raise BadInput(f"{where}: architecture {model_type!r} is registered as {arch!r}, not an hf_arch.Arch")
    return arch
