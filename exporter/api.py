"""DigitalOceanClient: the only module that talks HTTP (and the only one importing httpx).

It owns authentication, pagination, rate-limit state from the `ratelimit-*` headers, retries,
timeouts and request metrics. Errors leave as ApiError subclasses whose messages carry the
endpoint, status and request id, and never a header: the Authorization header cannot reach a log
line or a traceback through this module (httpx exceptions are replaced, not chained).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import zlib
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol, overload
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from exporter.clock import Clock
from exporter.config import DEFAULT_MAX_RESPONSE_BYTES, RESPONSE_DEADLINE_TIMEOUTS
from exporter.tasks import all_or_nothing

PER_PAGE = 200  # DigitalOcean's maximum page size
# HTTP requests in flight at once per client, each on a connection kept alive for the next
MAX_CONNECTIONS = 25

# Counts the HTTP attempts made in the current task and the tasks it starts (pages fetched
# side by side copy the context, so they share the counter): the poller measures what one poll
# of a collector costs with it.
request_counter: ContextVar[list[int] | None] = ContextVar("request_counter", default=None)
# Paging stops (see `_page_limit`): a list may take at most PAGE_SLACK pages more than its
# `meta.total` implies (it may grow while it is paged), and never more than MAX_PAGES (2 million
# objects: Billing Insights of a 50,000-Droplet account is 1,025 pages). A list without a total
# may take twice the pages of its last complete listing, and at most MAX_PAGES_WITHOUT_TOTAL
# (100,000 objects), since nothing but the server's `next` links bounds it.
MAX_PAGES = 10_000
MAX_PAGES_WITHOUT_TOTAL = 500
PAGE_SLACK = 2
PREVIOUS_PAGES_FACTOR = 2
# What the client asks for and can decode itself, under the size cap (no brotli or zstd).
ACCEPT_ENCODING = "gzip, deflate"
_INFLATE_SLICE = 2**20  # bytes inflated per step
TOKEN_INFO_ENDPOINT = "/v1/oauth/token/info"
BODY_SNIPPET_CHARS = 200
NOT_FOUND = 404  # the one status a reader may turn into "none" (get_or_none, missing_ok)

JSONObject = dict[str, Any]
# Turns one page's items into records: (items, index of the first in the whole list) -> records
PageParser = Callable[[list[Any], int], list[Any]]
# A page's bytes as the page (its items typed), or None to decode it as plain JSON: a parser
# with a `decode` method (exporter/collectors/typed.py) decodes its list's pages itself.
PageDecoder = Callable[[bytes], "JSONObject | None"]


def _as_is(items: list[Any], start: int) -> list[Any]:
    return items


class RepeatFilter:
    """Drops the items of one list whose id an earlier page already held, then parses the rest.

    Pages may arrive in any order; whichever copy of a repeated object comes first is kept
    (both describe the same object), and `dropped` counts the others. Runs of kept items are
    parsed with their own index in the whole list, so error messages name the item the API sent.
    """

    def __init__(self, convert: PageParser, id_key: str | None) -> None:
        self.convert = convert
        self.id_key = id_key
        self.seen: set[str | int] = set()
        self.dropped = 0

    def _id(self, item: object) -> str | int | None:
        if self.id_key is None:
            return None
        # a dict of plain JSON, or an item a typed page decoder made (a Struct: an attribute)
        value = (item.get(self.id_key) if isinstance(item, dict)
                 else getattr(item, self.id_key, None) if hasattr(item, "__struct_fields__")
                 else None)
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        return None

    def parse(self, items: list[Any], start: int) -> list[Any]:
        records: list[Any] = []
        run = 0  # where the current run of kept items begins
        for index, item in enumerate(items):
            ident = self._id(item)
            if ident is None:
                continue
            if ident not in self.seen:
                self.seen.add(ident)
                continue
            self.dropped += 1
            if index > run:
                records += self.convert(items[run:index], start + run)
            run = index + 1
        if run == 0:
            return self.convert(items, start)  # nothing dropped (an empty page is parsed too)
        if run < len(items):
            records += self.convert(items[run:], start + run)
        return records


class ApiError(Exception):
    """A request that failed for good (after any retries)."""

    def __init__(
        self, message: str, *, endpoint: str, status: int | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status
        self.request_id = request_id


class TokenRejectedError(ApiError):
    """401: the token is invalid, expired or revoked."""


class ScopeMissingError(ApiError):
    """403: the token lacks the read scope this endpoint needs."""


class RateLimitedError(ApiError):
    """429 that did not clear within the allowed waits."""


class ServerError(ApiError):
    """5xx after every retry."""


class TransportError(ApiError):
    """No HTTP answer: timeout, refused connection, DNS failure."""


class ResponseError(ApiError):
    """An answer that is not what the API documents: not JSON, or the wrong shape."""


class RequestObserver(Protocol):
    """Receives one call per HTTP attempt, for the request counter and duration histogram."""

    def observe(self, account: str, endpoint: str, code: str, seconds: float) -> None: ...


class ListObserver(Protocol):
    """Receives the repeated items `list_all` dropped from one complete list."""

    def dropped_duplicates(self, account: str, endpoint: str, count: int) -> None: ...


class RequestGate(Protocol):
    """The per-token request budget (see budget.py)."""

    async def acquire(self) -> None: ...

    def pause(self, seconds: float) -> None: ...


@dataclass
class RateLimitState:
    """The latest `ratelimit-*` headers seen for one token."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None  # Unix time the oldest counted request expires


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # for 5xx and transport errors, first try included
    backoff_base: float = 0.5
    backoff_cap: float = 10.0
    rate_limit_waits: int = 4  # how many 429s one request may wait out
    rate_limit_wait_cap: float = 60.0


