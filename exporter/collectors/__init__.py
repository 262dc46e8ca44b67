"""The collector table: every resource the exporter knows, in exposition order.

Flags, config defaults, docs and tests are all derived from this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exporter.collectors import (
    account,
    app_instance_sizes,
    app_metrics,
    apps,
    autoscale_members,
    autoscale_metrics,
    autoscale_pools,
    billing,
    billing_history,
    billing_insights,
    cdn,
    certificates,
    database_metrics,
    databases,
    dedicated_inferences,
    domains,
    droplet_backups,
    droplet_metrics,
    droplets,
    firewalls,
    functions,
    genai_agents,
    genai_knowledge_bases,
    images,
    invoice_summary,
    kubernetes,
    load_balancer_metrics,
    load_balancers,
    nfs,
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
    droplet_metrics.COLLECTOR,
    autoscale_pools.COLLECTOR,
    autoscale_metrics.COLLECTOR,
    autoscale_members.COLLECTOR,
    volumes.COLLECTOR,
    snapshots.COLLECTOR,
    images.COLLECTOR,
    nfs.COLLECTOR,
    droplet_backups.COLLECTOR,
    reserved_ips.COLLECTOR,
    load_balancers.COLLECTOR,
    load_balancer_metrics.COLLECTOR,
    kubernetes.COLLECTOR,
    databases.COLLECTOR,
    database_metrics.COLLECTOR,
    apps.COLLECTOR,
    app_metrics.COLLECTOR,
    functions.COLLECTOR,
    genai_agents.COLLECTOR,
    genai_knowledge_bases.COLLECTOR,
    dedicated_inferences.COLLECTOR,
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
    sizes.COLLECTOR,
    billing.COLLECTOR,
    invoice_summary.COLLECTOR,
    billing_history.COLLECTOR,
    billing_insights.COLLECTOR,
)


def collector_table() -> Mapping[str, Collector[Any]]:
    return {c.name: c for c in COLLECTORS}
