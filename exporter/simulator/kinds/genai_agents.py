"""GenAI Platform agents (`/v2/gen-ai/agents`).

Agents on a few DigitalOcean models, in the account's regions, each deployed and running, one
with an MCP server whose `authorization` header is a (fake) credential the exporter must never
copy. With problems on, the second agent's deployment failed.
"""

from __future__ import annotations

from exporter.simulator.building import HOUR, BuildContext, GivenContext, JsonObject, given_item, text
from exporter.simulator.handling import ApiRequest, Caller, Endpoint, FleetView, paged_items
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc

MODELS = (
    ("Llama 3.3 Instruct (70B)", "llama3.3-70b-instruct"),
    ("DeepSeek R1 Distill Llama 70B", "deepseek-r1-distill-llama-70b"),
    ("Mistral NeMo", "mistral-nemo-instruct-2407"),
)
WORDS = ("support", "docs", "triage", "sales", "search")


def genai_agents(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("genai_agents")


def list_genai_agents(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "agents", genai_agents(fleet.resources), fleet)


def mcp_secret(context: BuildContext, index: int) -> str:
    """The fake credential of an agent's MCP server: never in the exporter's output."""
    return f"Bearer sim-mcp-secret-{context.uuid('genai_agent_mcp', index)}"


def build_genai_agents(context: BuildContext) -> Built:
    count = context.counts.genai_agents
    failed = 1 if context.problems is not False and count >= 2 else None
    items: list[Item] = []
    for index in range(count):
        agent_id = context.uuid("genai_agent", index)
        region = context.region_at(index, vpc=False)
        created = context.created("genai_agent", index, count)
        model_name, inference_name = MODELS[index % len(MODELS)]
        word = WORDS[index % len(WORDS)]
        name = f"{word}-agent" if index < len(WORDS) else f"{word}-agent-{index}"
        status = "STATUS_FAILED" if index == failed else "STATUS_RUNNING"
        body: JsonObject = {
            "uuid": agent_id,
            "name": name,
            "description": f"Answers {word} questions.",
            "instruction": "You are a helpful assistant.",
            "region": region,
            "project_id": context.project_ids[index % len(context.project_ids)]
            if context.project_ids else "",
            "model": {
                "uuid": context.uuid("genai_model", index % len(MODELS)),
                "name": model_name,
                "inference_name": inference_name,
                "is_foundational": True,
                "provider": "MODEL_PROVIDER_DIGITALOCEAN",
                "usecases": ["MODEL_USECASE_AGENT"],
            },
            "deployment": {
                "uuid": context.uuid("genai_deployment", index),
                "name": f"{name}-deployment",
                "status": status,
                "visibility": "VISIBILITY_PRIVATE",
                "url": f"https://{agent_id[:20]}.agents.do-ai.run",
                "created_at": iso_utc(created),
                "updated_at": iso_utc(created + HOUR),
            },
            "k": 5,
            "max_tokens": 512,
            "temperature": 0.7,
            "top_p": 0.9,
            "retrieval_method": "RETRIEVAL_METHOD_NONE",
            "tags": ["genai", word],
            "created_at": iso_utc(created),
            "updated_at": iso_utc(created + HOUR),
            "user_id": str(context.owner_id),
        }
        if index == 0:
            body["mcp_servers"] = [{
                "server_label": "tickets",
                "server_url": "https://mcp.example.com/tickets",
                "authorization": mcp_secret(context, index),
                "headers": {"X-Api-Key": f"sim-mcp-key-{context.uuid('genai_agent_key', index)}"},
            }]
        items.append(make_item(body, id=agent_id, name=name, region=region))
    return Built(items=tuple(items))


def given_genai_agents(context: GivenContext) -> Built:
    return Built(items=tuple(given_item(a, key="uuid", name=text(a.get("name")))
                             for a in context.objects("genai_agents")))


KIND = Kind(
    name="genai_agents",
    routes=(Endpoint("/v2/gen-ai/agents", "genai:read", list_genai_agents, paged=True,
                     in_spec=False),),
    list_endpoint="/v2/gen-ai/agents",
    count=Count(derive=lambda droplets, _: min(3, droplets // 12), problems_minimum=2),
    build=build_genai_agents,
    given=given_genai_agents,
    in_state=True,
)
