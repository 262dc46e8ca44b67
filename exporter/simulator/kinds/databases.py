"""Managed database clusters (`/v2/databases`, not paged).
"""

from __future__ import annotations

from exporter.simulator.handling import (
    ApiError,
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    single,
)
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import ResourceBuilder


def list_databases(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """Not paged. Credentials (`connection`, `private_connection`, `users`) only for tokens
    with `database:view_credentials` or a legacy `write` scope; `"databases": null` for none."""
    items = fleet.resources.databases
    tag = single(request.query, "tag_name")
    if tag is not None:
        if not caller.may_read("tag:read"):
            raise ApiError(403)
        items = tuple(item for item in items if tag in item.tags)
    if not items:
        return b'{"databases":null}'
    credentials = caller.may_view_database_credentials()
    bodies = (
        (item.private if credentials and item.private is not None else item).render(request.now)
        for item in items
    )
    return b'{"databases":[' + b",".join(bodies) + b"]}"


KIND = Kind(
    name="databases",
    routes=(Endpoint("/v2/databases", "database:read", list_databases),),
    list_endpoint="/v2/databases",
    count=Count(derive=lambda droplets, _: droplets // 50, problems_minimum=2),
    build=ResourceBuilder.build_databases,
    in_state=True,
)
