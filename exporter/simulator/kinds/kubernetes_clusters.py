"""Kubernetes clusters (`/v2/kubernetes/clusters`); their nodes are Droplets of the fleet.
"""

from __future__ import annotations

from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
)
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import ResourceBuilder


def list_kubernetes_clusters(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "kubernetes_clusters", fleet.resources.kubernetes_clusters, fleet)


KIND = Kind(
    name="kubernetes_clusters",
    routes=(
        Endpoint(
            "/v2/kubernetes/clusters", "kubernetes:read", list_kubernetes_clusters, paged=True
        ),
    ),
    list_endpoint="/v2/kubernetes/clusters",
    count=Count(derive=lambda droplets, _: droplets // 100, problems_minimum=2),
    build=ResourceBuilder.build_kubernetes_clusters,
    in_state=True,
)
