"""Droplet backup policies against the official example of GET /v2/droplets/backups/policies
(a map keyed by Droplet id, paged like a list); plans, windows and retention in base units."""

from __future__ import annotations

import pytest

from exporter.collectors import droplet_backups
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader
from tests.conftest import example_reader

ENDPOINT = "/v2/droplets/backups/policies"


async def test_the_official_example_becomes_exact_series() -> None:
    reader = example_reader()
    records = await droplet_backups.fetch(reader)
    assert [(r.method, r.route) for r in reader.requests] == [("list_all", ENDPOINT)]
    assert list(droplet_backups.samples(records)) == [
        ("digitalocean_droplet_backups_enabled", ("436444618",), 0),
        ("digitalocean_droplet_backups_enabled", ("444909314",), 1),
        ("digitalocean_droplet_backup_policy_info", ("444909314", "daily", ""), 1),
        ("digitalocean_droplet_backup_window_start_seconds", ("444909314",), 20 * 3600),
        ("digitalocean_droplet_backup_window_length_seconds", ("444909314",), 4 * 3600),
        ("digitalocean_droplet_backup_retention_seconds", ("444909314",), 7 * 86400),
        ("digitalocean_droplet_next_backup_window_start_timestamp_seconds", ("444909314",),
         1726257600.0),
        ("digitalocean_droplet_next_backup_window_end_timestamp_seconds", ("444909314",),
         1726272000.0),
        ("digitalocean_droplet_backups_enabled", ("444909706",), 1),
        ("digitalocean_droplet_backup_policy_info", ("444909706", "weekly", "SUN"), 1),
        ("digitalocean_droplet_backup_window_start_seconds", ("444909706",), 20 * 3600),
        ("digitalocean_droplet_backup_window_length_seconds", ("444909706",), 4 * 3600),
        ("digitalocean_droplet_backup_retention_seconds", ("444909706",), 28 * 86400),
        ("digitalocean_droplet_next_backup_window_start_timestamp_seconds", ("444909706",),
         1726430400.0),
        ("digitalocean_droplet_next_backup_window_end_timestamp_seconds", ("444909706",),
         1726444800.0),
    ]


def test_a_policy_without_its_droplet_id_fails_the_poll_naming_the_place() -> None:
    with pytest.raises(ShapeError) as caught:
        droplet_backups.parse_page([{"droplet_id": 1}, {"droplet_id": "2"}], 200)
    assert str(caught.value) == (
        "/v2/droplets/backups/policies policies[201].droplet_id: expected an integer, "
        "got the string '2'")


def test_a_backup_policy_of_the_wrong_type_fails_and_missing_parts_are_unknown() -> None:
    with pytest.raises(ShapeError, match=r"policies\[0\]\.backup_policy: expected an object"):
        droplet_backups.parse_page([{"droplet_id": 1, "backup_policy": "daily"}], 0)
    [record] = droplet_backups.parse_policies([{"droplet_id": 5, "backup_enabled": True,
                                                "next_backup_window": None}])
    assert list(droplet_backups.samples((record,))) == [
        ("digitalocean_droplet_backups_enabled", ("5",), 1)]


async def test_450_policies_in_pages_of_a_map_arrive_once_each() -> None:
    policies = {str(i): {"droplet_id": i, "backup_enabled": False} for i in range(1, 451)}
    reader = FakeReader({ENDPOINT: {"policies": policies, "links": {}, "meta": {"total": 450}}})
    records = await droplet_backups.fetch(reader)
    assert [r.droplet_id for r in records] == list(range(1, 451))
