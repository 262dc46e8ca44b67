# digitalocean-exporter: `make demo` runs it on a built-in sample fleet, `make test` runs the tests,
# `make scopes` regenerates the scope table (exporter/data/scopes.json) from the vendored API spec,
# `make screenshot` the status page's picture (docs/status-page.png; needs chromium).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

DEMO_ADDRESS ?= :9212

.PHONY: venv test lint run demo scopes screenshot clean

$(BIN)/digitalocean-exporter: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(BIN)/digitalocean-exporter

test: venv lint
	$(BIN)/pytest

lint: venv
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
