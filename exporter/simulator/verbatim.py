"""Resources given as plain JSON objects (e.g. the spec's own examples), served as they are.

`Fleet.from_objects` uses this: each kind of `KINDS` takes its keywords (`Kind.given`,
`Kind.given_keys`) and serves each object byte for byte (re-serialised compactly), except that
database credentials are shown only to tokens allowed to see them. Listings the caller does
not give are derived from what is given: one default project holding everything, VPC members
from the objects' VPC fields, tags counted from the objects' tags.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from exporter.simulator.building import GivenContext, given_item
from exporter.simulator.items import Item
from exporter.simulator.kinds import KINDS
from exporter.simulator.resources import Resources, project_entry

GIVEN_KEYS: frozenset[str] = frozenset(
    key
    for kind in KINDS
    if kind.given is not None
    for key in ((kind.name,) if kind.given_keys is None else kind.given_keys)
)
"""The `Fleet.from_objects` keywords the kinds take (besides `project_resources` and
`vpc_members`, listings of every kind)."""


def resources_from_objects(
    given: Mapping[str, Any],
    *,
    volumes: Sequence[Mapping[str, Any]],
    owner_uuid: str,
    owner_id: int,
    account_name: str,
) -> Resources:
    """Objects given verbatim (`Fleet.from_objects`), each kind taking its keywords.

    Project resources and VPC members left out are derived from the given objects: one
    default project holding everything, members from the objects' VPC fields."""
    unknown = sorted(set(given) - GIVEN_KEYS - {"project_resources", "vpc_members"})
    if unknown:
        raise TypeError(f"unexpected keyword arguments: {', '.join(unknown)}")
    context = GivenContext(
        given, volumes=volumes, owner_uuid=owner_uuid, owner_id=owner_id, account_name=account_name
    )
    kinds = {}
    for kind in KINDS:
        if kind.given is not None:
            built = kind.given(context)
            if built is not None:
                kinds[kind.name] = built
    project_list = kinds["projects"].items if "projects" in kinds else ()
    default = next(
        (p for p in project_list if b'"is_default":true' in p.parts[0]),
        project_list[0] if project_list else None,
    )
    project_resources: Mapping[str, Sequence[Mapping[str, Any]]] | None = given.get(
        "project_resources"
    )
    if project_resources is not None:
        members = {
            project: tuple(given_item(entry, key="urn") for entry in entries)
            for project, entries in project_resources.items()
        }
    else:
        members = {
            "" if default is None else str(default.id): tuple(
                Item(id=urn, parts=(project_entry(urn, path, when),), urn=urn)
                for urn, path, when in context.assigned
            )
        }
    vpc_members: Mapping[str, Sequence[Mapping[str, Any]]] | None = given.get("vpc_members")
    return Resources(
        kinds=kinds,
        project_members=members,
        droplets_in_projects=project_resources is None,
        vpc_members=(
            {vpc: tuple(items) for vpc, items in context.members.items()}
            if vpc_members is None
            else {
                vpc: tuple(given_item(entry, key="urn") for entry in entries)
                for vpc, entries in vpc_members.items()
            }
        ),
        droplets_in_vpcs=vpc_members is None,
        tag_sources=tuple(context.tag_sources),
    )
