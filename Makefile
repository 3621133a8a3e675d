# qlat — two commands on a fresh machine: `make demo` and `make test`.
# Any Python >= 3.11 (3.11 first: this machine's CPU torch wheel is built for it).
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& echo $$p && break; done)
ifeq ($(strip $(PYTHON)),)
$(error qlat needs Python >= 3.11: set PYTHON=/path/to/python3.11)
endif
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv demo test test-fast test-slow lint circuits bench calibrate mutants docs clean

# torch is pinned to the CPU build that lies on this machine's disk; an unpinned
# torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/qlat demo --out demo-output --seed 2001

# Small dense eigh/eigsh dominate parts of the suite; two BLAS threads on a shared 2-core machine
# slow them down, so the tests run with one (benchmarks set their own threads).
THREADS_ENV := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

# `make test` = lint (ruff + mypy on qlat/) + the fast suite; CI runs exactly this.
test: lint test-fast

test-fast: $(STAMP)
	$(THREADS_ENV) $(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check qlat tests benchmarks examples tools
	$(VENV)/bin/mypy

test-slow: $(STAMP)
	$(THREADS_ENV) $(PY) -m pytest -q -m slow

circuits: $(STAMP)
	$(VENV)/bin/qlat circuits export --out circuits

# The documentation site, docs/_build/html: the API reference from the docstrings and the tutorials
# (docs/tutorials, executed as notebooks); any Sphinx warning, failing cell or failed physics check
# fails it.  Then every docs test, the slow ones too: each code block of the README and docs/ runs
# and prints what the page shows, and each tutorial runs again under pytest.
DOCS_STAMP := $(VENV)/.installed-docs
$(DOCS_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(THREADS_ENV) $(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html
	$(THREADS_ENV) $(PY) -m pytest -q tests/docs -m "slow or not slow"

# Calibration of every estimator's error bar (coverage and tightness against exact answers), the
# recorded run at --size full (hours): benchmarks/results/calibration.json and calibration.png.
# (qlat calibrate --out DIR writes DIR/calibration.json and .png at every size; the recorded quick
# runs are calibration_quick*.json, see docs/cli.md.)
calibrate: $(STAMP)
	$(THREADS_ENV) $(VENV)/bin/qlat calibrate --size full --seed 0 --out benchmarks/results --no-progress

# Deliberate bugs that the fast suite must catch (tools/mutants/*.toml); each must turn its tests red.
mutants: $(STAMP)
	$(PY) tools/mutants/run.py

# The quick forms of the benchmarks (minutes); each writes benchmarks/results/*.json.
bench: $(STAMP)
	$(PY) benchmarks/bench_gate_counts.py
	$(PY) benchmarks/bench_hmc.py --threads 1
	$(PY) benchmarks/bench_adiabatic_statevector.py --sites 12 16 --quick
	$(PY) benchmarks/bench_topological_freezing.py --quick

clean:
	rm -rf $(VENV) demo-output .pytest_cache docs/_build docs/api/generated docs/jupyter_execute
