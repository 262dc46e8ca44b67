"""Billing history: GET /v2/customers/my/billing_history (scope billing:read, default every 1h).

The latest entry of each type (Payment, Credit, Invoice, Refund, ...): its amount as DigitalOcean
books it (payments and credits are negative) and when it happened, so "when did we last pay, and
how much" and "when did a credit last arrive" are one query each. Entry descriptions are not read.

    digitalocean_billing_history_last_amount_usd{account="production",type="Payment"} -12.34
    digitalocean_billing_history_last_timestamp_seconds{account="production",type="Payment"} 1527929078.0
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from exporter.collectors.base import Collector, Family, ResourceReader, Sample
from exporter.collectors.fields import money, objects, optional_str, timestamp

ENDPOINT = "/v2/customers/my/billing_history"

LAST_AMOUNT = Family(
    "digitalocean_billing_history_last_amount_usd",
    f"Amount of the latest billing history entry of each type (payments and credits are "
    f"negative), polled from {ENDPOINT}.",
    ("type",),
)
LAST_TIME = Family(
    "digitalocean_billing_history_last_timestamp_seconds",
    f"When the latest billing history entry of each type happened, polled from {ENDPOINT}.",
    ("type",),
)


@dataclass(frozen=True, slots=True)
class HistoryEntryRecord:
    type: str
    amount: Decimal
    at: float


def latest_by_type(
    items: list[Any], where: str = f"{ENDPOINT} billing_history"
) -> tuple[HistoryEntryRecord, ...]:
    """The newest dated entry of each type, sorted by type."""
    latest: dict[str, HistoryEntryRecord] = {}
    for path, entry in objects(items, where):
        at = timestamp(entry, "date")
        if at is None:
            continue  # an undated entry cannot be "the latest"
        kind = optional_str(entry, "type") or "unknown"
        record = HistoryEntryRecord(kind, money(entry, "amount", path), at)
        if kind not in latest or at > latest[kind].at:
            latest[kind] = record
    return tuple(latest[kind] for kind in sorted(latest))


async def fetch(reader: ResourceReader) -> tuple[HistoryEntryRecord, ...]:
    # The order of the list is not documented, so every page is read (a few per decade).
    return latest_by_type(await reader.list_all(ENDPOINT, "billing_history"))


def samples(entries: tuple[HistoryEntryRecord, ...]) -> Iterator[Sample]:
    for entry in entries:
        yield LAST_AMOUNT.name, (entry.type,), float(entry.amount)
        yield LAST_TIME.name, (entry.type,), entry.at


COLLECTOR: Collector[tuple[HistoryEntryRecord, ...]] = Collector(
    name="billing_history",
    summary="the latest payment, credit, invoice and other billing history entries",
    endpoints=(ENDPOINT,),
    id_label="",
    scope="billing:read",
    interval=3600.0,
    families=(LAST_AMOUNT, LAST_TIME),
    fetch=fetch,
    samples=samples,
)
