"""Database details: per cluster GET /v2/databases/{database_cluster_uuid}/replicas, /backups and
/events (scope database:read, default every 30m).

The clusters are the ones the `databases` collector last listed (its data is this collector's
input): the list is never read again, except once after a 404 to tell a deleted cluster (left
out of that poll) from a failed request. Each cluster costs three requests per poll, two for
Caching (`redis`) and Valkey clusters, which have neither read-only replicas nor backups. So
30 clusters cost about 180 requests an hour, against the 1m list's 60.

Read-only replicas: status as a state set, region and size on `_info`, and how many there are.
Backups: how many are kept, when the newest was taken and its size (`size_gigabytes` x 2^30, the
API's gigabytes being GiB as for volumes), the schedule's interval and the progress of a running
backup. Events: how many of each type the API returns (its window, not a counter) and when the
newest of each type happened. The engine versions' end of life is the `database_versions`
collector's; the maintenance window is in the list answer itself, so it is not read again here
(it belongs to the `databases` collector's records).

Replica answers carry connection URIs and passwords for tokens with
`database:view_credentials`: only named, non-secret fields are read, so none reaches a record.

    digitalocean_database_replica_info{account="production",database_id="9cc10173-e9ea-4176-9dbc-a4cee4c4ff30",replica_name="read-nyc3-01",region="nyc3",size=""} 1
    digitalocean_database_backups{account="production",database_id="9cc10173-e9ea-4176-9dbc-a4cee4c4ff30"} 2
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from exporter.collectors import databases
from exporter.collectors.base import (
    FOLLOW_UP_CONCURRENCY,
    Collector,
    Family,
    PollContext,
    ResourceReader,
    Sample,
    known_values,
    state_set,
)
from exporter.collectors.fields import (
    GIB,
    ShapeError,
    objects,
    optional_int,
    optional_number,
    optional_str,
    required_str,
    timestamp,
)
from exporter.tasks import all_or_nothing

REPLICAS_ENDPOINT = "/v2/databases/{database_cluster_uuid}/replicas"
BACKUPS_ENDPOINT = "/v2/databases/{database_cluster_uuid}/backups"
EVENTS_ENDPOINT = "/v2/databases/{database_cluster_uuid}/events"
# "Read-only replicas are not supported for Caching or Valkey clusters", "Backups are not
# supported for Caching or Valkey clusters" (the spec's descriptions of the two endpoints).
WITHOUT_REPLICAS_AND_BACKUPS = frozenset({"redis", "valkey"})
UNKNOWN_TYPE = "unknown"  # an event without a type is still counted, visibly

REPLICA = ("database_id", "replica_name")
CLUSTER = ("database_id",)

REPLICA_INFO = Family(
    "digitalocean_database_replica_info",
    f"Read-only replica region and size (always 1), polled from {REPLICAS_ENDPOINT}.",
    (*REPLICA, "region", "size"),
)
REPLICA_STATUS = Family(
    "digitalocean_database_replica_status",
    f"Read-only replica status as a state set (1 for the current status), "
    f"polled from {REPLICAS_ENDPOINT}.",
    (*REPLICA, "status"),
)
REPLICA_CREATED = Family(
    "digitalocean_database_replica_created_timestamp_seconds",
    f"When the read-only replica was created, polled from {REPLICAS_ENDPOINT}.",
    REPLICA,
)
REPLICAS = Family(
    "digitalocean_database_replicas",
    f"Read-only replicas of the cluster (absent for engines without replicas), "
    f"polled from {REPLICAS_ENDPOINT}.",
    CLUSTER,
)
BACKUPS = Family(
    "digitalocean_database_backups",
    f"Backups of the cluster available to restore, polled from {BACKUPS_ENDPOINT}.",
    CLUSTER,
)
LAST_BACKUP = Family(
    "digitalocean_database_last_backup_timestamp_seconds",
    f"When the newest backup of the cluster was taken, polled from {BACKUPS_ENDPOINT}.",
    CLUSTER,
)
LAST_BACKUP_SIZE = Family(
    "digitalocean_database_last_backup_size_bytes",
    f"Size of the newest backup of the cluster, polled from {BACKUPS_ENDPOINT}.",
    CLUSTER,
)
BACKUP_INTERVAL = Family(
    "digitalocean_database_backup_interval_seconds",
    f"How often the cluster is backed up (its schedule), polled from {BACKUPS_ENDPOINT}.",
    CLUSTER,
)
BACKUP_PROGRESS = Family(
    "digitalocean_database_backup_progress_ratio",
    f"Completion of the backup in progress (0 to 1; absent when none runs), "
    f"polled from {BACKUPS_ENDPOINT}.",
    CLUSTER,
)
EVENTS = Family(
    "digitalocean_database_events",
    f"Cluster events of each type among those the API returns, polled from {EVENTS_ENDPOINT}.",
    (*CLUSTER, "type"),
)
LAST_EVENT = Family(
    "digitalocean_database_last_event_timestamp_seconds",
    f"When the newest cluster event of each type happened, polled from {EVENTS_ENDPOINT}.",
    (*CLUSTER, "type"),
)
@dataclass(frozen=True, slots=True)
class ReplicaRecord:
    """The non-secret facts about one replica: deliberately no connection, user or host."""

    name: str
    region: str
    size: str
    status: str
    created_at: float | None


@dataclass(frozen=True, slots=True)
class BackupSummary:
    count: int
    last_at: float | None
    last_size_bytes: float | None
    interval_hours: int | None
    progress_ratio: float | None


@dataclass(frozen=True, slots=True)
class EventTypeCount:
    type: str
    count: int
    last_at: float | None


@dataclass(frozen=True, slots=True)
class DatabaseDetails:
    database_id: str
    replicas: tuple[ReplicaRecord, ...] | None  # None: the engine has no replicas (not asked)
    backups: BackupSummary | None  # None: the engine has no backups (not asked)
    events: tuple[EventTypeCount, ...]  # sorted by type


def parse_replicas(body: Mapping[str, Any], where: str) -> tuple[ReplicaRecord, ...]:
    # Named fields only: `connection` and `private_connection` carry passwords and URIs.
    by_name: dict[str, ReplicaRecord] = {}
    for path, replica in objects(_list(body, "replicas", where), f"{where} replicas"):
        record = ReplicaRecord(
            name=required_str(replica, "name", path),
            region=optional_str(replica, "region"),
            size=optional_str(replica, "size"),
            status=optional_str(replica, "status") or "unknown",
            created_at=timestamp(replica, "created_at"),
        )
        by_name[record.name] = record
    return tuple(by_name[name] for name in sorted(by_name))


def _progress(body: Mapping[str, Any]) -> float | None:
    """`backup_progress` is a percentage as a string ("36"); anything else is unknown."""
    value = body.get("backup_progress")
    if not isinstance(value, str):
        return None
    try:
        percent = float(value)
    except ValueError:
        return None
    return percent / 100 if 0 <= percent <= 100 else None


def parse_backups(body: Mapping[str, Any], where: str) -> BackupSummary:
    items = list(objects(_list(body, "backups", where), f"{where} backups"))
    newest: Mapping[str, Any] | None = None
    newest_at: float | None = None
    for _, backup in items:
        at = timestamp(backup, "created_at")
        if at is not None and (newest_at is None or at > newest_at):
            newest, newest_at = backup, at
    size = None if newest is None else optional_number(newest, "size_gigabytes")
    schedule = body.get("scheduled_backup_time")
    return BackupSummary(
        count=len(items),
        last_at=newest_at,
        last_size_bytes=None if size is None else size * GIB,
        interval_hours=optional_int(schedule, "backup_interval_hours")
        if isinstance(schedule, dict) else None,
        progress_ratio=_progress(body),
    )


def parse_events(body: Mapping[str, Any], where: str) -> tuple[EventTypeCount, ...]:
    counts: dict[str, int] = {}
    last: dict[str, float] = {}
    for _, event in objects(_list(body, "events", where), f"{where} events"):
        kind = optional_str(event, "event_type") or UNKNOWN_TYPE
        counts[kind] = counts.get(kind, 0) + 1
        at = timestamp(event, "create_time")
        if at is not None and at > last.get(kind, float("-inf")):
            last[kind] = at
    return tuple(EventTypeCount(kind, counts[kind], last.get(kind)) for kind in sorted(counts))


def _list(body: Mapping[str, Any], key: str, where: str) -> object:
    """A list the answer must carry; null is an empty one."""
    if key not in body:
        raise ShapeError(f"{where} {key}: missing from the response")
    value = body[key]
    return [] if value is None else value


def answer_where(endpoint: str, database_id: str) -> str:
    return endpoint.replace("{database_cluster_uuid}", database_id)


async def _details_or_none(
    reader: ResourceReader, cluster: databases.DatabaseRecord
) -> DatabaseDetails | None:
    """The cluster's details, or None when an answer says it no longer exists (404)."""
    path = {"database_cluster_uuid": cluster.database_id}
    replicas: tuple[ReplicaRecord, ...] | None = None
    backups: BackupSummary | None = None
    if cluster.engine not in WITHOUT_REPLICAS_AND_BACKUPS:
        body = await reader.get_or_none(REPLICAS_ENDPOINT, path=path)
        if body is None:
            return None
        replicas = parse_replicas(body, answer_where(REPLICAS_ENDPOINT, cluster.database_id))
        body = await reader.get_or_none(BACKUPS_ENDPOINT, path=path)
        if body is None:
            return None
        backups = parse_backups(body, answer_where(BACKUPS_ENDPOINT, cluster.database_id))
    body = await reader.get_or_none(EVENTS_ENDPOINT, path=path)
    if body is None:
        return None
    events = parse_events(body, answer_where(EVENTS_ENDPOINT, cluster.database_id))
    return DatabaseDetails(cluster.database_id, replicas, backups, events)


