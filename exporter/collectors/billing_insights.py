"""Billing Insights: GET /v2/account (the team URN) and
GET /v2/billing/{account_urn}/insights/{start_date}/{end_date} (scopes billing:read and
account:read, default every 6h).

What yesterday (the last complete UTC day) cost, by SKU, region and billed resource. A data
point has no resource id or URN, only an invoice line's free text, `description`: the resource's
name followed by what varies, its size and count (`droplet name (c-2-4GiB)`,
`docs (apps-d-1vcpu-2gb x 1)`). Only the name becomes the `resource` label: the SKU already says
which product and size was billed, and a label holding the size or count would start a new series
at every resize or scale. A description that is only a count and a size (the spec's
`3 nodes - 4 GB / 2 vCPU / 80 GB SSD`) names no resource: `resource` is empty and the
`group_description` (`group`, such as the Kubernetes cluster of the nodes) says whose it is.
Points with the same labels are summed. Series are bounded by the billed resources.

The insights are asked for by account URN, a team's (`do:team:<uuid>`) or an organisation's
(`do:teamgroup:<uuid>`). The spec makes `account.team` optional ("when authorized in a team
context"): an account without one has no URN to ask with, so the poll succeeds with
`digitalocean_billing_insight_available` 0 and no costs, instead of failing every time. A team
`uuid` that is already a URN (`do:...`, such as an organisation's) is used as it is.

    digitalocean_billing_insight_cost_usd{account="production",sku="1-DO-DROP-0109",region="nyc3",resource="droplet name",group=""} 0.86
    digitalocean_billing_insight_day_timestamp_seconds{account="production"} 1735689600
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from exporter.collectors.base import Collector, Family, ResourceReader, Sample
from exporter.collectors.fields import as_object, money, objects, optional_str, required_str

ACCOUNT_ENDPOINT = "/v2/account"
ENDPOINT = "/v2/billing/{account_urn}/insights/{start_date}/{end_date}"
_SOURCE = "/v2/billing/{urn}/insights"

COST = Family(
    "digitalocean_billing_insight_cost_usd",
    f"Cost of the last complete UTC day by SKU, region, billed resource's name (without its "
    f"size or count) and invoice group, polled from {_SOURCE}.",
    ("sku", "region", "resource", "group"),
)
DAY = Family(
    "digitalocean_billing_insight_day_timestamp_seconds",
    f"Start (00:00 UTC) of the day the insight costs are for, polled from {_SOURCE}.",
)
AVAILABLE = Family(
    "digitalocean_billing_insight_available",
    f"1 if Billing Insights could be asked for, 0 if the account has no team (so no account URN "
    f"to ask with), polled from {ACCOUNT_ENDPOINT} and {_SOURCE}.",
)


@dataclass(frozen=True, slots=True)
class InsightRecord:
    day: date | None  # None: not asked, the account has no team
    costs: tuple[tuple[tuple[str, str, str, str], Decimal], ...]  # sorted by their labels


NO_TEAM = InsightRecord(None, ())


def account_urn(body: dict[str, Any]) -> str | None:
    """The URN to ask Billing Insights with; None when the account has no team."""
    account = as_object(body.get("account"), f"{ACCOUNT_ENDPOINT} account")
    team = account.get("team")
    if team is None:
        return None  # optional in the spec: not authorized in a team context
    where = f"{ACCOUNT_ENDPOINT} account.team"
    uuid = required_str(as_object(team, where), "uuid", where)
    return uuid if uuid.startswith("do:") else "do:team:" + uuid


def last_complete_day(now: float) -> date:
    return datetime.fromtimestamp(now, UTC).date() - timedelta(days=1)


Cost = tuple[tuple[str, str, str, str], Decimal]

# "name (size)", "name (size x count)": the name, and the part in the last parentheses
_NAME_AND_VARIANT = re.compile(r"(?P<name>.*?)\s*\([^()]*\)", re.DOTALL)
# "3 nodes - 4 GB / 2 vCPU / 80 GB SSD": a count and a size, no name
_COUNT_AND_SIZE = re.compile(r"\d+\s+\w+\s+-\s", re.ASCII)


def resource_name(description: str) -> str:
    """The billed resource's name in an invoice line's description, without the size or count
    that follows it in parentheses: "docs (apps-d-1vcpu-2gb x 1)" -> "docs". A description
    that starts with a count ("3 nodes - 4 GB / ...") names no resource: "". Anything else is
    a name as it is ("web HA control plane")."""
    description = description.strip()
    named = _NAME_AND_VARIANT.fullmatch(description)
    if named is not None:
        return named.group("name")
    if _COUNT_AND_SIZE.match(description):
        return ""
    return description


def page_costs(
    items: list[Any], start: int, day: date, where: str = f"{_SOURCE} data_points"
) -> list[Cost]:
    """The points of `day` on one page, as ((sku, region, resource name, group), amount)."""
    wanted = day.isoformat()
    costs = []
    for path, point in objects(items, where, start):
        if optional_str(point, "start_date") != wanted:
            continue  # the range may include today's partial estimate
        key = (
            optional_str(point, "sku"),
            optional_str(point, "region"),
            resource_name(optional_str(point, "description")),
            optional_str(point, "group_description"),
        )
        costs.append((key, money(point, "total_amount", path)))
    return costs


def summed(day: date, points: list[Cost]) -> InsightRecord:
    """Costs of `day` summed by (sku, region, resource name, group description): the points of
    one resource whose size or count changed during the day are one series."""
    costs: dict[tuple[str, str, str, str], Decimal] = {}
    for key, amount in points:
        costs[key] = costs.get(key, Decimal(0)) + amount
    return InsightRecord(day, tuple(sorted(costs.items())))


async def fetch(reader: ResourceReader) -> InsightRecord:
    urn = account_urn(await reader.get(ACCOUNT_ENDPOINT))
    if urn is None:
        return NO_TEAM
    day = last_complete_day(reader.now())
    # end_date is the day after, so the range covers the whole of `day` whether the API reads
    # the end as inclusive or exclusive; page_costs keeps `day` only.
    path = {"account_urn": urn, "start_date": day.isoformat(),
            "end_date": (day + timedelta(days=1)).isoformat()}
    # Each page is reduced to its costs of `day` as it arrives: a large account has tens of
    # thousands of points a day, and their JSON is never held at once.
    points = await reader.list_all(ENDPOINT, "data_points", path=path,
                                   parse=partial(page_costs, day=day))
    return summed(day, points)


def samples(record: InsightRecord) -> Iterator[Sample]:
    yield AVAILABLE.name, (), int(record.day is not None)
    if record.day is None:
        return
    yield DAY.name, (), int(datetime(record.day.year, record.day.month, record.day.day,
                                     tzinfo=UTC).timestamp())
    for labels, amount in record.costs:
        yield COST.name, labels, float(amount)


COLLECTOR: Collector[InsightRecord] = Collector(
    name="billing_insights",
    summary="yesterday's cost by SKU, region and billed resource (Billing Insights)",
    endpoints=(ACCOUNT_ENDPOINT, ENDPOINT),
    id_label="",
    scope="billing:read account:read",
    interval=6 * 3600.0,
    families=(COST, DAY, AVAILABLE),
    fetch=fetch,
    samples=samples,
)
