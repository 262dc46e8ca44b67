"""CDN endpoints (`/v2/cdn/endpoints`), whose origins are the Spaces buckets.
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


def list_cdn_endpoints(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "endpoints", fleet.resources.cdn_endpoints, fleet)


KIND = Kind(
    name="cdn_endpoints",
    routes=(Endpoint("/v2/cdn/endpoints", "cdn:read", list_cdn_endpoints, paged=True),),
    list_endpoint="/v2/cdn/endpoints",
    count=Count(derive=lambda droplets, _: min(3, 1 + droplets // 500) if droplets >= 10 else 0),
    build=ResourceBuilder.build_cdn_endpoints,
)
