"""The VPC peerings kind: peerings join two VPCs of the account's own, problems to alert on,
the spec's scope."""

from __future__ import annotations

from exporter.simulator import SimToken

from .network_products import get, simulator


def test_each_peering_joins_two_distinct_vpcs_of_the_account_and_one_is_provisioning() -> None:
    with simulator(vpc_peerings=3, custom_vpcs=2, problems=True) as sim:
        peerings = get(sim, "/v2/vpc_peerings").json()["vpc_peerings"]
        vpcs = {vpc["id"] for vpc in get(sim, "/v2/vpcs?per_page=200").json()["vpcs"]}
    assert len(peerings) == 3
    for peering in peerings:
        assert len(set(peering["vpc_ids"])) == 2
        assert set(peering["vpc_ids"]) <= vpcs
    assert [p["status"] for p in peerings] == ["ACTIVE", "PROVISIONING", "ACTIVE"]


def test_healthy_without_problems_and_the_scope_is_the_specs() -> None:
    with simulator(vpc_peerings=3, problems=False) as sim:
        assert {p["status"] for p in get(sim, "/v2/vpc_peerings").json()["vpc_peerings"]} == {"ACTIVE"}
        other = SimToken("other", "dop_v1_" + "cd" * 32, scopes=["vpc:read"])
        sim.add_token("acme", other)
        assert get(sim, "/v2/vpc_peerings", other).status_code == 403
        allowed = SimToken("peer", "dop_v1_" + "ef" * 32, scopes=["vpc_peering:read"])
        sim.add_token("acme", allowed)
        assert get(sim, "/v2/vpc_peerings", allowed).status_code == 200
