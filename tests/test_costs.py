"""Cost estimates against hand-computed cases (DigitalOcean's rules: started hours this month
times the hourly price, capped at the monthly price = 672 hours)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from exporter.api import DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.clock import SystemClock
from exporter.collectors import (
    addons,
    app_instance_sizes,
    apps,
    billing,
    collector_table,
    databases,
    dedicated_inferences,
    droplet_backups,
    droplets,
    images,
    kubernetes,
    load_balancers,
    nat_gateways,
    nfs,
    reserved_ips,
    sizes,
    snapshots,
    volumes,
)
from exporter.costs import INPUTS, billed_hours, cost_samples, month_start
from exporter.pricing import load_price_table
from exporter.simulator import SimAccount, Simulator, demo_config
from tests.collectors.fakes import FakeReader
from tests.conftest import spec_example

PRICES = load_price_table()


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


def first_token(account: SimAccount) -> Callable[[], str]:
    """The token getter for a simulated account (a lambda in the loop would bind late)."""
    token = account.tokens[0].token
    return lambda: token


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


NOW = at(2026, 11, 18, 7, 6, 40)  # 17 days, 7 hours and a bit into November: 416 started hours
S_1VCPU_1GB = {"slug": "s-1vcpu-1gb", "price_monthly": 6.0, "price_hourly": 0.00893}


def droplet(droplet_id: int, created: float, **extra: Any) -> dict[str, Any]:
    return {"id": droplet_id, "status": "active", "created_at": iso(created),
            "size": S_1VCPU_1GB, **extra}


def costs(now: float = NOW, **inputs: Any) -> dict[tuple[str, tuple[str, ...]], float]:
    return {(name, labels): value for name, labels, value in cost_samples(inputs, PRICES, now)}


def test_billed_hours_count_started_hours_this_month() -> None:
    assert month_start(NOW) == at(2026, 11, 1)
    assert billed_hours(None, NOW) == 17 * 24 + 8  # since Nov 1, 00:00
    assert billed_hours(at(2026, 3, 1), NOW) == 416  # older than the month
    assert billed_hours(at(2026, 11, 18, 7, 0), NOW) == 1  # 6 min 40 s: one started hour
    assert billed_hours(at(2026, 11, 18, 6, 6, 40), NOW) == 1
    assert billed_hours(at(2026, 11, 18, 6, 6, 39), NOW) == 2
    assert billed_hours(at(2026, 11, 19), NOW) == 0  # created in the future: nothing yet


def test_droplet_created_mid_month() -> None:
    records = droplets.parse_droplets(([droplet(1, at(2026, 11, 10, 12, 0))], "x"))
    # Nov 10 12:00 -> Nov 18 07:06:40 = 187 h 6 min 40 s -> 188 started hours
    assert costs(droplets=records)[("digitalocean_droplet_month_to_date_cost_usd", ("1",))] == (
        pytest.approx(float(188 * Decimal("0.00893")), abs=1e-12)
    )


def test_droplet_older_than_the_month_is_capped_at_its_monthly_price() -> None:
    records = droplets.parse_droplets(([droplet(2, at(2025, 1, 1))], "x"))
    end_of_month = at(2026, 11, 30, 23, 0)  # 719 started hours > 672
    assert costs(end_of_month, droplets=records)[
        ("digitalocean_droplet_month_to_date_cost_usd", ("2",))] == 6.0
    # before the cap: 416 hours
    assert costs(droplets=records)[("digitalocean_droplet_month_to_date_cost_usd", ("2",))] == (
        pytest.approx(3.71488, abs=1e-9)
    )


def test_destroyed_and_recreated_droplet_counts_from_its_new_creation() -> None:
    # The old Droplet (id 3) is gone from the API; its replacement (id 4) was created on the 15th.
    records = droplets.parse_droplets(([droplet(4, at(2026, 11, 15))], "x"))
    got = costs(droplets=records)
    assert ("digitalocean_droplet_month_to_date_cost_usd", ("3",)) not in got
    # Nov 15 00:00 -> Nov 18 07:06:40 = 79 h 6 min 40 s: 80 started hours
    assert got[("digitalocean_droplet_month_to_date_cost_usd", ("4",))] == pytest.approx(
        float(80 * Decimal("0.00893")), abs=1e-12)


def test_backups_add_twenty_percent_and_archived_or_off_droplets() -> None:
    records = droplets.parse_droplets(([
        droplet(5, at(2026, 1, 1), features=["backups", "ipv6"]),
        droplet(6, at(2026, 1, 1), status="off"),
        droplet(7, at(2026, 1, 1), status="archive"),
    ], "x"))
    got = costs(droplets=records)
    assert got[("digitalocean_droplet_backups_price_monthly_usd", ("5",))] == pytest.approx(1.2)
    assert got[("digitalocean_droplet_backups_month_to_date_cost_usd", ("5",))] == pytest.approx(
        416 * 0.00893 * 0.2, abs=1e-9)
    assert ("digitalocean_droplet_month_to_date_cost_usd", ("6",)) in got  # off is billed
    assert ("digitalocean_droplet_month_to_date_cost_usd", ("7",)) not in got
    assert ("digitalocean_droplet_backups_price_monthly_usd", ("6",)) not in got


def test_daily_backups_add_thirty_percent_weekly_twenty() -> None:
    """The plan comes from the backup policies; a Droplet without a policy stays weekly."""
    records = droplets.parse_droplets(([
        droplet(5, at(2026, 1, 1), features=["backups"]),
        droplet(6, at(2026, 1, 1), features=["backups"]),
        droplet(8, at(2026, 1, 1), features=["backups"]),
    ], "x"))
    policies = droplet_backups.parse_policies([
        {"droplet_id": 5, "backup_enabled": True, "backup_policy": {"plan": "daily", "hour": 0}},
        {"droplet_id": 6, "backup_enabled": True,
         "backup_policy": {"plan": "weekly", "weekday": "SUN", "hour": 0}},
    ])
    got = costs(droplets=records, droplet_backups=policies)
    assert got[("digitalocean_droplet_backups_price_monthly_usd", ("5",))] == pytest.approx(1.8)
    assert got[("digitalocean_droplet_backups_month_to_date_cost_usd", ("5",))] == pytest.approx(
        416 * 0.00893 * 0.3, abs=1e-9)
    assert got[("digitalocean_droplet_backups_price_monthly_usd", ("6",))] == pytest.approx(1.2)
    assert got[("digitalocean_droplet_backups_price_monthly_usd", ("8",))] == pytest.approx(1.2)
    assert PRICES.amount("droplet_backups_daily_ratio") == Decimal("0.30")


def test_custom_images_and_nfs_are_priced_per_gib_month() -> None:
    got = costs(
        images=images.parse_images([
            {"id": 1, "type": "custom", "size_gigabytes": 10, "created_at": iso(at(2026, 11, 17))},
            {"id": 2, "type": "snapshot", "size_gigabytes": 10},  # priced as a snapshot, not here
        ]),
        nfs=nfs.NfsData(
            shares=nfs.parse_shares([{"id": "share", "size_gib": 100,
                                      "created_at": iso(at(2026, 1, 1))}]),
            snapshots=nfs.parse_snapshots([{"id": "snap", "size_gib": 40, "share_id": "share",
                                            "created_at": iso(at(2026, 11, 18, 5))}]),
        ),
    )
    assert got[("digitalocean_image_price_monthly_usd", ("1",))] == pytest.approx(0.6)
    assert got[("digitalocean_image_month_to_date_cost_usd", ("1",))] == pytest.approx(
        float(32 * Decimal("0.6") / 672), abs=1e-12)  # 31 hours and a bit: 32 started hours
    assert ("digitalocean_image_price_monthly_usd", ("2",)) not in got
    assert got[("digitalocean_nfs_share_price_monthly_usd", ("share",))] == pytest.approx(30.0)
    assert got[("digitalocean_nfs_share_month_to_date_cost_usd", ("share",))] == pytest.approx(
        float(416 * Decimal(30) / 672), abs=1e-12)
    assert got[("digitalocean_nfs_snapshot_price_monthly_usd", ("snap",))] == pytest.approx(2.4)
    assert got[("digitalocean_nfs_snapshot_month_to_date_cost_usd", ("snap",))] == pytest.approx(
        float(3 * Decimal("2.4") / 672), abs=1e-12)


def test_unassigned_reserved_ip_is_charged_from_the_month_start() -> None:
    records = reserved_ips.ReservedIps(
        reserved_ips.parse_ipv4([{"ip": "1.2.3.4", "droplet": None},
                                 {"ip": "1.2.3.5", "droplet": {"id": 9}},
                                 {"ip": "1.2.3.6"}]),
        (),
    )
    got = costs(reserved_ips=records)
    assert got[("digitalocean_reserved_ip_price_monthly_usd", ("1.2.3.4",))] == 5.0
    assert got[("digitalocean_reserved_ip_month_to_date_cost_usd", ("1.2.3.4",))] == (
        pytest.approx(float(416 * Decimal(5) / 672), abs=1e-12))  # 3.0952...
    assert got[("digitalocean_reserved_ip_month_to_date_cost_usd", ("1.2.3.5",))] == 0.0
    assert ("digitalocean_reserved_ip_price_monthly_usd", ("1.2.3.6",)) not in got  # unknown


def test_resized_volume_is_priced_at_its_current_size_for_the_whole_period() -> None:
    # Created on the 1st at 100 GiB, resized to 250 GiB on the 10th: the API only shows 250.
    records = volumes.parse_volumes([{"id": "v1", "size_gigabytes": 250,
                                      "created_at": iso(at(2026, 11, 1))}])
    got = costs(volumes=records)
    assert got[("digitalocean_volume_price_monthly_usd", ("v1",))] == 25.0
    assert got[("digitalocean_volume_month_to_date_cost_usd", ("v1",))] == pytest.approx(
        float(416 * Decimal(25) / 672), abs=1e-12)  # 15.476...


def test_snapshot_load_balancer_database() -> None:
    got = costs(
        snapshots=snapshots.parse_snapshots([{"id": "s1", "size_gigabytes": 40, "resource_type":
                                              "droplet", "created_at": iso(at(2026, 10, 1))}]),
        load_balancers=load_balancers.parse_load_balancers([{"id": "lb", "size_unit": 3,
                                                             "created_at": iso(at(2026, 1, 1))}]),
        databases=databases.parse_databases({"databases": [
            {"id": "db", "size": "db-s-2vcpu-4gb", "num_nodes": 2,
             "created_at": iso(at(2026, 11, 17, 7, 6, 40))},
            {"id": "odd", "size": "db-s-unknown", "num_nodes": 1},
        ]}),
    )
    assert got[("digitalocean_snapshot_price_monthly_usd", ("s1",))] == pytest.approx(2.4)
    assert got[("digitalocean_load_balancer_price_monthly_usd", ("lb",))] == 36.0
    assert got[("digitalocean_database_price_monthly_usd", ("db",))] == 120.0
    assert got[("digitalocean_database_month_to_date_cost_usd", ("db",))] == pytest.approx(
        float(24 * Decimal(120) / 672), abs=1e-12)
    assert ("digitalocean_database_price_monthly_usd", ("odd",)) not in got


def test_nat_gateways_are_priced_per_unit_from_their_creation() -> None:
    got = costs(nat_gateways=tuple(nat_gateways.parse_page([
        {"id": "old", "size": 2, "created_at": iso(at(2025, 8, 12))},
        {"id": "new", "size": 1, "created_at": iso(at(2026, 11, 18, 5, 30))},
        {"id": "unsized", "size": None},
    ], 0)))
    assert PRICES.amount("nat_gateway_unit_month") == Decimal("40.00")  # unverified, see prices.yml
    assert got[("digitalocean_nat_gateway_price_monthly_usd", ("old",))] == 80.0
    assert got[("digitalocean_nat_gateway_month_to_date_cost_usd", ("old",))] == pytest.approx(
        float(416 * Decimal(80) / 672), abs=1e-12)
    # created at 05:30, now 07:06:40: two started hours
    assert got[("digitalocean_nat_gateway_month_to_date_cost_usd", ("new",))] == pytest.approx(
        float(2 * Decimal(40) / 672), abs=1e-12)
    assert got[("digitalocean_nat_gateway_price_monthly_usd", ("unsized",))] == 40.0  # one unit


def test_provisioned_add_ons_cost_their_plan_price_from_the_month_start() -> None:
    got = costs(addons=addons.parse_addons({"resources": [
        {"uuid": "on", "state": "provisioned", "plan_price_per_month": 29},
        {"uuid": "failed", "state": "provisioning-failed", "plan_price_per_month": 29},
        {"uuid": "free", "state": "provisioned", "plan_price_per_month": 0},
        {"uuid": "unpriced", "state": "provisioned"},
    ]}))
    assert got[("digitalocean_addon_month_to_date_cost_usd", ("on",))] == pytest.approx(
        float(416 * Decimal(29) / 672), abs=1e-12)
    assert got[("digitalocean_addon_month_to_date_cost_usd", ("free",))] == 0.0
    assert ("digitalocean_addon_month_to_date_cost_usd", ("failed",)) not in got
    assert ("digitalocean_addon_month_to_date_cost_usd", ("unpriced",)) not in got
    late = costs(now=at(2026, 11, 30, 23), addons=addons.parse_addons({"resources": [
        {"uuid": "on", "state": "provisioned", "plan_price_per_month": 29}]}))
    assert late[("digitalocean_addon_month_to_date_cost_usd", ("on",))] == 29.0  # capped


def test_database_additional_storage_is_priced_on_every_node() -> None:
    got = costs(databases=databases.parse_databases({"databases": [
        # the spec's example: 61440 MiB (60 GiB) added to a two-node db-s-2vcpu-4gb
        {"id": "added", "size": "db-s-2vcpu-4gb", "num_nodes": 2, "storage_size_mib": 61440},
        {"id": "none", "size": "db-s-2vcpu-4gb", "num_nodes": 2, "storage_size_mib": None},
    ]}))
    assert PRICES.amount("database_storage_gib_month") == Decimal("0.20")
    assert got[("digitalocean_database_price_monthly_usd", ("added",))] == (60 + 60 * 0.20) * 2
    assert got[("digitalocean_database_price_monthly_usd", ("none",))] == 120.0


def test_kubernetes_nodes_are_priced_with_their_pool_not_as_droplets() -> None:
    clusters = kubernetes.parse_clusters([{
        "id": "k1", "ha": True, "created_at": iso(at(2026, 1, 1)),
        "node_pools": [{"id": "p1", "size": "s-1vcpu-1gb", "count": 2, "nodes": [
            {"id": "n1", "droplet_id": "11", "created_at": iso(at(2026, 1, 1))},
            {"id": "n2", "droplet_id": "12", "created_at": iso(at(2026, 11, 18, 6, 0))},
        ]}],
    }])
    nodes_as_droplets = droplets.parse_droplets(([droplet(11, at(2026, 1, 1)),
                                                  droplet(12, at(2026, 11, 18, 6, 0)),
                                                  droplet(13, at(2026, 1, 1))], "x"))
    catalogue = sizes.parse_sizes([S_1VCPU_1GB])
    got = costs(kubernetes=clusters, droplets=nodes_as_droplets, sizes=catalogue)
    droplet_costs = {k[1] for k in got if k[0] == "digitalocean_droplet_month_to_date_cost_usd"}
    assert droplet_costs == {("13",)}
    assert got[("digitalocean_kubernetes_node_pool_price_monthly_usd", ("k1", "p1"))] == 12.0
    assert got[("digitalocean_kubernetes_node_pool_month_to_date_cost_usd", ("k1", "p1"))] == (
        pytest.approx(float((416 + 2) * Decimal("0.00893")), abs=1e-12))
    assert got[("digitalocean_kubernetes_cluster_price_monthly_usd", ("k1",))] == 40.0
    # without the size catalogue the pool cannot be priced, and is left out rather than zero
    assert ("digitalocean_kubernetes_node_pool_price_monthly_usd", ("k1", "p1")) not in costs(
        kubernetes=clusters)


def test_forecast_extrapolates_usage_over_the_calendar_month() -> None:
    record = billing.BillingRecord(None, None, Decimal("300.00"), at(2026, 11, 16), None, ())
    # 15 of November's 30 days have passed at generated_at: the month ends at twice the usage
    assert costs(billing=record)[("digitalocean_month_forecast_usd", ())] == 600.0
    early = billing.BillingRecord(None, None, Decimal("1.00"), at(2026, 11, 1, 0, 30), None, ())
    assert ("digitalocean_month_forecast_usd", ()) not in costs(billing=early)


def test_no_rounding_error_above_a_cent_over_a_big_fleet() -> None:
    many = droplets.parse_droplets(([droplet(i, at(2026, 11, 1) + i * 97) for i in range(1, 2001)],
                                    "x"))
    got = costs(droplets=many)
    total = sum(v for (name, _), v in got.items()
                if name == "digitalocean_droplet_month_to_date_cost_usd")
    exact = sum((billed_hours(at(2026, 11, 1) + i * 97, NOW) * Decimal("0.00893")
                 for i in range(1, 2001)), Decimal(0))
    assert abs(Decimal(repr(total)) - exact) < Decimal("0.01")


@asynccontextmanager
async def demo_inputs(now: float) -> AsyncIterator[tuple[Simulator, dict[str, dict[str, Any]]]]:
    """The demo simulator frozen at `now`, and each account's cost inputs read from it through
    the real client (every collector the estimate reads, one poll each)."""

    class Frozen(SystemClock):
        def time(self) -> float:
            return now

    class Quiet:
        def observe(self, *args: object) -> None:
            pass

    with Simulator(demo_config(), clock=lambda: now) as sim:
        client = DigitalOceanClient(api_url=sim.url, auth_url=sim.url, timeout=10,
                                    user_agent="t", observer=Quiet(), clock=Frozen())
        inputs_by_account: dict[str, dict[str, Any]] = {}
        try:
            for account in sim.config.accounts:
                reader = client.account(account.name, first_token(account),
                                        RequestBudget(5000, Frozen(), 5000))
                inputs_by_account[account.name] = {
                    name: await collector.fetch(reader)
                    for name, collector in collector_table().items() if name in INPUTS
                }
        finally:
            await client.aclose()
        yield sim, inputs_by_account


DEMO_CLOCKS = [at(2026, 11, 1, 2, 30), at(2026, 11, 18, 11, 0), at(2026, 11, 30, 23, 10),
               at(2027, 2, 28, 12, 0)]


@pytest.mark.parametrize("now", DEMO_CLOCKS, ids=iso)
async def test_demo_estimate_is_within_one_percent_of_the_invoice_preview(now: float) -> None:
    """The estimate, from what the API shows, against the simulator's own invoice preview."""
    async with demo_inputs(now) as (_, inputs_by_account):
        for account_name, inputs in inputs_by_account.items():
            # The preview is as of the hour the balance was generated; estimate at that moment.
            generated = inputs["billing"].generated_at
            estimate = sum(value for name, _, value in cost_samples(inputs, PRICES, generated)
                           if name.endswith("_month_to_date_cost_usd"))
            preview = float(inputs["billing"].preview.amount)
            assert preview > 0
            print(f"\n{iso(now)} {account_name}: estimate {estimate:.2f}, invoice preview "
                  f"{preview:.2f} ({(estimate - preview) / preview:+.3%})")
            assert abs(estimate - preview) <= 0.01 * preview, (account_name, estimate, preview)


