"""interpret: perturbation during generation — batched equals looped; past-the-end does nothing."""

from __future__ import annotations

import pytest

from behaviorlab import tasks
from behaviorlab.batching import encode_sources
from behaviorlab.interpret.edits import Perturbation, originals_of, random_perturbations
from behaviorlab.interpret.hypotheses import STUDY
from behaviorlab.interpret.perturb import perturb, perturb_looped, summarize
from behaviorlab.models import ModelConfig, Seq2SeqModel, build_model

TASK = tasks.get("binary-successor", order="reverse")
EXAMPLES = TASK.sample(8, 5, min_size=2, max_size=6)
KEYS = ("input", "perturbation", "original", "output", "changed", "follows_edit")


def tiny(kind: str) -> Seq2SeqModel:
    cfg = ModelConfig(kind=kind, d_model=16, n_heads=2, enc_layers=1, dec_layers=2, d_ff=32, max_len=32)
    v = TASK.vocab
    return build_model(cfg, len(v), v.pad_id, v.bos_id, v.eos_id, seed=1).eval()


def _perts(model: Seq2SeqModel, pos: bool) -> list[list[Perturbation]]:
    g = originals_of(model, encode_sources(TASK.vocab, [e.input for e in EXAMPLES]), 12, 64)
    perts = random_perturbations(TASK, g, 3, seed=0)
    for ps in perts:
        ps.append(Perturbation("flip", 2, "X1", keep=1))
        if pos:
            ps += [Perturbation("pos_swap", 1, other=3), Perturbation("pos_replace", 2, other=0)]
    return perts


@pytest.mark.parametrize("kind", ["encoder-decoder", "decoder-only", "lstm"])
def test_batched_equals_looped(kind: str) -> None:
    model = tiny(kind)
    perts = _perts(model, pos=kind != "lstm")
    batched = perturb(model, TASK, EXAMPLES, perts, batch_size=7)  # chunks cut across inputs
    looped = perturb_looped(model, TASK, EXAMPLES, perts)
    assert [{k: r[k] for k in KEYS} for r in batched] == [{k: r[k] for k in KEYS} for r in looped]
    assert len(batched) == sum(len(p) for p in perts)


@pytest.mark.parametrize("kind", ["encoder-decoder", "decoder-only", "lstm"])
def test_perturbing_after_the_last_generated_token_does_nothing(kind: str) -> None:
    model = tiny(kind)
    late = [Perturbation("flip", 40, "X1"), Perturbation("insert", 40, "XO"), Perturbation("remove", 40)]
    rows = perturb(model, TASK, EXAMPLES, late)
    assert rows and all(not r["changed"] and r["output"] == r["original"] for r in rows)


def test_edits_show_up_and_heads_are_watched() -> None:
    model = tiny("encoder-decoder")
    rows = perturb(
        model,
        TASK,
        EXAMPLES,
        [Perturbation("flip", 0, "X1"), Perturbation("remove", 0)],
        heads=[("decoder", 1, 0)],
        hypothesis=STUDY[2],
    )
    flips = [r for r in rows if r["op"] == "flip" and not r["original"].startswith("X1")]
    assert flips and all(r["output"].startswith("X1") for r in flips)
    assert "decoder.1.0:after" in rows[0]
    ops = {s["op"] for s in summarize(rows)}
    assert ops == {"flip", "remove"}


def test_position_swap_with_itself_changes_nothing() -> None:
    model = tiny("encoder-decoder")
    rows = perturb(model, TASK, EXAMPLES, [Perturbation("pos_swap", 2, other=2)])
    assert all(not r["changed"] for r in rows)
    enc = perturb(model, TASK, EXAMPLES, [Perturbation("pos_replace", 0, other=3, stack="enc")])
    assert len(enc) == len(EXAMPLES)
