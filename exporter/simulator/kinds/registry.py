"""The container registry (`/v2/registry`, `/v2/registry/subscription`): one or none.
"""

from __future__ import annotations

from exporter.simulator.handling import (
    ApiError,
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
)
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import ResourceBuilder


def get_registry(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """404 when the account has no container registry, as the real API answers."""
    registry = fleet.resources.registry
    if registry is None:
        raise ApiError(404)
    return registry.render(request.now)


def get_registry_subscription(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    subscription = fleet.resources.registry_subscription
    if subscription is None:
        raise ApiError(404)
    return subscription.render(request.now)


KIND = Kind(
    name="registry",
    routes=(
        Endpoint("/v2/registry", "registry:read", get_registry),
        Endpoint("/v2/registry/subscription", "registry:read", get_registry_subscription),
    ),
    list_endpoint="/v2/registry",
    count=Count(derive=lambda droplets, _: droplets >= 20, problems_minimum=1, flag=True),
    build=ResourceBuilder.build_registry,
)