async def test_demo_estimate_with_the_storage_products_is_within_one_percent() -> None:
    """Issue 17: custom images, NFS shares and snapshots and daily backups are on the demo's
    invoice preview and in the estimate, and the sum stays within 1 % of the preview."""
    now = DEMO_CLOCKS[1]
    storage = ("Custom Images", "Network File Storage", "NFS Snapshots")
    async with demo_inputs(now) as (sim, inputs_by_account):
        for account_name, inputs in inputs_by_account.items():
            charges = sim.fleet(account_name).ledger().charges
            generated = inputs["billing"].generated_at
            got = list(cost_samples(inputs, PRICES, generated))
            billed = {c.product for c in charges}
            assert set(storage) <= billed, account_name
            assert any("daily backups" in c.description for c in charges), account_name
            for family in ("image", "nfs_share", "nfs_snapshot"):
                values = [v for n, _, v in got
                          if n == f"digitalocean_{family}_month_to_date_cost_usd"]
                assert values, (account_name, family)
                assert all(v > 0 for v in values), (account_name, family)
            daily = [p.droplet_id for p in inputs["droplet_backups"] if p.plan == "daily"]
            assert daily, account_name
            ratios = {labels: v for n, labels, v in got
                      if n == "digitalocean_droplet_backups_price_monthly_usd"}
            monthly = {str(d.droplet_id): d.price_monthly for d in inputs["droplets"]}
            for droplet_id in daily:
                key = (str(droplet_id),)
                assert ratios[key] == pytest.approx(0.3 * monthly[key[0]]), droplet_id
            estimate = sum(v for n, _, v in got if n.endswith("_month_to_date_cost_usd"))
            preview = float(inputs["billing"].preview.amount)
            storage_cost = sum(v for n, _, v in got if n.endswith("_month_to_date_cost_usd")
                               and n.split("_")[1] in ("image", "nfs"))
            assert storage_cost > 0
            assert abs(estimate - preview) <= 0.01 * preview, (account_name, estimate, preview)


