"""Tags: GET /v2/tags (scope tag:read, default every 15m).

One `_info` series per tag and the number of tagged resources of each type, under the API's own
type keys (`droplets`, `images`, `volumes`, `volume_snapshots`, `databases`, and any type added
later); the total is their sum. Only types the token may read are counted (Droplets need
`droplet:read` too), and a type the API leaves out is absent rather than 0.

    digitalocean_tag_info{account="production",tag="extra-awesome"} 1
    digitalocean_tag_resources{account="production",tag="extra-awesome",resource_type="droplets"} 1
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import Collector, Family, FieldScope, ResourceReader, Sample
from exporter.collectors.fields import objects, optional_int, required_str

ENDPOINT = "/v2/tags"

INFO = Family(
    "digitalocean_tag_info",
    "Tag (always 1), polled from /v2/tags.",
    ("tag",),
)
RESOURCES = Family(
    "digitalocean_tag_resources",
    "Resources carrying the tag by resource type, polled from /v2/tags.",
    ("tag", "resource_type"),
)


@dataclass(frozen=True, slots=True)
class TagRecord:
    tag: str
    resource_counts: tuple[tuple[str, int], ...]  # (resource type, count), sorted by type


def resource_counts(tag: Mapping[str, Any]) -> tuple[tuple[str, int], ...]:
    """Per-type counts: every object under `resources` with an integer `count`. The top-level
    `count` is the total and `last_tagged_uri` a URL, so neither is an object and both drop out."""
    resources = tag.get("resources")
    if not isinstance(resources, dict):
        return ()
    counts = {
        resource_type: count
        for resource_type, stats in resources.items()
        if isinstance(stats, dict) and (count := optional_int(stats, "count")) is not None
    }
    return tuple(sorted(counts.items()))


def parse_tags(items: list[Any], where: str = f"{ENDPOINT} tags") -> tuple[TagRecord, ...]:
    records: list[TagRecord] = []
    for path, tag in objects(items, where):
        record = TagRecord(tag=required_str(tag, "name", path), resource_counts=resource_counts(tag))
        records.append(record)
    # sorted; `list_all` already dropped what a shifting list repeated
    return tuple(sorted(records, key=lambda record: record.tag))


async def fetch(reader: ResourceReader) -> tuple[TagRecord, ...]:
    return parse_tags(await reader.list_all(ENDPOINT, "tags", id_key="name"))


def samples(tags: tuple[TagRecord, ...]) -> Iterator[Sample]:
    for t in tags:
        key = (t.tag,)
        yield INFO.name, key, 1
        for resource_type, count in t.resource_counts:
            yield RESOURCES.name, (*key, resource_type), count


COLLECTOR: Collector[tuple[TagRecord, ...]] = Collector(
    name="tags",
    summary="tags and how many resources of each type carry them",
    endpoints=(ENDPOINT,),
    id_label="tag",
    paged=ENDPOINT,
    scope="tag:read",
    # Counts of each type only include what the token may see (the API description).
    field_scopes=tuple(
        FieldScope(f"resources.{kind}", (scope,), (f"digitalocean_tag_resources{{resource_type={kind}}}",))
        for kind, scope in (
            ("droplets", "droplet:read"), ("images", "image:read"), ("volumes", "block_storage:read"),
            ("volume_snapshots", "block_storage_snapshot:read"), ("databases", "database:read"),
        )
    ),
    interval=900.0,
    families=(INFO, RESOURCES),
    fetch=fetch,
    samples=samples,
)
