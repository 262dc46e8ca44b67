"""What the endpoints serve: GPU separation, filters, volumes that agree, account and billing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from exporter.simulator import FleetSpec, Simulator, SimulatorConfig

from .conftest import DROPLETS_ONLY, READ_ONLY, START, account_config


def listing(client: httpx.Client, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every object of a paged listing, following `next` links."""
    objects: list[dict[str, Any]] = []
    response = client.get(path, params={"per_page": 200, **params})
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        objects += page[key]
        next_url = page["links"].get("pages", {}).get("next")
        if not next_url:
            return objects
        response = client.get(next_url)


@pytest.fixture
def fleet_simulator(start_simulator: Callable[[SimulatorConfig], Simulator]) -> Simulator:
    spec = FleetSpec(seed=11, droplets=240, gpu_droplets=4, volumes=30, unattached_volumes=6)
    return start_simulator(account_config(spec))


def test_gpu_droplets_are_listed_only_with_type_gpus(
    fleet_simulator: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    client = connect(fleet_simulator, READ_ONLY)
    regular = listing(client, "/v2/droplets", "droplets")
    explicit = listing(client, "/v2/droplets", "droplets", type="droplets")
    gpus = listing(client, "/v2/droplets", "droplets", type="gpus")
    assert len(regular) == 240
    assert explicit == regular
    assert len(gpus) == 4
    assert not {d["id"] for d in gpus} & {d["id"] for d in regular}
    assert all(d["size_slug"].startswith("gpu-") and "gpu_info" in d for d in gpus)
    assert not any(d["size_slug"].startswith("gpu-") or "gpu_info" in d for d in regular)


def test_tag_name_filters_the_default_list(
    fleet_simulator: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    client = connect(fleet_simulator, READ_ONLY)
    regular = listing(client, "/v2/droplets", "droplets")
    tagged = listing(client, "/v2/droplets", "droplets", tag_name="db")
    expected = [d["id"] for d in regular if "db" in d["tags"]]
    assert 0 < len(tagged) < len(regular)
    assert [d["id"] for d in tagged] == expected
    assert listing(client, "/v2/droplets", "droplets", tag_name="no-such-tag") == []


def test_tag_name_cannot_be_combined_with_type(
    fleet_simulator: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    response = connect(fleet_simulator, READ_ONLY).get(
        "/v2/droplets", params={"tag_name": "db", "type": "gpus"}
    )
    assert response.status_code == 400
    assert response.json()["id"] == "bad_request"


def test_tag_name_needs_tag_read(
    fleet_simulator: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    client = connect(fleet_simulator, DROPLETS_ONLY)
    assert client.get("/v2/droplets").status_code == 200
    response = client.get("/v2/droplets", params={"tag_name": "db"})
    assert response.status_code == 403
    assert response.json()["id"] == "forbidden"


def test_unknown_type_is_400(
    fleet_simulator: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    response = connect(fleet_simulator, READ_ONLY).get("/v2/droplets", params={"type": "vms"})
    assert response.status_code == 400


def test_name_filter_is_exact_and_case_insensitive(
    fleet_simulator: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    client = connect(fleet_simulator, READ_ONLY)
    name = fleet_simulator.fleet("acme").droplets[7].name
    found = listing(client, "/v2/droplets", "droplets", name=name.upper())
    assert [d["name"] for d in found] == [name]
    assert listing(client, "/v2/droplets", "droplets", name=name[:-1]) == []


def test_a_droplet_by_id_and_an_unknown_id(
    fleet_simulator: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    client = connect(fleet_simulator, READ_ONLY)
    gpu = fleet_simulator.fleet("acme").gpu_droplets[0]
    response = client.get(f"/v2/droplets/{gpu.id}")
    assert response.status_code == 200
    assert response.json() == {"droplet": gpu.as_json()}
    missing = client.get("/v2/droplets/1")
    assert missing.status_code == 404
    assert missing.json()["message"] == "The resource you were accessing could not be found."
    assert client.get("/v2/droplets/not-a-number").status_code == 404


def test_droplets_have_every_status_mostly_active_and_realistic_sizes(
    fleet_simulator: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    droplets = listing(connect(fleet_simulator, READ_ONLY), "/v2/droplets", "droplets")
    statuses = Counter(d["status"] for d in droplets)
    assert statuses == {"active": 224, "off": 12, "new": 2, "archive": 2}
    assert len({d["region"]["slug"] for d in droplets}) >= 5
    assert len({d["size_slug"] for d in droplets}) >= 5
    for droplet in droplets:
        size = droplet["size"]
        assert isinstance(size["price_monthly"], float)
        assert isinstance(size["price_hourly"], float)
        assert size["slug"] == droplet["size_slug"]
        assert (droplet["memory"], droplet["disk"]) == (size["memory"], size["disk"])
        assert droplet["vpc_uuid"]
        assert droplet["image"]["slug"]
        created = datetime.fromisoformat(droplet["created_at"].replace("Z", "+00:00"))
        assert created.timestamp() < START
    new = [d for d in droplets if d["status"] == "new"]
    assert min(d["created_at"] for d in new) > max(
        d["created_at"] for d in droplets if d["status"] != "new"
    ), "new Droplets are the most recently created"


def test_volumes_and_droplets_agree_on_attachments(
    fleet_simulator: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    client = connect(fleet_simulator, READ_ONLY)
    droplets = {d["id"]: d for d in listing(client, "/v2/droplets", "droplets")}
    volumes = listing(client, "/v2/volumes", "volumes")
    assert len(volumes) == 30
    assert sum(1 for v in volumes if not v["droplet_ids"]) == 6
    attached_from_volumes = {(v["id"], v["droplet_ids"][0]) for v in volumes if v["droplet_ids"]}
    attached_from_droplets = {(vid, d["id"]) for d in droplets.values() for vid in d["volume_ids"]}
    assert attached_from_volumes == attached_from_droplets
    for volume_id, droplet_id in attached_from_volumes:
        volume = next(v for v in volumes if v["id"] == volume_id)
        assert volume["region"]["slug"] == droplets[droplet_id]["region"]["slug"]


def test_volume_filters(fleet_simulator: Simulator, connect: Callable[..., httpx.Client]) -> None:
    client = connect(fleet_simulator, READ_ONLY)
    volumes = listing(client, "/v2/volumes", "volumes")
    region = volumes[0]["region"]["slug"]
    by_region = listing(client, "/v2/volumes", "volumes", region=region)
    assert by_region == [v for v in volumes if v["region"]["slug"] == region]
    by_name = listing(client, "/v2/volumes", "volumes", name=volumes[3]["name"])
    assert by_name == [volumes[3]]


def test_account_object(acme: Simulator, connect: Callable[..., httpx.Client]) -> None:
    account = connect(acme, READ_ONLY).get("/v2/account").json()["account"]
    assert account["status"] == "active"
    assert account["team"] == {"uuid": account["team"]["uuid"], "name": "Acme"}
    assert len(account["team"]["uuid"]) == 40
    assert account["droplet_limit"] == 75
    assert (account["floating_ip_limit"], account["reserved_ip_limit"]) == (3, 3)
    assert account["volume_limit"] == 100
    assert account["email_verified"] is True


def test_balance_money_is_strings_and_follows_the_clock(
    start_simulator: Callable[[SimulatorConfig], Simulator], connect: Callable[..., httpx.Client]
) -> None:
    spec = FleetSpec(seed=3, droplets=45, account_balance="-10.00")
    simulator = start_simulator(account_config(spec))
    balance = connect(simulator, READ_ONLY).get("/v2/customers/my/balance").json()
    fleet = simulator.fleet("acme")
    now = datetime.fromtimestamp(START, UTC)
    hours = (now - now.replace(day=1, hour=0, minute=0, second=0)).total_seconds() // 3600
    usage = (fleet.hourly_run_rate() * Decimal(int(hours))).quantize(Decimal("0.01"))
    assert balance == {
        "month_to_date_balance": str(usage - 10),
        "account_balance": "-10.00",
        "month_to_date_usage": str(usage),
        "generated_at": "2026-11-18T11:00:00Z",
    }


def test_invoices_are_the_past_14_months_newest_first_plus_a_preview(
    acme: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    page = connect(acme, READ_ONLY).get("/v2/customers/my/invoices", params={"per_page": 20}).json()
    periods = [invoice["invoice_period"] for invoice in page["invoices"]]
    assert periods[:3] == ["2026-10", "2026-09", "2026-08"]
    assert periods[-1] == "2025-09"
    assert len(periods) == 14
    for invoice in page["invoices"]:
        assert set(invoice) == {"invoice_uuid", "invoice_id", "amount", "invoice_period"}
        assert Decimal(invoice["amount"]) > 0
        assert invoice["amount"] == f"{Decimal(invoice['amount']):.2f}"
    preview = page["invoice_preview"]
    assert preview["invoice_period"] == "2026-11"
    assert preview["updated_at"] == "2026-11-18T11:00:00Z"
    balance = connect(acme, READ_ONLY).get("/v2/customers/my/balance").json()
    assert preview["amount"] == balance["month_to_date_usage"]
