"""End to end: the dashboards and alerts against a real Prometheus scraping the real exporter.

The exporter runs as a subprocess against the simulator with the `--demo` fleet; Prometheus
(Debian's package) scrapes it every second with recording.yml, alerts.yml, the shipped
budgets.yml and a test budget loaded. Every query of every dashboard must return data, and
exactly the alerts the demo fleet is built to trigger must be pending or firing.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from exporter.simulator import Simulator, demo_config
from exporter.simulator.kinds.monitoring import monitoring_plan
from tests.conftest import ExporterProcess, write_config, write_token
from tests.e2e.conftest import Prometheus

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).parent.parent.parent
RULES = ROOT / "deploy" / "prometheus"
DASHBOARDS = sorted((ROOT / "grafana" / "dashboards").glob("*.json"))
# What Grafana puts in place of its variables; All of a multi-value variable is its allValue.
# A 30-day range: on the demo, staging has a snapshot taken 25 days before the simulator starts
# (the demo's newest object), so "created in the time range" has a row. `$__range_s` before
# `$__range`, which is its prefix. All of job and instance is the list of the values found.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range_s": str(30 * 86400), "$__range": "30d",
                     "$account": ".*", "$region": ".*", "$job": "digitalocean", "$instance": ".+",
                     "$tag": ".*", "$droplet": ".*"}

# Budgets for the test: production's forecast (a full month of its fleet, thousands of dollars)
# is over 1,000 on any day; staging's never reaches a billion.
TEST_BUDGETS = """\
groups:
  - name: test-budgets
    rules:
      - record: digitalocean:month_budget_usd
        expr: vector(1000)
        labels: {account: production}
      - record: digitalocean:month_budget_usd
        expr: vector(1000000000)
        labels: {account: staging}
