"""Issue 18, the client's part: answers DigitalOcean (or whatever answers in its place) could send
to wear the exporter down. Each ends as an ApiError (or an unverifiable ScopeReport) naming the
endpoint, within a deadline, a page count and a memory cap; never as a traceback."""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import respx

from exporter.api import (
    MAX_PAGES_WITHOUT_TOTAL,
    PER_PAGE,
    AccountApi,
    DigitalOceanClient,
    ResponseError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from exporter.clock import SystemClock
from exporter.scopes import verify_token
from tests.conftest import READ_TOKEN, FakeClock

API = "https://api.digitalocean.com"
MiB = 2**20
CAP = 32 * MiB  # api.max_response_bytes by default


class NoObserver:
    def observe(self, account: str, endpoint: str, code: str, seconds: float) -> None:
        pass


class OpenGate:
    """No request budget: the tests count requests themselves."""

    async def acquire(self) -> None:
        pass

    def pause(self, seconds: float) -> None:
        pass


class PauseRecorder(OpenGate):
    def __init__(self) -> None:
        self.pauses: list[float] = []

    def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)


def account_api(url: str = API, **options: Any) -> tuple[DigitalOceanClient, AccountApi]:
    client = DigitalOceanClient(
        api_url=url, auth_url=url, user_agent="digitalocean-exporter/test", observer=NoObserver(),
        **{"timeout": 10.0, "clock": FakeClock(), "retry": RetryPolicy(attempts=1), **options},
    )
    return client, client.account("production", lambda: READ_TOKEN, OpenGate())


@pytest.fixture
async def api() -> AsyncIterator[AccountApi]:
    client, reader = account_api()
    yield reader
    await client.aclose()


# -- a real HTTP server on loopback, for what a mock cannot do: time and bytes on the wire ---

