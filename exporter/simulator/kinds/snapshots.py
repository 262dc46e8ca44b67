"""Droplet and volume snapshots (`/v2/snapshots`).
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


def list_snapshots(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    kind = single(request.query, "resource_type")
    if kind not in (None, "droplet", "volume"):
        raise ApiError(400, "resource_type must be one of: droplet, volume")
    items = fleet.resources.snapshots
    if kind is not None:
        items = tuple(item for item in items if item.extra == kind)
    return paged_items(request, "snapshots", items, fleet)


KIND = Kind(
    name="snapshots",
    routes=(Endpoint("/v2/snapshots", "snapshot:read", list_snapshots, paged=True),),
    list_endpoint="/v2/snapshots",
    count=Count(derive=lambda droplets, _: droplets // 5, problems_minimum=2),
    build=ResourceBuilder.build_snapshots,
    in_state=True,
)
