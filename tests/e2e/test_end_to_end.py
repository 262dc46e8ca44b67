"""End to end: the real daemon (subprocess) against the simulator, scraped by a real Prometheus.

Assertions go through Prometheus' HTTP API, so they check what a user's Prometheus stores.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from exporter.simulator import Fault, Simulator, demo_config
from tests.conftest import ExporterProcess, free_port, require_tool, write_config, write_token

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).parent.parent.parent


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(demo_config()) as sim:
        yield sim


def exporter_for(sim: Simulator, tmp_path: Path, extra: str = "") -> ExporterProcess:
    lines = ["accounts:"]
    for account in sim.config.accounts:
        token_file = write_token(tmp_path, account.name, account.tokens[0].token)
        lines.append(f"  - name: {account.name}\n    token_file: {token_file}")
    lines.append(f"api:\n  url: {sim.url}\n  auth_url: {sim.url}")
    config = write_config(tmp_path, "\n".join(lines) + "\n" + extra)
    exporter = ExporterProcess(["--config.file", str(config)], tmp_path)
    exporter.wait_ready()
    return exporter


def api_total(sim: Simulator, account: str, params: str = "") -> int:
    token = next(a for a in sim.config.accounts if a.name == account).tokens[0].token
    body = httpx.get(f"{sim.url}/v2/droplets?per_page=1{params}",
                     headers={"Authorization": f"Bearer {token}"}).json()
    return int(body["meta"]["total"])


def by_account(result: list[dict[str, Any]]) -> dict[str, float]:
    return {r["metric"]["account"]: float(r["value"][1]) for r in result}


def test_prometheus_stores_what_the_exporter_serves(
    simulator: Simulator, tmp_path: Path, prometheus_factory: Any
) -> None:
    exporter = exporter_for(simulator, tmp_path)
    try:
        prometheus = prometheus_factory([urlsplit(exporter.url).netloc])
        prometheus.wait_for('up{job="digitalocean"} == 1')
        droplets = by_account(prometheus.wait_for("count by (account) (digitalocean_droplet_info)"))
        expected = {a.name: api_total(simulator, a.name) + api_total(simulator, a.name, "&type=gpus")
                    for a in simulator.config.accounts}
        assert droplets == expected
        assert by_account(prometheus.query("digitalocean_token_read_only")) == {
            "production": 1.0, "staging": 1.0
        }
        assert set(by_account(prometheus.query("count by (account) (digitalocean_volume_info)"))) == {
            "production", "staging"
        }
        usage = by_account(prometheus.query("digitalocean_balance_month_to_date_usage_usd"))
        token = simulator.config.accounts[0].tokens[0].token
        balance = httpx.get(f"{simulator.url}/v2/customers/my/balance",
                            headers={"Authorization": f"Bearer {token}"}).json()
        assert usage["production"] == float(balance["month_to_date_usage"])
        off = prometheus.query('digitalocean_droplet_status{status="off"} == 1')
        assert {r["metric"]["account"] for r in off} == {"production", "staging"}
        assert all(v == 1.0 for v in by_account(prometheus.query(
            'min by (account) (digitalocean_collector_success)')).values())
        # the live exposition passes promtool's linter
        promtool = require_tool("promtool")
        live = httpx.get(f"{exporter.url}/metrics").content
        lint = subprocess.run([promtool, "check", "metrics"], input=live, capture_output=True,
                              check=False)
        assert lint.returncode == 0, lint.stdout.decode() + lint.stderr.decode()
    finally:
        assert exporter.stop() == 0


def test_slow_failing_and_killed_api(simulator: Simulator, tmp_path: Path,
                                     prometheus_factory: Any) -> None:
    exporter = exporter_for(simulator, tmp_path,
                            "  timeout: 3s\ncollectors:\n  droplets: {interval: 5s}\n")
    prometheus = prometheus_factory([urlsplit(exporter.url).netloc])
    success = 'digitalocean_collector_success{account="production",collector="droplets"}'
    info = 'count(digitalocean_droplet_info{account="production"})'
    try:
        prometheus.wait_for(f"{success} == 1")
        droplets = prometheus.value(info)
        assert droplets

        # slow: every droplets request takes 1 s; polls still succeed, scrapes stay fast
        simulator.set_faults([Fault("latency", endpoint="/v2/droplets", seconds=1)])
        time.sleep(7)
        assert prometheus.value(success) == 1
        assert prometheus.value('max_over_time(scrape_duration_seconds{job="digitalocean"}[5s])') < 0.5

        # failing: 500s; success drops to 0, the last good data stays
        simulator.set_faults([Fault("error", endpoint="/v2/droplets", status=500)])
        prometheus.wait_for(f"{success} == 0", timeout=20)
        assert prometheus.value(info) == droplets
        assert prometheus.value('up{job="digitalocean"}') == 1
        simulator.clear_faults()
        prometheus.wait_for(f"{success} == 1", timeout=20)

        # killed: connection refused; the exporter stays up, then recovers on restart
        port = urlsplit(simulator.url).port
        assert port is not None
        simulator.stop()
        prometheus.wait_for(f"{success} == 0", timeout=20)
        assert prometheus.value('up{job="digitalocean"}') == 1
        assert exporter.process.poll() is None
        with Simulator(demo_config()) as restarted:
            restarted.stop()
            restarted.start(port=port)
            prometheus.wait_for(f"{success} == 1", timeout=20)
            assert prometheus.value(info) == droplets
    finally:
        assert exporter.stop() == 0


def test_make_demo_serves_two_accounts_within_30_seconds(tmp_path: Path) -> None:
    port = free_port()
    make = require_tool("make")
    started = time.monotonic()
    process = subprocess.Popen(
        [make, "-s", "demo", f"DEMO_ADDRESS=127.0.0.1:{port}", f"VENV={sys.prefix}"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=(tmp_path / "demo.log").open("wb"),
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            assert time.monotonic() - started < 30, (tmp_path / "demo.log").read_text()
            assert process.poll() is None, (tmp_path / "demo.log").read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        metrics = httpx.get(f"{url}/metrics").text
        for account in ("production", "staging"):
            for family in ("digitalocean_droplet_info", "digitalocean_volume_info",
                           "digitalocean_balance_month_to_date_usage_usd"):
                assert f'{family}{{account="{account}"' in metrics
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # make and the exporter it started
        process.wait(10)
    deadline = time.monotonic() + 10
    while True:  # the exporter shuts down on SIGTERM
        try:
            httpx.get(f"{url}/healthz", timeout=1)
        except httpx.ConnectError:
            break
        assert time.monotonic() < deadline, "the demo exporter kept running after SIGTERM"
        time.sleep(0.1)
