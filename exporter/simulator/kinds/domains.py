"""DNS zones (`/v2/domains`) and their records (`/v2/domains/{domain_name}/records`).
"""

from __future__ import annotations

from exporter.simulator.handling import (
    ApiError,
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
    single,
)
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import ResourceBuilder


def list_domains(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "domains", fleet.resources.domains, fleet)


def list_domain_records(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
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


KIND = Kind(
    name="domains",
    routes=(
        Endpoint("/v2/domains", "domain:read", list_domains, paged=True),
        Endpoint(
            "/v2/domains/{domain_name}/records",
            "domain:read",
            list_domain_records,
            paged=True,
            in_spec=False,
        ),
    ),
    list_endpoint="/v2/domains",
    count=Count(
        derive=lambda droplets, _: min(5, 1 + droplets // 100) if droplets else 0,
        problems_minimum=1,
    ),
    build=ResourceBuilder.build_domains,
    in_state=True,
)
