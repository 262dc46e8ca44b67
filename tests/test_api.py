"""The API client against respx: paging, rate limits, retries, errors, and no token in any error."""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import msgspec
import pytest
import respx

from exporter.api import (
    MAX_CONNECTIONS,
    AccountApi,
    ApiError,
    DigitalOceanClient,
    RateLimitedError,
    ResponseError,
    ScopeMissingError,
    ServerError,
    TokenRejectedError,
    TransportError,
)
from exporter.budget import RequestBudget
from exporter.collectors.typed import TypedPages
from tests.conftest import READ_TOKEN, FakeClock

API = "https://api.digitalocean.com"
AUTH = "https://cloud.digitalocean.com"


class RecordingObserver:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def observe(self, account: str, endpoint: str, code: str, seconds: float) -> None:
        self.calls.append((account, endpoint, code))


@pytest.fixture
def observer() -> RecordingObserver:
    return RecordingObserver()


@pytest.fixture
async def api(clock: FakeClock, observer: RecordingObserver) -> AsyncIterator[AccountApi]:
    client = DigitalOceanClient(
        api_url=API,
        auth_url=AUTH,
        timeout=10,
        user_agent="digitalocean-exporter/test",
        observer=observer,
        clock=clock,
        rng=random.Random(7),
    )
    yield client.account("production", lambda: READ_TOKEN, RequestBudget(4000, clock))
    await client.aclose()


def droplets(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "name": f"d{i}"} for i in range(1, n + 1)]


def pager(
    items: list[dict[str, Any]], key: str, *, total: bool = True, links: bool = True
) -> Callable[[httpx.Request], httpx.Response]:
    """Answers like DigitalOcean: page/per_page (max 200), links.pages and meta.total."""

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        per_page = min(int(request.url.params.get("per_page", "20")), 200)
        last = max(1, math.ceil(len(items) / per_page))
        body: dict[str, Any] = {key: items[(page - 1) * per_page: page * per_page]}
        if links:
            pages = {}
            if page < last:
                pages["next"] = f"{API}{request.url.path}?page={page + 1}&per_page={per_page}"
                pages["last"] = f"{API}{request.url.path}?page={last}&per_page={per_page}"
            body["links"] = {"pages": pages} if pages else {}
        if total:
            body["meta"] = {"total": len(items)}
        return httpx.Response(200, json=body, headers={"ratelimit-remaining": "4000"})

    return answer


@respx.mock
async def test_450_droplets_cost_exactly_3_requests(api: AccountApi) -> None:
    route = respx.get(f"{API}/v2/droplets").mock(side_effect=pager(droplets(450), "droplets"))
    items = await api.list_all("/v2/droplets", "droplets")
    assert [d["id"] for d in items] == list(range(1, 451))
    assert route.call_count == 3
    pages = sorted(int(c.request.url.params["page"]) for c in route.calls)
    assert pages == [1, 2, 3]
    assert {c.request.url.params["per_page"] for c in route.calls} == {"200"}


@pytest.mark.parametrize("total", [True, False])
@respx.mock
async def test_pages_are_parsed_as_they_arrive_with_their_place_in_the_list(
    api: AccountApi, total: bool
) -> None:
    """`parse` gets each page's items once, with the index of its first item (concurrent pages
    by meta.total, or `next` links one after another), and the records come back in order."""
    respx.get(f"{API}/v2/droplets").mock(side_effect=pager(droplets(450), "droplets", total=total))
    seen: list[tuple[int, int]] = []

    def parse(items: list[Any], start: int) -> list[Any]:
        seen.append((start, len(items)))
        return [(start + offset, d["id"]) for offset, d in enumerate(items)]

    records = await api.list_all("/v2/droplets", "droplets", parse=parse)
    assert records == [(i - 1, i) for i in range(1, 451)]
    assert sorted(seen) == [(0, 200), (200, 200), (400, 50)]


class RecordingLists:
    def __init__(self) -> None:
        self.dropped: list[tuple[str, str, int]] = []

    def dropped_duplicates(self, account: str, endpoint: str, count: int) -> None:
        self.dropped.append((account, endpoint, count))


