"""Prometheus HTTP service discovery from the inventory already polled: `/sd/droplets`,
`/sd/kubernetes_nodes`, `/sd/load_balancers` and `/sd/databases`.

Each answer is Prometheus' http_sd format (a JSON list of `{"targets": [...], "labels": {...}}`,
one group per target) for every account, built from the latest good data in the snapshot store:
no API request is ever made for it and it never waits for a poll. Stale data is still served
(unlike `/metrics`): Prometheus drops a target that leaves the list, and an API outage must not
stop the scrapes of node_exporter on Droplets that are still there.

Labels, so that node_exporter series join this exporter's series without keeping every
descriptive label on every node_exporter series:

* plain labels, attached to every series scraped from the target: `account` and the id labels
  this exporter's series carry (`droplet_id`; `cluster_id`, `node_id` and `droplet_id`;
  `load_balancer_id`; `database_id`), the join keys;
* `__meta_digitalocean_exporter_<name>` labels for everything else (name, region, size,
  project, tags, addresses, ...), available to relabelling and dropped after it unless a rule
  keeps them: every tag as `..._tag_<tag>="1"` (the tag made a valid label name) and all of them
  as `..._tags=",web,prod,"`, with commas around like Prometheus' own `__meta_digitalocean_tags`.

Query parameters: `port` (default 9100 for Droplets and nodes, 80 for load balancers, the API's
own port for databases), and for Droplets and nodes `network=public|private` (default public),
which IPv4 address the target gets; objects without such an address are left out. Until the
first polls have ended the answer is a 503: Prometheus keeps its previous list when a refresh
fails, where an empty list would drop every target.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import parse_qs

from exporter.collectors.databases import DatabaseRecord
from exporter.collectors.droplets import DropletRecord
from exporter.collectors.kubernetes import ClusterRecord
from exporter.collectors.load_balancers import LoadBalancerRecord
from exporter.collectors.projects import ProjectRecord
from exporter.snapshot import Snapshot, SnapshotKey

PREFIX = "/sd/"
META = "__meta_digitalocean_exporter_"
JSON_CONTENT_TYPE = "application/json"
NETWORKS = ("public", "private")
# the kinds served, with their default target port (None: the port the API gives)
DEFAULT_PORTS: Mapping[str, int | None] = {
    "droplets": 9100,
    "kubernetes_nodes": 9100,
    "load_balancers": 80,
    "databases": None,
}
PATHS = tuple(PREFIX + kind for kind in DEFAULT_PORTS)
CACHED_ANSWERS = 16  # distinct (kind, query) answers kept until the data changes
_NETWORK_KINDS = frozenset({"droplets", "kubernetes_nodes"})
_NOT_A_LABEL_CHARACTER = re.compile(r"[^a-zA-Z0-9_]")

TargetGroup = dict[str, Any]  # {"targets": [address], "labels": {name: value}}
Record = TypeVar("Record")


class QueryError(ValueError):
    """A query parameter Prometheus' `http_sd_configs` URL got wrong; the text says how."""


@dataclass(frozen=True)
class TargetQuery:
    port: int | None = None  # None: the kind's default
    network: str = "public"


def parse_query(kind: str, query: str) -> TargetQuery:
    """The parameters of one request to `/sd/<kind>`; unknown or repeated ones are errors, so a
    typo (`?ports=9100`) is not silently ignored."""
    allowed = ("port", "network") if kind in _NETWORK_KINDS else ("port",)
    try:
        values = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise QueryError(f"cannot parse the query string {query!r}") from None
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise QueryError(f"unknown query parameter {unknown[0]!r}; /sd/{kind} takes "
                         + " and ".join(allowed))
    for name, given in values.items():
        if len(given) > 1:
            raise QueryError(f"query parameter {name!r} is given {len(given)} times; give it once")
    port = None
    if "port" in values:
        text = values["port"][0]
        if not text.isdigit() or not 0 < int(text) < 65536:
            raise QueryError(f"port must be a number from 1 to 65535, got {text!r}")
        port = int(text)
    network = values.get("network", ["public"])[0]
    if network not in NETWORKS:
        raise QueryError(f"network must be public or private, got {network!r}")
    return TargetQuery(port, network)


def tag_label(tag: str) -> str:
    """The meta label of one tag: `k8s:worker` → `__meta_digitalocean_exporter_tag_k8s_worker`."""
    return f"{META}tag_{_NOT_A_LABEL_CHARACTER.sub('_', tag)}"


