"""Typed page decoding (exporter/collectors/typed.py): the Droplet and volume lists decoded by
msgspec into Structs give exactly the records, and the errors, that the dict parsers give for
the same bytes; any page that does not fit the types is left to plain JSON."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exporter.api import AccountApi, DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.clock import SystemClock
from exporter.collectors import droplets, volumes
from exporter.collectors.base import PollContext
from exporter.collectors.fields import ShapeError
from exporter.collectors.typed import TypedPages
from exporter.simulator import FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from tests.conftest import READ_TOKEN

DROPLET_PAGES = droplets.parse_page("/v2/droplets droplets")
VOLUME_PAGES = volumes.TYPED_PAGES

DROPLET: dict[str, Any] = {
    "id": 3164444, "name": "example.com", "memory": 1024, "vcpus": 1, "disk": 25,
    "locked": False, "status": "active", "kernel": None, "created_at": "2020-07-21T18:37:44Z",
    "features": ["backups", "ipv6"], "backup_ids": [53893572], "snapshot_ids": [],
    "image": {"id": 7, "name": "20.04 (LTS) x64", "slug": "ubuntu-20-04-x64", "regions": ["nyc3"]},
    "size": {"slug": "s-1vcpu-1gb", "memory": 1024, "price_monthly": 6, "price_hourly": 0.00893,
             "regions": ["nyc1", "nyc3"]},
    "size_slug": "s-1vcpu-1gb",
    "networks": {"v4": [
        {"ip_address": "10.128.192.124", "netmask": "255.255.0.0", "type": "private"},
        {"ip_address": "192.241.165.154", "netmask": "255.255.240.0", "type": "public"},
    ], "v6": []},
    "region": {"name": "New York 3", "slug": "nyc3", "sizes": ["s-1vcpu-1gb"]},
    "tags": ["web", "env:prod"], "vpc_uuid": "760e09ef-dc84-11e8-981e-3cfdfeaae000",
}
VOLUME: dict[str, Any] = {
    "id": "506f78a4-e098-11e5-ad9f-000f53306ae1", "region": {"name": "New York 1", "slug": "nyc1"},
    "droplet_ids": [3164444, 3164445], "name": "example", "description": "Block store",
    "size_gigabytes": 10, "created_at": "2020-03-02T17:00:49Z", "filesystem_type": "ext4",
    "filesystem_label": "example", "tags": ["aninterestingtag"],
}

# Any JSON value, most often one of the type a field should have, sometimes another
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=4),
                    st.sampled_from(["", "2020-07-21T18:37:44Z", "2020-07-21T18:37:44", "x"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(st.integers(0, 2**40), max_size=3),  # well-typed lists, or nearly
    st.lists(st.text(max_size=3), max_size=3),
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["slug", "name", "type", "ip_address", "v4",
                                     "price_hourly", "price_monthly"]), inner, max_size=3)),
    max_leaves=6)


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """`base` with some fields dropped or replaced by any JSON value."""
    item = dict(base)
    for key in draw(st.lists(st.sampled_from(sorted(base)), max_size=4, unique=True)):
        if draw(st.booleans()):
            del item[key]
        else:
            item[key] = draw(values)
    return item


def outcome(parse: Callable[[list[Any], int], list[Any]], items: list[Any]) -> object:
    try:
        return parse(items, 200)
    except ShapeError as error:
        return f"ShapeError: {error}"


def both_ways(pages: TypedPages[Any, Any], key: str, page: dict[str, Any]
              ) -> tuple[object, object] | None:
    """(typed outcome, dict-parser outcome) of the same bytes; None when the page does not fit
    the types (the client decodes it as plain JSON then, and the dict parser reads it)."""
    content = json.dumps(page).encode()  # NaN and Infinity spelled as JSON cannot
    body = pages.decode(content)
    if body is None:
        return None
    plain = json.loads(content)
    assert {k: v for k, v in body.items() if k != key} == {k: v for k, v in plain.items() if k != key}
    return outcome(pages, body[key]), outcome(pages.plain, plain[key])


def check(pages: TypedPages[Any, Any], key: str, items: list[dict[str, Any]]) -> None:
    ways = both_ways(pages, key, {key: items, "links": {}, "meta": {"total": 1000}})
    if ways is not None:
        typed, plain = ways
        assert typed == plain


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated(DROPLET), min_size=1, max_size=3))
def test_a_droplet_page_gives_the_dict_parser_s_records_or_error(items: list[dict[str, Any]]) -> None:
    check(DROPLET_PAGES, "droplets", items)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated(VOLUME), min_size=1, max_size=3))
def test_a_volume_page_gives_the_dict_parser_s_records_or_error(items: list[dict[str, Any]]) -> None:
    check(VOLUME_PAGES, "volumes", items)


def test_well_formed_pages_are_decoded_typed_with_their_paging_fields() -> None:
    page = {"droplets": [DROPLET, {"id": 5}], "links": {"pages": {"next": "x?page=2"}},
            "meta": {"total": 450}, "extra": [1, 2]}
    body = DROPLET_PAGES.decode(json.dumps(page).encode())
    assert body is not None
    assert body["links"] == page["links"]
    assert body["meta"] == page["meta"]
    assert "extra" not in body
    assert all(isinstance(d, droplets.DropletItem) for d in body["droplets"])
    [record, bare] = DROPLET_PAGES(body["droplets"], 0)
    assert record == droplets.parse_droplet(DROPLET, "x")
    assert (record.price_monthly, record.backups, record.public_ipv4) == (6.0, True, "192.241.165.154")
    assert bare == droplets.parse_droplet({"id": 5}, "x")


@pytest.mark.parametrize("content", [
    b'{"droplets": [{"id": 1, "size": {"price_monthly": NaN}}]}',  # json.loads reads NaN
    b'{"droplets": [{"id": 1e400}]}',
    b'\xef\xbb\xbf{"droplets": []}',  # a byte order mark
    b'{"droplets": [{"id": 1, "name": "\xff"}]}',  # invalid UTF-8: the client names it
    b'{"droplets": [{"id": 1, "name": "\\ud800"}]}',  # a lone surrogate, which json.loads keeps
    b'{"droplets": [{"id": true}]}',
    b'{"droplets": [{"id": 1, "tags": ["a", 2]}]}',  # the dict parser keeps "a"
    b'{"droplets": {"1": {"id": 1}}}',  # a map of items: the client takes its values
    b'{"droplets": [{"id": 1, "meta": ' + b"[" * 5000 + b"]" * 5000 + b"}]}",
    b'{"meta": {"total": 1}}',
    b"[]",
    b"not json",
])
def test_a_page_that_does_not_fit_is_left_to_plain_json(content: bytes) -> None:
    assert DROPLET_PAGES.decode(content) is None


def test_an_empty_volume_id_is_named_as_the_dict_parser_names_it() -> None:
    items = [VOLUME, {**VOLUME, "id": ""}]
    body = VOLUME_PAGES.decode(json.dumps({"volumes": items}).encode())
    assert body is not None  # "" is a string: it fits the types, then the typed parse hands over
    with pytest.raises(ShapeError, match=r"^/v2/volumes volumes\[41\]\.id: expected a non-empty "
                                         r"string, got the string ''$"):
        VOLUME_PAGES(body["volumes"], 40)


# -- against the simulator, through the client ------------------------------------------------


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(
        accounts=(SimAccount("big", tokens=(SimToken("ro", READ_TOKEN),),
                             fleet=FleetSpec(seed=3, droplets=450, volumes=450)),),
        requests_per_hour=100_000, requests_per_minute=100_000,
    )) as sim:
        yield sim


@pytest.fixture
async def reader(simulator: Simulator) -> AsyncIterator[AccountApi]:
    class Quiet:
        def observe(self, *args: object) -> None:
            pass

    client = DigitalOceanClient(api_url=simulator.url, auth_url=simulator.url, timeout=30,
                                user_agent="t", observer=Quiet(), clock=SystemClock(),
                                rng=random.Random(1))
    yield client.account("big", lambda: READ_TOKEN, RequestBudget(5000, SystemClock(), 5000))
    await client.aclose()


async def test_the_simulator_s_lists_decode_typed_to_the_same_records(
    reader: AccountApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[bool] = []
    decode = TypedPages.decode

    def spy(self: TypedPages[Any, Any], content: bytes) -> dict[str, Any] | None:
        body = decode(self, content)
        decoded.append(body is not None)
        return body

    monkeypatch.setattr(TypedPages, "decode", spy)
    typed = [await c.collect(reader, PollContext()) for c in (droplets.COLLECTOR, volumes.COLLECTOR)]
    # 3 Droplet pages, the GPU list, 3 volume pages: every one decoded typed
    assert decoded == [True] * 7
    monkeypatch.setattr(TypedPages, "decode", lambda self, content: None)
    plain = [await c.collect(reader, PollContext()) for c in (droplets.COLLECTOR, volumes.COLLECTOR)]
    assert [len(records) for records in typed] == [450, 450]
    assert typed == plain
