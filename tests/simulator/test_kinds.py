"""`KINDS` is the one list of products: everything else that lists kinds agrees with it."""

from __future__ import annotations

import pkgutil
from dataclasses import replace
from typing import Any

import pytest

import exporter.simulator.kinds
from exporter.simulator import ENDPOINTS, FleetSpec, demo_config
from exporter.simulator.building import BuildContext, BuildError
from exporter.simulator.config import generated_token
from exporter.simulator.droplet_factory import DropletFactory
from exporter.simulator.kind import BuildOrderError, Kind, build_order
from exporter.simulator.kinds import (
    BUILD_ORDER,
    COUNTED,
    DERIVED_COUNTS,
    KINDS,
    kind_serving,
    resource_counts,
)
from exporter.simulator.resources import Built
from exporter.simulator.scenario import FLEET_KEYS, bundled_scenario
from exporter.simulator.spec import SHAPE_FIELDS


def test_every_kind_module_is_registered_once() -> None:
    modules = {info.name for info in pkgutil.iter_modules(exporter.simulator.kinds.__path__)}
    registered = {
        module for module in modules if getattr(exporter.simulator.kinds, module).KIND in KINDS
    }
    assert registered == modules
    assert len(KINDS) == len(modules)
    names = [kind.name for kind in KINDS]
    assert len(set(names)) == len(names)


def test_fleetspec_takes_every_counted_kind_by_name() -> None:
    defaults = FleetSpec()
    for kind in COUNTED:
        assert kind.count is not None
        # A fixed count is FleetSpec's default; a derived one defaults to None ("derive it").
        assert defaults.count(kind.name) == kind.count.fixed, kind.name
        # Droplets, GPU Droplets and volumes are fields of their own; the rest go by name.
        given: dict[str, Any] = {kind.name: 1}  # Any: each field has its own type
        one = (replace(defaults, **given) if kind.name in SHAPE_FIELDS
               else FleetSpec(counts=[(kind.name, 1)]))
        assert one.count(kind.name) == 1, kind.name
    # Only the Droplets and volumes Fleet.generate makes itself are fields of their own.
    assert {kind.name for kind in COUNTED} & SHAPE_FIELDS == {
        kind.name for kind in COUNTED if kind.count is not None and kind.count.fixed is not None
    }
    assert {kind.name for kind in COUNTED} <= FLEET_KEYS
    spec = FleetSpec(droplets=3, load_balancers=2, apps=None)
    assert spec == replace(spec, seed=0) == FleetSpec(load_balancers=2, droplets=3)
    assert spec.counts == (("load_balancers", 2),)
    assert resource_counts(spec)["load_balancers"] == 2
    with pytest.raises(ValueError, match="no kind counts load_balancer;"):
        resource_counts(FleetSpec(load_balancer=2))


def test_derived_counts_follow_the_kinds() -> None:
    counts = resource_counts(FleetSpec(droplets=1000))
    assert tuple(counts) == DERIVED_COUNTS
    assert counts["spaces_buckets"] == counts["cdn_endpoints"] + 1


def test_the_route_table_is_the_kinds_routes() -> None:
    assert tuple(route for kind in KINDS for route in kind.routes) == ENDPOINTS
    templates = {endpoint.template for endpoint in ENDPOINTS}
    for kind in KINDS:
        if kind.list_endpoint is not None:
            assert kind.list_endpoint.partition("?")[0] in templates, kind.name


def test_the_kind_that_serves_an_endpoint() -> None:
    assert kind_serving("/v2/load_balancers").name == "load_balancers"
    assert kind_serving("/v2/vpcs").name == "custom_vpcs"
    assert kind_serving("/v2/droplets?type=gpus").name == "gpu_droplets"
    assert kind_serving("/v2/sizes").name == "catalog"


def test_kinds_are_built_after_what_they_read() -> None:
    position = {kind.name: index for index, kind in enumerate(BUILD_ORDER)}
    assert set(position) == {kind.name for kind in KINDS}
    for kind in KINDS:
        for earlier in kind.after:
            assert position[earlier] < position[kind.name], (kind.name, earlier)
    # CDN endpoints are counted before the Spaces buckets (one origin each) but built after.
    names = [kind.name for kind in KINDS]
    assert names.index("cdn_endpoints") < names.index("spaces_buckets")
    assert position["spaces_buckets"] < position["cdn_endpoints"]


def test_a_dependency_declared_out_of_order_is_built_first() -> None:
    first, second, third = Kind(name="a", after=("c",)), Kind(name="b"), Kind(name="c")
    assert [k.name for k in build_order((first, second, third))] == ["b", "c", "a"]
    with pytest.raises(BuildOrderError, match="unknown kinds"):
        build_order((Kind(name="a", after=("nothing",)),))
    with pytest.raises(BuildOrderError, match="wait for each other"):
        build_order((Kind(name="a", after=("b",)), Kind(name="b", after=("a",))))


def test_a_builder_may_read_only_what_it_declares() -> None:
    """A kind that reads another without `after=` fails, even when KINDS lists that one first."""
    spec = FleetSpec(droplets=12, seed=1)
    context = BuildContext(
        spec,
        "acme",
        DropletFactory(spec, "acme"),
        counts=resource_counts(spec),
        droplets=[],
        gpu_droplets=[],
        start=0,
        span=86_400,
        owner_uuid="owner",
        owner_id=1,
        next_droplet_id=1,
    )
    context.keep("certificates", Built())
    context.building(())
    with pytest.raises(BuildError, match="without declaring after=\\('certificates',\\)"):
        context.built("certificates")
    context.building(("certificates", "domains"))
    assert context.built("certificates") == Built()
    with pytest.raises(BuildError, match="not built yet"):
        context.built("domains")


def test_demo_config_is_the_shipped_demo_scenario_with_its_seeds_moved() -> None:
    shipped = bundled_scenario("demo")
    assert demo_config(0) == shipped
    moved = demo_config(7)
    assert moved.seed == 7
    for account, original in zip(moved.accounts, shipped.accounts, strict=True):
        assert isinstance(account.fleet, FleetSpec)
        assert isinstance(original.fleet, FleetSpec)
        assert account.fleet == replace(original.fleet, seed=original.fleet.seed + 7)
        assert [token.token for token in account.tokens] == [
            generated_token(7, account.name, token.name) for token in original.tokens
        ]
        assert replace(account, fleet=original.fleet, tokens=original.tokens) == original
    assert [a.fleet.seed for a in moved.accounts if isinstance(a.fleet, FleetSpec)] == [7, 8]