"""

# What the demo fleet is built to trigger (exporter/simulator/scenarios/demo.yml): production
# holds one of each broken or wasteful thing, staging only a Droplet that is off, an unattached
# volume and a token that expires soon.
PRODUCTION_PROBLEMS = {
    "DigitalOceanDropletOff",
    "DigitalOceanVolumeUnattached",
    "DigitalOceanReservedIPUnassigned",
    "DigitalOceanSnapshotOld",
    "DigitalOceanLoadBalancerErrored",
    "DigitalOceanNatGatewayUnhealthy",
    "DigitalOceanByoipPrefixNotAdvertised",
    "DigitalOceanKubernetesClusterUnhealthy",
    "DigitalOceanKubernetesNodePoolBelowMinimum",
    "DigitalOceanDatabaseNotOnline",
    "DigitalOceanAppDeploymentFailed",
    "DigitalOceanCertificateExpiringSoon",
    "DigitalOceanUptimeCheckDown",
    "DigitalOceanRegistryStorageNearlyFull",
    "DigitalOceanAutoscalePoolMemberUnhealthy",
    "DigitalOceanGenAIAgentDeploymentFailed",
    "DigitalOceanKubernetesClusterLintErrors",
    # 3 reserved IPs against the simulator's limit of 3
    "DigitalOceanAccountLimitNearlyReached",
    # the Monitoring API stories (kinds/monitoring.py), watched by production's own
    # `collectors:` below: a busy Droplet (the stack waits for two polls of its CPU counters),
    # a backend failing its health checks, a disk filling up, a Droplet sending more than the
    # account's transfer pool
    "DigitalOceanDropletCPUSaturated",
    "DigitalOceanLoadBalancerBackendUnhealthy",
    "DigitalOceanDropletDiskFullSoon",
    "DigitalOceanTransferOverageForecast",
}
# staging's token expires 10 days after the demo starts (scenarios/demo.yml): the token-expiry
# panel has data and DigitalOceanTokenExpiringSoon fires.
STAGING_PROBLEMS = {"DigitalOceanDropletOff", "DigitalOceanVolumeUnattached",
                    "DigitalOceanTokenExpiringSoon"}


def watching(simulator: Simulator, account: str) -> list[str]:
    """An account's own `collectors:` watching its Monitoring API stories, as a user would
    select them (by id), or nothing when its fleet has none."""
    plan = monitoring_plan(simulator.fleet(account).resources)
    droplets = [d for d in (plan.busy, plan.heavy, plan.filling, plan.unhealthy_droplet) if d]
    if not droplets:
        return []
    return [
        "    collectors:",
        f"      droplet_metrics: {{enabled: true, interval: 30s, filter: {{id: {droplets}}}}}",
        f"      load_balancer_metrics: {{enabled: true, filter: {{id: [{plan.failing_load_balancer}]}}}}",
        "      app_metrics: {enabled: true}",
        "      autoscale_metrics: {enabled: true}",
    ]


@dataclass
class Stack:
    simulator: Simulator
    exporter: ExporterProcess
    prometheus: Prometheus


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("dashboards-and-alerts")
    with Simulator(demo_config()) as simulator:
        lines = ["accounts:"]
        for account in simulator.config.accounts:
            token_file = write_token(workdir, account.name, account.tokens[0].token)
            lines.append(f"  - name: {account.name}\n    token_file: {token_file}")
            lines += watching(simulator, account.name)
        lines.append(f"api:\n  url: {simulator.url}\n  auth_url: {simulator.url}\n"
                     "  requests_per_hour: 5000")
        # off by default for their scope; the demo token holds it
        lines.append("collectors:\n  genai_agents: {enabled: true}\n"
                     "  genai_knowledge_bases: {enabled: true}")
        config = write_config(workdir, "\n".join(lines) + "\n")
        exporter = ExporterProcess(["--config.file", str(config)], workdir)
        prometheus = None
        try:
            exporter.wait_ready()
            budgets = workdir / "test-budgets.yml"
            budgets.write_text(TEST_BUDGETS)
            prometheus = Prometheus(workdir, [urlsplit(exporter.url).netloc], [
                RULES / "recording.yml", RULES / "alerts.yml", RULES / "budgets.yml", budgets,
            ])
            prometheus.wait_for('up{job="digitalocean"} == 1')
            # recording.yml's group runs every minute, so its first useful evaluation can be a
            # minute away; by then rate() over 1m has its samples, and every alert has had a
            # minute of one-second evaluations to become pending.
            prometheus.wait_for("digitalocean:month_to_date_cost_usd:sum_by_product", timeout=90)
            # the busy Droplet's CPU rate: two polls whose newest points differ (a minute apart)
            plan = monitoring_plan(simulator.fleet("production").resources)
            cpu = f'digitalocean_droplet_cpu_seconds_total{{droplet_id="{plan.busy}"'
            prometheus.wait_for(f'1 - sum(rate({cpu},mode="idle"}}[5m])) '
                                f"/ sum(rate({cpu}}}[5m])) > 0", timeout=240)
            yield Stack(simulator, exporter, prometheus)
        finally:
            if prometheus is not None:
                prometheus.stop()
            assert exporter.stop() == 0


def grafana_expr(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr.replace("$1", ""), f"unsubstituted variable in {expr}"
    return expr


def panel_queries() -> list[tuple[str, str]]:
    found = []
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                found.append((f"{dashboard['uid']}: {panel['title']} {target['refId']}", target["expr"]))
    return found


def test_every_dashboard_query_returns_data(stack: Stack) -> None:
    empty = {}
    for where, expr in panel_queries():
        if not stack.prometheus.query(grafana_expr(expr)):
            empty[where] = expr
    assert len(panel_queries()) > 80
    assert empty == {}


def test_every_dashboard_annotation_query_runs(stack: Stack) -> None:
    """The action marks are valid PromQL on a real Prometheus (empty here: the demo fleet does
    not change while the test runs, so no counter grows)."""
    found = []
    for path in DASHBOARDS:
        for annotation in json.loads(path.read_text())["annotations"]["list"]:
            if "expr" in annotation:
                found.append(annotation["expr"])
                assert isinstance(stack.prometheus.query(grafana_expr(annotation["expr"])), list)
    assert len(found) == 2
    # the counter they read is scraped
    assert stack.prometheus.query('digitalocean_actions_total{type="create"}')


def test_every_dashboard_variable_has_values(stack: Stack) -> None:
    for path in DASHBOARDS:
        for variable in json.loads(path.read_text())["templating"]["list"]:
            if variable["type"] != "query":
                continue
            selector, label = variable["query"]["query"].removeprefix("label_values(")[:-1].rsplit(
                ", ", 1)
            response = httpx.get(f"{stack.prometheus.url}/api/v1/label/{label}/values",
                                 params={"match[]": grafana_expr(selector)}, timeout=5).json()
            values = set(response["data"])
            if variable["name"] == "account":
                assert values == {"production", "staging"}
            else:
                assert values, f"{path.name}: variable {variable['name']} has no values"


def instant(stack: Stack, dashboard: str, title: str, ref: str = "A") -> list[dict[str, Any]]:
    """The result of one panel query of a committed dashboard, as Grafana would ask it."""
    panels = json.loads((ROOT / "grafana" / "dashboards" / dashboard).read_text())["panels"]
    panel = next(p for p in panels if p["title"] == title and p["type"] != "row")
    expr = next(t["expr"] for t in panel["targets"] if t["refId"] == ref)
    result: list[dict[str, Any]] = stack.prometheus.query(grafana_expr(expr))
    return result


def test_the_new_panels_show_the_demo(stack: Stack) -> None:
    """Scrape health, token expiry and what was created: each shows the demo's own facts."""
    [up] = instant(stack, "digitalocean-exporter.json", "Scrape health")
    assert up["metric"]["job"] == "digitalocean"
    assert float(up["value"][1]) == 1
    [down] = instant(stack, "digitalocean-exporter.json", "Targets down")
    assert float(down["value"][1]) == 0
    [succeeding] = instant(stack, "digitalocean-exporter.json", "Collectors succeeding")
    assert float(succeeding["value"][1]) == 1
    assert instant(stack, "digitalocean-exporter.json", "Scrape duration")
    # staging's token expires 10 days after the demo starts; production's never does
    expiry = instant(stack, "digitalocean-exporter.json", "Tokens", "C")
    assert [e["metric"]["account"] for e in expiry] == ["staging"]
    assert 9 * 86400 < float(expiry[0]["value"][1]) <= 10 * 86400
    created = instant(stack, "digitalocean-inventory.json", "Created in the time range")
    assert {(c["metric"]["account"], c["metric"]["kind"]) for c in created} == {("staging", "Snapshot")}
    assert all(c["metric"]["name"] for c in created)


