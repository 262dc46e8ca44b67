"""Everything an account runs besides Droplets, volumes and billing, generated to agree.

`ResourceBuilder` makes, deterministically from the `FleetSpec` seed, the snapshots, reserved
IPs, load balancers, Kubernetes clusters, databases, apps, domains and their records,
firewalls, VPCs, CDN endpoints, certificates, the container registry, uptime checks, projects
and Spaces buckets of one account, all consistent with its Droplets and volumes:

* Kubernetes worker nodes ARE Droplets of the fleet: active Droplets (those with the `k8s`
  role tag first) are turned into nodes (named after the pool, tagged `k8s`, `k8s:<cluster
  id>`, `k8s:worker`, sized like the pool, in the cluster's region). Only a fleet without
  enough active Droplets gets extra, dedicated node Droplets.
* load balancers, firewalls, reserved IPs and DNS records point at Droplets (and certificates)
  that exist; a load balancer made by a cluster targets its nodes through `k8s:<cluster id>`.
* every resource is in exactly one project, every Droplet, load balancer, cluster and database
  in the default VPC of its region (databases may use a custom VPC), and `/v2/tags` counts
  exactly the tagged objects.
* snapshot ages, certificate expiry, uptime state changes and the newest app deployments are
  relative to the clock (`Stamp`), so "older than 90 days" and "expires within 14 days" stay
  true whatever the date.

Each kind has its own seeded random stream, so changing one count leaves the others alone. A
spec's `problems` decides the alert-worthy states (see `FleetSpec.problems`). How many of each
kind comes in as `ResourceCounts` (worked out from `exporter.simulator.kinds.KINDS`); each
kind module names its `build_<kind>` method here as its builder.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from exporter.simulator.catalog import (
    APP_INSTANCE_PRICES,
    DATABASE_ENGINE_WEIGHTS,
    DATABASE_ENGINES,
    DATABASE_SIZE_WEIGHTS,
    DATABASE_SIZES,
    HOURS_BILLED_PER_MONTH,
    KUBERNETES_HA_CONTROL_PLANE_MONTHLY,
    KUBERNETES_NODE_SIZES,
    KUBERNETES_VERSIONS,
    LOAD_BALANCER_MONTHLY_PER_NODE,
    REGIONS_BY_SLUG,
    REGISTRY_REGIONS,
    REGISTRY_TIERS,
    SNAPSHOT_PRICE_PER_GIB_MONTH,
    SPACES_REGIONS,
    app_region_for,
    regions_catalog,
    sizes_catalog,
)
from exporter.simulator.determinism import seeded_random, stable_hex, stable_int, stable_uuid
from exporter.simulator.droplet_factory import DropletFactory, KubernetesNode
from exporter.simulator.items import (
    BASE_URL,
    DAY,
    DropletRef,
    Item,
    Stamp,
    encode_with_slots,
    make_item,
)
from exporter.simulator.spec import FleetSpec
from exporter.simulator.timefmt import iso_utc

JsonObject = dict[str, Any]

HOUR = 3600
HOURS = Decimal(HOURS_BILLED_PER_MONTH)

APP_WORDS = (
    "storefront",
    "api-gateway",
    "docs",
    "admin-panel",
    "webhooks",
    "status-page",
    "checkout",
    "marketing",
    "search",
    "notifier",
)
DATABASE_WORDS = ("orders", "sessions", "analytics", "users", "inventory", "events", "billing")
BUCKET_WORDS = ("static", "backups", "media", "logs", "artifacts", "uploads")
DOMAIN_WORDS = ("shop", "status", "docs", "mail", "blog")
PROJECT_NAMES = ("Web Platform", "Data Services", "Machine Learning", "Internal Tools")
SNAPSHOT_LABELS = ("weekly", "pre-upgrade", "before-resize", "golden-image", "manual")
POOL_NAMES = ("default-pool", "workers", "highmem", "batch")
UPTIME_REGION_SETS = (
    ("us_east", "eu_west"),
    ("us_east", "us_west", "eu_west", "se_asia"),
    ("us_west", "se_asia"),
    ("eu_west", "se_asia", "us_east"),
)
ANYWHERE = ("0.0.0.0/0", "::/0")
NAMESERVERS = ("ns1.digitalocean.com", "ns2.digitalocean.com", "ns3.digitalocean.com")


def account_slug(account_name: str) -> str:
    """A DNS- and name-safe form of an account name ("Prod Team" -> "prod-team")."""
    slug = re.sub(r"[^a-z0-9]+", "-", account_name.lower()).strip("-")
    return slug or "account"


def unix(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def monthly(price: float | Decimal) -> Decimal:
    """An hourly cost from a monthly price."""
    return Decimal(str(price)) / HOURS


def base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


class ResourceCounts(Mapping[str, int]):
    """How many of each kind a spec asks for, defaults worked out (`kinds.resource_counts`);
    read as attributes (`counts.load_balancers`) or by kind name."""

    def __init__(self, counts: Mapping[str, int]) -> None:
        self._counts = dict(counts)

    def __getitem__(self, name: str) -> int:
        return self._counts[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._counts)

    def __len__(self) -> int:
        return len(self._counts)

    def __getattr__(self, name: str) -> int:
        try:
            return self._counts[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return f"ResourceCounts({self._counts!r})"


@dataclass(frozen=True)
class Resources:
    """The generated (or given) objects of every kind but Droplets, volumes and billing."""

    snapshots: tuple[Item, ...] = ()
    reserved_ips: tuple[Item, ...] = ()
    """Their `droplet` is a `DropletRef` slot: the Droplet's live object, or null."""
    reserved_ipv6s: tuple[Item, ...] = ()
    load_balancers: tuple[Item, ...] = ()
    kubernetes_clusters: tuple[Item, ...] = ()
    databases: tuple[Item, ...] = ()
    """Without credentials; `private` holds the object with them."""
    apps: tuple[Item, ...] = ()
    """Without `project_id`; `private` holds the object with it (`?with_projects=true`)."""
    domains: tuple[Item, ...] = ()
    domain_records: Mapping[str, tuple[Item, ...]] = field(default_factory=dict)
    firewalls: tuple[Item, ...] = ()
    vpcs: tuple[Item, ...] = ()
    cdn_endpoints: tuple[Item, ...] = ()
    certificates: tuple[Item, ...] = ()
    registry: Item | None = None
    registry_subscription: Item | None = None
    uptime_checks: tuple[Item, ...] = ()
    uptime_states: Mapping[str, Item] = field(default_factory=dict)
    projects: tuple[Item, ...] = ()
    spaces_buckets: tuple[Item, ...] = ()
    project_members: Mapping[str, tuple[Item, ...]] = field(default_factory=dict)
    """Project resource entries of everything but Droplets, per project id."""
    droplet_projects: Mapping[int | str, str] = field(default_factory=dict)
    """The project of each generated Droplet; any other (a new one) is in the default project."""
    droplets_in_projects: bool = True
    """False: `project_members` lists the Droplets too (objects given verbatim)."""
    vpc_members: Mapping[str, tuple[Item, ...]] = field(default_factory=dict)
    """VPC member entries of everything but Droplets, per VPC id."""
    droplets_in_vpcs: bool = True
    """False: `vpc_members` lists the Droplets too (objects given verbatim)."""
    tags: tuple[Item, ...] | None = None
    """`/v2/tags` given verbatim; None: counted from the fleet."""
    tag_sources: tuple[tuple[str, str, str], ...] = ()
    """(tag, kind, path) of tagged snapshots and databases, for `/v2/tags`."""
    sizes: tuple[Item, ...] = ()
    regions: tuple[Item, ...] = ()


