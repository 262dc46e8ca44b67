"""Cloud firewalls (`/v2/firewalls`).
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


def list_firewalls(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "firewalls", fleet.resources.firewalls, fleet)


KIND = Kind(
    name="firewalls",
    routes=(Endpoint("/v2/firewalls", "firewall:read", list_firewalls, paged=True),),
    list_endpoint="/v2/firewalls",
    count=Count(derive=lambda droplets, _: min(5, 1 + droplets // 100) if droplets else 0),
    build=ResourceBuilder.build_firewalls,
)
