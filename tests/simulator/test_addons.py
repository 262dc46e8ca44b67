"""The SaaS add-ons kind: one unpaged answer, one failed resource with problems on, and only
provisioned ones billed, at their plan's price, from the start of the month."""

from __future__ import annotations

from decimal import Decimal

from exporter.simulator.kinds.addons import PLANS

from .network_products import get, simulator


def test_one_unpaged_answer_and_only_provisioned_resources_are_billed() -> None:
    with simulator(addons=4, problems=True) as sim:
        answer = get(sim, "/v2/add-ons/saas?per_page=1").json()
        charges = [c for c in sim.fleet("acme").ledger().charges if c.product == "SaaS Add-ons"]
    assert set(answer) == {"resources"}  # no links, no meta: not paged
    resources = answer["resources"]
    assert [r["state"] for r in resources] == ["provisioned", "provisioning-failed", "provisioned",
                                               "provisioned"]
    prices = [plan[4] for plan in PLANS]
    assert [r["plan_price_per_month"] for r in resources] == [*prices, prices[0]]
    billed = [Decimal(r["plan_price_per_month"]) for r in resources if r["state"] == "provisioned"]
    assert sorted(c.monthly for c in charges) == sorted(billed)
    assert all(c.created_at is None for c in charges)
