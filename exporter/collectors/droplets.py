"""Droplets: GET /v2/droplets and GET /v2/droplets?type=gpus, merged by id (scope droplet:read,
default every 1m).

GPU Droplets appear only in the `type=gpus` list, so both lists are read. Names, tags, image and
VPC live on `_info` and `_tag_info`; values carry only `droplet_id`. Memory arrives in MiB and
disk in GiB and are exported in bytes. The public and private IPv4 addresses are kept in the
records for service discovery (`/sd/droplets`, exporter/discovery.py), not exported as labels.

    digitalocean_droplet_info{account="production",droplet_id="3164444",name="example.com",region="nyc3",size="s-1vcpu-1gb",image="ubuntu-20-04-x64",vpc_uuid="760e09ef-dc84-11e8-981e-3cfdfeaae000"} 1
    digitalocean_droplet_status{account="production",droplet_id="3164444",status="active"} 1
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from sys import intern
from typing import Any

import msgspec

from exporter.collectors.base import (
    FILTER_KEYS,
    Collector,
    Facts,
    Family,
    FieldScope,
    PollContext,
    ResourceReader,
    Sample,
    known_values,
    state_set,
)
from exporter.collectors.fields import (
    GIB,
    MIB,
    iso_timestamp,
    objects,
    optional_int,
    optional_number,
    optional_str,
    required_int,
    string_list,
    timestamp,
)
from exporter.collectors.typed import TypedPages
from exporter.tasks import all_or_nothing

ENDPOINT = "/v2/droplets"
STATUSES = ("new", "active", "off", "archive")

INFO = Family(
    "digitalocean_droplet_info",
    "Droplet descriptive labels (always 1), polled from /v2/droplets.",
    ("droplet_id", "name", "region", "size", "image", "vpc_uuid"),
)
STATUS = Family(
    "digitalocean_droplet_status",
    "Droplet status as a state set (1 for the current status), polled from /v2/droplets.",
    ("droplet_id", "status"),
)
VCPUS = Family("digitalocean_droplet_vcpus", "Droplet vCPUs, polled from /v2/droplets.",
               ("droplet_id",))
MEMORY = Family("digitalocean_droplet_memory_bytes", "Droplet memory, polled from /v2/droplets.",
                ("droplet_id",))
DISK = Family("digitalocean_droplet_disk_bytes", "Droplet disk size, polled from /v2/droplets.",
              ("droplet_id",))
PRICE_HOURLY = Family("digitalocean_droplet_price_hourly_usd",
                      "Droplet size list price per hour, polled from /v2/droplets.", ("droplet_id",))
PRICE_MONTHLY = Family("digitalocean_droplet_price_monthly_usd",
                       "Droplet size list price per month, polled from /v2/droplets.", ("droplet_id",))
CREATED = Family("digitalocean_droplet_created_timestamp_seconds",
                 "When the Droplet was created, polled from /v2/droplets.", ("droplet_id",))
TAG = Family("digitalocean_droplet_tag_info",
             "One series per Droplet tag (always 1), polled from /v2/droplets.",
             ("droplet_id", "tag"))


@dataclass(frozen=True, slots=True)
class DropletRecord:
    droplet_id: int
    name: str
    status: str
    region: str
    size: str
    image: str
    vpc_uuid: str
    vcpus: int | None
    memory_mib: int | None
    disk_gib: int | None
    price_hourly: float | None
    price_monthly: float | None
    created_at: float | None
    tags: tuple[str, ...]
    backups: bool  # weekly backups are enabled (they add to the Droplet's cost)
    # the first address of each kind in networks.v4, "" when there is none (for /sd/droplets)
    public_ipv4: str = ""
    private_ipv4: str = ""


def ipv4_address(droplet: Mapping[str, Any], kind: str) -> str:
    """The first `networks.v4` address of `kind` (public or private); "" when there is none.
    Lenient: an address is descriptive, never the identity of a series."""
    networks = droplet.get("networks")
    v4 = networks.get("v4") if isinstance(networks, dict) else None
    for interface in v4 if isinstance(v4, list) else ():
        if isinstance(interface, dict) and interface.get("type") == kind:
            address = optional_str(interface, "ip_address")
            if address:
                return address
    return ""


def parse_droplet(droplet: Any, where: str) -> DropletRecord:
    size = droplet.get("size") if isinstance(droplet.get("size"), dict) else {}
    return DropletRecord(
        droplet_id=required_int(droplet, "id", where),
        name=optional_str(droplet, "name"),
        status=optional_str(droplet, "status") or "unknown",
        region=optional_str(droplet, "region", "slug"),
        size=optional_str(droplet, "size_slug") or optional_str(size, "slug"),
        image=optional_str(droplet, "image", "slug") or optional_str(droplet, "image", "name"),
        vpc_uuid=optional_str(droplet, "vpc_uuid"),
        vcpus=optional_int(droplet, "vcpus"),
        memory_mib=optional_int(droplet, "memory"),
        disk_gib=optional_int(droplet, "disk"),
        price_hourly=optional_number(size, "price_hourly"),
        price_monthly=optional_number(size, "price_monthly"),
        created_at=timestamp(droplet, "created_at"),
        tags=string_list(droplet, "tags"),
        backups="backups" in string_list(droplet, "features"),
        public_ipv4=ipv4_address(droplet, "public"),
        private_ipv4=ipv4_address(droplet, "private"),
    )


# -- typed decoding (exporter/collectors/typed.py): the fields parse_droplet reads, nothing else


class _Named(msgspec.Struct):  # a region or an image
    slug: str | None = None
    name: str | None = None


class _Size(msgspec.Struct):
    slug: str | None = None
    price_hourly: float | None = None
    price_monthly: float | None = None


class _Interface(msgspec.Struct):
    type: str | None = None
    ip_address: str | None = None


class _Networks(msgspec.Struct):
    v4: list[_Interface] | None = None


class DropletItem(msgspec.Struct):
    id: int
    name: str | None = None
    status: str | None = None
    region: _Named | None = None
    size_slug: str | None = None
    size: _Size | None = None
    image: _Named | None = None
    vpc_uuid: str | None = None
    vcpus: int | None = None
    memory: int | None = None
    disk: int | None = None
    created_at: str | None = None
    tags: list[str] | None = None
    features: list[str] | None = None
    networks: _Networks | None = None


def _text(value: str | None) -> str:
    return "" if value is None else intern(value)


def _typed_address(droplet: DropletItem, kind: str) -> str:
    v4 = droplet.networks.v4 if droplet.networks is not None else None
    for interface in v4 or ():
        if interface.type == kind and interface.ip_address:
            return intern(interface.ip_address)
    return ""


def typed_droplet(d: DropletItem) -> DropletRecord:
    """parse_droplet of a typed item: the same record from the same Droplet."""
    size, image = d.size, d.image
    return DropletRecord(
        droplet_id=d.id,
        name=_text(d.name),
        status=_text(d.status) or "unknown",
        region=_text(d.region.slug) if d.region is not None else "",
        size=_text(d.size_slug) or (_text(size.slug) if size is not None else ""),
        image=(_text(image.slug) or _text(image.name)) if image is not None else "",
        vpc_uuid=_text(d.vpc_uuid),
        vcpus=d.vcpus,
        memory_mib=d.memory,
        disk_gib=d.disk,
        price_hourly=size.price_hourly if size is not None else None,
        price_monthly=size.price_monthly if size is not None else None,
        created_at=iso_timestamp(d.created_at),
        tags=tuple(intern(tag) for tag in d.tags) if d.tags else (),
        backups=d.features is not None and "backups" in d.features,
        public_ipv4=_typed_address(d, "public"),
        private_ipv4=_typed_address(d, "private"),
    )


def parse_page(where: str) -> TypedPages[DropletItem, DropletRecord]:
    """Records of one page of a droplet list whose items are named `where[index]`; it also
    decodes the list's pages into DropletItems (`decode`), which it parses with typed_droplet."""
    def parse(items: list[Any], start: int) -> list[DropletRecord]:
        return [parse_droplet(droplet, path) for path, droplet in objects(items, where, start)]
    return TypedPages("droplets", DropletItem, typed_droplet, parse)