def previous_month(now: datetime) -> str:
    year, month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def billing(simulator: Simulator, account: str) -> tuple[dict[str, Any], dict[str, Any]]:
    token = next(a for a in simulator.config.accounts if a.name == account).tokens[0].token
    headers = {"Authorization": f"Bearer {token}"}
    balance = httpx.get(f"{simulator.url}/v2/customers/my/balance", headers=headers).json()
    invoices = httpx.get(f"{simulator.url}/v2/customers/my/invoices?per_page=12",
                         headers=headers).json()
    return balance, invoices


def expected_alerts(simulator: Simulator) -> set[tuple[str, str | None]]:
    """(alertname, account) of every alert the demo should trigger now.

    Spend above last month's invoice depends on the day of the month (month-to-date usage grows
    with the clock), so whether it fires is read from the simulator's own billing answers: the
    oracle is DigitalOcean's (simulated) API, not the exporter.
    """
    expected: set[tuple[str, str | None]] = {(name, "production") for name in PRODUCTION_PROBLEMS}
    expected |= {(name, "staging") for name in STAGING_PROBLEMS}
    last_month = previous_month(datetime.now(UTC))
    for account in ("production", "staging"):
        balance, invoices = billing(simulator, account)
        usage = float(balance["month_to_date_usage"])
        last = [float(i["amount"]) for i in invoices["invoices"] if i["invoice_period"] == last_month]
        if last and usage > last[0]:
            expected.add(("DigitalOceanSpendAboveLastInvoice", account))
        # the forecast needs an hour of the month; then production's is over its test budget
        generated = datetime.fromisoformat(balance["generated_at"].replace("Z", "+00:00"))
        if account == "production" and (generated.day, generated.hour) != (1, 0):
            expected.add(("DigitalOceanForecastOverBudget", account))
        # the demo's tokens have the legacy read scope, which grants the secret-revealing ones
        if any("read" in token.scopes for a in simulator.config.accounts if a.name == account
               for token in a.tokens):
            expected.add(("DigitalOceanTokenCanReadSecrets", account))
    return expected


def active_alerts(prometheus: Prometheus) -> list[dict[str, Any]]:
    body = httpx.get(f"{prometheus.url}/api/v1/alerts", timeout=5).json()
    alerts: list[dict[str, Any]] = body["data"]["alerts"]
    return alerts


