"""Projects (`/v2/projects`) and the resources in each (`/v2/projects/{project_id}/resources`).
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
    with_links,
)
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import ResourceBuilder


def list_projects(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "projects", fleet.resources.projects, fleet)


def list_project_resources(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """A project's resources ("default" names the default project, as in the real API)."""
    entries = fleet.project_resources(request.path_params["project_id"])
    if entries is None:
        raise ApiError(404)
    return with_links(request, paged_list(request, "resources", entries))


KIND = Kind(
    name="projects",
    routes=(
        Endpoint("/v2/projects", "project:read", list_projects, paged=True),
        Endpoint(
            "/v2/projects/{project_id}/resources",
            "project:read",
            list_project_resources,
            paged=True,
        ),
    ),
    list_endpoint="/v2/projects",
    count=Count(derive=lambda droplets, _: 1 + min(3, 1 + droplets // 100) if droplets else 1),
    build=ResourceBuilder.build_projects,
    in_state=True,
)
