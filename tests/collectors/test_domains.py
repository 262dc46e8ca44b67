"""Domains against the official list example, with record counts from the records endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.api import ApiError
from exporter.collectors import domains
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import FakeReader, InTurn
from tests.conftest import spec, spec_example

RECORDS = "/v2/domains/{domain_name}/records"

# The records of the zone file in the spec's /v2/domains example, in the API's record shape
# (the records endpoint is not in the spec subset).
EXAMPLE_RECORDS = {
    "domain_records": [
        {"id": 28448429, "type": "SOA", "name": "@", "data": "1800", "ttl": 1800},
        {"id": 28448430, "type": "NS", "name": "@", "data": "ns1.digitalocean.com", "ttl": 1800},
        {"id": 28448431, "type": "NS", "name": "@", "data": "ns2.digitalocean.com", "ttl": 1800},
        {"id": 28448432, "type": "NS", "name": "@", "data": "ns3.digitalocean.com", "ttl": 1800},
        {"id": 28448433, "type": "A", "name": "@", "data": "1.2.3.4", "ttl": 1800},
    ],
    "links": {},
    "meta": {"total": 5},
}

def records_of(domain: str) -> str:
    return f"/v2/domains/{domain}/records"


async def test_official_example_with_its_records() -> None:
    reader = FakeReader({
        "/v2/domains": spec_example("/v2/domains"),
        records_of("example.com"): EXAMPLE_RECORDS,
    })
    records = await domains.fetch(reader)
    assert records == (
        domains.DomainRecord("example.com", 1800, (("A", 1), ("NS", 3), ("SOA", 1))),
    )
    assert list(domains.samples(records)) == [
        ("digitalocean_domain_info", ("example.com",), 1),
        ("digitalocean_domain_ttl_seconds", ("example.com",), 1800),
        ("digitalocean_domain_records", ("example.com", "A"), 1),
        ("digitalocean_domain_records", ("example.com", "NS"), 3),
        ("digitalocean_domain_records", ("example.com", "SOA"), 1),
    ]
    # both lists are read through the paging client, the records once per domain
    assert [(r.method, r.endpoint, r.path) for r in reader.requests] == [
        ("list_all", "/v2/domains", {}),
        ("list_all", RECORDS, {"domain_name": "example.com"}),
    ]


async def test_zone_file_and_record_data_are_not_kept() -> None:
    reader = FakeReader({
        "/v2/domains": spec_example("/v2/domains"),
        records_of("example.com"): EXAMPLE_RECORDS,
    })
    text = repr(await domains.fetch(reader))
    assert "ORIGIN" not in text
    assert "1.2.3.4" not in text


async def test_each_domain_gets_its_own_records_and_output_is_sorted() -> None:
    reader = FakeReader({
        "/v2/domains": {"domains": [{"name": "b.example", "ttl": 300}, {"name": "a.example"}]},
        records_of("a.example"): {"domain_records": [{"type": "MX"}, {"type": "MX"}]},
        records_of("b.example"): {"domain_records": [{"type": "TXT"}]},
    })
    records = await domains.fetch(reader)
    assert records == (
        domains.DomainRecord("a.example", None, (("MX", 2),)),
        domains.DomainRecord("b.example", 300, (("TXT", 1),)),
    )


async def test_a_domain_deleted_before_its_records_were_read_is_skipped() -> None:
    reader = FakeReader({
        "/v2/domains": InTurn({"domains": [{"name": "gone.example"}, {"name": "kept.example"}]},
                              {"domains": [{"name": "kept.example"}]}),
        records_of("gone.example"): 404,
        records_of("kept.example"): {"domain_records": []},
    })
    assert await domains.fetch(reader) == (domains.DomainRecord("kept.example", None, ()),)
    # the 404 alone is not taken for a deletion: the list was read again to confirm it
    assert [r.route for r in reader.requests].count("/v2/domains") == 2


async def test_a_404_for_the_records_of_a_domain_still_listed_fails_the_poll() -> None:
    """A proxy or an API fault answering 404 must not empty the collector with success 1."""
    reader = FakeReader({
        "/v2/domains": {"domains": [{"name": "a.example"}, {"name": "b.example"}]},
        records_of("a.example"): 404,
        records_of("b.example"): 404,
    })
    with pytest.raises(ShapeError) as caught:
        await domains.fetch(reader)
    assert str(caught.value) == (
        "/v2/domains/{domain_name}/records: HTTP 404 for a.example, b.example, which /v2/domains "
        "still lists; nothing is dropped on a 404 that is not a deletion"
    )


async def test_no_second_list_read_when_every_follow_up_answered() -> None:
    reader = FakeReader({
        "/v2/domains": {"domains": [{"name": "a.example"}]},
        records_of("a.example"): {"domain_records": []},
    })
    await domains.fetch(reader)
    assert [r.route for r in reader.requests].count("/v2/domains") == 1


async def test_other_record_errors_fail_the_poll() -> None:
    error = ApiError(f"{RECORDS}: HTTP 500", endpoint=RECORDS, status=500)
    reader = FakeReader({
        "/v2/domains": {"domains": [{"name": "example.com"}]},
        records_of("example.com"): error,
    })
    with pytest.raises(ApiError) as caught:
        await domains.fetch(reader)
    assert caught.value is error


def test_null_ttl_and_a_record_without_type_are_tolerated() -> None:
    [domain] = domains.parse_domains([{"name": "example.com", "ttl": None, "zone_file": None}])
    assert domain == domains.DomainRecord("example.com", None, ())
    counts = domains.count_record_types([{"type": None}, {"id": 1}, {"type": "A"}], "x")
    assert counts == (("A", 1), ("unknown", 2))
    assert [n for n, _, _ in domains.samples((domain,))] == ["digitalocean_domain_info"]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"ttl": 1800}], "/v2/domains domains[0].name: expected a non-empty string, got null"),
        ([{"name": 7}], "/v2/domains domains[0].name: expected a non-empty string, got the number 7"),
        ({"name": "x"}, "/v2/domains domains: expected a list, got an object"),
    ],
)
def test_domain_shape_errors_name_the_place(items: Any, message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        domains.parse_domains(items)
    assert str(caught.value) == message


async def test_record_shape_errors_name_the_domain() -> None:
    reader = FakeReader({
        "/v2/domains": {"domains": [{"name": "example.com"}]},
        records_of("example.com"): {"domain_records": [{"type": "A"}, 5]},
    })
    with pytest.raises(ShapeError) as caught:
        await domains.fetch(reader)
    assert str(caught.value) == (
        "/v2/domains/example.com/records domain_records[1]: expected an object, got the number 5"
    )


def test_collector_contract() -> None:
    c = domains.COLLECTOR
    assert (c.name, c.scope, c.interval) == ("domains", "domain:read", 3600.0)
    assert spec()["paths"]["/v2/domains"]["get"]["security"] == [{"bearer_auth": [c.scope]}]
    for family in c.families:
        assert family.name.startswith("digitalocean_domain_")
        assert any(family.help.endswith(f", polled from {e}.") for e in c.endpoints), family.help
        assert '"' not in family.help
        assert "\\" not in family.help
    labels = {f.name: len(f.labels) for f in c.families}
    record = domains.DomainRecord("example.com", 60, (("A", 2),))
    emitted = list(domains.samples((record,)))
    assert {name for name, _, _ in emitted} == set(labels)
    assert all(len(values) == labels[name] for name, values, _ in emitted)


async def test_a_domain_a_shifting_list_repeats_counts_once() -> None:
    # domains have no `id`: the list is told to drop repeats by `name`
    reader = FakeReader({
        "/v2/domains": {"domains": [{"name": "b.com"}, {"name": "a.com"}, {"name": "b.com"}]},
        "/v2/domains/{domain_name}/records": {"domain_records": [], "links": {}, "meta": {"total": 0}},
    }, page_size=2)
    assert [d.domain for d in await domains.fetch(reader)] == ["a.com", "b.com"]
    assert reader.dropped == {"/v2/domains": 1}
