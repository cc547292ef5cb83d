# Two commands for a fresh machine: `make demo` and `make test`. Virtual environments are cached and rebuilt only
# when their requirements file changes.
PYTHON ?= python3
VENV := .venv
VENV_OLDEST := .venv-oldest
PY := $(VENV)/bin/python
DEMO_DIR ?= build/demo

.PHONY: demo test bench lint clean

$(VENV)/.installed: requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $@

$(VENV_OLDEST)/.installed: requirements/oldest.txt
	$(PYTHON) -m venv $(VENV_OLDEST)
	$(VENV_OLDEST)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_OLDEST)/bin/python -m pip install --quiet -r requirements/oldest.txt
	touch $@

venvs: $(VENV)/.installed $(VENV_OLDEST)/.installed

## demo: bake with defaults, build a small checkpoint trained on Python's own docs, load it and generate
demo: $(VENV)/.installed
	$(PY) tools/demo.py --output $(DEMO_DIR)

## test: the whole test suite (template tests, then each baked repo's own suite on the oldest and newest transformers)
test: $(VENV)/.installed $(VENV_OLDEST)/.installed
	OLDEST_PYTHON=$(abspath $(VENV_OLDEST))/bin/python $(PY) -m pytest tests

## bench: speed of the baked model against transformers' LlamaForCausalLM with the same weights
## (BENCH_ARGS go to the baked scripts/bench.py, e.g. BENCH_ARGS=--smoke)
bench: $(VENV)/.installed
	$(PY) tools/bench.py $(BENCH_ARGS)

lint: $(VENV)/.installed
	$(PY) -m ruff check hooks tests tools local_extensions.py

clean:
	rm -rf build $(VENV) $(VENV_OLDEST)