def forget_droplets(resources: Resources, gone: set[int]) -> Resources:
    """`resources` after the Droplets `gone` were destroyed: they leave load balancers,
    firewalls and node pools (reserved IPs follow by themselves: their Droplet is looked up
    when they are served)."""
    if not gone:
        return resources

    def without(items: tuple[Item, ...], edit: Callable[[JsonObject], None]) -> tuple[Item, ...]:
        if not any(gone.intersection(item.droplet_ids) for item in items):
            return items
        changed = []
        for item in items:
            if not gone.intersection(item.droplet_ids):
                changed.append(item)
                continue
            value = item.as_json()
            edit(value)
            parts, slots = encode_with_slots(value)
            remaining = tuple(i for i in item.droplet_ids if i not in gone)
            changed.append(replace(item, parts=parts, slots=slots, droplet_ids=remaining))
        return tuple(changed)

    def load_balancer(value: JsonObject) -> None:
        value["droplet_ids"] = [i for i in value.get("droplet_ids") or () if i not in gone]

    def firewall(value: JsonObject) -> None:
        value["droplet_ids"] = [i for i in value.get("droplet_ids") or () if i not in gone]
        value["pending_changes"] = [
            change
            for change in value.get("pending_changes") or ()
            if change.get("droplet_id") not in gone
        ]

    def cluster(value: JsonObject) -> None:
        # The pool keeps its desired `count`; the destroyed node is simply gone.
        for pool in value.get("node_pools") or ():
            pool["nodes"] = [
                node
                for node in pool.get("nodes") or ()
                if not str(node.get("droplet_id", "")).isdigit()
                or int(node["droplet_id"]) not in gone
            ]

    return replace(
        resources,
        load_balancers=without(resources.load_balancers, load_balancer),
        firewalls=without(resources.firewalls, firewall),
        kubernetes_clusters=without(resources.kubernetes_clusters, cluster),
    )


@cache
def catalog_items() -> tuple[tuple[Item, ...], tuple[Item, ...]]:
    """`/v2/sizes` and `/v2/regions`: the same for every account, serialised once."""
    sizes = tuple(make_item(size, id=size["slug"]) for size in sizes_catalog())
    regions = tuple(make_item(region, id=region["slug"]) for region in regions_catalog())
    return sizes, regions


def project_entry(urn: str, path: str, assigned_at: str) -> bytes:
    """One `/v2/projects/{id}/resources` entry; `links.self` is completed per request."""
    return (
        f'{{"urn":"{urn}","assigned_at":"{assigned_at}",'
        f'"links":{{"self":"{BASE_URL}{path}"}},"status":"ok"}}'
    ).encode()


RecordRow = tuple[str, str, str, int, int | None]
"""(type, name, data, ttl, priority) of one DNS record."""


def zone_line(zone: str, serial: int, row: RecordRow) -> str:
    """The record as a line of the domain's `zone_file`."""
    kind, name, data, ttl, priority = row
    owner = f"{zone}." if name == "@" else f"{name}.{zone}."
    if kind == "SOA":
        return (
            f"{owner} IN SOA ns1.digitalocean.com. hostmaster.{zone}. {1_700_000_000 + serial} "
            "10800 3600 604800 1800"
        )
    value = f'"{data}"' if kind == "TXT" else data
    if priority is not None:
        value = f"{priority} {value}"
    if kind == "CAA":
        value = f"0 issue {value}"
    return f"{owner} {ttl} IN {kind} {value}"


def member_entry(urn: str, name: str, created_at: str) -> Item:
    return make_item({"urn": urn, "name": name, "created_at": created_at}, id=urn, urn=urn)


@dataclass
class NodePlan:
    id: str
    name: str
    droplet_id: int
    created_at: str
    state: str = "running"


@dataclass
class PoolPlan:
    id: str
    name: str
    size: str
    tags: tuple[str, ...]
    nodes: list[NodePlan]
    auto_scale: bool = False
    min_nodes: int = 0
    max_nodes: int = 0


@dataclass
class ClusterPlan:
    index: int
    id: str
    name: str
    region: str
    version: str
    state: str
    message: str
    tags: tuple[str, ...]
    pools: list[PoolPlan]
    created: int = 0
    ha: bool = False

    @property
    def droplet_ids(self) -> tuple[int, ...]:
        return tuple(node.droplet_id for pool in self.pools for node in pool.nodes)