def test_app_instances_are_priced_from_the_table() -> None:
    records = apps.parse_apps([
        {"id": "a1", "created_at": iso(at(2026, 1, 1)), "spec": {
            "services": [{"instance_size_slug": "apps-s-1vcpu-1gb", "instance_count": 2}],
            "workers": [{"instance_size_slug": "apps-s-1vcpu-0.5gb"}],
            "static_sites": [{"name": "docs"}]}},
        {"id": "a2", "spec": {"services": [{"instance_size_slug": "apps-x-unknown"}]}},
        {"id": "a3", "spec": {"static_sites": [{"name": "only-static"}]}},
    ])
    got = costs(apps=records)
    assert got[("digitalocean_app_price_monthly_usd", ("a1",))] == 29.0  # 2 x 12 + 5
    assert got[("digitalocean_app_month_to_date_cost_usd", ("a1",))] == pytest.approx(
        float(416 * Decimal(29) / 672), abs=1e-12)
    assert ("digitalocean_app_price_monthly_usd", ("a2",)) not in got  # unknown size: not guessed
    assert got[("digitalocean_app_unpriced_components", ("a1",))] == 0
    assert got[("digitalocean_app_unpriced_components", ("a2",))] == 1  # ... but counted
    assert ("digitalocean_app_price_monthly_usd", ("a3",)) not in got  # nothing billed
    assert ("digitalocean_app_unpriced_components", ("a3",)) not in got


