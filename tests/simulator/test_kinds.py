"""`KINDS` is the one list of products: everything else that lists kinds agrees with it."""

from __future__ import annotations

import dataclasses
import pkgutil
from dataclasses import replace

import exporter.simulator.kinds
from exporter.simulator import ENDPOINTS, FleetSpec, demo_config
from exporter.simulator.config import generated_token
from exporter.simulator.kinds import COUNTED, DERIVED_COUNTS, KINDS, kind_serving, resource_counts
from exporter.simulator.scenario import FLEET_KEYS, bundled_scenario

NOT_KIND_FIELDS = {
    "seed",
    "unattached_volumes",
    "off_droplets",
    "new_droplets",
    "archive_droplets",
    "regions",
    "tags",
    "created_until",
    "created_span_days",
    "droplet_limit",
    "volume_limit",
    "floating_ip_limit",
    "reserved_ip_limit",
    "account_balance",
    "month_to_date_usage",
    "invoice_months",
    "invoice_amounts",
    "invoice_credit_ratio",
    "problems",
}
"""FleetSpec fields that shape the fleet but count no kind."""


def test_every_kind_module_is_registered_once() -> None:
    modules = {info.name for info in pkgutil.iter_modules(exporter.simulator.kinds.__path__)}
    registered = {
        module for module in modules if getattr(exporter.simulator.kinds, module).KIND in KINDS
    }
    assert registered == modules
    assert len(KINDS) == len(modules)
    names = [kind.name for kind in KINDS]
    assert len(set(names)) == len(names)


def test_fleetspec_has_one_count_field_per_counted_kind() -> None:
    spec_fields = {field.name: field for field in dataclasses.fields(FleetSpec)}
    assert set(spec_fields) - NOT_KIND_FIELDS == {kind.name for kind in COUNTED}
    defaults = FleetSpec()
    for kind in COUNTED:
        assert kind.count is not None
        # A fixed count is FleetSpec's default; a derived one defaults to None ("derive it").
        assert getattr(defaults, kind.name) == kind.count.fixed, kind.name
    assert {kind.name for kind in COUNTED} <= FLEET_KEYS


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
