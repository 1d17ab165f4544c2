"""The registry: built-ins listed and imported lazily; plugins through entry points, each problem
(a name taken twice, a plugin that does not import, a malformed entry) one line naming the plugin."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from behaviorlab import registry
from behaviorlab.cli import main
from behaviorlab.errors import BadInput


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[EntryPoint]]:
    """Entry points the registry sees (each test appends its own); modules go in tmp_path."""
    found: list[EntryPoint] = []
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "entry_points", lambda group: [e for e in found if e.group == group])
    registry.reset()
    yield found
    registry.reset()


def _module(tmp: Path, name: str, text: str) -> None:
    (tmp / f"{name}.py").write_text(text)


def test_builtins_in_order_and_imported_only_when_used() -> None:
    assert registry.names("task") == ["peano-add", "binary-successor", "tree-preorder", "tree-inorder"]
    assert registry.names("probe") == ["copying", "repetition", "noise", "icl", "consistency"]
    assert set(registry.names("adapter")) == {"run", "hf", "gguf", "llama"} and registry.names("alias") == [
        "smollm2"
    ]
    assert set(registry.names("sink")) >= {"tensorboard", "mlflow"}
    code = (
        "from behaviorlab import registry; registry.names('probe'); import sys; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # listing names imports no probe (and so no torch)
    with pytest.raises(BadInput, match="unknown probe 'nope'; expected one of copying, repetition"):
        registry.load("probe", "nope")


def test_a_plugin_adds_names_after_the_builtins(plugins: list[EntryPoint], tmp_path: Path) -> None:
    _module(tmp_path, "goodplug", 'PLUGIN = {"task": {"my-task": "goodplug_impl:Thing"}}\n')
    _module(tmp_path, "goodplug_impl", "Thing = 42\n")
    plugins.append(EntryPoint("good", "goodplug:PLUGIN", registry.GROUP))
    assert registry.names("task")[-1] == "my-task" and registry.load("task", "my-task") == 42
    assert registry.entries("task")["my-task"].source.startswith("plugin good")


def test_a_name_taken_twice_is_one_line(plugins: list[EntryPoint], tmp_path: Path) -> None:
    _module(tmp_path, "dupplug", 'PLUGIN = {"probe": {"noise": "dupplug:X"}}\nX = 1\n')
    plugins.append(EntryPoint("dup", "dupplug:PLUGIN", registry.GROUP))
    with pytest.raises(BadInput, match="plugin dup .*probe 'noise' is already registered by behaviorlab"):
        registry.names("probe")


def test_broken_and_malformed_plugins_are_named(plugins: list[EntryPoint], tmp_path: Path) -> None:
    _module(tmp_path, "brokenplug", "import not_a_module_anywhere\n")
    plugins.append(EntryPoint("broken", "brokenplug:PLUGIN", registry.GROUP))
    with pytest.raises(BadInput, match="entry point broken .*cannot be loaded: ModuleNotFoundError"):
        registry.names("task")
    plugins.clear()
    for value, problem in (
        ('PLUGIN = ["task"]', "expected a dict"),
        ('PLUGIN = {"gadget": {}}', "unknown kind 'gadget'"),
        ('PLUGIN = {"task": {"x": "no-colon"}}', "expected a 'module:object' string"),
        ('PLUGIN = {"probe": {"../up": "m:P"}}', "probe name '../up' is not a plain name"),
    ):
        _module(tmp_path, "badplug", value + "\n")
        sys.modules.pop("badplug", None)
        plugins[:] = [EntryPoint("bad", "badplug:PLUGIN", registry.GROUP)]
        registry.reset()
        with pytest.raises(BadInput, match=problem):
            registry.names("task")


def test_an_entry_that_does_not_import_names_its_plugin(plugins: list[EntryPoint], tmp_path: Path) -> None:
    _module(tmp_path, "lazyplug", 'PLUGIN = {"sink": {"mine": "lazyplug_missing:Sink"}}\n')
    plugins.append(EntryPoint("lazy", "lazyplug:PLUGIN", registry.GROUP))
    assert "mine" in registry.names("sink")  # listing does not import it
    with pytest.raises(
        BadInput, match=r"results sink 'mine' \(plugin lazy .*cannot import lazyplug_missing:Sink"
    ):
        registry.load("sink", "mine")


def test_plugins_off(plugins: list[EntryPoint], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _module(tmp_path, "brokenplug2", "raise RuntimeError('boom')\n")
    plugins.append(EntryPoint("broken", "brokenplug2:PLUGIN", registry.GROUP))
    monkeypatch.setenv("BEHAVIORLAB_PLUGINS", "0")
    assert registry.names("task")[:1] == ["peano-add"]  # the broken plugin is never read


def test_the_cli_says_a_broken_plugin_in_one_line(
    plugins: list[EntryPoint], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _module(tmp_path, "brokenplug3", "raise RuntimeError('boom')\n")
    plugins.append(EntryPoint("broken", "brokenplug3:PLUGIN", registry.GROUP))
    with pytest.raises(SystemExit) as stop:
        main(["tasks", "list"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1
    assert err.startswith("error: ") and "broken" in err and "RuntimeError: boom" in err
