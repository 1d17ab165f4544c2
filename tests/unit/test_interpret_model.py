"""interpret on any model (`--model SPEC` with prompts): the CLI verbs and `behaviorlab.open(SPEC)` on
a tiny random GPT-2 directory and a tiny Llama GGUF built here; `probe --ablate` recorded and
replayed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from safetensors.torch import load_file
from typer.testing import CliRunner

import behaviorlab
from behaviorlab.cli import app as root_app
from behaviorlab.cli.interpret import app

sys.path.insert(0, str(Path(__file__).parents[1]))
from lm_tiny import gpt2_dir, llama_model, write_llama_gguf  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def gpt2(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"hf:{gpt2_dir(tmp_path_factory.mktemp('gpt2'))}"


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("gguf")
    model, tok = llama_model()
    return f"gguf:{write_llama_gguf(model, tok, root / 'tiny.gguf')}"


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEHAVIORLAB_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def _run(*args: str, code: int = 0) -> Any:
    res = runner.invoke(app, [*args, "--format", "json"])
    assert res.exit_code == code, res.output
    return json.loads(res.stdout) if code == 0 else res.output


def test_cache_writes_every_pattern_keyed_by_hook_name(gpt2: str, tmp_path: Path) -> None:
    out = tmp_path / "wb"
    got = _run("cache", "--model", gpt2, "--prompt", "the cat sat on a mat", "--name", "*.pattern",
               "--out", str(out), "--new-tokens", "0")  # fmt: skip
    cache = load_file(str(out / "analysis" / "cache.safetensors"))
    assert (
        set(cache)
        == {"dec.0.self_attn.pattern", "dec.1.self_attn.pattern"}
        == {t["name"] for t in got["tensors"]}
    )
    assert cache["dec.0.self_attn.pattern"].shape == (1, 2, 6, 6)  # [B, H, T, T]: six words
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kind"] == "interpret" and summary["model"] == gpt2


def test_a_glob_matching_nothing_names_the_nearest_hooks(gpt2: str, tmp_path: Path) -> None:
    msg = _run("cache", "--model", gpt2, "--prompt", "the cat", "--name", "dec.1.self_attn.patern",
               "--out", str(tmp_path / "x"), code=2)  # fmt: skip
    assert "dec.1.self_attn.pattern" in msg and msg.startswith("error:")
    assert "no prompts" in _run("ablate", "--model", gpt2, code=2)


def test_heads_on_a_gguf_confirm_the_top_heads_against_random_draws(llama: str, tmp_path: Path) -> None:
    out = tmp_path / "heads"
    got = _run("heads", "--model", llama, "--top", "2", "--random", "3", "--out", str(out))["top"]
    assert {"previous", "duplicate", "induction"} <= set(got)
    a = got["induction"]["ablation"]
    assert len(a["heads"]) == 2 and a["n_random"] == 3 and len(a["random"]) == 3
    lo, hi = a["random_delta_range"]
    assert lo <= a["random_delta_median"] <= hi
    drops = [-r["delta_logprob"] for r in a["random"]]
    at_least = sum(d >= -a["found"]["delta_logprob"] for d in drops)
    assert a["random_at_least"] == at_least and a["p_value"] == (1 + at_least) / 4  # rank p over 3 draws
    assert all(len(r["heads"]) == 2 and set(r["heads"]).isdisjoint(a["heads"]) for r in a["random"])
    scores = json.loads((out / "analysis" / "head_scores.json").read_text())
    assert len({(r["layer"], r["head"]) for r in scores}) == 8  # 2 layers x 4 query heads
    again = _run("heads", "--model", llama, "--top", "2", "--random", "3")["top"]
    assert again == got  # same seed, same numbers
    page = runner.invoke(root_app, ["report", str(out)])
    assert page.exit_code == 0, page.output
    html = (out / "report.html").read_text()
    assert "Heads found and their ablation check" in html and "random heads (3 draws): median" in html
    sent = runner.invoke(root_app, ["export", str(out), "--to", "csv", "--out", str(tmp_path / "csv")])
    assert sent.exit_code == 0, sent.output
    assert {"head_scores", "ablation"} <= {p.stem for p in (tmp_path / "csv").rglob("*.csv")}


def test_ablation_reports_the_answer_logprob_and_accuracy_with_references(gpt2: str, tmp_path: Path) -> None:
    file = tmp_path / "p.jsonl"
    rows = [
        {"prompt": "the cat sat on a", "reference": "mat"},
        {"prompt": "a dog ran to the", "reference": "red"},
    ]
    file.write_text("\n".join(json.dumps(r) for r in rows))
    got = _run("ablate", "--model", gpt2, "--prompts", str(file), "--heads", "dec.0.h1,dec.1.h0")["rows"]
    (row,) = got
    assert row["size"] == 2 and row["tokens"] > 0
    assert row["delta_logprob"] == pytest.approx(row["logprob"] - row["base_logprob"], abs=1e-6)
    assert 0.0 <= row["accuracy"] <= 1.0 and "base_accuracy" in row
    every = runner.invoke(
        app, ["ablate", "--model", gpt2, "--prompts", str(file), "--format", "json"]
    )  # each head and MLP
    assert every.exit_code == 0 and len(json.loads(every.stdout)["rows"]) == 2 * 2 + 2
    assert "ablating" in every.stderr and "6/6 passes" in every.stderr  # the progress bar, on stderr
    text = runner.invoke(app, ["ablate", "--model", gpt2, "--prompts", str(file), "--heads", "dec.0.h1"])
    assert text.exit_code == 0 and "components by change in the answer's log-prob" in text.stdout
    assert "zero" in text.stdout and "nothing written: no --out" in text.stdout  # a table, not JSON
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "x"}\n{"promt": "y"}\n')
    assert f"{bad} line 2" in _run("ablate", "--model", gpt2, "--prompts", str(bad), code=2)


def test_patch_perturb_and_attention_on_prompts(gpt2: str) -> None:
    pair = ["--prompt", "the cat sat on a", "--prompt", "a dog ran to the"]
    rows = _run("patch", "--model", gpt2, *pair, "--new-tokens", "3")["rows"]
    assert len(rows) == 4 and all("recovered" in r for r in rows)  # every head of 2 x 2
    assert "pairs" in _run("patch", "--model", gpt2, "--prompt", "the cat", "--prompt", "a dog ran", code=2)
    ops = {r["op"] for r in _run("perturb", "--model", gpt2, *pair, "--per-input", "6")["summary"]}
    assert ops <= {"insert", "remove", "flip"} and ops
    assert _run("attention", "--model", gpt2, *pair, "--layer", "1")["maps"] == 4  # 2 prompts x 2 heads


def test_open_any_spec_in_a_notebook(gpt2: str) -> None:
    m = behaviorlab.open(gpt2)
    maps = m.attention(["the cat sat"], layers=[0])
    assert maps[0].query_tokens[:3] == ["0:the", "1:cat", "2:sat"] and maps[0].figure().data
    frame = m.head_scores(["the cat sat on the mat the cat"])
    assert {"previous token", "induction"} <= set(frame["hypothesis"])
    assert "dec.0.self_attn.pattern" in m.cache(["the cat"], names=["*.pattern"])


def test_probe_ablate_is_recorded_with_explicit_heads_and_replayed(gpt2: str, tmp_path: Path) -> None:
    out = tmp_path / "probe"
    res = runner.invoke(
        root_app,
        ["probe", "--model", gpt2, "--out", str(out), "--probes", "copying", "-n", "1",
         "--ablate", "top:induction:1"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    config = (out / "config.toml").read_text()
    assert "#ablate=dec." in config and 'ablate = "top:induction:1"' in config
    again = runner.invoke(root_app, ["replay", str(out)])
    assert again.exit_code == 0 and "identical" in again.output
    bad = runner.invoke(
        root_app, ["probe", "--model", gpt2, "--out", str(tmp_path / "b"), "--ablate", "dec.7.h0"]
    )
    assert bad.exit_code == 2 and "no decoder attention at layer 7" in bad.output


def test_explain_model_with_heads_ablated_names_them_in_its_record(gpt2: str) -> None:
    args = ["--task", "binary-successor", "--order", "natural", "--shots", "1", "--n", "8"]
    res = runner.invoke(
        root_app,
        ["explain", "--model", gpt2, *args, "--queries", "8", "--check", "0", "--format", "json",
         "--ablate", "dec.1.h0"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["model"] == f"{gpt2}#ablate=dec.1.h0"
    bad = runner.invoke(root_app, ["explain", "--model", gpt2, *args, "--ablate", "top:nonsense:2"])
    assert bad.exit_code == 2 and "unknown hypothesis" in bad.output
