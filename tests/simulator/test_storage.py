"""The storage kinds of issue 17: NFS shares and snapshots, custom images and Droplet backup
policies. Counted from the fleet, filtered as the spec's parameters say, the policies a paged
map of the live Droplets; the spec's examples, given verbatim, come back through the
collectors as the same series the examples give; the ledger bills each product."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx

from exporter.api import DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.clock import SystemClock
from exporter.collectors import droplet_backups, images, nfs
from exporter.collectors.base import Collector
from exporter.simulator import Fleet, FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from exporter.simulator.ledger import CUSTOM_IMAGES, NFS, NFS_SNAPSHOTS
from tests.collectors.fakes import FakeReader
from tests.conftest import response_example, spec_example

from .conftest import START

TOKEN = SimToken("ro", "dop_v1_" + "ab" * 32, scopes=["read"])
Connect = Callable[..., httpx.Client]


def get(sim: Simulator, path: str, **params: Any) -> Any:
    answer = httpx.get(f"{sim.url}{path}", params=params,
                       headers={"Authorization": f"Bearer {TOKEN.token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def simulator(spec: FleetSpec) -> Simulator:
    return Simulator(SimulatorConfig(accounts=(SimAccount("acme", tokens=(TOKEN,), fleet=spec),)),
                     clock=lambda: START)


def test_nfs_shares_by_count_filtered_by_region_and_share() -> None:
    spec = FleetSpec(seed=7, droplets=30, nfs_shares=3, problems=True, regions=("nyc3", "fra1"))
    with simulator(spec) as sim:
        shares = get(sim, "/v2/nfs")["shares"]
        snapshots = get(sim, "/v2/nfs/snapshots")["snapshots"]
        in_fra1 = get(sim, "/v2/nfs", region="fra1")["shares"]
        of_first = get(sim, "/v2/nfs/snapshots", share_id=shares[0]["id"])["snapshots"]
    assert len(shares) == 3
    assert [s["status"] for s in shares].count("FAILED") == 1  # problems: one to alert on
    assert in_fra1 == [s for s in shares if s["region"] == "fra1"] != []
    assert len(of_first) == 2
    assert all(s["share_id"] == shares[0]["id"] for s in of_first)
    assert {s["share_id"] for s in snapshots} <= {s["id"] for s in shares}
    assert all(s["size_gib"] <= next(x["size_gib"] for x in shares if x["id"] == s["share_id"])
               for s in snapshots)


def test_custom_images_are_private_and_public_queries_find_none() -> None:
    with simulator(FleetSpec(seed=7, droplets=10, custom_images=4)) as sim:
        private = get(sim, "/v2/images", private="true")
        public = get(sim, "/v2/images", type="distribution")
        tagged = get(sim, "/v2/images", tag_name="custom-image")
    assert private["meta"]["total"] == 4
    assert {i["type"] for i in private["images"]} == {"custom"}
    assert not any(i["public"] for i in private["images"])
    assert public["images"] == []
    assert tagged["images"] == [i for i in private["images"] if "custom-image" in i["tags"]]


def test_policies_are_a_paged_map_of_the_live_droplets_with_the_daily_ones_counted() -> None:
    spec = FleetSpec(seed=7, droplets=40, daily_backups=2)
    with simulator(spec) as sim:
        live = sim.fleet("acme").droplets  # before the fleet changes below
        first = get(sim, "/v2/droplets/backups/policies", per_page=25)
        second = get(sim, "/v2/droplets/backups/policies", per_page=25, page=2)
        created, destroyed = sim.mutate_fleet("acme", create_droplets=1, destroy_droplets=2)
        after = get(sim, "/v2/droplets/backups/policies", per_page=200)
    policies = {**first["policies"], **second["policies"]}
    assert first["meta"]["total"] == len(live) == len(policies) == 40
    assert "next" in first["links"]["pages"]
    assert all(key == str(p["droplet_id"]) for key, p in policies.items())
    backed_up = {str(d.id) for d in live if d.backups}
    assert {k for k, p in policies.items() if p["backup_enabled"]} == backed_up
    plans = [p["backup_policy"]["plan"] for p in policies.values() if p["backup_enabled"]]
    assert plans.count("daily") == 2
    for p in policies.values():
        if p["backup_enabled"]:
            rule = p["backup_policy"]
            assert rule["retention_period_days"] == (7 if rule["plan"] == "daily" else 28)
            assert ("weekday" in rule) == (rule["plan"] == "weekly")
    assert set(after["policies"]) == {str(d.id) for d in sim.fleet("acme").droplets}
    assert not {str(i) for i in destroyed} & set(after["policies"])
    assert {str(i) for i in created} <= set(after["policies"])


def test_the_ledger_bills_storage_and_daily_backups_at_thirty_percent() -> None:
    fleet = Fleet.generate(FleetSpec(seed=7, droplets=60, custom_images=2, nfs_shares=2,
                                     daily_backups=1), "acme")
    charges = fleet.ledger().charges
    assert {c.product for c in charges} >= {CUSTOM_IMAGES, NFS, NFS_SNAPSHOTS}
    shares = {c.description: c.monthly for c in charges if c.product == NFS}
    for item in fleet.resources.objects("nfs_shares"):
        body = item.as_json()
        assert shares[f"{body['name']} ({body['size_gib']} GiB)"] == body["size_gib"] * Decimal(
            "0.30")
    [daily] = [c for c in charges if "daily backups" in c.description]
    [droplet] = [c for c in charges if c.product == "Droplets"
                 and c.description.startswith(daily.description.split(" daily backups")[0] + " (")]
    assert daily.monthly == droplet.monthly * Decimal("0.30")
    weekly = [c for c in charges if c.product == "Droplet Backups" and c is not daily]
    assert weekly
    assert all("daily" not in c.description for c in weekly)


class Quiet:
    def observe(self, *args: object) -> None:
        pass


async def test_the_specs_examples_round_trip_into_the_same_series() -> None:
    """Given verbatim, the examples are served (the images as `?private=true` does: without
    the public one) and read back through the real client into exactly the series the
    examples themselves give."""
    all_images = spec_example("/v2/images", "All")["images"]
    share = response_example("/v2/nfs")["shares"]
    nfs_snapshots = response_example("/v2/nfs/snapshots")["snapshots"]
    policies = spec_example("/v2/droplets/backups/policies")
    fleet = Fleet.from_objects(images=all_images, nfs_shares=share, nfs_snapshots=nfs_snapshots,
                               backup_policies=list(policies["policies"].values()))
    config = SimulatorConfig(accounts=(SimAccount("examples", tokens=(TOKEN,), fleet=fleet),))
    private = [i for i in all_images if not i["public"]]
    expected_reader = FakeReader({
        "/v2/images?private=true": {"images": private},
        "/v2/nfs": {"shares": share}, "/v2/nfs/snapshots": {"snapshots": nfs_snapshots},
        "/v2/droplets/backups/policies": policies,
    })
    with Simulator(config, clock=lambda: START) as sim:
        client = DigitalOceanClient(api_url=sim.url, auth_url=sim.url, timeout=10,
                                    user_agent="t", observer=Quiet(), clock=SystemClock())
        try:
            reader = client.account("examples", lambda: TOKEN.token,
                                    RequestBudget(5000, SystemClock(), 5000))
            collectors: tuple[Collector[Any], ...] = (
                images.COLLECTOR, nfs.COLLECTOR, droplet_backups.COLLECTOR)
            for collector in collectors:
                served = list(collector.samples(await collector.fetch(reader)))
                expected = list(collector.samples(await collector.fetch(expected_reader)))
                assert served == expected, collector.name
                assert served, collector.name
        finally:
            await client.aclose()
    assert len(private) == len(all_images) - 1
