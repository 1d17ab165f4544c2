# Two commands: `make demo` (set up + run the main job) and `make test` (set up + run the tests).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BL     := $(VENV)/bin/behaviorlab
OUT    ?= runs/demo

.PHONY: setup demo test check test-slow bench clean

setup: $(VENV)/.installed

# torch is pinned here (a local CPU build on this workplace); pyproject keeps a range for users.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

demo: setup
	$(BL) demo --out $(OUT) --force

check: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy src

test: check
	$(VENV)/bin/pytest -q

test-slow: setup
	$(VENV)/bin/pytest -q -m slow

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
