"""DigitalOceanClient: the only module that talks HTTP (and the only one importing httpx).

It owns authentication, pagination, rate-limit state from the `ratelimit-*` headers, retries,
timeouts and request metrics. Errors leave as ApiError subclasses whose messages carry the
endpoint, status and request id, and never a header: the Authorization header cannot reach a log
line or a traceback through this module (httpx exceptions are replaced, not chained).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol, overload
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from exporter.clock import Clock
from exporter.tasks import all_or_nothing

PER_PAGE = 200  # DigitalOcean's maximum page size

# Counts the HTTP attempts made in the current task and the tasks it starts (pages fetched
# side by side copy the context, so they share the counter): the poller measures what one poll
# of a collector costs with it.
request_counter: ContextVar[list[int] | None] = ContextVar("request_counter", default=None)
MAX_PAGES = 10_000  # a safety stop for a server whose `next` link never ends
TOKEN_INFO_ENDPOINT = "/v1/oauth/token/info"
BODY_SNIPPET_CHARS = 200
NOT_FOUND = 404  # the one status a reader may turn into "none" (get_or_none, missing_ok)

JSONObject = dict[str, Any]
# Turns one page's items into records: (items, index of the first in the whole list) -> records
PageParser = Callable[[list[Any], int], list[Any]]


def _as_is(items: list[Any], start: int) -> list[Any]:
    return items


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
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.auth_url = auth_url.rstrip("/")
        self.timeout = timeout
        self.observer = observer
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.page_concurrency = page_concurrency
        self.rng = rng or random.Random()  # noqa: S311  # jitter, not cryptography
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            follow_redirects=False,  # a redirect must never carry the token elsewhere
            transport=transport,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
        )

    def account(self, name: str, token: Callable[[], str], gate: RequestGate) -> AccountApi:
        return AccountApi(self, name, token, gate)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, url: str, params: Mapping[str, str] | None, token: str) -> httpx.Response:
        return await self._http.get(url, params=params, headers={"Authorization": f"Bearer {token}"})


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
    ) -> list[Any] | None:
        """Every item of a paged list, or an ApiError: never a partial list.

        With `missing_ok`, a 404 on any page gives None instead of an error: the list belongs
        to an object (a domain's records, a VPC's members) deleted since it was listed. None,
        not [], so that a caller can tell "gone" from "empty".

        Pages hold up to 200 items. When the first page's `meta.total` (or `total_items`, as
        Billing Insights says it) shows more, the remaining pages are fetched concurrently, so N
        items cost ceil(N/200) requests; otherwise `links.pages.next` is followed page by page.

        `parse(items, start)` turns each page's items into records as soon as the page arrives
        (`start` is the index of its first item in the whole list, for error messages), so a
        big list's JSON is never all in memory at once; the result is the pages' records in
        order, returned only once every page arrived.
        """
        try:
            return await self._list_all(endpoint, key, path, params, parse)
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
    ) -> list[Any]:
        convert: PageParser = parse or _as_is
        query = {**(params or {}), "per_page": str(PER_PAGE)}
        first = await self.get(endpoint, path=path, params={**query, "page": "1"})
        items = _page_items(first, key, endpoint, 1)
        page_size = len(items)
        pages: dict[int, list[Any]] = {1: convert(items, 0)}
        total = _meta_total(first)
        next_number, seen = _next_page(first), page_size
        del first, items  # the JSON of a page lives no longer than its parsing
        last_number = 1
        if total is not None and page_size and total > page_size:
            last_number = math.ceil(total / page_size)
            if last_number > MAX_PAGES:
                raise ResponseError(
                    f"{endpoint}: meta.total {total} implies more than {MAX_PAGES} pages",
                    endpoint=endpoint,
                )
            numbers = range(2, last_number + 1)
            parsed = await all_or_nothing(
                [self._page(endpoint, path, query, key, number=n, start=(n - 1) * page_size,
                            convert=convert)
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
            if number <= last_number or number > MAX_PAGES:
                raise ResponseError(
                    f"{endpoint}: page {last_number} links to page {number}; paging does not advance",
                    endpoint=endpoint,
                )
            records, count, next_number = await self._page(
                endpoint, path, query, key, number=number, start=seen, convert=convert
            )
            pages[number] = records
            seen += count
            last_number = number
        return [record for number in sorted(pages) for record in pages[number]]

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
    ) -> tuple[list[Any], int, int | None]:
        """One page, parsed: (its records, how many items it held, the page `next` names)."""
        body = await self.get(endpoint, path=path, params={**query, "page": str(number)})
        items = _page_items(body, key, endpoint, number)
        return convert(items, start), len(items), _next_page(body)

    async def _request(
        self,
        base_url: str,
        endpoint: str,
        path: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        token: str | None,
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
                response = await client.send(url, params, token or self._token())
            except httpx.TimeoutException:
                self._observe(endpoint, "timeout", started)
                error = TransportError(
                    f"{endpoint}: no answer within {client.timeout:g}s", endpoint=endpoint
                )
            except httpx.HTTPError as exc:
                self._observe(endpoint, "error", started)
                error = TransportError(f"{endpoint}: {_describe_transport(exc)}", endpoint=endpoint)
            else:
                self._observe(endpoint, str(response.status_code), started)
                self._note_rate_limit(response.headers)
                if response.is_success:
                    return _Answer(_json_object(response, endpoint), response.headers)
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


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)  # httpx.Headers matches names case-insensitively
    if value is None:
        return None
    try:
        return int(float(value.strip()))
    except ValueError:
        return None


def _retry_after_seconds(value: str | None, now: float) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).timestamp() - now
    except (TypeError, ValueError):
        return None


def _describe_transport(exc: httpx.HTTPError) -> str:
    detail = str(exc).strip()
    kind = type(exc).__name__
    return f"{kind}: {detail}" if detail else kind


def _request_id(response: httpx.Response, body: object) -> str | None:
    header: str | None = response.headers.get("x-request-id")
    if header:
        return header
    if isinstance(body, dict) and isinstance(body.get("request_id"), str):
        return str(body["request_id"])
    return None


def _snippet(response: httpx.Response) -> str:
    text = response.content[: BODY_SNIPPET_CHARS * 4].decode("utf-8", "replace")
    text = " ".join(text.split())
    return text[:BODY_SNIPPET_CHARS] + ("..." if len(text) > BODY_SNIPPET_CHARS else "")


def _json_object(response: httpx.Response, endpoint: str) -> JSONObject:
    try:
        body = json.loads(response.content)
    except ValueError:
        rid = _request_id(response, None)
        raise ResponseError(
            f"{endpoint}: HTTP {response.status_code} answer is not JSON"
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


def _status_error(response: httpx.Response, endpoint: str) -> ApiError:
    status = response.status_code
    try:
        body: object = json.loads(response.content)
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


def _page_items(body: JSONObject, key: str, endpoint: str, number: int) -> list[Any]:
    items = body.get(key)
    if not isinstance(items, list):
        raise ResponseError(
            f"{endpoint}: page {number} has no {key!r} list", endpoint=endpoint
        )
    return items


def _meta_total(body: JSONObject) -> int | None:
    """How many items the whole list holds: `meta.total`, or `total_items` (Billing Insights)."""
    meta = body.get("meta")
    total = meta.get("total") if isinstance(meta, dict) else body.get("total_items")
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
