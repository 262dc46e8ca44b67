"""Private images against the official "All" example of GET /v2/images, read with
`?private=true`; ids are strict integers, the rest lenient; pages are parsed as they arrive."""

from __future__ import annotations

import pytest

from exporter.collectors import images
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader
from tests.conftest import example_reader


async def test_values_from_the_all_images_example() -> None:
    reader = example_reader()
    records = await images.fetch(reader)
    assert [(r.method, r.route) for r in reader.requests] == [
        ("list_all", "/v2/images?private=true")]
    # The example lists 7555621 four times; the reader keeps the first (a list that shifted
    # while it was paged repeats items: the first time an id is seen is the one kept).
    assert [r.image_id for r in records] == ["7555620", "7555621", "63663980"]
    got = {(name, labels): value for name, labels, value in images.samples(records)}
    assert got[("digitalocean_image_info", ("7555621", "Another Snapshot", "snapshot",
                                            "Ubuntu"))] == 1
    assert got[("digitalocean_image_info", ("7555620", "Nifty New Snapshot", "snapshot",
                                            "Ubuntu"))] == 1
    assert got[("digitalocean_image_region_info", ("7555620", "nyc2"))] == 1
    assert got[("digitalocean_image_region_info", ("7555620", "nyc3"))] == 1
    assert got[("digitalocean_image_size_bytes", ("7555620",))] == 2512555868  # 2.34 GiB
    assert got[("digitalocean_image_min_disk_size_bytes", ("7555620",))] == 20 * 2**30
    assert got[("digitalocean_image_created_timestamp_seconds", ("7555620",))] == 1415139782.0
    assert got[("digitalocean_image_status", ("7555620", "available"))] == 1
    assert got[("digitalocean_image_status", ("7555620", "new"))] == 0
    assert len(got) == 3 + 5 + 3 * 5 + 3 * 3  # info, regions (2 + 1 + 2), state sets, values


def test_a_custom_image_from_its_own_example_keeps_type_and_distribution() -> None:
    [record] = images.parse_images([{
        "id": 7555621, "name": "A custom image", "distribution": "Arch Linux", "type": "custom",
        "regions": ["nyc3", "nyc3"], "size_gigabytes": 2.34, "status": "NEW",
        "created_at": "2014-11-04T22:23:02Z"}])
    assert (record.type, record.distribution, record.regions) == ("custom", "Arch Linux", ("nyc3",))
    states = [(labels[1], value) for name, labels, value in images.samples((record,))
              if name == "digitalocean_image_status"]
    assert states == [("new", 1), ("available", 0), ("pending", 0), ("deleted", 0), ("retired", 0)]


def test_an_id_that_is_not_an_integer_fails_the_poll_naming_the_place() -> None:
    with pytest.raises(ShapeError) as caught:
        images.parse_page([{"id": 1}, {"id": "7555620"}], 200)
    assert str(caught.value) == (
        "/v2/images images[201].id: expected an integer, got the string '7555620'")


def test_lenient_fields_read_as_unknown_not_zero() -> None:
    [record] = images.parse_images([{"id": 9, "size_gigabytes": None, "min_disk_size": "20",
                                     "status": None, "created_at": "2014-11-04"}])
    names = {name for name, _, _ in images.samples((record,))}
    assert names == {"digitalocean_image_info"}


async def test_450_images_arrive_once_each_through_pages() -> None:
    listed = [{"id": 1000 + i, "type": "custom"} for i in range(450)]
    reader = FakeReader({"/v2/images?private=true": {"images": listed + listed[:2]}})
    records = await images.fetch(reader)
    assert [r.image_id for r in records] == [str(1000 + i) for i in range(450)]