@dataclass(frozen=True)
class _Answer:
    body: JSONObject
    headers: httpx.Headers = field(repr=False)


@dataclass(frozen=True)
class Reply:
    """One HTTP answer read whole (decompressed, within the size cap): no stream left open."""

    status_code: int
    headers: httpx.Headers = field(repr=False)
    content: bytes = field(repr=False)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


class Answered(Protocol):
    """What error messages read of an answer: a Reply, or an httpx.Response (test fakes)."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> httpx.Headers: ...

    @property
    def content(self) -> bytes: ...


class _DeadlineExceeded(Exception):
    """The whole request, body included, took longer than the client's response deadline."""


class DigitalOceanClient:
    """One connection pool for every account; `account()` binds a token and a budget to it."""

    def __init__(
        self,
        *,
        api_url: str,
        auth_url: str,
        timeout: float,
        user_agent: str,
        observer: RequestObserver,
        clock: Clock,
        retry: RetryPolicy | None = None,
        page_concurrency: int = 25,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
        response_deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        lists: ListObserver | None = None,
    ) -> None:
        self.lists = lists  # told how many repeated items each list dropped
        self.api_url = api_url.rstrip("/")
        self.auth_url = auth_url.rstrip("/")
        self.timeout = timeout
        # `timeout` bounds each network operation (connect, one read); a body trickled a byte
        # at a time never trips it, so the whole request and its body have a deadline too.
        self.response_deadline = (
            RESPONSE_DEADLINE_TIMEOUTS * timeout if response_deadline is None else response_deadline
        )
        self.max_response_bytes = max_response_bytes
        self.observer = observer
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.page_concurrency = page_concurrency
        self.rng = rng or random.Random()  # noqa: S311  # jitter, not cryptography
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            headers={
                "User-Agent": user_agent,
                "Accept": "application/json",
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            follow_redirects=False,  # a redirect must never carry the token elsewhere
            transport=transport,
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS,
                                max_keepalive_connections=MAX_CONNECTIONS),
        )
        # Requests wait here, not in httpx's pool: its queue is scanned whole at every request
        # and connection change, and requests beyond the connections kept alive open and
        # close a connection each (1,105 connections for 1,703 requests at 10,000 Droplets).
        self._in_flight = asyncio.Semaphore(MAX_CONNECTIONS)

    def account(self, name: str, token: Callable[[], str], gate: RequestGate) -> AccountApi:
        return AccountApi(self, name, token, gate)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(
        self, url: str, params: Mapping[str, str] | None, token: str, endpoint: str
    ) -> Reply:
        """GET `url`, its body read whole within the response deadline and the size cap.

        Raises httpx errors, _DeadlineExceeded or a ResponseError for a body over the cap.
        """
        async with self._in_flight:
            return await self._send(url, params, token, endpoint)

    async def _send(
        self, url: str, params: Mapping[str, str] | None, token: str, endpoint: str
    ) -> Reply:
        try:
            async with asyncio.timeout(self.response_deadline):
                async with self._http.stream(
                    "GET", url, params=params, headers={"Authorization": f"Bearer {token}"}
                ) as response:
                    content = await _read_body(response, endpoint, self.max_response_bytes)
                    return Reply(response.status_code, response.headers, content)
        except TimeoutError:
            raise _DeadlineExceeded from None


