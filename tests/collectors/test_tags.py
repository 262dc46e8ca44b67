"""Tags against the official list example: tagged resources counted per type."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.collectors import tags
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader
from tests.conftest import spec, spec_example


async def test_values_from_the_official_example() -> None:
    reader = FakeReader({"/v2/tags": spec_example("/v2/tags")})
    records = await tags.fetch(reader)
    assert [(r.method, r.endpoint, r.key) for r in reader.requests] == [("list_all", "/v2/tags", "tags")]
    key = ("extra-awesome",)
    # the total (5) and last_tagged_uri are not per-type counts and are left out
    assert list(tags.samples(records)) == [
        ("digitalocean_tag_info", key, 1),
        ("digitalocean_tag_resources", (*key, "databases"), 1),
        ("digitalocean_tag_resources", (*key, "droplets"), 1),
        ("digitalocean_tag_resources", (*key, "images"), 1),
        ("digitalocean_tag_resources", (*key, "volume_snapshots"), 1),
        ("digitalocean_tag_resources", (*key, "volumes"), 1),
    ]


def test_uris_are_not_kept() -> None:
    records = tags.parse_tags(spec_example("/v2/tags")["tags"])
    assert "https://" not in repr(records)


def test_counts_per_type_are_lenient_and_sorted() -> None:
    records = tags.parse_tags([
        {"name": "web", "resources": {"count": 7, "droplets": {"count": 7}, "volumes": {"count": None},
                                      "images": None, "kubernetes_clusters": {"count": 0}}},
        {"name": "env:prod", "resources": None},
        {"name": "bare"},
    ])
    assert records == (
        tags.TagRecord("bare", ()),
        tags.TagRecord("env:prod", ()),
        tags.TagRecord("web", (("droplets", 7), ("kubernetes_clusters", 0))),
    )


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"resources": {}}], "/v2/tags tags[0].name: expected a non-empty string, got null"),
        ([{"name": ""}], "/v2/tags tags[0].name: expected a non-empty string, got the string ''"),
        (None, "/v2/tags tags: expected a list, got null"),
    ],
)
def test_shape_errors_name_the_place(items: Any, message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        tags.parse_tags(items)
    assert str(caught.value) == message


def test_collector_contract() -> None:
    c = tags.COLLECTOR
    assert (c.name, c.scope, c.interval, c.endpoints) == ("tags", "tag:read", 900.0, ("/v2/tags",))
    assert spec()["paths"]["/v2/tags"]["get"]["security"] == [{"bearer_auth": [c.scope]}]
    for family in c.families:
        assert family.name.startswith("digitalocean_tag_")
        assert family.help.endswith(", polled from /v2/tags."), family.help
        assert '"' not in family.help
        assert "\\" not in family.help
    labels = {f.name: len(f.labels) for f in c.families}
    emitted = list(tags.samples(tags.parse_tags(spec_example("/v2/tags")["tags"])))
    assert {name for name, _, _ in emitted} == set(labels)
    assert all(len(values) == labels[name] for name, values, _ in emitted)


async def test_a_tag_a_shifting_list_repeats_counts_once() -> None:
    # tags have no `id`: the list is told to drop repeats by `name`
    reader = FakeReader({"/v2/tags": {"tags": [{"name": "b"}, {"name": "a"}, {"name": "b"}]}},
                        page_size=2)
    assert [t.tag for t in await tags.fetch(reader)] == ["a", "b"]
    assert reader.dropped == {"/v2/tags": 1}
