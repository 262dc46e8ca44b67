"""Reserved IPv4 and IPv6 against the official examples: assignment, the Droplet relation, both
lists read concurrently, and the legacy floating IP list left alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from exporter.api import ApiError
from exporter.collectors import reserved_ips
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import Answer, FakeReader
from tests.conftest import spec_example

IPV4 = "45.55.96.47"
IPV6_A = "fd53:616d:6d60::dc9:c001"
IPV6_B = "fd53:616d:6d60::dc9:c002"


def example_answers() -> dict[str, Answer]:
    return {
        "/v2/reserved_ips": spec_example("/v2/reserved_ips"),
        "/v2/reserved_ipv6": spec_example("/v2/reserved_ipv6"),
    }


def sample_map(data: reserved_ips.ReservedIps) -> Mapping[tuple[str, tuple[str, ...]], float]:
    return {(name, labels): value for name, labels, value in reserved_ips.samples(data)}


def one_droplet() -> dict[str, Any]:
    droplet: dict[str, Any] = spec_example("/v2/droplets/{droplet_id}", "Single Droplet")["droplet"]
    return droplet


async def test_values_from_the_official_examples() -> None:
    reader = FakeReader(example_answers())
    data = await reserved_ips.fetch(reader)
    assert sorted((r.method, r.endpoint, r.key) for r in reader.requests) == [
        ("list_all", "/v2/reserved_ips", "reserved_ips"),
        ("list_all", "/v2/reserved_ipv6", "reserved_ipv6s"),
    ]
    assert sample_map(data) == {
        ("digitalocean_reserved_ip_info", (IPV4, "nyc3", "746c6152-2fa2-11ed-92d3-27aaa54e4988")): 1,
        ("digitalocean_reserved_ip_assigned", (IPV4,)): 0,
        ("digitalocean_reserved_ip_locked", (IPV4,)): 0,
        ("digitalocean_reserved_ipv6_info", (IPV6_A, "nyc3")): 1,
        ("digitalocean_reserved_ipv6_assigned", (IPV6_A,)): 0,
        ("digitalocean_reserved_ipv6_created_timestamp_seconds", (IPV6_A,)): 1577836800,
        ("digitalocean_reserved_ipv6_info", (IPV6_B, "nyc1")): 1,
        ("digitalocean_reserved_ipv6_assigned", (IPV6_B,)): 0,
        ("digitalocean_reserved_ipv6_created_timestamp_seconds", (IPV6_B,)): 1577836800,
    }


async def test_both_lists_are_requested_at_the_same_time() -> None:
    reader = FakeReader(example_answers())
    data = await reserved_ips.fetch(reader)
    assert reader.most_in_flight == 2  # a sequential fetch never has both open at once
    assert (len(data.ipv4), len(data.ipv6)) == (1, 2)


async def test_one_failed_list_fails_the_poll() -> None:
    answers = example_answers()
    answers["/v2/reserved_ipv6"] = 500
    with pytest.raises(ApiError) as caught:
        await reserved_ips.fetch(FakeReader(answers))
    assert caught.value.status == 500


def test_the_legacy_floating_ip_list_is_not_read() -> None:
    assert reserved_ips.COLLECTOR.endpoints == ("/v2/reserved_ips", "/v2/reserved_ipv6")
    assert not [f for f in reserved_ips.COLLECTOR.families if "floating" in f.name]


def test_an_assigned_address_names_its_droplet() -> None:
    droplet = one_droplet()
    ipv4 = reserved_ips.parse_ipv4([{"ip": "203.0.113.9", "droplet": droplet, "locked": True}])
    ipv6 = reserved_ips.parse_ipv6([{"ip": "2001:db8::1", "droplet": droplet}])
    samples = sample_map(reserved_ips.ReservedIps(ipv4, ipv6))
    assert samples == {
        ("digitalocean_reserved_ip_info", ("203.0.113.9", "", "")): 1,
        ("digitalocean_reserved_ip_assigned", ("203.0.113.9",)): 1,
        ("digitalocean_reserved_ip_droplet_info", ("203.0.113.9", "3164444")): 1,
        ("digitalocean_reserved_ip_locked", ("203.0.113.9",)): 1,
        ("digitalocean_reserved_ipv6_info", ("2001:db8::1", "")): 1,
        ("digitalocean_reserved_ipv6_assigned", ("2001:db8::1",)): 1,
        ("digitalocean_reserved_ipv6_droplet_info", ("2001:db8::1", "3164444")): 1,
    }


def test_a_missing_ipv4_droplet_field_is_unknown_not_unassigned() -> None:
    ipv4 = reserved_ips.parse_ipv4([
        {"ip": "203.0.113.1"},  # the field needs droplet:read: no answer either way
        {"ip": "203.0.113.2", "droplet": {}},  # the spec's "null" alternative is an object
        {"ip": "203.0.113.3", "droplet": None, "locked": "no"},
    ])
    samples = sample_map(reserved_ips.ReservedIps(ipv4, ()))
    assigned = {k[1][0]: v for k, v in samples.items() if k[0] == "digitalocean_reserved_ip_assigned"}
    assert assigned == {"203.0.113.2": 0, "203.0.113.3": 0}
    assert not [k for k in samples if k[0] == "digitalocean_reserved_ip_locked"]


async def test_addresses_are_sorted_and_one_a_shifting_list_repeats_counts_once() -> None:
    # addresses have no `id`: the list is told to drop repeats by `ip`
    reader = FakeReader({
        "/v2/reserved_ips": {"reserved_ips": [{"ip": "b"}, {"ip": "a"}, {"ip": "b", "project_id": "p"}]},
        "/v2/reserved_ipv6": {"reserved_ipv6s": [{"ip": "d"}, {"ip": "c"}, {"ip": "d"}]},
    }, page_size=2)
    found = await reserved_ips.fetch(reader)
    assert [(r.ip, r.project_id) for r in found.ipv4] == [("a", ""), ("b", "")]
    assert [r.ip for r in found.ipv6] == ["c", "d"]
    assert reader.dropped == {"/v2/reserved_ips": 1, "/v2/reserved_ipv6": 1}


@pytest.mark.parametrize(
    ("ipv4", "ipv6", "message"),
    [
        ([{"region": {"slug": "nyc3"}}], [],
         "/v2/reserved_ips reserved_ips[0].ip: expected a non-empty string, got null"),
        ([], [{"ip": ""}],
         "/v2/reserved_ipv6 reserved_ipv6s[0].ip: expected a non-empty string, got the string ''"),
        ([{"ip": "203.0.113.1", "droplet": {"name": "web"}}], [],
         "/v2/reserved_ips reserved_ips[0].droplet.id: expected an integer, got null"),
        ([], [{"ip": "2001:db8::1", "droplet": "3164444"}],
         "/v2/reserved_ipv6 reserved_ipv6s[0].droplet: expected an object, got the string '3164444'"),
        ([], {"reserved_ipv6s": []},
         "/v2/reserved_ipv6 reserved_ipv6s: expected a list, got an object"),
    ],
)
def test_shape_errors_name_the_place(ipv4: Any, ipv6: Any, message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        reserved_ips.ReservedIps(reserved_ips.parse_ipv4(ipv4), reserved_ips.parse_ipv6(ipv6))
    assert str(caught.value) == message