async def confirm_deleted(reader: ResourceReader, gone: Sequence[str]) -> None:
    """Like `relisting.confirm_deleted`, for the unpaged database list (one `get`)."""
    if not gone:
        return
    listed = {d.database_id for d in databases.parse_databases(await reader.get(databases.ENDPOINT))}
    still = sorted(set(gone) & listed)
    if still:
        raise ShapeError(
            f"{REPLICAS_ENDPOINT} (or /backups, /events): HTTP 404 for {', '.join(still)}, which "
            f"{databases.ENDPOINT} still lists; nothing is dropped on a 404 that is not a deletion"
        )


def inventory(context: PollContext) -> tuple[databases.DatabaseRecord, ...]:
    """The clusters the `databases` collector last listed; none before its first good poll."""
    records: tuple[databases.DatabaseRecord, ...] = context.inputs.get(databases.COLLECTOR.name, ())
    return records


async def fetch_with(reader: ResourceReader, context: PollContext) -> tuple[DatabaseDetails, ...]:
    clusters = inventory(context)
    answers = await all_or_nothing(
        [_details_or_none(reader, c) for c in clusters], limit=FOLLOW_UP_CONCURRENCY
    )
    await confirm_deleted(
        reader, [c.database_id for c, found in zip(clusters, answers, strict=True) if found is None]
    )
    found = {d.database_id: d for d in answers if d is not None}
    return tuple(found[key] for key in sorted(found))


