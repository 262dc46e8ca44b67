"""Block storage volumes (`/v2/volumes`), made by `droplet_factory.py`.
"""

from __future__ import annotations

from exporter.simulator.building import BuildContext, GivenContext, text
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



def file_volumes(context: BuildContext) -> None:
    """Volumes are made with the Droplets (`Fleet.generate`); here they join projects."""
    for volume in context.volumes:
        context.assign(
            f"do:volume:{volume['id']}",
            f"/v2/volumes/{volume['id']}",
            volume["created_at"],
            context.volume_project(volume),
        )


def file_given_volumes(context: GivenContext) -> None:
    for volume in context.volumes:
        path = f"/v2/volumes/{volume.get('id')}"
        context.assign(f"do:volume:{volume.get('id')}", path, text(volume.get("created_at")))


KIND = Kind(
    name="volumes",
    routes=(Endpoint("/v2/volumes", "block_storage:read", list_volumes, paged=True),),
    list_endpoint="/v2/volumes",
    count=Count(fixed=0),
    build=file_volumes,
    given=file_given_volumes,
    given_keys=(),
)
