"""The collector table: every resource the exporter knows, in exposition order.

Flags, config defaults, docs and tests are all derived from this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exporter.collectors import (
    account,
    actions,
    app_instance_sizes,
    apps,
    autoscale_pools,
    billing,
    billing_history,
    billing_insights,
    cdn,
    certificates,
    databases,
    domains,
    droplets,
    firewalls,
    invoice_summary,
    kubernetes,
    load_balancers,
    projects,
    registry,
    reserved_ips,
    sizes,
    snapshots,
    tags,
    uptime,
    volumes,
    vpcs,
)
from exporter.collectors.base import Collector

COLLECTORS: tuple[Collector[Any], ...] = (
    account.COLLECTOR,
    droplets.COLLECTOR,
    autoscale_pools.COLLECTOR,
    volumes.COLLECTOR,
    snapshots.COLLECTOR,
    reserved_ips.COLLECTOR,
    load_balancers.COLLECTOR,
    kubernetes.COLLECTOR,
    databases.COLLECTOR,
    apps.COLLECTOR,
    app_instance_sizes.COLLECTOR,
    domains.COLLECTOR,
    firewalls.COLLECTOR,
    vpcs.COLLECTOR,
    cdn.COLLECTOR,
    certificates.COLLECTOR,
    registry.COLLECTOR,
    uptime.COLLECTOR,
    projects.COLLECTOR,
    tags.COLLECTOR,
    actions.COLLECTOR,
    sizes.COLLECTOR,
    billing.COLLECTOR,
    invoice_summary.COLLECTOR,
    billing_history.COLLECTOR,
    billing_insights.COLLECTOR,
)


def collector_table() -> Mapping[str, Collector[Any]]:
    return {c.name: c for c in COLLECTORS}
