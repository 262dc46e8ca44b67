"""Projects: GET /v2/projects, then GET /v2/projects/{project_id}/resources per project (scope
project:read, default every 15m).

Name, purpose, environment and whether it is the default project live on `_info`. Membership is
one `_resource_info` series per resource, split from its URN (`do:droplet:13457723` is type
`droplet`, id `13457723`), so costs can be split by project. Only resources the token may read
are listed (Droplets need `droplet:read` too). A project deleted between the two requests (404)
is left out of that poll. Droplet prices by project:

    sum by (account, project_id) (
      digitalocean_droplet_price_monthly_usd
      * on(account, droplet_id) group_left(project_id)
        label_replace(digitalocean_project_resource_info{resource_type="droplet"},
                      "droplet_id", "$1", "resource_id", "(.*)")
    )

    digitalocean_project_info{account="production",project_id="4e1bfbc3-dc3e-41f2-a18f-1b4d7ba71679",name="my-web-api",purpose="Service or API",environment="Production",is_default="false"} 1
    digitalocean_project_resource_info{account="production",project_id="4e1bfbc3-dc3e-41f2-a18f-1b4d7ba71679",resource_type="droplet",resource_id="13457723"} 1
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import FOLLOW_UP_CONCURRENCY, Collector, Family, ResourceReader, Sample
from exporter.collectors.fields import (
    ShapeError,
    bool_label,
    describe,
    objects,
    optional_str,
    required_str,
    timestamp,
)
from exporter.collectors.relisting import confirm_deleted
from exporter.tasks import all_or_nothing

ENDPOINT = "/v2/projects"
RESOURCES_ENDPOINT = "/v2/projects/{project_id}/resources"

INFO = Family(
    "digitalocean_project_info",
    "Project name, purpose, environment and whether it is the default project (always 1), "
    "polled from /v2/projects.",
    ("project_id", "name", "purpose", "environment", "is_default"),
)
CREATED = Family(
    "digitalocean_project_created_timestamp_seconds",
    "When the project was created, polled from /v2/projects.",
    ("project_id",),
)
RESOURCE = Family(
    "digitalocean_project_resource_info",
    "One series per resource in the project, type and id from its URN (always 1), "
    "polled from /v2/projects/{project_id}/resources.",
    ("project_id", "resource_type", "resource_id"),
)


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    project_id: str
    name: str
    purpose: str
    environment: str
    is_default: str  # "true", "false", or "" when the API did not say
    created_at: float | None
    resources: tuple[tuple[str, str], ...] = ()  # (resource type, resource id), sorted


def parse_projects(items: list[Any], where: str = f"{ENDPOINT} projects") -> tuple[ProjectRecord, ...]:
    """Projects without their resources, sorted by id."""
    records: list[ProjectRecord] = []
    for path, project in objects(items, where):
        record = ProjectRecord(
            project_id=required_str(project, "id", path),
            name=optional_str(project, "name"),
            purpose=optional_str(project, "purpose"),
            environment=optional_str(project, "environment"),
            is_default=bool_label(project, "is_default"),
            created_at=timestamp(project, "created_at"),
        )
        records.append(record)
    # sorted; `list_all` already dropped what a shifting list repeated
    return tuple(sorted(records, key=lambda record: record.project_id))


def split_urn(urn: str, where: str) -> tuple[str, str]:
    """(type, id) from `do:<type>:<id>`; the id keeps any further colons."""
    scheme, _, rest = urn.partition(":")
    resource_type, _, resource_id = rest.partition(":")
    if scheme != "do" or not resource_type or not resource_id:
        raise ShapeError(f"{where}: expected a URN such as do:droplet:13457723, got {describe(urn)}")
    return resource_type, resource_id


def resources_where(project_id: str) -> str:
    return f"/v2/projects/{project_id}/resources resources"


def parse_resources(items: list[Any], where: str) -> tuple[tuple[str, str], ...]:
    """(type, id) of each resource in one project, once each, sorted. The URN is the identity
    of the series, so a missing or malformed one fails the poll."""
    return tuple(sorted({
        split_urn(required_str(resource, "urn", path), f"{path}.urn")
        for path, resource in objects(items, where)
    }))


def with_resources(
    projects: tuple[ProjectRecord, ...], resources: Sequence[list[Any] | None]
) -> tuple[ProjectRecord, ...]:
    """Each project with its resources; a project whose list is None (gone) is dropped."""
    return tuple(
        ProjectRecord(p.project_id, p.name, p.purpose, p.environment, p.is_default, p.created_at,
                      parse_resources(items, resources_where(p.project_id)))
        for p, items in zip(projects, resources, strict=True)
        if items is not None
    )


async def _resources_or_none(reader: ResourceReader, project_id: str) -> list[Any] | None:
    # None: the project was deleted since the project list was read
    return await reader.list_all(RESOURCES_ENDPOINT, "resources", path={"project_id": project_id},
                                 missing_ok=True)


async def fetch(reader: ResourceReader) -> tuple[ProjectRecord, ...]:
    projects = parse_projects(await reader.list_all(ENDPOINT, "projects"))
    resources = await all_or_nothing(
        [_resources_or_none(reader, p.project_id) for p in projects], limit=FOLLOW_UP_CONCURRENCY
    )
    gone = [p.project_id for p, items in zip(projects, resources, strict=True) if items is None]
    await confirm_deleted(reader, ENDPOINT, "projects", "id", gone=gone, follow_up=RESOURCES_ENDPOINT)
    return with_resources(projects, resources)


def samples(projects: tuple[ProjectRecord, ...]) -> Iterator[Sample]:
    for p in projects:
        key = (p.project_id,)
        yield INFO.name, (*key, p.name, p.purpose, p.environment, p.is_default), 1
        if p.created_at is not None:
            yield CREATED.name, key, p.created_at
        for resource_type, resource_id in p.resources:
            yield RESOURCE.name, (*key, resource_type, resource_id), 1


COLLECTOR: Collector[tuple[ProjectRecord, ...]] = Collector(
    name="projects",
    summary="projects and the resources in each, to split costs by project",
    endpoints=(ENDPOINT, RESOURCES_ENDPOINT),
    id_label="project_id",
    paged=ENDPOINT,
    scope="project:read",
    interval=900.0,
    families=(INFO, CREATED, RESOURCE),
    fetch=fetch,
    samples=samples,
)
