"""CDN endpoints against the official list example."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.collectors import cdn
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader
from tests.conftest import spec, spec_example

ENDPOINT_ID = "19f06b6a-3ace-4315-b086-499a0e521b76"


async def test_values_from_the_official_example() -> None:
    reader = FakeReader({"/v2/cdn/endpoints": spec_example("/v2/cdn/endpoints")})
    records = await cdn.fetch(reader)
    assert [(r.method, r.endpoint, r.key) for r in reader.requests] == [
        ("list_all", "/v2/cdn/endpoints", "endpoints")
    ]
    assert list(cdn.samples(records)) == [
        ("digitalocean_cdn_endpoint_info",
         (ENDPOINT_ID, "static-images.nyc3.digitaloceanspaces.com",
          "static-images.nyc3.cdn.digitaloceanspaces.com", "static.example.com",
          "892071a0-bb95-49bc-8021-3afd67a210bf"), 1),
        ("digitalocean_cdn_endpoint_ttl_seconds", (ENDPOINT_ID,), 3600),
        ("digitalocean_cdn_endpoint_created_timestamp_seconds", (ENDPOINT_ID,), 1532012656.0),
    ]


def test_endpoint_without_custom_domain_or_ttl() -> None:
    records = cdn.parse_endpoints([
        {"id": "b", "origin": "o.fra1.digitaloceanspaces.com", "custom_domain": None,
         "certificate_id": None, "ttl": None, "created_at": "yesterday"},
        {"id": "a"},
    ])
    assert [r.cdn_endpoint_id for r in records] == ["a", "b"]
    assert list(cdn.samples(records[1:])) == [
        ("digitalocean_cdn_endpoint_info", ("b", "o.fra1.digitaloceanspaces.com", "", "", ""), 1),
    ]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"origin": "o"}], "/v2/cdn/endpoints endpoints[0].id: expected a non-empty string, got null"),
        ([{"id": "a"}, None], "/v2/cdn/endpoints endpoints[1]: expected an object, got null"),
    ],
)
def test_shape_errors_name_the_place(items: Any, message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        cdn.parse_endpoints(items)
    assert str(caught.value) == message


def test_collector_contract() -> None:
    c = cdn.COLLECTOR
    assert (c.name, c.scope, c.interval, c.endpoints) == ("cdn", "cdn:read", 900.0, ("/v2/cdn/endpoints",))
    assert spec()["paths"]["/v2/cdn/endpoints"]["get"]["security"] == [{"bearer_auth": [c.scope]}]
    for family in c.families:
        assert family.name.startswith("digitalocean_cdn_endpoint_")
        assert family.help.endswith(", polled from /v2/cdn/endpoints."), family.help
        assert '"' not in family.help
        assert "\\" not in family.help
    labels = {f.name: len(f.labels) for f in c.families}
    emitted = list(cdn.samples(cdn.parse_endpoints(spec_example("/v2/cdn/endpoints")["endpoints"])))
    assert {name for name, _, _ in emitted} == set(labels)
    assert all(len(values) == labels[name] for name, values, _ in emitted)