def shifting(
    items: list[dict[str, Any]], key: str, arrivals: int
) -> Callable[[httpx.Request], httpx.Response]:
    """A newest-first list to which `arrivals` objects are added right after page 1 is served:
    every later page shifts by `arrivals`, so the last items of page 1 come again."""
    current = list(items)
    answer = pager(current, key)

    def shifted(request: httpx.Request) -> httpx.Response:
        response = answer(request)
        if request.url.params.get("page") == "1":
            current[:0] = [{"id": 10_000 + n, "name": "new"} for n in range(arrivals)]
        return response

    return shifted


@respx.mock
async def test_a_list_that_shifts_while_paged_loses_its_repeats_counted_once(clock: FakeClock) -> None:
    lists = RecordingLists()
    client = DigitalOceanClient(api_url=API, auth_url=AUTH, timeout=10, user_agent="t",
                                observer=RecordingObserver(), clock=clock, lists=lists)
    api = client.account("production", lambda: READ_TOKEN, RequestBudget(4000, clock))
    route = respx.get(f"{API}/v2/droplets").mock(side_effect=shifting(droplets(450), "droplets", 3))
    parsed: list[tuple[int, list[int]]] = []

    def parse(items: list[Any], start: int) -> list[Any]:
        parsed.append((start, [d["id"] for d in items]))
        return [d["id"] for d in items]

    ids = await api.list_all("/v2/droplets", "droplets", parse=parse)
    await client.aclose()
    # page 2 begins with 198, 199, 200 again (page 1 ended with them): dropped before parsing,
    # and the rest of page 2 is parsed with its own place in the list
    assert ids == list(range(1, 451))
    assert route.call_count == 3  # meta.total 450 at page 1: the arrivals cost no extra page
    assert sorted((start, len(items)) for start, items in parsed) == [(0, 200), (203, 197), (400, 53)]
    # page 3 shifted by 3 too (ids 398-450), but nothing on it was listed before
    assert lists.dropped == [("production", "/v2/droplets", 3)]


@respx.mock
async def test_items_without_the_id_key_or_with_id_key_none_are_all_kept(api: AccountApi) -> None:
    repeated: list[dict[str, Any]] = [
        {"id": 1}, {"id": 1}, {"name": "x"}, {"name": "x"}, {"id": True}, {"id": True}]
    respx.get(f"{API}/v2/things").mock(side_effect=pager(repeated, "things"))
    assert await api.list_all("/v2/things", "things") == [
        {"id": 1}, {"name": "x"}, {"name": "x"}, {"id": True}, {"id": True}]
    assert await api.list_all("/v2/things", "things", id_key=None) == repeated
    by_name = await api.list_all("/v2/things", "things", id_key="name")
    assert by_name == [{"id": 1}, {"id": 1}, {"name": "x"}, {"id": True}, {"id": True}]


class Thing(msgspec.Struct):
    id: int
    name: str


def typed_things(seen: list[tuple[int, str]]) -> TypedPages[Thing, tuple[str, int]]:
    """A parser that decodes its pages into Things; it notes how each page came (typed or as
    dicts) and where it starts."""
    def typed(item: Thing) -> tuple[str, int]:
        return "typed", item.id

    def plain(items: list[Any], start: int) -> list[tuple[str, int]]:
        seen.append((start, "plain"))
        return [("plain", d["id"]) for d in items]

    class Noting(TypedPages[Thing, tuple[str, int]]):
        def __call__(self, items: list[Any], start: int) -> list[tuple[str, int]]:
            if items and isinstance(items[0], Thing):
                seen.append((start, "typed"))
            return super().__call__(items, start)

    return Noting("droplets", Thing, typed, plain)


@respx.mock
async def test_a_typed_parser_decodes_the_pages_and_repeats_are_dropped_by_id(
    clock: FakeClock
) -> None:
    """Struct items have their id as an attribute: the repeats of a list that shifted while it
    was paged are dropped and counted as with plain JSON."""
    lists = RecordingLists()
    client = DigitalOceanClient(api_url=API, auth_url=AUTH, timeout=10, user_agent="t",
                                observer=RecordingObserver(), clock=clock, lists=lists)
    api = client.account("production", lambda: READ_TOKEN, RequestBudget(4000, clock))
    respx.get(f"{API}/v2/droplets").mock(side_effect=shifting(droplets(450), "droplets", 3))
    seen: list[tuple[int, str]] = []
    records = await api.list_all("/v2/droplets", "droplets", parse=typed_things(seen))
    await client.aclose()
    assert records == [("typed", i) for i in range(1, 451)]
    assert sorted(seen) == [(0, "typed"), (203, "typed"), (400, "typed")]
    assert lists.dropped == [("production", "/v2/droplets", 3)]


