"""SaaS add-ons: GET /v2/add-ons/saas (scope addon:read, default every 15m; not paged).

Each Marketplace add-on resource: its name, the add-on (`app_slug`) and plan (`plan_slug`) on
`_info`, its state as a state set and its plan's price per month where the API gives one
(`plan_price_per_month`, whole dollars). The month-to-date cost is estimated in
`exporter.costs`. `metadata` (an add-on's configuration, which may hold credentials),
`sso_url` and the free-text `message` are never read.

    digitalocean_addon_info{account="production",addon_id="123e4567-e89b-12d3-a456-426614174000",name="my-resource-01",app_slug="example_app",plan_slug="basic_plan"} 1
    digitalocean_addon_price_monthly_usd{account="production",addon_id="123e4567-e89b-12d3-a456-426614174000"} 10
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from exporter.collectors.base import Collector, Facts, Family, PollContext, ResourceReader, Sample, state_set
from exporter.collectors.fields import ShapeError, objects, optional_money, optional_str, required_str

ENDPOINT = "/v2/add-ons/saas"
LIST_KEY = "resources"
STATES = ("pending", "provisioning", "provisioned", "deprovisioning", "deprovisioned",
          "provisioning-failed", "deprovisioning-failed", "suspended")  # the spec's enum

INFO = Family(
    "digitalocean_addon_info",
    "SaaS add-on resource name, add-on and plan (always 1), polled from /v2/add-ons/saas.",
    ("addon_id", "name", "app_slug", "plan_slug"),
)
STATUS = Family(
    "digitalocean_addon_status",
    "SaaS add-on resource state (1 for the current one), polled from /v2/add-ons/saas.",
    ("addon_id", "status"),
)
PRICE = Family(
    "digitalocean_addon_price_monthly_usd",
    "Price per month of the SaaS add-on resource's plan, polled from /v2/add-ons/saas.",
    ("addon_id",),
)


@dataclass(frozen=True, slots=True)
class AddonRecord:
    addon_id: str
    name: str
    app_slug: str
    plan_slug: str
    status: str
    price_monthly_usd: Decimal | None


def _price(resource: Mapping[str, Any], where: str) -> Decimal | None:
    """`plan_price_per_month` (an integer in the spec); an unreadable or negative one is
    unknown, not 0."""
    try:
        price = optional_money(resource, "plan_price_per_month", where)
    except ShapeError:
        return None
    return price if price is not None and price >= 0 else None


def parse_addons(body: Mapping[str, Any]) -> tuple[AddonRecord, ...]:
    where = f"{ENDPOINT} {LIST_KEY}"
    if LIST_KEY not in body:
        # a body without the list is not "no add-ons": the last good poll is kept instead
        raise ShapeError(f"{where}: missing from the response")
    items = body[LIST_KEY]
    if items is None:
        return ()
    by_id: dict[str, AddonRecord] = {}
    for path, resource in objects(items, where):
        # Named fields only: `metadata`, `sso_url` and `message` are never looked at.
        record = AddonRecord(
            addon_id=required_str(resource, "uuid", path),
            name=optional_str(resource, "name"),
            app_slug=optional_str(resource, "app_slug"),
            plan_slug=optional_str(resource, "plan_slug"),
            status=optional_str(resource, "state"),
            price_monthly_usd=_price(resource, path),
        )
        by_id[record.addon_id] = record
    return tuple(by_id[key] for key in sorted(by_id))


async def fetch(reader: ResourceReader) -> tuple[AddonRecord, ...]:
    return await fetch_selected(reader, PollContext())


async def fetch_selected(reader: ResourceReader, context: PollContext) -> tuple[AddonRecord, ...]:
    """What the `filter:` keeps (the list takes no filter: applied here)."""
    # One request: the endpoint takes no paging parameters, so list_all (which pages) is not used.
    records = parse_addons(await reader.get(ENDPOINT))
    return context.selection.keep(records, lambda r: Facts(r.addon_id, name=r.name))


def samples(addons: tuple[AddonRecord, ...]) -> Iterator[Sample]:
    for a in addons:
        key = (a.addon_id,)
        yield INFO.name, (*key, a.name, a.app_slug, a.plan_slug), 1
        yield from state_set(STATUS.name, key, a.status or "unknown", STATES)
        if a.price_monthly_usd is not None:
            yield PRICE.name, key, float(a.price_monthly_usd)


COLLECTOR: Collector[tuple[AddonRecord, ...]] = Collector(
    name="addons",
    summary="SaaS add-ons (Marketplace): add-on, plan, state, price per month",
    endpoints=(ENDPOINT,),
    id_label="addon_id",
    scope="addon:read",
    interval=900.0,
    families=(INFO, STATUS, PRICE),
    fetch=fetch,
    filters=("name", "id"),
    fetch_with=fetch_selected,
    samples=samples,
)
