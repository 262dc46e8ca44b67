"""Fleet generation and mutation: deterministic, internally consistent, cheap to serve."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import pytest

from exporter.simulator import FleetSpec
from exporter.simulator.fleet import Fleet
from exporter.simulator.objects import encode_json


def bodies(fleet: Fleet) -> list[bytes]:
    return [o.body for o in (*fleet.droplets, *fleet.gpu_droplets, *fleet.volumes)]


def test_the_same_spec_generates_the_same_bytes() -> None:
    spec = FleetSpec(seed=9, droplets=120, gpu_droplets=3, volumes=20)
    first, second = Fleet.generate(spec, "acme"), Fleet.generate(spec, "acme")
    assert bodies(first) == bodies(second)
    assert first.account_object() == second.account_object()
    assert bodies(Fleet.generate(FleetSpec(seed=10, droplets=120), "acme")) != bodies(
        Fleet.generate(FleetSpec(seed=9, droplets=120), "acme")
    )
    assert Fleet.generate(spec, "other").droplets[0].id != first.droplets[0].id


def test_cached_bytes_are_exactly_the_json_of_the_object() -> None:
    fleet = Fleet.generate(FleetSpec(seed=2, droplets=50, gpu_droplets=2, volumes=10), "acme")
    for listed in (*fleet.droplets, *fleet.gpu_droplets, *fleet.volumes):
        assert encode_json(json.loads(listed.body)) == listed.body


def test_counts_statuses_and_ids() -> None:
    spec = FleetSpec(seed=1, droplets=400, gpu_droplets=5, volumes=40, off_droplets=7)
    fleet = Fleet.generate(spec, "acme")
    assert (len(fleet.droplets), len(fleet.gpu_droplets), len(fleet.volumes)) == (400, 5, 40)
    statuses = Counter(o.as_json()["status"] for o in fleet.droplets)
    assert statuses == {"active": 385, "off": 7, "new": 4, "archive": 4}
    ids = [int(o.id) for o in fleet.droplets]
    assert ids == sorted(ids)
    assert len(set(ids)) == 400
    assert all(o.as_json()["status"] == "active" for o in fleet.gpu_droplets)
    assert len({o.name for o in fleet.droplets}) == 400


def test_small_fleets_are_all_active_unless_told() -> None:
    fleet = Fleet.generate(FleetSpec(droplets=5), "tiny")
    assert {o.as_json()["status"] for o in fleet.droplets} == {"active"}
    with pytest.raises(ValueError, match="exceed"):
        Fleet.generate(FleetSpec(droplets=2, off_droplets=3), "tiny")
    with pytest.raises(ValueError, match="unknown region"):
        Fleet.generate(FleetSpec(regions=("mars1",)), "tiny")


def test_gpu_droplets_use_gpu_sizes_in_gpu_regions() -> None:
    fleet = Fleet.generate(FleetSpec(seed=4, droplets=10, gpu_droplets=6), "acme")
    for listed in fleet.gpu_droplets:
        droplet = listed.as_json()
        assert droplet["size"]["gpu_info"] == droplet["gpu_info"]
        assert droplet["region"]["slug"] in droplet["size"]["regions"]
        assert droplet["size_slug"] in droplet["region"]["sizes"]


def test_run_rate_counts_everything_but_archived_droplets() -> None:
    # Only Droplets and volumes here; every other billed resource: test_billing.py.
    spec = FleetSpec(
        seed=3, droplets=100, gpu_droplets=1, volumes=5, snapshots=0, reserved_ips=0,
        load_balancers=0, kubernetes_clusters=0, databases=0, apps=0, registry=False,
        cdn_endpoints=0, spaces_buckets=0, custom_images=0, nfs_shares=0, daily_backups=0,
    )
    fleet = Fleet.generate(spec, "acme")
    billed = [o for o in (*fleet.droplets, *fleet.gpu_droplets) if o.status != "archive"]
    backups = [o for o in billed if o.backups]
    assert backups
    expected = (
        sum((o.hourly_cost for o in (*billed, *fleet.volumes)), Decimal(0))
        + sum((o.hourly_cost * Decimal("0.20") for o in backups), Decimal(0))
    )
    assert fleet.hourly_run_rate() == expected
    archived = [o for o in fleet.droplets if o.as_json()["status"] == "archive"]
    assert archived
    assert all(o.hourly_cost == 0 for o in archived)


def test_mutations_are_deterministic_and_detach_volumes() -> None:
    spec = FleetSpec(seed=6, droplets=30, volumes=60, unattached_volumes=0)
    fleets = [Fleet.generate(spec, "acme"), Fleet.generate(spec, "acme")]
    results = [fleet.mutate(create=5, destroy=10, now=1_795_000_000) for fleet in fleets]
    assert results[0] == results[1]
    assert bodies(fleets[0]) == bodies(fleets[1])
    fleet = fleets[0]
    created, destroyed = results[0]
    assert len(fleet.droplets) == 25
    assert min(created) > max(int(o.id) for o in fleet.droplets if int(o.id) not in created)
    remaining = {int(o.id) for o in fleet.droplets}
    assert not remaining & set(destroyed)
    for volume in fleet.volumes:
        attached = volume.as_json()["droplet_ids"]
        assert set(attached) <= remaining
        assert list(volume.attachments) == attached
    new = fleet.find_droplet(created[0])
    assert new is not None
    assert new.as_json()["created_at"] == "2026-11-18T11:06:40Z"
    assert fleet.find_droplet(destroyed[0]) is None


def test_from_objects_serves_exactly_what_it_is_given() -> None:
    droplets = [{"id": 3, "name": "c", "status": "off"}, {"id": 1, "name": "a", "status": "active"}]
    volumes = [{"id": "v1", "name": "data", "droplet_ids": [3], "region": {"slug": "nyc3"}}]
    fleet = Fleet.from_objects(
        droplets=droplets, volumes=volumes, balance={"account_balance": "1.00"}
    )
    assert [o.as_json() for o in fleet.droplets] == droplets
    assert [o.as_json() for o in fleet.volumes] == volumes
    assert fleet.billing.balance(0) == {"account_balance": "1.00"}
    invoices, preview = fleet.billing.invoices(1_795_000_000)
    assert len(invoices) == 14
    assert preview is not None
