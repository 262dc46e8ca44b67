"""Spaces access keys against the official list example: grants as one series each, and the
secret half of a key (`secret_key`) in no record, series, log line or error, whatever the
answer carries; a 403 disables only this collector."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from exporter.collectors import spaces_keys
from exporter.collectors.base import PollContext, Selection
from exporter.collectors.fields import ShapeError
from exporter.exposition import encode_collector
from exporter.simulator import Fleet
from tests.collectors.fakes import FakeReader
from tests.collectors.simulated_poll import assert_403_disables_only, simulated_poller
from tests.conftest import captured_logs, full_spec, spec_example

ENDPOINT = "/v2/spaces/keys"
SECRET = "ZwX8e6kL1rQ9tYb3Nc5Vd7Fh2Jm4Pq6Rs8Tu0Wy2Ab"  # shaped like a Spaces secret key


def with_secrets(body: Any) -> Any:
    """The official example as the answer that creates a key looks: `secret_key` beside each."""
    for key in body["keys"]:
        key["secret_key"] = SECRET
    return body


async def test_values_from_the_official_example() -> None:
    reader = FakeReader({ENDPOINT: spec_example(ENDPOINT)})
    records = await spaces_keys.fetch(reader)
    assert [(r.method, r.endpoint, r.key) for r in reader.requests] == [("list_all", ENDPOINT, "keys")]
    key = ("DOACCESSKEYEXAMPLE",)
    assert list(spaces_keys.samples(records)) == [
        ("digitalocean_spaces_key_info", (*key, "my-access-key"), 1),
        ("digitalocean_spaces_key_grant_info", (*key, "my-bucket", "read"), 1),
        ("digitalocean_spaces_key_grants", key, 1),
        ("digitalocean_spaces_key_created_timestamp_seconds", key, 1532012656.0),
    ]


def test_grants_are_sorted_once_each_and_a_key_without_grants_has_none() -> None:
    records = spaces_keys.by_id(spaces_keys.parse_page([
        {"access_key": "DOB", "name": "b", "grants": [
            {"bucket": "z", "permission": "fullaccess"}, {"bucket": "a", "permission": "read"},
            {"bucket": "a", "permission": "read"}, "junk", {"bucket": "", "permission": ""}]},
        {"access_key": "DOA", "grants": None, "created_at": None},
    ], 0))
    assert list(spaces_keys.samples(records)) == [
        ("digitalocean_spaces_key_info", ("DOA", ""), 1),
        ("digitalocean_spaces_key_grants", ("DOA",), 0),
        ("digitalocean_spaces_key_info", ("DOB", "b"), 1),
        ("digitalocean_spaces_key_grant_info", ("DOB", "", ""), 1),
        ("digitalocean_spaces_key_grant_info", ("DOB", "a", "read"), 1),
        ("digitalocean_spaces_key_grant_info", ("DOB", "z", "fullaccess"), 1),
        ("digitalocean_spaces_key_grants", ("DOB",), 3),
    ]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"name": "k", "secret_key": SECRET}],
         "/v2/spaces/keys keys[0].access_key: expected a non-empty string, got null"),
        ([{"access_key": "DOA"}, None], "/v2/spaces/keys keys[1]: expected an object, got null"),
    ],
)
def test_shape_errors_name_the_place(items: Any, message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        spaces_keys.parse_page(items, 0)
    assert str(caught.value) == message


async def test_the_secret_reaches_no_record_and_no_series() -> None:
    body = with_secrets(spec_example(ENDPOINT))
    records = await spaces_keys.fetch(FakeReader({ENDPOINT: body}))
    assert SECRET not in repr(records)
    assert not any(SECRET in label for _, labels, _ in spaces_keys.samples(records) for label in labels)
    rendered = b"".join(encode_collector("production", spaces_keys.COLLECTOR, records).values())
    assert b"DOACCESSKEYEXAMPLE" in rendered  # the test would prove nothing on an empty output
    assert SECRET.encode() not in rendered
    assert "secret" not in " ".join(spaces_keys.SpacesKeyRecord.__slots__)


async def test_the_secret_reaches_no_log_line_and_no_error_through_a_real_poll() -> None:
    """The real client, poll boundary and logs, against answers that carry the secret: one poll
    that succeeds, one that fails on a key without its id."""
    good = Fleet.from_objects(spaces_keys=with_secrets(spec_example(ENDPOINT))["keys"])
    broken = Fleet.from_objects(spaces_keys=[
        *with_secrets(spec_example(ENDPOINT))["keys"],
        {"name": "no-id", "secret_key": SECRET, "grants": [], "created_at": "2018-07-19T15:04:16Z"},
    ])
    # the simulator serves given objects verbatim: the secret is in the answers the poll reads
    assert SECRET.encode() in good.resources.objects("spaces_keys")[0].render(0.0)
    with captured_logs("debug") as (stream, _):
        collectors, scopes = [spaces_keys.COLLECTOR], ["spaces_key:read"]
        async with simulated_poller(collectors, scopes, good) as (poller, account):
            snapshot = await poller.poll_once(account, spaces_keys.COLLECTOR)
        assert snapshot.ok
        assert snapshot.fragment is not None
        rendered = b"".join(snapshot.fragment.values())
        assert b"DOACCESSKEYEXAMPLE" in rendered
        assert SECRET.encode() not in rendered
        assert SECRET not in repr(snapshot.data)
        async with simulated_poller(collectors, scopes, broken) as (poller, account):
            failed = await poller.poll_once(account, spaces_keys.COLLECTOR)
        assert not failed.ok
        assert "keys[1].access_key: expected a non-empty string, got null" in str(failed.error)
        assert SECRET not in str(failed.error)
        logged = stream.getvalue()
    assert "access_key: expected a non-empty string" in logged  # the failure was logged
    assert SECRET not in logged


def test_collector_contract() -> None:
    c = spaces_keys.COLLECTOR
    assert (c.name, c.scope, c.interval, c.endpoints, c.paged, c.id_label) == (
        "spaces_keys", "spaces_key:read", 900.0, (ENDPOINT,), ENDPOINT, "spaces_key_id")
    operation = full_spec()["paths"][ENDPOINT]["get"]
    assert operation["security"] == [{"bearer_auth": [c.scope]}]
    assert {p["name"] for p in operation["parameters"]} >= {"page", "per_page"}
    for family in c.families:
        assert family.name.startswith("digitalocean_spaces_key_")
        assert family.help.endswith(", polled from /v2/spaces/keys."), family.help
    labels = {f.name: len(f.labels) for f in c.families}
    emitted = list(spaces_keys.samples(tuple(spaces_keys.parse_page(
        spec_example(ENDPOINT)["keys"], 0))))
    assert {name for name, _, _ in emitted} == set(labels)
    assert all(len(values) == labels[name] for name, values, _ in emitted)


async def test_a_403_disables_only_this_collector(log_stream: io.StringIO) -> None:
    await assert_403_disables_only(spaces_keys.COLLECTOR, log_stream)


async def test_the_filter_keeps_what_it_names() -> None:
    reader = FakeReader({ENDPOINT: spec_example(ENDPOINT)})
    c = spaces_keys.COLLECTOR
    assert c.filters == ("name", "id")
    kept = await c.collect(reader, PollContext(selection=Selection(ids=("DOACCESSKEYEXAMPLE",))))
    assert [r.spaces_key_id for r in kept] == ["DOACCESSKEYEXAMPLE"]
    assert await c.collect(reader, PollContext(selection=Selection(name=re.compile("ci-.*")))) == ()