def test_an_autoscaled_app_and_one_on_a_dedicated_size_have_costs() -> None:
    records = apps.parse_apps([
        {"id": "scaled", "created_at": iso(at(2026, 1, 1)), "spec": {"services": [
            {"name": "web", "instance_size_slug": "apps-d-2vcpu-8gb",
             "autoscaling": {"min_instance_count": 2, "max_instance_count": 6}}]}},
        {"id": "big", "created_at": iso(at(2026, 1, 1)), "spec": {"workers": [
            {"name": "w", "instance_size_slug": "apps-d-2vcpu-8gb", "instance_count": 1}]}},
    ])
    got = costs(apps=records)
    assert got[("digitalocean_app_price_monthly_usd", ("scaled",))] == 196.0  # 2 x 98, the minimum
    assert got[("digitalocean_app_price_monthly_usd", ("big",))] == 98.0
    assert got[("digitalocean_app_month_to_date_cost_usd", ("big",))] == pytest.approx(
        float(416 * Decimal(98) / 672), abs=1e-12)
    assert got[("digitalocean_app_unpriced_components", ("scaled",))] == 0


def test_every_size_of_the_api_catalogue_is_in_the_fallback_table() -> None:
    body = spec_example("/v2/apps/tiers/instance_sizes")
    catalogue = app_instance_sizes.parse_instance_sizes(body)
    assert {s.slug: s.price_monthly_usd for s in catalogue} == dict(PRICES.app_instance_month)


