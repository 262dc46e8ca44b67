"""Every DigitalOcean product the simulator serves, one module each, collected in `KINDS`.

Each module declares one `KIND` (see `exporter.simulator.kind.Kind`): its name (the count
key), its routes with their scopes, its list endpoint, its default count, its builder and
how it takes objects given verbatim. Everything that lists kinds is derived from `KINDS`: the
route table (`exporter.simulator.endpoints.ENDPOINTS`), the fleet counts (`resource_counts`,
the counts `FleetSpec` accepts, the scenario keys that are counts), the build
(`build_resources`, in `BUILD_ORDER`), `Fleet.from_objects` (`verbatim.py`) and what
`/_simulator/state` reports. KINDS order is the order counts are worked out in (a default may
depend on the counts before it: Spaces buckets on CDN endpoints) and kinds are built in (a
kind waits for those it declares `after=`); it is also the order of each project's resources.

Adding a kind: write `kinds/<name>.py` with its handlers, builder and `KIND`, and add it to
`KINDS` below.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exporter.simulator.building import BuildContext
from exporter.simulator.handling import Endpoint
from exporter.simulator.kind import Kind, build_order
from exporter.simulator.kinds import (
    account,
    actions,
    addons,
    apps,
    autoscale_pools,
    billing,
    byoip_prefixes,
    catalog,
    cdn_endpoints,
    certificates,
    custom_images,
    daily_backups,
    database_details,
    database_versions,
    databases,
    dedicated_inferences,
    domains,
    droplets,
    firewalls,
    functions_namespaces,
    genai_agents,
    genai_knowledge_bases,
    gpu_droplets,
    kubernetes_clusters,
    kubernetes_upgrades,
    load_balancer_droplets,
    load_balancers,
    monitoring,
    nat_gateways,
    nfs_shares,
    projects,
    registry,
    reserved_ips,
    reserved_ipv6s,
    snapshots,
    spaces_buckets,
    spaces_keys,
    tags,
    uptime_checks,
    vector_databases,
    volumes,
    vpc_peerings,
    vpcs,
)
from exporter.simulator.resources import Forget, ResourceCounts, Resources
from exporter.simulator.spec import FleetSpec

KINDS: tuple[Kind, ...] = (
    account.KIND,
    droplets.KIND,
    gpu_droplets.KIND,
    billing.KIND,
    projects.KIND,
    certificates.KIND,
    load_balancers.KIND,
    load_balancer_droplets.KIND,
    kubernetes_clusters.KIND,
    kubernetes_upgrades.KIND,
    reserved_ips.KIND,
    reserved_ipv6s.KIND,
    databases.KIND,
    database_details.KIND,
    database_versions.KIND,
    vector_databases.KIND,
    apps.KIND,
    cdn_endpoints.KIND,
    spaces_buckets.KIND,
    spaces_keys.KIND,
    domains.KIND,
    firewalls.KIND,
    uptime_checks.KIND,
    snapshots.KIND,
    registry.KIND,
    volumes.KIND,
    vpcs.KIND,
    vpc_peerings.KIND,
    nat_gateways.KIND,
    byoip_prefixes.KIND,
    addons.KIND,
    autoscale_pools.KIND,
    monitoring.KIND,
    custom_images.KIND,
    nfs_shares.KIND,
    daily_backups.KIND,
    functions_namespaces.KIND,
    genai_agents.KIND,
    genai_knowledge_bases.KIND,
    dedicated_inferences.KIND,
    tags.KIND,
    actions.KIND,
    catalog.KIND,
)

BUILD_ORDER: tuple[Kind, ...] = build_order(KINDS)
"""KINDS order, a kind moved after the kinds it declares `after=` (CDN endpoints after the
Spaces buckets they are counted before)."""

COUNTED: tuple[Kind, ...] = tuple(kind for kind in KINDS if kind.count is not None)
"""The kinds a fleet has a number of: each is a `FleetSpec` keyword and a scenario key."""

DERIVED_COUNTS: tuple[str, ...] = tuple(
    kind.name for kind in COUNTED if kind.count is not None and kind.count.derive is not None
)
"""Counts whose FleetSpec default is None: worked out from the Droplets (`resource_counts`)."""


def kind_named(name: str) -> Kind:
    return next(kind for kind in KINDS if kind.name == name)


def kind_serving(endpoint: str) -> Kind:
    """The kind whose list endpoint is `endpoint` (e.g. "/v2/load_balancers")."""
    return next(kind for kind in KINDS if kind.list_endpoint == endpoint)


def all_endpoints() -> tuple[Endpoint, ...]:
    return tuple(route for kind in KINDS for route in kind.routes)


def resource_counts(spec: FleetSpec) -> ResourceCounts:
    """The derived counts of `spec`: explicit ones as given, None in proportion to the
    Droplets (see each kind's `Count`), raised with `problems=True`."""
    unknown = sorted(set(dict(spec.counts)) - {kind.name for kind in COUNTED})
    if unknown:
        known = ", ".join(kind.name for kind in COUNTED)
        raise ValueError(f"FleetSpec: no kind counts {', '.join(unknown)}; kinds: {known}")
    counts: dict[str, int] = {}
    for kind in COUNTED:
        if kind.count is None or kind.count.derive is None:
            continue
        given = spec.count(kind.name)
        counts[kind.name] = kind.count.resolve(given, spec.droplets, spec.problems, counts)
    return ResourceCounts(counts)


def plan_resources(context: BuildContext) -> None:
    """The kinds' `plan` steps, before volumes are attached (Kubernetes nodes)."""
    for kind in BUILD_ORDER:
        if kind.plan is not None:
            kind.plan(context)


def build_resources(context: BuildContext, volumes: Sequence[dict[str, Any]]) -> Resources:
    """Every kind's objects, once the Droplets and volumes are final, in `BUILD_ORDER`."""
    context.volumes = volumes
    for kind in BUILD_ORDER:
        if kind.build is None:
            continue
        context.building(kind.after)
        built = kind.build(context)
        if built is not None:
            context.keep(kind.name, built)
    context.building(())
    return context.resources()


def forgetting() -> dict[str, Forget]:
    """How each kind that points at Droplets lets go of destroyed ones."""
    return {kind.name: kind.forget for kind in KINDS if kind.forget is not None}
