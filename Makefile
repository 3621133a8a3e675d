# qlat — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv demo test test-slow circuits bench clean

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
	$(VENV)/bin/qlat demo --out demo-output

test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

circuits: $(STAMP)
	$(VENV)/bin/qlat circuits export --dir circuits

# The quick forms of the benchmarks (minutes); each writes benchmarks/results/*.json.
bench: $(STAMP)
	$(PY) benchmarks/bench_gate_counts.py
	$(PY) benchmarks/bench_hmc.py --threads 1
	$(PY) benchmarks/bench_adiabatic_statevector.py --sites 12 16 --quick
	$(PY) benchmarks/bench_topological_freezing.py --quick

clean:
	rm -rf $(VENV) demo-output .pytest_cache
