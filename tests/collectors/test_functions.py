"""Functions namespaces: the spec's schema examples (the operations have no example answers),
triggers counted by type and state for the namespaces of the same poll, the namespace key
never kept, deleted namespaces, the selection, shape errors and the 403 that disables only
this collector."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.collectors import functions
from exporter.collectors.base import PollContext, Selection
from exporter.collectors.fields import ShapeError
from exporter.exposition import encode_collector
from exporter.simulator import FleetSpec
from tests.collectors.fakes import Answer, FakeReader, InTurn
from tests.collectors.forbidden import assert_disabled_naming, poll_without
from tests.conftest import captured_logs, example_reader, response_example

ENDPOINT = "/v2/functions/namespaces"
NAMESPACE = "fn-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
KEY = "d1zcd455h01mqjfs4s2eaewyejehi5f2uj4etqq3h7cera8iwkub6xg5of1wdde2"  # the schema's example


def trigger(kind: str, enabled: bool) -> dict[str, object]:
    return {"namespace": "x", "name": f"{kind}-{enabled}", "function": "f", "type": kind,
            "is_enabled": enabled}


def namespace(ns: str, region: str = "nyc1", label: str = "") -> dict[str, object]:
    return {"namespace": ns, "label": label or ns, "region": region, "key": f"key-of-{ns}"}


async def test_values_from_the_schema_examples() -> None:
    reader = example_reader()
    records = await functions.fetch(reader)
    samples = {(n, lab): v for n, lab, v in functions.samples(records)}
    assert samples == {
        ("digitalocean_functions_namespace_info", (NAMESPACE, "my namespace", "nyc1")): 1,
        ("digitalocean_functions_namespace_created_timestamp_seconds", (NAMESPACE,)): 1663129005.0,
        ("digitalocean_functions_namespace_triggers", (NAMESPACE, "SCHEDULED", "true")): 1,
    }
    assert [r.route for r in reader.requests] == [
        ENDPOINT, f"/v2/functions/namespaces/{NAMESPACE}/triggers"]


async def test_the_namespace_key_appears_in_no_record_series_log_line_or_error() -> None:
    with captured_logs("debug") as (stream, _):
        records = await functions.fetch(example_reader())
        rendered = b"".join(encode_collector("p", functions.COLLECTOR, records).values()).decode()
        broken = response_example(ENDPOINT)
        broken["namespaces"][0]["namespace"] = 7
        with pytest.raises(ShapeError) as caught:
            await functions.fetch(FakeReader({ENDPOINT: broken}))
    assert "digitalocean_functions_namespace_info{" in rendered
    for text in (repr(records), rendered, stream.getvalue(), str(caught.value)):
        assert KEY not in text
        assert "api_host.io" not in text


async def test_triggers_are_counted_by_type_and_state() -> None:
    reader = FakeReader({
        ENDPOINT: {"namespaces": [namespace("fn-a"), namespace("fn-b")]},
        "/v2/functions/namespaces/fn-a/triggers": {"triggers": [
            trigger("SCHEDULED", True), trigger("SCHEDULED", True), trigger("SCHEDULED", False),
            trigger("HTTP", True)]},
        "/v2/functions/namespaces/fn-b/triggers": {"triggers": []},
    })
    records = await functions.fetch(reader)
    counts = [(lab, v) for n, lab, v in functions.samples(records)
              if n == "digitalocean_functions_namespace_triggers"]
    assert counts == [(("fn-a", "HTTP", "true"), 1), (("fn-a", "SCHEDULED", "false"), 1),
                      (("fn-a", "SCHEDULED", "true"), 2)]


async def test_only_the_selected_namespaces_are_asked_about() -> None:
    reader = FakeReader({
        ENDPOINT: {"namespaces": [namespace("fn-a", "nyc1"), namespace("fn-b", "ams3", "jobs")]},
        "/v2/functions/namespaces/fn-b/triggers": {"triggers": []},
    })
    context = PollContext(selection=Selection(regions=("ams3",)))
    records = await functions.COLLECTOR.collect(reader, context)
    assert [r.namespace_id for r in records] == ["fn-b"]
    assert len(reader.requests) == 2


async def test_a_namespace_deleted_since_the_list_is_left_out_and_a_listed_one_fails() -> None:
    listed = {"namespaces": [namespace("fn-a"), namespace("fn-gone")]}
    after = {"namespaces": [namespace("fn-a")]}
    answers: dict[str, Answer] = {"/v2/functions/namespaces/fn-a/triggers": {"triggers": []},
               "/v2/functions/namespaces/fn-gone/triggers": 404}
    records = await functions.fetch(FakeReader({**answers, ENDPOINT: InTurn(listed, after)}))
    assert [r.namespace_id for r in records] == ["fn-a"]
    with pytest.raises(ShapeError, match=r"HTTP 404 for fn-gone, which /v2/functions/namespaces still lists"):
        await functions.fetch(FakeReader({**answers, ENDPOINT: listed}))


def test_a_namespace_without_its_name_fails_the_poll_naming_the_place() -> None:
    with pytest.raises(ShapeError) as caught:
        functions.parse_namespaces({"namespaces": [{"uuid": "u"}]})
    assert str(caught.value) == (
        "/v2/functions/namespaces namespaces[0].namespace: expected a non-empty string, got null")


async def test_a_403_disables_only_this_collector_and_names_function_read(tmp_path: Path) -> None:
    refused = await poll_without(functions.COLLECTOR, "function:read",
                                 FleetSpec(seed=3, droplets=24, functions_namespaces=1), tmp_path)
    assert_disabled_naming(refused, functions.COLLECTOR)