@respx.mock
async def test_a_page_the_typed_parser_cannot_decode_is_read_as_plain_json(api: AccountApi) -> None:
    """Page 2 holds a name that is not a string: that page alone comes as dicts, to the
    collector's dict parser, in its place in the list."""
    items = droplets(450)
    items[300]["name"] = 5
    respx.get(f"{API}/v2/droplets").mock(side_effect=pager(items, "droplets"))
    seen: list[tuple[int, str]] = []
    records = await api.list_all("/v2/droplets", "droplets", parse=typed_things(seen))
    assert sorted(seen) == [(0, "typed"), (200, "plain"), (400, "typed")]
    assert records == [("typed" if not 200 <= i < 400 else "plain", i + 1) for i in range(450)]


@respx.mock
async def test_a_page_that_fails_to_parse_fails_the_whole_list(api: AccountApi) -> None:
    respx.get(f"{API}/v2/droplets").mock(side_effect=pager(droplets(450), "droplets"))

    def parse(items: list[Any], start: int) -> list[Any]:
        if start == 200:
            raise ValueError("page 2 is broken")
        return items

    with pytest.raises(ValueError, match="page 2 is broken"):
        await api.list_all("/v2/droplets", "droplets", parse=parse)


@respx.mock
async def test_requests_carry_bearer_token_user_agent_and_filters(api: AccountApi) -> None:
    route = respx.get(f"{API}/v2/droplets").mock(side_effect=pager(droplets(3), "droplets"))
    await api.list_all("/v2/droplets", "droplets", params={"type": "gpus"})
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {READ_TOKEN}"
    assert request.headers["User-Agent"] == "digitalocean-exporter/test"
    assert request.url.params["type"] == "gpus"


@pytest.mark.parametrize("links", [None, {}, {"pages": {}}])
@respx.mock
async def test_links_absent_or_empty_means_one_page(api: AccountApi, links: object) -> None:
    body: dict[str, Any] = {"volumes": [{"id": "v1"}], "meta": {"total": 1}}
    if links is not None:
        body["links"] = links
    route = respx.get(f"{API}/v2/volumes").mock(return_value=httpx.Response(200, json=body))
    assert await api.list_all("/v2/volumes", "volumes") == [{"id": "v1"}]
    assert route.call_count == 1


@respx.mock
async def test_without_meta_total_next_links_are_followed(api: AccountApi) -> None:
    route = respx.get(f"{API}/v2/customers/my/billing_history").mock(
        side_effect=pager(droplets(401), "billing_history", total=False)
    )
    items = await api.list_all("/v2/customers/my/billing_history", "billing_history")
    assert len(items) == 401
    assert route.call_count == 3


@respx.mock
async def test_next_link_to_another_host_is_requested_from_the_configured_api(
    api: AccountApi,
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] == "1":
            return httpx.Response(200, json={
                "droplets": [{"id": 1}],
                "links": {"pages": {"next": "https://evil.example/v2/droplets?page=2"}},
            })
        return httpx.Response(200, json={"droplets": [{"id": 2}], "links": {}})

    route = respx.get(f"{API}/v2/droplets").mock(side_effect=answer)
    assert [d["id"] for d in await api.list_all("/v2/droplets", "droplets")] == [1, 2]
    assert {c.request.url.host for c in route.calls} == {"api.digitalocean.com"}


@respx.mock
async def test_billing_insights_paging_by_total_items(api: AccountApi) -> None:
    points = [{"sku": f"s{i}"} for i in range(450)]

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json={
            "data_points": points[(page - 1) * 200: page * 200], "total_items": 450,
            "total_pages": 3, "current_page": page,
        })

    route = respx.get(url__regex=rf"{API}/v2/billing/.*/insights/.*").mock(side_effect=answer)
    items = await api.list_all("/v2/billing/{account_urn}/insights/{start_date}/{end_date}",
                               "data_points", path={"account_urn": "do:team:x",
                                                    "start_date": "2026-11-26",
                                                    "end_date": "2026-11-27"})
    assert len(items) == 450
    assert route.call_count == 3
    assert route.calls.last.request.url.path == "/v2/billing/do:team:x/insights/2026-11-26/2026-11-27"