def test_the_demo_triggers_exactly_the_expected_alerts(stack: Stack) -> None:
    expected = expected_alerts(stack.simulator)
    deadline = time.monotonic() + 30
    while True:
        alerts = active_alerts(stack.prometheus)
        seen = {(a["labels"]["alertname"], a["labels"].get("account")) for a in alerts}
        if seen >= expected or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert sorted(seen - expected, key=str) == [], "alerts the demo should not trigger"
    assert sorted(expected - seen, key=str) == [], "alerts the demo should trigger but did not"
    for alert in alerts:
        assert alert["state"] in {"pending", "firing"}
        assert alert["labels"]["severity"] in {"critical", "warning", "info"}
        # a label the template names but the series lacks renders as "<no value>"
        for text in alert["annotations"].values():
            assert "<no value>" not in text, (alert["labels"]["alertname"], text)


def test_cpu_utilisation_through_prometheus(stack: Stack) -> None:
    """Issue 14: rate() of the CPU seconds counter over the real Prometheus gives the watched
    Droplets a plausible utilisation, and the simulator's busy Droplet is the busy one, enough
    to make DigitalOceanDropletCPUSaturated's condition true (the alert waits 30 minutes). A
    Droplet whose counters have not moved twice yet (each is read in turn) has no rate yet."""
    plan = monitoring_plan(stack.simulator.fleet("production").resources)
    busy_expr = ('1 - sum by (droplet_id) (rate(digitalocean_droplet_cpu_seconds_total{mode="idle"}[5m]))'
                 " / sum by (droplet_id) (rate(digitalocean_droplet_cpu_seconds_total[5m]))")
    found = {r["metric"]["droplet_id"]: float(r["value"][1])
             for r in stack.prometheus.query(busy_expr)}
    busy = {droplet: value for droplet, value in found.items() if not math.isnan(value)}
    assert all(0 < value < 1 for value in busy.values()), busy
    assert max(busy, key=lambda d: busy[d]) == str(plan.busy)
    assert busy[str(plan.busy)] > 0.9  # DigitalOceanDropletCPUSaturated's threshold
    assert all(value < 0.5 for droplet, value in busy.items() if droplet != str(plan.busy))
    assert set(found) <= {str(d) for d in (plan.busy, plan.heavy, plan.filling,
                                           plan.unhealthy_droplet)}


def test_problems_are_reported_for_the_right_objects(stack: Stack) -> None:
    """Each production problem names one object of the right kind; no healthy one is caught."""
    by_name: dict[str, list[dict[str, str]]] = {}
    for alert in active_alerts(stack.prometheus):
        if alert["labels"].get("account") == "production":
            by_name.setdefault(alert["labels"]["alertname"], []).append(alert["labels"])
    assert [a["status"] for a in by_name["DigitalOceanLoadBalancerErrored"]] == ["errored"]
    assert [a["status"] for a in by_name["DigitalOceanKubernetesClusterUnhealthy"]] == ["degraded"]
    assert [a["status"] for a in by_name["DigitalOceanDatabaseNotOnline"]] == ["migrating"]
    assert [a["status"] for a in by_name["DigitalOceanNatGatewayUnhealthy"]] == ["error"]
    assert len(by_name["DigitalOceanByoipPrefixNotAdvertised"]) == 1
    assert [a["resource"] for a in by_name["DigitalOceanAccountLimitNearlyReached"]] == ["reserved IPs"]
    # old snapshots are one alert for the account, its value the count
    [snapshots] = by_name["DigitalOceanSnapshotOld"]
    assert set(snapshots) == {"alertname", "severity", "account"}
    for name in ("DigitalOceanDropletOff", "DigitalOceanVolumeUnattached",
                 "DigitalOceanReservedIPUnassigned", "DigitalOceanAppDeploymentFailed",
                 "DigitalOceanCertificateExpiringSoon", "DigitalOceanUptimeCheckDown",
                 "DigitalOceanKubernetesNodePoolBelowMinimum",
                 "DigitalOceanAutoscalePoolMemberUnhealthy", "DigitalOceanGenAIAgentDeploymentFailed"):
        assert len(by_name[name]) == 1, (name, by_name[name])
