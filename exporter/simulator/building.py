"""What a kind's builder works with: `BuildContext`, and what it answers, `Built`.

A kind module (`kinds/<name>.py`) builds its objects with a function `build(context) ->
Built`; `exporter.simulator.kinds.build_resources` calls the builders in `build_order(KINDS)`
(KINDS order, a kind moved after the kinds it declares `after=`). The context is shared by
every kind of one account:

* the account's Droplets (not yet serialised), volumes, counts and spec;
* seeded helpers: `rng(kind)` (each kind its own random stream, so changing one count leaves
  the others alone), `uuid`, `created` (times spread over the fleet's span), `region_at`;
* `built(name)`: what an earlier kind built (only a kind named in `after=`; see
  `BuildContext.built`), and `plans`, what a kind worked out before volumes were attached
  (Kubernetes nodes);
* the listings every kind adds to: project resources (`assign`, `project_for`,
  `droplet_project`), VPC members (`member`) and tagged objects (`tag`), gathered into
  `Resources` once every kind is built (`resources()`).

Kubernetes worker nodes ARE Droplets of the fleet (`node_ids`): every kind that places
objects on Droplets leaves them out (`serving()`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from exporter.simulator.catalog import HOURS_BILLED_PER_MONTH
from exporter.simulator.determinism import seeded_random, stable_int, stable_uuid
from exporter.simulator.droplet_factory import DropletFactory
from exporter.simulator.items import DAY, Item, make_item
from exporter.simulator.resources import (
    Built,
    ResourceCounts,
    Resources,
    member_entry,
    project_entry,
)
from exporter.simulator.spec import FleetSpec

JsonObject = dict[str, Any]

HOUR = 3600
EPOCH = "1970-01-01T00:00:00Z"
HOURS = Decimal(HOURS_BILLED_PER_MONTH)


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


class BuildError(LookupError):
    """A builder read a kind it did not declare in `after=`, or one not built yet."""


class BuildContext:
    """One account's shared builder state, around its (not yet serialised) Droplets.

    Kinds with a `plan` step run it before volumes are attached (Kubernetes turns Droplets
    into nodes); the builders run once the Droplets and volumes are final (`volumes` is set).
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
        self.node_ids: set[int] = set()
        """Droplets that are Kubernetes nodes: no load balancer, IP or snapshot picks them."""
        self.plans: dict[str, object] = {}
        """What a kind's `plan` step worked out, by kind name (read by its own module)."""
        self.droplet_groups: dict[str, object] = {}
        """Tag -> project key: Droplets with the tag (a cluster's nodes) share its project."""
        self.volumes: Sequence[JsonObject] = ()
        self._serving: list[JsonObject] | None = None
        self._built: dict[str, Built] = {}
        self._readable: Collection[str] = ()
        self._droplet_projects: dict[int | str, str] | None = None
        self.project_ids = [self.uuid("project", index) for index in range(counts["projects"])]
        self.entries: dict[str, list[tuple[str, bytes]]] = {pid: [] for pid in self.project_ids}
        self.vpc_extra: dict[str, list[Item]] = {}
        self.tag_sources: list[tuple[str, str, str]] = []
        used = {d["region"]["slug"] for d in droplets}
        self.placement = [slug for slug in spec.regions if slug in used] or list(spec.regions)
        # Default VPCs exist where the account runs Droplets, and in its other regions (where
        # new Droplets may appear) once it runs any.
        self.regions_in_use: set[str] = used | {d["region"]["slug"] for d in gpu_droplets}
        if self.regions_in_use:
            self.regions_in_use.update(spec.regions)

    # -- what other kinds built ---------------------------------------------------------------

    def built(self, name: str) -> Built:
        """What kind `name` built. Only a kind the current one declares in `after=` may be
        read, so a dependency cannot go unnoticed just because KINDS happens to list it first."""
        if name not in self._readable:
            raise BuildError(f"a builder read {name!r} without declaring after=({name!r},)")
        if name not in self._built:
            raise BuildError(f"{name!r} is not built yet")
        return self._built[name]

    def building(self, after: Collection[str]) -> None:
        """The next builder may read `after` (set by `kinds.build_resources`)."""
        self._readable = after

    def keep(self, name: str, built: Built) -> None:
        self._built[name] = built

    # -- seeded helpers -----------------------------------------------------------------------

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

        Computed once the nodes are chosen, then shared."""
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

    # -- projects, VPC members, tags --------------------------------------------------------

    def project_for(self, key: object) -> str:
        """A stable project for a resource that belongs to no Droplet."""
        ids = self.project_ids
        return ids[stable_int(self.spec.seed, self.account, "project-of", key) % len(ids)]

    @property
    def droplet_projects(self) -> dict[int | str, str]:
        """Nodes are in their cluster's project; other Droplets in their role's."""
        if self._droplet_projects is None:
            by_group = {tag: self.project_for(key) for tag, key in self.droplet_groups.items()}
            by_role: dict[str, str] = {}
            projects: dict[int | str, str] = {}
            for droplet in (*self.droplets, *self.gpu_droplets):
                tags = droplet.get("tags") or []
                project = next((by_group[t] for t in tags if t in by_group), None)
                if project is None:
                    role = self.role(droplet)
                    if role not in by_role:
                        by_role[role] = self.project_for(("role", role))
                    project = by_role[role]
                projects[int(droplet["id"])] = project
            self._droplet_projects = projects
        return self._droplet_projects

    def droplet_project(self, droplet_id: int) -> str:
        return self.droplet_projects.get(droplet_id, self.project_ids[0])

    def volume_project(self, volume: JsonObject) -> str:
        attached = volume.get("droplet_ids") or []
        if attached:
            return self.droplet_project(int(attached[0]))
        return self.project_for(("volume", volume["id"]))

    def assign(self, urn: str, path: str, assigned_at: str, project_id: str) -> None:
        """List the object under its project's resources."""
        self.entries[project_id].append((urn, project_entry(urn, path, assigned_at)))

    def member(self, vpc: str, urn: str, name: str, created_at: str) -> None:
        """List the object among its VPC's members."""
        self.vpc_extra.setdefault(vpc, []).append(member_entry(urn, name, created_at))

    def tag(self, tag: str, kind: str, path: str) -> None:
        """Count a tagged object of `kind` (a `/v2/tags` resource type) under `tag`."""
        self.tag_sources.append((tag, kind, path))

    # -- the result -------------------------------------------------------------------------

    def resources(self) -> Resources:
        """Every kind's objects and the listings they added to."""
        return Resources(
            kinds={name: replace(built, bodies=()) for name, built in self._built.items()},
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
        )