def test_one_unknown_size_prices_the_rest_and_is_counted() -> None:
    records = apps.parse_apps([{"id": "a", "spec": {"services": [
        {"name": "web", "instance_size_slug": "apps-s-1vcpu-1gb", "instance_count": 2},
        {"name": "new", "instance_size_slug": "apps-x-future"},
    ]}}])
    got = costs(apps=records)
    assert got[("digitalocean_app_price_monthly_usd", ("a",))] == 24.0
    assert got[("digitalocean_app_unpriced_components", ("a",))] == 1


def test_the_api_prices_win_over_the_table_which_fills_the_gaps() -> None:
    records = apps.parse_apps([{"id": "a", "spec": {"services": [
        {"name": "web", "instance_size_slug": "apps-s-1vcpu-1gb", "instance_count": 2},
        {"name": "new", "instance_size_slug": "apps-x-future"},
        {"name": "old", "instance_size_slug": "apps-s-1vcpu-0.5gb"},
    ]}}])
    sizes_from_api = app_instance_sizes.parse_instance_sizes({"instance_sizes": [
        {"slug": "apps-s-1vcpu-1gb", "usd_per_month": "13.00"},
        {"slug": "apps-x-future", "usd_per_month": "7.50"},
        {"slug": "apps-s-1vcpu-0.5gb", "usd_per_month": None},  # no price: the table's 5.00
    ]})
    got = costs(apps=records, app_instance_sizes=sizes_from_api)
    assert got[("digitalocean_app_price_monthly_usd", ("a",))] == 2 * 13.0 + 7.5 + 5.0
    assert got[("digitalocean_app_unpriced_components", ("a",))] == 0


