"""What every simulated endpoint is made of: the request and caller a handler sees, the error
it raises, the paged listing it answers with, and `Endpoint` (template, scope, handler).

Handlers know nothing about HTTP, authentication, rate limits or faults; `server.py` does all
of that once for every endpoint. A handler reads the caller's fleet through `FleetView`, the
part of `exporter.simulator.fleet.Fleet` it may use (the fleet is built from the kinds, so
naming it here would close a circle).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from exporter.simulator.billing import Billing
from exporter.simulator.items import DropletLookup, Item, with_base_url
from exporter.simulator.objects import ListedObject
from exporter.simulator.paging import PagingError, page_body, page_links, parse_paging
from exporter.simulator.resources import Resources
from exporter.simulator.views import Entry

JsonObject = dict[str, Any]


class FleetView(Protocol):
    """What handlers read of one account's fleet (`Fleet` is one)."""

    @property
    def droplets(self) -> tuple[ListedObject, ...]: ...

    @property
    def gpu_droplets(self) -> tuple[ListedObject, ...]: ...

    @property
    def volumes(self) -> tuple[ListedObject, ...]: ...

    @property
    def resources(self) -> Resources: ...

    @property
    def billing(self) -> Billing: ...

    @property
    def droplet_lookup(self) -> DropletLookup: ...

    def account_object(self) -> JsonObject: ...

    def find_droplet(self, droplet_id: int) -> ListedObject | None: ...

    def find_uptime_check(self, check_id: str) -> Item | None: ...

    def project_resources(self, project_id: str) -> tuple[Entry, ...] | None: ...

    def vpc_members(self, vpc_id: str) -> tuple[Entry, ...] | None: ...

    def tags(self) -> tuple[Item, ...]: ...


ERROR_TEXT: Mapping[int, tuple[str, str]] = MappingProxyType(
    {
        400: ("bad_request", "The request could not be understood."),
        401: ("unauthorized", "Unable to authenticate you."),
        403: ("forbidden", "You are not authorized to perform this operation."),
        404: ("not_found", "The resource you were accessing could not be found."),
        405: ("method_not_allowed", "This method is not allowed on this resource."),
        412: ("precondition_failed", "The request's precondition does not hold."),
        429: ("too_many_requests", "API rate limit exceeded."),
        500: ("server_error", "Unexpected server-side error"),
        502: ("bad_gateway", "The server received an invalid response from upstream."),
        503: ("service_unavailable", "The service is temporarily unavailable."),
        504: ("gateway_timeout", "The upstream server did not answer in time."),
    }
)
"""Error `id` and `message` per status, as DigitalOcean words them where the spec shows it."""


class ApiError(Exception):
    """An answer with a DigitalOcean error body; raised by handlers, rendered by the server."""

    def __init__(self, status: int, message: str | None = None) -> None:
        error_id, default_message = ERROR_TEXT.get(status, ("error", "Unexpected error"))
        super().__init__(message or default_message)
        self.status = status
        self.error_id = error_id
        self.message = message or default_message


API_READ_GRANTS = frozenset({"block_storage:read"})
"""The scopes `api:read` stands in for: those of the only GET whose `security` lists `api:read`
in the full spec (`/v2/volumes`). It grants no other GET."""


@dataclass(frozen=True)
class Caller:
    """The authenticated token behind a request."""

    account: str
    token_name: str
    scopes: tuple[str, ...]
    resource_owner_id: int
    expires_in_seconds: int | None
    created_at: int
    application_uid: str

    def may_read(self, scope: str) -> bool:
        """Legacy `read` grants every GET. Otherwise every scope of `scope` (space-separated,
        as the spec's `security` lists them: `/v2/sizes` needs `sizes:read regions:read`) must
        be held; `api:read` stands in only where the spec lists it (`GET /v2/volumes`)."""
        if "read" in self.scopes:
            return True
        return all(
            needed in self.scopes or (needed in API_READ_GRANTS and "api:read" in self.scopes)
            for needed in scope.split()
        )

    def may_view_database_credentials(self) -> bool:
        """`database:view_credentials` or a legacy full-access (`write`) token."""
        return "database:view_credentials" in self.scopes or "write" in self.scopes


@dataclass(frozen=True)
class ApiRequest:
    path: str
    query: Mapping[str, Sequence[str]]
    base_url: str
    """`http://<Host header>`: pagination links are absolute, built from it."""
    path_params: Mapping[str, str]
    now: float


Handler = Callable[[ApiRequest, FleetView, Caller], bytes]


class Encoded(Protocol):
    """Anything listed by `paged_list`: an object already serialised to JSON."""

    @property
    def body(self) -> bytes: ...


@dataclass(frozen=True)
class EncodedObject:
    body: bytes


def single(query: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def named_as_asked(request: ApiRequest, items: tuple[Item, ...]) -> tuple[Item, ...]:
    """A list endpoint's `?name=` filter: the items of that name, or every item without one."""
    name = single(request.query, "name")
    return tuple(item for item in items if item.name == name) if name else items


def body_of(item: Encoded) -> bytes:
    return item.body


def paged_list(
    request: ApiRequest,
    key: str,
    objects: Sequence[Any],
    extra: Mapping[str, object] | None = None,
    render: Callable[[Any], bytes] = body_of,
) -> bytes:
    """The standard paged listing of `objects` under `key`; only this page is rendered."""
    try:
        paging = parse_paging(request.query)
    except PagingError as error:
        raise ApiError(400, str(error)) from error
    links = page_links(
        base_url=request.base_url,
        path=request.path,
        query=request.query,
        paging=paging,
        total=len(objects),
    )
    chunk = (render(item) for item in paging.window(objects))
    return page_body(key=key, chunk=chunk, total=len(objects), links=links, extra=extra)


def paged_items(
    request: ApiRequest, key: str, items: Sequence[Item], fleet: FleetView, *, private: bool = False
) -> bytes:
    """A paged listing of `Item`s, rendered on the clock (with the live Droplets they embed);
    `private`: each item's `private` variant where it has one."""

    def render(item: Item) -> bytes:
        shown = item.private if private and item.private is not None else item
        return shown.render(request.now, fleet.droplet_lookup)

    return paged_list(request, key, items, render=render)


def with_links(request: ApiRequest, body: bytes) -> bytes:
    """Absolute URLs inside objects (`links.self`, `last_tagged_uri`) use the request's Host."""
    return with_base_url(body, request.base_url)


@dataclass(frozen=True)
class Endpoint:
    template: str
    scope: str | None
    """The read scope from the spec's `security` for this operation; None: any valid token."""
    handler: Handler
    paged: bool = False
    in_spec: bool = True
    """False: the vendored spec subset does not describe it (its real shape is tested directly)."""
    field_scopes: tuple[tuple[str, str], ...] = ()
    """(path, scope): fields left out for a caller without that scope (see `fieldscopes`)."""


def error_body(error_id: str, message: str, request_id: str) -> bytes:
    return json.dumps(
        {"id": error_id, "message": message, "request_id": request_id}, separators=(",", ":")
    ).encode()
