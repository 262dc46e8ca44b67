"""Volumes: GET /v2/volumes (scope block_storage:read, default every 1m).

Size arrives in GiB and is exported in bytes; each attachment is one `_attached_droplet_info`
series, so an unattached volume is one with none.

    digitalocean_volume_info{account="production",volume_id="506f78a4-e098-11e5-ad9f-000f53306ae1",name="example",region="nyc1",filesystem_type="ext4"} 1
    digitalocean_volume_size_bytes{account="production",volume_id="506f78a4-e098-11e5-ad9f-000f53306ae1"} 10737418240
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from sys import intern
from typing import Any

import msgspec

from exporter.collectors.base import (
    FILTER_KEYS,
    Collector,
    Facts,
    Family,
    PollContext,
    ResourceReader,
    Sample,
)
from exporter.collectors.fields import (
    GIB,
    int_list,
    iso_timestamp,
    objects,
    optional_number,
    optional_str,
    required_str,
    sorted_by,
    string_list,
    timestamp,
)
from exporter.collectors.typed import TypedPages, Unfit

ENDPOINT = "/v2/volumes"

INFO = Family(
    "digitalocean_volume_info",
    "Volume descriptive labels (always 1), polled from /v2/volumes.",
    ("volume_id", "name", "region", "filesystem_type"),
)
SIZE = Family("digitalocean_volume_size_bytes", "Volume size, polled from /v2/volumes.",
              ("volume_id",))
CREATED = Family("digitalocean_volume_created_timestamp_seconds",
                 "When the volume was created, polled from /v2/volumes.", ("volume_id",))
ATTACHED = Family(
    "digitalocean_volume_attached_droplet_info",
    "One series per Droplet the volume is attached to (always 1), polled from /v2/volumes.",
    ("volume_id", "droplet_id"),
)


@dataclass(frozen=True, slots=True)
class VolumeRecord:
    volume_id: str
    name: str
    region: str
    filesystem_type: str
    size_gib: float | None
    created_at: float | None
    droplet_ids: tuple[int, ...]
    tags: tuple[str, ...] = ()  # for `filter:` only; not exported


class _Region(msgspec.Struct):
    slug: str | None = None


class VolumeItem(msgspec.Struct):
    """The fields of a volume parse_page reads (typed decoding: exporter/collectors/typed.py)."""

    id: str
    name: str | None = None
    region: _Region | None = None
    filesystem_type: str | None = None
    size_gigabytes: float | None = None
    created_at: str | None = None
    droplet_ids: list[int] | None = None
    tags: list[str] | None = None


def _text(value: str | None) -> str:
    return "" if value is None else intern(value)


def typed_volume(v: VolumeItem) -> VolumeRecord:
    """parse_page's record of a typed item; an empty id is Unfit (parse_page names it)."""
    if not v.id:
        raise Unfit
    return VolumeRecord(
        volume_id=intern(v.id),
        name=_text(v.name),
        region=_text(v.region.slug) if v.region is not None else "",
        filesystem_type=_text(v.filesystem_type),
        size_gib=v.size_gigabytes,
        created_at=iso_timestamp(v.created_at),
        droplet_ids=tuple(v.droplet_ids) if v.droplet_ids else (),
        tags=tuple(intern(tag) for tag in v.tags) if v.tags else (),
    )


def parse_page(items: list[Any], start: int, where: str = f"{ENDPOINT} volumes") -> list[VolumeRecord]:
    """Records of one page of the volume list (`start`: the index of its first item)."""
    return [
        VolumeRecord(
            volume_id=required_str(volume, "id", path),
            name=optional_str(volume, "name"),
            region=optional_str(volume, "region", "slug"),
            filesystem_type=optional_str(volume, "filesystem_type"),
            size_gib=optional_number(volume, "size_gigabytes"),
            created_at=timestamp(volume, "created_at"),
            droplet_ids=int_list(volume, "droplet_ids"),
            tags=string_list(volume, "tags"),
        )
        for path, volume in objects(items, where, start)
    ]


# the volume list's parser: it decodes the list's pages into VolumeItems too
TYPED_PAGES = TypedPages("volumes", VolumeItem, typed_volume, parse_page)


def by_id(records: Iterable[VolumeRecord]) -> tuple[VolumeRecord, ...]:
    return sorted_by(records, lambda r: r.volume_id)


def parse_volumes(items: list[Any], where: str = f"{ENDPOINT} volumes") -> tuple[VolumeRecord, ...]:
    return by_id(parse_page(items, 0, where))


async def fetch(reader: ResourceReader) -> tuple[VolumeRecord, ...]:
    return await fetch_selected(reader, PollContext())


async def fetch_selected(reader: ResourceReader, context: PollContext) -> tuple[VolumeRecord, ...]:
    """The volumes the `filter:` keeps; one region is asked of the API (`?region=`: the list
    takes no tag), everything else is applied here."""
    selection = context.selection
    region = selection.server_region()
    params = {"region": region} if region is not None else None
    # Each page becomes records as it arrives, so the list's JSON is never held whole.
    records = by_id(await reader.list_all(ENDPOINT, "volumes", params=params,
                                                 parse=TYPED_PAGES))
    return selection.keep(records, lambda v: Facts(v.volume_id, name=v.name, region=v.region, tags=v.tags))


def samples(volumes: tuple[VolumeRecord, ...]) -> Iterator[Sample]:
    for v in volumes:
        key = (v.volume_id,)
        yield INFO.name, (*key, v.name, v.region, v.filesystem_type), 1
        if v.size_gib is not None:
            size = v.size_gib * GIB
            yield SIZE.name, key, int(size) if size.is_integer() else size
        if v.created_at is not None:
            yield CREATED.name, key, v.created_at
        for droplet_id in v.droplet_ids:
            yield ATTACHED.name, (*key, str(droplet_id)), 1


COLLECTOR: Collector[tuple[VolumeRecord, ...]] = Collector(
    name="volumes",
    summary="block storage volumes: size, region, attachments",
    endpoints=(ENDPOINT,),
    id_label="volume_id",
    paged=ENDPOINT,
    scope="block_storage:read",
    interval=60.0,
    families=(INFO, SIZE, CREATED, ATTACHED),
    fetch=fetch,
    samples=samples,
    filters=FILTER_KEYS,
    fetch_with=fetch_selected,
)
