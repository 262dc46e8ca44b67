"""Droplet metrics: GET /v2/monitoring/metrics/droplet/* (scope monitoring:read, default every
5m, off by default) for the Droplets the `droplets` collector found.

CPU seconds per mode (a counter, as the metrics agent reports them), memory, load averages,
filesystems and network rates of each selected Droplet, the newest point DigitalOcean has
(usually a minute or more old; `digitalocean_droplet_metric_timestamp_seconds` says when, per
metric group). The public outbound bandwidth is read from 00:00 UTC on the month's first day
and integrated into the month's outbound public transfer, what DigitalOcean bills beyond the
included allowance; later polls read on from the last point they integrated. Each metric group
costs one request per Droplet and endpoint (memory 4, load 3, filesystem 2, network 4, cpu 1).

    digitalocean_droplet_cpu_seconds_total{account="production",droplet_id="3164444",mode="idle"} 123140.8
    digitalocean_droplet_network_transmit_bytes_per_second{account="production",droplet_id="3164444",interface="public"} 2026.8
"""

from __future__ import annotations

from typing import Any

from exporter.collectors.base import Collector, Facts, Family
from exporter.collectors.droplets import DropletRecord
from exporter.collectors.monitoring import (
    MEGABIT_BYTES,
    MonitoringData,
    Product,
    Query,
    Resource,
    late_help,
)

BASE = "/v2/monitoring/metrics/droplet"
BANDWIDTH = f"{BASE}/bandwidth"
_ID = ("droplet_id",)
_FS = ("droplet_id", "device", "fstype", "mountpoint")
_FS_LABELS = (("device", "device"), ("fstype", "fstype"), ("mountpoint", "mountpoint"))


def _family(name: str, what: str, endpoint: str, labels: tuple[str, ...] = _ID,
            kind: Any = "gauge") -> Family:
    return Family(f"digitalocean_droplet_{name}", late_help(what, endpoint), labels, kind)


CPU = _family("cpu_seconds_total", "Seconds the Droplet's CPUs spent in each mode, since boot",
              f"{BASE}/cpu", ("droplet_id", "mode"), "counter")
MEMORY = {
    key: _family(f"memory_{name}_bytes", what, f"{BASE}/{key}")
    for key, name, what in (
        # node_exporter's MemTotal, MemAvailable, MemFree and Cached, in snake case (promtool
        # check metrics refuses camel case)
        ("memory_total", "total", "Droplet memory in total, as the kernel counts it"),
        ("memory_available", "available", "Droplet memory available for new programs"),
        ("memory_free", "free", "Droplet memory not used at all"),
        ("memory_cached", "cached", "Droplet memory used by the page cache"),
    )
}
LOAD = {
    minutes: _family(f"load{minutes}", f"Droplet load average over {minutes} minute(s)",
                     f"{BASE}/load_{minutes}")
    for minutes in (1, 5, 15)
}
FS_SIZE = _family("filesystem_size_bytes", "Size of each Droplet filesystem",
                  f"{BASE}/filesystem_size", _FS)
FS_FREE = _family("filesystem_free_bytes", "Free space on each Droplet filesystem",
                  f"{BASE}/filesystem_free", _FS)
RECEIVE = _family("network_receive_bytes_per_second",
                  "Droplet inbound traffic per interface (public or private), the average over "
                  "DigitalOcean's step", BANDWIDTH, ("droplet_id", "interface"))
TRANSMIT = _family("network_transmit_bytes_per_second",
                   "Droplet outbound traffic per interface (public or private), the average over "
                   "DigitalOcean's step", BANDWIDTH, ("droplet_id", "interface"))
PUBLIC_MONTH = _family("public_transmit_month_to_date_bytes",
                       "Droplet outbound public transfer since 00:00 UTC on the first day of the "
                       "month, integrated from the bandwidth series", BANDWIDTH)
TIMESTAMP = _family("metric_timestamp_seconds",
                    "When the newest point of each metric group of the Droplet was taken",
                    f"{BASE}/*", ("droplet_id", "metric"))


def _bandwidth(interface: str, direction: str) -> Query:
    outbound = direction == "outbound"
    return Query(BANDWIDTH, "network", TRANSMIT if outbound else RECEIVE,
                 params=(("interface", interface), ("direction", direction)),
                 fixed=(interface,), scale=MEGABIT_BYTES,
                 month_to_date=PUBLIC_MONTH if outbound and interface == "public" else None)


QUERIES = (
    Query(f"{BASE}/cpu", "cpu", CPU, labels=(("mode", "mode"),)),
    *(Query(f"{BASE}/{key}", "memory", family) for key, family in MEMORY.items()),
    *(Query(f"{BASE}/load_{minutes}", "load", family) for minutes, family in LOAD.items()),
    Query(f"{BASE}/filesystem_size", "filesystem", FS_SIZE, labels=_FS_LABELS),
    Query(f"{BASE}/filesystem_free", "filesystem", FS_FREE, labels=_FS_LABELS),
    _bandwidth("public", "inbound"),
    _bandwidth("public", "outbound"),
    _bandwidth("private", "inbound"),
    _bandwidth("private", "outbound"),
)


def _facts(d: DropletRecord) -> Facts:
    return Facts(d.droplet_id, d.name, d.region, d.tags)


def _resource(d: DropletRecord) -> Resource | None:
    """Only a running Droplet reports metrics: one that is off, new or archived is not asked
    about (its requests would answer nothing)."""
    return Resource(str(d.droplet_id)) if d.status == "active" else None


PRODUCT: Product[DropletRecord] = Product(
    input="droplets", id_param="host_id", id_label="droplet_id", queries=QUERIES,
    timestamp=TIMESTAMP, facts=_facts, resource=_resource,
)


COLLECTOR: Collector[MonitoringData] = PRODUCT.collector(
    name="droplet_metrics",
    summary="Droplet metrics from the Monitoring API: CPU, memory, load, filesystems, network "
            "and month-to-date public transfer",
    filters=("tag", "region", "name", "id"),
)
