"""Databases: GET /v2/databases (scope database:read, default every 1m).

Managed database clusters: engine, version, size and state, node count, additional storage in
bytes (`storage_size_mib` * 2^20: the spec's "additional storage added to the cluster", beyond
what the size includes; null means none), the end of life of the engine version and the weekly
maintenance window (its day and UTC hour as labels, and whether maintenance is pending for the
next window; the window's free-text `description` is not exported). The list is not paged; the
API answers `"databases": null` when there are none. Tokens with `database:view_credentials` also
receive connection URIs and passwords: only named, non-secret fields are read, so no credential
ever reaches a record, a label or a log line. Tags (for `filter:`) and the metrics endpoints
(public host and port) are kept in the records for service discovery too (`/sd/databases`,
exporter/discovery.py); neither is exported.

    digitalocean_database_info{account="production",database_id="9cc10173-e9ea-4176-9dbc-a4cee4c4ff30",name="backend",engine="pg",version="10",region="nyc3",size="db-s-2vcpu-4gb",project_id="",vpc_uuid="d455e75d-4858-4eec-8c95-da2f0a5f93a7"} 1
    digitalocean_database_status{account="production",database_id="9cc10173-e9ea-4176-9dbc-a4cee4c4ff30",status="online"} 1
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
    FieldScope,
    PollContext,
    ResourceReader,
    Sample,
    known_values,
    state_set,
)
from exporter.collectors.fields import (
    MIB,
    ShapeError,
    objects,
    optional_bool,
    optional_int,
    optional_str,
    required_str,
    string_list,
    timestamp,
)

ENDPOINT = "/v2/databases"
LIST_KEY = "databases"
# The enum of database_cluster_read.status, in the spec's order.
STATUSES = ("creating", "online", "resizing", "migrating", "forking")

INFO = Family(
    "digitalocean_database_info",
    f"Database cluster descriptive labels (always 1), polled from {ENDPOINT}.",
    ("database_id", "name", "engine", "version", "region", "size", "project_id", "vpc_uuid"),
)
STATUS = Family(
    "digitalocean_database_status",
    f"Database cluster status as a state set (1 for the current status), polled from {ENDPOINT}.",
    ("database_id", "status"),
)
NODES = Family(
    "digitalocean_database_nodes",
    f"Nodes in the database cluster (primary and standbys), polled from {ENDPOINT}.",
    ("database_id",),
)
STORAGE = Family(
    "digitalocean_database_storage_bytes",
    f"Additional storage added to the database cluster beyond the base storage of its size "
    f"(storage_size_mib; absent when null, which means none), polled from {ENDPOINT}.",
    ("database_id",),
)
CREATED = Family(
    "digitalocean_database_created_timestamp_seconds",
    f"When the database cluster was created, polled from {ENDPOINT}.",
    ("database_id",),
)
END_OF_LIFE = Family(
    "digitalocean_database_version_end_of_life_timestamp_seconds",
    f"When the engine version of the cluster stops being supported (absent when it has no end "
    f"of life), polled from {ENDPOINT}.",
    ("database_id",),
)
MAINTENANCE_WINDOW = Family(
    "digitalocean_database_maintenance_window_info",
    f"Weekly maintenance window of the database cluster: its day and its hour in UTC (always 1; "
    f"absent when the cluster has none), polled from {ENDPOINT}.",
    ("database_id", "day", "hour"),
)
MAINTENANCE_PENDING = Family(
    "digitalocean_database_maintenance_pending",
    f"1 when maintenance is scheduled for the next maintenance window of the database cluster, "
    f"0 when not (absent when unknown), polled from {ENDPOINT}.",
    ("database_id",),
)


@dataclass(frozen=True, slots=True)
class DatabaseRecord:
    """The non-secret facts about one cluster. Deliberately no connection, user or host field."""

    database_id: str
    name: str
    engine: str
    version: str
    region: str
    size: str
    project_id: str
    vpc_uuid: str
    status: str
    num_nodes: int | None
    storage_mib: int | None
    created_at: float | None
    version_end_of_life: float | None
    tags: tuple[str, ...] = ()  # for `filter:` and /sd/databases; not exported
    # (host, port) of each metrics endpoint (the primary's, then the standbys'), for
    # /sd/databases (exporter/discovery.py): public hostnames, no credential
    metrics_endpoints: tuple[tuple[str, int], ...] = ()
    # maintenance_window: day and hour as the API spells them ("" when absent), pending
    maintenance_day: str = ""
    maintenance_hour: str = ""
    maintenance_pending: bool | None = None


def metrics_endpoints(cluster: Mapping[str, Any]) -> tuple[tuple[str, int], ...]:
    """`metrics_endpoints` as (host, port); entries without a host or a valid port are skipped
    (descriptive, so lenient)."""
    value = cluster.get("metrics_endpoints")
    endpoints = []
    for entry in value if isinstance(value, list) else ():
        if not isinstance(entry, dict):
            continue
        host, port = optional_str(entry, "host"), optional_int(entry, "port")
        if host and port is not None and 0 < port < 65536:
            endpoints.append((host, port))
    return tuple(endpoints)


def parse_database(cluster: Mapping[str, Any], where: str) -> DatabaseRecord:
    # Reads named fields only: `connection`, `private_connection`, `standby_*`, `users` and
    # `ui_connection` carry passwords and URIs and are never looked at.
    return DatabaseRecord(
        database_id=required_str(cluster, "id", where),
        name=optional_str(cluster, "name"),
        engine=optional_str(cluster, "engine"),
        version=optional_str(cluster, "version"),
        region=optional_str(cluster, "region"),
        size=optional_str(cluster, "size"),
        project_id=optional_str(cluster, "project_id"),
        vpc_uuid=optional_str(cluster, "private_network_uuid"),
        status=optional_str(cluster, "status") or "unknown",
        num_nodes=optional_int(cluster, "num_nodes"),
        storage_mib=optional_int(cluster, "storage_size_mib"),
        created_at=timestamp(cluster, "created_at"),
        version_end_of_life=timestamp(cluster, "version_end_of_life"),
        tags=string_list(cluster, "tags"),
        metrics_endpoints=metrics_endpoints(cluster),
        maintenance_day=optional_str(cluster, "maintenance_window", "day"),
        maintenance_hour=optional_str(cluster, "maintenance_window", "hour"),
        maintenance_pending=maintenance_pending(cluster),
    )


def maintenance_pending(cluster: Mapping[str, Any]) -> bool | None:
    """`maintenance_window.pending`; None when the window or the flag is missing or mistyped."""
    window = cluster.get("maintenance_window")
    return optional_bool(window, "pending") if isinstance(window, dict) else None


def parse_databases(body: Mapping[str, Any]) -> tuple[DatabaseRecord, ...]:
    where = f"{ENDPOINT} {LIST_KEY}"
    if LIST_KEY not in body:
        # Not the same as null: a body without the key is not a database list at all, and
        # reading it as "no databases" would drop every series instead of keeping the last poll.
        raise ShapeError(f"{where}: missing from the response")
    items = body[LIST_KEY]
    if items is None:  # what the API sends when the account has no database clusters
        return ()
    by_id: dict[str, DatabaseRecord] = {}
    for path, cluster in objects(items, where):
        record = parse_database(cluster, path)
        by_id[record.database_id] = record
    return tuple(by_id[key] for key in sorted(by_id))


async def fetch(reader: ResourceReader) -> tuple[DatabaseRecord, ...]:
    return await fetch_selected(reader, PollContext())


async def fetch_selected(reader: ResourceReader, context: PollContext) -> tuple[DatabaseRecord, ...]:
    """The clusters the `filter:` keeps; one tag is asked of the API (`?tag_name=`)."""
    selection = context.selection
    tag = selection.server_tag()
    # One request: the endpoint is not paged, so list_all (which pages) is not used.
    records = parse_databases(
        await reader.get(ENDPOINT, params={"tag_name": tag} if tag is not None else None))
    return selection.keep(records, lambda d: Facts(d.database_id, name=d.name, region=d.region, tags=d.tags))


def samples(databases: tuple[DatabaseRecord, ...]) -> Iterator[Sample]:
    for d in databases:
        key = (d.database_id,)
        yield INFO.name, (*key, d.name, d.engine, d.version, d.region, d.size, d.project_id,
                          d.vpc_uuid), 1
        yield from state_set(STATUS.name, key, d.status, STATUSES)
        yield from known_values(key, (
            (NODES, d.num_nodes),
            (STORAGE, None if d.storage_mib is None else d.storage_mib * MIB),
            (CREATED, d.created_at),
            (END_OF_LIFE, d.version_end_of_life),
        ))
        if d.maintenance_day or d.maintenance_hour:
            yield MAINTENANCE_WINDOW.name, (*key, d.maintenance_day, d.maintenance_hour), 1
        if d.maintenance_pending is not None:
            yield MAINTENANCE_PENDING.name, key, int(d.maintenance_pending)


COLLECTOR: Collector[tuple[DatabaseRecord, ...]] = Collector(
    name="databases",
    summary="managed database clusters: status, engine, version, size, nodes, storage and maintenance window (never credentials)",
    endpoints=(ENDPOINT,),
    id_label="database_id",
    scope="database:read",
    field_scopes=(
        FieldScope("project_id", ("project:read",), ("digitalocean_database_info{project_id}",)),
        FieldScope("private_network_uuid", ("vpc:read",), ("digitalocean_database_info{vpc_uuid}",)),
    ),
    interval=60.0,
    families=(INFO, STATUS, NODES, STORAGE, CREATED, END_OF_LIFE, MAINTENANCE_WINDOW,
              MAINTENANCE_PENDING),
    fetch=fetch,
    filters=FILTER_KEYS,
    fetch_with=fetch_selected,
    samples=samples,
)
