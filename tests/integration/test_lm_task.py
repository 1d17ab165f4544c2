"""The language-modelling task end to end on a tiny HTML site: corpus → recorded splits → a
decoder-only run logging validation loss and perplexity → bit-identical replay → samples."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import torch
import torch.nn.functional as F

from behaviorlab.cli import main
from behaviorlab.optim import SophiaG
from behaviorlab.rundir import ANALYSIS
from behaviorlab.store import replay
from behaviorlab.tasks.corpus import build_corpus
from behaviorlab.train import train
from behaviorlab.train.config import validate
from behaviorlab.train.run import open_run
from behaviorlab.train.samples import SAMPLES, write_samples

CHUNK = 24
WORDS = [
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "is",
    "that",
    "for",
    "it",
    "as",
    "with",
    "was",
    "on",
    "by",
    "an",
    "be",
    "this",
    "which",
    "or",
    "from",
]


def _site(root: Path, pages: int = 16) -> Path:
    root.mkdir(parents=True)
    for i in range(pages):
        words = [WORDS[(i * 7 + k * k) % len(WORDS)] for k in range(60)]
        (root / f"p{i}.html").write_text(f'<div role="main"><p>Page {i}: {" ".join(words)}.</p></div>')
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("lm")
    build_corpus(base / "corpus", _site(base / "html"), chunk_bytes=CHUNK, validation_fraction=0.25)
    return base / "corpus"


def _raw(corpus: Path, optimizer: str = "adamw") -> dict[str, Any]:
    return {
        "name": f"tiny-lm-{optimizer}",
        "data": {
            "files": {
                "train": str(corpus / "train.parquet"),
                "validation": str(corpus / "validation.parquet"),
            },
            "tokenizer": "bytes",
        },
        "model": {
            "kind": "decoder-only",
            "d_model": 16,
            "n_heads": 2,
            "dec_layers": 1,
            "d_ff": 32,
            "max_len": 32,
        },
        "optim": {"name": optimizer, "lr": 1e-2, "hessian_every": 3},
        "train": {
            "steps": 20,
            "batch_size": 8,
            "warmup": 2,
            "eval_every": 10,
            "eval_examples": 6,
            "checkpoint_every": 10,
            "monitor_split": "validation",
            "monitor": "loss",
        },
    }


def test_lm_run_logs_validation_loss_replays_and_samples(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    summary = train(validate(_raw(corpus), "tiny-lm"), out, progress=False)
    rows = pq.read_table(out / "metrics.parquet").to_pylist()
    assert [r["step"] for r in rows] == [10, 20]
    assert all(r["accuracy"] is None for r in rows)  # monitor = "loss": no greedy decoding
    for r in rows:
        assert r["monitor_perplexity"] == pytest.approx(math.exp(r["monitor_loss"]))
    assert summary["final_monitor_loss"] == rows[-1]["monitor_loss"] < math.log(260)  # beats uniform bytes
    # The logged loss is the per-token mean over the monitor rows, padding excluded: recompute it
    # one example at a time (no padding at all) from the final weights.
    run = open_run(out)
    v = run.task.vocab
    total, count = 0.0, 0
    for e in run.splits["validation"][:6]:
        y = v.encode(e.output) + [v.eos_id]
        with torch.no_grad():
            logits = run.model(torch.tensor([[v.pad_id]]), torch.tensor([[v.bos_id, *y[:-1]]]))[0]
        total += float(F.cross_entropy(logits, torch.tensor(y), reduction="sum"))
        count += len(y)
    assert rows[-1]["monitor_loss"] == pytest.approx(total / count, rel=1e-5)

    report = replay(out)
    assert report.identical, [str(d) for d in report.differences]

    first = write_samples(out, n=2, prompt_chars=6, new_tokens=5)
    again = json.loads((out / ANALYSIS / SAMPLES).read_text())
    assert again == first and len(first) == 2
    assert all(r["prompt"] and len(r["continuation"]) <= 5 for r in first)  # ≤ 1 character per byte
    assert write_samples(out, n=2, prompt_chars=6, new_tokens=5) == first  # seeded sampler


def test_sophia_g_gets_tokens_per_batch_as_bs(corpus: Path, tmp_path: Path, monkeypatch: Any) -> None:
    seen: list[int] = []
    real = SophiaG.step

    def spy(self: SophiaG, closure: Any = None, bs: int = 5120) -> Any:
        seen.append(bs)
        return real(self, closure, bs=bs)

    monkeypatch.setattr(SophiaG, "step", spy)
    raw = _raw(corpus, "sophia-g")
    raw["train"]["steps"] = 6
    train(validate(raw, "tiny-lm"), tmp_path / "run", progress=False)
    # Every chunk is CHUNK bytes of ASCII, plus eos: the official bs = batch_size × block_size.
    assert seen == [8 * (CHUNK + 1)] * 6


def test_cli_builds_the_corpus_and_names_the_package_when_missing(tmp_path: Path, capsys: Any) -> None:
    site = _site(tmp_path / "html")
    with pytest.raises(SystemExit) as ok:
        main(
            [
                "tasks",
                "lm-corpus",
                "--root",
                str(site),
                "--out",
                str(tmp_path / "c"),
                "--validation-fraction",
                "0.25",
            ]
        )
    assert ok.value.code == 0 and (tmp_path / "c" / "train.parquet").is_file()
    with pytest.raises(SystemExit) as bad:
        main(["tasks", "lm-corpus", "--root", str(tmp_path / "none"), "--out", str(tmp_path / "d")])
    err = capsys.readouterr().err.strip().splitlines()
    assert bad.value.code == 2 and len(err) == 1 and "apt-get install python3-doc" in err[0]
