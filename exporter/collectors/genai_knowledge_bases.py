"""GenAI Platform knowledge bases: GET /v2/gen-ai/knowledge_bases (scope genai:read, every 5m,
off by default: genai:read also reveals API keys).

Each knowledge base's name, region and the OpenSearch database that holds it (`database_id`,
the id the databases collector uses), and how its last indexing job went, so a knowledge base
that stopped indexing or failed is visible.

    digitalocean_genai_knowledge_base_info{account="production",knowledge_base_id="123e4567-e89b-12d3-a456-426614174000",name="docs",region="tor1",database_id="123e4567-e89b-12d3-a456-426614174000",embedding_model_uuid="123e4567-e89b-12d3-a456-426614174000"} 1
    digitalocean_genai_knowledge_base_last_indexing_status{account="production",knowledge_base_id="123e4567-e89b-12d3-a456-426614174000",status="index_job_status_completed"} 1
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import Collector, Family, ResourceReader, Sample, known_values, state_set
from exporter.collectors.fields import objects, optional_str, required_str, timestamp

ENDPOINT = "/v2/gen-ai/knowledge_bases"
# The spec's enum of an indexing job's status, as the API spells it.
INDEXING_STATUSES = (
    "INDEX_JOB_STATUS_UNKNOWN", "INDEX_JOB_STATUS_PARTIAL", "INDEX_JOB_STATUS_IN_PROGRESS",
    "INDEX_JOB_STATUS_COMPLETED", "INDEX_JOB_STATUS_FAILED", "INDEX_JOB_STATUS_NO_CHANGES",
    "INDEX_JOB_STATUS_PENDING", "INDEX_JOB_STATUS_CANCELLED",
)

_LABEL = ("knowledge_base_id",)
INFO = Family(
    "digitalocean_genai_knowledge_base_info",
    "GenAI knowledge base descriptive labels (always 1), polled from /v2/gen-ai/knowledge_bases.",
    ("knowledge_base_id", "name", "region", "database_id", "embedding_model_uuid"),
)
CREATED = Family(
    "digitalocean_genai_knowledge_base_created_timestamp_seconds",
    "When the GenAI knowledge base was created, polled from /v2/gen-ai/knowledge_bases.",
    _LABEL,
)
INDEXING_STATUS = Family(
    "digitalocean_genai_knowledge_base_last_indexing_status",
    "State of the knowledge base's last indexing job (1 for the current one), polled from "
    "/v2/gen-ai/knowledge_bases.",
    ("knowledge_base_id", "status"),
)
INDEXING_FINISHED = Family(
    "digitalocean_genai_knowledge_base_last_indexing_finished_timestamp_seconds",
    "When the knowledge base's last indexing job finished, polled from /v2/gen-ai/knowledge_bases.",
    _LABEL,
)


@dataclass(frozen=True, slots=True)
class KnowledgeBaseRecord:
    knowledge_base_id: str
    name: str
    region: str
    database_id: str
    embedding_model: str
    created_at: float | None
    indexing_status: str  # "" when it has never been indexed
    indexing_finished_at: float | None


def parse_page(
    items: list[Any], start: int, where: str = f"{ENDPOINT} knowledge_bases"
) -> list[KnowledgeBaseRecord]:
    records = []
    for path, base in objects(items, where, start):
        job = base.get("last_indexing_job")
        job = job if isinstance(job, dict) else {}
        records.append(KnowledgeBaseRecord(
            knowledge_base_id=required_str(base, "uuid", path),
            name=optional_str(base, "name"),
            region=optional_str(base, "region"),
            database_id=optional_str(base, "database_id"),
            embedding_model=optional_str(base, "embedding_model_uuid"),
            created_at=timestamp(base, "created_at"),
            indexing_status=optional_str(job, "status"),
            indexing_finished_at=timestamp(job, "finished_at"),
        ))
    return records


async def fetch(reader: ResourceReader) -> tuple[KnowledgeBaseRecord, ...]:
    records = await reader.list_all(ENDPOINT, "knowledge_bases", parse=parse_page)
    by_id = {r.knowledge_base_id: r for r in records}
    return tuple(by_id[key] for key in sorted(by_id))


def samples(bases: tuple[KnowledgeBaseRecord, ...]) -> Iterator[Sample]:
    for b in bases:
        key = (b.knowledge_base_id,)
        yield INFO.name, (*key, b.name, b.region, b.database_id, b.embedding_model), 1
        if b.indexing_status:
            yield from state_set(INDEXING_STATUS.name, key, b.indexing_status, INDEXING_STATUSES)
        yield from known_values(key, (
            (CREATED, b.created_at), (INDEXING_FINISHED, b.indexing_finished_at),
        ))


COLLECTOR: Collector[tuple[KnowledgeBaseRecord, ...]] = Collector(
    name="genai_knowledge_bases",
    summary="GenAI Platform knowledge bases: region, database, last indexing job",
    endpoints=(ENDPOINT,),
    id_label="knowledge_base_id",
    paged=ENDPOINT,
    scope="genai:read",
    # genai:read also reveals agents' and models' API keys: asked for only when wanted
    enabled_by_default=False,
    interval=300.0,
    families=(INFO, CREATED, INDEXING_STATUS, INDEXING_FINISHED),
    fetch=fetch,
    samples=samples,
)
