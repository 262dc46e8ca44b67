# digitalocean-exporter: `make demo` runs it on a built-in sample fleet, `make test` runs the tests.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

DEMO_ADDRESS ?= :9212

.PHONY: venv test lint run demo clean

$(BIN)/digitalocean-exporter: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(BIN)/digitalocean-exporter

test: venv lint
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check exporter tests bench grafana deploy
	$(BIN)/mypy grafana/generate.py
	$(BIN)/mypy deploy/prometheus/generate.py
	$(BIN)/mypy deploy/kubernetes/generate.py
	$(BIN)/mypy

run: venv
	$(BIN)/digitalocean-exporter $(ARGS)

demo: venv
	$(BIN)/digitalocean-exporter --demo --web.listen-address $(DEMO_ADDRESS) $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