class ResourceBuilder:
    """Generates one account's other resources around its (not yet serialised) Droplets.

    Call `plan_kubernetes()` before volumes are attached (it turns Droplets into nodes), then
    `build(volumes)` once the Droplets and volumes are final (snapshots add `snapshot_ids`).
    """

    def __init__(
        self,
        spec: FleetSpec,
        account_name: str,
        factory: DropletFactory,
        *,
        counts: ResourceCounts,
        droplets: list[JsonObject],
        gpu_droplets: list[JsonObject],
        start: int,
        span: int,
        owner_uuid: str,
        owner_id: int,
        next_droplet_id: int,
    ) -> None:
        self.spec = spec
        self.account = account_name
        self.slug = account_slug(account_name)
        self.factory = factory
        self.droplets = droplets
        self.gpu_droplets = gpu_droplets
        self.start = start
        self.span = max(span, DAY)
        self.owner_uuid = owner_uuid
        self.owner_id = owner_id
        self.next_droplet_id = next_droplet_id
        self.counts = counts
        self.problems = spec.problems
        self.clusters: list[ClusterPlan] = []
        self.node_ids: set[int] = set()
        self.volumes: Sequence[JsonObject] = ()
        self._serving: list[JsonObject] | None = None
        self.project_ids: list[str] = []
        self.entries: dict[str, list[tuple[str, bytes]]] = {}
        self.droplet_projects: dict[int | str, str] = {}
        self.vpc_extra: dict[str, list[Item]] = {}
        self.tag_sources: list[tuple[str, str, str]] = []
        used = {d["region"]["slug"] for d in droplets}
        self.placement = [slug for slug in spec.regions if slug in used] or list(spec.regions)
        # Default VPCs exist where the account runs Droplets, and in its other regions (where
        # new Droplets may appear) once it runs any.
        self.regions_in_use: set[str] = used | {d["region"]["slug"] for d in gpu_droplets}
        if self.regions_in_use:
            self.regions_in_use.update(spec.regions)

    # -- helpers ----------------------------------------------------------------------------

    def rng(self, kind: str) -> random.Random:
        return seeded_random("resources", kind, self.spec.seed, self.account)

    def uuid(self, kind: str, index: object) -> str:
        return stable_uuid(self.spec.seed, self.account, kind, index)

    def created(self, kind: str, index: int, count: int) -> int:
        """Creation times spread over the fleet's span, in list order."""
        jitter = stable_int(self.spec.seed, self.account, kind, index) % HOUR
        return self.start + self.span * (2 * index + 1) // (2 * max(count, 1)) + jitter

    def region_at(self, index: int, *, vpc: bool = True) -> str:
        """The region of the index-th object of a kind; `vpc`: it lives in the region's VPC."""
        region = self.placement[index % len(self.placement)]
        if vpc:
            self.regions_in_use.add(region)
        return region

    def serving(self) -> list[JsonObject]:
        """Droplets that can sit behind a load balancer or hold an IP: not archived, no node.

        Computed once the nodes are chosen (`build`), then shared."""
        if self._serving is None:
            self._serving = [
                d
                for d in self.droplets
                if d["status"] in ("active", "off") and d["id"] not in self.node_ids
            ]
        return self._serving

    def public_ip(self, droplet: JsonObject) -> str:
        return str(
            next(n["ip_address"] for n in droplet["networks"]["v4"] if n["type"] == "public")
        )

    def role(self, droplet: JsonObject) -> str:
        tags = droplet.get("tags") or ["app"]
        return str(tags[0])

    # -- Kubernetes: runs first, because it turns Droplets into nodes --------------------------

    def plan_kubernetes(self) -> None:
        count = self.counts.kubernetes_clusters
        if not count:
            return
        rng = self.rng("kubernetes")
        active = [d for d in self.droplets if d["status"] == "active"]
        candidates = iter(
            [d for d in active if "k8s" in d["tags"]] + [d for d in active if "k8s" not in d["tags"]]
        )
        degraded, provisioning, upgrading = self._cluster_variety(count)
        for index in range(count):
            cluster_id = self.uuid("kubernetes", index)
            region = self.region_at(index)
            state, message = "running", "Cluster is running"
            if index == degraded:
                state, message = "degraded", "Cluster is degraded: a node pool is below its minimum"
            elif index == provisioning:
                state, message = "provisioning", "Cluster is provisioning"
            elif index == upgrading:
                state, message = "upgrading", "Cluster is upgrading"
            tags = (self.factory.env_tag, "k8s", f"k8s:{cluster_id}")
            plan = ClusterPlan(
                index=index,
                id=cluster_id,
                name=f"k8s-{region}-{index + 1:02d}",
                region=region,
                version=KUBERNETES_VERSIONS[0 if state == "provisioning" else index % 3],
                state=state,
                message=message,
                tags=tags,
                pools=[],
                ha=index % 3 == 0,
            )
            pool_count = 1 + rng.randrange(3)
            for pool_index in range(pool_count):
                self._plan_pool(plan, pool_index, rng, candidates)
            self._shape_pools(plan)
            created = [unix(n.created_at) for p in plan.pools for n in p.nodes]
            plan.created = min(created) - HOUR
            self.clusters.append(plan)

    def _cluster_variety(self, count: int) -> tuple[int | None, int | None, int | None]:
        """(degraded, provisioning, upgrading) cluster positions."""
        if self.problems is False:
            return None, None, None
        if self.problems is True:
            degraded: int | None = 1 if count >= 2 else 0
        else:
            degraded = 1 if count >= 3 else None
        provisioning = count - 1 if count >= 5 else None
        upgrading = 2 if count >= 6 else None
        return degraded, provisioning, upgrading

    def _plan_pool(
        self,
        plan: ClusterPlan,
        pool_index: int,
        rng: random.Random,
        candidates: Iterator[JsonObject],
    ) -> None:
        pool_id = self.uuid(f"node-pool:{plan.id}", pool_index)
        name = POOL_NAMES[pool_index % len(POOL_NAMES)]
        size = KUBERNETES_NODE_SIZES[(plan.index + pool_index) % len(KUBERNETES_NODE_SIZES)]
        tags = (*plan.tags, "k8s:worker")
        pool = PoolPlan(id=pool_id, name=name, size=size, tags=tags, nodes=[])
        for node_index in range(1 + rng.randrange(3)):
            droplet = next(candidates, None)
            if droplet is None:
                droplet = self._dedicated_node_droplet(plan)
            node_name = f"{name}-{base36(int(droplet['id']))[-5:]}"
            node = KubernetesNode(name=node_name, size=size, region=plan.region, tags=tags)
            rewritten = self.factory.droplet(
                rng,
                droplet_id=int(droplet["id"]),
                index=node_index,
                created_at=unix(droplet["created_at"]),
                status="active",
                node=node,
            )
            droplet.clear()
            droplet.update(rewritten)
            self.node_ids.add(int(droplet["id"]))
            pool.nodes.append(
                NodePlan(
                    id=self.uuid(f"node:{pool_id}", node_index),
                    name=node_name,
                    droplet_id=int(droplet["id"]),
                    created_at=str(droplet["created_at"]),
                )
            )
        if rng.random() < 0.4:
            pool.auto_scale = True
            pool.min_nodes = 1
            pool.max_nodes = len(pool.nodes) + 2
        plan.pools.append(pool)

    def _dedicated_node_droplet(self, plan: ClusterPlan) -> JsonObject:
        """A Droplet for a node when the fleet has no active one left (tiny fleets only)."""
        self.next_droplet_id += 1 + stable_int(self.spec.seed, self.next_droplet_id) % 5
        placeholder: JsonObject = {
            "id": self.next_droplet_id,
            "created_at": iso_utc(self.start + self.span - DAY),
            "status": "active",
        }
        self.droplets.append(placeholder)
        return placeholder

    def _shape_pools(self, plan: ClusterPlan) -> None:
        """Node states and pool sizes that match the cluster's state."""
        if plan.state == "degraded":
            pool = plan.pools[0]
            pool.auto_scale = True
            pool.min_nodes = len(pool.nodes) + 1
            pool.max_nodes = len(pool.nodes) + 3
        elif plan.state == "provisioning":
            for pool in plan.pools:
                for node in pool.nodes:
                    node.state = "provisioning"
        elif plan.state == "upgrading":
            plan.pools[0].nodes[0].state = "draining"

    # -- the rest, once Droplets and volumes are final -------------------------------------------

    def build(self, volumes: Sequence[JsonObject]) -> Resources:
        self.volumes = volumes
        self.projects = self.build_projects()
        self.droplet_projects = self._droplet_projects()
        domains = self._domain_names()
        certificates = self.build_certificates(domains)
        load_balancers = self.build_load_balancers(certificates)
        clusters = self.build_kubernetes_clusters()
        reserved_ips = self.build_reserved_ips()
        reserved_ipv6s = self.build_reserved_ipv6s()
        databases = self.build_databases()
        apps = self.build_apps(domains)
        buckets = self.build_spaces_buckets()
        cdn = self.build_cdn_endpoints(buckets, domains, certificates)
        domain_items, records = self.build_domains(domains, load_balancers, apps, cdn)
        firewalls = self.build_firewalls(load_balancers)
        checks, states = self.build_uptime_checks(domains, load_balancers)
        snapshots = self.build_snapshots()
        registry, subscription = self.build_registry()
        for volume in volumes:
            self._assign(
                f"do:volume:{volume['id']}",
                f"/v2/volumes/{volume['id']}",
                volume["created_at"],
                self.volume_project(volume),
            )
        vpcs = self.build_vpcs()
        sizes, regions = catalog_items()
        return Resources(
            snapshots=snapshots,
            reserved_ips=reserved_ips,
            reserved_ipv6s=reserved_ipv6s,
            load_balancers=tuple(item for item, _ in load_balancers),
            kubernetes_clusters=clusters,
            databases=databases,
            apps=tuple(item for item, _ in apps),
            domains=domain_items,
            domain_records=records,
            firewalls=firewalls,
            vpcs=vpcs,
            cdn_endpoints=tuple(item for item, _ in cdn),
            certificates=tuple(item for item, _ in certificates),
            registry=registry,
            registry_subscription=subscription,
            uptime_checks=checks,
            uptime_states=states,
            projects=tuple(item for item, _ in self.projects),
            spaces_buckets=buckets,
            project_members={
                project_id: tuple(
                    Item(id=urn, parts=(entry,), urn=urn)
                    for urn, entry in self.entries[project_id]
                )
                for project_id in self.project_ids
            },
            droplet_projects=self.droplet_projects,
            vpc_members={vpc: tuple(items) for vpc, items in self.vpc_extra.items()},
            tag_sources=tuple(self.tag_sources),
            sizes=sizes,
            regions=regions,
        )

    # projects ---------------------------------------------------------------------------------

    def build_projects(self) -> list[tuple[Item, str]]:
        environment = "Development"
        if "prod" in self.slug:
            environment = "Production"
        elif "stag" in self.slug:
            environment = "Staging"
        projects: list[tuple[Item, str]] = []
        for index in range(self.counts.projects):
            project_id = self.uuid("project", index)
            default = index == 0
            if default:
                name = self.account.replace("-", " ").title()
            else:
                name = PROJECT_NAMES[(index - 1) % len(PROJECT_NAMES)]
                if index > len(PROJECT_NAMES):
                    name += f" {index}"
            created = self.start - 30 * DAY + index * 7 * DAY
            body = {
                "id": project_id,
                "owner_uuid": self.owner_uuid,
                "owner_id": self.owner_id,
                "name": name,
                "description": "Default project" if default else f"{name} of {self.account}",
                "purpose": "Operational / Developer tooling" if default else "Web Application",
                "environment": environment,
                "created_at": iso_utc(created),
                "updated_at": iso_utc(created + 3 * DAY),
                "is_default": default,
            }
            projects.append((make_item(body, id=project_id, name=name), project_id))
        self.project_ids = [project_id for _, project_id in projects]
        self.entries = {project_id: [] for project_id in self.project_ids}
        return projects

    def project_for(self, key: object) -> str:
        """A stable project for a resource that belongs to no Droplet."""
        ids = self.project_ids
        return ids[stable_int(self.spec.seed, self.account, "project-of", key) % len(ids)]

    def _droplet_projects(self) -> dict[int | str, str]:
        """Nodes are in their cluster's project; other Droplets in their role's."""
        by_cluster = {f"k8s:{plan.id}": self.project_for(plan.id) for plan in self.clusters}
        by_role: dict[str, str] = {}
        projects: dict[int | str, str] = {}
        for droplet in (*self.droplets, *self.gpu_droplets):
            tags = droplet.get("tags") or []
            cluster = next((by_cluster[t] for t in tags if t in by_cluster), None)
            if cluster is None:
                role = self.role(droplet)
                if role not in by_role:
                    by_role[role] = self.project_for(("role", role))
                cluster = by_role[role]
            projects[int(droplet["id"])] = cluster
        return projects

    def droplet_project(self, droplet_id: int) -> str:
        return self.droplet_projects.get(droplet_id, self.project_ids[0])

    def volume_project(self, volume: JsonObject) -> str:
        attached = volume.get("droplet_ids") or []
        if attached:
            return self.droplet_project(int(attached[0]))
        return self.project_for(("volume", volume["id"]))

    def _assign(self, urn: str, path: str, assigned_at: str, project_id: str) -> None:
        self.entries[project_id].append((urn, project_entry(urn, path, assigned_at)))

    def _member(self, vpc: str, urn: str, name: str, created_at: str) -> None:
        self.vpc_extra.setdefault(vpc, []).append(member_entry(urn, name, created_at))

    # certificates -----------------------------------------------------------------------------

    def build_certificates(self, domains: list[str]) -> list[tuple[Item, JsonObject]]:
        count = self.counts.certificates
        rng = self.rng("certificates")
        expiring, pending, errored = None, None, None
        if self.problems is True:
            expiring = 1 if count >= 2 else 0
        elif self.problems is None:
            expiring = 3 if count >= 4 else None
        if self.problems is not False:
            pending = count - 1 if count >= 3 and count - 1 != expiring else None
            errored = 4 if count >= 5 else None
        zones = domains or [f"{self.slug}.example"]
        out: list[tuple[Item, JsonObject]] = []
        for index in range(count):
            zone = zones[index % len(zones)]
            kind = "custom" if index % 3 == 1 or index == expiring else "lets_encrypt"
            state = "verified"
            if index == pending:
                state = "pending"
            elif index == errored:
                state = "error"
            if index == expiring:
                expires = 9 * DAY + 6 * HOUR
            elif kind == "lets_encrypt":
                expires = rng.randrange(31, 86) * DAY + rng.randrange(DAY)
            else:
                expires = rng.randrange(120, 700) * DAY
            validity = 90 * DAY if kind == "lets_encrypt" else 365 * DAY
            names = ([zone, f"*.{zone}"], [f"api.{zone}"], [f"cdn.{zone}"])[index % 3]
            certificate_id = self.uuid("certificate", index)
            name = f"{zone.replace('.', '-')}-{'le' if kind == 'lets_encrypt' else 'custom'}"
            body: JsonObject = {
                "id": certificate_id,
                "name": f"{name}-{index + 1:02d}",
                "not_after": Stamp(expires),
                "sha1_fingerprint": stable_hex(40, self.spec.seed, self.account, "sha1", index),
                "created_at": Stamp(expires - validity),
                "dns_names": names,
                "state": state,
                "type": kind,
            }
            item = make_item(body, id=certificate_id, name=str(body["name"]), extra=state)
            out.append((item, body))
        return out

    # load balancers ---------------------------------------------------------------------------

    def build_load_balancers(
        self, certificates: list[tuple[Item, JsonObject]]
    ) -> list[tuple[Item, JsonObject]]:
        count = self.counts.load_balancers
        rng = self.rng("load_balancers")
        kubernetes = self.clusters[: min(len(self.clusters), count // 2)]
        errored = None
        if self.problems is True or (self.problems is None and count >= 5):
            errored = len(kubernetes) if count > len(kubernetes) else 0
        newest = count - 1 if self.problems is not False and count >= 5 else None
        verified = [body["id"] for _, body in certificates if body["state"] == "verified"]
        serving = self.serving()
        by_region: dict[str, list[JsonObject]] = {}
        for droplet in serving:
            by_region.setdefault(droplet["region"]["slug"], []).append(droplet)
        out: list[tuple[Item, JsonObject]] = []
        for index in range(count):
            lb_id = self.uuid("load_balancer", index)
            created = self.created("load_balancer", index, count)
            if index < len(kubernetes):
                plan = kubernetes[index]
                region, tag = plan.region, f"k8s:{plan.id}"
                targets = list(plan.droplet_ids)
                name = "a" + stable_hex(31, self.spec.seed, self.account, "lb-name", index)
                project = self.project_for(plan.id)
                created = max(created, plan.created + HOUR)
            else:
                region = self.region_at(index)
                local = by_region.get(region, [])
                chosen = rng.sample(local, min(len(local), 2 + rng.randrange(3)))
                targets = [d["id"] for d in chosen]
                role = self.role(chosen[0]) if chosen else "web"
                name, tag = f"{role}-{region}-lb-{index + 1:02d}", ""
                project = self.droplet_project(targets[0]) if targets else self.project_for(lb_id)
            status = "active"
            if index == errored:
                status = "errored"
            elif index == newest:
                status = "new"
            rules: list[JsonObject] = [
                {
                    "entry_protocol": "http",
                    "entry_port": 80,
                    "target_protocol": "http",
                    "target_port": 80 if tag else 8080,
                    "certificate_id": "",
                    "tls_passthrough": False,
                }
            ]
            if verified and not tag:
                rules.append(
                    {
                        "entry_protocol": "https",
                        "entry_port": 443,
                        "target_protocol": "http",
                        "target_port": 8080,
                        "certificate_id": verified[index % len(verified)],
                        "tls_passthrough": False,
                    }
                )
            size_unit = 1 + (index % 3 == 2)
            body: JsonObject = {
                "id": lb_id,
                "name": name,
                "ip": f"138.197.{index // 250}.{index % 250 + 2}",
                "size_unit": size_unit,
                "size": "lb-small",
                "algorithm": "round_robin",
                "status": status,
                "created_at": iso_utc(created),
                "forwarding_rules": rules,
                "health_check": {
                    "protocol": "http",
                    "port": 80 if tag else 8080,
                    "path": "/healthz" if tag else "/",
                    "check_interval_seconds": 10,
                    "response_timeout_seconds": 5,
                    "healthy_threshold": 3,
                    "unhealthy_threshold": 5,
                },
                "sticky_sessions": {"type": "none"},
                "region": self.factory.region_object(region),
                "tag": tag,
                "droplet_ids": targets,
                "redirect_http_to_https": len(rules) > 1,
                "enable_proxy_protocol": False,
                "enable_backend_keepalive": False,
                "http_idle_timeout_seconds": 60,
                "vpc_uuid": self.factory.vpc_uuid(region),
                "project_id": project,
                "disable_lets_encrypt_dns_records": False,
                "firewall": {"deny": [], "allow": []},
                "network": "EXTERNAL",
                "network_stack": "IPV4",
                "type": "REGIONAL",
                # only a global load balancer targets others; regional ones answer an empty list
                "target_load_balancer_ids": [],
                "tls_cipher_policy": "DEFAULT",
            }
            urn = f"do:loadbalancer:{lb_id}"
            item = make_item(
                body,
                id=lb_id,
                name=name,
                region=region,
                created_at=iso_utc(created),
                urn=urn,
                droplet_ids=tuple(targets),
                hourly_cost=monthly(LOAD_BALANCER_MONTHLY_PER_NODE * size_unit),
                extra=status,
            )
            self._assign(urn, f"/v2/load_balancers/{lb_id}", iso_utc(created), project)
            self._member(self.factory.vpc_uuid(region), urn, name, iso_utc(created))
            out.append((item, body))
        return out

    # Kubernetes clusters ----------------------------------------------------------------------

    def build_kubernetes_clusters(self) -> tuple[Item, ...]:
        items: list[Item] = []
        for plan in self.clusters:
            vpc = self.factory.vpc_uuid(plan.region)
            created = iso_utc(plan.created)
            pools: list[JsonObject] = [
                {
                    "id": pool.id,
                    "name": pool.name,
                    "size": pool.size,
                    "count": len(pool.nodes),
                    "tags": list(pool.tags),
                    "labels": {"pool": pool.name} if pool.name != POOL_NAMES[0] else None,
                    "taints": [],
                    "auto_scale": pool.auto_scale,
                    "min_nodes": pool.min_nodes,
                    "max_nodes": pool.max_nodes,
                    "nodes": [
                        {
                            "id": node.id,
                            "name": node.name,
                            "status": {"state": node.state},
                            "droplet_id": str(node.droplet_id),
                            "created_at": node.created_at,
                            "updated_at": node.created_at,
                        }
                        for node in pool.nodes
                    ],
                }
                for pool in plan.pools
            ]
            body: JsonObject = {
                "id": plan.id,
                "name": plan.name,
                "region": plan.region,
                "version": plan.version,
                "cluster_subnet": "10.244.0.0/16",
                "service_subnet": "10.245.0.0/16",
                "vpc_uuid": vpc,
                "ipv4": f"159.223.{plan.index // 250}.{plan.index % 250 + 2}",
                "endpoint": f"https://{plan.id}.k8s.ondigitalocean.com",
                "tags": list(plan.tags),
                "node_pools": pools,
                "maintenance_policy": {"start_time": "04:00", "duration": "4h0m0s", "day": "any"},
                "auto_upgrade": plan.index % 2 == 0,
                "status": {"state": plan.state, "message": plan.message},
                "created_at": created,
                "updated_at": iso_utc(plan.created + 7 * DAY),
                "surge_upgrade": True,
                "registry_enabled": self.counts.registry and plan.index == 0,
                "ha": plan.ha,
            }
            urn = f"do:kubernetes:{plan.id}"
            cost = monthly(KUBERNETES_HA_CONTROL_PLANE_MONTHLY) if plan.ha else Decimal(0)
            items.append(
                make_item(
                    body,
                    id=plan.id,
                    name=plan.name,
                    region=plan.region,
                    created_at=created,
                    urn=urn,
                    droplet_ids=plan.droplet_ids,
                    hourly_cost=cost,
                    extra=plan.state,
                )
            )
            project = self.project_for(plan.id)
            self._assign(urn, f"/v2/kubernetes/clusters/{plan.id}", created, project)
            self._member(vpc, urn, plan.name, created)
        return tuple(items)

    # reserved IPs -----------------------------------------------------------------------------

    def _unassigned(self, count: int, every: int) -> set[int]:
        if self.problems is False:
            return set()
        chosen = {index for index in range(count) if index % every == every - 1}
        if self.problems is True and not chosen and count:
            chosen.add(count - 1)
        return chosen

    def build_reserved_ips(self) -> tuple[Item, ...]:
        count = self.counts.reserved_ips
        rng = self.rng("reserved_ips")
        unassigned = self._unassigned(count, 4)
        serving = self.serving()
        hosts = rng.sample(serving, min(len(serving), count))
        items: list[Item] = []
        for index in range(count):
            ip = f"146.190.{index // 250}.{index % 250 + 2}"
            host = hosts[index] if index < len(hosts) and index not in unassigned else None
            region = host["region"]["slug"] if host else self.region_at(index, vpc=False)
            project = (
                self.droplet_project(int(host["id"]))
                if host
                else self.project_for(("reserved_ip", ip))
            )
            body: JsonObject = {
                "ip": ip,
                "region": self.factory.region_object(region),
                "droplet": DropletRef(int(host["id"])) if host else None,
                "locked": False,
                "project_id": project,
            }
            urn = f"do:floatingip:{ip}"
            items.append(
                make_item(
                    body,
                    id=ip,
                    name=ip,
                    region=region,
                    urn=urn,
                    extra=int(host["id"]) if host else None,
                )
            )
            self._assign(urn, f"/v2/reserved_ips/{ip}", iso_utc(self.start), project)
        return tuple(items)

    def build_reserved_ipv6s(self) -> tuple[Item, ...]:
        count = self.counts.reserved_ipv6s
        rng = self.rng("reserved_ipv6s")
        unassigned = self._unassigned(count, 3)
        capable = [d for d in self.serving() if d["networks"]["v6"]]
        hosts = rng.sample(capable, min(len(capable), count))
        items: list[Item] = []
        for index in range(count):
            host = hosts[index] if index < len(hosts) and index not in unassigned else None
            region = host["region"]["slug"] if host else self.region_at(index, vpc=False)
            octet = list(REGIONS_BY_SLUG).index(region) + 16
            ip = f"2604:a880:{octet:x}:d1::{index + 1:x}"
            body: JsonObject = {
                "ip": ip,
                "region_slug": region,
                "reserved_at": iso_utc(self.created("reserved_ipv6", index, count)),
                "droplet": DropletRef(int(host["id"])) if host else None,
            }
            items.append(
                make_item(
                    body, id=ip, name=ip, region=region, extra=int(host["id"]) if host else None
                )
            )
        return tuple(items)

    # databases --------------------------------------------------------------------------------

    def _custom_vpcs(self) -> list[tuple[str, str]]:
        """(id, region) of the custom VPCs."""
        return [
            (self.uuid("custom_vpc", index), self.region_at(index))
            for index in range(self.counts.custom_vpcs)
        ]

    def build_databases(self) -> tuple[Item, ...]:
        count = self.counts.databases
        rng = self.rng("databases")
        custom = {region: vpc for vpc, region in reversed(self._custom_vpcs())}
        special: dict[int, str] = {}
        if self.problems is True:
            special[1 if count >= 2 else 0] = "migrating"
        elif self.problems is None:
            if count >= 4:
                special[2] = "resizing"
            if count >= 6:
                special[count - 1] = "creating"
            if count >= 8:
                special[5] = "migrating"
        items: list[Item] = []
        for index in range(count):
            engine = rng.choices(DATABASE_ENGINES, weights=DATABASE_ENGINE_WEIGHTS)[0]
            size = rng.choices(DATABASE_SIZES, weights=DATABASE_SIZE_WEIGHTS)[0]
            nodes = rng.choice((1, 1, 2, 3))
            region = self.region_at(index)
            word = DATABASE_WORDS[index % len(DATABASE_WORDS)]
            suffix = "" if index < len(DATABASE_WORDS) else f"-{index // len(DATABASE_WORDS) + 1}"
            name = f"{engine.slug}-{word}{suffix}"
            database_id = self.uuid("database", index)
            created = self.created("database", index, count)
            vpc = custom.get(region) or self.factory.vpc_uuid(region)
            host_id = stable_hex(8, self.spec.seed, self.account, "db-host", index)
            host = f"{name}-do-user-{self.owner_id}-0.{host_id}.db.ondigitalocean.com"
            tags = [self.factory.env_tag, "db"]
            project = self.project_for(("database", database_id))
            body: JsonObject = {
                "id": database_id,
                "name": name,
                "engine": engine.slug,
                "version": engine.version,
                "semantic_version": engine.semantic_version,
                "num_nodes": nodes,
                "size": size.slug,
                "region": region,
                "status": special.get(index, "online"),
                "created_at": iso_utc(created),
                "private_network_uuid": vpc,
                "tags": tags,
                "db_names": None if engine.db_names is None else list(engine.db_names),
                "maintenance_window": {
                    "day": ("sunday", "saturday", "tuesday")[index % 3],
                    "hour": f"0{index % 6 + 1}:00:00",
                    "pending": index % 4 == 1,
                    "description": ["Update to the latest minor version"] if index % 4 == 1 else [],
                },
                "project_id": project,
                "storage_size_mib": size.storage_gib * 1024,
                "metrics_endpoints": [{"host": host, "port": 9273}],
            }
            secret = dict(body)
            secret.update(self._credentials(engine.slug, index, host))
            facts: dict[str, Any] = {
                "name": name,
                "region": region,
                "tags": tuple(tags),
                "created_at": iso_utc(created),
                "urn": f"do:dbaas:{database_id}",
                "hourly_cost": monthly(size.price_monthly * nodes),
                "extra": body["status"],
            }
            private = make_item(secret, id=database_id, **facts)
            items.append(make_item(body, id=database_id, private=private, **facts))
            for tag in tags:
                self.tag_sources.append((tag, "databases", f"/v2/databases/{database_id}"))
            self._assign(f"do:dbaas:{database_id}", f"/v2/databases/{database_id}",
                         iso_utc(created), project)
            self._member(vpc, f"do:dbaas:{database_id}", name, iso_utc(created))
        return tuple(items)

    def _credentials(self, engine_slug: str, index: int, host: str) -> JsonObject:
        """Connection details and users, with fake passwords derived from the seed."""
        engine = next(e for e in DATABASE_ENGINES if e.slug == engine_slug)

        def password(user: str) -> str:
            return "AVNS_" + stable_hex(19, self.spec.seed, self.account, "db", index, user)

        admin = password(engine.admin)
        database = (engine.db_names or ("",))[0] if engine.slug in ("pg", "mysql") else ""

        def connection(hostname: str) -> JsonObject:
            path = f"/{database}" if database else ""
            if engine.slug == "mongodb":
                path = "/admin"
            port = "" if engine.slug == "mongodb" else f":{engine.port}"
            return {
                "uri": f"{engine.scheme}://{engine.admin}:{admin}@{hostname}{port}{path}"
                f"{engine.options}",
                "database": database,
                "host": hostname,
                "port": engine.port,
                "user": engine.admin,
                "password": admin,
                "ssl": True,
            }

        users: list[JsonObject] = [{"name": engine.admin, "role": "primary", "password": admin}]
        if engine.slug in ("pg", "mysql"):
            users.append({"name": "app", "role": "normal", "password": password("app")})
        if engine.slug == "mysql":
            for user in users:
                user["mysql_settings"] = {"auth_plugin": "caching_sha2_password"}
        return {
            "connection": connection(host),
            "private_connection": connection(f"private-{host}"),
            "users": users,
        }

    # apps -------------------------------------------------------------------------------------

    def build_apps(self, domains: list[str]) -> list[tuple[Item, JsonObject]]:
        count = self.counts.apps
        failed = building = None
        if self.problems is True:
            failed = 1 if count >= 2 else 0
            building = 2 if count >= 3 else None
        elif self.problems is None and count >= 3:
            failed, building = 1, 2
        deploying = 4 if self.problems is not False and count >= 5 else None
        out: list[tuple[Item, JsonObject]] = []
        for index in range(count):
            word = APP_WORDS[index % len(APP_WORDS)]
            name = word if index < len(APP_WORDS) else f"{word}-{index // len(APP_WORDS) + 1}"
            app_id = self.uuid("app", index)
            region = app_region_for(self.region_at(index, vpc=False))
            size = ("apps-s-1vcpu-0.5gb", "apps-s-1vcpu-1gb", "apps-d-1vcpu-2gb")[index % 3]
            instances = 1 + (index % 4 == 3)
            tier = "professional" if size.startswith("apps-d-") else "basic"
            created = self.created("app", index, count)
            ingress = f"https://{name}-{base36(stable_int(app_id))[-5:]}.ondigitalocean.app"
            domain = f"{word}.{domains[index % len(domains)]}" if domains and index % 2 == 0 else ""
            spec: JsonObject = {
                "name": name,
                "region": region.slug,
                "services": [
                    {
                        "name": "web",
                        "github": {
                            "repo": f"{self.slug}/{name}",
                            "branch": "main",
                            "deploy_on_push": True,
                        },
                        "instance_size_slug": size,
                        "instance_count": instances,
                        "http_port": 8080,
                        "routes": [{"path": "/"}],
                    }
                ],
            }
            if domain:
                spec["domains"] = [
                    {"domain": domain, "type": "PRIMARY", "zone": domain.split(".", 1)[1]}
                ]
            active_at = created + DAY
            active = self._deployment(
                app_id, 0, spec, phase="ACTIVE", created=iso_utc(active_at), tier=tier
            )
            body: JsonObject = {
                "id": app_id,
                "owner_uuid": self.owner_uuid,
                "spec": spec,
                "default_ingress": ingress,
                "created_at": iso_utc(created),
                "updated_at": iso_utc(active_at),
                "active_deployment": active,
                "pending_deployment": active,
                "last_deployment_created_at": active["created_at"],
                "live_url": f"https://{domain}" if domain else ingress,
                "live_url_base": f"https://{domain}" if domain else ingress,
                "live_domain": domain or ingress.removeprefix("https://"),
                "region": region.as_json(),
                "tier_slug": tier,
            }
            phase = None
            if index == failed:
                phase, offset = "ERROR", -3 * HOUR
            elif index == building:
                phase, offset = "BUILDING", -4 * 60
            elif index == deploying:
                phase, offset = "DEPLOYING", -2 * 60
            if phase is not None:
                started = Stamp(offset, floor=active_at + HOUR)
                latest = self._deployment(app_id, 1, spec, phase=phase, created=started, tier=tier)
                body["pending_deployment"] = latest
                body["last_deployment_created_at"] = started
                body["updated_at"] = started
                if phase != "ERROR":
                    body["in_progress_deployment"] = latest
            cost = monthly(APP_INSTANCE_PRICES[size] * instances)
            project = self.project_for(("app", app_id))
            with_project = dict(body)
            with_project["project_id"] = project
            facts: dict[str, Any] = {
                "name": name,
                "region": region.slug,
                "created_at": iso_utc(created),
                "urn": f"do:app:{app_id}",
                "hourly_cost": cost,
                "extra": phase or "ACTIVE",
            }
            private = make_item(with_project, id=app_id, **facts)
            out.append((make_item(body, id=app_id, private=private, **facts), body))
            self._assign(f"do:app:{app_id}", f"/v2/apps/{app_id}", iso_utc(created), project)
        return out

    def _deployment(
        self,
        app_id: str,
        number: int,
        spec: JsonObject,
        *,
        phase: str,
        created: str | Stamp,
        tier: str,
    ) -> JsonObject:
        steps = ("build", "deploy", "finalize")
        done = {"ACTIVE": 3, "ERROR": 1, "BUILDING": 0, "DEPLOYING": 1}[phase]
        progress_steps: list[JsonObject] = []
        for position, step in enumerate(steps):
            status = "SUCCESS" if position < done else "PENDING"
            if position == done and phase in ("BUILDING", "DEPLOYING"):
                status = "RUNNING"
            if position == done and phase == "ERROR":
                status = "ERROR"
            entry: JsonObject = {"name": step, "status": status}
            if status == "ERROR":
                entry["reason"] = {
                    "code": "DeployContainerHealthChecksFailed",
                    "message": "Your deploy failed because your container health checks failed.",
                }
            progress_steps.append(entry)
        counted = {s: sum(1 for e in progress_steps if e["status"] == s) for s in
                   ("SUCCESS", "ERROR", "RUNNING", "PENDING")}
        commit = stable_hex(40, app_id, "commit", number)
        return {
            "id": stable_uuid(app_id, "deployment", number),
            "spec": spec,
            "services": [{"name": "web", "source_commit_hash": commit}],
            "phase_last_updated_at": created,
            "created_at": created,
            "updated_at": created,
            "cause": f"commit {commit[:7]} pushed to github.com/{spec['services'][0]['github']['repo']}",
            "progress": {
                "success_steps": counted["SUCCESS"],
                "error_steps": counted["ERROR"],
                "running_steps": counted["RUNNING"],
                "pending_steps": counted["PENDING"],
                "total_steps": len(steps),
                "steps": progress_steps,
            },
            "phase": phase,
            "tier_slug": tier,
        }

    # Spaces, CDN, domains ---------------------------------------------------------------------

    def build_spaces_buckets(self) -> tuple[Item, ...]:
        regions = [r for r in self.placement if r in SPACES_REGIONS] or ["nyc3"]
        items: list[Item] = []
        count = self.counts.spaces_buckets
        for index in range(count):
            word = BUCKET_WORDS[index % len(BUCKET_WORDS)]
            suffix = "" if index < len(BUCKET_WORDS) else f"-{index // len(BUCKET_WORDS) + 1}"
            name = f"{self.slug}-{word}{suffix}"
            region = regions[index % len(regions)]
            created = iso_utc(self.created("space", index, count))
            urn = f"do:space:{name}"
            items.append(
                make_item(
                    {"name": name, "region": region, "created_at": created},
                    id=name,
                    name=name,
                    region=region,
                    created_at=created,
                    urn=urn,
                )
            )
            self._assign(urn, f"/v2/spaces/{name}", created, self.project_for(("space", name)))
        return tuple(items)

    def build_cdn_endpoints(
        self,
        buckets: tuple[Item, ...],
        domains: list[str],
        certificates: list[tuple[Item, JsonObject]],
    ) -> list[tuple[Item, JsonObject]]:
        count = self.counts.cdn_endpoints
        verified = [body for _, body in certificates if body["state"] == "verified"]
        out: list[tuple[Item, JsonObject]] = []
        for index in range(count):
            if buckets:
                bucket = buckets[index % len(buckets)]
                origin_name, region = bucket.name, bucket.region
            else:
                origin_name, region = f"{self.slug}-cdn-{index + 1}", "nyc3"
            endpoint_id = self.uuid("cdn", index)
            body: JsonObject = {
                "id": endpoint_id,
                "origin": f"{origin_name}.{region}.digitaloceanspaces.com",
                "endpoint": f"{origin_name}.{region}.cdn.digitaloceanspaces.com",
                "created_at": iso_utc(self.created("cdn", index, count)),
                "ttl": (3600, 86400, 600)[index % 3],
            }
            if domains and index % 2 == 0:
                zone = domains[index % len(domains)]
                custom = f"cdn{index or ''}.{zone}"
                covering = next(
                    (c for c in verified if {custom, f"*.{zone}"} & set(c["dns_names"])), None
                )
                if covering is not None:
                    body["custom_domain"] = custom
                    body["certificate_id"] = covering["id"]
            out.append((make_item(body, id=endpoint_id, name=str(body["endpoint"])), body))
        return out

    def _domain_names(self) -> list[str]:
        names = []
        for index in range(self.counts.domains):
            if index == 0:
                names.append(f"{self.slug}.example")
            else:
                word = DOMAIN_WORDS[(index - 1) % len(DOMAIN_WORDS)]
                suffix = "" if index <= len(DOMAIN_WORDS) else str(index)
                names.append(f"{word}{suffix}-{self.slug}.example")
        return names

    def build_domains(
        self,
        names: list[str],
        load_balancers: list[tuple[Item, JsonObject]],
        apps: list[tuple[Item, JsonObject]],
        cdn: list[tuple[Item, JsonObject]],
    ) -> tuple[tuple[Item, ...], dict[str, tuple[Item, ...]]]:
        serving = self.serving()
        record_id = 170_000_000 + stable_int(self.spec.seed, self.account, "records") % 1000 * 10_000
        domains: list[Item] = []
        all_records: dict[str, tuple[Item, ...]] = {}
        for index, name in enumerate(names):
            if load_balancers:
                target = str(load_balancers[index % len(load_balancers)][1]["ip"])
            elif serving:
                target = self.public_ip(serving[index % len(serving)])
            else:
                target = f"192.0.2.{index % 250 + 2}"
            rows = self._record_rows(name, target, apps, cdn)
            if index == 0:
                # The first zone names many Droplets, so its records take more than one page.
                rows += [("A", d["name"], self.public_ip(d), 300, None) for d in serving[:40]]
            records: list[Item] = []
            zone = [f"$ORIGIN {name}.", "$TTL 1800"]
            for row in rows:
                kind, record_name, data, ttl, priority = row
                record_id += 1 + stable_int(record_id) % 3
                record = {
                    "id": record_id,
                    "type": kind,
                    "name": record_name,
                    "data": data,
                    "priority": priority,
                    "port": None,
                    "ttl": ttl,
                    "weight": None,
                    "flags": 0 if kind == "CAA" else None,
                    "tag": "issue" if kind == "CAA" else None,
                }
                records.append(make_item(record, id=record_id, name=record_name, extra=kind))
                zone.append(zone_line(name, index, row))
            body: JsonObject = {"name": name, "ttl": 1800, "zone_file": "\n".join(zone) + "\n"}
            domains.append(make_item(body, id=name, name=name, urn=f"do:domain:{name}"))
            all_records[name] = tuple(records)
            project = self.project_for(("domain", name))
            self._assign(f"do:domain:{name}", f"/v2/domains/{name}", iso_utc(self.start), project)
        return tuple(domains), all_records

    def _record_rows(
        self,
        name: str,
        target: str,
        apps: list[tuple[Item, JsonObject]],
        cdn: list[tuple[Item, JsonObject]],
    ) -> list[RecordRow]:
        rows: list[RecordRow] = [
            ("SOA", "@", "1800", 1800, None),
            *(("NS", "@", ns, 86400, None) for ns in NAMESERVERS),
            ("A", "@", target, 3600, None),
            ("A", "www", target, 3600, None),
            ("MX", "@", f"mx1.{name}", 14400, 10),
            ("TXT", "@", "v=spf1 include:_spf.google.com ~all", 3600, None),
            ("CAA", "@", "letsencrypt.org", 3600, None),
        ]
        for _, body in apps:
            host = str(body["default_ingress"]).removeprefix("https://")
            for domain in body["spec"].get("domains", []):
                if domain["zone"] == name:
                    label = str(domain["domain"]).split(".", maxsplit=1)[0]
                    rows.append(("CNAME", label, f"{host}.", 1800, None))
        for _, body in cdn:
            custom = str(body.get("custom_domain", ""))
            if custom.endswith(f".{name}"):
                label = custom.split(".", maxsplit=1)[0]
                rows.append(("CNAME", label, f"{body['endpoint']}.", 3600, None))
        return rows

    # firewalls --------------------------------------------------------------------------------

    def build_firewalls(self, load_balancers: list[tuple[Item, JsonObject]]) -> tuple[Item, ...]:
        count = self.counts.firewalls
        rng = self.rng("firewalls")
        serving = self.serving()
        roles = list(self.spec.tags) or ["app"]
        waiting = 3 if self.problems is not False and count >= 4 else None
        failed = 4 if self.problems is not False and count >= 5 else None
        lb_ids = [body["id"] for _, body in load_balancers if not body["tag"]]
        items: list[Item] = []
        for index in range(count):
            role = roles[index % len(roles)]
            suffix = "" if index < len(roles) else f"-{index // len(roles) + 1}"
            name = f"{role}-firewall{suffix}"
            targets = (
                [int(d["id"]) for d in rng.sample(serving, min(len(serving), 2))]
                if index % 2 == 0
                else []
            )
            web = role in ("web", "api") and lb_ids
            inbound: list[JsonObject] = [
                {"protocol": "tcp", "ports": "22", "sources": {"addresses": ["203.0.113.0/24"]}},
                {
                    "protocol": "tcp",
                    "ports": "80",
                    "sources": {"load_balancer_uids": lb_ids[:2]}
                    if web
                    else {"addresses": list(ANYWHERE)},
                },
                {"protocol": "icmp", "ports": "0", "sources": {"addresses": list(ANYWHERE)}},
            ]
            outbound: list[JsonObject] = [
                {"protocol": protocol, "ports": ports, "destinations": {"addresses": ANYWHERE}}
                for protocol, ports in (("tcp", "1-65535"), ("udp", "1-65535"), ("icmp", "0"))
            ]
            status = "succeeded"
            pending: list[JsonObject] = []
            if index == waiting:
                status = "waiting"
                pending_target = targets[0] if targets else (int(serving[0]["id"]) if serving else None)
                if pending_target is not None:
                    pending = [{"droplet_id": pending_target, "removing": False, "status": "waiting"}]
            elif index == failed:
                status = "failed"
            firewall_id = self.uuid("firewall", index)
            body: JsonObject = {
                "id": firewall_id,
                "name": name,
                "status": status,
                "inbound_rules": inbound,
                "outbound_rules": outbound,
                "created_at": iso_utc(self.created("firewall", index, count)),
                "droplet_ids": targets,
                "tags": [role],
                "pending_changes": pending,
            }
            referenced = {*targets, *(p["droplet_id"] for p in pending)}
            items.append(
                make_item(
                    body, id=firewall_id, name=name, droplet_ids=tuple(sorted(referenced)),
                    extra=status,
                )
            )
        return tuple(items)

    # uptime -----------------------------------------------------------------------------------

    def build_uptime_checks(
        self, domains: list[str], load_balancers: list[tuple[Item, JsonObject]]
    ) -> tuple[tuple[Item, ...], dict[str, Item]]:
        count = self.counts.uptime_checks
        rng = self.rng("uptime")
        down = None
        if self.problems is True:
            down = 1 if count >= 2 else 0
        elif self.problems is None and count >= 3:
            down = 1
        disabled = 3 if self.problems is not False and count >= 4 else None
        zones = domains or [f"{self.slug}.example"]
        checks: list[Item] = []
        states: dict[str, Item] = {}
        for index in range(count):
            zone = zones[index % len(zones)]
            kind = ("https", "http", "ping")[index % 3]
            if kind == "ping":
                target = str(load_balancers[0][1]["ip"]) if load_balancers else "192.0.2.10"
                name = f"ping {target}"
            else:
                target = f"{kind}://{'www.' if kind == 'http' else ''}{zone}/"
                name = f"{zone} {'homepage' if kind == 'https' else 'redirect'}"
            regions = UPTIME_REGION_SETS[index % len(UPTIME_REGION_SETS)]
            check_id = self.uuid("uptime", index)
            body: JsonObject = {
                "id": check_id,
                "name": name,
                "type": kind,
                "target": target,
                "regions": list(regions),
                "enabled": index != disabled,
            }
            checks.append(make_item(body, id=check_id, name=name))
            region_states: JsonObject = {}
            for position, region in enumerate(regions):
                is_down = index == down and position == 0
                changed = -(2 * HOUR + 17 * 60) if is_down else -(
                    rng.randrange(3, 60) * DAY + rng.randrange(DAY)
                )
                region_states[region] = {
                    "status": "DOWN" if is_down else "UP",
                    "status_changed_at": Stamp(changed),
                    "thirty_day_uptime_percentage": 97.92 if is_down else round(
                        99.5 + rng.random() * 0.5, 2
                    ),
                }
            outage_start = -(rng.randrange(5, 25) * DAY + rng.randrange(DAY))
            state: JsonObject = {
                "state": {
                    "regions": region_states,
                    "previous_outage": {
                        "region": regions[-1],
                        "started_at": Stamp(outage_start),
                        "ended_at": Stamp(outage_start + 240),
                        "duration_seconds": 240,
                    },
                }
            }
            states[check_id] = make_item(
                state, id=check_id, extra="DOWN" if index == down else "UP"
            )
        return tuple(checks), states

    # snapshots --------------------------------------------------------------------------------

    def build_snapshots(self) -> tuple[Item, ...]:
        """Droplet and volume snapshots, oldest first (ids grow with age, like image ids).

        Nobody snapshots Kubernetes nodes, so their Droplets are left out. A tenth of the
        Droplet snapshots (with `problems` not False) outlived their Droplet: their
        `resource_id` names a Droplet that no longer exists.
        """
        count = self.counts.snapshots
        candidates = [d for d in self.droplets if d["id"] not in self.node_ids] or self.droplets
        if not count or not (candidates or self.volumes):
            return ()
        rng = self.rng("snapshots")
        volume_count = min(count // 3, len(self.volumes)) if candidates else count
        droplet_count = count - volume_count
        old_age = (120 + rng.randrange(80)) * DAY + rng.randrange(DAY)
        planned: list[tuple[int, int, JsonObject, bool]] = []
        for index in range(droplet_count):
            # The first is of the oldest Droplet, so it can be older than 90 days on any clock.
            droplet = candidates[0] if index == 0 else rng.choice(candidates)
            orphan = self.problems is not False and droplet_count >= 10 and index % 10 == 9
            planned.append((self._snapshot_age(rng, index, old_age), index, droplet, orphan))
        for index in range(volume_count):
            age = self._snapshot_age(rng, droplet_count + index, old_age)
            planned.append((age, droplet_count + index, rng.choice(self.volumes), False))
        planned.sort(key=lambda plan: (-plan[0], plan[1]))
        existing = {int(d["id"]) for d in (*self.droplets, *self.gpu_droplets)}
        next_id = 150_000_000 + stable_int(self.spec.seed, self.account, "images") % 800_000 * 50
        items: list[Item] = []
        for age, index, target, orphan in planned:
            label = SNAPSHOT_LABELS[index % len(SNAPSHOT_LABELS)]
            if "disk" not in target:
                items.append(self._volume_snapshot(target, index, age, label, rng))
                continue
            next_id += 1 + rng.randrange(9)
            if orphan:
                resource_id = int(target["id"]) - 3 - 7 * (index + 1)
                while resource_id in existing:
                    resource_id -= 1
                name, floor = f"{self.role(target)}-{label}-{index:03d}", None
            else:
                resource_id = int(target["id"])
                name = f"{target['name']}-{label}"
                floor = unix(target["created_at"]) + HOUR
                target["snapshot_ids"] = [*target["snapshot_ids"], next_id]
            region = target["region"]["slug"]
            regions = [region]
            other = next((r for r in self.spec.regions if r != region), None)
            if index % 8 == 5 and other:
                regions.append(other)  # copied to a second region
            body: JsonObject = {
                "id": str(next_id),
                "name": name,
                "created_at": Stamp(-age, floor),
                "regions": regions,
                "resource_id": str(resource_id),
                "resource_type": "droplet",
                "min_disk_size": target["disk"],
                "size_gigabytes": round(target["disk"] * (0.05 + rng.random() * 0.5), 2),
                "tags": [self.factory.env_tag],
            }
            items.append(self._snapshot_item(body, str(next_id), "images"))
        return tuple(items)

    def _volume_snapshot(
        self, volume: JsonObject, index: int, age: int, label: str, rng: random.Random
    ) -> Item:
        snapshot_id = self.uuid("volume_snapshot", index)
        body: JsonObject = {
            "id": snapshot_id,
            "name": f"{volume['name']}-{label}",
            "created_at": Stamp(-age, unix(volume["created_at"]) + HOUR),
            "regions": [volume["region"]["slug"]],
            "resource_id": volume["id"],
            "resource_type": "volume",
            "min_disk_size": volume["size_gigabytes"],
            "size_gigabytes": round(volume["size_gigabytes"] * (0.01 + rng.random() * 0.4), 4),
            "tags": list(volume.get("tags") or []),
        }
        return self._snapshot_item(body, snapshot_id, "volume_snapshots")

    def _snapshot_age(self, rng: random.Random, index: int, old_age: int) -> int:
        if self.problems is False:
            return rng.randrange(1, 80) * DAY + rng.randrange(DAY)
        if index == 0 and self.problems is True:
            return old_age
        return rng.randrange(1, 400) * DAY + rng.randrange(DAY)

    def _snapshot_item(self, body: JsonObject, snapshot_id: str, kind: str) -> Item:
        path = "images" if kind == "images" else "snapshots"
        for tag in body["tags"]:
            self.tag_sources.append((tag, kind, f"/v2/{path}/{snapshot_id}"))
        return make_item(
            body,
            id=snapshot_id,
            name=str(body["name"]),
            region=str(body["regions"][0]),
            tags=tuple(body["tags"]),
            hourly_cost=monthly(Decimal(str(body["size_gigabytes"])) * SNAPSHOT_PRICE_PER_GIB_MONTH),
            extra=body["resource_type"],
        )

    # registry ---------------------------------------------------------------------------------

    def build_registry(self) -> tuple[Item | None, Item | None]:
        if not self.counts.registry:
            return None, None
        tier = REGISTRY_TIERS["professional" if self.spec.droplets >= 500 else "basic"]
        fill = {True: 0.93, None: 0.41, False: 0.18}[self.problems]
        region = next((r for r in self.placement if r in REGISTRY_REGIONS), REGISTRY_REGIONS[0])
        created = self.start + 10 * DAY
        subscription: JsonObject = {
            "tier": tier.as_json(),
            "created_at": iso_utc(created),
            "updated_at": iso_utc(created + 30 * DAY),
        }
        registry: JsonObject = {
            "name": self.slug[:63],
            "created_at": iso_utc(created),
            "region": region,
            "storage_usage_bytes": int(tier.included_storage_bytes * fill),
            "storage_usage_bytes_updated_at": Stamp(0),
            "subscription": subscription,
        }
        cost = monthly(Decimal(tier.monthly_price_in_cents) / 100)
        return (
            make_item({"registry": registry}, id=self.slug, name=self.slug, hourly_cost=cost),
            make_item({"subscription": subscription}, id=self.slug),
        )

    # VPCs -------------------------------------------------------------------------------------

    def build_vpcs(self) -> tuple[Item, ...]:
        items: list[Item] = []
        first: dict[str, str] = {}
        for droplet in (*self.droplets, *self.gpu_droplets):
            first.setdefault(droplet["region"]["slug"], droplet["created_at"])
        used = {region: unix(created) for region, created in first.items()}
        for slug in REGIONS_BY_SLUG:
            if slug not in self.regions_in_use:
                continue
            vpc_id = self.factory.vpc_uuid(slug)
            created = used.get(slug, self.start) - DAY
            octet = list(REGIONS_BY_SLUG).index(slug) + 16
            body: JsonObject = {
                "id": vpc_id,
                "urn": f"do:vpc:{vpc_id}",
                "name": f"default-{slug}",
                "description": "",
                "region": slug,
                "ip_range": f"10.{octet}.0.0/16",
                "created_at": iso_utc(created),
                "default": True,
            }
            items.append(make_item(body, id=vpc_id, name=str(body["name"]), region=slug))
        for index, (vpc_id, region) in enumerate(self._custom_vpcs()):
            body = {
                "id": vpc_id,
                "urn": f"do:vpc:{vpc_id}",
                "name": f"{self.slug}-{region}-private-{index + 1}",
                "description": f"Private network of {self.account} in {region}",
                "region": region,
                "ip_range": f"10.{200 + index % 50}.{index // 50 * 16}.0/20",
                "created_at": iso_utc(self.created("custom_vpc", index, self.counts.custom_vpcs)),
                "default": False,
            }
            items.append(make_item(body, id=vpc_id, name=str(body["name"]), region=region))
        return tuple(items)
