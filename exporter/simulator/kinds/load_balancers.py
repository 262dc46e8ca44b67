"""Load balancers (`/v2/load_balancers`).
"""

from __future__ import annotations

from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
)
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import ResourceBuilder


def list_load_balancers(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "load_balancers", fleet.resources.load_balancers, fleet)


KIND = Kind(
    name="load_balancers",
    routes=(
        Endpoint("/v2/load_balancers", "load_balancer:read", list_load_balancers, paged=True),
    ),
    list_endpoint="/v2/load_balancers",
    count=Count(derive=lambda droplets, _: droplets // 50, problems_minimum=2),
    build=ResourceBuilder.build_load_balancers,
    in_state=True,
)