@respx.mock
async def test_vector_databases_paging_by_a_top_level_total(api: AccountApi) -> None:
    """`/v2/vector-databases` answers `vector_dbs` and `total`, with no `meta` and no `links`
    (the full description): the total alone pages it, ceil(450/200) requests."""
    dbs = [{"id": f"v{i}"} for i in range(450)]

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json={"vector_dbs": dbs[(page - 1) * 200: page * 200],
                                         "total": 450})

    route = respx.get(f"{API}/v2/vector-databases").mock(side_effect=answer)
    items = await api.list_all("/v2/vector-databases", "vector_dbs")
    assert [d["id"] for d in items] == [d["id"] for d in dbs]
    assert route.call_count == 3


@respx.mock
async def test_server_page_size_below_200_still_fetches_every_page(api: AccountApi) -> None:
    items = droplets(250)

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json={
            "droplets": items[(page - 1) * 100: page * 100], "meta": {"total": 250}, "links": {},
        })

    route = respx.get(f"{API}/v2/droplets").mock(side_effect=answer)
    assert len(await api.list_all("/v2/droplets", "droplets")) == 250
    assert route.call_count == 3


@respx.mock
async def test_failure_on_page_3_of_5_gives_no_partial_list(api: AccountApi) -> None:
    ok = pager(droplets(1000), "droplets")

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] == "3":
            return httpx.Response(500, json={"id": "server_error", "message": "boom"})
        return ok(request)

    respx.get(f"{API}/v2/droplets").mock(side_effect=answer)
    with pytest.raises(ServerError) as caught:
        await api.list_all("/v2/droplets", "droplets")
    assert str(caught.value) == "/v2/droplets: HTTP 500 server_error: boom"


@respx.mock
async def test_429_waits_for_retry_after(api: AccountApi, clock: FakeClock) -> None:
    route = respx.get(f"{API}/v2/account").mock(side_effect=[
        httpx.Response(429, json={"id": "too_many_requests", "message": "API rate limit exceeded."},
                       headers={"retry-after": "7", "ratelimit-remaining": "1200",
                                "ratelimit-reset": str(int(clock.time()) + 3000)}),
        httpx.Response(200, json={"account": {}}),
    ])
    assert await api.get("/v2/account") == {"account": {}}
    assert route.call_count == 2
    assert clock.sleeps == [pytest.approx(7)]


@respx.mock
async def test_429_without_retry_after_waits_until_ratelimit_reset(
    api: AccountApi, clock: FakeClock
) -> None:
    reset = int(clock.time()) + 25
    respx.get(f"{API}/v2/account").mock(side_effect=[
        httpx.Response(429, json={"id": "too_many_requests", "message": "x"},
                       headers={"RateLimit-Reset": str(reset)}),
        httpx.Response(200, json={"account": {}}),
    ])
    await api.get("/v2/account")
    assert clock.sleeps == [pytest.approx(25)]


@respx.mock
async def test_429_wait_is_capped_and_gives_up_after_four_waits(
    api: AccountApi, clock: FakeClock
) -> None:
    route = respx.get(f"{API}/v2/account").mock(return_value=httpx.Response(
        429, json={"id": "too_many_requests", "message": "API rate limit exceeded."},
        headers={"retry-after": "3600"},
    ))
    with pytest.raises(RateLimitedError):
        await api.get("/v2/account")
    assert route.call_count == 5
    assert clock.sleeps == [pytest.approx(60)] * 4


@respx.mock
async def test_5xx_is_retried_with_capped_backoff(api: AccountApi, clock: FakeClock) -> None:
    route = respx.get(f"{API}/v2/account").mock(side_effect=[
        httpx.Response(503, text="<html>Service Unavailable</html>"),
        httpx.Response(502, json={"id": "bad_gateway", "message": "x"}),
        httpx.Response(200, json={"account": {"status": "active"}}),
    ])
    assert await api.get("/v2/account") == {"account": {"status": "active"}}
    assert route.call_count == 3
    assert len(clock.sleeps) == 2
    assert 0.25 <= clock.sleeps[0] <= 0.5
    assert 0.5 <= clock.sleeps[1] <= 1.0


