"""Resources given as plain JSON objects (e.g. the spec's own examples), served as they are.

`Fleet.from_objects` uses this: each object comes back byte for byte (re-serialised compactly),
except that database credentials are shown only to tokens allowed to see them. Listings the
caller does not give are derived from what is given: one default project holding everything,
VPC members from the objects' VPC fields, tags counted from the objects' tags.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from exporter.simulator.items import Item, make_item
from exporter.simulator.resources import Resources, catalog_items, member_entry, project_entry
from exporter.simulator.timefmt import iso_utc

Objects = Sequence[Mapping[str, Any]]

SECRET_DATABASE_FIELDS = (
    "connection",
    "private_connection",
    "standby_connection",
    "standby_private_connection",
    "ui_connection",
    "schema_registry_connection",
    "users",
)
"""Fields of a database cluster that hold credentials: only for `database:view_credentials`."""

EPOCH = "1970-01-01T00:00:00Z"


def public_database(database: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in database.items() if key not in SECRET_DATABASE_FIELDS}


@dataclass
class GivenObjects:
    """Everything `Fleet.from_objects` accepts besides Droplets, volumes and billing."""

    snapshots: Objects = ()
    reserved_ips: Objects = ()
    reserved_ipv6s: Objects = ()
    load_balancers: Objects = ()
    kubernetes_clusters: Objects = ()
    databases: Objects = ()
    apps: Objects = ()
    domains: Objects = ()
    domain_records: Mapping[str, Objects] = field(default_factory=dict)
    firewalls: Objects = ()
    vpcs: Objects = ()
    vpc_members: Mapping[str, Objects] | None = None
    cdn_endpoints: Objects = ()
    certificates: Objects = ()
    registry: Mapping[str, Any] | None = None
    registry_subscription: Mapping[str, Any] | None = None
    uptime_checks: Objects = ()
    uptime_states: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    projects: Objects | None = None
    project_resources: Mapping[str, Objects] | None = None
    tags: Objects | None = None
    sizes: Objects | None = None
    regions: Objects | None = None


def item(value: Mapping[str, Any], key: str = "id", **facts: Any) -> Item:
    return make_item(dict(value), id=str(value.get(key, "")), **facts)


def text(value: object) -> str:
    return "" if value is None else str(value)


def resources_from_objects(
    given: GivenObjects,
    *,
    volumes: Objects,
    owner_uuid: str,
    owner_id: int,
    account_name: str,
) -> Resources:
    snapshots = tuple(
        item(s, tags=tuple(s.get("tags") or ()), extra=s.get("resource_type"))
        for s in given.snapshots
    )
    tag_sources: list[tuple[str, str, str]] = []
    for snapshot in given.snapshots:
        kind = "images" if snapshot.get("resource_type") == "droplet" else "volume_snapshots"
        path = "images" if kind == "images" else "snapshots"
        for tag in snapshot.get("tags") or ():
            tag_sources.append((str(tag), kind, f"/v2/{path}/{snapshot.get('id')}"))
    databases = []
    for database in given.databases:
        private = item(database, urn=f"do:dbaas:{database.get('id')}")
        databases.append(
            item(
                public_database(database),
                tags=tuple(database.get("tags") or ()),
                urn=f"do:dbaas:{database.get('id')}",
                private=private,
            )
        )
        for tag in database.get("tags") or ():
            tag_sources.append((str(tag), "databases", f"/v2/databases/{database.get('id')}"))
    apps = tuple(item(app, urn=f"do:app:{app.get('id')}", private=item(app)) for app in given.apps)
    reserved_ips = tuple(
        item(ip, key="ip", extra=(ip.get("droplet") or {}).get("id")) for ip in given.reserved_ips
    )
    load_balancers = tuple(
        item(lb, droplet_ids=tuple(lb.get("droplet_ids") or ()), urn=f"do:loadbalancer:{lb.get('id')}")
        for lb in given.load_balancers
    )
    clusters = tuple(
        item(
            cluster,
            droplet_ids=tuple(
                int(node["droplet_id"])
                for pool in cluster.get("node_pools") or ()
                for node in pool.get("nodes") or ()
                if str(node.get("droplet_id", "")).isdigit()
            ),
            urn=f"do:kubernetes:{cluster.get('id')}",
        )
        for cluster in given.kubernetes_clusters
    )
    firewalls = tuple(
        item(fw, droplet_ids=tuple(fw.get("droplet_ids") or ())) for fw in given.firewalls
    )
    domains = tuple(item(d, key="name", urn=f"do:domain:{d.get('name')}") for d in given.domains)
    records = {
        name: tuple(
            item(record, name=text(record.get("name")), extra=record.get("type")) for record in rows
        )
        for name, rows in given.domain_records.items()
    }
    projects = tuple(item(p) for p in given.projects) if given.projects is not None else (
        default_project(owner_uuid, owner_id, account_name),
    )
    default = next(
        (p for p in projects if b'"is_default":true' in p.parts[0]), projects[0]
    )
    if given.project_resources is not None:
        members = {
            project: tuple(item(entry, key="urn") for entry in entries)
            for project, entries in given.project_resources.items()
        }
        in_projects = False
    else:
        assigned = [
            *(
                (f"do:{kind}:{value.get('id')}", f"{path}/{value.get('id')}", value.get("created_at"))
                for kind, path, objects in (
                    ("volume", "/v2/volumes", volumes),
                    ("loadbalancer", "/v2/load_balancers", given.load_balancers),
                    ("kubernetes", "/v2/kubernetes/clusters", given.kubernetes_clusters),
                    ("dbaas", "/v2/databases", given.databases),
                    ("app", "/v2/apps", given.apps),
                )
                for value in objects
            ),
            *((f"do:domain:{d.get('name')}", f"/v2/domains/{d.get('name')}", EPOCH)
              for d in given.domains),
            *((f"do:floatingip:{ip.get('ip')}", f"/v2/reserved_ips/{ip.get('ip')}", EPOCH)
              for ip in given.reserved_ips),
        ]
        members = {
            str(default.id): tuple(
                Item(id=urn, parts=(project_entry(urn, path, text(when) or EPOCH),), urn=urn)
                for urn, path, when in assigned
            )
        }
        in_projects = True
    if given.vpc_members is not None:
        vpc_members = {
            vpc: tuple(item(entry, key="urn") for entry in entries)
            for vpc, entries in given.vpc_members.items()
        }
        in_vpcs = False
    else:
        derived: dict[str, list[Item]] = {}
        for kind, objects, vpc_key in (
            ("loadbalancer", given.load_balancers, "vpc_uuid"),
            ("kubernetes", given.kubernetes_clusters, "vpc_uuid"),
            ("dbaas", given.databases, "private_network_uuid"),
        ):
            for value in objects:
                vpc = text(value.get(vpc_key))
                if vpc:
                    urn = f"do:{kind}:{value.get('id')}"
                    created = text(value.get("created_at")) or EPOCH
                    derived.setdefault(vpc, []).append(
                        member_entry(urn, text(value.get("name")), created)
                    )
        vpc_members = {vpc: tuple(entries) for vpc, entries in derived.items()}
        in_vpcs = True
    sizes, regions = catalog_items()
    state_items = {
        check: make_item({"state": dict(state.get("state", state))}, id=check)
        for check, state in given.uptime_states.items()
    }
    return Resources(
        snapshots=snapshots,
        reserved_ips=reserved_ips,
        reserved_ipv6s=tuple(item(ip, key="ip") for ip in given.reserved_ipv6s),
        load_balancers=load_balancers,
        kubernetes_clusters=clusters,
        databases=tuple(databases),
        apps=apps,
        domains=domains,
        domain_records=records,
        firewalls=firewalls,
        vpcs=tuple(item(vpc) for vpc in given.vpcs),
        cdn_endpoints=tuple(item(cdn) for cdn in given.cdn_endpoints),
        certificates=tuple(item(c, name=text(c.get("name"))) for c in given.certificates),
        registry=None if given.registry is None else item({"registry": given.registry}),
        registry_subscription=(
            None
            if given.registry_subscription is None
            else item({"subscription": given.registry_subscription})
        ),
        uptime_checks=tuple(item(check) for check in given.uptime_checks),
        uptime_states=state_items,
        projects=projects,
        project_members=members,
        droplets_in_projects=in_projects,
        vpc_members=vpc_members,
        droplets_in_vpcs=in_vpcs,
        tags=None if given.tags is None else tuple(item(t, key="name") for t in given.tags),
        tag_sources=tuple(tag_sources),
        sizes=sizes if given.sizes is None else tuple(item(s, key="slug") for s in given.sizes),
        regions=(
            regions if given.regions is None else tuple(item(r, key="slug") for r in given.regions)
        ),
    )


def default_project(owner_uuid: str, owner_id: int, account_name: str) -> Item:
    created = iso_utc(1_577_836_800)
    project = {
        "id": "00000000-0000-4000-8000-000000000001",
        "owner_uuid": owner_uuid,
        "owner_id": owner_id,
        "name": account_name.replace("-", " ").title(),
        "description": "Default project",
        "purpose": "Operational / Developer tooling",
        "environment": "Production",
        "created_at": created,
        "updated_at": created,
        "is_default": True,
    }
    return item(project, hourly_cost=Decimal(0))
