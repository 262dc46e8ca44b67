"""GenAI Platform agents: GET /v2/gen-ai/agents (scope genai:read, every 5m, off by default:
genai:read also reveals API keys).

Each agent's name, region and model, its deployment's state and its tags, so an agent whose
deployment failed or is stuck deploying is visible. The answer may carry credentials (an MCP
server's `authorization` header and `headers`, API keys where a newer API adds them): no record
copies them. Usage (`/v2/gen-ai/agents/{uuid}/usage`) is not read: it would cost one request
per agent and poll for token counts over a time window the exporter would have to choose.

    digitalocean_genai_agent_info{account="production",agent_id="12345678-1234-1234-1234-123456789012",name="My Agent",region="tor1",model="Llama 3.3 Instruct (70B)",project_id="12345678-1234-1234-1234-123456789012"} 1
    digitalocean_genai_agent_status{account="production",agent_id="12345678-1234-1234-1234-123456789012",status="status_running"} 1
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import Collector, Family, ResourceReader, Sample, known_values, state_set
from exporter.collectors.fields import objects, optional_str, required_str, string_list, timestamp

ENDPOINT = "/v2/gen-ai/agents"
# The deployment states of the spec's enum, as the API spells them.
STATUSES = (
    "STATUS_UNKNOWN", "STATUS_WAITING_FOR_DEPLOYMENT", "STATUS_DEPLOYING", "STATUS_RUNNING",
    "STATUS_FAILED", "STATUS_WAITING_FOR_UNDEPLOYMENT", "STATUS_UNDEPLOYING",
    "STATUS_UNDEPLOYMENT_FAILED", "STATUS_DELETED", "STATUS_BUILDING",
)

INFO = Family(
    "digitalocean_genai_agent_info",
    "GenAI agent descriptive labels (always 1), polled from /v2/gen-ai/agents.",
    ("agent_id", "name", "region", "model", "project_id"),
)
STATUS = Family(
    "digitalocean_genai_agent_status",
    "GenAI agent deployment state (1 for the current one; status_unknown when the agent has no "
    "deployment), polled from /v2/gen-ai/agents.",
    ("agent_id", "status"),
)
CREATED = Family(
    "digitalocean_genai_agent_created_timestamp_seconds",
    "When the GenAI agent was created, polled from /v2/gen-ai/agents.",
    ("agent_id",),
)
TAG = Family(
    "digitalocean_genai_agent_tag_info",
    "A tag of the GenAI agent (always 1, one series per tag), polled from /v2/gen-ai/agents.",
    ("agent_id", "tag"),
)


@dataclass(frozen=True, slots=True)
class AgentRecord:
    agent_id: str
    name: str
    region: str
    model: str
    project_id: str
    status: str
    created_at: float | None
    tags: tuple[str, ...]


def parse_page(items: list[Any], start: int, where: str = f"{ENDPOINT} agents") -> list[AgentRecord]:
    return [
        AgentRecord(
            agent_id=required_str(agent, "uuid", path),
            name=optional_str(agent, "name"),
            region=optional_str(agent, "region"),
            model=optional_str(agent, "model", "name"),
            project_id=optional_str(agent, "project_id"),
            # the spec's default: an agent without a deployment has an unknown status
            status=optional_str(agent, "deployment", "status") or "STATUS_UNKNOWN",
            created_at=timestamp(agent, "created_at"),
            tags=string_list(agent, "tags"),
        )
        for path, agent in objects(items, where, start)
    ]


async def fetch(reader: ResourceReader) -> tuple[AgentRecord, ...]:
    records = await reader.list_all(ENDPOINT, "agents", parse=parse_page)
    by_id = {r.agent_id: r for r in records}  # an agent repeated across pages counts once
    return tuple(by_id[key] for key in sorted(by_id))


def samples(agents: tuple[AgentRecord, ...]) -> Iterator[Sample]:
    for a in agents:
        key = (a.agent_id,)
        yield INFO.name, (*key, a.name, a.region, a.model, a.project_id), 1
        yield from state_set(STATUS.name, key, a.status, STATUSES)
        yield from known_values(key, ((CREATED, a.created_at),))
        for tag in dict.fromkeys(a.tags):
            yield TAG.name, (*key, tag), 1


COLLECTOR: Collector[tuple[AgentRecord, ...]] = Collector(
    name="genai_agents",
    summary="GenAI Platform agents: model, region, deployment status, tags",
    endpoints=(ENDPOINT,),
    id_label="agent_id",
    paged=ENDPOINT,
    scope="genai:read",
    # genai:read also reveals agents' and models' API keys: asked for only when wanted
    enabled_by_default=False,
    interval=300.0,
    families=(INFO, STATUS, CREATED, TAG),
    fetch=fetch,
    samples=samples,
)