@dataclass(frozen=True)
class Inventory:
    """One account's latest polled data, as discovery reads it."""

    account: str
    droplets: tuple[DropletRecord, ...] = ()
    clusters: tuple[ClusterRecord, ...] = ()
    load_balancers: tuple[LoadBalancerRecord, ...] = ()
    databases: tuple[DatabaseRecord, ...] = ()
    projects: tuple[ProjectRecord, ...] = ()

    @cached_property
    def _by_resource(self) -> dict[tuple[str, str], ProjectRecord]:
        found: dict[tuple[str, str], ProjectRecord] = {}
        for project in self.projects:
            for resource in project.resources:
                found.setdefault(resource, project)
        return found

    @cached_property
    def _by_id(self) -> dict[str, ProjectRecord]:
        return {project.project_id: project for project in self.projects}

    def project_labels(self, resource_type: str, resource_id: str,
                       project_id: str = "") -> dict[str, str]:
        """`project` (its name) and `project_id` of a resource: from the id the resource names
        itself, else from the projects collector's resource lists; none when unknown."""
        if project_id:
            project = self._by_id.get(project_id)
        else:
            project = self._by_resource.get((resource_type, resource_id))
        if project is None:
            return {"project_id": project_id} if project_id else {}
        return {"project": project.name, "project_id": project.project_id}


def _records(snapshot: Snapshot | None, kind: type[Record]) -> tuple[Record, ...]:
    data = snapshot.data if snapshot is not None else None
    if not isinstance(data, tuple):
        return ()
    return tuple(item for item in data if isinstance(item, kind))


def inventories(snapshots: Iterable[tuple[SnapshotKey, Snapshot]]) -> list[Inventory]:
    """One Inventory per account that has any snapshot, sorted by account name."""
    by_account: dict[str, dict[str, Snapshot]] = {}
    for (account, collector), snapshot in snapshots:
        by_account.setdefault(account, {})[collector] = snapshot
    return [
        Inventory(
            account=account,
            droplets=_records(polled.get("droplets"), DropletRecord),
            clusters=_records(polled.get("kubernetes"), ClusterRecord),
            load_balancers=_records(polled.get("load_balancers"), LoadBalancerRecord),
            databases=_records(polled.get("databases"), DatabaseRecord),
            projects=_records(polled.get("projects"), ProjectRecord),
        )
        for account, polled in sorted(by_account.items())
    ]


def _group(address: str, plain: Mapping[str, str], meta: Mapping[str, str],
           tags: Sequence[str] = ()) -> TargetGroup:
    labels = dict(plain)
    labels.update((META + name, value) for name, value in meta.items() if value)
    if tags:
        labels[META + "tags"] = "," + ",".join(tags) + ","
        labels.update((tag_label(tag), "1") for tag in tags)
    return {"targets": [address], "labels": dict(sorted(labels.items()))}


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _droplet_meta(droplet: DropletRecord) -> dict[str, str]:
    return {
        "droplet_id": str(droplet.droplet_id),
        "droplet_name": droplet.name,
        "region": droplet.region,
        "size": droplet.size,
        "image": droplet.image,
        "vpc_uuid": droplet.vpc_uuid,
        "status": droplet.status,
        "public_ipv4": droplet.public_ipv4,
        "private_ipv4": droplet.private_ipv4,
    }


def _droplet_ip(droplet: DropletRecord, network: str) -> str:
    return droplet.public_ipv4 if network == "public" else droplet.private_ipv4


def droplet_groups(inventory: Inventory, query: TargetQuery) -> list[TargetGroup]:
    port = query.port or 9100
    groups = []
    for droplet in inventory.droplets:
        ip = _droplet_ip(droplet, query.network)
        if not ip:
            continue
        droplet_id = str(droplet.droplet_id)
        meta = {"account": inventory.account, **_droplet_meta(droplet),
                **inventory.project_labels("droplet", droplet_id)}
        groups.append(_group(_address(ip, port),
                             {"account": inventory.account, "droplet_id": droplet_id},
                             meta, droplet.tags))
    return groups


def kubernetes_node_groups(inventory: Inventory, query: TargetQuery) -> list[TargetGroup]:
    """One target per node whose Droplet is in the same account's Droplet list (its address
    comes from there: the Kubernetes API answer has none)."""
    port = query.port or 9100
    droplets = {str(d.droplet_id): d for d in inventory.droplets}
    groups = []
    for cluster in inventory.clusters:
        project = inventory.project_labels("kubernetes", cluster.cluster_id)
        for pool in cluster.node_pools:
            for node in pool.nodes:
                droplet = droplets.get(node.droplet_id)
                ip = _droplet_ip(droplet, query.network) if droplet is not None else ""
                if droplet is None or not ip:
                    continue
                plain = {"account": inventory.account, "cluster_id": cluster.cluster_id,
                         "node_id": node.node_id, "droplet_id": node.droplet_id}
                meta = {**plain, **_droplet_meta(droplet), **project,
                        "cluster_name": cluster.name, "cluster_version": cluster.version,
                        "node_pool_id": pool.node_pool_id, "node_pool_name": pool.name,
                        "node_name": node.name, "node_status": node.status}
                groups.append(_group(_address(ip, port), plain, meta, droplet.tags))
    return groups


