"""Droplet autoscale pools against the official example, static and dynamic configurations,
and a template whose user_data is never kept."""

from __future__ import annotations

import pytest

from exporter.collectors import autoscale_pools
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader
from tests.conftest import example_reader, spec_example

POOL = "0d3db13e-a604-4944-9827-7ec2642d32ac"
ENDPOINT = "/v2/droplets/autoscale"


async def test_values_from_the_all_autoscale_pools_example() -> None:
    records = await autoscale_pools.fetch(example_reader())
    samples = {(n, lab): v for n, lab, v in autoscale_pools.samples(records)}
    prefix = "digitalocean_droplet_autoscale_pool"
    assert samples[(f"{prefix}_info", (POOL, "test-autoscaler-group-01", "tor1", "c-2",
                                       "ubuntu-20-04-x64"))] == 1
    assert samples[(f"{prefix}_status", (POOL, "active"))] == 1
    assert samples[(f"{prefix}_status", (POOL, "error"))] == 0
    assert samples[(f"{prefix}_active_droplets", (POOL,))] == 1
    assert samples[(f"{prefix}_min_droplets", (POOL,))] == 1
    assert samples[(f"{prefix}_max_droplets", (POOL,))] == 5
    assert samples[(f"{prefix}_target_cpu_utilization_ratio", (POOL,))] == 0.5
    assert samples[(f"{prefix}_cooldown_seconds", (POOL,))] == 600
    assert samples[(f"{prefix}_cpu_utilization_ratio", (POOL,))] == 0.0007338008770232183
    assert samples[(f"{prefix}_memory_utilization_ratio", (POOL,))] == 0.3588531587713522
    assert samples[(f"{prefix}_created_timestamp_seconds", (POOL,))] == 1605817638
    # a dynamic pool has no fixed target, and no memory target in this example
    assert (f"{prefix}_target_droplets", (POOL,)) not in samples
    assert (f"{prefix}_target_memory_utilization_ratio", (POOL,)) not in samples


def test_a_static_pool_has_a_target_and_no_bounds() -> None:
    [record] = autoscale_pools.parse_page([{
        "id": "p1", "name": "static", "config": {"target_number_instances": 3},
        "droplet_template": {"region": "fra1", "size": "s-1vcpu-1gb", "image": "debian-12-x64"},
        "status": "error", "active_resources_count": 2,
    }], 0)
    names = {n: v for n, _, v in autoscale_pools.samples((record,))}
    assert names["digitalocean_droplet_autoscale_pool_target_droplets"] == 3
    assert "digitalocean_droplet_autoscale_pool_min_droplets" not in names
    status = [(lab, v) for n, lab, v in autoscale_pools.samples((record,))
              if n == "digitalocean_droplet_autoscale_pool_status"]
    assert status == [(("p1", "active"), 0), (("p1", "deleting"), 0), (("p1", "error"), 1)]


async def test_user_data_is_never_kept() -> None:
    body = spec_example(ENDPOINT)
    body["autoscale_pools"][0]["droplet_template"]["user_data"] = "#cloud-config\npassword: hunter2"
    records = await autoscale_pools.fetch(FakeReader({ENDPOINT: body}))
    assert "hunter2" not in repr(records)
    assert "cloud-config" not in repr(records)


def test_a_pool_without_id_fails_the_poll_naming_the_place() -> None:
    with pytest.raises(ShapeError) as caught:
        autoscale_pools.parse_page([{"name": "x"}, {"id": None}], 200)
    assert str(caught.value) == (
        "/v2/droplets/autoscale autoscale_pools[200].id: expected a non-empty string, got null"
    )


def test_a_template_of_the_wrong_type_fails_the_poll() -> None:
    with pytest.raises(ShapeError, match=r"autoscale_pools\[0\]\.droplet_template: expected an "
                                         r"object, got a list"):
        autoscale_pools.parse_page([{"id": "p", "droplet_template": []}], 0)


async def test_pages_are_parsed_as_they_arrive_and_repeats_dropped() -> None:
    ids = [f"p{i:03d}" for i in range(450)]
    pools = [{"id": pool_id, "droplet_template": {}} for pool_id in ids]
    reader = FakeReader({ENDPOINT: {"autoscale_pools": pools + pools[:3]}})
    records = await autoscale_pools.fetch(reader)
    assert [r.pool_id for r in records] == ids