@respx.mock
async def test_5xx_gives_up_after_three_attempts_naming_status_and_request_id(
    api: AccountApi,
) -> None:
    route = respx.get(f"{API}/v2/volumes").mock(return_value=httpx.Response(
        500, json={"id": "server_error", "message": "Unexpected server-side error",
                   "request_id": "4d9d8375"},
    ))
    with pytest.raises(ServerError) as caught:
        await api.list_all("/v2/volumes", "volumes")
    assert route.call_count == 3
    assert str(caught.value) == (
        "/v2/volumes: HTTP 500 server_error: Unexpected server-side error (request id 4d9d8375)"
    )
    assert caught.value.request_id == "4d9d8375"


@respx.mock
async def test_timeouts_are_retried_then_reported(
    api: AccountApi, observer: RecordingObserver
) -> None:
    route = respx.get(f"{API}/v2/account").mock(side_effect=httpx.ReadTimeout("timed out"))
    with pytest.raises(TransportError) as caught:
        await api.get("/v2/account")
    assert route.call_count == 3
    assert str(caught.value) == "/v2/account: no answer within 10s"
    assert observer.calls == [("production", "/v2/account", "timeout")] * 3


@respx.mock
async def test_connection_errors_are_reported_without_httpx_chain(api: AccountApi) -> None:
    respx.get(f"{API}/v2/account").mock(side_effect=httpx.ConnectError("Name or service not known"))
    with pytest.raises(TransportError) as caught:
        await api.get("/v2/account")
    assert str(caught.value) == "/v2/account: ConnectError: Name or service not known"
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


@respx.mock
async def test_401_is_not_retried(api: AccountApi) -> None:
    route = respx.get(f"{API}/v2/droplets").mock(return_value=httpx.Response(
        401, json={"id": "unauthorized", "message": "Unable to authenticate you."},
        headers={"x-request-id": "req-1"},
    ))
    with pytest.raises(TokenRejectedError) as caught:
        await api.list_all("/v2/droplets", "droplets")
    assert route.call_count == 1
    assert str(caught.value) == (
        "/v2/droplets: HTTP 401 unauthorized: Unable to authenticate you. (request id req-1)"
    )


@respx.mock
async def test_403_is_a_missing_scope(api: AccountApi) -> None:
    respx.get(f"{API}/v2/customers/my/balance").mock(return_value=httpx.Response(
        403, json={"id": "forbidden", "message": "You are not authorized to perform this operation."},
    ))
    with pytest.raises(ScopeMissingError) as caught:
        await api.get("/v2/customers/my/balance")
    assert caught.value.status == 403


@respx.mock
async def test_404_is_an_error_without_retry(api: AccountApi) -> None:
    route = respx.get(f"{API}/v2/nothing").mock(return_value=httpx.Response(
        404, json={"id": "not_found", "message": "The resource you were accessing could not be found."}
    ))
    with pytest.raises(ApiError) as caught:
        await api.get("/v2/nothing")
    assert type(caught.value) is ApiError
    assert route.call_count == 1


NOT_FOUND_BODY = {"id": "not_found", "message": "The resource you were accessing could not be found."}


@respx.mock
async def test_get_or_none_is_none_for_404_and_the_body_otherwise(
    api: AccountApi, observer: RecordingObserver
) -> None:
    route = respx.get(f"{API}/v2/uptime/checks/gone/state").mock(
        return_value=httpx.Response(404, json=NOT_FOUND_BODY)
    )
    respx.get(f"{API}/v2/uptime/checks/here/state").mock(
        return_value=httpx.Response(200, json={"state": {"regions": {}}})
    )
    endpoint = "/v2/uptime/checks/{check_id}/state"
    assert await api.get_or_none(endpoint, path={"check_id": "gone"}) is None
    assert await api.get_or_none(endpoint, path={"check_id": "here"}) == {"state": {"regions": {}}}
    assert route.call_count == 1  # a 404 is an answer, not retried
    assert observer.calls == [("production", endpoint, "404"), ("production", endpoint, "200")]


