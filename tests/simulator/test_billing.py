"""Billing agrees with the fleet: usage, preview, invoices, summaries, history and insights.

The rules (DigitalOcean's, and the exporter's): in a UTC calendar month a resource costs
`min(started hours x hourly, monthly)` from `max(created_at, month start)`; prices given per
month only are billed at monthly / 672 an hour. Every money comparison here is exact, with
Decimal: hand-computed cases first, then a generated fleet priced from what the API serves.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest

from exporter.pricing import load_price_table
from exporter.simulator import Fleet, FleetSpec, SimAccount, Simulator, SimulatorConfig, demo_config
from exporter.simulator.catalog import APP_INSTANCE_PRICES, DATABASE_SIZES
from exporter.simulator.ledger import SPACES, apportion, build_ledger

from .conftest import DROPLETS_ONLY, READ_ONLY, START, ManualClock, parse_time

Connect = Callable[..., httpx.Client]
D = Decimal
CENT = D("0.01")
HOUR = 3600
DAY = 86_400
OCT1 = 1_790_812_800
NOV1 = 1_793_491_200
DEC1 = 1_796_083_200
FEB1_2027 = 1_801_440_000
PRICES = load_price_table()


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def month_start(moment: float) -> int:
    when = datetime.fromtimestamp(int(moment), UTC)
    return int(datetime(when.year, when.month, 1, tzinfo=UTC).timestamp())


def month_seconds(moment: float) -> int:
    when = datetime.fromtimestamp(int(moment), UTC)
    return calendar.monthrange(when.year, when.month)[1] * DAY


# -- a fleet small enough to bill by hand ------------------------------------------------------


def droplet(
    droplet_id: int,
    name: str,
    slug: str,
    prices: tuple[float, float],
    created: str,
    *,
    status: str = "active",
    backups: bool = False,
) -> dict[str, Any]:
    return {
        "id": droplet_id,
        "name": name,
        "status": status,
        "created_at": created,
        "features": ["backups", "monitoring"] if backups else ["monitoring"],
        "size_slug": slug,
        "size": {"slug": slug, "price_monthly": prices[0], "price_hourly": prices[1]},
        "region": {"slug": "nyc3"},
        "tags": [],
        "volume_ids": [],
    }


SMALL = (6.0, 0.00893)
MEDIUM = (24.0, 0.03571)


def hand_fleet() -> Fleet:
    return Fleet.from_objects(
        droplets=[
            droplet(1001, "web-1", "s-1vcpu-1gb", SMALL, "2026-11-10T12:30:00Z", backups=True),
            droplet(1002, "db-1", "s-2vcpu-4gb", MEDIUM, "2025-01-01T00:00:00Z", status="off"),
            droplet(1003, "old-1", "s-1vcpu-1gb", SMALL, "2025-01-01T00:00:00Z", status="archive"),
            # Kubernetes worker nodes: Droplets, billed once, with their pool (the "backups"
            # feature of a node Droplet is not billed either: the node is not a Droplet charge).
            droplet(1004, "pool-a", "s-2vcpu-4gb", MEDIUM, "2026-06-01T00:00:00Z", backups=True),
            droplet(1005, "pool-b", "s-2vcpu-4gb", MEDIUM, "2026-11-16T00:00:00Z"),
        ],
        volumes=[
            {
                "id": "vol-1",
                "name": "data",
                "size_gigabytes": 100,
                "created_at": "2026-10-01T00:00:00Z",
                "region": {"slug": "nyc3"},
                "droplet_ids": [1002],
            }
        ],
        reserved_ips=[
            {"ip": "192.0.2.1", "region": {"slug": "nyc3"}, "droplet": None},
            {"ip": "192.0.2.2", "region": {"slug": "nyc3"}, "droplet": {"id": 1002}},
        ],
        kubernetes_clusters=[
            {
                "id": "k8s-1",
                "name": "prod-cluster",
                "region": "nyc3",
                "ha": True,
                "created_at": "2026-06-01T00:00:00Z",
                "node_pools": [
                    {
                        "id": "pool-1",
                        "name": "pool",
                        "size": "s-2vcpu-4gb",
                        "count": 2,
                        "nodes": [
                            {"id": "n1", "name": "pool-a", "droplet_id": "1004",
                             "created_at": "2026-06-01T00:00:00Z"},
                            {"id": "n2", "name": "pool-b", "droplet_id": "1005",
                             "created_at": "2026-11-16T00:00:00Z"},
                        ],
                    }
                ],
            }
        ],
        databases=[
            {"id": "db-1", "name": "orders", "engine": "pg", "size": "db-s-2vcpu-4gb",
             "num_nodes": 2, "region": "nyc3", "created_at": "2026-11-05T00:00:00Z"}
        ],
        snapshots=[
            {"id": "snap-1", "name": "web-1-weekly", "size_gigabytes": 10, "regions": ["nyc3"],
             "created_at": "2026-11-15T00:00:00Z", "resource_type": "droplet", "resource_id": "1001"}
        ],
        account_name="hand",
    )


# Each charge's cost at 2026-11-18T11:00Z, 419 hours into November, worked out by hand.
HAND_MID: dict[str, tuple[str, Decimal]] = {
    "web-1": ("Droplets", 191 * D("0.00893")),  # from Nov 10 12:30: 190.5 h, 191 started
    "web-1 backups": ("Droplet Backups", 191 * D("0.00893") * D("0.20")),
    "db-1 (off)": ("Droplets", 419 * D("0.03571")),
    "node pool-a": ("Kubernetes Clusters", 419 * D("0.03571")),
    "node pool-b": ("Kubernetes Clusters", 59 * D("0.03571")),  # from Nov 16 00:00
    "HA control plane": ("Kubernetes Clusters", 419 * D(40) / 672),
    "volume 100 GiB": ("Volumes", 419 * D("10.0") / 672),
    "unassigned IP": ("Reserved IPs", 419 * D(5) / 672),
    "database 2 x 60": ("Database Clusters", 323 * D(120) / 672),  # from Nov 5 00:00
    "snapshot 10 GiB": ("Snapshots", 83 * D("0.60") / 672),  # from Nov 15 00:00
}
# At 2026-11-30T23:00Z, 719 hours in: everything older than the month is at its cap.
HAND_LAST: dict[str, Decimal] = {
    "web-1": 491 * D("0.00893"),
    "web-1 backups": 491 * D("0.00893") * D("0.20"),
    "db-1 (off)": D(24),
    "node pool-a": D(24),
    "node pool-b": 359 * D("0.03571"),
    "HA control plane": D(40),
    "volume 100 GiB": D(10),
    "unassigned IP": D(5),
    "database 2 x 60": 623 * D(120) / 672,
    "snapshot 10 GiB": 383 * D("0.60") / 672,
}
# October 2026 (744 hours): only what existed then, each capped at a month.
HAND_OCTOBER = {"Droplets": D(24), "Kubernetes Clusters": D(64), "Volumes": D(10),
                "Reserved IPs": D(5)}


@pytest.fixture
def hand(start_simulator: Callable[[SimulatorConfig], Simulator]) -> Simulator:
    return start_simulator(
        SimulatorConfig(accounts=(SimAccount(name="hand", tokens=(READ_ONLY,), fleet=hand_fleet()),))
    )


def test_the_hand_computed_fleet_bills_exactly(
    hand: Simulator, connect: Connect, clock: ManualClock
) -> None:
    client = connect(hand, READ_ONLY)
    for moment, costs in (
        (START, {name: cost for name, (_, cost) in HAND_MID.items()}),
        (DEC1 - 60, HAND_LAST),
        (NOV1 + 1800, dict.fromkeys(HAND_MID, D(0))),  # generated at 00:00: no hour started
    ):
        clock.now = moment
        expected = cents(sum(costs.values(), D(0)))
        balance = client.get("/v2/customers/my/balance").json()
        page = client.get("/v2/customers/my/invoices").json()
        assert D(balance["month_to_date_usage"]) == expected
        assert D(page["invoice_preview"]["amount"]) == expected
        assert balance["generated_at"] == iso(int(moment) // HOUR * HOUR)
        assert page["invoice_preview"]["updated_at"] == balance["generated_at"]
    assert cents(sum((cost for _, cost in HAND_MID.values()), D(0))) == D("126.12")
    assert cents(sum(HAND_LAST.values(), D(0))) == D("232.67")


def test_the_hand_computed_fleet_summaries_and_past_invoices(
    hand: Simulator, connect: Connect
) -> None:
    client = connect(hand, READ_ONLY)
    page = client.get("/v2/customers/my/invoices").json()
    october = next(i for i in page["invoices"] if i["invoice_period"] == "2026-10")
    assert D(october["amount"]) == D("103.00")
    summary = client.get(f"/v2/customers/my/invoices/{october['invoice_uuid']}/summary").json()
    items = {item["name"]: D(item["amount"]) for item in summary["product_charges"]["items"]}
    assert items == HAND_OCTOBER
    assert summary["amount"] == "103.00"
    assert summary["credits_and_adjustments"]["amount"] == "0.00"
    # The preview's summary: the month so far, by product, adding up to the preview.
    preview = page["invoice_preview"]
    current = client.get(f"/v2/customers/my/invoices/{preview['invoice_uuid']}/summary").json()
    assert current["amount"] == preview["amount"] == current["product_charges"]["amount"]
    by_product: dict[str, Decimal] = {}
    for product, cost in HAND_MID.values():
        by_product[product] = by_product.get(product, D(0)) + cost
    served = {item["name"]: D(item["amount"]) for item in current["product_charges"]["items"]}
    assert set(served) == set(by_product)
    assert all(abs(served[name] - amount) < CENT for name, amount in by_product.items())
    counts = {item["name"]: item["count"] for item in current["product_charges"]["items"]}
    assert counts["Droplets"] == "2"  # web-1 and the powered-off db-1; not archived, not nodes
    assert counts["Kubernetes Clusters"] == "3"  # two nodes and the HA control plane
    assert "Droplet Backups" in counts
    assert counts["Droplet Backups"] == "1"


def test_the_hand_computed_fleet_insights(
    hand: Simulator, connect: Connect, clock: ManualClock
) -> None:
    client = connect(hand, READ_ONLY)
    urn = "do:team:" + client.get("/v2/account").json()["account"]["team"]["uuid"]
    body = client.get(f"/v2/billing/{urn}/insights/2026-11-17/2026-11-17").json()
    # A whole day: 24 hours x hourly for everything that existed, nothing capped yet.
    day = {
        "web-1 (s-1vcpu-1gb)": 24 * D("0.00893"),
        "web-1 backups (s-1vcpu-1gb)": 24 * D("0.00893") * D("0.20"),
        "db-1 (s-2vcpu-4gb)": 24 * D("0.03571"),
        "pool-a (s-2vcpu-4gb)": 24 * D("0.03571"),
        "pool-b (s-2vcpu-4gb)": 24 * D("0.03571"),
        "prod-cluster HA control plane": 24 * D(40) / 672,
        "data (100 GiB)": 24 * D(10) / 672,
        "192.0.2.1 (unassigned)": 24 * D(5) / 672,
        "orders (db-s-2vcpu-4gb x 2)": 24 * D(120) / 672,
        "web-1-weekly (10 GiB)": 24 * D("0.60") / 672,
    }
    points = {p["description"]: p for p in body["data_points"]}
    assert set(points) == set(day)
    assert sum(D(p["total_amount"]) for p in points.values()) == cents(sum(day.values(), D(0)))
    assert all(abs(D(points[name]["total_amount"]) - cost) < CENT for name, cost in day.items())
    assert points["pool-a (s-2vcpu-4gb)"]["group_description"] == "prod-cluster"
    assert points["db-1 (s-2vcpu-4gb)"]["group_description"] == ""
    assert {p["usage_team_urn"] for p in points.values()} == {urn}
    assert {p["start_date"] for p in points.values()} == {"2026-11-17"}
    # The day web-1 was created at 12:30: 11.5 hours, 12 started.
    created = client.get(f"/v2/billing/{urn}/insights/2026-11-10/2026-11-10").json()
    web = next(p for p in created["data_points"] if p["description"] == "web-1 (s-1vcpu-1gb)")
    assert D(web["total_amount"]) == cents(12 * D("0.00893"))
    # The last day of the month: what is left under the caps.
    clock.now = DEC1 + DAY
    last = client.get(f"/v2/billing/{urn}/insights/2026-11-30/2026-11-30").json()
    costs = {p["description"]: D(p["total_amount"]) for p in last["data_points"]}
    assert "db-1 (s-2vcpu-4gb)" not in costs  # capped since day 29: nothing more to bill
    assert costs["orders (db-s-2vcpu-4gb x 2)"] == cents(24 * D(120) / 672)


# -- a generated fleet, priced from what the API serves ----------------------------------------


def listing(client: httpx.Client, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    url: str | None = path
    query: dict[str, Any] | None = {"per_page": 200, **params}
    while url:
        body = client.get(url, params=query).json()
        items = body[key]
        out += list(items.values()) if isinstance(items, dict) else items  # a map: its values
        url, query = body["links"].get("pages", {}).get("next"), None
    return out


def accrued(monthly: Decimal, hourly: Decimal, created: str | None, start: int, until: int) -> Decimal:
    begin = start if created is None else max(start, int(parse_time(created)))
    if until <= begin:
        return D(0)
    return min(math.ceil((until - begin) / HOUR) * hourly, monthly)


def number(value: float) -> Decimal:
    return D(repr(value))


def costs_from_api(
    client: httpx.Client, simulator: Simulator, account: str, start: int, until: int
) -> list[tuple[str, Decimal]]:
    """(product, cost) of every billed thing from `start` (a month's start) to `until`, priced
    from the served objects by the rules, as an exporter would; the Spaces subscription (which
    the API does not show) from the simulator's own charges."""
    out = [
        *compute_droplets_and_clusters(client, start, until),
        *compute_storage_and_network(client, start, until),
        *compute_services(client, start, until),
    ]
    for charge in simulator.fleet(account).ledger().charges:  # not in the API at all
        if charge.product == SPACES:
            created = None if charge.created_at is None else iso(charge.created_at)
            out.append((SPACES, accrued(charge.monthly, charge.hourly, created, start, until)))
    return [(product, cost) for product, cost in out if cost > 0]


def compute_droplets_and_clusters(
    client: httpx.Client, start: int, until: int
) -> list[tuple[str, Decimal]]:
    out: list[tuple[str, Decimal]] = []
    sizes = {s["slug"]: s for s in listing(client, "/v2/sizes", "sizes")}
    clusters = listing(client, "/v2/kubernetes/clusters", "kubernetes_clusters")
    nodes = {n["droplet_id"] for c in clusters for p in c["node_pools"] for n in p["nodes"]}
    daily = {p["droplet_id"] for p in listing(client, "/v2/droplets/backups/policies", "policies")
             if p["backup_enabled"] and p["backup_policy"]["plan"] == "daily"}
    droplets = listing(client, "/v2/droplets", "droplets")
    droplets += listing(client, "/v2/droplets", "droplets", type="gpus")
    for d in droplets:
        if d["status"] == "archive" or str(d["id"]) in nodes:
            continue
        monthly, hourly = number(d["size"]["price_monthly"]), number(d["size"]["price_hourly"])
        out.append(("Droplets", accrued(monthly, hourly, d["created_at"], start, until)))
        if "backups" in d["features"]:
            ratio = PRICES.amount("droplet_backups_daily_ratio" if d["id"] in daily
                                  else "droplet_backups_ratio")
            cost = accrued(monthly * ratio, hourly * ratio, d["created_at"], start, until)
            out.append(("Droplet Backups", cost))
    for cluster in clusters:
        if cluster["ha"]:
            ha = PRICES.amount("kubernetes_ha_control_plane_month")
            cost = accrued(ha, ha / 672, cluster["created_at"], start, until)
            out.append(("Kubernetes Clusters", cost))
        for pool in cluster["node_pools"]:
            size = sizes[pool["size"]]
            monthly, hourly = number(size["price_monthly"]), number(size["price_hourly"])
            for node in pool["nodes"]:
                cost = accrued(monthly, hourly, node["created_at"], start, until)
                out.append(("Kubernetes Clusters", cost))
    return out


def compute_storage_and_network(
    client: httpx.Client, start: int, until: int
) -> list[tuple[str, Decimal]]:
    out: list[tuple[str, Decimal]] = []
    for volume in listing(client, "/v2/volumes", "volumes"):
        monthly = volume["size_gigabytes"] * PRICES.amount("volume_gib_month")
        out.append(("Volumes", accrued(monthly, monthly / 672, volume["created_at"], start, until)))
    for snapshot in listing(client, "/v2/snapshots", "snapshots"):
        monthly = number(snapshot["size_gigabytes"]) * PRICES.amount("snapshot_gib_month")
        cost = accrued(monthly, monthly / 672, snapshot["created_at"], start, until)
        out.append(("Snapshots", cost))
    for ip in listing(client, "/v2/reserved_ips", "reserved_ips"):
        if ip["droplet"] is None:
            monthly = PRICES.amount("reserved_ipv4_unassigned_month")
            out.append(("Reserved IPs", accrued(monthly, monthly / 672, None, start, until)))
    for lb in listing(client, "/v2/load_balancers", "load_balancers"):
        monthly = PRICES.amount("load_balancer_node_month") * lb["size_unit"]
        if lb["type"] == "GLOBAL":
            monthly = PRICES.amount("global_load_balancer_month")
        cost = accrued(monthly, monthly / 672, lb["created_at"], start, until)
        out.append(("Load Balancers", cost))
    for image in listing(client, "/v2/images", "images", private="true"):
        if image["type"] == "custom":
            monthly = number(image["size_gigabytes"]) * PRICES.amount("custom_image_gib_month")
            cost = accrued(monthly, monthly / 672, image["created_at"], start, until)
            out.append(("Custom Images", cost))
    for product, path, key, price_key in (
        ("Network File Storage", "/v2/nfs", "shares", "nfs_gib_month"),
        ("NFS Snapshots", "/v2/nfs/snapshots", "snapshots", "nfs_snapshot_gib_month"),
    ):
        for item in client.get(path).json()[key]:  # not paged
            monthly = D(item["size_gib"]) * PRICES.amount(price_key)
            out.append((product, accrued(monthly, monthly / 672, item["created_at"], start, until)))
    return out


def compute_services(client: httpx.Client, start: int, until: int) -> list[tuple[str, Decimal]]:
    out: list[tuple[str, Decimal]] = []
    for db in client.get("/v2/databases").json()["databases"] or ():
        added_gib = D(db["storage_size_mib"] or 0) / 1024
        monthly = (PRICES.database_node_month[db["size"]]
                   + added_gib * PRICES.amount("database_storage_gib_month")) * db["num_nodes"]
        cost = accrued(monthly, monthly / 672, db["created_at"], start, until)
        out.append(("Database Clusters", cost))
    for body in client.get("/v2/registries").json()["registries"]:
        monthly = D(body["subscription"]["tier"]["monthly_price_in_cents"]) / 100
        cost = accrued(monthly, monthly / 672, body["created_at"], start, until)
        out.append(("Container Registry", cost))
    for app in listing(client, "/v2/apps", "apps"):
        monthly = sum(
            (number(APP_INSTANCE_PRICES[s["instance_size_slug"]])
             * (s.get("instance_count") or s["autoscaling"]["min_instance_count"])
             for s in app["spec"]["services"]),
            D(0),
        )
        out.append(("App Platform", accrued(monthly, monthly / 672, app["created_at"], start, until)))
    return out


def total(costs: list[tuple[str, Decimal]]) -> Decimal:
    return sum((cost for _, cost in costs), D(0))


def per_product(costs: list[tuple[str, Decimal]]) -> dict[str, Decimal]:
    products: dict[str, Decimal] = {}
    for product, cost in costs:
        products[product] = products.get(product, D(0)) + cost
    return products


GENERATED = FleetSpec(seed=5, droplets=60, gpu_droplets=1, volumes=8, problems=True)


@pytest.fixture
def generated(start_simulator: Callable[[SimulatorConfig], Simulator]) -> Simulator:
    return start_simulator(
        SimulatorConfig(
            accounts=(SimAccount(name="gen", tokens=(READ_ONLY,), fleet=GENERATED),),
            requests_per_minute=100_000,
            requests_per_hour=100_000,
        )
    )


@pytest.mark.parametrize(
    "moment",
    [NOV1 + 1800, START, DEC1 - 60, FEB1_2027 + 27 * DAY + 13 * HOUR + 5],
    ids=["first-00:30", "mid-month", "last-day-23:59", "february-28th"],
)
def test_preview_and_usage_are_the_fleets_month_to_date_cost(
    generated: Simulator, connect: Connect, clock: ManualClock, moment: int
) -> None:
    clock.now = moment
    client = connect(generated, READ_ONLY)
    at = moment // HOUR * HOUR
    costs = costs_from_api(client, generated, "gen", month_start(at), at)
    balance = client.get("/v2/customers/my/balance").json()
    preview = client.get("/v2/customers/my/invoices").json()["invoice_preview"]
    assert D(balance["month_to_date_usage"]) == cents(total(costs))
    assert preview["amount"] == balance["month_to_date_usage"] == balance["month_to_date_balance"]
    assert preview["updated_at"] == balance["generated_at"] == iso(at)
    summary = client.get(f"/v2/customers/my/invoices/{preview['invoice_uuid']}/summary").json()
    assert summary["amount"] == preview["amount"]
    if moment > NOV1 + HOUR:
        served = {i["name"]: D(i["amount"]) for i in summary["product_charges"]["items"]}
        expected = per_product(costs)
        assert set(served) == set(expected)
        assert all(abs(served[name] - cost) < CENT for name, cost in expected.items())


def test_runtime_changes_are_billed_from_when_they_happen(
    generated: Simulator, connect: Connect, clock: ManualClock
) -> None:
    client = connect(generated, READ_ONLY)
    clock.now = START + 2 * HOUR
    before = D(client.get("/v2/customers/my/balance").json()["month_to_date_usage"])
    created, destroyed = generated.mutate_fleet("gen", create_droplets=3, destroy_droplets=5)
    assert len(created) == 3
    assert len(destroyed) == 5
    clock.now = START + 5 * HOUR
    at = int(clock.now) // HOUR * HOUR
    costs = costs_from_api(client, generated, "gen", NOV1, at)
    assert D(client.get("/v2/customers/my/balance").json()["month_to_date_usage"]) == cents(total(costs))
    assert client.get("/v2/customers/my/invoices").json()["invoice_preview"]["amount"] == str(
        cents(total(costs))
    )
    # The new Droplets count from their creation (3 started hours here), the destroyed ones
    # are gone from the whole month: the month-to-date cost need not grow.
    new = [d for d in listing(client, "/v2/droplets", "droplets") if d["id"] in created]
    assert all(d["created_at"] == iso(START + 2 * HOUR) for d in new)
    assert before > 0


def test_past_invoices_are_the_fleets_full_month_cost(
    generated: Simulator, connect: Connect
) -> None:
    client = connect(generated, READ_ONLY)
    page = client.get("/v2/customers/my/invoices", params={"per_page": 20}).json()
    periods = [invoice["invoice_period"] for invoice in page["invoices"]]
    assert periods == sorted(periods, reverse=True)
    assert len(periods) == 14
    for invoice in page["invoices"][:3] + page["invoices"][-1:]:
        year, month = (int(part) for part in invoice["invoice_period"].split("-"))
        start = int(datetime(year, month, 1, tzinfo=UTC).timestamp())
        end = start + calendar.monthrange(year, month)[1] * DAY
        costs = costs_from_api(client, generated, "gen", start, end)
        assert D(invoice["amount"]) == cents(total(costs))
        path = f"/v2/customers/my/invoices/{invoice['invoice_uuid']}/summary"
        summary = client.get(path).json()
        items = summary["product_charges"]["items"]
        charges = D(summary["product_charges"]["amount"])
        assert sum(D(item["amount"]) for item in items) == charges
        assert charges + D(summary["overages"]["amount"]) + D(summary["taxes"]["amount"]) + D(
            summary["credits_and_adjustments"]["amount"]
        ) == D(summary["amount"])
        assert summary["amount"] == invoice["amount"]
        assert summary["billing_period"] == invoice["invoice_period"]
        assert summary["invoice_id"] == invoice["invoice_id"]
        expected = per_product(costs)
        served = {item["name"]: D(item["amount"]) for item in items}
        assert set(served) == set(expected)
        assert all(abs(served[name] - cost) < CENT for name, cost in expected.items())
    # The newest invoices grow as the fleet was built up over the year before.
    amounts = [D(invoice["amount"]) for invoice in page["invoices"]]
    assert amounts[-1] < amounts[0]


def test_summaries_carry_the_spec_shape_and_unknown_uuids_are_404(
    generated: Simulator, connect: Connect
) -> None:
    client = connect(generated, READ_ONLY)
    invoice = client.get("/v2/customers/my/invoices").json()["invoices"][0]
    summary = client.get(f"/v2/customers/my/invoices/{invoice['invoice_uuid']}/summary").json()
    assert set(summary) == {
        "invoice_uuid", "invoice_id", "billing_period", "amount", "user_name",
        "user_billing_address", "user_company", "user_email", "product_charges", "overages",
        "taxes", "credits_and_adjustments",
    }
    assert summary["user_email"].endswith("@example.com")
    assert set(summary["user_billing_address"]) >= {"address_line1", "city", "country_iso2_code"}
    assert summary["product_charges"]["name"] == "Product usage charges"
    names = [item["name"] for item in summary["product_charges"]["items"]]
    assert {"Droplets", "Kubernetes Clusters", "Volumes", "Snapshots", "Reserved IPs",
            "Load Balancers", "Database Clusters", "Container Registry"} <= set(names)
    unknown = client.get("/v2/customers/my/invoices/4de7ac8b-495b-4884-9a69-1050c6793cd6/summary")
    assert unknown.status_code == 404
    assert unknown.json()["id"] == "not_found"
    assert connect(generated, DROPLETS_ONLY).get(
        f"/v2/customers/my/invoices/{invoice['invoice_uuid']}/summary"
    ).status_code in (401, 403)


def test_credits_lower_past_invoices_and_show_in_their_summaries() -> None:
    spec = FleetSpec(seed=5, droplets=30, invoice_credit_ratio="0.04")
    plain = Fleet.generate(FleetSpec(seed=5, droplets=30), "acme").billing
    credited = Fleet.generate(spec, "acme").billing
    invoices, _ = credited.invoices(START)
    full, _ = plain.invoices(START)
    for with_credit, without in zip(invoices, full, strict=True):
        charges = D(without["amount"])
        assert D(with_credit["amount"]) == charges - cents(charges * D("0.04"))
        summary = credited.invoice_summary(with_credit["invoice_uuid"], START)
        assert summary is not None
        assert summary["credits_and_adjustments"]["amount"] == str(-cents(charges * D("0.04")))
        assert summary["product_charges"]["amount"] == without["amount"]
        assert summary["amount"] == with_credit["amount"]
    # The month in progress has no credit yet: the preview is the usage.
    assert credited.balance(START)["month_to_date_usage"] == plain.balance(START)["month_to_date_usage"]
    with pytest.raises(ValueError, match="invoice_credit_ratio"):
        FleetSpec(invoice_credit_ratio="4%")


def test_explicit_amounts_and_usage_still_win() -> None:
    spec = FleetSpec(seed=2, droplets=12, month_to_date_usage="10.50",
                     invoice_amounts=("812.40", "790.10"))
    billing = Fleet.generate(spec, "acme").billing
    balance = billing.balance(START)
    invoices, preview = billing.invoices(START)
    assert balance["month_to_date_usage"] == "10.50"
    assert preview is not None
    assert preview["amount"] == "10.50"
    assert [i["amount"] for i in invoices] == ["812.40", "790.10"]
    summary = billing.invoice_summary(invoices[0]["invoice_uuid"], START)
    assert summary is not None
    items = summary["product_charges"]["items"]
    assert sum(D(item["amount"]) for item in items) == D("812.40") == D(summary["amount"])
    current = billing.invoice_summary(preview["invoice_uuid"], START)
    assert current is not None
    assert current["amount"] == "10.50"


# -- billing history ---------------------------------------------------------------------------


def test_history_is_invoices_payments_and_a_credit_oldest_first(
    start_simulator: Callable[[SimulatorConfig], Simulator], connect: Connect, clock: ManualClock
) -> None:
    spec = FleetSpec(seed=3, droplets=20, account_balance="-25.00")
    simulator = start_simulator(
        SimulatorConfig(accounts=(SimAccount(name="acme", tokens=(READ_ONLY,), fleet=spec),))
    )
    client = connect(simulator, READ_ONLY)
    invoices = client.get("/v2/customers/my/invoices", params={"per_page": 200}).json()["invoices"]
    first = client.get("/v2/customers/my/billing_history", params={"per_page": 5}).json()
    assert first["meta"]["total"] == 2 * 14 + 1
    assert len(first["billing_history"]) == 5
    assert set(first["links"]["pages"]) == {"next", "last"}
    entries = listing(client, "/v2/customers/my/billing_history", "billing_history")
    assert len(entries) == first["meta"]["total"]
    dates = [entry["date"] for entry in entries]
    assert dates == sorted(dates)
    assert {entry["type"] for entry in entries} == {"Invoice", "Payment", "Credit"}
    by_uuid = {i["invoice_uuid"]: i for i in invoices}
    issued = [e for e in entries if e["type"] == "Invoice"]
    assert len(issued) == len(invoices)
    for entry in issued:
        invoice = by_uuid[entry["invoice_uuid"]]
        assert entry["amount"] == invoice["amount"]
        assert entry["invoice_id"] == invoice["invoice_id"]
        year, month = (int(part) for part in invoice["invoice_period"].split("-"))
        following = date(year + month // 12, month % 12 + 1, 1)
        assert entry["date"].startswith(following.isoformat() + "T00:")
        assert entry["description"] == f"Invoice for {calendar.month_name[month]} {year}"
    payments = [e for e in entries if e["type"] == "Payment"]
    assert sorted(D(p["amount"]) for p in payments) == sorted(-D(i["amount"]) for i in invoices)
    latest_invoice: dict[str, Any] | None = None
    for entry in entries:  # each payment follows its invoice, a few days later
        if entry["type"] == "Invoice":
            latest_invoice = entry
        elif entry["type"] == "Payment":
            assert latest_invoice is not None
            assert entry["amount"] == f"-{latest_invoice['amount']}"
            gap = parse_time(entry["date"]) - parse_time(latest_invoice["date"])
            assert DAY < gap < 7 * DAY
    # Mid-month, every invoice is paid: the history adds up to the balance (the credit).
    assert sum(D(e["amount"]) for e in entries) == D("-25.00")
    credit = next(e for e in entries if e["type"] == "Credit")
    assert credit["amount"] == "-25.00"
    # At 00:30 on the 1st, October's invoice is out but not paid yet.
    clock.now = NOV1 + 1800
    early = listing(client, "/v2/customers/my/billing_history", "billing_history")
    assert early[-1]["type"] == "Invoice"
    assert early[-1]["description"] == "Invoice for October 2026"
    assert parse_time(early[-1]["date"]) <= clock.now
    assert len(early) == len(entries) - 1


# -- Billing Insights --------------------------------------------------------------------------


def insights_path(simulator: Simulator, account: str, first: str, last: str) -> str:
    team = simulator.fleet(account).account_object()["team"]["uuid"]
    return f"/v2/billing/do:team:{team}/insights/{first}/{last}"


def test_insights_page_by_total_items(
    start_simulator: Callable[[SimulatorConfig], Simulator], connect: Connect
) -> None:
    spec = FleetSpec(
        seed=2, droplets=360, volumes=0, snapshots=0, reserved_ips=0, reserved_ipv6s=0,
        load_balancers=0, kubernetes_clusters=0, databases=0, apps=0, registry=False,
        cdn_endpoints=0, spaces_buckets=0,
    )
    simulator = start_simulator(
        SimulatorConfig(accounts=(SimAccount(name="acme", tokens=(READ_ONLY,), fleet=spec),))
    )
    client = connect(simulator, READ_ONLY)
    path = insights_path(simulator, "acme", "2026-11-17", "2026-11-17")
    seen: list[dict[str, Any]] = []
    for page in (1, 2, 3):
        body = client.get(path, params={"per_page": 200, "page": page}).json()
        assert set(body) == {"data_points", "total_items", "total_pages", "current_page"}
        assert (body["total_pages"], body["current_page"]) == (3, page)
        assert 450 < body["total_items"] <= 600
        assert len(body["data_points"]) == (200 if page < 3 else body["total_items"] - 400)
        seen += body["data_points"]
    assert len({p["description"] for p in seen}) == len(seen)
    default = client.get(path).json()
    assert len(default["data_points"]) == 20
    assert default["total_pages"] == -(-len(seen) // 20)
    assert client.get(path, params={"page": 4, "per_page": 200}).json()["data_points"] == []
    fleet = simulator.fleet("acme")
    day = fleet.ledger().day(date(2026, 11, 17), START)
    assert sum(D(p["total_amount"]) for p in seen) == cents(sum((c for _, c in day), D(0)))


def test_insights_days_add_up_to_the_day_and_the_month(
    generated: Simulator, connect: Connect, clock: ManualClock
) -> None:
    client = connect(generated, READ_ONLY)
    path = insights_path(generated, "gen", "2026-11-16", "2026-11-25")
    points = listing_insights(client, path)
    days = sorted({p["start_date"] for p in points})
    assert days == ["2026-11-16", "2026-11-17", "2026-11-18"]  # nothing after the clock
    for text in days:
        begin = int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())
        end = min(begin + DAY, int(clock.now) // HOUR * HOUR)  # insights follow the hour
        costs = costs_from_api(client, generated, "gen", NOV1, end)
        earlier = costs_from_api(client, generated, "gen", NOV1, begin)
        expected = total(costs) - total(earlier)
        served = [D(p["total_amount"]) for p in points if p["start_date"] == text]
        assert sum(served, D(0)) == cents(expected)
    # The days of the month so far add up to its month-to-date cost (unrounded, to Decimal's
    # 28 digits: monthly / 672 is not a finite decimal).
    ledger = generated.fleet("gen").ledger()
    day, so_far = date(2026, 11, 1), D(0)
    while day <= date(2026, 11, 18):
        so_far += sum((cost for _, cost in ledger.day(day, clock.now)), D(0))
        day += timedelta(days=1)
    assert abs(so_far - ledger.month_to_date(clock.now)) < D("1e-20")
    assert cents(so_far) == cents(ledger.month_to_date(clock.now))
    # One SKU per product and size.
    skus = {(p["sku"], p["description"].rsplit(" (", 1)[-1]) for p in points
            if p["sku"].startswith("1-DO-DROP-")}
    assert len(skus) > 1
    assert len({sku for sku, _ in skus}) == len({size for _, size in skus}) == len(skus)


def listing_insights(client: httpx.Client, path: str) -> list[dict[str, Any]]:
    points: list[dict[str, Any]] = []
    page = 1
    while True:
        body = client.get(path, params={"per_page": 200, "page": page}).json()
        points += body["data_points"]
        if page >= body["total_pages"]:
            return points
        page += 1


@pytest.mark.parametrize(
    ("first", "last", "status"),
    [
        ("2026-11-01", "2026-12-02", 200),  # 31 days after the start: allowed
        ("2026-11-01", "2026-12-03", 400),
        ("2026-11-18", "2026-11-17", 400),
        ("2026-11-1", "2026-11-17", 400),
        ("2026-02-30", "2026-03-01", 400),
        ("yesterday", "2026-11-17", 400),
    ],
)
def test_insights_dates_are_checked(
    generated: Simulator, connect: Connect, first: str, last: str, status: int
) -> None:
    response = connect(generated, READ_ONLY).get(insights_path(generated, "gen", first, last))
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["id"] == "bad_request"


def test_insights_answer_for_the_tokens_own_team_only(
    generated: Simulator, connect: Connect
) -> None:
    client = connect(generated, READ_ONLY)
    team = generated.fleet("gen").account_object()["team"]["uuid"]
    assert client.get(f"/v2/billing/do:team:{team}/insights/2026-11-17/2026-11-17").status_code == 200
    escaped = client.get(f"/v2/billing/do%3Ateam%3A{team}/insights/2026-11-17/2026-11-17")
    assert escaped.status_code == 200
    for urn in (f"do:team:{team[::-1]}", f"do:teamgroup:{team}", team, "do:team:"):
        response = client.get(f"/v2/billing/{urn}/insights/2026-11-17/2026-11-17")
        assert response.status_code == 404, urn
        assert response.json()["id"] == "not_found"


# -- the demo: spend above last month by consistency ------------------------------------------


def forecast(billing: Any, moment: int) -> tuple[Decimal, Decimal] | None:
    """(month-end forecast, last invoice) as the exporter computes the forecast."""
    balance = billing.balance(moment)
    generated = int(parse_time(balance["generated_at"]))
    elapsed = generated - month_start(generated)
    if elapsed < HOUR:
        return None
    projected = D(balance["month_to_date_usage"]) * month_seconds(generated) / elapsed
    invoices, _ = billing.invoices(moment)
    return projected, D(invoices[0]["amount"])


def clocks() -> Iterator[int]:
    """Hours across a year: month starts and ends, February, and days in between."""
    for month_first in (OCT1, NOV1, DEC1, FEB1_2027, 1_803_859_200, 1_811_808_000):
        for offset in (HOUR, HOUR + 59 * 60, 26 * HOUR, 9 * DAY, 27 * DAY + 23 * HOUR):
            yield month_first + offset
        yield month_first - 60  # the month before's last minute


def test_the_demo_heads_above_last_months_invoice_on_any_day() -> None:
    for seed in (0, 1):
        config = demo_config(seed)
        assert all(
            isinstance(a.fleet, FleetSpec) and a.fleet.month_to_date_usage is None
            and a.fleet.invoice_amounts is None
            for a in config.accounts
        )
        simulator = Simulator(config, clock=ManualClock())
        production = simulator.fleet("production").billing
        for moment in clocks():
            result = forecast(production, moment)
            assert result is not None
            projected, last = result
            assert projected > last * D("1.02"), (seed, iso(moment), projected, last)


def test_the_demo_bills_what_its_fleet_costs() -> None:
    simulator = Simulator(demo_config(0), clock=ManualClock())
    for account in ("production", "staging"):
        fleet = simulator.fleet(account)
        at = int(START) // HOUR * HOUR
        usage = fleet.billing.balance(START)["month_to_date_usage"]
        assert D(usage) == cents(fleet.ledger().month_to_date(at))
        unestimated = sum(
            (c.accrued(NOV1, at, at) for c in fleet.ledger().charges if not c.estimated), D(0)
        )
        assert unestimated < D(usage) * D("0.05")  # the Spaces subscription stays small


# -- pieces ------------------------------------------------------------------------------------


def test_apportion_rounds_to_cents_that_add_up() -> None:
    thirds = [D(1) / 3] * 3
    assert apportion(thirds) == [D("0.34"), D("0.33"), D("0.33")]
    assert sum(apportion(thirds)) == D("1.00")
    amounts = [D("0.004"), D("0.004"), D("0.004"), D("2.0049")]
    assert sum(apportion(amounts)) == cents(sum(amounts, D(0)))
    assert apportion([D(1), D(3)], D("10.00")) == [D("2.50"), D("7.50")]
    assert apportion([]) == []


def test_every_generated_database_size_is_priced_by_the_exporters_table() -> None:
    assert {size.slug for size in DATABASE_SIZES} <= set(PRICES.database_node_month)
    fleet = Fleet.generate(FleetSpec(seed=9, droplets=600, problems=None), "acme")
    databases = [d.as_json() for d in fleet.resources.objects("databases")]
    assert len(databases) == 12
    charges = [c for c in fleet.ledger().charges if c.product == "Database Clusters"]
    assert len(charges) == len(databases)
    added_gib_month = PRICES.amount("database_storage_gib_month") * 10  # 10 GiB added on some
    assert [d["storage_size_mib"] for d in databases] == [0, 0, 10240] * 4
    for database, charge in zip(databases, charges, strict=True):
        added = added_gib_month if database["storage_size_mib"] else 0
        assert charge.monthly == (
            PRICES.database_node_month[database["size"]] + added) * database["num_nodes"]


def test_kubernetes_nodes_are_billed_once_in_a_generated_fleet() -> None:
    fleet = Fleet.generate(FleetSpec(seed=4, droplets=250), "acme")
    clusters = [c.as_json() for c in fleet.resources.objects("kubernetes_clusters")]
    nodes = {int(n["droplet_id"]) for c in clusters for p in c["node_pools"] for n in p["nodes"]}
    assert nodes
    charges = fleet.ledger().charges
    droplet_names = {c.description.rsplit(" (", 1)[0] for c in charges if c.product == "Droplets"}
    node_names = {d.name for d in fleet.droplets if d.id in nodes}
    assert not droplet_names & node_names
    node_charges = [c for c in charges if c.product == "Kubernetes Clusters" and c.group
                    and "control plane" not in c.description]
    assert len(node_charges) == len(nodes)
    assert all(not d.backups for d in fleet.droplets if d.id in nodes)


def test_the_ledger_of_given_objects_prices_what_the_exporter_would() -> None:
    fleet = hand_fleet()
    ledger = build_ledger(
        droplets=fleet.droplets, volumes=fleet.volumes, resources=fleet.resources,
        droplet_exists=lambda droplet_id: fleet.find_droplet(droplet_id) is not None,
    )
    assert ledger.charges == fleet.ledger().charges
    assert len(ledger.charges) == len(HAND_MID)
    assert all(charge.estimated for charge in ledger.charges)


def test_load_balancers_registry_apps_and_ipv6_are_priced_by_the_table() -> None:
    created = "2026-01-01T00:00:00Z"
    fleet = Fleet.from_objects(
        load_balancers=[
            {"id": "lb-1", "name": "two", "size_unit": 2, "type": "REGIONAL", "created_at": created,
             "region": {"slug": "nyc3"}},
            {"id": "lb-2", "name": "global", "type": "GLOBAL", "created_at": created},
            {"id": "lb-3", "name": "legacy", "size": "lb-medium", "created_at": created},
        ],
        registry={"name": "reg", "created_at": created, "region": "fra1",
                  "subscription": {"tier": {"slug": "professional", "name": "Professional",
                                            "monthly_price_in_cents": 2000}}},
        apps=[{"id": "app-1", "created_at": created, "region": {"slug": "ams"},
               "spec": {"name": "web", "services": [
                   {"instance_size_slug": "apps-s-1vcpu-1gb", "instance_count": 2}]}}],
        reserved_ipv6s=[{"ip": "2604:a880::1", "region_slug": "nyc3", "droplet": None}],
    )
    monthly = {c.description: (c.product, c.monthly, c.estimated) for c in fleet.ledger().charges}
    assert monthly == {
        "two (2 nodes)": ("Load Balancers", D(24), True),
        "global (global)": ("Load Balancers", D(15), True),
        "legacy (3 nodes)": ("Load Balancers", D(36), True),
        "reg (Professional)": ("Container Registry", D(20), True),
        "web (apps-s-1vcpu-1gb x 2)": ("App Platform", D(24), True),
    }
    invoices, _ = fleet.billing.invoices(START)
    october = next(i for i in invoices if i["invoice_period"] == "2026-10")
    assert october["amount"] == "119.00"
