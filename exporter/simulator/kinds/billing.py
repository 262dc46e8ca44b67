"""Billing: balance, invoices and their summaries, billing history and Billing Insights,
all computed from the fleet's own charges (`exporter.simulator.billing`). Not a counted kind.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import unquote

from exporter.simulator.handling import (
    ApiError,
    ApiRequest,
    Caller,
    EncodedObject,
    Endpoint,
    FleetView,
    paged_list,
)
from exporter.simulator.kind import Kind
from exporter.simulator.objects import encode_json
from exporter.simulator.paging import PagingError, parse_paging


def get_balance(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return encode_json(fleet.billing.balance(request.now))


def list_invoices(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    invoices, preview = fleet.billing.invoices(request.now)
    listed = [EncodedObject(encode_json(invoice)) for invoice in invoices]
    extra = {} if preview is None else {"invoice_preview": preview}
    return paged_list(request, "invoices", listed, extra)


def get_invoice_summary(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """A past invoice's (or the preview's) charges by product; 404 for an unknown uuid."""
    summary = fleet.billing.invoice_summary(unquote(request.path_params["invoice_uuid"]), request.now)
    if summary is None:
        raise ApiError(404)
    return encode_json(summary)


def list_billing_history(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
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


def list_billing_insights(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
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


KIND = Kind(
    name="billing",
    routes=(
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
    ),
)
