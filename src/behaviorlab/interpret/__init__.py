"""Mechanistic analyses for encoder-decoders (and the other kinds): caching, attention maps, head
scores against hypotheses, perturbation during generation, ablation and activation patching."""
