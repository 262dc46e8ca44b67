"""App Platform metrics: GET /v2/monitoring/metrics/apps/* (scope monitoring:read, default
every 5m, off by default) for the apps the `apps` collector found.

CPU and memory utilisation and restarts of every instance of every component, one request per
app and metric (the component is not named, so DigitalOcean answers for all of them), the
newest point DigitalOcean has (usually a minute or more old;
`digitalocean_app_metric_timestamp_seconds` says when, per metric group). DigitalOcean's
percentages are exported as ratios from 0 to 1.

    digitalocean_app_cpu_utilization_ratio{account="production",app_id="4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf",component="sample-php",instance="sample-php-0"} 0.05
    digitalocean_app_restarts{account="production",app_id="4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf",component="sample-php",instance="sample-php-0"} 0
"""

from __future__ import annotations

from exporter.collectors.apps import AppRecord
from exporter.collectors.base import Collector, Facts, Family
from exporter.collectors.monitoring import (
    PERCENT,
    MonitoringData,
    Product,
    Query,
    Resource,
    late_help,
)

BASE = "/v2/monitoring/metrics/apps"
_LABELS = ("app_id", "component", "instance")
_FROM = (("component", "app_component"), ("instance", "app_component_instance"))

CPU = Family("digitalocean_app_cpu_utilization_ratio",
             late_help("CPU utilisation of each app component instance (0 to 1)",
                       f"{BASE}/cpu_percentage"), _LABELS)
MEMORY = Family("digitalocean_app_memory_utilization_ratio",
                late_help("Memory utilisation of each app component instance (0 to 1)",
                          f"{BASE}/memory_percentage"), _LABELS)
RESTARTS = Family("digitalocean_app_restarts",
                  late_help("Restarts of each app component instance, as DigitalOcean counts them",
                            f"{BASE}/restart_count"), _LABELS)
TIMESTAMP = Family("digitalocean_app_metric_timestamp_seconds",
                   late_help("When the newest point of each metric group of the app was taken",
                             f"{BASE}/*"), ("app_id", "metric"))

QUERIES = (
    Query(f"{BASE}/cpu_percentage", "cpu", CPU, labels=_FROM, scale=PERCENT),
    Query(f"{BASE}/memory_percentage", "memory", MEMORY, labels=_FROM, scale=PERCENT),
    Query(f"{BASE}/restart_count", "restarts", RESTARTS, labels=_FROM),
)


def _facts(app: AppRecord) -> Facts:
    return Facts(app.app_id, app.name, app.region)


def _resource(app: AppRecord) -> Resource:
    return Resource(app.app_id)


PRODUCT: Product[AppRecord] = Product(
    input="apps", id_param="app_id", id_label="app_id", queries=QUERIES, timestamp=TIMESTAMP,
    facts=_facts, resource=_resource,
)


COLLECTOR: Collector[MonitoringData] = PRODUCT.collector(
    name="app_metrics",
    summary="App Platform metrics from the Monitoring API: CPU, memory and restarts per "
            "component instance",
    filters=("region", "name", "id"),  # app records carry no tags
)