def load_balancer_groups(inventory: Inventory, query: TargetQuery) -> list[TargetGroup]:
    port = query.port or 80
    groups = []
    for lb in inventory.load_balancers:
        if not lb.ip:
            continue
        plain = {"account": inventory.account, "load_balancer_id": lb.load_balancer_id}
        meta = {**plain, "load_balancer_name": lb.name, "region": lb.region, "type": lb.type,
                "network": lb.network, "size": lb.size, "ip": lb.ip, "vpc_uuid": lb.vpc_uuid,
                "status": lb.status,
                **inventory.project_labels("loadbalancer", lb.load_balancer_id)}
        groups.append(_group(_address(lb.ip, port), plain, meta))
    return groups


def database_groups(inventory: Inventory, query: TargetQuery) -> list[TargetGroup]:
    """One target per metrics endpoint of each cluster (the primary's, then the standbys'):
    public hostnames; scraping them needs the credentials of /v2/databases/metrics/credentials,
    which the scrape job carries, never this answer."""
    groups = []
    for db in inventory.databases:
        plain = {"account": inventory.account, "database_id": db.database_id}
        meta = {**plain, "database_name": db.name, "engine": db.engine, "version": db.version,
                "region": db.region, "size": db.size, "vpc_uuid": db.vpc_uuid,
                "status": db.status,
                **inventory.project_labels("dbaas", db.database_id, db.project_id)}
        for host, port in db.metrics_endpoints:
            groups.append(_group(_address(host, query.port or port), plain, meta, db.tags))
    return groups


_BUILDERS: Mapping[str, Callable[[Inventory, TargetQuery], list[TargetGroup]]] = {
    "droplets": droplet_groups,
    "kubernetes_nodes": kubernetes_node_groups,
    "load_balancers": load_balancer_groups,
    "databases": database_groups,
}


def target_groups(kind: str, snapshots: Iterable[tuple[SnapshotKey, Snapshot]],
                  query: TargetQuery) -> list[TargetGroup]:
    """Every account's targets of one kind, accounts by name and objects by id."""
    build = _BUILDERS[kind]
    return [group for inventory in inventories(snapshots) for group in build(inventory, query)]


@dataclass(frozen=True)
class DiscoveryAnswer:
    status: HTTPStatus
    body: bytes
    content_type: str = JSON_CONTENT_TYPE


class ServiceDiscovery:
    """Answers `/sd/<kind>?<query>` for the HTTP threads. Reads the store (each snapshot an
    immutable reference) and readiness; nothing here waits on the event loop.

    Answers are kept until the store's data changes (`version`): a 10,000-Droplet list is a
    few hundred milliseconds of CPU to build, and two Prometheus replicas, or several jobs,
    ask for the same one. At most CACHED_ANSWERS distinct queries are kept.
    """

    def __init__(
        self,
        snapshots: Callable[[], Iterable[tuple[SnapshotKey, Snapshot]]],
        readiness: Callable[[], tuple[bool, Sequence[str]]],
        version: Callable[[], int] = lambda: -1,
    ) -> None:
        self._snapshots = snapshots
        self._readiness = readiness
        self._version = version
        self._lock = threading.Lock()
        self._cached_version: int | None = None
        self._cached: dict[tuple[str, TargetQuery], bytes] = {}
        self.builds = 0  # answers built rather than taken from the cache

    @property
    def cached_answers(self) -> int:
        return len(self._cached)

    def answer(self, path: str, query: str) -> DiscoveryAnswer | None:
        """The answer for a path under /sd/, or None when the path is no discovery endpoint."""
        kind = path.removeprefix(PREFIX)
        if not path.startswith(PREFIX) or kind not in DEFAULT_PORTS:
            return None
        try:
            parsed = parse_query(kind, query)
        except QueryError as exc:
            return DiscoveryAnswer(HTTPStatus.BAD_REQUEST, f"{exc}\n".encode(),
                                   "text/plain; charset=utf-8")
        ready, pending = self._readiness()
        if not ready:
            # an error keeps Prometheus' previous list; [] would drop every target
            text = "not ready: waiting for the first poll of " + ", ".join(pending) + "\n"
            return DiscoveryAnswer(HTTPStatus.SERVICE_UNAVAILABLE, text.encode(),
                                   "text/plain; charset=utf-8")
        try:
            body = self._body(kind, parsed)
        except Exception as exc:  # a bug must not drop the connection: Prometheus keeps its list
            return DiscoveryAnswer(HTTPStatus.INTERNAL_SERVER_ERROR,
                                   f"discovery failed: {type(exc).__name__}\n".encode(),
                                   "text/plain; charset=utf-8")
        return DiscoveryAnswer(HTTPStatus.OK, body)

    def _body(self, kind: str, query: TargetQuery) -> bytes:
        version = self._version()  # read before the data: a change during the build is seen next time
        key = (kind, query)
        with self._lock:
            if version != self._cached_version or version < 0:
                self._cached_version = version
                self._cached.clear()
            found = self._cached.get(key)
            if found is not None:
                return found
            # built under the lock: concurrent asks for the same list wait for one build
            self.builds += 1
            groups = target_groups(kind, self._snapshots(), query)
            body = json.dumps(groups, separators=(",", ":")).encode() + b"\n"
            if len(self._cached) >= CACHED_ANSWERS:
                self._cached.clear()
            self._cached[key] = body
            return body
