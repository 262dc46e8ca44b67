"""The NAT gateways kind: each serves a VPC of its region, one in error with problems on, and
each billed at the unit price times its size from its creation."""

from __future__ import annotations

from decimal import Decimal

from exporter.simulator.catalog import NAT_GATEWAY_UNIT_MONTHLY, PRICES

from .network_products import get, simulator


def test_gateways_serve_vpcs_of_their_region_and_are_billed_per_unit() -> None:
    with simulator(nat_gateways=3, problems=True) as sim:
        gateways = get(sim, "/v2/vpc_nat_gateways").json()["vpc_nat_gateways"]
        regions = {vpc["id"]: vpc["region"] for vpc in get(sim, "/v2/vpcs?per_page=200").json()["vpcs"]}
        [named] = get(sim, f"/v2/vpc_nat_gateways?name={gateways[2]['name']}").json()["vpc_nat_gateways"]
        charges = [c for c in sim.fleet("acme").ledger().charges if c.product == "VPC NAT Gateways"]
    assert named == gateways[2]
    assert [g["state"] for g in gateways] == ["ACTIVE", "ERROR", "ACTIVE"]
    assert [g["size"] for g in gateways] == [1, 1, 2]
    for gateway in gateways:
        [vpc] = gateway["vpcs"]
        assert regions[vpc["vpc_uuid"]] == gateway["region"]
    assert [len(g["egresses"]["public_gateways"]) for g in gateways] == [1, 0, 1]
    assert NAT_GATEWAY_UNIT_MONTHLY == PRICES.amount("nat_gateway_unit_month") == Decimal("40.00")
    assert sorted(c.monthly for c in charges) == [Decimal(40), Decimal(40), Decimal(80)]
    assert sorted(c.hourly for c in charges) == sorted(c.monthly / 672 for c in charges)
