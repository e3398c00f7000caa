# Each target sets up what it needs: a .venv with the package installed (editable) and its extras.
SHELL := /bin/bash
export OMP_WAIT_POLICY ?= PASSIVE
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR ?= data/demo
LAB_PORT ?= 8888
LAB_IP ?= 127.0.0.1

.PHONY: setup demo test test-fast bench lint lab notebooks sysdeps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,lab]'
	touch $(STAMP)

setup: $(STAMP)

## simulate the demo data (if missing) and run the monthly job on it
demo: setup
	$(VENV)/bin/cvm demo --data $(DEMO_DIR)

## system packages the browser test needs (Debian chromium + CJK fonts); no-op when present
sysdeps:
	@bash scripts/install-sysdeps.sh

## every test, slow end-to-end ones included
test: setup sysdeps
	$(VENV)/bin/pytest -n 2 --dist loadgroup -q

test-fast: setup
	$(VENV)/bin/pytest -n 2 -q -m "not slow"

## benchmark scripts; they rewrite docs/benchmarks.md
bench: setup
	$(PY) benchmarks/run_all.py

## static checks, one line per tool: ruff lint, ruff format, mypy (config in pyproject.toml)
LINT_PATHS := src tests benchmarks notebooks scripts
lint: setup
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	@mkdir -p build/typecheck && ln -sfn ../../src build/typecheck/cvm
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

## JupyterLab on notebooks/ with the `cvm` kernel (headless: open the URL it prints);
## notebooks opened there write to reports/scratch/, never to a published month
lab: setup
	$(PY) -m ipykernel install --sys-prefix --name cvm --display-name "Python (cvm)" >/dev/null
	@echo "kernel 'cvm' registered; JupyterLab at http://$(LAB_IP):$(LAB_PORT)/lab (the token URL follows)"
	CVM_HOME="$(CURDIR)" $(VENV)/bin/jupyter lab --no-browser --ip=$(LAB_IP) --port=$(LAB_PORT) \
		--ServerApp.root_dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

## after editing a notebook: bring each .py source and its .ipynb in step (outputs stay out)
notebooks: setup
	$(VENV)/bin/jupytext --sync notebooks/*.py
	$(VENV)/bin/jupyter nbconvert --clear-output --inplace --log-level=WARN notebooks/*.ipynb

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info src/*.egg-info
