"""Droplet autoscale pool metrics: GET /v2/monitoring/metrics/droplet_autoscale/* (scope
monitoring:read, default every 5m, off by default) for the pools the `autoscale_pools`
collector found.

The pool's current and target size and its current and target average CPU and memory
utilisation over time, the newest point DigitalOcean has (usually a minute or more old;
`digitalocean_autoscale_pool_metric_timestamp_seconds` says when, per metric group), so a pool
that cannot reach its target shows it. Utilisation is exported as DigitalOcean gives it, a
ratio from 0 to 1 like the pool's configured targets.

    digitalocean_autoscale_pool_current_instances{account="production",autoscale_pool_id="0d3db13e-a604-4944-9827-7ec2642d32ac"} 2
    digitalocean_autoscale_pool_target_instances{account="production",autoscale_pool_id="0d3db13e-a604-4944-9827-7ec2642d32ac"} 3
"""

from __future__ import annotations

from exporter.collectors.autoscale_pools import AutoscalePoolRecord
from exporter.collectors.base import Collector, Facts, Family
from exporter.collectors.monitoring import (
    MonitoringData,
    Product,
    Query,
    Resource,
    late_help,
)

BASE = "/v2/monitoring/metrics/droplet_autoscale"
_ID = ("autoscale_pool_id",)


def _query(group: str, endpoint: str, name: str, what: str) -> Query:
    family = Family(f"digitalocean_autoscale_pool_{name}", late_help(what, f"{BASE}/{endpoint}"),
                    _ID)
    return Query(f"{BASE}/{endpoint}", group, family, combine="max")


QUERIES = (
    _query("instances", "current_instances", "current_instances",
           "Droplets in the autoscale pool now"),
    _query("instances", "target_instances", "target_instances",
           "Droplets the autoscale pool is scaling to"),
    _query("cpu", "current_cpu_utilization", "cpu_utilization_ratio",
           "The pool's average CPU utilisation (0 to 1)"),
    _query("cpu", "target_cpu_utilization", "target_cpu_utilization_ratio",
           "The average CPU utilisation (0 to 1) the pool scales to keep"),
    _query("memory", "current_memory_utilization", "memory_utilization_ratio",
           "The pool's average memory utilisation (0 to 1)"),
    _query("memory", "target_memory_utilization", "target_memory_utilization_ratio",
           "The average memory utilisation (0 to 1) the pool scales to keep"),
)
TIMESTAMP = Family("digitalocean_autoscale_pool_metric_timestamp_seconds",
                   late_help("When the newest point of each metric group of the autoscale pool "
                             "was taken", f"{BASE}/*"), (*_ID, "metric"))


def _facts(pool: AutoscalePoolRecord) -> Facts:
    return Facts(pool.pool_id, pool.name, pool.region)


def _resource(pool: AutoscalePoolRecord) -> Resource:
    return Resource(pool.pool_id)


PRODUCT: Product[AutoscalePoolRecord] = Product(
    input="autoscale_pools", id_param="autoscale_pool_id", id_label="autoscale_pool_id",
    queries=QUERIES, timestamp=TIMESTAMP, facts=_facts, resource=_resource,
)


COLLECTOR: Collector[MonitoringData] = PRODUCT.collector(
    name="autoscale_metrics",
    summary="Droplet autoscale pool metrics from the Monitoring API: current and target size, "
            "CPU and memory utilisation",
    filters=("region", "name", "id"),  # pools carry no tags; region is the template's
)
