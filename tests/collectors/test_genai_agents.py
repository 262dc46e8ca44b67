"""GenAI agents: the spec's schema examples (the operation has no example answer), the
deployment state set, credentials an answer carries kept out of everything the exporter
writes, shape errors, paging and the 403 that disables only this collector."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from exporter.collectors import genai_agents
from exporter.collectors.fields import ShapeError
from exporter.exposition import encode_collector
from exporter.simulator import FleetSpec
from tests.collectors.fakes import FakeReader
from tests.collectors.forbidden import assert_disabled_naming, poll_without
from tests.conftest import captured_logs, example_reader, response_example

ENDPOINT = "/v2/gen-ai/agents"
AGENT = '"12345678-1234-1234-1234-123456789012"'  # the schema's example, quotes included
SECRETS = ("sk-agent-secret-1", "Bearer mcp-secret-2", "hdr-secret-3", "sk-key-info-secret-4")


def with_credentials() -> dict[str, Any]:
    """The schema example, with every credential an agent may carry filled in."""
    body: dict[str, Any] = response_example(ENDPOINT)
    agent = body["agents"][0]
    agent["mcp_servers"] = [{"server_label": "t", "server_url": "https://mcp.example.com",
                             "authorization": SECRETS[1], "headers": {"X-Key": SECRETS[2]}}]
    # the single-agent answer's keys; a list answer that carried them must not leak them either
    agent["api_keys"] = [{"api_key": SECRETS[0]}]
    agent["api_key_infos"] = [{"uuid": "k1", "name": "ci", "secret_key": SECRETS[3]}]
    return body


async def test_values_from_the_schema_examples() -> None:
    records = await genai_agents.fetch(example_reader())
    samples = {(n, lab): v for n, lab, v in genai_agents.samples(records)}
    assert samples[("digitalocean_genai_agent_info",
                    (AGENT, "My Agent", '"tor1"', "example name",
                     "12345678-1234-1234-1234-123456789012"))] == 1
    # the example's deployment status is STATUS_UNKNOWN
    assert samples[("digitalocean_genai_agent_status", (AGENT, "status_unknown"))] == 1
    assert samples[("digitalocean_genai_agent_status", (AGENT, "status_running"))] == 0
    assert samples[("digitalocean_genai_agent_created_timestamp_seconds", (AGENT,))] == 1609459200.0
    assert samples[("digitalocean_genai_agent_tag_info", (AGENT, "example string"))] == 1
    statuses = [lab[1] for n, lab, _ in genai_agents.samples(records)
                if n == "digitalocean_genai_agent_status"]
    assert len(statuses) == 10


def test_an_agent_without_a_deployment_has_the_specs_default_status() -> None:
    [record] = genai_agents.parse_page([{"uuid": "a", "deployment": None}], 0)
    assert record.status == "STATUS_UNKNOWN"
    assert (record.name, record.region, record.model, record.created_at) == ("", "", "", None)


async def test_credentials_appear_in_no_record_series_log_line_or_error() -> None:
    reader = FakeReader({ENDPOINT: with_credentials()})
    with captured_logs("debug") as (stream, _):
        records = await genai_agents.fetch(reader)
        rendered = b"".join(
            encode_collector("production", genai_agents.COLLECTOR, records).values()).decode()
        broken = with_credentials()
        broken["agents"][0]["uuid"] = None
        with pytest.raises(ShapeError) as caught:
            await genai_agents.fetch(FakeReader({ENDPOINT: broken}))
    assert "digitalocean_genai_agent_info{" in rendered
    for secret in SECRETS:
        assert secret not in repr(records)
        assert secret not in rendered
        assert secret not in stream.getvalue()
        assert secret not in str(caught.value)


def test_an_agent_without_its_uuid_fails_the_poll_naming_the_place() -> None:
    with pytest.raises(ShapeError) as caught:
        genai_agents.parse_page([{"uuid": "a"}, {"uuid": ""}], 200)
    assert str(caught.value) == (
        "/v2/gen-ai/agents agents[201].uuid: expected a non-empty string, got the string ''")


async def test_450_agents_arrive_once_each_in_pages() -> None:
    agents = [{"uuid": f"a{i:03d}"} for i in range(450)]
    reader = FakeReader({ENDPOINT: {"agents": agents + agents[:2]}})
    records = await genai_agents.fetch(reader)
    assert [r.agent_id for r in records] == [a["uuid"] for a in agents]
    assert [(r.method, r.endpoint) for r in reader.requests] == [("list_all", ENDPOINT)]


async def test_a_403_disables_only_this_collector_and_names_genai_read(tmp_path: Path) -> None:
    refused = await poll_without(genai_agents.COLLECTOR, "genai:read",
                                 FleetSpec(seed=3, droplets=24, genai_agents=2), tmp_path)
    assert_disabled_naming(refused, genai_agents.COLLECTOR)


def test_the_collector_entry() -> None:
    c = genai_agents.COLLECTOR
    assert (c.name, c.scope, c.endpoints, c.paged, c.id_label) == (
        "genai_agents", "genai:read", (ENDPOINT,), ENDPOINT, "agent_id")
    assert json.dumps([f.help for f in c.families]).count(", polled from /v2/gen-ai/agents.") == 4
