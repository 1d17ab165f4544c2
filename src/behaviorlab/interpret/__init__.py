"""Mechanistic analyses of any `models.HookedModel` (our kinds, Hugging Face and GGUF language
models): caching, attention maps, head scores against hypotheses, perturbation during generation,
ablation and activation patching — on a run's task data or on text prompts."""
