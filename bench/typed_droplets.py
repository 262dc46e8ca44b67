"""Prototype (bench only): the Droplet list decoded by msgspec straight into Structs.

Item 2 of issue 15 asks whether typed decoding pays: `msgspec.json.decode(content, type=Page)`
builds only the fields the droplets collector reads (the rest of each ~2.5 KB Droplet, such as
its size's region list and its image, is scanned but never becomes a Python object). This
module holds the page types, a stand-in for `exporter.api._json_object` that decodes
`/v2/droplets` pages with them, and the collector's parsing rewritten for Struct items, with
records either as the exporter's `DropletRecord` dataclass or as a frozen `gc=False` Struct.

Not the exporter's behaviour, and so not wired into it:
- a descriptive field of the wrong type (a number as `name`) fails the whole page here; the
  exporter's parser reads it as "" and keeps the Droplet;
- a page that does not fit the types is handed back to the exporter's own decoding, so its
  errors (not JSON, nested too deeply, no `droplets` list) read as they do today;
- items are Structs, so `list_all`'s repeat filter (which reads `item["id"]` of dicts) keeps
  them all: a repeated Droplet is deduplicated by `unique_by_id` (by id, the last wins).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from sys import intern
from typing import Any

import msgspec

from exporter import api as api_module
from exporter.collectors import droplets as droplets_module
from exporter.collectors.base import Facts, PollContext, ResourceReader
from exporter.collectors.droplets import ENDPOINT, DropletRecord, unique_by_id
from exporter.tasks import all_or_nothing


class Size(msgspec.Struct):
    slug: str | None = None
    price_hourly: float | None = None
    price_monthly: float | None = None


class Named(msgspec.Struct):  # a region or an image: only its slug and name are read
    slug: str | None = None
    name: str | None = None


class Interface(msgspec.Struct):
    type: str | None = None
    ip_address: str | None = None


class Networks(msgspec.Struct):
    v4: list[Interface] | None = None


class Droplet(msgspec.Struct):
    id: int
    name: str | None = None
    status: str | None = None
    region: Named | None = None
    size_slug: str | None = None
    size: Size | None = None
    image: Named | None = None
    vpc_uuid: str | None = None
    vcpus: int | None = None
    memory: int | None = None
    disk: int | None = None
    created_at: str | None = None
    tags: list[str] | None = None
    features: list[str] | None = None
    networks: Networks | None = None


class PageLinks(msgspec.Struct):
    next: str | None = None


class Links(msgspec.Struct):
    pages: PageLinks | None = None


class Meta(msgspec.Struct):
    total: int | None = None


class DropletPage(msgspec.Struct):
    droplets: list[Droplet]
    meta: Meta | None = None
    links: Links | None = None


class DropletStruct(msgspec.Struct, frozen=True, gc=False):
    """DropletRecord's fields as a Struct: no GC header, no GC tracking (it holds no cycles)."""

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
    backups: bool
    public_ipv4: str = ""
    private_ipv4: str = ""


_DECODER = msgspec.json.Decoder(DropletPage)
_original_json_object = api_module._json_object


def typed_json_object(response: Any, endpoint: str, *rest: Any) -> dict[str, Any]:
    """`_json_object` for a Droplet list page: a dict of the page's Struct items, its
    `meta.total` and its `next` link (what `list_all` reads); any other answer as before."""
    if endpoint != ENDPOINT:
        return _original_json_object(response, endpoint, *rest)
    try:
        page = _DECODER.decode(response.content)
    except (msgspec.DecodeError, RecursionError):  # ValidationError is a DecodeError
        return _original_json_object(response, endpoint, *rest)
    body: dict[str, Any] = {"droplets": page.droplets}
    if page.meta is not None:
        body["meta"] = {"total": page.meta.total}
    if page.links is not None and page.links.pages is not None:
        body["links"] = {"pages": {"next": page.links.pages.next}}
    return body


def _s(value: str | None) -> str:
    return intern(value) if value else ""


def _timestamp(value: str | None) -> float | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return None if parsed.tzinfo is None else parsed.timestamp()


def _address(droplet: Droplet, kind: str) -> str:
    v4 = droplet.networks.v4 if droplet.networks is not None else None
    for interface in v4 or ():
        if interface.type == kind and interface.ip_address:
            return intern(interface.ip_address)
    return ""


def _record(record: Callable[..., Any], d: Droplet) -> Any:
    size = d.size
    image = d.image
    return record(
        droplet_id=d.id,
        name=_s(d.name),
        status=_s(d.status) or "unknown",
        region=_s(d.region.slug) if d.region is not None else "",
        size=_s(d.size_slug) or (_s(size.slug) if size is not None else ""),
        image=(_s(image.slug) or _s(image.name)) if image is not None else "",
        vpc_uuid=_s(d.vpc_uuid),
        vcpus=d.vcpus,
        memory_mib=d.memory,
        disk_gib=d.disk,
        price_hourly=size.price_hourly if size is not None else None,
        price_monthly=size.price_monthly if size is not None else None,
        created_at=_timestamp(d.created_at),
        tags=tuple(intern(t) for t in d.tags) if d.tags else (),
        backups=d.features is not None and "backups" in d.features,
        public_ipv4=_address(d, "public"),
        private_ipv4=_address(d, "private"),
    )


def parse_page(record: Callable[..., Any]) -> Callable[[list[Any], int], list[Any]]:
    def parse(items: list[Any], start: int) -> list[Any]:
        if items and not isinstance(items[0], Droplet):  # the page fell back to dicts
            return droplets_module.parse_page(f"{ENDPOINT} droplets")(items, start)
        return [_record(record, d) for d in items]
    return parse


def fetch_selected(record: Callable[..., Any]) -> Callable[[ResourceReader, PollContext], Any]:
    """droplets.fetch_selected with the typed parsing (no `filter:` tag: the bench's default)."""
    async def fetch(reader: ResourceReader, context: PollContext) -> tuple[Any, ...]:
        default, gpus = await all_or_nothing([
            reader.list_all(ENDPOINT, "droplets", parse=parse_page(record)),
            reader.list_all(ENDPOINT, "droplets", params={"type": "gpus"},
                            parse=parse_page(record)),
        ])
        records = unique_by_id(default, gpus)
        return context.selection.keep(
            records, lambda d: Facts(d.droplet_id, name=d.name, region=d.region, tags=d.tags))
    return fetch


__all__ = ["DropletRecord", "DropletStruct", "fetch_selected", "typed_json_object"]
