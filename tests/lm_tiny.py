"""Tiny random transformers models and tokenizers for the text-model adapter tests (no downloads).

- `gpt2_dir`: a GPT-2 causal LM over a word-level tokenizer with a chat template.
- `t5_dir`: a T5 encoder-decoder over a byte-level BPE tokenizer, no chat template.
- `llama_model` + `write_llama_gguf`: a Llama causal LM and the same weights as a GGUF file
  (llama.cpp's tensor names and q/k row order, the tokenizer as `gpt2` BPE metadata).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

import behaviorlab.lm.hf  # noqa: F401  (sets the offline switches before transformers is imported)

SENTENCE = "the cat sat on a mat dog ran to red blue big small and is it"
WORDS = SENTENCE.split()
CHAT = (
    "{% for m in messages %}<user> {{ m['content'] }} {% endfor %}"
    "{% if add_generation_prompt %}<bot>{% endif %}"
)
CORPUS = ["the cat sat on the mat", "a dog ran to the red mat", "it is big and blue", "small cats sat"] * 4


def word_tokenizer(chat: bool) -> Any:
    """Whitespace-split words; <pad>=0, <eos>=1, <unk>=2, <bos>=3, <user>=4, <bot>=5."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<eos>", "<unk>", "<bos>", "<user>", "<bot>"]
    vocab = {w: i for i, w in enumerate(specials + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>", bos_token="<bos>"
    )
    fast.add_special_tokens({"additional_special_tokens": ["<user>", "<bot>"]})
    if chat:
        fast.chat_template = CHAT
    return fast


def bpe_tokenizer(corpus: Sequence[str] = CORPUS, vocab_size: int = 60) -> Any:
    """Byte-level BPE trained on `corpus` (ASCII only, so any id sequence decodes to valid text);
    ids 0, 1, 2 are <pad>, </s>, <unk>."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        corpus,
        trainers.BpeTrainer(
            vocab_size=vocab_size, special_tokens=["<pad>", "</s>", "<unk>"], show_progress=False
        ),
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def gpt2_dir(root: Path, chat: bool = True) -> Path:
    """A 2-layer GPT-2 (d=16) saved with its word-level tokenizer (and chat template when `chat`)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    tok = word_tokenizer(chat)
    config = GPT2Config(
        vocab_size=len(tok),
        n_positions=64,
        n_embd=16,
        n_layer=2,
        n_head=2,
        bos_token_id=3,
        eos_token_id=1,
        pad_token_id=0,
        initializer_range=0.2,
        tie_word_embeddings=False,
    )  # a tied random head mostly repeats the last token
    torch.manual_seed(0)
    out = root / "gpt2-tiny"
    GPT2LMHeadModel(config).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def t5_dir(root: Path) -> Path:
    """A 2+2-layer T5 (d=16) saved with its byte-level BPE tokenizer."""
    from transformers import T5Config, T5ForConditionalGeneration

    tok = bpe_tokenizer()
    config = T5Config(
        vocab_size=len(tok),
        d_model=16,
        d_kv=8,
        d_ff=32,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=2,
        relative_attention_num_buckets=8,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
        initializer_factor=1.0,
    )
    torch.manual_seed(0)
    out = root / "t5-tiny"
    T5ForConditionalGeneration(config).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def llama_model() -> tuple[Any, Any]:
    """A 2-layer Llama (d=32, grouped-query attention) and its byte-level BPE tokenizer."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = bpe_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        max_position_embeddings=64,
        rms_norm_eps=1e-5,
        rope_theta=10000.0,
        tie_word_embeddings=False,
        bos_token_id=None,
        eos_token_id=1,
        pad_token_id=0,
        initializer_range=0.3,
    )
    torch.manual_seed(0)
    return LlamaForCausalLM(config).eval(), tok


def _permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's q/k row order (interleaved rotary halves); transformers undoes it on load."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_llama_gguf(model: Any, tok: Any, file: Path, arch: str = "llama", q8: bool = False) -> Path:
    """The Llama's weights (float32, or Q8_0 matrices when `q8`) and tokenizer as a GGUF file with
    llama.cpp's names."""
    import gguf

    c = model.config
    w = gguf.GGUFWriter(str(file), arch)
    w.add_name("tiny-llama")
    w.add_context_length(c.max_position_embeddings)
    w.add_embedding_length(c.hidden_size)
    w.add_feed_forward_length(c.intermediate_size)
    w.add_block_count(c.num_hidden_layers)
    w.add_head_count(c.num_attention_heads)
    w.add_head_count_kv(c.num_key_value_heads)
    w.add_rope_dimension_count(c.head_dim)
    w.add_rope_freq_base(c.rope_parameters["rope_theta"])
    w.add_layer_norm_rms_eps(c.rms_norm_eps)
    w.add_vocab_size(c.vocab_size)
    vocab = json.loads(tok.backend_tokenizer.to_str())["model"]
    tokens = sorted(vocab["vocab"], key=vocab["vocab"].get)
    merges = [" ".join(m) if isinstance(m, list) else m for m in vocab["merges"]]
    w.add_tokenizer_model("gpt2")
    w.add_token_list(tokens)
    w.add_token_types([3 if t in ("<pad>", "</s>", "<unk>") else 1 for t in tokens])
    w.add_token_merges(merges)
    w.add_eos_token_id(1)
    w.add_pad_token_id(0)
    w.add_add_bos_token(False)
    sd = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    names = {
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight",
    }
    per_layer = {
        "input_layernorm": "attn_norm",
        "self_attn.q_proj": "attn_q",
        "self_attn.k_proj": "attn_k",
        "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output",
        "post_attention_layernorm": "ffn_norm",
        "mlp.gate_proj": "ffn_gate",
        "mlp.up_proj": "ffn_up",
        "mlp.down_proj": "ffn_down",
    }
    for i in range(c.num_hidden_layers):
        for hf, gg in per_layer.items():
            names[f"model.layers.{i}.{hf}.weight"] = f"blk.{i}.{gg}.weight"
    for hf, gg in names.items():
        arr = sd[hf]
        if ".attn_q." in gg:
            arr = _permute(arr, c.num_attention_heads)
        elif ".attn_k." in gg:
            arr = _permute(arr, c.num_key_value_heads)
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if q8 and arr.ndim == 2:
            kind = gguf.GGMLQuantizationType.Q8_0
            w.add_tensor(gg, gguf.quants.quantize(arr, kind), raw_dtype=kind)  # shape from the bytes
        else:
            w.add_tensor(gg, arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return file
