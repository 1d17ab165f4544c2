"""The example plugin: what CONTRIBUTING.md shows, installed and used by tests/integration/test_plugins.py."""

PLUGIN = {
    "task": {"reverse-abc": "behaviorlab_example.task:reverse"},
    "probe": {"same-length": "behaviorlab_example.probe:SameLength"},
}