@pytest.mark.parametrize(
    ("status", "error"), [(403, ScopeMissingError), (401, TokenRejectedError), (410, ApiError)]
)
@respx.mock
async def test_get_or_none_raises_every_other_error(
    api: AccountApi, status: int, error: type[ApiError]
) -> None:
    respx.get(f"{API}/v2/registry").mock(
        return_value=httpx.Response(status, json={"id": "x", "message": "no"})
    )
    with pytest.raises(error) as caught:
        await api.get_or_none("/v2/registry")
    assert caught.value.status == status


@respx.mock
async def test_list_all_missing_ok_is_none_for_404_and_the_items_otherwise(api: AccountApi) -> None:
    endpoint = "/v2/domains/{domain_name}/records"
    respx.get(f"{API}/v2/domains/gone.example/records").mock(
        return_value=httpx.Response(404, json=NOT_FOUND_BODY)
    )
    respx.get(f"{API}/v2/domains/empty.example/records").mock(
        side_effect=pager([], "domain_records")
    )
    respx.get(f"{API}/v2/domains/big.example/records").mock(
        side_effect=pager(droplets(450), "domain_records")
    )
    gone = await api.list_all(endpoint, "domain_records", path={"domain_name": "gone.example"},
                              missing_ok=True)
    empty = await api.list_all(endpoint, "domain_records", path={"domain_name": "empty.example"},
                               missing_ok=True)
    big = await api.list_all(endpoint, "domain_records", path={"domain_name": "big.example"},
                             missing_ok=True, parse=lambda items, start: [start + len(items)])
    assert (gone, empty, big) == (None, [], [200, 400, 450])  # gone is not the same as empty


@respx.mock
async def test_list_all_missing_ok_is_none_when_a_later_page_is_gone(api: AccountApi) -> None:
    ok = pager(droplets(450), "members")

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] == "3":  # the VPC was deleted between the pages
            return httpx.Response(404, json=NOT_FOUND_BODY)
        return ok(request)

    respx.get(f"{API}/v2/vpcs/v1/members").mock(side_effect=answer)
    endpoint = "/v2/vpcs/{vpc_id}/members"
    assert await api.list_all(endpoint, "members", path={"vpc_id": "v1"}, missing_ok=True) is None
    with pytest.raises(ApiError) as caught:
        await api.list_all(endpoint, "members", path={"vpc_id": "v1"})
    assert caught.value.status == 404


@pytest.mark.parametrize(("status", "error"), [(403, ScopeMissingError), (500, ServerError)])
@respx.mock
async def test_list_all_missing_ok_raises_every_other_error(
    api: AccountApi, status: int, error: type[ApiError]
) -> None:
    respx.get(f"{API}/v2/projects/p/resources").mock(
        return_value=httpx.Response(status, json={"id": "x", "message": "no"})
    )
    with pytest.raises(error):
        await api.list_all("/v2/projects/{project_id}/resources", "resources",
                           path={"project_id": "p"}, missing_ok=True)


@respx.mock
async def test_non_json_success_names_status_and_request_id(api: AccountApi) -> None:
    respx.get(f"{API}/v2/droplets").mock(return_value=httpx.Response(
        200, text='{"droplets": [{"id": 1', headers={"x-request-id": "abc-123"},
    ))
    with pytest.raises(ResponseError) as caught:
        await api.list_all("/v2/droplets", "droplets")
    assert str(caught.value) == (
        "/v2/droplets: HTTP 200 answer is not JSON (request id abc-123): '{\"droplets\": [{\"id\": 1'"
    )


@respx.mock
async def test_html_error_page_from_a_proxy(api: AccountApi) -> None:
    respx.get(f"{API}/v2/account").mock(return_value=httpx.Response(
        502, text="<html><body><h1>502 Bad Gateway</h1></body></html>",
    ))
    with pytest.raises(ServerError) as caught:
        await api.get("/v2/account")
    assert str(caught.value) == (
        "/v2/account: HTTP 502 non-JSON body '<html><body><h1>502 Bad Gateway</h1></body></html>'"
    )


