"""The container registry (`/v2/registry`, `/v2/registry/subscription`): one or none.
"""

from __future__ import annotations

from decimal import Decimal

from exporter.simulator.building import BuildContext, GivenContext, JsonObject, given_item, monthly
from exporter.simulator.catalog import REGISTRY_REGIONS, REGISTRY_TIERS
from exporter.simulator.handling import (
    ApiError,
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
)
from exporter.simulator.items import DAY, Item, Stamp, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc


def registry(resources: Resources) -> Item | None:
    """The registry (`{"registry": ...}`); None: the account has none."""
    found = resources.objects("registry")
    return found[0] if found else None


def registry_subscription(resources: Resources) -> Item | None:
    found = resources.related("registry", "subscription")
    return found[0] if found else None


def get_registry(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """404 when the account has no container registry, as the real API answers."""
    found = registry(fleet.resources)
    if found is None:
        raise ApiError(404)
    return found.render(request.now)


def get_registry_subscription(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    subscription = registry_subscription(fleet.resources)
    if subscription is None:
        raise ApiError(404)
    return subscription.render(request.now)


def build_registry(context: BuildContext) -> Built:
    if not context.counts.registry:
        return Built()
    tier = REGISTRY_TIERS["professional" if context.spec.droplets >= 500 else "basic"]
    fill = {True: 0.93, None: 0.41, False: 0.18}[context.problems]
    region = next((r for r in context.placement if r in REGISTRY_REGIONS), REGISTRY_REGIONS[0])
    created = context.start + 10 * DAY
    subscription: JsonObject = {
        "tier": tier.as_json(),
        "created_at": iso_utc(created),
        "updated_at": iso_utc(created + 30 * DAY),
    }
    registry: JsonObject = {
        "name": context.slug[:63],
        "created_at": iso_utc(created),
        "region": region,
        "storage_usage_bytes": int(tier.included_storage_bytes * fill),
        "storage_usage_bytes_updated_at": Stamp(0),
        "subscription": subscription,
    }
    cost = monthly(Decimal(tier.monthly_price_in_cents) / 100)
    return Built(
        items=(
            make_item({"registry": registry}, id=context.slug, name=context.slug, hourly_cost=cost),
        ),
        related={"subscription": (make_item({"subscription": subscription}, id=context.slug),)},
    )


def given_registry(context: GivenContext) -> Built:
    """`registry` and `registry_subscription` objects as given; None: no registry."""
    given = context.value("registry")
    subscription = context.value("registry_subscription")
    return Built(
        items=() if given is None else (given_item({"registry": given}),),
        related={} if subscription is None else {
            "subscription": (given_item({"subscription": subscription}),)
        },
    )


KIND = Kind(
    name="registry",
    routes=(
        Endpoint("/v2/registry", "registry:read", get_registry),
        Endpoint("/v2/registry/subscription", "registry:read", get_registry_subscription),
    ),
    list_endpoint="/v2/registry",
    count=Count(derive=lambda droplets, _: droplets >= 20, problems_minimum=1, flag=True),
    build=build_registry,
    given=given_registry,
    given_keys=("registry", "registry_subscription"),
)
