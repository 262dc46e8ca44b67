"""The BYOIP prefixes kind: distinct prefixes, one withdrawn with problems on, the newest still
in progress, never billed."""

from __future__ import annotations

from .network_products import get, simulator


def test_prefixes_with_one_withdrawn_and_the_newest_in_progress() -> None:
    with simulator(byoip_prefixes=3, problems=True) as sim:
        prefixes = get(sim, "/v2/byoip_prefixes").json()["byoip_prefixes"]
        products = {c.product for c in sim.fleet("acme").ledger().charges}
    assert len({p["prefix"] for p in prefixes}) == 3
    assert [(p["status"], p["advertised"]) for p in prefixes] == [
        ("active", True), ("active", False), ("in_progress", False)]
    assert not any("BYOIP" in product for product in products)


def test_all_advertised_without_problems() -> None:
    with simulator(byoip_prefixes=2, problems=False) as sim:
        prefixes = get(sim, "/v2/byoip_prefixes").json()["byoip_prefixes"]
    assert [p["advertised"] for p in prefixes] == [True, True]
