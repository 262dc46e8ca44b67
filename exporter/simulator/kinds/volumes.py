"""Block storage volumes (`/v2/volumes`), made by `droplet_factory.py`.
"""

from __future__ import annotations

from exporter.simulator.droplet_factory import DropletFactory
from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_list,
    single,
)
from exporter.simulator.kind import Count, Kind


def list_volumes(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    objects = fleet.volumes
    name = single(request.query, "name")
    region = single(request.query, "region")
    if name is not None:
        objects = tuple(o for o in objects if o.name == name)
    if region is not None:
        objects = tuple(o for o in objects if o.region == region)
    return paged_list(request, "volumes", objects)


KIND = Kind(
    name="volumes",
    routes=(Endpoint("/v2/volumes", "block_storage:read", list_volumes, paged=True),),
    list_endpoint="/v2/volumes",
    count=Count(fixed=0),
    build=DropletFactory.volume,
)
