"""The example Alertmanager configuration: valid, it routes each severity where it says, and a
real Alertmanager inhibits what it says it inhibits."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import free_port, require_tool

CONFIG = Path(__file__).parent.parent.parent / "deploy" / "alertmanager" / "alertmanager.yml"


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_tool("amtool"), *args], capture_output=True, text=True,
                          check=False, timeout=60)


def test_amtool_check_config() -> None:
    result = amtool("check-config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("labels", "receiver"), [
    (["alertname=DigitalOceanExporterDown", "severity=critical"], "digitalocean-critical"),
    (["alertname=DigitalOceanExporterAbsent", "severity=critical", "job=digitalocean"],
     "digitalocean-critical"),
    # a rejected token blinds one account's monitoring: a warning, not a page
    (["alertname=DigitalOceanTokenInvalid", "severity=warning", "account=production"],
     "digitalocean-warning"),
    (["alertname=DigitalOceanCollectorFailing", "severity=warning", "account=production"],
     "digitalocean-warning"),
    (["alertname=DigitalOceanDropletOff", "severity=info", "account=staging"], "digitalocean-info"),
    # somebody else's alert is left to the default route
    (["alertname=NodeDown", "severity=critical"], "default"),
])
def test_routes(labels: list[str], receiver: str) -> None:
    result = amtool("config", "routes", "test", f"--config.file={CONFIG}",
                    f"--verify.receivers={receiver}", *labels)
    assert result.returncode == 0, result.stdout + result.stderr


def test_alerts_are_grouped_by_account_and_name_and_sent_to_loopback_placeholders() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    assert config["route"]["group_by"] == ["account", "alertname"]
    urls = [hook["url"] for receiver in config["receivers"]
            for hook in receiver.get("webhook_configs", [])]
    assert urls
    assert all(url.startswith("http://127.0.0.1:") for url in urls)


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Alertmanager (Debian's prometheus-alertmanager) running the example configuration
    on loopback, without clustering; its webhooks point at nothing, which only fails delivery."""
    binary = require_tool("prometheus-alertmanager")
    workdir = tmp_path_factory.mktemp("alertmanager")
    url = f"http://127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [binary, f"--config.file={CONFIG}", f"--storage.path={workdir}",
         f"--web.listen-address={url.removeprefix('http://')}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=(workdir / "alertmanager.log").open("w"))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (workdir / "alertmanager.log").read_text()
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def alert_states(url: str, alerts: list[dict[str, str]]) -> dict[tuple[str, str, str], str]:
    """Post `alerts` (label sets) as firing now; (alertname, account, collector) -> state."""
    now = datetime.now(UTC).isoformat()
    response = httpx.post(f"{url}/api/v2/alerts", timeout=5,
                          json=[{"labels": labels, "startsAt": now} for labels in alerts])
    assert response.status_code == 200, response.text
    return {
        (a["labels"]["alertname"], a["labels"]["account"], a["labels"].get("collector", "")):
            a["status"]["state"]
        for a in httpx.get(f"{url}/api/v2/alerts", timeout=5).json()
    }


def test_a_failing_collector_inhibits_its_own_stale_data_and_a_rejected_token_its_account(
        alertmanager: str) -> None:
    """The inhibitions work only if the source alert fires first: deploy/prometheus/tests/
    alerts_test.yml proves CollectorFailing fires before DataStale; this proves Alertmanager
    then suppresses the stale data of that collector, and only of that collector."""
    def alert(name: str, account: str, collector: str | None = None) -> dict[str, str]:
        labels = {"alertname": name, "severity": "warning", "account": account}
        return labels | ({"collector": collector} if collector else {})

    states = alert_states(alertmanager, [
        alert("DigitalOceanCollectorFailing", "production", "droplets"),
        alert("DigitalOceanDataStale", "production", "droplets"),
        alert("DigitalOceanDataStale", "production", "volumes"),
        alert("DigitalOceanTokenInvalid", "staging"),
        alert("DigitalOceanCollectorFailing", "staging", "billing"),
        alert("DigitalOceanDataStale", "staging", "billing"),
    ])
    assert states == {
        ("DigitalOceanCollectorFailing", "production", "droplets"): "active",
        ("DigitalOceanDataStale", "production", "droplets"): "suppressed",
        # another collector's stale data is its own problem
        ("DigitalOceanDataStale", "production", "volumes"): "active",
        ("DigitalOceanTokenInvalid", "staging", ""): "active",
        ("DigitalOceanCollectorFailing", "staging", "billing"): "suppressed",
        ("DigitalOceanDataStale", "staging", "billing"): "suppressed",
    }