def unique_by_id(*lists: Iterable[DropletRecord]) -> tuple[DropletRecord, ...]:
    """One record per id, sorted (a GPU Droplet listed twice counts once; the last wins)."""
    by_id = {record.droplet_id: record for records in lists for record in records}
    return tuple(by_id[key] for key in sorted(by_id))


def parse_droplets(*lists: tuple[list[Any], str]) -> tuple[DropletRecord, ...]:
    """Records from one or more droplet lists, one per id (a GPU Droplet listed twice counts once)."""
    return unique_by_id(*(parse_page(where)(items, 0) for items, where in lists))


async def fetch(reader: ResourceReader) -> tuple[DropletRecord, ...]:
    return await fetch_selected(reader, PollContext())


async def fetch_selected(reader: ResourceReader, context: PollContext) -> tuple[DropletRecord, ...]:
    """The Droplets the `filter:` keeps. One tag is asked of the API (`?tag_name=`, so only
    that tag's pages are read); the API cannot combine it with `type=gpus`, so the GPU list
    (short) is read whole and filtered here, like every other key."""
    selection = context.selection
    tag = selection.server_tag()
    params = {"tag_name": tag} if tag is not None else None
    where = f"{ENDPOINT}?tag_name= droplets" if tag is not None else f"{ENDPOINT} droplets"
    # Each page becomes records as it arrives: 10,000 Droplets of JSON are never held at once.
    default, gpus = await all_or_nothing([
        reader.list_all(ENDPOINT, "droplets", params=params, parse=parse_page(where)),
        reader.list_all(ENDPOINT, "droplets", params={"type": "gpus"},
                        parse=parse_page(f"{ENDPOINT}?type=gpus droplets")),
    ])
    records = unique_by_id(default, gpus)
    return selection.keep(records, lambda d: Facts(d.droplet_id, name=d.name, region=d.region, tags=d.tags))


