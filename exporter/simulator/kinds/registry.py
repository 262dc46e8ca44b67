"""Container registries (`/v2/registries`, and the deprecated `/v2/registry`,
`/v2/registry/subscription`): none, one, or several (given).

`/v2/registries` lists every registry with its subscription. The deprecated single-registry
routes answer as the real API does: 404 without a registry, 412 when the account has several.
"""

from __future__ import annotations

import json
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

SEVERAL = "This account has more than one registry: use /v2/registries."


def registries(resources: Resources) -> tuple[Item, ...]:
    """Every registry: the bare registry objects, each with its `subscription`."""
    return resources.objects("registry")


def list_registries(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """Not paged: the spec declares no parameters and no `links`/`meta` for this list."""
    rendered = b",".join(item.render(request.now) for item in registries(fleet.resources))
    return b'{"registries":[' + rendered + b"]}"


def only_registry(fleet: FleetView) -> Item:
    found = registries(fleet.resources)
    if not found:
        raise ApiError(404)
    if len(found) > 1:
        raise ApiError(412, SEVERAL)
    return found[0]


def get_registry(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """Deprecated: 404 without a registry, 412 with several, as the real API answers."""
    return b'{"registry":' + only_registry(fleet).render(request.now) + b"}"


def get_registry_subscription(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    subscription = only_registry(fleet).as_json(request.now).get("subscription")
    if subscription is None:
        raise ApiError(404)
    return json.dumps({"subscription": subscription}, separators=(",", ":")).encode()


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
    return Built(items=(make_item(registry, id=context.slug, name=context.slug, hourly_cost=cost),))


def given_registry(context: GivenContext) -> Built:
    """`registries` (a list), or one `registry` (with `registry_subscription` as its
    subscription when it has none of its own), as given; neither: no registry."""
    given = list(context.objects("registries"))
    one = context.value("registry")
    if one is not None:
        subscription = context.value("registry_subscription")
        if subscription is not None and "subscription" not in one:
            one = {**one, "subscription": subscription}
        given.append(one)
    return Built(items=tuple(given_item(registry, key="name") for registry in given))


KIND = Kind(
    name="registry",
    routes=(
        Endpoint("/v2/registries", "registry:read", list_registries, in_spec=False),
        Endpoint("/v2/registry", "registry:read", get_registry),
        Endpoint("/v2/registry/subscription", "registry:read", get_registry_subscription),
    ),
    list_endpoint="/v2/registries",
    count=Count(derive=lambda droplets, _: droplets >= 20, problems_minimum=1, flag=True),
    build=build_registry,
    given=given_registry,
    given_keys=("registry", "registry_subscription", "registries"),
)
