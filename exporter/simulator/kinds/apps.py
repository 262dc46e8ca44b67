"""App Platform apps (`/v2/apps`).
"""

from __future__ import annotations

from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
    single,
)
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import ResourceBuilder


def list_apps(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """`with_projects=true` adds each app's `project_id`."""
    with_projects = (single(request.query, "with_projects") or "").lower() in ("true", "1")
    return paged_items(request, "apps", fleet.resources.apps, fleet, private=with_projects)


KIND = Kind(
    name="apps",
    routes=(Endpoint("/v2/apps", "app:read", list_apps, paged=True),),
    list_endpoint="/v2/apps",
    count=Count(derive=lambda droplets, _: droplets // 50, problems_minimum=3),
    build=ResourceBuilder.build_apps,
    in_state=True,
)
