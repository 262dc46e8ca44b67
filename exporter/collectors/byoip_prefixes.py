"""BYOIP prefixes: GET /v2/byoip_prefixes (scope byoip_prefix:read, default every 15m).

Each IP range brought to DigitalOcean: its prefix, region and name on `_info`, its state as a
state set (the API description gives no list of states: those of its examples are listed,
any other is shown as it comes), whether DigitalOcean advertises it and whether it is locked.
A prefix that stops being advertised is the alert-worthy change. The free-text
`failure_reason` is never read. No price is estimated for prefixes.

    digitalocean_byoip_prefix_info{account="production",byoip_prefix_id="f47ac10b-58cc-4372-a567-0e02b2c3d479",name="",region="nyc3",prefix="203.0.113.0/24"} 1
    digitalocean_byoip_prefix_advertised{account="production",byoip_prefix_id="f47ac10b-58cc-4372-a567-0e02b2c3d479"} 1
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import (
    Collector,
    Facts,
    Family,
    PollContext,
    ResourceReader,
    Sample,
    known_values,
    state_set,
)
from exporter.collectors.fields import objects, optional_bool, optional_str, required_str, sorted_by

ENDPOINT = "/v2/byoip_prefixes"
STATUSES = ("active", "in_progress")  # those of the spec's example (it has no enum)

_LABEL = ("byoip_prefix_id",)
INFO = Family(
    "digitalocean_byoip_prefix_info",
    "BYOIP prefix name, region and IP range (always 1), polled from /v2/byoip_prefixes.",
    ("byoip_prefix_id", "name", "region", "prefix"),
)
STATUS = Family(
    "digitalocean_byoip_prefix_status",
    "BYOIP prefix state (1 for the current one), polled from /v2/byoip_prefixes.",
    ("byoip_prefix_id", "status"),
)
ADVERTISED = Family(
    "digitalocean_byoip_prefix_advertised",
    "1 if DigitalOcean advertises the BYOIP prefix, 0 if not, polled from /v2/byoip_prefixes.",
    _LABEL,
)
LOCKED = Family(
    "digitalocean_byoip_prefix_locked",
    "1 if the BYOIP prefix is locked, 0 if not, polled from /v2/byoip_prefixes.",
    _LABEL,
)


@dataclass(frozen=True, slots=True)
class ByoipPrefixRecord:
    byoip_prefix_id: str
    name: str
    region: str
    prefix: str
    status: str
    advertised: bool | None
    locked: bool | None


def parse_page(
    items: list[Any], start: int, where: str = f"{ENDPOINT} byoip_prefixes"
) -> list[ByoipPrefixRecord]:
    return [
        ByoipPrefixRecord(
            byoip_prefix_id=required_str(prefix, "uuid", path),
            name=optional_str(prefix, "name"),
            region=optional_str(prefix, "region"),
            prefix=optional_str(prefix, "prefix"),
            status=optional_str(prefix, "status"),
            advertised=optional_bool(prefix, "advertised"),
            locked=optional_bool(prefix, "locked"),
        )
        for path, prefix in objects(items, where, start)
    ]


def by_id(records: Iterable[ByoipPrefixRecord]) -> tuple[ByoipPrefixRecord, ...]:
    return sorted_by(records, lambda r: r.byoip_prefix_id)


async def fetch(reader: ResourceReader) -> tuple[ByoipPrefixRecord, ...]:
    return await fetch_selected(reader, PollContext())


async def fetch_selected(reader: ResourceReader, context: PollContext) -> tuple[ByoipPrefixRecord, ...]:
    """What the `filter:` keeps (the list takes no filter: applied here)."""
    records = by_id(await reader.list_all(ENDPOINT, "byoip_prefixes", parse=parse_page))
    return context.selection.keep(records, lambda r: Facts(r.byoip_prefix_id, name=r.name, region=r.region))


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


def samples(prefixes: tuple[ByoipPrefixRecord, ...]) -> Iterator[Sample]:
    for p in prefixes:
        key = (p.byoip_prefix_id,)
        yield INFO.name, (*key, p.name, p.region, p.prefix), 1
        yield from state_set(STATUS.name, key, p.status or "unknown", STATUSES)
        yield from known_values(key, ((ADVERTISED, _flag(p.advertised)), (LOCKED, _flag(p.locked))))


COLLECTOR: Collector[tuple[ByoipPrefixRecord, ...]] = Collector(
    name="byoip_prefixes",
    summary="bring-your-own-IP prefixes: IP range, region, state, advertised",
    endpoints=(ENDPOINT,),
    id_label="byoip_prefix_id",
    paged=ENDPOINT,
    scope="byoip_prefix:read",
    interval=900.0,
    families=(INFO, STATUS, ADVERTISED, LOCKED),
    fetch=fetch,
    filters=("region", "name", "id"),
    fetch_with=fetch_selected,
    samples=samples,
)
