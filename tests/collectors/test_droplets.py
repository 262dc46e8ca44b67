"""Droplets against the official examples: exact values, units, GPU merge, tags, state sets."""

from __future__ import annotations

import pytest

from exporter.collectors import droplets
from exporter.collectors.fields import ShapeError
from tests.conftest import example_reader


async def test_default_and_gpu_lists_are_both_read_and_merged() -> None:
    reader = example_reader()
    records = await droplets.fetch(reader)
    assert [r.droplet_id for r in records] == [3164412, 3164444, 3164459, 448543583]
    assert sorted(r.params.get("type", "") for r in reader.requests) == ["", "gpus"]


async def test_values_from_the_all_droplets_example() -> None:
    records = await droplets.fetch(example_reader())
    samples = {(name, labels): value for name, labels, value in droplets.samples(records)}
    key = ("3164444",)
    assert samples[("digitalocean_droplet_info", (*key, "example.com", "nyc3", "s-1vcpu-1gb",
                                                  "ubuntu-20-04-x64",
                                                  "760e09ef-dc84-11e8-981e-3cfdfeaae000"))] == 1
    assert samples[("digitalocean_droplet_memory_bytes", key)] == 1024 * 1048576
    assert samples[("digitalocean_droplet_disk_bytes", key)] == 25 * 1073741824
    assert samples[("digitalocean_droplet_vcpus", key)] == 1
    assert samples[("digitalocean_droplet_price_monthly_usd", key)] == 5.0
    assert samples[("digitalocean_droplet_price_hourly_usd", key)] == 0.00743999984115362
    assert samples[("digitalocean_droplet_created_timestamp_seconds", key)] == 1595356664
    assert samples[("digitalocean_droplet_tag_info", (*key, "web"))] == 1
    assert samples[("digitalocean_droplet_tag_info", (*key, "env:prod"))] == 1
    status = {labels[1]: v for (n, labels), v in samples.items()
              if n == "digitalocean_droplet_status" and labels[0] == "3164444"}
    assert status == {"new": 0, "active": 1, "off": 0, "archive": 0}


async def test_gpu_droplet_units() -> None:
    records = await droplets.fetch(example_reader())
    gpu = next(r for r in records if r.droplet_id == 448543583)
    assert (gpu.size, gpu.vcpus, gpu.memory_mib, gpu.price_monthly) == (
        "gpu-h100x1-80gb", 20, 245760, 4529.3
    )
    samples = {(n, lab): v for n, lab, v in droplets.samples((gpu,))}
    assert samples[("digitalocean_droplet_memory_bytes", ("448543583",))] == 257698037760


def test_missing_optional_fields_and_null_image_are_tolerated() -> None:
    [record] = droplets.parse_droplets(([{"id": 7, "status": "off", "image": None, "size": None,
                                          "tags": None, "created_at": "not a time"}], "x"))
    assert (record.image, record.size, record.tags, record.created_at) == ("", "", (), None)
    names = {n for n, _, _ in droplets.samples((record,))}
    assert names == {"digitalocean_droplet_info", "digitalocean_droplet_status"}


def test_unknown_status_is_visible_in_the_state_set() -> None:
    [record] = droplets.parse_droplets(([{"id": 7, "status": "rebooting"}], "x"))
    status = {lab[1]: v for n, lab, v in droplets.samples((record,))
              if n == "digitalocean_droplet_status"}
    assert status == {"new": 0, "active": 0, "off": 0, "archive": 0, "rebooting": 1}


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"name": "no id"}], "/v2/droplets droplets[0].id: expected an integer, got null"),
        ([{"id": "7"}], "/v2/droplets droplets[0].id: expected an integer, got the string '7'"),
        ([{"id": 1}, 5], "/v2/droplets droplets[1]: expected an object, got the number 5"),
        ({"id": 1}, "/v2/droplets droplets: expected a list, got an object"),
    ],
)
def test_shape_errors_name_the_place(items: object, message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        droplets.parse_droplets((items, "/v2/droplets droplets"))  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_same_id_in_both_lists_counts_once() -> None:
    records = droplets.parse_droplets(([{"id": 1, "name": "a"}], "x"), ([{"id": 1, "name": "b"}], "y"))
    assert [(r.droplet_id, r.name) for r in records] == [(1, "b")]


async def test_ipv4_addresses_from_the_networks_of_the_example() -> None:
    """Kept for /sd/droplets (exporter/discovery.py); no series carries them."""
    records = {r.droplet_id: r for r in await droplets.fetch(example_reader())}
    assert (records[3164444].public_ipv4, records[3164444].private_ipv4) == (
        "192.241.165.154", "10.128.192.124")
    assert (records[3164412].public_ipv4, records[3164412].private_ipv4) == (
        "192.241.247.248", "10.128.192.125")
    rendered = repr(list(droplets.samples(tuple(records.values()))))
    assert "192.241.165.154" not in rendered


@pytest.mark.parametrize("networks", [
    None, "x", {"v4": None}, {"v4": ["x", None, {"type": "public", "ip_address": 7}]},
    {"v4": [{"type": "private", "ip_address": "10.0.0.1"}]},
])
def test_missing_or_mistyped_networks_give_no_public_address(networks: object) -> None:
    [record] = droplets.parse_droplets(([{"id": 7, "networks": networks}], "x"))
    assert record.public_ipv4 == ""
