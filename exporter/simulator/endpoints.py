"""The simulated API surface: one handler per GET endpoint, and the table that routes to them.

Each `Endpoint` names its path template, the read scope the official spec's `security` lists
for it, and a handler that turns a request and the caller's fleet into a JSON body. Handlers
know nothing about HTTP, authentication, rate limits or faults; `server.py` does all of that
once for every endpoint. Adding an endpoint is one handler here, one row in `ENDPOINTS`, and
its objects in `fleet.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

from exporter.simulator.fleet import Fleet, encode_json
from exporter.simulator.paging import PagingError, page_body, page_links, parse_paging

ERROR_TEXT: Mapping[int, tuple[str, str]] = MappingProxyType(
    {
        400: ("bad_request", "The request could not be understood."),
        401: ("unauthorized", "Unable to authenticate you."),
        403: ("forbidden", "You are not authorized to perform this operation."),
        404: ("not_found", "The resource you were accessing could not be found."),
        405: ("method_not_allowed", "This method is not allowed on this resource."),
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
        """Legacy `read`, `api:read` or the resource's own read scope grant a GET."""
        return "read" in self.scopes or "api:read" in self.scopes or scope in self.scopes


@dataclass(frozen=True)
class ApiRequest:
    path: str
    query: Mapping[str, Sequence[str]]
    base_url: str
    """`http://<Host header>`: pagination links are absolute, built from it."""
    path_params: Mapping[str, str]
    now: float


Handler = Callable[[ApiRequest, Fleet, Caller], bytes]


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


def paged_list(
    request: ApiRequest,
    key: str,
    objects: Sequence[Encoded],
    extra: Mapping[str, object] | None = None,
) -> bytes:
    """The standard paged listing of `objects` under `key`."""
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
    chunk = (item.body for item in paging.window(objects))
    return page_body(key=key, chunk=chunk, total=len(objects), links=links, extra=extra)


def get_account(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    return encode_json({"account": fleet.account_object()})


def list_droplets(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    kind = single(request.query, "type")
    tag = single(request.query, "tag_name")
    name = single(request.query, "name")
    if kind not in (None, "droplets", "gpus"):
        raise ApiError(400, "type must be one of: droplets, gpus")
    if tag is not None and (kind is not None or name is not None):
        raise ApiError(400, "tag_name can not be combined with name or type")
    if tag is not None and not caller.may_read("tag:read"):
        raise ApiError(403)
    objects = fleet.gpu_droplets if kind == "gpus" else fleet.droplets
    if tag is not None:
        objects = tuple(o for o in objects if tag in o.tags)
    if name is not None:
        wanted = name.casefold()
        objects = tuple(o for o in objects if o.name.casefold() == wanted)
    return paged_list(request, "droplets", objects)


def get_droplet(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    raw = request.path_params["droplet_id"]
    droplet = fleet.find_droplet(int(raw)) if raw.isascii() and raw.isdigit() else None
    if droplet is None:
        raise ApiError(404)
    return b'{"droplet":' + droplet.body + b"}"


def list_volumes(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    objects = fleet.volumes
    name = single(request.query, "name")
    region = single(request.query, "region")
    if name is not None:
        objects = tuple(o for o in objects if o.name == name)
    if region is not None:
        objects = tuple(o for o in objects if o.region == region)
    return paged_list(request, "volumes", objects)


def get_balance(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    return encode_json(fleet.billing.balance(request.now))


def list_invoices(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    invoices, preview = fleet.billing.invoices(request.now)
    listed = [EncodedObject(encode_json(invoice)) for invoice in invoices]
    extra = {} if preview is None else {"invoice_preview": preview}
    return paged_list(request, "invoices", listed, extra)


def get_token_info(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    """`/v1/oauth/token/info`, undocumented, as doctl reads it from cloud.digitalocean.com."""
    return encode_json(
        {
            "resource_owner_id": caller.resource_owner_id,
            "scopes": list(caller.scopes),
            "expires_in_seconds": caller.expires_in_seconds,
            "application": {"uid": caller.application_uid},
            "created_at": caller.created_at,
        }
    )


@dataclass(frozen=True)
class Endpoint:
    template: str
    scope: str | None
    """The read scope from the spec's `security` for this operation; None: any valid token."""
    handler: Handler
    paged: bool = False

    @property
    def pattern(self) -> re.Pattern[str]:
        return template_pattern(self.template)


def template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(
        f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part) for index, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$")


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("/v2/account", "account:read", get_account),
    Endpoint("/v2/droplets", "droplet:read", list_droplets, paged=True),
    Endpoint("/v2/droplets/{droplet_id}", "droplet:read", get_droplet),
    Endpoint("/v2/volumes", "block_storage:read", list_volumes, paged=True),
    Endpoint("/v2/customers/my/balance", "billing:read", get_balance),
    Endpoint("/v2/customers/my/invoices", "billing:read", list_invoices, paged=True),
    Endpoint("/v1/oauth/token/info", None, get_token_info),
)


@dataclass(frozen=True)
class Router:
    """Finds the endpoint for a path; compiled once per simulator."""

    routes: tuple[tuple[re.Pattern[str], Endpoint], ...]

    @classmethod
    def of(cls, endpoints: Sequence[Endpoint] = ENDPOINTS) -> Router:
        return cls(tuple((endpoint.pattern, endpoint) for endpoint in endpoints))

    def match(self, path: str) -> tuple[Endpoint, dict[str, str]] | None:
        for pattern, endpoint in self.routes:
            found = pattern.match(path)
            if found:
                return endpoint, found.groupdict()
        return None


def error_body(error_id: str, message: str, request_id: str) -> bytes:
    return json.dumps(
        {"id": error_id, "message": message, "request_id": request_id}, separators=(",", ":")
    ).encode()