@respx.mock
async def test_list_without_its_key_is_a_response_error(api: AccountApi) -> None:
    respx.get(f"{API}/v2/volumes").mock(return_value=httpx.Response(200, json={"volume": []}))
    with pytest.raises(ResponseError) as caught:
        await api.list_all("/v2/volumes", "volumes")
    assert str(caught.value) == "/v2/volumes: page 1 has no 'volumes' list"


@respx.mock
async def test_rate_limit_headers_are_read_case_insensitively(api: AccountApi) -> None:
    respx.get(f"{API}/v2/account").mock(return_value=httpx.Response(
        200, json={"account": {}},
        headers={"RateLimit-Limit": "5000", "RateLimit-Remaining": "4816",
                 "RateLimit-Reset": "1444931833"},
    ))
    await api.get("/v2/account")
    assert (api.rate_limit.limit, api.rate_limit.remaining, api.rate_limit.reset_at) == (
        5000, 4816, 1444931833.0
    )


@respx.mock
async def test_remaining_zero_pauses_the_token_until_reset(
    api: AccountApi, clock: FakeClock
) -> None:
    reset = int(clock.time()) + 40
    respx.get(f"{API}/v2/account").mock(return_value=httpx.Response(
        200, json={"account": {}},
        headers={"ratelimit-remaining": "0", "ratelimit-reset": str(reset)},
    ))
    await api.get("/v2/account")
    assert clock.sleeps == []
    await api.get("/v2/account")
    assert clock.sleeps == [pytest.approx(40)]


@respx.mock
async def test_token_info_goes_to_the_auth_url_with_a_candidate_token(api: AccountApi) -> None:
    route = respx.get(f"{AUTH}/v1/oauth/token/info").mock(
        return_value=httpx.Response(200, json={"scopes": ["read"]})
    )
    assert await api.token_info("dop_v1_candidate") == {"scopes": ["read"]}
    assert route.calls.last.request.headers["Authorization"] == "Bearer dop_v1_candidate"


@respx.mock
async def test_observer_gets_endpoint_templates_not_paths(
    api: AccountApi, observer: RecordingObserver
) -> None:
    respx.get(f"{API}/v2/customers/my/invoices/abc%2Fdef/summary").mock(
        return_value=httpx.Response(200, json={})
    )
    await api.get("/v2/customers/my/invoices/{invoice_uuid}/summary", path={"invoice_uuid": "abc/def"})
    assert observer.calls == [("production", "/v2/customers/my/invoices/{invoice_uuid}/summary", "200")]


@respx.mock
async def test_no_error_message_contains_the_token(api: AccountApi) -> None:
    answers: list[httpx.Response | Exception] = [
        httpx.Response(401, json={"id": "unauthorized", "message": "bad"}),
        httpx.Response(403, json={"id": "forbidden", "message": "no"}),
        httpx.Response(500, text="oops"),
        httpx.Response(200, text="not json"),
        httpx.ConnectTimeout("timeout"),
        httpx.ConnectError("refused"),
    ]
    for answer in answers:
        respx.get(f"{API}/v2/account").mock(side_effect=[answer] * 3)
        with pytest.raises(ApiError) as caught:
            await api.get("/v2/account")
        exc = caught.value
        text = json.dumps([str(exc), repr(exc), exc.args, str(exc.__context__), str(exc.__cause__)])
        assert READ_TOKEN not in text


class _CountingTransport(httpx.AsyncBaseTransport):
    """Answers every request after a pause, counting how many wait on it at once."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(0.001)
        finally:
            self.in_flight -= 1
        return httpx.Response(200, json={"account": {}}, headers={"ratelimit-remaining": "4000"})


async def test_no_more_than_max_connections_requests_are_in_flight_across_accounts(
    clock: FakeClock, observer: RecordingObserver
) -> None:
    transport = _CountingTransport()
    client = DigitalOceanClient(api_url=API, auth_url=AUTH, timeout=10, user_agent="test",
                                observer=observer, clock=clock, transport=transport)
    accounts = [client.account(f"a{n}", lambda: READ_TOKEN, RequestBudget(4000, clock))
                for n in range(3)]
    try:
        await asyncio.gather(*[a.get("/v2/account") for a in accounts for _ in range(40)])
    finally:
        await client.aclose()
    assert transport.most == MAX_CONNECTIONS
    assert len(observer.calls) == 120
