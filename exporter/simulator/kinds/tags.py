"""Tags (`/v2/tags`): counted from the tagged objects of the other kinds. Not a counted kind.
"""

from __future__ import annotations

from exporter.simulator.building import GivenContext, given_item
from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
    with_links,
)
from exporter.simulator.kind import Kind
from exporter.simulator.resources import Built


def list_tags(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return with_links(request, paged_items(request, "tags", fleet.tags(), fleet))



def given_tags(context: GivenContext) -> Built | None:
    """`/v2/tags` as given; None (left out): counted from the fleet."""
    if context.value("tags") is None:
        return None
    return Built(items=tuple(given_item(t, key="name") for t in context.objects("tags")))


KIND = Kind(
    name="tags",
    routes=(Endpoint("/v2/tags", "tag:read", list_tags, paged=True),),
    list_endpoint="/v2/tags",
    given=given_tags,
)
