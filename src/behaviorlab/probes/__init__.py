"""Black-box probes: behaviours that need only text in and out (plus token log-probs), so the same
probe runs on our transformer, our LSTM and a pretrained LM. `run_probes` writes a probe run.

What a probe of your own needs (a plugin's probe too) is exported here: `Probe`, `ProbeConfig`,
`Item`, `rng_for`, `indices` and `tally` (shares through stats.py), `behavior_score`."""

from behaviorlab.probes.base import (
    Item,
    ModelFacts,
    Probe,
    ProbeConfig,
    Recorder,
    behavior_score,
    indices,
    model_facts,
    rng_for,
    tally,
)
from behaviorlab.probes.registry import make, names, parse_names, probe_class
from behaviorlab.probes.suite import run_probes
from behaviorlab.rundir import OUTPUTS

__all__ = [
    "OUTPUTS",
    "Item",
    "ModelFacts",
    "Probe",
    "ProbeConfig",
    "Recorder",
    "behavior_score",
    "indices",
    "make",
    "model_facts",
    "names",
    "parse_names",
    "probe_class",
    "rng_for",
    "run_probes",
    "tally",
]
