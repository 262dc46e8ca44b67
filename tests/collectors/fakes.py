"""The one fake ResourceReader for collector tests: canned JSON answers by request, every request
recorded, failures as the real client raises them, and `list_all` paging like the real one.

Answers are keyed by route: the endpoint with its path parameters filled in and its query
parameters sorted, e.g. `/v2/domains/example.com/records` or `/v2/droplets?type=gpus`. A route
given as the template itself (`/v2/domains/{domain_name}/records`) answers for every path
parameter that has no route of its own. An answer is a JSON body, an HTTP status to fail with
(404, 403, 500: the ApiError subclass DigitalOceanClient raises, with its message), or an
exception to raise as it is; `InTurn(...)` gives several of those, one per request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, overload
from urllib.parse import quote, urlencode

import httpx

from exporter.api import NOT_FOUND, PER_PAGE, ApiError, RepeatFilter, ResponseError
from exporter.api import _status_error as client_status_error  # the client's own errors, exactly

JSON = dict[str, Any]


class InTurn:
    """Answers for one route given in turn, one per request; the last one then repeats (a
    list that changes between two reads of it)."""

    def __init__(self, *answers: JSON | int | BaseException) -> None:
        self._answers = list(answers)

    def next(self) -> JSON | int | BaseException:
        return self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]


Answer = JSON | int | BaseException | InTurn
PageParser = Callable[[list[Any], int], list[Any]]
Method = Literal["get", "get_or_none", "list_all"]

# What DigitalOcean answers with each failing status (the `id` of its error body).
ERROR_IDS = {401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "too_many_requests",
             500: "server_error"}


@dataclass(frozen=True)
class Request:
    """One call a collector made: which method, the endpoint template and its parameters."""

    method: Method
    endpoint: str
    path: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    key: str | None = None  # the list key, for list_all

    @property
    def route(self) -> str:
        return route(self.endpoint, self.path, self.params)


def route(endpoint: str, path: Mapping[str, str] | None = None,
          params: Mapping[str, str] | None = None) -> str:
    """The endpoint as requested: path parameters filled in (quoted as the client quotes
    them), then the query parameters in sorted order."""
    filled = endpoint.format_map({k: quote(v, safe="") for k, v in path.items()}) if path else endpoint
    return filled + (f"?{urlencode(sorted(params.items()))}" if params else "")


def http_error(status: int, endpoint: str) -> ApiError:
    """The exception DigitalOceanClient raises for a final answer of `status`."""
    body = {"id": ERROR_IDS.get(status, "error"), "message": f"HTTP {status} from the fake"}
    return client_status_error(httpx.Response(status, json=body), endpoint)


class FakeReader:
    """A ResourceReader answering from fixed routes (see the module docstring).

    `requests` records every call in order. Each call yields to the event loop a few times
    before it answers, so calls a collector makes side by side overlap, and `most_in_flight`
    says how many ever did at once. `list_all` hands the items to `parse` in pages of
    `page_size`, each with the index of its first item, and drops repeated ids (counted in
    `dropped`), as the real client does.
    """

    def __init__(self, answers: Mapping[str, Answer], *, now: float = 1_790_000_000.0,
                 page_size: int = PER_PAGE,
                 fallback: Callable[[str], Answer | None] | None = None,
                 respond: Callable[[str, Mapping[str, str]], Answer | None] | None = None) -> None:
        self.answers = dict(answers)
        self.fallback = fallback  # answers an endpoint template that no route names
        # answers any request no route names, from its endpoint and query parameters (the
        # Monitoring API's start/end move with the clock)
        self.respond = respond
        self.wall = now
        self.page_size = page_size
        self.requests: list[Request] = []
        self.dropped: dict[str, int] = {}  # repeated list items dropped, by route
        self.in_flight = 0
        self.most_in_flight = 0

    def now(self) -> float:
        return self.wall

    def lookup(self, endpoint: str, path: Mapping[str, str] | None = None,
               params: Mapping[str, str] | None = None) -> Answer | None:
        """The answer for a request, or None when no route matches it."""
        found = self.answers.get(route(endpoint, path, params))
        if found is None and path:
            found = self.answers.get(route(endpoint, None, params))
        if found is None and self.fallback is not None and not params:
            found = self.fallback(endpoint)
        if found is None and self.respond is not None:
            found = self.respond(endpoint, dict(params or {}))
        return found

    async def _answer(self, request: Request) -> Any:
        """The JSON body for `request` (a fresh copy), or the failure its route holds."""
        self.requests.append(request)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            for _ in range(3):  # let calls made side by side start before this one ends
                await asyncio.sleep(0)
        finally:
            self.in_flight -= 1
        answer = self.lookup(request.endpoint, request.path, request.params)
        if isinstance(answer, InTurn):
            answer = answer.next()
        if answer is None:
            raise AssertionError(f"FakeReader has no answer for {request.route}; "
                                 f"it knows {sorted(self.answers)}")
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, int):
            raise http_error(answer, request.endpoint)
        return json.loads(json.dumps(answer))

    async def _object(self, method: Method, endpoint: str, path: Mapping[str, str] | None,
                      params: Mapping[str, str] | None) -> JSON:
        body = await self._answer(Request(method, endpoint, dict(path or {}), dict(params or {})))
        if not isinstance(body, dict):  # what DigitalOceanClient does with such an answer
            raise ResponseError(f"{endpoint}: HTTP 200 answer is JSON but not an object",
                                endpoint=endpoint, status=200)
        return body

    async def get(self, endpoint: str, *, path: Mapping[str, str] | None = None,
                  params: Mapping[str, str] | None = None) -> JSON:
        return await self._object("get", endpoint, path, params)

    async def get_or_none(self, endpoint: str, *, path: Mapping[str, str] | None = None,
                          params: Mapping[str, str] | None = None) -> JSON | None:
        try:
            return await self._object("get_or_none", endpoint, path, params)
        except ApiError as error:
            if error.status == NOT_FOUND:
                return None
            raise

    @overload
    async def list_all(self, endpoint: str, key: str, *, path: Mapping[str, str] | None = None,
                       params: Mapping[str, str] | None = None, parse: PageParser | None = None,
                       missing_ok: Literal[False] = False,
                       id_key: str | None = "id") -> list[Any]: ...

    @overload
    async def list_all(self, endpoint: str, key: str, *, path: Mapping[str, str] | None = None,
                       params: Mapping[str, str] | None = None, parse: PageParser | None = None,
                       missing_ok: Literal[True], id_key: str | None = "id") -> list[Any] | None: ...

    async def list_all(self, endpoint: str, key: str, *, path: Mapping[str, str] | None = None,
                       params: Mapping[str, str] | None = None, parse: PageParser | None = None,
                       missing_ok: bool = False, id_key: str | None = "id") -> list[Any] | None:
        request = Request("list_all", endpoint, dict(path or {}), dict(params or {}), key)
        try:
            body = await self._answer(request)
        except ApiError as error:
            if missing_ok and error.status == NOT_FOUND:
                return None
            raise
        items = body.get(key) if isinstance(body, dict) else None
        if isinstance(items, dict):  # a map keyed by id (backup policies): its values, in order
            items = list(items.values())
        if not isinstance(items, list):  # DigitalOceanClient: a page without its list
            raise ResponseError(f"{endpoint}: page 1 has no {key!r} list", endpoint=endpoint)
        # repeated ids are dropped as the client drops them; page 1 is always parsed, even when
        # empty, as the client does
        repeats = RepeatFilter(parse or (lambda page, start: page), id_key)
        starts = range(0, max(len(items), 1), self.page_size)
        records = [record for start in starts
                   for record in repeats.parse(items[start:start + self.page_size], start)]
        if repeats.dropped:
            self.dropped[request.route] = self.dropped.get(request.route, 0) + repeats.dropped
        return records
