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
from datetime import date
from types import MappingProxyType
from typing import Any, Protocol
from urllib.parse import unquote

from exporter.simulator.fleet import Fleet
from exporter.simulator.items import Item, with_base_url
from exporter.simulator.objects import encode_json
from exporter.simulator.paging import PagingError, page_body, page_links, parse_paging
from exporter.simulator.routing import Router

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
    request: ApiRequest, key: str, items: Sequence[Item], fleet: Fleet, *, private: bool = False
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


def get_invoice_summary(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    """A past invoice's (or the preview's) charges by product; 404 for an unknown uuid."""
    summary = fleet.billing.invoice_summary(unquote(request.path_params["invoice_uuid"]), request.now)
    if summary is None:
        raise ApiError(404)
    return encode_json(summary)


def list_billing_history(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    """Paged; `meta.total` is given (the real API sometimes omits it)."""
    entries = [EncodedObject(encode_json(entry)) for entry in fleet.billing.history(request.now)]
    return paged_list(request, "billing_history", entries)


INSIGHTS_MAX_DAYS = 31


def insight_date(raw: str, name: str) -> date:
    text = unquote(raw)
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ApiError(400, f"{name} must be a date in YYYY-MM-DD format") from None


def list_billing_insights(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    """Billing Insights: one data point per billed resource per UTC day, its own paging.

    `account_urn` must be the token's team, `do:team:<uuid>` as `/v2/account` shows the
    team's uuid; anything else (another team, an organization's `do:teamgroup:`) is a 404,
    the only error the spec lists for it, and what a team that is not yours looks like from
    outside. Dates are `YYYY-MM-DD`, the end inclusive, not before the start and within 31
    days of it (else 400). Paging: `page`/`per_page` like every list; the body carries
    `total_items`, `total_pages` and `current_page`, and no links or meta.
    """
    team = fleet.account_object().get("team")
    uuid = team.get("uuid") if isinstance(team, dict) else None
    urn = unquote(request.path_params["account_urn"])
    if not uuid or urn != f"do:team:{uuid}":
        raise ApiError(404)
    first = insight_date(request.path_params["start_date"], "start_date")
    last = insight_date(request.path_params["end_date"], "end_date")
    if last < first:
        raise ApiError(400, "end_date must not be before start_date")
    if (last - first).days > INSIGHTS_MAX_DAYS:
        raise ApiError(400, f"end_date must be within {INSIGHTS_MAX_DAYS} days of start_date")
    try:
        paging = parse_paging(request.query)
    except PagingError as error:
        raise ApiError(400, str(error)) from error
    points = fleet.billing.insights(urn, first, last, request.now)
    return encode_json(
        {
            "data_points": list(paging.window(points)),
            "total_items": len(points),
            "total_pages": paging.last_page(len(points)),
            "current_page": paging.page,
        }
    )


def list_snapshots(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    kind = single(request.query, "resource_type")
    if kind not in (None, "droplet", "volume"):
        raise ApiError(400, "resource_type must be one of: droplet, volume")
    items = fleet.resources.snapshots
    if kind is not None:
        items = tuple(item for item in items if item.extra == kind)
    return paged_items(request, "snapshots", items, fleet)


def list_reserved_ips(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    return paged_items(request, "reserved_ips", fleet.resources.reserved_ips, fleet)


def list_floating_ips(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    """The reserved IPv4 addresses under their pre-2022 name."""
    return paged_items(request, "floating_ips", fleet.resources.reserved_ips, fleet)


def list_reserved_ipv6s(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    return paged_items(request, "reserved_ipv6s", fleet.resources.reserved_ipv6s, fleet)


def list_load_balancers(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    return paged_items(request, "load_balancers", fleet.resources.load_balancers, fleet)


def list_kubernetes_clusters(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    return paged_items(request, "kubernetes_clusters", fleet.resources.kubernetes_clusters, fleet)


def list_databases(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    """Not paged. Credentials (`connection`, `private_connection`, `users`) only for tokens
    with `database:view_credentials` or a legacy `write` scope; `"databases": null` for none."""
    items = fleet.resources.databases
    tag = single(request.query, "tag_name")
    if tag is not None:
        if not caller.may_read("tag:read"):
            raise ApiError(403)
        items = tuple(item for item in items if tag in item.tags)
    if not items:
        return b'{"databases":null}'
    credentials = caller.may_view_database_credentials()
    bodies = (
        (item.private if credentials and item.private is not None else item).render(request.now)
        for item in items
    )
    return b'{"databases":[' + b",".join(bodies) + b"]}"


def list_apps(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    """`with_projects=true` adds each app's `project_id`."""
    with_projects = (single(request.query, "with_projects") or "").lower() in ("true", "1")
    return paged_items(request, "apps", fleet.resources.apps, fleet, private=with_projects)


def list_domains(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    return paged_items(request, "domains", fleet.resources.domains, fleet)


def list_domain_records(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    """Not in the spec subset; the real API's shape. `type` and `name` (the full name) filter."""
    domain = request.path_params["domain_name"]
    records = fleet.resources.domain_records.get(domain)
    if records is None:
        raise ApiError(404)
    kind = single(request.query, "type")
    name = single(request.query, "name")
    if kind is not None:
        records = tuple(r for r in records if r.extra == kind)
    if name is not None:
        wanted = "@" if name.casefold() == domain.casefold() else name.casefold()
        suffix = f".{domain.casefold()}"
        records = tuple(r for r in records if wanted in (r.name, f"{r.name}{suffix}"))
    return paged_items(request, "domain_records", records, fleet)


def list_firewalls(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    return paged_items(request, "firewalls", fleet.resources.firewalls, fleet)


def list_vpcs(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    return paged_items(request, "vpcs", fleet.resources.vpcs, fleet)


def list_vpc_members(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    """Not in the spec subset; the real API's shape: `{"members": [{urn, name, created_at}]}`."""
    members = fleet.vpc_members(request.path_params["vpc_id"])
    if members is None:
        raise ApiError(404)
    return paged_list(request, "members", members)


def list_cdn_endpoints(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    return paged_items(request, "endpoints", fleet.resources.cdn_endpoints, fleet)


def list_certificates(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    items = fleet.resources.certificates
    name = single(request.query, "name")
    if name:
        items = tuple(item for item in items if item.name == name)
    return paged_items(request, "certificates", items, fleet)


def get_registry(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    """404 when the account has no container registry, as the real API answers."""
    registry = fleet.resources.registry
    if registry is None:
        raise ApiError(404)
    return registry.render(request.now)


def get_registry_subscription(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    subscription = fleet.resources.registry_subscription
    if subscription is None:
        raise ApiError(404)
    return subscription.render(request.now)


def list_uptime_checks(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    return paged_items(request, "checks", fleet.resources.uptime_checks, fleet)


def get_uptime_check_state(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    check_id = request.path_params["check_id"]
    state = fleet.resources.uptime_states.get(check_id)
    if state is None or fleet.find_uptime_check(check_id) is None:
        raise ApiError(404)
    return state.render(request.now)


def list_projects(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    return paged_items(request, "projects", fleet.resources.projects, fleet)


def list_project_resources(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    """A project's resources ("default" names the default project, as in the real API)."""
    entries = fleet.project_resources(request.path_params["project_id"])
    if entries is None:
        raise ApiError(404)
    return with_links(request, paged_list(request, "resources", entries))


def list_tags(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    return with_links(request, paged_items(request, "tags", fleet.tags(), fleet))


def list_sizes(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    return paged_items(request, "sizes", fleet.resources.sizes, fleet)


def list_regions(request: ApiRequest, fleet: Fleet, caller: Caller) -> bytes:
    return paged_items(request, "regions", fleet.resources.regions, fleet)


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


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("/v2/account", "account:read", get_account),
    Endpoint("/v2/droplets", "droplet:read", list_droplets, paged=True),
    Endpoint("/v2/droplets/{droplet_id}", "droplet:read", get_droplet),
    Endpoint("/v2/volumes", "block_storage:read", list_volumes, paged=True),
    Endpoint("/v2/customers/my/balance", "billing:read", get_balance),
    Endpoint("/v2/customers/my/invoices", "billing:read", list_invoices, paged=True),
    Endpoint(
        "/v2/customers/my/invoices/{invoice_uuid}/summary", "billing:read", get_invoice_summary
    ),
    Endpoint(
        "/v2/customers/my/billing_history", "billing:read", list_billing_history, paged=True
    ),
    Endpoint(
        "/v2/billing/{account_urn}/insights/{start_date}/{end_date}",
        "billing:read",
        list_billing_insights,
        paged=True,
    ),
    Endpoint("/v2/snapshots", "snapshot:read", list_snapshots, paged=True),
    Endpoint("/v2/reserved_ips", "reserved_ip:read", list_reserved_ips, paged=True),
    Endpoint("/v2/reserved_ipv6", "reserved_ip:read", list_reserved_ipv6s, paged=True),
    Endpoint("/v2/floating_ips", "reserved_ip:read", list_floating_ips, paged=True),
    Endpoint("/v2/load_balancers", "load_balancer:read", list_load_balancers, paged=True),
    Endpoint("/v2/kubernetes/clusters", "kubernetes:read", list_kubernetes_clusters, paged=True),
    Endpoint("/v2/databases", "database:read", list_databases),
    Endpoint("/v2/apps", "app:read", list_apps, paged=True),
    Endpoint("/v2/domains", "domain:read", list_domains, paged=True),
    Endpoint("/v2/domains/{domain_name}/records", "domain:read", list_domain_records, paged=True),
    Endpoint("/v2/firewalls", "firewall:read", list_firewalls, paged=True),
    Endpoint("/v2/vpcs", "vpc:read", list_vpcs, paged=True),
    Endpoint("/v2/vpcs/{vpc_id}/members", "vpc:read", list_vpc_members, paged=True),
    Endpoint("/v2/cdn/endpoints", "cdn:read", list_cdn_endpoints, paged=True),
    Endpoint("/v2/certificates", "certificate:read", list_certificates, paged=True),
    Endpoint("/v2/registry", "registry:read", get_registry),
    Endpoint("/v2/registry/subscription", "registry:read", get_registry_subscription),
    Endpoint("/v2/uptime/checks", "uptime:read", list_uptime_checks, paged=True),
    Endpoint("/v2/uptime/checks/{check_id}/state", "uptime:read", get_uptime_check_state),
    Endpoint("/v2/projects", "project:read", list_projects, paged=True),
    Endpoint(
        "/v2/projects/{project_id}/resources", "project:read", list_project_resources, paged=True
    ),
    Endpoint("/v2/tags", "tag:read", list_tags, paged=True),
    Endpoint("/v2/sizes", "sizes:read", list_sizes, paged=True),
    Endpoint("/v2/regions", "regions:read", list_regions, paged=True),
    Endpoint("/v1/oauth/token/info", None, get_token_info),
)
NOT_IN_SPEC: frozenset[str] = frozenset(
    {"/v2/domains/{domain_name}/records", "/v2/vpcs/{vpc_id}/members", "/v1/oauth/token/info"}
)
"""Endpoints the real API has that the vendored spec subset does not describe."""


def endpoint_router(endpoints: Sequence[Endpoint] = ENDPOINTS) -> Router[Endpoint]:
    """The router over `endpoints`; raises RouteTableError for ambiguous templates."""
    return Router(endpoints)


def error_body(error_id: str, message: str, request_id: str) -> bytes:
    return json.dumps(
        {"id": error_id, "message": message, "request_id": request_id}, separators=(",", ":")
    ).encode()
