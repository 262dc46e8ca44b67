"""Tags (`/v2/tags`): counted from the tagged objects of the other kinds. Not a counted kind.
"""

from __future__ import annotations

from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
    with_links,
)
from exporter.simulator.kind import Kind


def list_tags(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return with_links(request, paged_items(request, "tags", fleet.tags(), fleet))


KIND = Kind(
    name="tags",
    routes=(Endpoint("/v2/tags", "tag:read", list_tags, paged=True),),
    list_endpoint="/v2/tags",
)
