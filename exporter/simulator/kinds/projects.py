"""Projects (`/v2/projects`) and the resources in each (`/v2/projects/{project_id}/resources`).
"""

from __future__ import annotations

from decimal import Decimal

from exporter.simulator.building import BuildContext, GivenContext, given_item
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
from exporter.simulator.items import DAY, Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc

PROJECT_NAMES = ("Web Platform", "Data Services", "Machine Learning", "Internal Tools")


def projects(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("projects")


def list_projects(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "projects", projects(fleet.resources), fleet)


def list_project_resources(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """A project's resources ("default" names the default project, as in the real API)."""
    entries = fleet.project_resources(request.path_params["project_id"])
    if entries is None:
        raise ApiError(404)
    return with_links(request, paged_list(request, "resources", entries))


def build_projects(context: BuildContext) -> Built:
    """The projects, the default one first; `context.project_ids` are theirs."""
    environment = "Development"
    if "prod" in context.slug:
        environment = "Production"
    elif "stag" in context.slug:
        environment = "Staging"
    items: list[Item] = []
    for index, project_id in enumerate(context.project_ids):
        default = index == 0
        if default:
            name = context.account.replace("-", " ").title()
        else:
            name = PROJECT_NAMES[(index - 1) % len(PROJECT_NAMES)]
            if index > len(PROJECT_NAMES):
                name += f" {index}"
        created = context.start - 30 * DAY + index * 7 * DAY
        body = {
            "id": project_id,
            "owner_uuid": context.owner_uuid,
            "owner_id": context.owner_id,
            "name": name,
            "description": "Default project" if default else f"{name} of {context.account}",
            "purpose": "Operational / Developer tooling" if default else "Web Application",
            "environment": environment,
            "created_at": iso_utc(created),
            "updated_at": iso_utc(created + 3 * DAY),
            "is_default": default,
        }
        items.append(make_item(body, id=project_id, name=name))
    return Built(items=tuple(items))


def given_projects(context: GivenContext) -> Built:
    """As given; none given: one default project."""
    given = context.value("projects")
    if given is None:
        return Built(items=(default_project(context),))
    return Built(items=tuple(given_item(p) for p in given))


def default_project(context: GivenContext) -> Item:
    created = iso_utc(1_577_836_800)
    project = {
        "id": "00000000-0000-4000-8000-000000000001",
        "owner_uuid": context.owner_uuid,
        "owner_id": context.owner_id,
        "name": context.account.replace("-", " ").title(),
        "description": "Default project",
        "purpose": "Operational / Developer tooling",
        "environment": "Production",
        "created_at": created,
        "updated_at": created,
        "is_default": True,
    }
    return given_item(project, hourly_cost=Decimal(0))


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
    build=build_projects,
    given=given_projects,
    in_state=True,
)
