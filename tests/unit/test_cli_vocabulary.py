"""One command-line vocabulary (CONTRIBUTING.md, "The command-line vocabulary"): every command's
visible flags are checked against it, and its help states every default and loses no text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from behaviorlab import registry
from behaviorlab.cli import app

COMMAND = typer.main.get_command(app)
# Old spellings kept only as hidden, deprecated aliases.
RETIRED = {"--limit", "--json", "--keep", "--failures", "--count", "--num", "--output", "--output-dir"}
# Options that name how many items a command works on: always -n/--n.
COUNT_NAMES = {"n", "limit", "count", "num", "failures"}


def commands(cmd: Any = COMMAND, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, click command) for every leaf command."""
    subs = getattr(cmd, "commands", None)
    if subs:
        for name, sub in subs.items():
            yield from commands(sub, (*path, name))
    else:
        yield path, cmd


def options(cmd: Any) -> list[Any]:
    return [p for p in cmd.params if getattr(p, "param_type_name", "") == "option" and p.name != "help"]


ALL = list(commands())


def test_every_command_is_checked() -> None:
    names = {" ".join(p) for p, _ in ALL}
    assert {
        "probe",
        "explain",
        "interpret patch",
        "runs list",
        "runs query",
        "replay",
        "tasks sample",
    } <= names
    assert len(ALL) >= 25


@pytest.mark.parametrize("path,cmd", ALL, ids=[" ".join(p) for p, _ in ALL])
def test_flags_follow_the_vocabulary(path: tuple[str, ...], cmd: Any) -> None:
    for p in options(cmd):
        spelled = set(p.opts) | set(p.secondary_opts)
        if p.hidden:  # a deprecated alias: its old spelling only, its help names the new one
            assert p.help and p.help.startswith("Deprecated: "), (path, p.opts)
            continue
        assert not spelled & RETIRED, f"{' '.join(path)}: {spelled & RETIRED} (a retired spelling)"
        assert p.help, f"{' '.join(path)} {p.opts}: no help text"
        if p.name in COUNT_NAMES:
            assert sorted(p.opts) == ["--n", "-n"], f"{' '.join(path)}: a count is -n/--n, not {p.opts}"
        if p.name in ("fmt", "format"):
            assert p.opts == ["--format"], (path, p.opts)
        if p.name in ("out", "output"):
            assert p.opts == ["--out"], (path, p.opts)
        if p.default is None and not p.is_flag and not p.required:
            # No default shown by the help: the text says what happens without the option.
            words = ("default", "required", "instead")
            assert any(w in p.help for w in words), f"{' '.join(path)} {p.opts}: help states no default"


def test_output_format_is_text_or_json_where_a_command_reports() -> None:
    reporting = {" ".join(p): c for p, c in ALL}
    for name in (
        "explain",
        "runs list",
        "runs show",
        "runs query",
        "replay",
        "interpret heads",
        "interpret patch",
    ):
        (fmt,) = [p for p in options(reporting[name]) if p.name in ("fmt", "format")]
        assert fmt.default == "text" and "json" in fmt.help, name


def test_help_shows_its_text_whole_and_names_every_model_alias() -> None:
    runner = CliRunner()
    for path, _ in ALL:
        got = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100"})
        assert got.exit_code == 0, (path, got.output)
    sweep = runner.invoke(app, ["sweep", "--help"], env={"COLUMNS": "100"}).output
    assert "[grid] / [[list]]" in sweep  # console markup used to eat the brackets
    aliases = set(registry.BUILTIN["alias"])
    for name in ("probe", "explain"):
        text = runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"}).output
        assert all(a in text for a in aliases), (name, aliases)
    top = runner.invoke(app, ["--help"], env={"COLUMNS": "120"}).output
    assert "..." not in top.split("Commands:")[1].split("From Python")[0]  # no one-line help cut
    assert "behaviorlab.open(RUN_DIR)" in top and "-n/--n" in top and "--format text|json" in top


def test_retired_spellings_still_work_and_say_the_new_one(tmp_path: Path) -> None:
    from behaviorlab.cli import main
    from behaviorlab.store.catalog import connect

    catalog = tmp_path / "catalog.sqlite"
    connect(catalog).close()  # an empty catalog
    runner = CliRunner()
    old = runner.invoke(app, ["runs", "list", "--catalog", str(catalog), "--json"])
    new = runner.invoke(app, ["runs", "list", "--catalog", str(catalog), "--format", "json"])
    assert old.exit_code == new.exit_code == 0 and json.loads(new.stdout) == json.loads(old.stdout) == []
    assert "warning: --json is deprecated; use --format json" in old.stderr
    old = runner.invoke(app, ["runs", "query", "select 1 as x", "--catalog", str(catalog), "--limit", "1"])
    assert old.exit_code == 0 and "warning: --limit is deprecated; use -n" in old.stderr
    with pytest.raises(SystemExit) as bad:
        main(["runs", "list", "--catalog", str(catalog), "--format", "yaml"])
    assert bad.value.code == 2


def test_runs_list_never_cuts_a_name_short(tmp_path: Path) -> None:
    """Five runs whose names differ only at the end read "binary-successor…" in an 80-column
    terminal before: the name column is never cut; --wide adds the digest and path."""
    from test_report_data import make_run

    from behaviorlab.store import record

    catalog = tmp_path / "catalog.sqlite"
    names = [f"binary-successor-natural-lr0.003-learned-seed{s}" for s in range(5)]
    for name in names:
        record(make_run(tmp_path / name, name=name), catalog)
    runner = CliRunner()
    out = runner.invoke(app, ["runs", "list", "--catalog", str(catalog)], env={"COLUMNS": "80"}).stdout
    assert all(any(name in line for line in out.splitlines()) for name in names), out
    assert "…" not in out
    wide = runner.invoke(app, ["runs", "list", "--catalog", str(catalog), "--wide"], env={"COLUMNS": "200"})
    assert "config_digest" in wide.stdout and " path " in wide.stdout
