"""Reserved IPv4 addresses (`/v2/reserved_ips`, and `/v2/floating_ips` under the old name).
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


def list_reserved_ips(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "reserved_ips", fleet.resources.reserved_ips, fleet)


def list_floating_ips(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """The reserved IPv4 addresses under their pre-2022 name."""
    return paged_items(request, "floating_ips", fleet.resources.reserved_ips, fleet)


KIND = Kind(
    name="reserved_ips",
    routes=(
        Endpoint("/v2/reserved_ips", "reserved_ip:read", list_reserved_ips, paged=True),
        Endpoint("/v2/floating_ips", "reserved_ip:read", list_floating_ips, paged=True),
    ),
    list_endpoint="/v2/reserved_ips",
    count=Count(derive=lambda droplets, _: droplets // 20, problems_minimum=2),
    build=ResourceBuilder.build_reserved_ips,
    in_state=True,
)
