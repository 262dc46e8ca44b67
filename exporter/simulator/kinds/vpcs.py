"""VPCs (`/v2/vpcs`, `/v2/vpcs/{vpc_id}/members`); the count is of custom VPCs (a default one per
region in use always exists).
"""

from __future__ import annotations

from exporter.simulator.handling import (
    ApiError,
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
    paged_list,
)
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import ResourceBuilder


def list_vpcs(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "vpcs", fleet.resources.vpcs, fleet)


def list_vpc_members(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """Not in the spec subset; the real API's shape: `{"members": [{urn, name, created_at}]}`."""
    members = fleet.vpc_members(request.path_params["vpc_id"])
    if members is None:
        raise ApiError(404)
    return paged_list(request, "members", members)


KIND = Kind(
    name="custom_vpcs",
    routes=(
        Endpoint("/v2/vpcs", "vpc:read", list_vpcs, paged=True),
        Endpoint(
            "/v2/vpcs/{vpc_id}/members", "vpc:read", list_vpc_members, paged=True, in_spec=False
        ),
    ),
    list_endpoint="/v2/vpcs",
    count=Count(derive=lambda droplets, _: droplets // 1000),
    build=ResourceBuilder.build_vpcs,
)
