"""Firewalls against the official example: status state set, rule counts, Droplet and tag
relations, and the difference between "none" and "not known"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from exporter.collectors import firewalls
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader
from tests.conftest import spec, spec_example

FIREWALL = "fb6045f1-cf1d-4ca3-bfac-18832663025b"


def sample_map(records: tuple[firewalls.FirewallRecord, ...]) -> Mapping[tuple[str, tuple[str, ...]], float]:
    return {(name, labels): value for name, labels, value in firewalls.samples(records)}


async def test_values_from_the_official_example() -> None:
    reader = FakeReader({"/v2/firewalls": spec_example("/v2/firewalls")})
    records = await firewalls.fetch(reader)
    assert [(r.method, r.endpoint, r.key) for r in reader.requests] == [
        ("list_all", "/v2/firewalls", "firewalls")
    ]
    assert sample_map(records) == {
        ("digitalocean_firewall_info", (FIREWALL, "firewall")): 1,
        ("digitalocean_firewall_status", (FIREWALL, "waiting")): 0,
        ("digitalocean_firewall_status", (FIREWALL, "succeeded")): 1,
        ("digitalocean_firewall_status", (FIREWALL, "failed")): 0,
        ("digitalocean_firewall_inbound_rules", (FIREWALL,)): 2,
        ("digitalocean_firewall_outbound_rules", (FIREWALL,)): 1,
        ("digitalocean_firewall_droplets", (FIREWALL,)): 1,
        ("digitalocean_firewall_pending_changes", (FIREWALL,)): 0,
        ("digitalocean_firewall_created_timestamp_seconds", (FIREWALL,)): 1495574639,
        ("digitalocean_firewall_droplet_info", (FIREWALL, "8043964")): 1,
    }


def test_states_are_the_spec_enum() -> None:
    [part, _rules] = spec()["components"]["schemas"]["firewall"]["allOf"]
    assert tuple(part["properties"]["status"]["enum"]) == firewalls.STATUSES


def firewall_property_examples() -> dict[str, Any]:
    """The firewall schema's per-property examples. `schema_example("firewall")` is empty: the
    schema is `type: object` with `allOf`, and the builder reads only its (absent) properties."""
    [part, _rules] = spec()["components"]["schemas"]["firewall"]["allOf"]
    return {k: v["example"] for k, v in part["properties"].items() if "example" in v}


def test_pending_changes_and_tags_from_the_schema_examples() -> None:
    firewall = firewall_property_examples()
    firewall["tags"] = ["gateway", "web", "gateway"]  # the schema's own tags example is a bare string
    [record] = firewalls.parse_firewalls([firewall])
    assert (record.firewall_id, record.status, record.pending_changes, record.tags) == (
        "bb4b2611-3d72-467b-8602-280330ecd65c", "waiting", 1, ("gateway", "web")
    )
    samples = sample_map((record,))
    assert samples[("digitalocean_firewall_pending_changes", (record.firewall_id,))] == 1
    assert [labels for name, labels in samples if name == "digitalocean_firewall_tag_info"] == [
        (record.firewall_id, "gateway"), (record.firewall_id, "web"),
    ]


def test_null_rules_are_zero_but_null_droplets_are_unknown() -> None:
    [record] = firewalls.parse_firewalls([{
        "id": "f1", "inbound_rules": None, "droplet_ids": None, "tags": None,
        "pending_changes": None,  # outbound_rules missing altogether
    }])
    assert (record.inbound_rules, record.outbound_rules, record.droplet_ids) == (0, None, None)
    values = [(n, v) for n, _, v in firewalls.samples((record,))
              if n not in ("digitalocean_firewall_info", "digitalocean_firewall_status")]
    assert values == [("digitalocean_firewall_inbound_rules", 0)]


def test_droplet_relations_are_unique_sorted_and_counted() -> None:
    [record] = firewalls.parse_firewalls([{"id": "f1", "droplet_ids": [9, 3, 9, "7", True]}])
    samples = sample_map((record,))
    assert samples[("digitalocean_firewall_droplets", ("f1",))] == 2
    assert [lab for n, lab in samples if n == "digitalocean_firewall_droplet_info"] == [
        ("f1", "3"), ("f1", "9"),
    ]


def test_unknown_status_is_visible_in_the_state_set() -> None:
    [record] = firewalls.parse_firewalls([{"id": "f1", "status": "applying"}])
    status = {lab[1]: v for n, lab, v in firewalls.samples((record,))
              if n == "digitalocean_firewall_status"}
    assert status == {"waiting": 0, "succeeded": 0, "failed": 0, "applying": 1}


async def test_an_id_a_shifting_list_repeats_counts_once_and_output_is_sorted_by_id() -> None:
    reader = FakeReader({"/v2/firewalls": {"firewalls": [
        {"id": "b", "name": "first"}, {"id": "a"}, {"id": "b", "name": "second"},
    ]}}, page_size=2)
    records = await firewalls.fetch(reader)
    assert [(r.firewall_id, r.name) for r in records] == [("a", ""), ("b", "first")]
    assert reader.dropped == {"/v2/firewalls": 1}


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"name": "no-id"}], "/v2/firewalls firewalls[0].id: expected a non-empty string, got null"),
        ([{"id": ["f1"]}], "/v2/firewalls firewalls[0].id: expected a non-empty string, got a list"),
        ([{"id": "a"}, "b"], "/v2/firewalls firewalls[1]: expected an object, got the string 'b'"),
        (None, "/v2/firewalls firewalls: expected a list, got null"),
    ],
)
def test_shape_errors_name_the_place(items: Any, message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        firewalls.parse_firewalls(items)
    assert str(caught.value) == message
