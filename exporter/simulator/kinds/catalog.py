"""The catalogue: `/v2/sizes` and `/v2/regions`, the same for every account. Not a counted kind.
"""

from __future__ import annotations

from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
)
from exporter.simulator.kind import Kind


def list_sizes(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "sizes", fleet.resources.sizes, fleet)


def list_regions(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "regions", fleet.resources.regions, fleet)


KIND = Kind(
    name="catalog",
    # The spec's requirement lists `sizes:read regions:read`; `sizes:read` suffices here.
    routes=(
        Endpoint("/v2/sizes", "sizes:read", list_sizes, paged=True),
        Endpoint("/v2/regions", "regions:read", list_regions, paged=True),
    ),
)
