"""Listings derived from the live fleet: project resources, VPC members and tags.

They change when Droplets are created or destroyed (churn), so the fleet computes them on
first use after each change and keeps them until the next one. Everything else in them
(volumes, load balancers, databases, ...) is fixed when the fleet is built.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from exporter.simulator.items import BASE_URL, Item, make_item
from exporter.simulator.resources import Resources, project_entry

TAG_KINDS = ("droplets", "images", "volumes", "volume_snapshots", "databases")
"""The kinds `/v2/tags` counts, in the order of its `resources` object."""


class Tagged(Protocol):
    """What the views read of a Droplet or volume (a `ListedObject`)."""

    @property
    def id(self) -> int | str: ...

    @property
    def name(self) -> str: ...

    @property
    def tags(self) -> tuple[str, ...]: ...

    @property
    def vpc_uuid(self) -> str: ...

    @property
    def created_at(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Entry:
    """A serialised listing entry (the `Encoded` shape `paged_list` serves)."""

    body: bytes


def project_listing(
    resources: Resources, droplets: Iterable[Tagged], default_project: str
) -> dict[str, tuple[Entry, ...]]:
    """Per project id: its Droplets (live), then everything else assigned to it."""
    per_project: dict[str, list[Entry]] = {str(project.id): [] for project in resources.objects("projects")}
    per_project.setdefault(default_project, [])
    if resources.droplets_in_projects:
        for droplet in droplets:
            project = resources.droplet_projects.get(droplet.id, default_project)
            entry = project_entry(
                f"do:droplet:{droplet.id}", f"/v2/droplets/{droplet.id}", droplet.created_at
            )
            per_project.setdefault(project, []).append(Entry(entry))
    for project, members in resources.project_members.items():
        per_project.setdefault(project, []).extend(Entry(member.parts[0]) for member in members)
    return {project: tuple(entries) for project, entries in per_project.items()}


def vpc_listing(resources: Resources, droplets: Iterable[Tagged]) -> dict[str, tuple[Entry, ...]]:
    """Per VPC id: its Droplets (live), then its load balancers, clusters and databases."""
    per_vpc: dict[str, list[Entry]] = {str(vpc.id): [] for vpc in resources.objects("custom_vpcs")}
    if resources.droplets_in_vpcs:
        for droplet in droplets:
            if droplet.vpc_uuid:
                name = json.dumps(droplet.name, ensure_ascii=False)
                entry = (
                    f'{{"urn":"do:droplet:{droplet.id}","name":{name},'
                    f'"created_at":"{droplet.created_at}"}}'
                ).encode()
                per_vpc.setdefault(droplet.vpc_uuid, []).append(Entry(entry))
    for vpc, members in resources.vpc_members.items():
        per_vpc.setdefault(vpc, []).extend(Entry(member.parts[0]) for member in members)
    return {vpc: tuple(entries) for vpc, entries in per_vpc.items()}


def tag_listing(
    resources: Resources, droplets: Sequence[Tagged], volumes: Sequence[Tagged]
) -> tuple[Item, ...]:
    """`/v2/tags`: every tag in use, with how many of each kind of object carry it."""
    counts: dict[str, dict[str, int]] = {}
    last: dict[str, dict[str, str]] = {}

    def count(tag: str, kind: str, path: str) -> None:
        counts.setdefault(tag, dict.fromkeys(TAG_KINDS, 0))[kind] += 1
        last.setdefault(tag, {})[kind] = path

    for droplet in droplets:
        for tag in droplet.tags:
            count(tag, "droplets", f"/v2/droplets/{droplet.id}")
    for volume in volumes:
        for tag in volume.tags:
            count(tag, "volumes", f"/v2/volumes/{volume.id}")
    for tag, kind, path in resources.tag_sources:
        count(tag, kind, path)
    items = []
    for tag in sorted(counts):
        per_kind = counts[tag]
        paths = last[tag]
        body: dict[str, object] = {"count": sum(per_kind.values())}
        first = next(kind for kind in TAG_KINDS if per_kind[kind])
        body["last_tagged_uri"] = BASE_URL + paths[first]
        for kind in TAG_KINDS:
            body[kind] = (
                {"count": per_kind[kind], "last_tagged_uri": BASE_URL + paths[kind]}
                if per_kind[kind]
                else {"count": 0}
            )
        items.append(make_item({"name": tag, "resources": body}, id=tag, name=tag))
    return tuple(items)