def requests_for(context: PollContext) -> int:
    """Requests one poll makes (without the rare re-read of the list after a 404)."""
    return sum(1 if c.engine in WITHOUT_REPLICAS_AND_BACKUPS else 3 for c in inventory(context))


async def fetch(reader: ResourceReader) -> tuple[DatabaseDetails, ...]:
    return await fetch_with(reader, PollContext())


def samples(data: tuple[DatabaseDetails, ...]) -> Iterator[Sample]:
    for d in data:
        key = (d.database_id,)
        if d.replicas is not None:
            for r in d.replicas:
                replica_key = (*key, r.name)
                yield REPLICA_INFO.name, (*replica_key, r.region, r.size), 1
                yield from state_set(REPLICA_STATUS.name, replica_key, r.status, databases.STATUSES)
                if r.created_at is not None:
                    yield REPLICA_CREATED.name, replica_key, r.created_at
            yield REPLICAS.name, key, len(d.replicas)
        if d.backups is not None:
            b = d.backups
            yield BACKUPS.name, key, b.count
            yield from known_values(key, (
                (LAST_BACKUP, b.last_at),
                (LAST_BACKUP_SIZE, b.last_size_bytes),
                (BACKUP_INTERVAL, None if b.interval_hours is None else b.interval_hours * 3600),
                (BACKUP_PROGRESS, b.progress_ratio),
            ))
        for e in d.events:
            yield EVENTS.name, (*key, e.type), e.count
            if e.last_at is not None:
                yield LAST_EVENT.name, (*key, e.type), e.last_at


COLLECTOR: Collector[tuple[DatabaseDetails, ...]] = Collector(
    name="database_details",
    summary="database replicas, backups and events per cluster (never credentials)",
    endpoints=(REPLICAS_ENDPOINT, BACKUPS_ENDPOINT, EVENTS_ENDPOINT),
    id_label="database_id",
    scope="database:read",
    interval=1800.0,
    families=(
        REPLICA_INFO, REPLICA_STATUS, REPLICA_CREATED, REPLICAS, BACKUPS, LAST_BACKUP,
        LAST_BACKUP_SIZE, BACKUP_INTERVAL, BACKUP_PROGRESS, EVENTS, LAST_EVENT,
    ),
    fetch=fetch,
    samples=samples,
    inputs=("databases",),
    fetch_with=fetch_with,
    requests_for=requests_for,
)
