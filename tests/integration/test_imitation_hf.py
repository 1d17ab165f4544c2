"""A local Hugging Face causal LM as an imitation student: a tiny random GPT-2 built here, fine-tuned
by the plain PyTorch loop (loss on output tokens only), deterministic, and used inside an experiment."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from behaviorlab.imitation import run_experiment, style, validate
from behaviorlab.imitation.hf_student import IGNORE, _rows, finetune, prompt_text
from behaviorlab.lm import load
from tests.lm_tiny import bpe_tokenizer

pytest.importorskip("transformers")

PAIRS = [
    (f"successor: {x}", style.styled("successor", y))
    for x, y in [("1", "1 0"), ("1 0", "1 1"), ("1 1", "1 0 0")]
]


def tiny_gpt2(root: Path) -> Path:
    """A 1-layer GPT-2 (d=16) over a byte-level BPE tokenizer trained on the synthetic texts."""
    from transformers import GPT2Config, GPT2LMHeadModel

    fast = bpe_tokenizer(
        [t for pair in PAIRS for t in pair] + [style.ABSTAIN, "add: S I + I reverse: a b c"], 300
    )
    config = GPT2Config(
        vocab_size=len(fast),
        n_positions=96,
        n_embd=16,
        n_layer=1,
        n_head=2,
        bos_token_id=1,
        eos_token_id=1,
        pad_token_id=0,
    )
    torch.manual_seed(0)
    out = root / "gpt2-tiny"
    GPT2LMHeadModel(config).save_pretrained(out)
    fast.save_pretrained(out)
    return out


def test_loss_is_on_output_tokens_and_the_fine_tune_is_deterministic(tmp_path: Path) -> None:
    base = tiny_gpt2(tmp_path)
    model = load(f"hf:{base}")
    (ids, labels), *_ = _rows(model.tokenizer, PAIRS)
    n_prompt = len(model.tokenizer(prompt_text(PAIRS[0][0]), add_special_tokens=False)["input_ids"])
    assert labels[:n_prompt] == [IGNORE] * n_prompt and labels[n_prompt:] == ids[n_prompt:]
    assert ids[-1] == model.tokenizer.eos_token_id
    a = finetune(base, PAIRS, tmp_path / "a", steps=60, batch_size=3, lr=1e-2, seed=0)
    b = finetune(base, PAIRS, tmp_path / "b", steps=60, batch_size=3, lr=1e-2, seed=0)
    wa, wb = (load(f"hf:{p}").model.state_dict() for p in (a, b))  # type: ignore[attr-defined]
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    student = load(f"hf:{a}")
    before = model.score([prompt_text(q) for q, _ in PAIRS], [y for _, y in PAIRS])
    after = student.score([prompt_text(q) for q, _ in PAIRS], [y for _, y in PAIRS])
    assert sum(map(sum, after)) > sum(map(sum, before)) + 10  # it learned the teacher's answers
    said = student.generate([prompt_text(PAIRS[2][0])], 20)[0].text
    assert style.skeleton(said) == style.skeleton(PAIRS[2][1])  # the teacher's template, at least


def test_hf_student_inside_an_experiment(tmp_path: Path) -> None:
    from test_imitation import tiny  # type: ignore[import-not-found]

    raw = tiny(sweep__amounts=[8], queries__settings=["local"])
    raw["hf_student"] = {"path": str(tiny_gpt2(tmp_path)), "fit": {"steps": 5, "batch_size": 4, "lr": 1e-3}}
    results = run_experiment(validate(raw, "hf"), tmp_path / "imit", progress=False)
    row = results["rows"][-1]
    assert row["name"] == "hf student" and row["setting"] == "local" and row["amount"] == 8
    assert "same_shortcut" in row["algorithm"] and row["style"]["template"]["n"] == 30
