"""The bandwidth bill: the pooled allowance accrued by the hour, the watched Droplets' transfer,
and the month-end overage forecast, each computed here by hand from DigitalOcean's rules."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from exporter.api import DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.clock import SystemClock
from exporter.collectors import droplet_metrics, droplets, sizes
from exporter.collectors.base import PollContext, Selection
from exporter.collectors.droplets import DropletRecord
from exporter.collectors.fields import GIB
from exporter.collectors.sizes import SizeRecord
from exporter.costs import month_seconds, month_start
from exporter.pricing import load_price_table
from exporter.simulator import Simulator, demo_config
from exporter.simulator.kinds.monitoring import monitoring_plan, public_outbound_month_to_date_bytes
from exporter.transfer import PRICE_KEY, PUBLIC_MONTH_TO_DATE, transfer_families

MONTH = datetime(2026, 11, 1, tzinfo=UTC).timestamp()  # 30 days
NOW = MONTH + 10 * 86400  # ten days in
PRICE = Decimal("0.01")


@dataclass(frozen=True)
class Entry:
    family: str
    resource_id: str
    month: int
    through: float
    amount: float


@dataclass(frozen=True)
class Metrics:
    month_to_date: tuple[Entry, ...]


def droplet(droplet_id: int, size: str, created_at: float | None, status: str = "active") -> DropletRecord:
    return DropletRecord(
        droplet_id=droplet_id, name=f"d{droplet_id}", status=status, region="fra1", size=size,
        image="", vpc_uuid="", vcpus=1, memory_mib=1024, disk_gib=25, price_hourly=0.01,
        price_monthly=6.0, created_at=created_at, tags=(), backups=False,
    )


SIZES = (
    SizeRecord("s-1vcpu-1gb", "Basic", "true", 1, 6.0, 0.00893, transfer_tb=1.0),
    SizeRecord("s-2vcpu-4gb", "Basic", "true", 2, 24.0, 0.0357, transfer_tb=4.0),
)


def values(inputs: dict[str, object], now: float = NOW) -> dict[str, float]:
    derived = transfer_families(load_price_table())
    return {name: value for name, _, value in derived.samples(inputs, now)}


def test_the_shipped_price_is_one_cent_per_gib() -> None:
    assert load_price_table().amount(PRICE_KEY) == PRICE


def test_the_pool_accrues_by_the_hour_and_is_forecast_to_the_month_end() -> None:
    created = NOW - 48 * 3600  # two days ago
    inputs: dict[str, object] = {
        "droplets": (droplet(1, "s-1vcpu-1gb", None), droplet(2, "s-2vcpu-4gb", created),
                     droplet(3, "s-2vcpu-4gb", None, status="archive")),  # not billed
        "sizes": SIZES,
    }
    got = values(inputs)
    per_hour_1, per_hour_2 = 1000 * GIB / 672, 4000 * GIB / 672
    assert got["digitalocean_transfer_pool_accrued_bytes"] == pytest.approx(
        per_hour_1 * 240 + per_hour_2 * 48)
    # to the month's end: droplet 1 is capped at 672 hours, droplet 2 runs 20 days + 2
    assert got["digitalocean_transfer_pool_forecast_bytes"] == pytest.approx(
        per_hour_1 * 672 + per_hour_2 * (22 * 24))
    assert "digitalocean_transfer_month_to_date_bytes" not in got  # no droplet_metrics data


def test_the_overage_forecast_prices_what_exceeds_the_pool() -> None:
    month = int(MONTH)
    sent = 800 * GIB  # in ten days: 2,400 GiB by the month's end, against a 1,000 GiB pool
    inputs = {
        "droplets": (droplet(1, "s-1vcpu-1gb", None),), "sizes": SIZES,
        "droplet_metrics": Metrics((
            Entry(PUBLIC_MONTH_TO_DATE, "1", month, NOW, sent),
            Entry(PUBLIC_MONTH_TO_DATE, "9", month - 1, NOW, 5e15),  # another month: ignored
            Entry("digitalocean_other_bytes", "1", month, NOW, 5e15),  # another family
        )),
    }
    got = values(inputs)
    assert got["digitalocean_transfer_month_to_date_bytes"] == sent
    assert got["digitalocean_transfer_forecast_bytes"] == pytest.approx(3 * sent)
    assert got["digitalocean_transfer_watched_droplets"] == 1
    assert got["digitalocean_transfer_overage_forecast_usd"] == pytest.approx(
        float((2400 - 1000) * PRICE))


def test_a_droplet_whose_newest_point_is_late_is_extrapolated_from_its_own_pace() -> None:
    month = int(MONTH)
    through = NOW - 5 * 86400  # its data stops five days in
    inputs = {
        "droplets": (droplet(1, "s-2vcpu-4gb", None),), "sizes": SIZES,
        "droplet_metrics": Metrics((Entry(PUBLIC_MONTH_TO_DATE, "1", month, through, 100 * GIB),)),
    }
    got = values(inputs)
    assert got["digitalocean_transfer_forecast_bytes"] == pytest.approx(600 * GIB)
    assert got["digitalocean_transfer_overage_forecast_usd"] == 0.0  # 600 GiB in a 4,000 pool


def test_nothing_is_said_without_droplets_or_sizes() -> None:
    assert values({"sizes": SIZES}) == {}
    assert values({"droplets": (droplet(1, "s-1vcpu-1gb", None),)}) == {}
    unknown = replace(droplet(1, "gpu-h100x1-80gb", None))
    assert values({"droplets": (unknown,), "sizes": SIZES})[
        "digitalocean_transfer_pool_forecast_bytes"] == 0


DEMO_AT = datetime(2026, 11, 18, 11, 0, tzinfo=UTC).timestamp()


async def test_the_heavy_droplet_s_forecast_is_within_1_percent_of_the_simulator_s() -> None:
    """Issue 14: the demo's heavy Droplet (its outbound transfer outgrows the account's pool),
    read through the real client from the simulator: the month-to-date transfer the collector
    integrates from the bandwidth series, the forecast and the overage are within 1 % of the
    simulator's exact integral of the same rate."""
    with Simulator(demo_config(), clock=lambda: DEMO_AT) as sim:
        plan = monitoring_plan(sim.fleet("production").resources)
        assert plan.heavy is not None
        account = next(a for a in sim.config.accounts if a.name == "production")
        token = account.tokens[0].token
        client = DigitalOceanClient(api_url=sim.url, auth_url=sim.url, timeout=10, user_agent="t",
                                    observer=_Quiet(), clock=_At(), rng=random.Random(1))
        try:
            reader = client.account("production", lambda: token,
                                    RequestBudget(5000, _At(), 5000))
            fleet = await droplets.COLLECTOR.collect(reader, PollContext())
            catalogue = await sizes.COLLECTOR.fetch(reader)
            watched = await droplet_metrics.COLLECTOR.collect(reader, PollContext(
                selection=Selection(ids=(str(plan.heavy),)), metrics=("network",),
                inputs={"droplets": fleet}))
        finally:
            await client.aclose()
        exact = public_outbound_month_to_date_bytes(sim.fleet("production"), plan.heavy, DEMO_AT)
    got = values({"droplets": fleet, "sizes": catalogue, "droplet_metrics": watched}, DEMO_AT)
    assert got["digitalocean_transfer_month_to_date_bytes"] == pytest.approx(exact, rel=0.01)
    [entry] = [m for m in watched.month_to_date if m.family == PUBLIC_MONTH_TO_DATE]
    start = month_start(DEMO_AT)
    exact_forecast = exact * month_seconds(DEMO_AT) / (entry.through - start)
    assert got["digitalocean_transfer_forecast_bytes"] == pytest.approx(exact_forecast, rel=0.01)
    pool = got["digitalocean_transfer_pool_forecast_bytes"]
    assert exact_forecast > pool  # the heavy Droplet alone outgrows the account's pool
    exact_overage = (exact_forecast - pool) / GIB * float(PRICE)
    assert got["digitalocean_transfer_overage_forecast_usd"] == pytest.approx(exact_overage, rel=0.01)
    print(f"\nheavy Droplet: {exact / GIB:.1f} GiB so far (exporter "
          f"{got['digitalocean_transfer_month_to_date_bytes'] / GIB:.1f}), forecast "
          f"{exact_forecast / GIB:.0f} GiB against a pool of {pool / GIB:.0f} GiB: "
          f"${got['digitalocean_transfer_overage_forecast_usd']:.2f} overage")


class _Quiet:
    def observe(self, *args: object) -> None:
        pass


class _At(SystemClock):
    def time(self) -> float:
        return DEMO_AT
