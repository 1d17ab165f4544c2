"""Black-box probes: behaviours that need only text in and out (plus token log-probs), so the same
probe runs on our transformer, our LSTM and a pretrained LM. `run_probes` writes a probe run."""

from behaviorlab.probes.base import ModelFacts, Probe, ProbeConfig, Recorder, model_facts
from behaviorlab.probes.registry import make, names, parse_names, probe_class
from behaviorlab.probes.suite import run_probes
from behaviorlab.rundir import OUTPUTS

__all__ = [
    "OUTPUTS",
    "ModelFacts",
    "Probe",
    "ProbeConfig",
    "Recorder",
    "make",
    "model_facts",
    "names",
    "parse_names",
    "probe_class",
    "run_probes",
]
