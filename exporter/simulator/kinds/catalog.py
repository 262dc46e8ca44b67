"""The catalogue: `/v2/sizes` and `/v2/regions`, the same for every account. Not a counted kind.
"""

from __future__ import annotations

from functools import cache

from exporter.simulator.building import BuildContext, GivenContext, given_item
from exporter.simulator.catalog import regions_catalog, sizes_catalog
from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
)
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Kind
from exporter.simulator.resources import Built, Resources


@cache
def catalog_items() -> tuple[tuple[Item, ...], tuple[Item, ...]]:
    """`/v2/sizes` and `/v2/regions`: the same for every account, serialised once."""
    sizes = tuple(make_item(size, id=size["slug"]) for size in sizes_catalog())
    regions = tuple(make_item(region, id=region["slug"]) for region in regions_catalog())
    return sizes, regions


def sizes(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("catalog")


def regions(resources: Resources) -> tuple[Item, ...]:
    return resources.related("catalog", "regions") or ()


def list_sizes(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "sizes", sizes(fleet.resources), fleet)


def list_regions(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "regions", regions(fleet.resources), fleet)



def build_catalog(context: BuildContext) -> Built:
    sizes, regions = catalog_items()
    return Built(items=sizes, related={"regions": regions})


def given_catalog(context: GivenContext) -> Built:
    """`sizes` and `regions` as given; each left out: the catalogue's."""
    sizes, regions = catalog_items()
    if context.value("sizes") is not None:
        sizes = tuple(given_item(s, key="slug") for s in context.objects("sizes"))
    if context.value("regions") is not None:
        regions = tuple(given_item(r, key="slug") for r in context.objects("regions"))
    return Built(items=sizes, related={"regions": regions})


KIND = Kind(
    name="catalog",
    # The spec's requirement lists `sizes:read regions:read`: both are needed.
    routes=(
        Endpoint("/v2/sizes", "sizes:read regions:read", list_sizes, paged=True),
        Endpoint("/v2/regions", "regions:read", list_regions, paged=True),
    ),
    list_endpoint="/v2/sizes",
    build=build_catalog,
    given=given_catalog,
    given_keys=("sizes", "regions"),
)
