"""The shared FakeReader behaves as DigitalOceanClient does where collectors can tell."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.api import ApiError, ResponseError, ScopeMissingError, ServerError
from exporter.collectors.base import ResourceReader
from tests.collectors.fakes import FakeReader, Request, route


def reader_protocol(reader: ResourceReader) -> ResourceReader:
    return reader  # mypy checks that FakeReader is a ResourceReader


def test_routes_fill_the_path_and_sort_the_query() -> None:
    assert route("/v2/domains/{domain_name}/records", {"domain_name": "a b/c"}) == (
        "/v2/domains/a%20b%2Fc/records"
    )
    assert route("/v2/droplets", None, {"type": "gpus", "a": "1"}) == "/v2/droplets?a=1&type=gpus"


async def test_a_route_of_its_own_wins_over_the_template() -> None:
    reader = reader_protocol(FakeReader({
        "/v2/vpcs/{vpc_id}/members": {"members": [1]},
        "/v2/vpcs/special/members": {"members": [2]},
    }))
    assert await reader.list_all("/v2/vpcs/{vpc_id}/members", "members", path={"vpc_id": "x"}) == [1]
    assert await reader.list_all("/v2/vpcs/{vpc_id}/members", "members",
                                 path={"vpc_id": "special"}) == [2]


async def test_an_unknown_route_fails_the_test_naming_it() -> None:
    with pytest.raises(AssertionError, match=r"no answer for /v2/droplets\?type=gpus"):
        await FakeReader({"/v2/droplets": {"droplets": []}}).get("/v2/droplets", params={"type": "gpus"})


async def test_statuses_raise_what_the_client_raises() -> None:
    reader = FakeReader({"/v2/a": 403, "/v2/b": 500, "/v2/c": 404})
    with pytest.raises(ScopeMissingError) as forbidden:
        await reader.get("/v2/a")
    with pytest.raises(ServerError) as broken:
        await reader.list_all("/v2/b", "b")
    with pytest.raises(ApiError) as missing:
        await reader.get("/v2/c")
    assert [e.value.status for e in (forbidden, broken, missing)] == [403, 500, 404]
    assert str(forbidden.value) == "/v2/a: HTTP 403 forbidden: HTTP 403 from the fake"


async def test_none_for_404_only_where_asked() -> None:
    reader = FakeReader({"/v2/gone": 404, "/v2/broken": 500})
    assert await reader.get_or_none("/v2/gone") is None
    assert await reader.list_all("/v2/gone", "items", missing_ok=True) is None
    with pytest.raises(ApiError):
        await reader.list_all("/v2/gone", "items")
    with pytest.raises(ServerError):
        await reader.get_or_none("/v2/broken")
    with pytest.raises(ServerError):
        await reader.list_all("/v2/broken", "items", missing_ok=True)
    assert [r.method for r in reader.requests] == [
        "get_or_none", "list_all", "list_all", "get_or_none", "list_all",
    ]


async def test_parse_gets_each_page_with_its_start_like_the_client() -> None:
    seen: list[tuple[list[Any], int]] = []

    def parse(items: list[Any], start: int) -> list[Any]:
        seen.append((items, start))
        return [f"r{item}" for item in items]

    reader = FakeReader({"/v2/x": {"x": [1, 2, 3, 4, 5]}, "/v2/empty": {"x": []}}, page_size=2)
    assert await reader.list_all("/v2/x", "x", parse=parse) == ["r1", "r2", "r3", "r4", "r5"]
    assert seen == [([1, 2], 0), ([3, 4], 2), ([5], 4)]
    seen.clear()
    assert await reader.list_all("/v2/empty", "x", parse=parse) == []
    assert seen == [([], 0)]  # page 1 is parsed even when empty


async def test_shape_failures_are_the_clients() -> None:
    reader = FakeReader({"/v2/x": {"other": []}})
    with pytest.raises(ResponseError, match=r"^/v2/x: page 1 has no 'x' list$"):
        await reader.list_all("/v2/x", "x")


async def test_answers_are_copies_and_requests_are_recorded() -> None:
    body = {"account": {"team": {"uuid": "t"}}}
    reader = FakeReader({"/v2/account": body})
    (await reader.get("/v2/account"))["account"]["team"] = None
    assert (await reader.get("/v2/account")) == body
    assert reader.requests == [Request("get", "/v2/account")] * 2
