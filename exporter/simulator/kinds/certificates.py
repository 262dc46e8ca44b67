"""TLS certificates (`/v2/certificates`).
"""

from __future__ import annotations

from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
    single,
)
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import ResourceBuilder


def list_certificates(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    items = fleet.resources.certificates
    name = single(request.query, "name")
    if name:
        items = tuple(item for item in items if item.name == name)
    return paged_items(request, "certificates", items, fleet)


KIND = Kind(
    name="certificates",
    routes=(Endpoint("/v2/certificates", "certificate:read", list_certificates, paged=True),),
    list_endpoint="/v2/certificates",
    count=Count(
        derive=lambda droplets, _: min(4, 1 + droplets // 200) if droplets >= 10 else 0,
        problems_minimum=2,
    ),
    build=ResourceBuilder.build_certificates,
    in_state=True,
)
