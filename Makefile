# gankit: every target creates .venv on a fresh machine and installs what it needs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
GANKIT := $(VENV)/bin/gankit
# torch is pinned here; pyproject.toml accepts torch>=2.4. pip installs the machine's default build
# (PyPI's: CUDA on Linux x86_64, CPU on macOS and Windows) unless TORCH_INDEX names one of
# PyTorch's wheel indexes, e.g. `make demo TORCH_INDEX=https://download.pytorch.org/whl/cpu` for
# the CPU build on Linux. Both are read when .venv is created: remove .venv to choose again.
TORCH  ?= torch==2.13.0
TORCH_INDEX ?=

.PHONY: demo test bench quality course venv clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(if $(TORCH_INDEX),--index-url "$(TORCH_INDEX)" )"$(TORCH)"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

# Train the default DCGAN on real MNIST for a short budget, evaluate it, write the report.
demo: venv
	$(GANKIT) train --config configs/demo.yaml --out runs/demo --overwrite
	$(GANKIT) evaluate runs/demo
	$(GANKIT) report runs/demo

test: venv
	$(PY) -m pytest -q -p no:cacheprovider

# Every family's img/s through the engine vs a plain fp32 loop, and the metric suite's speed.
bench: venv
	$(PY) bench/throughput.py
	$(PY) bench/metrics.py

# Rerun every figure of docs/tutorial.md into docs/figures/ (QUICK=1: small budgets, minutes on a CPU).
course: venv
	$(PY) docs/course.py $(if $(filter 1 yes true,$(QUICK)),--quick)

# Quality per CPU budget (10 minutes a recipe by default: about an hour in all).
quality: venv
	$(PY) bench/quality.py $(QUALITY_ARGS)

clean:
	rm -rf $(VENV) runs
