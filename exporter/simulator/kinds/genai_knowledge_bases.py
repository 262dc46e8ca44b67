"""GenAI Platform knowledge bases (`/v2/gen-ai/knowledge_bases`).

Knowledge bases in the account's regions, each in an OpenSearch database of its own and
indexed once; with problems on, the second one's last indexing job failed.
"""

from __future__ import annotations

from exporter.simulator.building import HOUR, BuildContext, GivenContext, JsonObject, given_item, text
from exporter.simulator.handling import ApiRequest, Caller, Endpoint, FleetView, paged_items
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc

WORDS = ("handbook", "product-docs", "tickets", "wiki")


def genai_knowledge_bases(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("genai_knowledge_bases")


def list_genai_knowledge_bases(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "knowledge_bases", genai_knowledge_bases(fleet.resources), fleet)


def build_genai_knowledge_bases(context: BuildContext) -> Built:
    count = context.counts.genai_knowledge_bases
    failed = 1 if context.problems is not False and count >= 2 else None
    rng = context.rng("genai_knowledge_bases")
    items: list[Item] = []
    for index in range(count):
        base_id = context.uuid("genai_knowledge_base", index)
        region = context.region_at(index, vpc=False)
        created = context.created("genai_knowledge_base", index, count)
        word = WORDS[index % len(WORDS)]
        name = word if index < len(WORDS) else f"{word}-{index}"
        started = created + HOUR
        tokens = 20_000 + rng.randrange(400_000)
        body: JsonObject = {
            "uuid": base_id,
            "name": name,
            "region": region,
            "database_id": context.uuid("genai_knowledge_base_database", index),
            "embedding_model_uuid": context.uuid("genai_embedding_model", 0),
            "project_id": context.project_ids[index % len(context.project_ids)]
            if context.project_ids else "",
            "is_public": False,
            "tags": ["genai"],
            "created_at": iso_utc(created),
            "updated_at": iso_utc(started),
            "user_id": str(context.owner_id),
            "last_indexing_job": {
                "uuid": context.uuid("genai_indexing_job", index),
                "knowledge_base_uuid": base_id,
                "status": "INDEX_JOB_STATUS_FAILED" if index == failed
                else "INDEX_JOB_STATUS_COMPLETED",
                "phase": "BATCH_JOB_PHASE_FAILED" if index == failed
                else "BATCH_JOB_PHASE_SUCCEEDED",
                "created_at": iso_utc(started),
                "started_at": iso_utc(started),
                "finished_at": iso_utc(started + 900),
                "updated_at": iso_utc(started + 900),
                "total_datasources": 2,
                "completed_datasources": 1 if index == failed else 2,
                "tokens": tokens,
                "total_tokens": str(tokens),
            },
        }
        items.append(make_item(body, id=base_id, name=name, region=region))
    return Built(items=tuple(items))


def given_genai_knowledge_bases(context: GivenContext) -> Built:
    return Built(items=tuple(given_item(b, key="uuid", name=text(b.get("name")))
                             for b in context.objects("genai_knowledge_bases")))


KIND = Kind(
    name="genai_knowledge_bases",
    routes=(Endpoint("/v2/gen-ai/knowledge_bases", "genai:read", list_genai_knowledge_bases,
                     paged=True, in_spec=False),),
    list_endpoint="/v2/gen-ai/knowledge_bases",
    count=Count(derive=lambda droplets, _: min(2, droplets // 15), problems_minimum=2),
    build=build_genai_knowledge_bases,
    given=given_genai_knowledge_bases,
    in_state=True,
)
