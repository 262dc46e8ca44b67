"""The route table of the simulated API, derived from `exporter.simulator.kinds.KINDS`.

Each kind module declares its routes (`Endpoint`: path template, the read scope the official
spec's `security` lists for it, and the handler); this module only collects them and builds
the router (`routing.py`: literal segments win over parameters, whatever the order).
"""

from __future__ import annotations

from collections.abc import Sequence

from exporter.simulator.handling import Endpoint
from exporter.simulator.kinds import all_endpoints
from exporter.simulator.routing import Router

ENDPOINTS: tuple[Endpoint, ...] = all_endpoints()
NOT_IN_SPEC: frozenset[str] = frozenset(
    endpoint.template for endpoint in ENDPOINTS if not endpoint.in_spec
)
"""Endpoints the real API has that the vendored spec subset does not describe."""


def endpoint_router(endpoints: Sequence[Endpoint] = ENDPOINTS) -> Router[Endpoint]:
    """The router over `endpoints`; raises RouteTableError for ambiguous templates."""
    return Router(endpoints)
