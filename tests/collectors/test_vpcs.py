"""VPCs against the official list example, and their members (an endpoint the spec subset does not
have, in the shape the API documents): counts by resource type, one bounded follow-up per VPC."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from exporter.api import ApiError
from exporter.collectors import vpcs
from exporter.collectors.base import FOLLOW_UP_CONCURRENCY
from exporter.collectors.fields import ShapeError
from tests.collectors.fakes import Answer, FakeReader, InTurn
from tests.conftest import spec_example

PROD = "5a4981aa-9653-4bd1-bef5-d6bff52042e4"
DEFAULT_NYC1 = "e0fe0f4d-596a-465e-a902-571ce57b79fa"
DEFAULT_NYC3 = "d455e75d-4858-4eec-8c95-da2f0a5f93a7"


def member(urn: Any) -> dict[str, Any]:
    return {"urn": urn, "name": "example", "created_at": "2020-03-13T19:30:48Z"}


def members_reader(vpc_list: Any, members: Mapping[str, list[Any] | BaseException | int]
                   ) -> FakeReader:
    """/v2/vpcs answered with `vpc_list`, and each VPC's members by its id (a list of members,
    an HTTP status, or an exception)."""
    answers: dict[str, Answer] = {"/v2/vpcs": vpc_list}
    for vpc_id, answer in members.items():
        answers[f"/v2/vpcs/{vpc_id}/members"] = (
            {"members": answer, "links": {}, "meta": {"total": len(answer)}}
            if isinstance(answer, list) else answer
        )
    return FakeReader(answers)


def sample_map(records: tuple[vpcs.VpcRecord, ...]) -> Mapping[tuple[str, tuple[str, ...]], float]:
    return {(name, labels): value for name, labels, value in vpcs.samples(records)}


async def test_values_from_the_official_example_with_members() -> None:
    reader = members_reader(spec_example("/v2/vpcs"), {
        PROD: [member("do:droplet:13457723"), member("do:droplet:13457724"),
               member("do:loadbalancer:4de7ac8b-495b-4884-9a69-1050c6793cd6")],
        DEFAULT_NYC1: [member("do:dbaas:9cc10173-e9ea-4176-9dbc-a4cee4c4ff30")],
        DEFAULT_NYC3: [],
    })
    records = await vpcs.fetch(reader)
    assert sample_map(records) == {
        ("digitalocean_vpc_info", (PROD, "env.prod-vpc", "nyc1", "10.10.10.0/24", "false")): 1,
        # nanoseconds in the example: Python keeps microseconds
        ("digitalocean_vpc_created_timestamp_seconds", (PROD,)): 1584127247.442049,
        ("digitalocean_vpc_members", (PROD, "droplet")): 2,
        ("digitalocean_vpc_members", (PROD, "loadbalancer")): 1,
        ("digitalocean_vpc_info", (DEFAULT_NYC3, "default-nyc3", "nyc3", "10.100.0.0/20", "true")): 1,
        ("digitalocean_vpc_created_timestamp_seconds", (DEFAULT_NYC3,)): 1574201975,
        ("digitalocean_vpc_info", (DEFAULT_NYC1, "default-nyc1", "nyc1", "10.102.0.0/20", "true")): 1,
        ("digitalocean_vpc_created_timestamp_seconds", (DEFAULT_NYC1,)): 1584127760,
        ("digitalocean_vpc_members", (DEFAULT_NYC1, "dbaas")): 1,
    }
    # the description is free text and never becomes a label
    assert not [labels for _, labels in sample_map(records) if "VPC for production environment" in labels]


async def test_members_are_listed_once_per_vpc_through_the_paged_reader() -> None:
    reader = members_reader(spec_example("/v2/vpcs"), {PROD: [], DEFAULT_NYC1: [], DEFAULT_NYC3: []})
    await vpcs.fetch(reader)
    listed = [(r.method, r.endpoint, r.key, r.path) for r in reader.requests]
    assert listed[0] == ("list_all", "/v2/vpcs", "vpcs", {})
    follow_ups = sorted(
        (endpoint, key, path["vpc_id"]) for method, endpoint, key, path in listed[1:]
        if method == "list_all"
    )
    assert len(follow_ups) == len(listed) - 1
    vpc_ids = sorted((PROD, DEFAULT_NYC1, DEFAULT_NYC3))
    assert follow_ups == [("/v2/vpcs/{vpc_id}/members", "members", vpc_id) for vpc_id in vpc_ids]


async def test_member_requests_run_side_by_side_at_most_follow_up_concurrency_at_a_time() -> None:
    ids = [f"vpc-{n:02d}" for n in range(2 * FOLLOW_UP_CONCURRENCY)]
    reader = members_reader({"vpcs": [{"id": i} for i in ids]}, {i: [member("do:droplet:1")] for i in ids})
    records = await vpcs.fetch(reader)
    assert reader.most_in_flight == FOLLOW_UP_CONCURRENCY
    assert [r.vpc_id for r in records] == ids
    assert all(r.member_counts == (("droplet", 1),) for r in records)


async def test_a_vpc_deleted_between_the_requests_is_left_out() -> None:
    reader = members_reader(InTurn({"vpcs": [{"id": "a"}, {"id": "b"}]}, {"vpcs": [{"id": "b"}]}),
                            {"a": 404, "b": []})
    assert [r.vpc_id for r in await vpcs.fetch(reader)] == ["b"]


async def test_a_404_for_the_members_of_a_vpc_still_listed_fails_the_poll() -> None:
    reader = members_reader({"vpcs": [{"id": "a"}, {"id": "b"}]}, {"a": 404, "b": []})
    with pytest.raises(ShapeError, match=r"HTTP 404 for a, which /v2/vpcs still lists"):
        await vpcs.fetch(reader)


async def test_any_other_member_error_fails_the_poll() -> None:
    reader = members_reader({"vpcs": [{"id": "a"}, {"id": "b"}]}, {"a": [], "b": 500})
    with pytest.raises(ApiError) as caught:
        await vpcs.fetch(reader)
    assert caught.value.status == 500


@pytest.mark.parametrize(
    ("urn", "resource_type"),
    [
        ("do:droplet:13457723", "droplet"),
        ("do:kubernetes:bd5f5959-5e1e-4205-a714-a914373942af", "kubernetes"),
        ("do:space:bucket:with:colons", "space"),
        ("droplet:13457723", "unknown"),
        ("do::13457723", "unknown"),
        ("do:droplet:", "unknown"),
        ("", "unknown"),
    ],
)
def test_resource_type_comes_from_the_urn(urn: str, resource_type: str) -> None:
    assert vpcs.resource_type(urn) == resource_type


def test_members_without_a_readable_urn_are_counted_as_unknown() -> None:
    counts = vpcs.count_member_types(
        [member("do:droplet:1"), member(None), {"name": "no urn"}, member(17)], "x"
    )
    assert counts == (("droplet", 1), ("unknown", 3))


def test_missing_descriptive_fields_are_tolerated() -> None:
    [record] = vpcs.parse_vpcs([{"id": "v1", "default": "yes", "region": {"slug": "nyc1"},
                                 "created_at": None}])
    assert record == vpcs.VpcRecord("v1", "", "", "", "", None)
    assert list(vpcs.samples((record,))) == [("digitalocean_vpc_info", ("v1", "", "", "", ""), 1)]


async def test_an_id_a_shifting_list_repeats_counts_once_and_output_is_sorted_by_id() -> None:
    reader = FakeReader({
        "/v2/vpcs": {"vpcs": [{"id": "b", "name": "first"}, {"id": "a"}, {"id": "b", "name": "second"}]},
        "/v2/vpcs/{vpc_id}/members": {"members": [], "links": {}, "meta": {"total": 0}},
    }, page_size=2)
    records = await vpcs.fetch(reader)
    assert [(r.vpc_id, r.name) for r in records] == [("a", ""), ("b", "first")]
    assert reader.dropped == {"/v2/vpcs": 1}


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"name": "no id"}], "/v2/vpcs vpcs[0].id: expected a non-empty string, got null"),
        ([{"id": 5}], "/v2/vpcs vpcs[0].id: expected a non-empty string, got the number 5"),
        ([{"id": "a"}, 5], "/v2/vpcs vpcs[1]: expected an object, got the number 5"),
        ({"vpcs": []}, "/v2/vpcs vpcs: expected a list, got an object"),
    ],
)
def test_vpc_shape_errors_name_the_place(items: Any, message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        vpcs.parse_vpcs(items)
    assert str(caught.value) == message


async def test_member_shape_errors_name_the_vpc() -> None:
    reader = members_reader({"vpcs": [{"id": "v1"}]}, {"v1": [member("do:droplet:1"), "do:droplet:2"]})
    with pytest.raises(ShapeError) as caught:
        await vpcs.fetch(reader)
    assert str(caught.value) == (
        "/v2/vpcs/v1/members members[1]: expected an object, got the string 'do:droplet:2'"
    )
