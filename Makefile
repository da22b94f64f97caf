# gankit: every target creates .venv on a fresh machine and installs what it needs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
GANKIT := $(VENV)/bin/gankit
# torch is pinned here (the CPU wheel); pyproject.toml accepts torch>=2.4.
TORCH  ?= torch==2.13.0

.PHONY: demo test bench course venv clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

# Train the default DCGAN on real MNIST for a short budget, evaluate it, write the report.
demo: venv
	$(GANKIT) train --config configs/demo.yaml --out runs/demo
	$(GANKIT) evaluate runs/demo
	$(GANKIT) report runs/demo

test: venv
	$(PY) -m pytest -q -p no:cacheprovider

bench: venv
	$(PY) bench/throughput.py

clean:
	rm -rf $(VENV) runs
