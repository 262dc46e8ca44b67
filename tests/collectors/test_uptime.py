"""Uptime checks against the schema examples (the spec has no 200 example): regional up/down,
30-day uptime, previous outage; one state request per check."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.api import ApiError
from exporter.collectors import uptime
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader
from tests.conftest import schema_example, spec

STATE = "/v2/uptime/checks/{check_id}/state"
CHECK_ID = "5a4981aa-9653-4bd1-bef5-d6bff52042e4"

def example_check() -> dict[str, Any]:
    # the `check` schema is check_base plus check_updatable
    return {**schema_example("check_base"), **schema_example("check_updatable")}


def state_of(check_id: str) -> str:
    return f"/v2/uptime/checks/{check_id}/state"


async def test_values_from_the_schema_examples() -> None:
    reader = FakeReader({
        "/v2/uptime/checks": {"checks": [example_check()]},
        state_of(CHECK_ID): {"state": schema_example("state")},
    })
    records = await uptime.fetch(reader)
    assert [(r.method, r.endpoint, r.path) for r in reader.requests] == [
        ("list_all", "/v2/uptime/checks", {}),
        ("get_or_none", STATE, {"check_id": CHECK_ID}),
    ]
    key = (CHECK_ID,)
    per_region = []
    for region in ("eu_west", "us_east"):
        per_region += [
            ("digitalocean_uptime_check_status", (*key, region, "up"), 1),
            ("digitalocean_uptime_check_status", (*key, region, "down"), 0),
            ("digitalocean_uptime_check_status", (*key, region, "checking"), 0),
            ("digitalocean_uptime_check_up", (*key, region), 1),
            ("digitalocean_uptime_check_status_changed_timestamp_seconds", (*key, region), 1647556131.0),
            ("digitalocean_uptime_check_thirty_day_uptime_ratio", (*key, region), 0.9799),
        ]
    assert list(uptime.samples(records)) == [
        ("digitalocean_uptime_check_info",
         (*key, "Landing page check", "https", "https://www.landingpage.com", "true"), 1),
        *per_region,
        ("digitalocean_uptime_check_previous_outage_started_timestamp_seconds", key, 1647540295.0),
        ("digitalocean_uptime_check_previous_outage_ended_timestamp_seconds", key, 1647540415.0),
        ("digitalocean_uptime_check_previous_outage_duration_seconds", key, 120),
    ]


async def test_each_check_gets_its_own_state_and_a_deleted_one_is_skipped() -> None:
    reader = FakeReader({
        "/v2/uptime/checks": {"checks": [
            {"id": "c", "enabled": False}, {"id": "a"}, {"id": "b", "type": "ping"},
        ]},
        state_of("a"): {"state": {"regions": {"us_west": {"status": "DOWN"}}}},
        state_of("b"): 404,
        state_of("c"): {"state": {"regions": {"se_asia": {"status": "CHECKING"}}}},
    })
    records = await uptime.fetch(reader)
    assert [(r.uptime_check_id, r.enabled) for r in records] == [("a", ""), ("c", "false")]
    up = [(lab, v) for n, lab, v in uptime.samples(records) if n == "digitalocean_uptime_check_up"]
    # DOWN is 0; CHECKING has no up/down answer, so no sample
    assert up == [(("a", "us_west"), 0)]
    status = {lab: v for n, lab, v in uptime.samples(records)
              if n == "digitalocean_uptime_check_status" and v == 1}
    assert status == {("a", "us_west", "down"): 1, ("c", "se_asia", "checking"): 1}


async def test_other_state_errors_fail_the_poll() -> None:
    error = ApiError(f"{STATE}: HTTP 500", endpoint=STATE, status=500)
    reader = FakeReader({
        "/v2/uptime/checks": {"checks": [{"id": "a"}]},
        state_of("a"): error,
    })
    with pytest.raises(ApiError) as caught:
        await uptime.fetch(reader)
    assert caught.value is error


def test_unknown_and_missing_region_status_are_visible() -> None:
    state = uptime.parse_state({"state": {"regions": {"us_east": {"status": "DEGRADED"},
                                                      "eu_west": {}, "us_west": None}}})
    record = uptime.UptimeCheckRecord("a", "", "", "", "", state)
    status = {lab[1:]: v for n, lab, v in uptime.samples((record,))
              if n == "digitalocean_uptime_check_status" and v == 1}
    assert status == {("eu_west", "unknown"): 1, ("us_east", "degraded"): 1}
    assert not [n for n, _, _ in uptime.samples((record,)) if n == "digitalocean_uptime_check_up"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"state": None},
        {"state": {"regions": None, "previous_outage": None}},
        # a check that never failed: Go zero times and a zero duration
        {"state": {"regions": {}, "previous_outage": {
            "region": "", "started_at": "0001-01-01T00:00:00Z", "ended_at": "0001-01-01T00:00:00Z",
            "duration_seconds": 0}}},
    ],
)
def test_missing_state_leaves_only_info(body: dict[str, Any]) -> None:
    state = uptime.parse_state(body)
    assert state == uptime.CheckStateRecord((), None, None, None)
    record = uptime.UptimeCheckRecord("a", "n", "http", "http://example.com", "true", state)
    assert [n for n, _, _ in uptime.samples((record,))] == ["digitalocean_uptime_check_info"]


def test_ongoing_outage_has_no_end() -> None:
    state = uptime.parse_state({"state": {"previous_outage": {
        "started_at": "2022-03-17T18:04:55Z", "ended_at": "0001-01-01T00:00:00Z", "duration_seconds": 0}}})
    assert state == uptime.CheckStateRecord((), 1647540295.0, None, 0)


@pytest.mark.parametrize(
    ("target", "label"),
    [
        ("https://www.landingpage.com", "https://www.landingpage.com"),
        ("https://user:secret@example.com:8443/health?token=abc#top", "https://example.com:8443/health"),
        ("192.0.2.1", "192.0.2.1"),
        ("user:secret@host.example", "host.example"),
        ("http://[::1", ""),
    ],
)
def test_target_loses_credentials_query_and_fragment(target: str, label: str) -> None:
    [record] = uptime.parse_checks([{"id": "a", "target": target}])
    assert record.target == label


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"name": "x"}], "/v2/uptime/checks checks[0].id: expected a non-empty string, got null"),
        ([{"id": "a"}, []], "/v2/uptime/checks checks[1]: expected an object, got a list"),
    ],
)
def test_shape_errors_name_the_place(items: Any, message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        uptime.parse_checks(items)
    assert str(caught.value) == message


def test_collector_contract() -> None:
    c = uptime.COLLECTOR
    assert (c.name, c.scope, c.interval) == ("uptime", "uptime:read", 300.0)
    for endpoint in c.endpoints:
        assert spec()["paths"][endpoint]["get"]["security"] == [{"bearer_auth": [c.scope]}]
    region_statuses = spec()["components"]["schemas"]["region_state"]["properties"]["status"]["enum"]
    assert sorted(region_statuses) == sorted(uptime.STATUSES)
    for family in c.families:
        assert family.name.startswith("digitalocean_uptime_check_")
        assert any(family.help.endswith(f", polled from {e}.") for e in c.endpoints), family.help
        assert '"' not in family.help
        assert "\\" not in family.help
    labels = {f.name: len(f.labels) for f in c.families}
    record = uptime.UptimeCheckRecord(
        "a", "n", "http", "http://x", "true", uptime.parse_state({"state": schema_example("state")})
    )
    emitted = list(uptime.samples((record,)))
    assert {name for name, _, _ in emitted} == set(labels)
    assert all(len(values) == labels[name] for name, values, _ in emitted)
