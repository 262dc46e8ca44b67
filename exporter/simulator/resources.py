"""`Resources`: every kind's objects besides Droplets, volumes and billing, by kind name.

The objects are built by the kind modules (`kinds/<name>.py`, see `building.py`) or given
verbatim (`verbatim.py`), all consistent with the account's Droplets and volumes:

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

A spec's `problems` decides the alert-worthy states (see `FleetSpec.problems`). How many of
each kind comes in as `ResourceCounts` (worked out from `exporter.simulator.kinds.KINDS`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from exporter.simulator.items import BASE_URL, Item, encode_with_slots, make_item

JsonObject = dict[str, Any]

Forget = Callable[[JsonObject, set[int]], None]
"""How one object of a kind lets go of destroyed Droplets (edits its JSON in place)."""


class ResourceCounts(Mapping[str, int]):
    """How many of each kind a spec asks for, defaults worked out (`kinds.resource_counts`);
    read by kind name (`counts["load_balancers"]`) or as attributes."""

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
class Built:
    """What one kind built (or was given): its objects and what hangs off them.

    `related`: further listings of the kind by key (a domain's records by its name, an uptime
    check's state by its id, the registry's subscription, the catalogue's regions).
    `bodies`: the objects' JSON as built, for the kinds built after it (not kept in
    `Resources`).
    """

    items: tuple[Item, ...] = ()
    related: Mapping[str, tuple[Item, ...]] = field(default_factory=dict)
    bodies: tuple[JsonObject, ...] = ()


@dataclass(frozen=True)
class Resources:
    """The generated (or given) objects of every kind but Droplets, volumes and billing.

    `objects(kind)` and `related(kind, key)` read one kind (by its `Kind.name`); the kind
    modules wrap them in typed accessors. The listings every kind adds to (project resources,
    VPC members, tagged objects) are kept beside them.
    """

    kinds: Mapping[str, Built] = field(default_factory=dict)
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
    tag_sources: tuple[tuple[str, str, str], ...] = ()
    """(tag, kind, path) of tagged snapshots and databases, for `/v2/tags`."""

    def has(self, kind: str) -> bool:
        """Whether `kind` was built or given (e.g. `/v2/tags` given verbatim)."""
        return kind in self.kinds

    def objects(self, kind: str) -> tuple[Item, ...]:
        built = self.kinds.get(kind)
        return () if built is None else built.items

    def related(self, kind: str, key: str) -> tuple[Item, ...] | None:
        """A further listing of `kind` (e.g. a domain's records); None if there is none."""
        built = self.kinds.get(kind)
        return None if built is None else built.related.get(key)


def forget_droplets(
    resources: Resources, gone: set[int], forgetting: Mapping[str, Forget]
) -> Resources:
    """`resources` after the Droplets `gone` were destroyed: every kind with a `forget` edit
    (load balancers, firewalls, node pools) lets go of them; reserved IPs follow by
    themselves (their Droplet is looked up when they are served)."""
    if not gone:
        return resources

    def without(items: tuple[Item, ...], edit: Forget) -> tuple[Item, ...]:
        if not any(gone.intersection(item.droplet_ids) for item in items):
            return items
        changed = []
        for item in items:
            if not gone.intersection(item.droplet_ids):
                changed.append(item)
                continue
            value = item.as_json()
            edit(value, gone)
            parts, slots = encode_with_slots(value)
            remaining = tuple(i for i in item.droplet_ids if i not in gone)
            changed.append(replace(item, parts=parts, slots=slots, droplet_ids=remaining))
        return tuple(changed)

    kinds = dict(resources.kinds)
    for name, edit in forgetting.items():
        if name in kinds:
            kinds[name] = replace(kinds[name], items=without(kinds[name].items, edit))
    return replace(resources, kinds=kinds)


def project_entry(urn: str, path: str, assigned_at: str) -> bytes:
    """One `/v2/projects/{id}/resources` entry; `links.self` is completed per request."""
    return (
        f'{{"urn":"{urn}","assigned_at":"{assigned_at}",'
        f'"links":{{"self":"{BASE_URL}{path}"}},"status":"ok"}}'
    ).encode()


def member_entry(urn: str, name: str, created_at: str) -> Item:
    return make_item({"urn": urn, "name": name, "created_at": created_at}, id=urn, urn=urn)
