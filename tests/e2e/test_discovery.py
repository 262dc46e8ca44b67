"""End to end: a real Prometheus discovers the demo fleet's Droplets through the exporter's
`/sd/droplets`, with the `node` job shipped in deploy/prometheus/prometheus.yml.

What Prometheus discovered (`/api/v1/targets`) is compared with what the same Prometheus
scraped from the exporter's `/metrics`: every Droplet, with its account, project and tags.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.conftest import ExporterProcess

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).parent.parent.parent
EXAMPLE = ROOT / "deploy" / "prometheus" / "prometheus.yml"
EXPORTER_IN_EXAMPLE = "localhost:9212"
META = "__meta_digitalocean_exporter_"

DropletKey = tuple[str, str]  # (account, droplet_id)


def node_job(exporter_address: str) -> dict[str, Any]:
    """The example's node job, pointed at the exporter under test. Its targets (port 9100 on
    the demo's made-up addresses) are scraped once an hour: their labels are what is checked."""
    config = yaml.safe_load(EXAMPLE.read_text())
    [job] = [c for c in config["scrape_configs"] if c["job_name"] == "node"]
    [sd] = job["http_sd_configs"]
    assert EXPORTER_IN_EXAMPLE in sd["url"]
    sd["url"] = sd["url"].replace(EXPORTER_IN_EXAMPLE, exporter_address)
    sd["refresh_interval"] = "1s"
    job.update(scrape_interval="1h", scrape_timeout="1s")
    return dict(job)


def label_name(tag: str) -> str:
    return "tag_" + re.sub(r"[^a-zA-Z0-9_]", "_", tag)


def test_prometheus_discovers_every_demo_droplet_with_account_project_and_tags(
    tmp_path: Path, prometheus_factory: Any
) -> None:
    exporter = ExporterProcess(["--demo"], tmp_path)
    try:
        exporter.wait_ready(timeout=60)
        address = urlsplit(exporter.url).netloc
        prometheus = prometheus_factory([address], extra_jobs=[node_job(address)])
        prometheus.wait_for('up{job="digitalocean"} == 1')

        # what the exporter's own series say, as Prometheus stored them
        info = prometheus.wait_for("digitalocean_droplet_info")
        droplets: set[DropletKey] = {(r["metric"]["account"], r["metric"]["droplet_id"])
                                     for r in info}
        tags: dict[DropletKey, set[str]] = defaultdict(set)
        for r in prometheus.query("digitalocean_droplet_tag_info"):
            tags[(r["metric"]["account"], r["metric"]["droplet_id"])].add(r["metric"]["tag"])
        projects = {
            (r["metric"]["account"], r["metric"]["resource_id"]): r["metric"]["name"]
            for r in prometheus.query(
                'digitalocean_project_resource_info{resource_type="droplet"}'
                " * on(account, project_id) group_left(name) digitalocean_project_info")
        }
        assert {account for account, _ in droplets} == {"production", "staging"}
        assert set(projects) == droplets  # the demo puts every Droplet in a project
        assert all(tags[key] for key in droplets)

        deadline = time.monotonic() + 30
        while True:
            targets = prometheus.targets("node")
            if len(targets) >= len(droplets) or time.monotonic() > deadline:
                break
            time.sleep(0.2)

        discovered: dict[DropletKey, dict[str, Any]] = {}
        for target in targets:
            labels = target["labels"]
            discovered[(labels["account"], labels["droplet_id"])] = target
        assert len(targets) == len(discovered)  # one target per Droplet
        assert set(discovered) == droplets
        for key, target in sorted(discovered.items()):
            labels, found = target["labels"], target["discoveredLabels"]
            assert labels["project"] == projects[key], key
            assert {n for n in labels if n.startswith("tag_")} == {label_name(t) for t in tags[key]}
            assert all(labels[label_name(t)] == "1" for t in tags[key])
            joined = found[META + "tags"]  # ",web,env:production,": in the API's order
            assert joined[0] == joined[-1] == ","
            assert set(joined[1:-1].split(",")) == tags[key]
            assert found["__address__"] == f"{found[META + 'public_ipv4']}:9100"
            assert labels["instance"] == found[META + "droplet_name"]
            assert labels["job"] == "node"
    finally:
        assert exporter.stop() == 0
