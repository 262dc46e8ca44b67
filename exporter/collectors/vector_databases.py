"""Vector databases: GET /v2/vector-databases (scope database:read, default every 5m).

Managed vector database instances (Weaviate): name, region, size tier, Weaviate version and
project on the info series, the lifecycle state as a state set and the creation time. The API
description gives no numeric fact beyond that (no dimensions, storage or node count) and no
price. The list pages like no other: `page`/`per_page`, the body `vector_dbs` and a top-level
`total`, no `links` and no `meta`; the client pages it by that total. The objects carry their
connection endpoints (`endpoints.http`, `endpoints.grpc`) and the admin token lives behind
`/credentials`: neither is read (only named, non-secret fields are), so no credential or
connection string reaches a record, a label or a log line. Tags are kept for `filter:`, not
exported.

    digitalocean_vector_database_info{account="production",vector_database_id="...",name="docs-search",region="tor1",size="small",version="1.30.0",project_id="..."} 1
    digitalocean_vector_database_status{account="production",vector_database_id="...",status="active"} 1
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import (
    FILTER_KEYS,
    Collector,
    Facts,
    Family,
    PollContext,
    ResourceReader,
    Sample,
    known_values,
    state_set,
)
from exporter.collectors.fields import (
    objects,
    optional_str,
    required_str,
    string_list,
    timestamp,
)

ENDPOINT = "/v2/vector-databases"
LIST_KEY = "vector_dbs"
# The lifecycle states the description of `status` lists ("pending, creating, active, errored,
# or deleting"; the spec has no enum), in its order.
STATUSES = ("pending", "creating", "active", "errored", "deleting")

INFO = Family(
    "digitalocean_vector_database_info",
    f"Vector database descriptive labels: size tier, Weaviate version, project (always 1), "
    f"polled from {ENDPOINT}.",
    ("vector_database_id", "name", "region", "size", "version", "project_id"),
)
STATUS = Family(
    "digitalocean_vector_database_status",
    f"Vector database lifecycle state as a state set (1 for the current one), "
    f"polled from {ENDPOINT}.",
    ("vector_database_id", "status"),
)
CREATED = Family(
    "digitalocean_vector_database_created_timestamp_seconds",
    f"When the vector database was created, polled from {ENDPOINT}.",
    ("vector_database_id",),
)


@dataclass(frozen=True, slots=True)
class VectorDatabaseRecord:
    """The non-secret facts about one instance. Deliberately no endpoint or token field."""

    vector_database_id: str
    name: str
    region: str
    size: str
    version: str
    project_id: str
    status: str
    created_at: float | None
    tags: tuple[str, ...] = ()  # for `filter:`; not exported


def parse_vector_database(item: Mapping[str, Any], where: str) -> VectorDatabaseRecord:
    # Named fields only: `endpoints` (connection URLs) is never looked at.
    return VectorDatabaseRecord(
        vector_database_id=required_str(item, "id", where),
        name=optional_str(item, "name"),
        region=optional_str(item, "region"),
        size=optional_str(item, "size"),
        version=optional_str(item, "config", "weaviate_version"),
        project_id=optional_str(item, "project_id"),
        status=optional_str(item, "status") or "unknown",
        created_at=timestamp(item, "created_at"),
        tags=string_list(item, "tags"),
    )


def parse_page(items: list[Any], start: int) -> list[VectorDatabaseRecord]:
    return [parse_vector_database(item, path)
            for path, item in objects(items, f"{ENDPOINT} {LIST_KEY}", start)]


async def fetch(reader: ResourceReader) -> tuple[VectorDatabaseRecord, ...]:
    return await fetch_with(reader, PollContext())


async def fetch_with(reader: ResourceReader,
                     context: PollContext) -> tuple[VectorDatabaseRecord, ...]:
    """Every instance, then the `filter:` (the API filters by nothing)."""
    records: list[VectorDatabaseRecord] = await reader.list_all(ENDPOINT, LIST_KEY,
                                                                parse=parse_page)
    by_id = {r.vector_database_id: r for r in records}
    return context.selection.keep((by_id[key] for key in sorted(by_id)), lambda r: Facts(
        r.vector_database_id, name=r.name, region=r.region, tags=r.tags))


def samples(databases: tuple[VectorDatabaseRecord, ...]) -> Iterator[Sample]:
    for d in databases:
        key = (d.vector_database_id,)
        yield INFO.name, (*key, d.name, d.region, d.size, d.version, d.project_id), 1
        yield from state_set(STATUS.name, key, d.status, STATUSES)
        yield from known_values(key, ((CREATED, d.created_at),))


COLLECTOR: Collector[tuple[VectorDatabaseRecord, ...]] = Collector(
    name="vector_databases",
    summary="vector databases: state, size tier, version, region, age (never endpoints or tokens)",
    endpoints=(ENDPOINT,),
    id_label="vector_database_id",
    paged=ENDPOINT,
    scope="database:read",
    interval=300.0,
    families=(INFO, STATUS, CREATED),
    fetch=fetch,
    samples=samples,
    filters=FILTER_KEYS,
    fetch_with=fetch_with,
)
