"""Reserved IPv6 addresses (`/v2/reserved_ipv6`).
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


def list_reserved_ipv6s(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "reserved_ipv6s", fleet.resources.reserved_ipv6s, fleet)


KIND = Kind(
    name="reserved_ipv6s",
    routes=(
        Endpoint("/v2/reserved_ipv6", "reserved_ip:read", list_reserved_ipv6s, paged=True),
    ),
    list_endpoint="/v2/reserved_ipv6",
    count=Count(derive=lambda droplets, _: droplets // 100),
    build=ResourceBuilder.build_reserved_ipv6s,
)
