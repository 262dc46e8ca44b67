"""Droplets and volumes as the simulator keeps them: serialised once, with the few fields that
filters and billing read (`ListedObject`), and the JSON encoding every answer uses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from exporter.simulator.catalog import HOURS_BILLED_PER_MONTH, VOLUME_PRICE_PER_GIB_MONTH

JsonObject = dict[str, Any]


def price(value: object) -> Decimal | None:
    """A JSON price (a float in the API) as the exact decimal it was written as."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return Decimal(repr(value))


def encode_json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class ListedObject:
    """One API object: its serialised JSON and the few fields that filters and billing need."""

    id: int | str
    name: str
    region: str
    tags: tuple[str, ...]
    attachments: tuple[int | str, ...]
    """A Droplet's `volume_ids`, or a volume's `droplet_ids`."""
    hourly_cost: Decimal
    body: bytes
    vpc_uuid: str = ""
    created_at: str = ""
    status: str = ""
    size_slug: str = ""
    price_monthly: Decimal | None = None
    """A Droplet's size prices as `Decimal(repr(x))` of the JSON numbers (None if absent)."""
    price_hourly: Decimal | None = None
    backups: bool = False
    """A Droplet with "backups" in its `features`."""

    def as_json(self) -> JsonObject:
        value: JsonObject = json.loads(self.body)
        return value


def listed_droplet(droplet: Mapping[str, Any], body: bytes | None = None) -> ListedObject:
    """`body` is the already serialised `droplet`, when the caller has a faster way to make it."""
    size = droplet.get("size") or {}
    billed = droplet.get("status") != "archive"
    price_hourly = price(size.get("price_hourly"))
    hourly = price_hourly if billed and price_hourly is not None else Decimal(0)
    return ListedObject(
        id=droplet["id"],
        name=str(droplet.get("name", "")),
        region=str((droplet.get("region") or {}).get("slug", "")),
        tags=tuple(droplet.get("tags") or ()),
        attachments=tuple(droplet.get("volume_ids") or ()),
        hourly_cost=hourly,
        body=encode_json(droplet) if body is None else body,
        vpc_uuid=str(droplet.get("vpc_uuid") or ""),
        created_at=str(droplet.get("created_at") or ""),
        status=str(droplet.get("status") or ""),
        size_slug=str(droplet.get("size_slug") or size.get("slug") or ""),
        price_monthly=price(size.get("price_monthly")),
        price_hourly=price_hourly,
        backups="backups" in (droplet.get("features") or ()),
    )


def listed_volume(volume: Mapping[str, Any]) -> ListedObject:
    gib = Decimal(int(volume.get("size_gigabytes") or 0))
    return ListedObject(
        id=volume["id"],
        name=str(volume.get("name", "")),
        region=str((volume.get("region") or {}).get("slug", "")),
        tags=tuple(volume.get("tags") or ()),
        attachments=tuple(volume.get("droplet_ids") or ()),
        hourly_cost=gib * VOLUME_PRICE_PER_GIB_MONTH / HOURS_BILLED_PER_MONTH,
        body=encode_json(volume),
        created_at=str(volume.get("created_at") or ""),
    )


