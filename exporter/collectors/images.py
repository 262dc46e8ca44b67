"""Private images: GET /v2/images?private=true (scope image:read, default every 15m).

The account's own images: custom images (uploaded virtual machine images, billed per GiB and
month like snapshots), and the Droplet snapshots and backups the API also lists as images. Each
is exported with its type and distribution, its size (`size_gigabytes`, a float, in whole
bytes), its status and its creation time (for age alerts); each region it is stored in is its
own `_region_info` series. Only `custom` images are priced here (`exporter.costs`): snapshots
are priced by the snapshots collector and backups as a share of their Droplet's price.

    digitalocean_image_info{account="production",image_id="7555621",name="A custom image",type="custom",distribution="Arch Linux"} 1
    digitalocean_image_size_bytes{account="production",image_id="7555621"} 2512555868
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import (
    Collector,
    Family,
    ResourceReader,
    Sample,
    known_values,
    state_set,
)
from exporter.collectors.fields import (
    GIB,
    objects,
    optional_int,
    optional_number,
    optional_str,
    required_int,
    sorted_by,
    string_list,
    timestamp,
)
from exporter.collectors.snapshots import gib_to_bytes

ENDPOINT = "/v2/images"
PRIVATE = {"private": "true"}
STATES = ("NEW", "available", "pending", "deleted", "retired")

INFO = Family(
    "digitalocean_image_info",
    "Private image descriptive labels: type (custom, snapshot, backup) and distribution "
    "(always 1), polled from /v2/images.",
    ("image_id", "name", "type", "distribution"),
)
REGION = Family(
    "digitalocean_image_region_info",
    "A region the image is stored in, one series per region (always 1), polled from /v2/images.",
    ("image_id", "region"),
)
STATUS = Family(
    "digitalocean_image_status",
    "Image state, one series per state (1 for the current one), polled from /v2/images.",
    ("image_id", "status"),
)
SIZE = Family(
    "digitalocean_image_size_bytes",
    "Billable size of the image, polled from /v2/images.",
    ("image_id",),
)
MIN_DISK_SIZE = Family(
    "digitalocean_image_min_disk_size_bytes",
    "Smallest Droplet disk the image needs, polled from /v2/images.",
    ("image_id",),
)
CREATED = Family(
    "digitalocean_image_created_timestamp_seconds",
    "When the image was created, polled from /v2/images.",
    ("image_id",),
)


@dataclass(frozen=True, slots=True)
class ImageRecord:
    image_id: str  # the API's integer id, as text
    name: str
    type: str  # custom, snapshot, backup, ...
    distribution: str
    status: str
    regions: tuple[str, ...]  # sorted, without duplicates
    size_bytes: int | None
    min_disk_size_bytes: int | None
    created_at: float | None


def parse_page(items: list[Any], start: int, where: str = f"{ENDPOINT} images") -> list[ImageRecord]:
    """Records of one page of the image list (`start`: the index of its first item)."""
    records = []
    for path, image in objects(items, where, start):
        size_gib = optional_number(image, "size_gigabytes")
        min_disk_gib = optional_int(image, "min_disk_size")
        records.append(ImageRecord(
            image_id=str(required_int(image, "id", path)),
            name=optional_str(image, "name"),
            type=optional_str(image, "type"),
            distribution=optional_str(image, "distribution"),
            status=optional_str(image, "status"),
            regions=tuple(sorted(set(string_list(image, "regions")))),
            size_bytes=None if size_gib is None else gib_to_bytes(size_gib),
            min_disk_size_bytes=None if min_disk_gib is None else min_disk_gib * GIB,
            created_at=timestamp(image, "created_at"),
        ))
    return records


def by_id(records: Iterable[ImageRecord]) -> tuple[ImageRecord, ...]:
    return sorted_by(records, lambda r: int(r.image_id))


def parse_images(items: list[Any], where: str = f"{ENDPOINT} images") -> tuple[ImageRecord, ...]:
    return by_id(parse_page(items, 0, where))


async def fetch(reader: ResourceReader) -> tuple[ImageRecord, ...]:
    # `private=true`: the account's own images, not DigitalOcean's distribution images.
    return by_id(await reader.list_all(ENDPOINT, "images", params=PRIVATE,
                                              parse=parse_page))


def samples(images: tuple[ImageRecord, ...]) -> Iterator[Sample]:
    for image in images:
        key = (image.image_id,)
        yield INFO.name, (*key, image.name, image.type, image.distribution), 1
        for region in image.regions:
            yield REGION.name, (*key, region), 1
        if image.status:
            yield from state_set(STATUS.name, key, image.status, STATES)
        yield from known_values(key, (
            (SIZE, image.size_bytes),
            (MIN_DISK_SIZE, image.min_disk_size_bytes),
            (CREATED, image.created_at),
        ))


COLLECTOR: Collector[tuple[ImageRecord, ...]] = Collector(
    name="images",
    summary="private images (custom images, and snapshots and backups as images): size, type, "
            "distribution, regions, age",
    endpoints=(ENDPOINT,),  # read with ?private=true
    id_label="image_id",
    paged=ENDPOINT,
    scope="image:read",
    interval=900.0,
    families=(INFO, REGION, STATUS, SIZE, MIN_DISK_SIZE, CREATED),
    fetch=fetch,
    samples=samples,
)
