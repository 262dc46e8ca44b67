"""SaaS add-ons against an answer built from the full description's property examples (it has
no example answer): one unpaged request, exact series, the state set, the plan price, shape
errors, no configuration value kept, and a 403 that disables only this collector."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

import pytest

from exporter.collectors import addons
from exporter.collectors.base import PollContext, Selection
from exporter.collectors.fields import ShapeError
from exporter.exposition import encode_collector
from exporter.simulator import Fleet
from tests.collectors.fakes import FakeReader
from tests.collectors.simulated_poll import assert_403_disables_only, simulated_poller
from tests.conftest import captured_logs, full_spec, response_example

ENDPOINT = "/v2/add-ons/saas"
RESOURCE = "123e4567-e89b-12d3-a456-426614174000"
API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"  # a configuration value an add-on may hand over


def example_body() -> Any:
    return response_example(ENDPOINT)


async def test_one_unpaged_request_and_the_values_of_the_example() -> None:
    reader = FakeReader({ENDPOINT: example_body()})
    records = await addons.fetch(reader)
    # the operation takes no page or per_page: list_all (which pages) would be a mistake here
    assert [(r.method, r.endpoint, r.params) for r in reader.requests] == [("get", ENDPOINT, {})]
    key = (RESOURCE,)
    assert list(addons.samples(records)) == [
        ("digitalocean_addon_info", (*key, "my-resource-01", "example_app", "basic_plan"), 1),
        *[("digitalocean_addon_status", (*key, state), int(state == "provisioned"))
          for state in addons.STATES],
        ("digitalocean_addon_price_monthly_usd", key, 10.0),
    ]
    assert records[0].price_monthly_usd == Decimal(10)


def test_lenient_fields_an_unknown_state_and_an_unreadable_price() -> None:
    records = addons.parse_addons({"resources": [
        {"uuid": "b", "state": "ARCHIVED", "plan_price_per_month": "ten"},
        {"uuid": "a", "plan_price_per_month": None},
        {"uuid": "c", "plan_price_per_month": -5},
    ]})
    assert [r.addon_id for r in records] == ["a", "b", "c"]
    assert [r.price_monthly_usd for r in records] == [None, None, None]
    status = [(labels[1], v) for name, labels, v in addons.samples(records[1:2])
              if name == "digitalocean_addon_status"]
    assert status[-1] == ("archived", 1)
    assert not any(name.endswith("_price_monthly_usd") for name, _, _ in addons.samples(records))


def test_null_list_is_no_add_ons_and_a_missing_one_is_an_error() -> None:
    assert addons.parse_addons({"resources": None}) == ()
    assert addons.parse_addons({"resources": []}) == ()
    with pytest.raises(ShapeError) as caught:
        addons.parse_addons({"id": "not_found", "message": "proxy page"})
    assert str(caught.value) == "/v2/add-ons/saas resources: missing from the response"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"resources": [{"name": "x"}]},
         "/v2/add-ons/saas resources[0].uuid: expected a non-empty string, got null"),
        ({"resources": [{"uuid": "a"}, 3]},
         "/v2/add-ons/saas resources[1]: expected an object, got the number 3"),
        ({"resources": "all"}, "/v2/add-ons/saas resources: expected a list, got the string 'all'"),
    ],
)
def test_shape_errors_name_the_place(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        addons.parse_addons(body)
    assert str(caught.value) == message


def with_configuration(body: Any) -> Any:
    for resource in body["resources"]:
        resource["metadata"] = [{"name": "API_KEY", "value": API_KEY}]
        resource["sso_url"] = f"https://example.com/sso?token={API_KEY}"
    return body


async def test_configuration_values_reach_no_record_series_log_line_or_error() -> None:
    records = await addons.fetch(FakeReader({ENDPOINT: with_configuration(example_body())}))
    assert API_KEY not in repr(records)
    rendered = b"".join(encode_collector("production", addons.COLLECTOR, records).values())
    assert RESOURCE.encode() in rendered
    assert API_KEY.encode() not in rendered
    broken = with_configuration(example_body())
    broken["resources"].append({"name": "no id", "metadata": [{"name": "API_KEY", "value": API_KEY}]})
    fleets = [Fleet.from_objects(addons=body["resources"])
              for body in (with_configuration(example_body()), broken)]
    assert API_KEY.encode() in fleets[0].resources.objects("addons")[0].render(0.0)
    with captured_logs("debug") as (stream, _):
        results = []
        for fleet in fleets:
            async with simulated_poller([addons.COLLECTOR], ["addon:read"], fleet) as (poller, account):
                results.append(await poller.poll_once(account, addons.COLLECTOR))
        logged = stream.getvalue()
    ok, failed = results
    assert ok.ok
    assert ok.fragment is not None
    assert API_KEY.encode() not in b"".join(ok.fragment.values())
    assert not failed.ok
    assert "resources[1].uuid" in str(failed.error)
    assert API_KEY not in str(failed.error)
    assert "resources[1].uuid" in logged
    assert API_KEY not in logged


def test_collector_contract() -> None:
    c = addons.COLLECTOR
    assert (c.name, c.scope, c.interval, c.endpoints, c.paged, c.id_label) == (
        "addons", "addon:read", 900.0, (ENDPOINT,), None, "addon_id")
    operation = full_spec()["paths"][ENDPOINT]["get"]
    assert operation["security"] == [{"bearer_auth": [c.scope]}]
    assert "page" not in {p["name"] for p in operation.get("parameters", [])}  # not paged
    item = (operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
            ["resources"]["items"]["properties"])
    assert tuple(item["state"]["enum"]) == addons.STATES
    assert item["plan_price_per_month"]["type"] == "integer"
    for family in c.families:
        assert family.name.startswith("digitalocean_addon_")
        assert family.help.endswith(", polled from /v2/add-ons/saas."), family.help
    labels = {f.name: len(f.labels) for f in c.families}
    emitted = list(addons.samples(addons.parse_addons(example_body())))
    assert {name for name, _, _ in emitted} == set(labels)
    assert all(len(values) == labels[name] for name, values, _ in emitted)


async def test_a_403_disables_only_this_collector(log_stream: io.StringIO) -> None:
    await assert_403_disables_only(addons.COLLECTOR, log_stream)


async def test_the_filter_keeps_what_it_names() -> None:
    reader = FakeReader({ENDPOINT: example_body()})
    c = addons.COLLECTOR
    assert c.filters == ("name", "id")
    kept = await c.collect(reader, PollContext(selection=Selection(name=re.compile("my-resource-.*"))))
    assert [r.addon_id for r in kept] == [RESOURCE]
    assert await c.collect(reader, PollContext(selection=Selection(ids=("other",)))) == ()
