"""The hardening rules' building blocks: number and name checks, printable text, the pre-flight
arithmetic, the safetensors door, the run-directory lock and link check, the parameter floor."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from behaviorlab.errors import BadInput
from behaviorlab.io import safetensors_header
from behaviorlab.limits import Need, require
from behaviorlab.models import ModelConfig, build_model
from behaviorlab.outdir import check_links, claim_folder
from behaviorlab.rundir import is_locked, lock, unlock
from behaviorlab.validate import check_float, check_int, check_name, check_seed, printable


def test_number_and_name_checks() -> None:
    assert check_seed(2**62) == 2**62
    for bad in (-1, 2**62 + 1, 10**23, True, 1.0):
        with pytest.raises(BadInput):
            check_seed(bad)
    with pytest.raises(BadInput, match="out of range 1..5"):
        check_int("x", 6, 1, 5)
    for bad in (float("nan"), float("inf"), "1"):
        with pytest.raises(BadInput):
            check_float("a", bad)
    with pytest.raises(BadInput, match="out of range 0.0..inf"):
        check_float("a", -1.0, 0.0)
    for bad in ("..", ".", "a/b", "", ".hidden", "x" * 101):
        with pytest.raises(BadInput):
            check_name("split", bad)
    assert check_name("split", "test_ood-2.v1") == "test_ood-2.v1"


def test_printable_escapes_control_characters_only() -> None:
    assert printable("a\x1b[2Jb\x07\r\u202e") == "a\\x1b[2Jb\\x07\\x0d\\u202e"
    assert printable("tab\tnew\nline: é ü 中") == "tab\tnew\nline: é ü 中"


def test_need_arithmetic_and_refusals(tmp_path: Path) -> None:
    a, b = Need(memory=10, disk=5, seconds=2), Need(memory=3, disk=1, seconds=1)
    assert (a + b) == Need(10, 6, 3)
    assert a.times(4, parallel=2) == Need(20, 20, 4)
    require("tiny", Need(memory=1, disk=1, seconds=1), out=tmp_path)
    with pytest.raises(BadInput, match="needs at least .* of memory"):
        require("huge", Need(memory=2**70))
    with pytest.raises(BadInput, match="of disk"):
        require("huge", Need(disk=2**70), out=tmp_path / "new")
    with pytest.raises(BadInput, match="--allow-long"):
        require("slow", Need(seconds=1e12))
    require("slow", Need(seconds=1e12), allow_long=True)


def test_parameter_floor_is_below_the_real_count() -> None:
    for kw in (
        {},
        {"kind": "decoder-only"},
        {"kind": "encoder-only"},
        {"kind": "lstm"},
        {"pos_encoding": "sinusoidal"},
    ):
        cfg = ModelConfig(**kw)  # type: ignore[arg-type]
        model = build_model(cfg, 40, 0, 1, 2)
        real = sum(p.numel() for p in model.parameters()) + sum(b.numel() for b in model.buffers())
        assert 0.6 * real <= sum(cfg.size_estimate(40)) <= real, kw


def test_safetensors_door(tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    save_file({"a": torch.zeros(3, 4), "b": torch.ones(2, dtype=torch.int64), "e": torch.zeros(0)}, path)
    assert set(safetensors_header(path)) == {"a", "b", "e"}
    data = path.read_bytes()
    for broken, why in [
        (data[:-5], "truncated"),
        (data + b"\0" * 8, "header describes"),
        (data[:6], "shorter than"),
        ((10**9).to_bytes(8, "little") + data[8:], "header of"),
        (data[:8] + b"[" + data[9:], "not JSON"),
    ]:
        path.write_bytes(broken)
        with pytest.raises(BadInput, match=why):
            safetensors_header(path)


def test_lock_counts_and_links(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    lock(run)
    lock(run)  # the same process again: counted
    unlock(run)
    assert is_locked(run)
    unlock(run)
    assert not is_locked(run)
    (run / "inside").mkdir()
    (run / "ok").symlink_to(run / "inside")
    assert check_links(run) == run
    (run / "out").symlink_to(tmp_path)
    with pytest.raises(BadInput, match="symbolic link out of"):
        check_links(run)
    os.unlink(run / "out")


def test_claim_folder(tmp_path: Path) -> None:
    mine = tmp_path / "figures"
    mine.mkdir()
    (mine / "a.png").write_bytes(b"mine")
    with pytest.raises(BadInput, match="did not write"):
        claim_folder(mine, "figures")
    assert claim_folder(mine, "figures", owned=True) == mine
    new = tmp_path / "new" / "figures"
    claim_folder(new, "figures")
    (new / "x.png").write_bytes(b"ours")
    assert claim_folder(new, "figures") == new  # made by us: ours from now on


def test_metrics_journal_after_a_kill(tmp_path: Path) -> None:
    from behaviorlab.track import MetricsJournal

    journal = MetricsJournal(tmp_path)
    journal.append([{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.5}])
    with open(journal.path, "a") as f:
        f.write('{"step": 3, "lo')  # the write a kill cut short
    assert [r["step"] for r in journal.rows()] == [1, 2]
    journal.truncate(1)
    assert journal.path.read_text() == '{"loss": 2.0, "step": 1}\n'
    with open(journal.path, "a") as f:
        f.write("[1]\n")
    with pytest.raises(BadInput, match="metrics.jsonl: line 2 is not a metrics row"):
        journal.rows()
    assert len(journal.rows(limit=1)) == 1  # a resume keeps only rows its checkpoint counted
