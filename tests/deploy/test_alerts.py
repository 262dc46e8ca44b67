"""The alerting rules: generated from one place, named and annotated alike, unit-tested both
ways, documented in docs/alerts.md, and reading only metrics the exporter serves."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

import pytest
import yaml

from exporter.simulator import demo_config
from tests.deploy.catalog import PROMETHEUS_DIR, ROOT, alerts_generator, unknown_names
from tests.deploy.promql import metric_names

ALERTS_PATH = PROMETHEUS_DIR / "alerts.yml"
RULES = yaml.safe_load(ALERTS_PATH.read_text())
ALERTS = [rule for group in RULES["groups"] for rule in group["rules"] if "alert" in rule]
NAMES = [alert["alert"] for alert in ALERTS]
RUNBOOK = "https://github.com/digitalocean-exporter/digitalocean-exporter/blob/main/docs/alerts.md#"


def test_alerts_yml_is_what_the_generator_writes() -> None:
    generator = alerts_generator()
    thresholds = generator.load_thresholds()
    assert ALERTS_PATH.read_text() == generator.render_yaml(thresholds), (
        "alerts.yml is stale: run python deploy/prometheus/generate.py"
    )
    # the hand-written YAML reads back as exactly the rules the generator means
    assert generator.rules_data(thresholds) == RULES


def test_names_are_camel_case_with_the_shared_prefix_and_unique() -> None:
    assert len(NAMES) == len(set(NAMES))
    bad = [name for name in NAMES if not re.fullmatch(r"DigitalOcean(?:[A-Z][a-z0-9]*)+", name)]
    assert bad == []


@pytest.mark.parametrize("alert", ALERTS, ids=NAMES)
def test_labels_and_annotations(alert: dict[str, Any]) -> None:
    assert set(alert["labels"]) == {"severity"}
    assert alert["labels"]["severity"] in {"critical", "warning", "info"}
    assert set(alert["annotations"]) == {"summary", "description", "runbook_url"}
    assert all(text.strip() for text in alert["annotations"].values())
    assert alert["annotations"]["runbook_url"] == RUNBOOK + alert["alert"].lower()
    # no threshold placeholder left behind
    assert "[[" not in json.dumps(alert)


def test_runbook_anchors_are_unique() -> None:
    anchors = [alert["annotations"]["runbook_url"].rsplit("#", 1)[1] for alert in ALERTS]
    assert len(anchors) == len(set(anchors))


@pytest.mark.parametrize("alert", ALERTS, ids=NAMES)
def test_alerts_read_only_metrics_the_exporter_serves(alert: dict[str, Any]) -> None:
    # `up` is Prometheus' own; everything else is the exporter's or a shipped recording rule
    assert unknown_names(metric_names(alert["expr"]) - {"up"}) == set()


def test_every_threshold_is_used_and_described() -> None:
    generator = alerts_generator()
    thresholds = generator.load_thresholds()
    used = set()
    for alert in generator.alerts():
        for text in (alert.expr, alert.for_, alert.summary, alert.description, alert.runbook,
                     alert.when):
            used |= generator.placeholders(text)
    assert used == set(thresholds)
    assert all(t.description.strip() for t in thresholds.values())


def test_an_unknown_threshold_is_an_error() -> None:
    generator = alerts_generator()
    with pytest.raises(KeyError):
        generator.render("x > [[no_such_threshold]]", generator.load_thresholds())


def _alert_unit_tests() -> dict[str, dict[str, list[dict[str, Any]]]]:
    """alertname -> {"firing": [exp_alerts...], "silent": [...]} over every promtool test file
    that loads alerts.yml."""
    cases: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: {"firing": [], "silent": []})
    for path in sorted((PROMETHEUS_DIR / "tests").glob("*.yml")):
        suite = yaml.safe_load(path.read_text())
        if "../alerts.yml" not in suite["rule_files"]:
            continue
        for test in suite["tests"]:
            for case in test.get("alert_rule_test") or []:
                expected = case.get("exp_alerts") or []
                cases[case["alertname"]]["firing" if expected else "silent"].append(
                    {"file": path.name, "test": test.get("name"), "exp_alerts": expected})
    return cases


UNIT_TESTS = _alert_unit_tests()


@pytest.mark.parametrize("name", NAMES)
def test_every_alert_has_a_firing_and_a_silent_unit_test(name: str) -> None:
    assert UNIT_TESTS[name]["firing"], f"{name} has no unit test where it fires"
    assert UNIT_TESTS[name]["silent"], f"{name} has no unit test where it does not fire"
    for case in UNIT_TESTS[name]["firing"]:
        for expected in case["exp_alerts"]:
            assert "severity" in expected["exp_labels"], case["test"]
            assert set(expected["exp_annotations"]) == {"summary", "description", "runbook_url"}


def test_unit_tests_name_only_existing_alerts() -> None:
    assert set(UNIT_TESTS) <= set(NAMES)


def test_docs_alerts_md_documents_every_alert_and_threshold() -> None:
    """docs/alerts.md is what `python deploy/prometheus/generate.py` writes: the threshold table,
    the alert list and a runbook under a heading per alert (the runbook_url anchor)."""
    generator = alerts_generator()
    doc = (ROOT / "docs" / "alerts.md").read_text()
    assert doc == generator.alerts_doc(generator.load_thresholds()), (
        "docs/alerts.md is stale: run python deploy/prometheus/generate.py")
    for alert in ALERTS:
        assert f"\n### {alert['alert']}\n" in doc
    for name in generator.load_thresholds():
        assert f"| `{name}` |" in doc


def test_a_failing_collector_is_reported_before_its_data_is_stale() -> None:
    """A failing collector's data turns stale one interval after its first failed poll; the
    Alertmanager inhibition (CollectorFailing mutes DataStale) only helps if CollectorFailing
    fires first, whatever the interval (5 s is the minimum, billing polls hourly)."""
    generator = alerts_generator()
    thresholds = generator.load_thresholds()
    by_name = {alert.name: alert for alert in generator.alerts()}

    def for_seconds(name: str) -> int:
        return int(generator.duration_seconds(generator.render(by_name[name].for_, thresholds)))

    stale_intervals = float(thresholds["data_stale_intervals"].value)
    for interval in (5, 60, 300, 3600, 86400):
        # last success at 0; the first failed poll at one interval (it may take a minute to fail)
        failing_fires = interval + 60 + for_seconds("DigitalOceanCollectorFailing")
        stale_fires = stale_intervals * interval + for_seconds("DigitalOceanDataStale")
        assert failing_fires < stale_fires, interval


def test_the_exporter_target_alerts_watch_the_configured_job() -> None:
    """Down covers a target that fails, Absent a target Prometheus never had (a ServiceMonitor it
    does not select): both on the job of thresholds.json."""
    job = alerts_generator().load_thresholds()["exporter_job"].value
    exprs = {alert["alert"]: alert["expr"] for alert in ALERTS}
    assert exprs["DigitalOceanExporterDown"] == f'up{{job="{job}"}} == 0'
    assert exprs["DigitalOceanExporterAbsent"] == f'absent(up{{job="{job}"}})'


@pytest.mark.parametrize(("name", "severity"), [
    # monitoring of one account is blind; nothing in it broke: act soon, do not page
    ("DigitalOceanTokenInvalid", "warning"),
    ("DigitalOceanExporterAbsent", "critical"),
    ("DigitalOceanExporterDown", "critical"),
])
def test_severity(name: str, severity: str) -> None:
    assert {a["alert"]: a["labels"]["severity"] for a in ALERTS}[name] == severity


def test_the_demo_has_a_token_that_expires_within_the_warning() -> None:
    """The demo shows the token-expiry panel and DigitalOceanTokenExpiringSoon: one of its tokens
    expires within token_expiry_warning of the demo's start (scenarios/demo.yml)."""
    generator = alerts_generator()
    warning = generator.duration_seconds(generator.load_thresholds()["token_expiry_warning"].value)
    expiring = {(account.name, token.expires_in_seconds) for account in demo_config().accounts
                for token in account.tokens if token.expires_in_seconds is not None}
    assert expiring == {("staging", 10 * 86400)}
    assert warning > 10 * 86400