class AccountApi:
    """The API as one account sees it: its token, its budget, its rate-limit state.

    Implements the reader interface collectors use (`get`, `get_or_none`, `list_all`): a
    404 that means "there is none" is answered here, so collectors never see an ApiError.
    """

    def __init__(
        self, client: DigitalOceanClient, name: str, token: Callable[[], str], gate: RequestGate
    ) -> None:
        self.client = client
        self.name = name
        self._token = token
        self.gate = gate
        self.rate_limit = RateLimitState()
        # pages the last complete listing of each list took (see `_page_limit`)
        self._listed: dict[tuple[str, ...], int] = {}

    async def get(
        self,
        endpoint: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> JSONObject:
        """One JSON object from `endpoint` (a path template such as `/v2/droplets/{droplet_id}`)."""
        answer = await self._request(self.client.api_url, endpoint, path, params, None)
        return answer.body

    async def _get(
        self,
        endpoint: str,
        path: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        decode: PageDecoder | None,
    ) -> JSONObject:
        """`get` of a list page, decoded by `decode` when it can (see `list_all`)."""
        if decode is None:
            return await self.get(endpoint, path=path, params=params)
        answer = await self._request(self.client.api_url, endpoint, path, params, None,
                                     decode=decode)
        return answer.body

    async def get_or_none(
        self,
        endpoint: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> JSONObject | None:
        """`get`, or None when the object does not exist (HTTP 404); any other error is raised."""
        try:
            return await self.get(endpoint, path=path, params=params)
        except ApiError as error:
            if error.status == NOT_FOUND:
                return None
            raise

    def now(self) -> float:
        """Wall time, for collectors whose requests name a date (Billing Insights)."""
        return self.client.clock.time()

    async def token_info(self, token: str | None = None) -> JSONObject:
        """GET {auth_url}/v1/oauth/token/info for the current token, or for a candidate token."""
        answer = await self._request(self.client.auth_url, TOKEN_INFO_ENDPOINT, None, None, token)
        return answer.body

    @overload
    async def list_all(
        self,
        endpoint: str,
        key: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        parse: PageParser | None = None,
        missing_ok: Literal[False] = False,
        id_key: str | None = "id",
    ) -> list[Any]: ...

    @overload
    async def list_all(
        self,
        endpoint: str,
        key: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        parse: PageParser | None = None,
        missing_ok: Literal[True],
        id_key: str | None = "id",
    ) -> list[Any] | None: ...

    async def list_all(
        self,
        endpoint: str,
        key: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        parse: PageParser | None = None,
        missing_ok: bool = False,
        id_key: str | None = "id",
    ) -> list[Any] | None:
        """Every item of a paged list, or an ApiError: never a partial list.

        With `missing_ok`, a 404 on any page gives None instead of an error: the list belongs
        to an object (a domain's records, a VPC's members) deleted since it was listed. None,
        not [], so that a caller can tell "gone" from "empty".

        Pages hold up to 200 items. When the first page's `meta.total` (or `total_items`, as
        Billing Insights says it, or a top-level `total`, as vector databases do) shows more,
        the remaining pages are fetched concurrently, so N items cost ceil(N/200) requests;
        otherwise `links.pages.next` is followed page by page.

        `parse(items, start)` turns each page's items into records as soon as the page arrives
        (`start` is the index of its first item in the whole list, for error messages), so a
        big list's JSON is never all in memory at once; the result is the pages' records in
        order, returned only once every page arrived. A `parse` with a `decode(content)` method
        decodes the pages itself (typed, exporter/collectors/typed.py); a page it returns None
        for is decoded as plain JSON, as any other answer.

        An item whose `id_key` (a string or an integer) was already listed is dropped before
        `parse` sees it: an object created while the list is paged shifts the later pages by
        one, so the last item of a page comes again first on the next. Items without that key
        are all kept; `id_key=None` keeps everything. What was dropped is counted for the
        list's endpoint (`digitalocean_api_list_duplicates_dropped_total`).
        """
        try:
            return await self._list_all(endpoint, key, path, params, parse, id_key=id_key)
        except ApiError as error:
            if missing_ok and error.status == NOT_FOUND:
                return None
            raise

    async def _list_all(
        self,
        endpoint: str,
        key: str,
        path: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        parse: PageParser | None,
        *,
        id_key: str | None,
    ) -> list[Any]:
        repeats = RepeatFilter(parse or _as_is, id_key)
        convert: PageParser = repeats.parse
        decode: PageDecoder | None = getattr(parse, "decode", None)
        query = {**(params or {}), "per_page": str(PER_PAGE)}
        listing = _listing_key(endpoint, path, params)
        first = await self._get(endpoint, path, {**query, "page": "1"}, decode)
        items = _page_items(first, key, endpoint, 1)
        page_size = len(items)
        pages: dict[int, list[Any]] = {1: convert(items, 0)}
        total = _meta_total(first)
        next_number, seen = _next_page(first), page_size
        del first, items  # the JSON of a page lives no longer than its parsing
        limit, because = self._page_limit(listing, total, page_size)
        last_number = 1
        if total is not None and page_size and total > page_size:
            last_number = math.ceil(total / page_size)
            if last_number > limit:
                raise ResponseError(
                    f"{endpoint}: meta.total {total} implies {last_number} pages, more than "
                    f"{limit} ({because}); not paging it",
                    endpoint=endpoint,
                )
            numbers = range(2, last_number + 1)
            ended: list[int] = []  # the empty pages seen: no page is asked for after one
            parsed = await all_or_nothing(
                [self._page(endpoint, path, query, key, number=n, start=(n - 1) * page_size,
                            convert=convert, decode=decode, ended=ended, last=last_number)
                 for n in numbers],
                limit=self.client.page_concurrency,
            )
            for page_number, (records, count, following) in zip(numbers, parsed, strict=True):
                pages[page_number] = records
                seen = (page_number - 1) * page_size + count
                next_number = following
        # Follow `next` links: the only way when there is no total, and a catch-up when the
        # list grew while the pages were being fetched.
        while (number := next_number) is not None:
            if number <= last_number:
                raise ResponseError(
                    f"{endpoint}: page {last_number} links to page {number}; paging does not advance",
                    endpoint=endpoint,
                )
            if number > limit:
                self._listed.pop(listing, None)  # the next poll pages up to MAX_PAGES again
                raise ResponseError(
                    f"{endpoint}: page {last_number} links to page {number}, past the "
                    f"{limit} pages this list may have ({because}); stopped paging",
                    endpoint=endpoint,
                )
            records, count, next_number = await self._page(
                endpoint, path, query, key, number=number, start=seen, convert=convert,
                decode=decode,
            )
            pages[number] = records
            seen += count
            last_number = number
        self._listed[listing] = len(pages)
        if repeats.dropped and self.client.lists is not None:
            self.client.lists.dropped_duplicates(self.name, endpoint, repeats.dropped)
        return [record for number in sorted(pages) for record in pages[number]]

    def _page_limit(
        self, listing: tuple[str, ...], total: int | None, page_size: int
    ) -> tuple[int, str]:
        """How many pages this list may take, and why, for the message when it takes more.

        An endless `next` chain then costs a few requests, not thousands; a lying total is
        caught by the first empty page (see `_page`).
        """
        if total is not None and page_size:
            pages = math.ceil(total / page_size) + PAGE_SLACK
            if pages <= MAX_PAGES:
                return pages, f"meta.total {total} in pages of {page_size}, and {PAGE_SLACK} more"
            return MAX_PAGES, "the most the exporter pages for one list"
        previous = self._listed.get(listing)
        if previous is not None:
            pages = PREVIOUS_PAGES_FACTOR * previous + PAGE_SLACK
            if pages <= MAX_PAGES_WITHOUT_TOTAL:
                return pages, (f"{PREVIOUS_PAGES_FACTOR} times the {previous} the last listing "
                               f"took, and {PAGE_SLACK} more")
        return MAX_PAGES_WITHOUT_TOTAL, "the most the exporter pages for a list without a total"

    async def _page(
        self,
        endpoint: str,
        path: Mapping[str, str] | None,
        query: Mapping[str, str],
        key: str,
        *,
        number: int,
        start: int,
        convert: PageParser,
        decode: PageDecoder | None = None,
        ended: list[int] | None = None,
        last: int = 0,
    ) -> tuple[list[Any], int, int | None]:
        """One page, parsed: (its records, how many items it held, the page `next` names).

        Of the pages meta.total promises, only the `last` may be empty (the list shrank while it
        was paged): an empty page before it means the total lies, and the pages after it would
        be empty too. It is noted in `ended`, so the pages not yet asked for never are, and the
        list ends with an error: a `meta.total` of 90,000 over 250 Droplets costs a few
        requests (as many as are in flight), not 450.
        """
        if ended:
            raise _empty_page_error(endpoint, min(ended))
        body = await self._get(endpoint, path, {**query, "page": str(number)}, decode)
        items = _page_items(body, key, endpoint, number)
        if not items and ended is not None and number < last:
            ended.append(number)
            raise _empty_page_error(endpoint, number)
        return convert(items, start), len(items), _next_page(body)

    async def _request(
        self,
        base_url: str,
        endpoint: str,
        path: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        token: str | None,
        *,
        decode: PageDecoder | None = None,
    ) -> _Answer:
        client = self.client
        url = base_url + (
            endpoint.format_map({k: quote(v, safe="") for k, v in path.items()}) if path else endpoint
        )
        failures = 0
        rate_limit_waits = 0
        while True:
            await self.gate.acquire()
            counter = request_counter.get()
            if counter is not None:
                counter[0] += 1
            started = client.clock.monotonic()
            error: ApiError
            try:
                response = await client.send(url, params, token or self._token(), endpoint)
            except httpx.TimeoutException:
                self._observe(endpoint, "timeout", started)
                error = TransportError(
                    f"{endpoint}: no answer within {client.timeout:g}s", endpoint=endpoint
                )
            except _DeadlineExceeded:
                self._observe(endpoint, "timeout", started)
                error = TransportError(
                    f"{endpoint}: the answer did not arrive whole within "
                    f"{client.response_deadline:g}s (api.response_deadline)",
                    endpoint=endpoint,
                )
            except httpx.HTTPError as exc:
                self._observe(endpoint, "error", started)
                error = TransportError(f"{endpoint}: {_describe_transport(exc)}", endpoint=endpoint)
            except ResponseError as exc:  # over the size cap, or an encoding it cannot read
                self._observe(endpoint, str(exc.status or "error"), started)
                raise
            else:
                self._observe(endpoint, str(response.status_code), started)
                self._note_rate_limit(response.headers)
                if response.is_success:
                    return _Answer(_json_object(response, endpoint, decode), response.headers)
                error = _status_error(response, endpoint)
                if isinstance(error, RateLimitedError):
                    if rate_limit_waits < client.retry.rate_limit_waits:
                        rate_limit_waits += 1
                        self.gate.pause(self._rate_limit_wait(response.headers, failures))
                        continue
                    raise error
                if not isinstance(error, ServerError):
                    raise error
            failures += 1
            if failures >= client.retry.attempts:
                raise error
            await client.clock.sleep(self._backoff(failures))

    def _observe(self, endpoint: str, code: str, started: float) -> None:
        self.client.observer.observe(
            self.name, endpoint, code, self.client.clock.monotonic() - started
        )

    def _backoff(self, failures: int) -> float:
        retry = self.client.retry
        ceiling = min(retry.backoff_cap, retry.backoff_base * 2.0 ** (failures - 1))
        return float(ceiling * self.client.rng.uniform(0.5, 1.0))

    def _rate_limit_wait(self, headers: httpx.Headers, failures: int) -> float:
        """Seconds to wait after a 429: `retry-after`, else until `ratelimit-reset`, capped."""
        cap = self.client.retry.rate_limit_wait_cap
        retry_after = _retry_after_seconds(headers.get("retry-after"), self.client.clock.time())
        if retry_after is not None:
            return min(cap, max(0.0, retry_after))
        reset = _int_header(headers, "ratelimit-reset")
        if reset is not None:
            return min(cap, max(1.0, reset - self.client.clock.time()))
        return self._backoff(failures + 1)

    def _note_rate_limit(self, headers: httpx.Headers) -> None:
        state = self.rate_limit
        limit = _int_header(headers, "ratelimit-limit")
        remaining = _int_header(headers, "ratelimit-remaining")
        reset = _int_header(headers, "ratelimit-reset")
        if limit is not None:
            state.limit = limit
        if remaining is not None:
            state.remaining = remaining
        if reset is not None:
            state.reset_at = float(reset)
        if remaining == 0 and reset is not None:
            wait = min(self.client.retry.rate_limit_wait_cap, reset - self.client.clock.time())
            if wait > 0:
                self.gate.pause(wait)


# Header values past this (about 285 million years of seconds, or of requests) are not counts or
# Unix times but noise; they are ignored like any unreadable header.
_HEADER_NUMBER_LIMIT = 2.0**53


def _header_number(value: str) -> float | None:
    """A finite number of plausible size, or None: `inf`, `nan`, `1e400` and 5,000 digits are
    all ignored instead of raising OverflowError or poisoning a wait."""
    try:
        number = float(value.strip())
    except (ValueError, OverflowError):
        return None
    if not math.isfinite(number) or abs(number) >= _HEADER_NUMBER_LIMIT:
        return None
    return number


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)  # httpx.Headers matches names case-insensitively
    number = None if value is None else _header_number(value)
    return None if number is None else int(number)


def _retry_after_seconds(value: str | None, now: float) -> float | None:
    if value is None:
        return None
    number = _header_number(value)
    if number is not None:
        return number
    try:
        seconds = parsedate_to_datetime(value).timestamp() - now
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    return seconds if math.isfinite(seconds) else None


def _describe_transport(exc: httpx.HTTPError) -> str:
    detail = str(exc).strip()
    kind = type(exc).__name__
    return f"{kind}: {detail}" if detail else kind


async def _read_body(response: httpx.Response, endpoint: str, cap: int) -> bytes:
    """The body, decompressed here (not by httpx) so that neither the bytes on the wire nor the
    bytes they expand to can pass `cap`: a gzip bomb stops at the cap, not at 1 GiB."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    decoder = _decoder(encoding)
    if decoder is False:
        raise ResponseError(
            f"{endpoint}: HTTP {response.status_code} answer is encoded as {encoding[:40]!r}, "
            f"which the exporter did not ask for (it accepts {ACCEPT_ENCODING})",
            endpoint=endpoint,
            status=response.status_code,
        )
    if response.is_stream_consumed:
        # Built whole in memory (a test transport): httpx has decoded it already.
        if len(response.content) > cap:
            raise _too_large(response, endpoint, cap, "")
        return response.content
    parts: list[bytes] = []
    wire = size = 0
    try:
        async for chunk in response.aiter_raw():
            wire += len(chunk)
            if decoder is None:
                size += len(chunk)
                parts.append(chunk)
            else:
                data = chunk
                while data and size <= cap:
                    # in slices (zlib grows its buffer by copying), and at most one byte past
                    # the cap: enough to know the cap is passed
                    out = decoder.decompress(data, min(_INFLATE_SLICE, cap - size + 1))
                    size += len(out)
                    parts.append(out)
                    data = decoder.unconsumed_tail
            if wire > cap or size > cap:
                raise _too_large(response, endpoint, cap,
                                 " decompressed" if wire <= cap else "")
        if decoder is not None:
            parts.append(decoder.flush())
    except zlib.error:
        raise ResponseError(
            f"{endpoint}: HTTP {response.status_code} answer is not valid {encoding} data",
            endpoint=endpoint,
            status=response.status_code,
        ) from None
    return b"".join(parts)


def _too_large(response: httpx.Response, endpoint: str, cap: int, how: str) -> ResponseError:
    return ResponseError(
        f"{endpoint}: HTTP {response.status_code} answer is larger{how} than "
        f"api.max_response_bytes ({cap} bytes); stopped reading it",
        endpoint=endpoint,
        status=response.status_code,
    )


def _decoder(encoding: str) -> Any:
    """A zlib decompressor for `encoding`, None for identity, False for one not supported."""
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS)
    return False


def _request_id(response: Answered, body: object) -> str | None:
    header: str | None = response.headers.get("x-request-id")
    if header:
        return header
    if isinstance(body, dict) and isinstance(body.get("request_id"), str):
        return str(body["request_id"])
    return None


def _snippet(response: Answered) -> str:
    text = response.content[: BODY_SNIPPET_CHARS * 4].decode("utf-8", "replace")
    text = " ".join(text.split())
    return text[:BODY_SNIPPET_CHARS] + ("..." if len(text) > BODY_SNIPPET_CHARS else "")


class _TooDeep(ValueError):
    """JSON nested deeper than the parser's recursion limit."""


def _loads(content: bytes) -> object:
    """json.loads, with every way it fails as a ValueError: nesting too deep for the parser
    raises RecursionError, which must not escape as if it were a bug."""
    try:
        return json.loads(content)
    except RecursionError:
        raise _TooDeep from None


def _json_object(response: Answered, endpoint: str, decode: PageDecoder | None = None
                 ) -> JSONObject:
    """The answer's JSON object; a list page `decode` can decode (typed), as it decodes it."""
    if decode is not None and (page := decode(response.content)) is not None:
        return page
    try:
        body = _loads(response.content)
    except ValueError as exc:
        rid = _request_id(response, None)
        why = " (nested too deeply to parse)" if isinstance(exc, _TooDeep) else ""
        raise ResponseError(
            f"{endpoint}: HTTP {response.status_code} answer is not JSON{why}"
            f"{_rid_note(rid)}: {_snippet(response)!r}",
            endpoint=endpoint,
            status=response.status_code,
            request_id=rid,
        ) from None
    if not isinstance(body, dict):
        rid = _request_id(response, body)
        raise ResponseError(
            f"{endpoint}: HTTP {response.status_code} answer is JSON but not an object"
            f"{_rid_note(rid)}",
            endpoint=endpoint,
            status=response.status_code,
            request_id=rid,
        )
    return body


def _rid_note(request_id: str | None) -> str:
    return f" (request id {request_id})" if request_id else ""


def _status_error(response: Answered, endpoint: str) -> ApiError:
    status = response.status_code
    try:
        body: object = _loads(response.content)
    except ValueError:
        body = None
    rid = _request_id(response, body)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        detail = f"{body.get('id', '')}: {body['message']}".strip(": ")
    else:
        detail = f"non-JSON body {_snippet(response)!r}" if response.content else "empty body"
    message = f"{endpoint}: HTTP {status} {detail}{_rid_note(rid)}"
    kind: type[ApiError]
    if status == 401:
        kind = TokenRejectedError
    elif status == 403:
        kind = ScopeMissingError
    elif status == 429:
        kind = RateLimitedError
    elif status >= 500:
        kind = ServerError
    else:
        kind = ApiError
    return kind(message, endpoint=endpoint, status=status, request_id=rid)


def _empty_page_error(endpoint: str, number: int) -> ResponseError:
    return ResponseError(
        f"{endpoint}: page {number} is empty, but meta.total promised more pages; stopped paging",
        endpoint=endpoint,
    )


def _listing_key(
    endpoint: str, path: Mapping[str, str] | None, params: Mapping[str, str] | None
) -> tuple[str, ...]:
    """One list: its endpoint template, the objects it belongs to and its query."""
    return (endpoint, *sorted(f"{k}={v}" for k, v in {**(path or {}), **(params or {})}.items()))


def _page_items(body: JSONObject, key: str, endpoint: str, number: int) -> list[Any]:
    """A page's items: its list, or the values of its map keyed by id (a page of
    `/v2/droplets/backups/policies` maps each Droplet id to its policy), in order."""
    items = body.get(key)
    if isinstance(items, dict):
        return list(items.values())
    if not isinstance(items, list):
        raise ResponseError(
            f"{endpoint}: page {number} has no {key!r} list", endpoint=endpoint
        )
    return items


def _meta_total(body: JSONObject) -> int | None:
    """How many items the whole list holds: `meta.total`, or `total_items` (Billing Insights),
    or a top-level `total` (vector databases: no `meta`, no `links`)."""
    meta = body.get("meta")
    total = (meta.get("total") if isinstance(meta, dict)
             else body.get("total_items", body.get("total")))
    if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
        return total
    return None


def _next_page(body: JSONObject) -> int | None:
    """The page number `links.pages.next` points at; None for absent, `{}` or `{"pages": {}}`.

    Only the page number is taken from the link: the request itself always goes to the
    configured API URL, so a link to another host can never receive the token.
    """
    links = body.get("links")
    pages = links.get("pages") if isinstance(links, dict) else None
    target = pages.get("next") if isinstance(pages, dict) else None
    if not isinstance(target, str) or not target:
        return None
    values = parse_qs(urlsplit(target).query).get("page")
    if not values:
        return None
    try:
        return int(values[0])
    except ValueError:
        return None