class GivenContext:
    """What a kind's `given` step sees in `Fleet.from_objects`: the keywords given to it, and
    the listings it adds to (like `BuildContext`: project resources, VPC members, tags).

    Project resources and VPC members added here are used only when the caller does not give
    `project_resources` / `vpc_members`; everything assigned goes to the default project.
    """

    def __init__(
        self,
        given: Mapping[str, Any],
        *,
        volumes: Sequence[Mapping[str, Any]],
        owner_uuid: str,
        owner_id: int,
        account_name: str,
    ) -> None:
        self._given = given
        self.volumes = volumes
        self.owner_uuid = owner_uuid
        self.owner_id = owner_id
        self.account = account_name
        self.assigned: list[tuple[str, str, str]] = []
        self.members: dict[str, list[Item]] = {}
        self.tag_sources: list[tuple[str, str, str]] = []

    def value(self, key: str) -> Any:
        """The keyword `key` as given; None if left out."""
        return self._given.get(key)

    def objects(self, key: str) -> Sequence[Mapping[str, Any]]:
        """A list of API objects given as `key`; empty if left out."""
        return tuple(self._given.get(key) or ())

    def assign(self, urn: str, path: str, assigned_at: str) -> None:
        """A project resource (of the default project); "" when: the epoch."""
        self.assigned.append((urn, path, assigned_at or EPOCH))

    def member(self, vpc: str, urn: str, name: str, created_at: str) -> None:
        self.members.setdefault(vpc, []).append(member_entry(urn, name, created_at or EPOCH))

    def tag(self, tag: str, kind: str, path: str) -> None:
        self.tag_sources.append((tag, kind, path))


def given_item(value: Mapping[str, Any], key: str = "id", **facts: Any) -> Item:
    """An object given verbatim, identified by its `key` field."""
    return make_item(dict(value), id=str(value.get(key, "")), **facts)


def text(value: object) -> str:
    return "" if value is None else str(value)
