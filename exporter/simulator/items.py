"""Serialised API objects whose bytes may depend on the clock, the request or other objects.

Most objects are serialised once, like Droplets. Three things cannot be frozen at build time:

* times relative to "now" (a certificate that expires within 14 days, a snapshot 120 days
  old, an uptime check down since this morning) come from the injected clock at answer time:
  a `Stamp` is `offset` seconds from the start of the clock's current UTC day, so they hold
  still within a day and the demo's alerts keep firing whatever the date;
* a reserved IP embeds its Droplet's whole current object, or `null` once it is gone
  (`DropletRef`);
* absolute URLs (`links.self` of project resources, `last_tagged_uri` of tags) are built from
  the request's Host, like pagination links (`BASE_URL` in the bytes).

An `Item` keeps its JSON split around those slots, so rendering one is a join.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from exporter.simulator.timefmt import iso_utc

JsonObject = dict[str, Any]

DAY = 86_400
BASE_URL = "@@base-url@@"
"""Stands for `http://<Host>` in serialised bytes; `with_base_url` swaps it in."""
SLOT_PATTERN = re.compile(rb'"\\u0000slot(\d+)\\u0000"')


@dataclass(frozen=True, slots=True)
class Stamp:
    """A time relative to the clock: `offset` seconds from the start of its UTC day.

    `floor` (a Unix time) keeps it after what it depends on, e.g. a snapshot after its Droplet
    was created.
    """

    offset: int
    floor: int | None = None

    def at(self, now: float) -> int:
        value = int(now) // DAY * DAY + self.offset
        return value if self.floor is None else max(self.floor, value)


@dataclass(frozen=True, slots=True)
class DropletRef:
    """The current object of a Droplet, or `null` when it no longer exists."""

    droplet_id: int


Slot = Stamp | DropletRef
DropletLookup = Callable[[int], bytes | None]


def no_droplets(droplet_id: int) -> bytes | None:
    return None


@dataclass(frozen=True, slots=True)
class Item:
    """One API object: its bytes (split around slots) and what listings and billing need."""

    id: int | str
    parts: tuple[bytes, ...]
    slots: tuple[Slot, ...] = ()
    name: str = ""
    region: str = ""
    tags: tuple[str, ...] = ()
    created_at: str = ""
    urn: str = ""
    droplet_ids: tuple[int, ...] = ()
    """Droplets this object points at (load balancer targets, firewall Droplets, nodes)."""
    hourly_cost: Decimal = Decimal(0)
    extra: Any = None
    """Kind-specific facts (a reserved IP's Droplet id, a snapshot's resource type, ...)."""
    private: Item | None = field(default=None, compare=False)
    """The same object with the fields only some callers see (database credentials)."""

    @property
    def body(self) -> bytes:
        """The bytes of an item without slots (most of them)."""
        if self.slots:
            raise ValueError("this item depends on the clock: use render()")
        return self.parts[0]

    def render(self, now: float, droplet: DropletLookup = no_droplets) -> bytes:
        if not self.slots:
            return self.parts[0]
        out = [self.parts[0]]
        for slot, part in zip(self.slots, self.parts[1:], strict=True):
            if isinstance(slot, Stamp):
                out.append(b'"' + iso_utc(slot.at(now)).encode() + b'"')
            else:
                out.append(droplet(slot.droplet_id) or b"null")
            out.append(part)
        return b"".join(out)

    def as_json(self, now: float = 0.0, droplet: DropletLookup = no_droplets) -> JsonObject:
        value: JsonObject = json.loads(self.render(now, droplet))
        return value


def encode_with_slots(value: object) -> tuple[tuple[bytes, ...], tuple[Slot, ...]]:
    """Serialise `value`, in which `Stamp`s and `DropletRef`s may stand for JSON values."""
    slots: list[Slot] = []

    def mark(obj: object) -> str:
        if isinstance(obj, Stamp | DropletRef):
            slots.append(obj)
            return f"\x00slot{len(slots) - 1}\x00"
        raise TypeError(f"cannot serialise {type(obj).__name__}")

    encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=mark).encode()
    if not slots:
        return (encoded,), ()
    pieces = SLOT_PATTERN.split(encoded)
    # split() alternates text and captured slot numbers: text, n, text, n, ..., text.
    parts = tuple(pieces[0::2])
    order = tuple(slots[int(number)] for number in pieces[1::2])
    return parts, order


def make_item(value: JsonObject, *, id: int | str, **facts: Any) -> Item:
    """An `Item` of `value` (which may hold slots); `facts` are the other `Item` fields."""
    parts, slots = encode_with_slots(value)
    return Item(id=id, parts=parts, slots=slots, **facts)


def with_base_url(body: bytes, base_url: str) -> bytes:
    """Swap the request's `http://<Host>` in for `BASE_URL`."""
    return body.replace(BASE_URL.encode(), base_url.encode())