Writer = Callable[[asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serving(write: Writer) -> AsyncIterator[str]:
    """An HTTP/1.1 server on 127.0.0.1 that answers every request with `write`. On exit its
    connections are closed and their handlers awaited, so none is cancelled mid-write."""
    handlers: set[asyncio.Task[None]] = set()
    writers: set[asyncio.StreamWriter] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(asyncio.current_task())  # type: ignore[arg-type]  # always in a task here
        writers.add(writer)
        try:
            await reader.readuntil(b"\r\n\r\n")
            await write(writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client hung up: what the caps are for
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await asyncio.wait_for(asyncio.gather(*handlers, return_exceptions=True), 5)


def head(length: int, *extra: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {length}",
             *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# -- point 3: a poll with no deadline ---------------------------------------------------------

TRICKLE_SECONDS = 3.0  # the server gives up trickling after this; a fixed client ends sooner


async def test_a_body_trickled_byte_by_byte_ends_at_the_response_deadline() -> None:
    """Each byte comes well within `api.timeout` (0.4 s), so only a deadline on the whole answer
    stops it: 3 x api.timeout by default. Before it, the request took as long as the server
    cared to trickle (here 3 s; a real 1 MB page at one byte a second: 11 days)."""
    body = json.dumps({"account": {"status": "active", "note": "x" * 100}}).encode()
    step = TRICKLE_SECONDS / len(body)

    async def trickle(writer: asyncio.StreamWriter) -> None:
        writer.write(head(len(body)))
        for byte in body:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(step)

    async with serving(trickle) as url:
        client, reader = account_api(url, timeout=0.4, clock=SystemClock())
        started = time.monotonic()
        with pytest.raises(TransportError) as raised:
            await reader.get("/v2/account")
        elapsed = time.monotonic() - started
        await client.aclose()
    assert str(raised.value) == (
        "/v2/account: the answer did not arrive whole within 1.2s (api.response_deadline)"
    )
    assert 1.2 <= elapsed < 2.0


def endless(total: int | None) -> Callable[[httpx.Request], httpx.Response]:
    """Every page is full and links to the next one, forever."""

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        body: dict[str, Any] = {
            "droplets": [{"id": (page - 1) * PER_PAGE + i} for i in range(PER_PAGE)],
            "links": {"pages": {"next": f"{API}/v2/droplets?page={page + 1}&per_page=200"}},
        }
        if total is not None:
            body["meta"] = {"total": total}
        return httpx.Response(200, json=body)

    return answer


@respx.mock
async def test_an_endless_next_chain_stops_two_pages_past_meta_total(api: AccountApi) -> None:
    """meta.total 450 is three pages; a `next` link past page 5 ends the list (before: 10,000
    requests, at 200 a minute 50 minutes of the token's budget)."""
    route = respx.get(f"{API}/v2/droplets").mock(side_effect=endless(450))
    with pytest.raises(ResponseError) as raised:
        await api.list_all("/v2/droplets", "droplets")
    assert str(raised.value) == (
        "/v2/droplets: page 5 links to page 6, past the 5 pages this list may have "
        "(meta.total 450 in pages of 200, and 2 more); stopped paging"
    )
    assert route.call_count == math.ceil(450 / PER_PAGE) + 2


@respx.mock
async def test_an_endless_next_chain_without_total_stops_at_twice_the_last_listing(
    api: AccountApi,
) -> None:
    """Without a total, the first listing may take 500 pages; once a listing of 5 pages
    completed, the next may take 12. A poll that hits the cap forgets the listing, so a list
    that really grew is paged in full by the poll after."""
    fleet = [{"id": i} for i in range(1, 1001)]

    def finite(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        links = ({"pages": {"next": f"{API}/v2/droplets?page={page + 1}"}}
                 if page * PER_PAGE < len(fleet) else {})
        return httpx.Response(200, json={"droplets": fleet[(page - 1) * PER_PAGE:page * PER_PAGE],
                                         "links": links})

    route = respx.get(f"{API}/v2/droplets").mock(side_effect=finite)
    assert len(await api.list_all("/v2/droplets", "droplets")) == 1000
    assert route.call_count == 5

    route.side_effect = endless(None)
    route.reset()
    with pytest.raises(ResponseError) as raised:
        await api.list_all("/v2/droplets", "droplets")
    assert str(raised.value) == (
        "/v2/droplets: page 12 links to page 13, past the 12 pages this list may have "
        "(2 times the 5 the last listing took, and 2 more); stopped paging"
    )
    assert route.call_count == 12

    route.reset()
    with pytest.raises(ResponseError) as raised:
        await api.list_all("/v2/droplets", "droplets")
    assert str(raised.value) == (
        "/v2/droplets: page 500 links to page 501, past the 500 pages this list may have "
        "(the most the exporter pages for a list without a total); stopped paging"
    )
    assert route.call_count == MAX_PAGES_WITHOUT_TOTAL == 500


@respx.mock
async def test_a_lying_meta_total_ends_at_the_first_empty_page(api: AccountApi) -> None:
    """meta.total 90,000 over 250 Droplets: 450 pages, 448 of them empty (before: all 450
    requested, and the 250 Droplets taken for the whole list). An empty page before the last
    the total promises ends the list; the pages in flight are cancelled, the rest never asked."""
    fleet = [{"id": i} for i in range(1, 251)]

    def lying(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json={"droplets": fleet[(page - 1) * PER_PAGE:page * PER_PAGE],
                                         "meta": {"total": 90_000}})

    route = respx.get(f"{API}/v2/droplets").mock(side_effect=lying)
    with pytest.raises(ResponseError) as raised:
        await api.list_all("/v2/droplets", "droplets")
    assert re.fullmatch(r"/v2/droplets: page \d+ is empty, but meta.total promised more pages; "
                        "stopped paging", str(raised.value)), raised.value
    assert route.call_count <= 1 + 2 * api.client.page_concurrency, route.call_count


@respx.mock
async def test_the_last_page_may_be_empty_when_the_list_shrank(api: AccountApi) -> None:
    """A Droplet deleted between page 1 and page 3 of 401 leaves page 3 empty: that is a list
    that shrank, not a lie."""
    fleet = [{"id": i} for i in range(1, 401)]

    def shrunk(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json={
            "droplets": fleet[(page - 1) * PER_PAGE:page * PER_PAGE], "meta": {"total": 401}})

    respx.get(f"{API}/v2/droplets").mock(side_effect=shrunk)
    assert len(await api.list_all("/v2/droplets", "droplets")) == 400


# -- point 4: exceptions that are not ApiError ------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000


@respx.mock
async def test_deeply_nested_json_is_a_response_error(api: AccountApi) -> None:
    """json.loads raises RecursionError on it; before, that escaped every `except ApiError`."""
    respx.get(f"{API}/v2/account").mock(return_value=httpx.Response(200, content=DEEP))
    with pytest.raises(ResponseError) as raised:
        await api.get("/v2/account")
    assert str(raised.value).startswith(
        "/v2/account: HTTP 200 answer is not JSON (nested too deeply to parse): '[[[["
    )
    respx.get(f"{API}/v2/volumes").mock(return_value=httpx.Response(502, content=DEEP))
    with pytest.raises(ServerError) as error:  # an error answer's body is parsed too
        await api.get("/v2/volumes")
    assert str(error.value).startswith("/v2/volumes: HTTP 502 non-JSON body '[[[[")


@respx.mock
async def test_token_info_nested_too_deeply_is_unverifiable(api: AccountApi) -> None:
    respx.get(f"{API}/v1/oauth/token/info").mock(return_value=httpx.Response(200, content=DEEP))
    report = await verify_token(api, lambda: 1_790_000_000.0)
    assert report.verdict == "unverifiable"
    assert report.reason.startswith(
        "/v1/oauth/token/info: HTTP 200 answer is not JSON (nested too deeply to parse)"
    )


@pytest.mark.parametrize(("name", "value"), [
    ("ratelimit-remaining", "inf"),
    ("ratelimit-reset", "1e400"),
    ("ratelimit-limit", "9" * 5000),
    ("ratelimit-reset", "-Infinity"),
])
@respx.mock
async def test_an_absurd_rate_limit_header_is_ignored(
    api: AccountApi, name: str, value: str
) -> None:
    """Before: int(float("inf")) raised OverflowError out of every request."""
    respx.get(f"{API}/v2/account").mock(return_value=httpx.Response(
        200, json={"account": {}}, headers={name: value, "ratelimit-limit": "5000"}
        if name != "ratelimit-limit" else {name: value}))
    assert await api.get("/v2/account") == {"account": {}}
    assert api.rate_limit.remaining is None
    assert api.rate_limit.reset_at is None
    assert api.rate_limit.limit == (None if name == "ratelimit-limit" else 5000)


@respx.mock
async def test_a_429_with_absurd_waits_waits_the_capped_backoff() -> None:
    clock = FakeClock()
    client, reader = account_api(clock=clock)
    route = respx.get(f"{API}/v2/account")
    route.side_effect = [
        httpx.Response(429, headers={"retry-after": "nan", "ratelimit-reset": "inf"}),
        httpx.Response(200, json={"account": {}}),
    ]
    reader.gate = gate = PauseRecorder()
    assert await reader.get("/v2/account") == {"account": {}}
    waits = gate.pauses
    assert len(waits) == 1
    assert 0 < waits[0] <= client.retry.backoff_cap
    await client.aclose()


EXPIRIES: list[tuple[str, float | None]] = [
    ("10" + "0" * 400, None),  # 10**400: a float overflow before
    ("1e400", None),  # json.loads makes it inf; before, an expiry at infinity
    ("-5", None),
    ("3600.5", None),  # an integer or nothing (issue 13)
    ('"3600"', None),
    ("null", None),
    ("3600", 1_790_003_600.0),
]


@pytest.mark.parametrize(("raw", "expires_at"), EXPIRIES)
@respx.mock
async def test_an_implausible_expiry_is_no_expiry_known(
    api: AccountApi, raw: str, expires_at: float | None
) -> None:
    body = '{"scopes": ["account:read"], "expires_in_seconds": ' + raw + "}"
    respx.get(f"{API}/v1/oauth/token/info").mock(return_value=httpx.Response(200, text=body))
    report = await verify_token(api, lambda: 1_790_000_000.0)
    assert (report.verdict, report.expires_at) == ("read_only", expires_at)


# -- point 6 (token/info's part): `scopes` and `scope` both -----------------------------------

@pytest.mark.parametrize(("info", "verdict", "writes"), [
    ({"scopes": ["account:read"], "scope": "account:read droplet:create"}, "write",
     ("droplet:create",)),
    ({"scopes": ["account:read", "droplet:delete"], "scope": "account:read"}, "write",
     ("droplet:delete",)),
    ({"scopes": None, "scope": "account:read"}, "read_only", ()),
    ({"scopes": ["account:read"], "scope": 7}, "unverifiable", ()),
])
@respx.mock
async def test_token_info_with_scopes_and_scope_is_judged_on_both(
    api: AccountApi, info: dict[str, Any], verdict: str, writes: tuple[str, ...]
) -> None:
    """Before, `scope` was read only when `scopes` was absent: a write scope in it was missed."""
    respx.get(f"{API}/v1/oauth/token/info").mock(return_value=httpx.Response(200, json=info))
    report = await verify_token(api, lambda: 1_790_000_000.0)
    assert (report.verdict, report.write_scopes) == (verdict, writes)
    if verdict == "unverifiable":
        assert report.reason == "token/info did not list the token's scopes"


# -- point 7: gzip bomb -------------------------------------------------------------------------

def gzip_bomb(expanded: int) -> bytes:
    """`expanded` bytes of a JSON string's inside, gzipped: about 1,000 to 1."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * MiB
    parts = [packer.compress(b'{"account": {"status": "')]
    parts += [packer.compress(block) for _ in range(expanded // MiB)]
    parts += [packer.compress(b'"}}'), packer.flush()]
    return b"".join(parts)


async def test_a_gzip_bomb_stops_at_the_size_cap() -> None:
    """256 MiB of JSON in 0.25 MiB of gzip. Before, httpx inflated all of it (peak +256 MiB
    here, +1 GiB for the 1 GiB bomb of the issue); now reading stops one byte past the default
    cap of 32 MiB."""
    bomb = gzip_bomb(256 * MiB)
    assert len(bomb) < MiB // 2

    async def answer(writer: asyncio.StreamWriter) -> None:
        writer.write(head(len(bomb), "Content-Encoding: gzip") + bomb)
        await writer.drain()

    async with serving(answer) as url:
        client, reader = account_api(url, clock=SystemClock())
        tracemalloc.start()
        try:
            with pytest.raises(ResponseError) as raised:
                await reader.get("/v2/account")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        await client.aclose()
    assert str(raised.value) == (
        "/v2/account: HTTP 200 answer is larger decompressed than api.max_response_bytes "
        f"({CAP} bytes); stopped reading it"
    )
    assert peak < CAP + 4 * MiB, f"peak {peak / MiB:.0f} MiB"


async def test_a_large_plain_body_stops_at_the_size_cap() -> None:
    body = b'{"account": {"status": "' + b" " * (CAP + MiB) + b'"}}'

    async def answer(writer: asyncio.StreamWriter) -> None:
        writer.write(head(len(body)) + body)
        await writer.drain()

    async with serving(answer) as url:
        client, reader = account_api(url, clock=SystemClock())
        with pytest.raises(ResponseError) as raised:
            await reader.get("/v2/account")
        await client.aclose()
    assert str(raised.value) == (
        f"/v2/account: HTTP 200 answer is larger than api.max_response_bytes ({CAP} bytes); "
        "stopped reading it"
    )


async def test_a_gzip_answer_under_the_cap_is_read() -> None:
    """The cap costs nothing to a good answer: gzip decoded here, as httpx did before."""
    body = zlib.compress(json.dumps({"account": {"status": "active"}}).encode(), wbits=31)

    async def answer(writer: asyncio.StreamWriter) -> None:
        writer.write(head(len(body), "Content-Encoding: gzip") + body)
        await writer.drain()

    async with serving(answer) as url:
        client, reader = account_api(url, clock=SystemClock())
        assert await reader.get("/v2/account") == {"account": {"status": "active"}}
        await client.aclose()
