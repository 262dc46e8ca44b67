"""Paging exactly like DigitalOcean: page sizes, absolute links, totals, past the end, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from exporter.simulator import FleetSpec, Simulator, SimulatorConfig

from .conftest import READ_ONLY, account_config


def body(client: httpx.Client, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def all_ids(simulator: Simulator) -> list[int]:
    return [int(d.id) for d in simulator.fleet("acme").droplets]


def test_default_page_is_20_with_next_and_last_links(
    acme: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    page = body(connect(acme, READ_ONLY), "/v2/droplets")
    assert [d["id"] for d in page["droplets"]] == all_ids(acme)[:20]
    assert page["meta"] == {"total": 45}
    assert page["links"] == {
        "pages": {
            "next": f"{acme.url}/v2/droplets?page=2",
            "last": f"{acme.url}/v2/droplets?page=3",
        }
    }


def test_middle_page_links_every_direction(
    acme: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    page = body(connect(acme, READ_ONLY), "/v2/droplets", page=2, per_page=10)
    assert [d["id"] for d in page["droplets"]] == all_ids(acme)[10:20]
    assert page["links"]["pages"] == {
        "first": f"{acme.url}/v2/droplets?page=1&per_page=10",
        "prev": f"{acme.url}/v2/droplets?page=1&per_page=10",
        "next": f"{acme.url}/v2/droplets?page=3&per_page=10",
        "last": f"{acme.url}/v2/droplets?page=5&per_page=10",
    }


def test_last_page_links_only_backwards(
    acme: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    page = body(connect(acme, READ_ONLY), "/v2/droplets", page=3)
    assert [d["id"] for d in page["droplets"]] == all_ids(acme)[40:45]
    assert page["links"]["pages"] == {
        "first": f"{acme.url}/v2/droplets?page=1",
        "prev": f"{acme.url}/v2/droplets?page=2",
    }


def test_page_past_the_end_is_empty_with_the_real_total(
    acme: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    page = body(connect(acme, READ_ONLY), "/v2/droplets", page=9)
    assert page["droplets"] == []
    assert page["meta"] == {"total": 45}
    assert page["links"]["pages"] == {
        "first": f"{acme.url}/v2/droplets?page=1",
        "prev": f"{acme.url}/v2/droplets?page=8",
    }


def test_per_page_above_200_is_served_as_200(
    start_simulator: Callable[[SimulatorConfig], Simulator], connect: Callable[..., httpx.Client]
) -> None:
    simulator = start_simulator(account_config(FleetSpec(seed=5, droplets=450)))
    page = body(connect(simulator, READ_ONLY), "/v2/droplets", per_page=500)
    assert len(page["droplets"]) == 200
    assert page["links"]["pages"] == {
        "next": f"{simulator.url}/v2/droplets?page=2&per_page=200",
        "last": f"{simulator.url}/v2/droplets?page=3&per_page=200",
    }


def test_a_single_page_has_empty_links(
    acme: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    page = body(connect(acme, READ_ONLY), "/v2/droplets", per_page=200)
    assert len(page["droplets"]) == 45
    assert page["links"] == {}


def test_an_empty_fleet_lists_nothing(
    start_simulator: Callable[[SimulatorConfig], Simulator], connect: Callable[..., httpx.Client]
) -> None:
    simulator = start_simulator(account_config(FleetSpec(seed=5, droplets=0)))
    client = connect(simulator, READ_ONLY)
    assert body(client, "/v2/droplets") == {"droplets": [], "links": {}, "meta": {"total": 0}}
    assert body(client, "/v2/volumes") == {"volumes": [], "links": {}, "meta": {"total": 0}}
    assert body(client, "/v2/droplets", type="gpus") == {
        "droplets": [],
        "links": {},
        "meta": {"total": 0},
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("page", "0"),
        ("page", "-1"),
        ("page", "two"),
        ("page", ""),
        ("per_page", "0"),
        ("per_page", "1.5"),
        ("per_page", "lots"),
    ],
)
def test_invalid_paging_values_are_400(
    acme: Simulator, connect: Callable[..., httpx.Client], name: str, value: str
) -> None:
    response = connect(acme, READ_ONLY).get("/v2/droplets", params={name: value})
    assert response.status_code == 400
    error = response.json()
    assert error["id"] == "bad_request"
    assert name in error["message"]
    assert error["request_id"] == response.headers["x-request-id"]


def test_links_keep_the_other_query_parameters(
    start_simulator: Callable[[SimulatorConfig], Simulator], connect: Callable[..., httpx.Client]
) -> None:
    simulator = start_simulator(account_config(FleetSpec(seed=5, droplets=3, gpu_droplets=3)))
    page = body(connect(simulator, READ_ONLY), "/v2/droplets", type="gpus", per_page=1)
    assert (
        page["links"]["pages"]["next"] == f"{simulator.url}/v2/droplets?type=gpus&page=2&per_page=1"
    )


def test_links_are_built_from_the_host_header(
    acme: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    client = connect(acme, READ_ONLY, headers={"Host": "api.simulated.test:8443"})
    page = body(client, "/v2/droplets")
    assert page["links"]["pages"]["next"] == "http://api.simulated.test:8443/v2/droplets?page=2"


def test_following_next_links_visits_every_droplet_once(
    acme: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    client = connect(acme, READ_ONLY)
    seen: list[int] = []
    url: str | None = f"{acme.url}/v2/droplets?per_page=7"
    while url:
        page = client.get(url).json()
        seen += [d["id"] for d in page["droplets"]]
        url = page["links"].get("pages", {}).get("next")
    assert seen == all_ids(acme)
    assert acme.requests.count(endpoint="/v2/droplets") == 7


def test_invoices_are_paged_and_every_page_has_the_preview(
    acme: Simulator, connect: Callable[..., httpx.Client]
) -> None:
    client = connect(acme, READ_ONLY)
    first = body(client, "/v2/customers/my/invoices", per_page=10)
    second = body(client, "/v2/customers/my/invoices", per_page=10, page=2)
    assert len(first["invoices"]) == 10
    assert len(second["invoices"]) == 4
    assert first["meta"] == second["meta"] == {"total": 14}
    assert first["invoice_preview"] == second["invoice_preview"]
    assert (
        first["links"]["pages"]["next"] == f"{acme.url}/v2/customers/my/invoices?page=2&per_page=10"
    )
