"""The Prometheus rules shipped in deploy/prometheus: valid, and their unit tests pass."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import require_tool

PROMETHEUS_DIR = Path(__file__).parent.parent.parent / "deploy" / "prometheus"
RULE_FILES = sorted(p for p in PROMETHEUS_DIR.glob("*.yml") if p.name != "prometheus.yml")
TEST_FILES = sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_tool("promtool"), *map(str, args)], capture_output=True,
                          text=True, check=False, timeout=120)


@pytest.mark.parametrize("rules", RULE_FILES, ids=lambda p: p.name)
def test_promtool_check_rules(rules: Path) -> None:
    result = promtool("check", "rules", rules)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("tests", TEST_FILES, ids=lambda p: p.name)
def test_promtool_test_rules(tests: Path) -> None:
    result = promtool("test", "rules", tests)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_file_has_unit_tests() -> None:
    tested = {
        (PROMETHEUS_DIR / "tests" / name).resolve()
        for path in TEST_FILES
        for name in yaml.safe_load(path.read_text())["rule_files"]
    }
    assert {p.name for p in RULE_FILES} >= {"recording.yml", "alerts.yml", "budgets.yml"}
    assert {p.resolve() for p in RULE_FILES} <= tested


def test_promtool_check_config() -> None:
    """The example Prometheus configuration, and the rule files it loads, are valid."""
    result = promtool("check", "config", PROMETHEUS_DIR / "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 rule files found" in result.stdout + result.stderr


def test_the_example_config_scrapes_the_job_the_alerts_watch() -> None:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    assert config["rule_files"] == ["recording.yml", "alerts.yml", "budgets.yml"]
    job = json.loads((PROMETHEUS_DIR / "thresholds.json").read_text())["thresholds"]["exporter_job"]
    assert [c["job_name"] for c in config["scrape_configs"]] == [job["value"], "node"]
    [exporter] = config["scrape_configs"][0]["static_configs"][0]["targets"]
    # the node job discovers Droplets from that same exporter (tests/e2e/test_discovery.py)
    [discovery] = config["scrape_configs"][1]["http_sd_configs"]
    assert discovery["url"] == f"http://{exporter}/sd/droplets?port=9100"
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
