"""interpret: caching, patching, planted head scores, attention maps, every kind runs."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from behaviorlab import tasks
from behaviorlab.interpret._layout import prepare
from behaviorlab.interpret.ablate import Component, ablate, head_components, mlp_components
from behaviorlab.interpret.attention import attention_maps
from behaviorlab.interpret.cache import ActivationCache, run_with_cache
from behaviorlab.interpret.hypotheses import GENERIC, Hypothesis, Sample
from behaviorlab.interpret.patching import make_pairs, patch, patch_generation
from behaviorlab.interpret.scores import head_scores
from behaviorlab.models import ModelConfig, Seq2SeqModel, build_model

KINDS = ["encoder-decoder", "decoder-only", "encoder-only", "lstm"]
TASK = tasks.get("binary-successor", order="reverse")
EXAMPLES = TASK.sample(24, 3, min_size=2, max_size=6)


def tiny(kind: str, **kw: object) -> Seq2SeqModel:
    opts: dict[str, object] = {
        "d_model": 16,
        "n_heads": 2,
        "enc_layers": 1,
        "dec_layers": 2,
        "d_ff": 32,
        "max_len": 24,
        **kw,
    }
    cfg = ModelConfig(kind=kind, **opts)
    v = TASK.vocab
    return build_model(cfg, len(v), v.pad_id, v.bos_id, v.eos_id, seed=0).eval()


@pytest.mark.parametrize("kind", KINDS)
def test_replacing_every_activation_with_its_cached_self_changes_nothing(kind: str) -> None:
    model = tiny(kind)
    p = prepare(model, TASK, EXAMPLES[:6], use_reference=True)
    base, cache = run_with_cache(model, p.src, p.tgt_in)
    assert isinstance(base, torch.Tensor)

    def same(x: torch.Tensor, ctx: object) -> torch.Tensor:
        return cache[ctx.name].clone()  # type: ignore[attr-defined]

    with torch.no_grad(), model.hooks([(n, same) for n in cache]):
        again = model(p.src, p.tgt_in)
    torch.testing.assert_close(again, base, rtol=0, atol=0)


def test_generated_cache_matches_teacher_forced_patterns(tmp_path: object) -> None:
    model = tiny("encoder-decoder")
    p = prepare(model, TASK, EXAMPLES[:1], use_reference=True)
    gen, cache = run_with_cache(model, p.src, generate=True, names=["dec.*.pattern"], max_new_tokens=6)
    tgt_in = torch.cat([torch.tensor([[TASK.vocab.bos_id]]), gen.tokens[:, :-1]], 1)  # type: ignore[union-attr]
    _, tf = run_with_cache(model, p.src, tgt_in, names=["dec.*.pattern"])
    for name in tf:
        torch.testing.assert_close(cache[name], tf[name], rtol=1e-5, atol=1e-6)
    path = tmp_path / "c.safetensors"  # type: ignore[operator]
    cache.save(path)
    assert set(ActivationCache.load(path)) == set(cache)


@pytest.mark.parametrize("kind", KINDS)
def test_patching_the_whole_output_recovers_everything(kind: str) -> None:
    model = tiny(kind)
    pairs = make_pairs(TASK, EXAMPLES)
    assert pairs
    logits = "enc.logits" if kind == "encoder-only" else "dec.logits"
    comps = [Component(logits)] + ([Component("enc.out")] if kind == "encoder-decoder" else [])
    heads = head_components(model)[:2]
    rows = patch(model, TASK, pairs, comps + heads)
    overall = {r["component"]: r["recovered"] for r in rows if r["step"] == -1}
    for c in comps:
        assert overall[c.label] == pytest.approx(1.0, abs=1e-5)
    assert all(not math.isnan(overall[h.label]) for h in heads)


def test_patching_clean_into_itself_during_generation_recovers_all() -> None:
    model = tiny("encoder-decoder")
    pairs = make_pairs(TASK, EXAMPLES)
    rows = patch_generation(model, TASK, pairs, [Component("enc.out")], steps=[0])
    assert rows[0]["n"] == 0 or rows[0]["recovered"] == 1.0


def _plant_previous_token_head(model: Any, scale: float = 3.0) -> None:
    """Decoder layer 0, head 0 attends to the previous position: q_i = e_i, k_j = e_{j+1}."""
    d, dh = model.cfg.d_model, model.cfg.d_head
    with torch.no_grad():
        model.tok_emb.weight.zero_()
        model.decoder.pos.learned.weight.copy_(torch.eye(model.cfg.max_len, d))
        w = model.decoder.blocks[0].attn.qkv.weight  # [3d, d]: q rows, k rows, v rows
        w[: 2 * d].zero_()
        for r in range(dh):
            w[r, r] = scale
            if r >= 1:
                w[d + r, r - 1] = scale


def test_head_scores_find_a_planted_previous_token_head() -> None:
    model = tiny("encoder-decoder", d_model=32)
    _plant_previous_token_head(model)
    p = prepare(model, TASK, EXAMPLES, use_reference=True)
    first = Hypothesis("attends to bos", "decoder", lambda s: [0] * len(s.tgt))
    rows = head_scores(model, p, [*GENERIC, first])
    prev = [r for r in rows if r["hypothesis"] == "previous token (decoder)"]
    assert (prev[0]["kind"], prev[0]["layer"], prev[0]["head"]) == ("decoder", 0, 0)
    assert prev[0]["score"] > 0.9 and prev[0]["score"] > 2.5 * prev[0]["baseline"]
    bos = [r for r in rows if r["hypothesis"] == "attends to bos"]
    assert (bos[0]["layer"], bos[0]["head"]) != (0, 0)  # the planted head ignores bos


def test_attention_maps_align_by_position_and_label_tokens() -> None:
    model = tiny("encoder-decoder")
    p = prepare(model, TASK, EXAMPLES, use_reference=True)
    maps = attention_maps(model, p, group_by="length")  # equal input lengths within a group
    assert {m.kind for m in maps} == {"encoder", "decoder", "cross"}
    for m in maps:
        assert len(m.weights) == len(m.query_tokens) and len(m.weights[0]) == len(m.key_tokens)
        assert len(set(m.key_tokens)) == len(m.key_tokens)
        if m.kind != "decoder":  # every key exists in every member: rows sum to one
            assert abs(sum(m.weights[0]) - 1.0) < 1e-4
    assert maps[0].figure().data[0].type == "heatmap"


def test_averaged_maps_are_labelled_by_position_not_one_examples_tokens() -> None:
    """A map averaged over differently spelled inputs names positions; a token is named only
    where every input has that same token (<bos>, say), never one example's token."""
    model = tiny("encoder-decoder")
    p = prepare(model, TASK, EXAMPLES, use_reference=True)
    (enc,) = [m for m in attention_maps(model, p, kinds=["encoder"]) if m.head == 0]
    assert enc.n == len(EXAMPLES) > 1
    for i, label in enumerate(enc.key_tokens):
        column = {x.input.split()[i] for x in EXAMPLES if i < len(x.input.split())}
        assert label == (f"{i}:{next(iter(column))}" if len(column) == 1 else str(i)), (label, column)
    assert any(":" not in label for label in enc.key_tokens)  # these inputs differ somewhere


@pytest.mark.parametrize("kind", KINDS)
def test_every_analysis_runs_on_every_kind(kind: str) -> None:
    model = tiny(kind)
    p = prepare(model, TASK, EXAMPLES[:8], use_reference=kind == "encoder-only")
    maps = attention_maps(model, p)
    assert maps and all(m.weights for m in maps)
    spaces = {r["space"] for r in head_scores(model, p)}
    assert spaces <= {"encoder", "decoder", "cross"} and spaces
    comps = head_components(model)[:1] + mlp_components(model)[:1]
    if kind == "lstm":
        comps = [Component("dec.rnn.out", unit=0), Component("dec.attn.out")]
    rows = ablate(model, TASK, EXAMPLES[:8], comps, method="mean")
    assert len(rows) == len(comps)


def test_custom_hypothesis_is_a_few_lines() -> None:
    s = Sample(["XO", "O1"], ["<bos>", "X1", "O1"], {})
    h = Hypothesis("attends to first input", "cross", lambda s: [0] * len(s.tgt))
    assert list(h.fn(s)) == [0, 0, 0]
