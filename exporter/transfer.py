"""The bandwidth bill: Droplets' pooled outbound transfer allowance, what the watched Droplets
sent this month, and where the month is heading.

DigitalOcean's rules (https://docs.digitalocean.com/platform/billing/bandwidth/): every Droplet
size includes outbound public transfer (`transfer` in /v2/sizes, in TB of 1,000 GiB); a Droplet
accrues its size's allowance by the hour it exists, 1/672 of it per hour up to 672 hours a month,
and the allowances of all Droplets of the account form one pool. Outbound public traffic (IPv6
included) beyond the pool is billed per GiB at the month's end; inbound and private (VPC) traffic
are free.

What the estimate sees: the pool is computed from every Droplet the `droplets` collector lists,
assuming each stays until the month ends (as DigitalOcean's own "estimated transfer pool" does);
the transfer is what the `droplet_metrics` collector integrated from the Monitoring API for the
Droplets it watches. What it cannot see: Droplets not selected for `droplet_metrics` (their
traffic is missing, so the forecast is low), Droplets destroyed earlier this month (their
allowance is missing, so the pool is low), Droplets without the metrics agent, and traffic
billed apart from the pool (Spaces and CDN egress, load balancers).

    digitalocean_transfer_pool_forecast_bytes{account="production"} 5.36870912e+12
    digitalocean_transfer_overage_forecast_usd{account="production"} 12.4
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, Protocol

from exporter.collectors.base import DerivedFamilies, Family, Sample
from exporter.collectors.fields import GIB
from exporter.costs import BILLED_DROPLET_STATES, COST_REFRESH_SECONDS, month_seconds, month_start
from exporter.pricing import PriceTable

HOURS_CAP = 672  # a Droplet accrues its allowance for at most 672 hours a month
TB = 1000 * GIB  # the sizes' `transfer` is in TB of 1,000 GiB (a 1 TB size includes 1,000 GiB)
PUBLIC_MONTH_TO_DATE = "digitalocean_droplet_public_transmit_month_to_date_bytes"
PRICE_KEY = "droplet_transfer_overage_gib"

_HOW = "computed from polled data and the price table"
POOL_ACCRUED = Family(
    "digitalocean_transfer_pool_accrued_bytes",
    "Outbound transfer allowance the account's Droplets have accrued so far this month (each "
    f"size's transfer / 672 per hour, up to 672 hours), {_HOW}.",
)
POOL_FORECAST = Family(
    "digitalocean_transfer_pool_forecast_bytes",
    "The month's pooled outbound transfer allowance if every current Droplet stays until the "
    f"month ends, {_HOW}.",
)
MONTH_TO_DATE = Family(
    "digitalocean_transfer_month_to_date_bytes",
    "Outbound public transfer this month of the Droplets droplet_metrics watches (others are "
    f"not counted), {_HOW}.",
)
FORECAST = Family(
    "digitalocean_transfer_forecast_bytes",
    "Month-end outbound public transfer of the watched Droplets, extrapolated from the month so "
    f"far, {_HOW}.",
)
OVERAGE_FORECAST = Family(
    "digitalocean_transfer_overage_forecast_usd",
    "Forecast cost of outbound transfer beyond the pool this month (0 when it fits), "
    f"{_HOW}.",
)
WATCHED = Family(
    "digitalocean_transfer_watched_droplets",
    "Droplets whose outbound transfer is counted (those droplet_metrics watches), of all the "
    f"account's Droplets in digitalocean_transfer_pool_forecast_bytes, {_HOW}.",
)
FAMILIES = (POOL_ACCRUED, POOL_FORECAST, MONTH_TO_DATE, FORECAST, OVERAGE_FORECAST, WATCHED)
INPUTS = ("droplets", "sizes", "droplet_metrics")


class _MonthToDate(Protocol):
    family: str
    resource_id: str
    month: int
    through: float  # the newest point integrated
    amount: float


def _month(now: float) -> int:
    """The month as the Monitoring collectors key it: the month's first second (UTC)."""
    return int(month_start(now))


def accrued_hours(created_at: float | None, until: float, now: float) -> float:
    """Hours a Droplet created at `created_at` accrues this month up to `until` (capped)."""
    start = month_start(now)
    if created_at is not None:
        start = max(start, created_at)
    return min(max(0.0, (until - start) / 3600.0), HOURS_CAP)


def transfer_samples(inputs: Mapping[str, Any], price_per_gib: Decimal, now: float) -> Iterator[Sample]:
    droplets = inputs.get("droplets") or ()
    sizes = {size.slug: size for size in inputs.get("sizes") or ()}
    if not droplets or not sizes:
        return
    month_end = month_start(now) + month_seconds(now)
    accrued = forecast_pool = 0.0
    for droplet in droplets:
        size = sizes.get(droplet.size)
        tb = getattr(size, "transfer_tb", None)
        if tb is None or droplet.status not in BILLED_DROPLET_STATES:
            continue
        per_hour = tb * TB / HOURS_CAP
        accrued += per_hour * accrued_hours(droplet.created_at, now, now)
        forecast_pool += per_hour * accrued_hours(droplet.created_at, month_end, now)
    yield POOL_ACCRUED.name, (), accrued
    yield POOL_FORECAST.name, (), forecast_pool
    metrics = inputs.get("droplet_metrics")
    if metrics is None:
        return
    month = _month(now)
    entries: Iterable[_MonthToDate] = getattr(metrics, "month_to_date", ())
    sent = {e.resource_id: e for e in entries
            if e.family == PUBLIC_MONTH_TO_DATE and e.month == month}
    total = sum(e.amount for e in sent.values())
    # each Droplet's pace so far (up to its newest point), carried on to the month's end
    start, length = month_start(now), month_seconds(now)
    projected = sum(
        e.amount * length / (e.through - start) if e.through > start else e.amount
        for e in sent.values()
    )
    overage_gib = max(0.0, projected - forecast_pool) / GIB
    yield WATCHED.name, (), len(sent)
    yield MONTH_TO_DATE.name, (), total
    yield FORECAST.name, (), projected
    yield OVERAGE_FORECAST.name, (), float(Decimal(repr(overage_gib)) * price_per_gib)


def transfer_families(prices: PriceTable) -> DerivedFamilies:
    price = prices.amount(PRICE_KEY)
    return DerivedFamilies(
        name="transfer",
        families=FAMILIES,
        inputs=INPUTS,
        samples=lambda inputs, now: transfer_samples(inputs, price, now),
        period=COST_REFRESH_SECONDS,
    )
