"""Billing history: GET /v2/customers/my/billing_history (scope billing:read, default every 1h).

The latest entry of each type (Payment, Credit, Invoice, Refund, ...): its amount as DigitalOcean
books it (payments and credits are negative) and when it happened, so "when did we last pay, and
how much" and "when did a credit last arrive" are one query each. Entry descriptions are not read.

The spec declares no query parameters for this list (no `page`, no `per_page`), so the first
request sends none and the next pages are the ones the answer's `links.pages.next` names, asked
for with that link's own query (at the configured API URL: never the link's host).

    digitalocean_billing_history_last_amount_usd{account="production",type="Payment"} -12.34
    digitalocean_billing_history_last_timestamp_seconds{account="production",type="Payment"} 1527929078.0
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from exporter.collectors.base import Collector, Family, ResourceReader, Sample
from exporter.collectors.fields import ShapeError, money, objects, optional_str, timestamp

ENDPOINT = "/v2/customers/my/billing_history"
MAX_PAGES = 1000  # a few pages per decade: more means the links go round in circles

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


def next_page_query(body: Mapping[str, Any]) -> dict[str, str] | None:
    """The query of the page `links.pages.next` names; None on the last page."""
    links = body.get("links")
    pages = links.get("pages") if isinstance(links, dict) else None
    target = pages.get("next") if isinstance(pages, dict) else None
    if not isinstance(target, str) or not target:
        return None
    return dict(parse_qsl(urlsplit(target).query))


async def fetch(reader: ResourceReader) -> tuple[HistoryEntryRecord, ...]:
    # The order of the list is not documented, so every page is read (a few per decade).
    body = await reader.get(ENDPOINT)
    items = list(objects(body.get("billing_history"), f"{ENDPOINT} billing_history"))
    seen: set[tuple[tuple[str, str], ...]] = set()
    while (query := next_page_query(body)) is not None:
        key = tuple(sorted(query.items()))
        if key in seen or len(seen) >= MAX_PAGES:
            raise ShapeError(f"{ENDPOINT} links.pages.next: paging does not advance ({query})")
        seen.add(key)
        body = await reader.get(ENDPOINT, params=query)
        where = f"{ENDPOINT} billing_history"
        items.extend(objects(body.get("billing_history"), where, start=len(items)))
    return latest_by_type([entry for _, entry in items])


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
