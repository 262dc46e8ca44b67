"""Volumes against the official examples: sizes in bytes, attachments as series."""

from __future__ import annotations

import pytest

from exporter.collectors import volumes
from exporter.collectors.fields import ShapeError
from tests.conftest import example_reader


async def test_values_from_the_all_volumes_example() -> None:
    records = await volumes.fetch(example_reader())
    samples = {(n, lab): v for n, lab, v in volumes.samples(records)}
    vid = "506f78a4-e098-11e5-ad9f-000f53306ae1"
    assert samples[("digitalocean_volume_info", (vid, "example", "nyc1", "ext4"))] == 1
    assert samples[("digitalocean_volume_size_bytes", (vid,))] == 10 * 1073741824
    assert samples[("digitalocean_volume_created_timestamp_seconds", (vid,))] == 1456938049
    assert not [k for k in samples if k[0] == "digitalocean_volume_attached_droplet_info"]


def test_attachments_and_fractional_sizes() -> None:
    records = volumes.parse_volumes([
        {"id": "v1", "size_gigabytes": 100, "droplet_ids": [3164459, 42]},
        {"id": "v2", "size_gigabytes": 1.5, "droplet_ids": None},
    ])
    samples = [(n, lab, v) for n, lab, v in volumes.samples(records)
               if n != "digitalocean_volume_info"]
    assert samples == [
        ("digitalocean_volume_size_bytes", ("v1",), 107374182400),
        ("digitalocean_volume_attached_droplet_info", ("v1", "3164459"), 1),
        ("digitalocean_volume_attached_droplet_info", ("v1", "42"), 1),
        ("digitalocean_volume_size_bytes", ("v2",), 1610612736),
    ]


def test_volume_without_id_fails_the_poll() -> None:
    with pytest.raises(ShapeError) as caught:
        volumes.parse_volumes([{"id": ""}])
    assert str(caught.value) == (
        "/v2/volumes volumes[0].id: expected a non-empty string, got the string ''"
    )