def samples(droplets: tuple[DropletRecord, ...]) -> Iterator[Sample]:
    for d in droplets:
        key = (str(d.droplet_id),)
        yield INFO.name, (*key, d.name, d.region, d.size, d.image, d.vpc_uuid), 1
        yield from state_set(STATUS.name, key, d.status, STATUSES)
        yield from known_values(key, (
            (VCPUS, d.vcpus),
            (MEMORY, None if d.memory_mib is None else d.memory_mib * MIB),
            (DISK, None if d.disk_gib is None else d.disk_gib * GIB),
            (PRICE_HOURLY, d.price_hourly),
            (PRICE_MONTHLY, d.price_monthly),
            (CREATED, d.created_at),
        ))
        for tag in d.tags:
            yield TAG.name, (*key, tag), 1


COLLECTOR: Collector[tuple[DropletRecord, ...]] = Collector(
    name="droplets",
    summary="Droplets (including GPU Droplets): status, size, price, tags",
    endpoints=(ENDPOINT, f"{ENDPOINT}?type=gpus"),
    id_label="droplet_id",
    paged=ENDPOINT,
    scope="droplet:read",
    field_scopes=(
        FieldScope("tags", ("tag:read",), ("digitalocean_droplet_tag_info{tag}",)),
        FieldScope("vpc_uuid", ("vpc:read",), ("digitalocean_droplet_info{vpc_uuid}",)),
        FieldScope("image", ("image:read",), ("digitalocean_droplet_info{image}",)),
    ),
    interval=60.0,
    families=(INFO, STATUS, VCPUS, MEMORY, DISK, PRICE_HOURLY, PRICE_MONTHLY, CREATED, TAG),
    fetch=fetch,
    samples=samples,
    filters=FILTER_KEYS,
    fetch_with=fetch_selected,
)