async def test_dedicated_inference_gpus_at_the_api_price_for_the_hours_this_month() -> None:
    listed = {"dedicated_inferences": [
        {"id": "di1", "region": "nyc2", "status": "active", "created_at": iso(at(2026, 11, 10, 8)),
         "spec": {"model_deployments": [{"model_slug": "m", "accelerators": [
             {"scale": 2, "type": "prefill_decode", "accelerator_slug": "gpu-mi300x1-192gb"}]}]}},
        {"id": "di2", "region": "atl1", "status": "new"},  # no GPUs yet: nothing to price
    ]}
    sizes = {"sizes": [{"gpu_slug": "gpu-mi300x1-192gb", "region": "nyc2", "price_per_hour": "1.99",
                        "currency": "USD"}]}
    records = await dedicated_inferences.fetch(FakeReader({
        "/v2/dedicated-inferences": listed, "/v2/dedicated-inferences/sizes": sizes}))
    got = costs(dedicated_inferences=records)
    # from Nov 10 08:00 to Nov 18 07:06:40: 7 days, 23 hours and a bit, 192 started hours
    assert billed_hours(at(2026, 11, 10, 8), NOW) == 192
    assert got[("digitalocean_dedicated_inference_month_to_date_cost_usd", ("di1",))] == float(
        Decimal(192) * Decimal("3.98"))
    assert got[("digitalocean_dedicated_inference_price_monthly_usd", ("di1",))] == float(
        Decimal("3.98") * 672)
    assert not [key for key in got if key[1] == ("di2",)]
async def test_the_demo_nat_gateways_and_add_ons_are_estimated_as_billed() -> None:
    """Per product, the estimate from what the API shows equals the simulator's own charges for
    the two products priced here (NAT gateways from the price table, add-ons from the API)."""
    now = at(2026, 11, 18, 11, 0)
    async with demo_inputs(now) as (sim, inputs_by_account):
        inputs = inputs_by_account["production"]
        billed = {p.product: p.amount for p in
                  sim.fleet("production").ledger().breakdown(int(month_start(now)), now, now)}
    estimated = {
        product: sum(value for name, _, value in cost_samples(inputs, PRICES, now) if name == family)
        for product, family in (("VPC NAT Gateways", "digitalocean_nat_gateway_month_to_date_cost_usd"),
                                ("SaaS Add-ons", "digitalocean_addon_month_to_date_cost_usd"))
    }
    assert all(amount > 0 for amount in estimated.values())
    for product, amount in estimated.items():
        assert amount == pytest.approx(float(billed[product]), abs=1e-9), product
