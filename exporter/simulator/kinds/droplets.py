"""Droplets (`/v2/droplets`, `?type=gpus`, `/v2/droplets/{droplet_id}`): objects made by
`droplet_factory.py`, counted by `Fleet.generate`.
"""

from __future__ import annotations

from exporter.simulator.handling import (
    ApiError,
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_list,
    single,
)
from exporter.simulator.kind import Count, Kind


def list_droplets(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    kind = single(request.query, "type")
    tag = single(request.query, "tag_name")
    name = single(request.query, "name")
    if kind not in (None, "droplets", "gpus"):
        raise ApiError(400, "type must be one of: droplets, gpus")
    if tag is not None and (kind is not None or name is not None):
        raise ApiError(400, "tag_name can not be combined with name or type")
    if tag is not None and not caller.may_read("tag:read"):
        raise ApiError(403)
    objects = fleet.gpu_droplets if kind == "gpus" else fleet.droplets
    if tag is not None:
        objects = tuple(o for o in objects if tag in o.tags)
    if name is not None:
        wanted = name.casefold()
        objects = tuple(o for o in objects if o.name.casefold() == wanted)
    return paged_list(request, "droplets", objects)


def get_droplet(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    raw = request.path_params["droplet_id"]
    droplet = fleet.find_droplet(int(raw)) if raw.isascii() and raw.isdigit() else None
    if droplet is None:
        raise ApiError(404)
    return b'{"droplet":' + droplet.body + b"}"


KIND = Kind(
    name="droplets",
    routes=(
        Endpoint("/v2/droplets", "droplet:read", list_droplets, paged=True, field_scopes=(
            ("droplets[].tags", "tag:read"), ("droplets[].vpc_uuid", "vpc:read"),
        )),
        Endpoint("/v2/droplets/{droplet_id}", "droplet:read", get_droplet),
    ),
    list_endpoint="/v2/droplets",
    count=Count(fixed=20),
)
