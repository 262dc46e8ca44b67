"""The route table: literal segments win over parameters whatever the table order, and
templates that would match the same paths are refused when the table is built."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from exporter.simulator.endpoints import ENDPOINTS, endpoint_router
from exporter.simulator.routing import Router, RouteTableError


@dataclass(frozen=True)
class Route:
    template: str


def test_a_literal_route_declared_after_a_parameterised_one_is_reached() -> None:
    one, gpus = Route("/v2/droplets/{droplet_id}"), Route("/v2/droplets/gpus")
    for table in ((one, gpus), (gpus, one)):
        router = Router(table)
        assert router.match("/v2/droplets/gpus") == (gpus, {})
        assert router.match("/v2/droplets/42") == (one, {"droplet_id": "42"})


def test_a_literal_that_leads_nowhere_falls_back_to_the_parameter() -> None:
    records = Route("/v2/domains/{domain_name}/records")
    literal = Route("/v2/domains/special")
    router = Router((literal, records))
    assert router.match("/v2/domains/special/records") == (records, {"domain_name": "special"})
    assert router.match("/v2/domains/special") == (literal, {})


def test_unmatched_paths() -> None:
    router = Router((Route("/v2/droplets"), Route("/v2/droplets/{droplet_id}")))
    for path in ("/v2/droplets/", "/v2/droplets/1/x", "/v2", "v2/droplets", "", "/v2/droplet"):
        assert router.match(path) is None, path


def test_templates_that_match_the_same_paths_are_refused() -> None:
    with pytest.raises(RouteTableError, match="match the same paths"):
        Router((Route("/v2/vpcs/{vpc_id}/members"), Route("/v2/vpcs/{id}/members")))
    with pytest.raises(RouteTableError, match="match the same paths"):
        Router((Route("/v2/account"), Route("/v2/account")))


@pytest.mark.parametrize(
    "template", ["v2/droplets", "/v2/droplets/{id}.json", "/v2/{a}/{a}", "/v2/x{y}"]
)
def test_malformed_templates_are_refused(template: str) -> None:
    with pytest.raises(RouteTableError):
        Router((Route(template),))


def test_every_served_endpoint_is_reached_by_its_own_template() -> None:
    router = endpoint_router()
    for endpoint in ENDPOINTS:
        path = endpoint.template.replace("{", "p-").replace("}", "")
        found = router.match(path)
        assert found is not None, endpoint.template
        assert found[0] is endpoint, endpoint.template
