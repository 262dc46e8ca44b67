"""Uptime checks (`/v2/uptime/checks`) and their state per region.
"""

from __future__ import annotations

from exporter.simulator.handling import (
    ApiError,
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
)
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import ResourceBuilder


def list_uptime_checks(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "checks", fleet.resources.uptime_checks, fleet)


def get_uptime_check_state(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    check_id = request.path_params["check_id"]
    state = fleet.resources.uptime_states.get(check_id)
    if state is None or fleet.find_uptime_check(check_id) is None:
        raise ApiError(404)
    return state.render(request.now)


KIND = Kind(
    name="uptime_checks",
    routes=(
        Endpoint("/v2/uptime/checks", "uptime:read", list_uptime_checks, paged=True),
        Endpoint("/v2/uptime/checks/{check_id}/state", "uptime:read", get_uptime_check_state),
    ),
    list_endpoint="/v2/uptime/checks",
    count=Count(
        derive=lambda droplets, _: min(5, 1 + droplets // 100) if droplets >= 10 else 0,
        problems_minimum=2,
    ),
    build=ResourceBuilder.build_uptime_checks,
    in_state=True,
)
