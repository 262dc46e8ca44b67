"""The example Alertmanager configuration: valid, and it routes each severity where it says."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import require_tool

CONFIG = Path(__file__).parent.parent.parent / "deploy" / "alertmanager" / "alertmanager.yml"


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_tool("amtool"), *args], capture_output=True, text=True,
                          check=False, timeout=60)


def test_amtool_check_config() -> None:
    result = amtool("check-config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("labels", "receiver"), [
    (["alertname=DigitalOceanExporterDown", "severity=critical"], "digitalocean-critical"),
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
