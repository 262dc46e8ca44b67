"""What hangs off each database cluster: read-only replicas, backups and events
(`/v2/databases/{database_cluster_uuid}/replicas`, `/backups`, `/events`). Not a counted kind: the
answers are derived from each cluster (its id, engine, size, region, creation time) and the
clock, so generated and given fleets both have them; a given fleet may also give a cluster's
answers as they are (`Fleet.from_objects(database_replicas={id: answer}, ...)`).

Replicas carry connection blocks with the cluster's password, like the cluster itself, only
for tokens allowed to see credentials.
"""

from __future__ import annotations

import json

from exporter.simulator.building import GivenContext, JsonObject, text, unix
from exporter.simulator.determinism import stable_hex, stable_int, stable_uuid
from exporter.simulator.handling import ApiError, ApiRequest, Caller, Endpoint, FleetView
from exporter.simulator.items import DAY, Item, make_item
from exporter.simulator.kind import Kind
from exporter.simulator.kinds.databases import databases
from exporter.simulator.resources import Built
from exporter.simulator.timefmt import iso_utc

KIND_NAME = "database_details"
WITHOUT_REPLICAS_AND_BACKUPS = frozenset({"redis", "valkey"})
SECRET_REPLICA_FIELDS = ("connection", "private_connection")
"""Fields of a replica that hold credentials: only for `database:view_credentials`."""
BACKUP_DAYS = 7  # backups kept, one a day


def cluster(fleet: FleetView, request: ApiRequest) -> Item:
    """The cluster the path names, or a 404 as DigitalOcean answers for an unknown one."""
    wanted = request.path_params["database_cluster_uuid"]
    found = next((d for d in databases(fleet.resources) if str(d.id) == wanted), None)
    if found is None:
        raise ApiError(404)
    return found


def encode(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def given_answer(fleet: FleetView, what: str, item: Item, now: float) -> JsonObject | None:
    """The answer given to `Fleet.from_objects` for this cluster, if one was."""
    found = fleet.resources.related(KIND_NAME, f"{what}:{item.id}")
    return None if not found else found[0].as_json(now)


def without_credentials(answer: JsonObject) -> JsonObject:
    replicas = answer.get("replicas")
    if not isinstance(replicas, list):
        return answer
    return {**answer, "replicas": [
        {k: v for k, v in r.items() if k not in SECRET_REPLICA_FIELDS} if isinstance(r, dict) else r
        for r in replicas
    ]}


def get_replicas(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    item = cluster(fleet, request)
    given = given_answer(fleet, "replicas", item, request.now)
    if given is not None:
        credentials = caller.may_view_database_credentials()
        return encode(given if credentials else without_credentials(given))
    body = item.as_json(request.now)
    engine = text(body.get("engine"))
    if engine in WITHOUT_REPLICAS_AND_BACKUPS:
        return b'{"replicas":[]}'
    secret: JsonObject | None = None
    if caller.may_view_database_credentials() and item.private is not None:
        secret = item.private.as_json(request.now)
    replicas = []
    name = text(body.get("name"))
    created = unix(text(body.get("created_at")))
    for index in range(stable_int("database replicas", item.id) % 3):
        replica_name = f"{name}-replica-{index + 1}"
        replica: JsonObject = {
            "id": stable_uuid("database replica", item.id, index),
            "name": replica_name,
            "region": text(body.get("region")),
            "size": text(body.get("size")),
            # the newest replica of a cluster that is not online yet is still being created
            "status": "online" if body.get("status") == "online" or index == 0 else "creating",
            "created_at": iso_utc(min(created + (index + 1) * DAY, int(request.now))),
            "storage_size_mib": body.get("storage_size_mib") or 0,
        }
        if secret is not None:
            for key in ("connection", "private_connection"):
                connection = dict(secret.get(key) or {})
                host = text(connection.get("host"))
                replica_host = host.replace(name, replica_name, 1)
                connection["host"] = replica_host
                connection["uri"] = text(connection.get("uri")).replace(host, replica_host)
                replica[key] = connection
        replicas.append(replica)
    return encode({"replicas": replicas})


def get_backups(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    item = cluster(fleet, request)
    given = given_answer(fleet, "backups", item, request.now)
    if given is not None:
        return encode(given)
    body = item.as_json(request.now)
    if text(body.get("engine")) in WITHOUT_REPLICAS_AND_BACKUPS:
        return b'{"backups":[]}'
    hour = stable_int("database backup hour", item.id) % 24
    created = unix(text(body.get("created_at")))
    # the scheduled time of today's backup, or yesterday's if today's has not come yet
    newest = int(request.now // DAY * DAY + hour * 3600)
    if newest > request.now:
        newest -= DAY
    size = (stable_int("database backup size", item.id) % 900 + 100) / 1000
    backups = [
        {
            "created_at": iso_utc(at),
            "size_gigabytes": round(size * (1 + 0.01 * (BACKUP_DAYS - day)), 6),
            "incremental": text(body.get("engine")) == "mysql" and day > 0,
        }
        for day in range(BACKUP_DAYS)
        if (at := newest - day * DAY) >= created
    ]
    answer: JsonObject = {
        "backups": backups,
        "scheduled_backup_time": {"backup_hour": hour, "backup_minute": 0, "backup_interval_hours": 24},
    }
    if stable_int("database backup running", item.id) % 5 == 0:
        answer["backup_progress"] = str(stable_int("database backup progress", item.id) % 100)
    return encode(answer)


def get_events(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    item = cluster(fleet, request)
    given = given_answer(fleet, "events", item, request.now)
    if given is not None:
        return encode(given)
    body = item.as_json(request.now)
    name = text(body.get("name"))
    created = unix(text(body.get("created_at")))
    events = [{"id": stable_hex(8, "database event", item.id, 0), "cluster_name": name,
               "event_type": "cluster_create", "create_time": iso_utc(created)}]
    for index in range(1, 1 + stable_int("database events", item.id) % 4):
        at = created + index * 7 * DAY
        if at > request.now:
            break
        kind = "cluster_maintenance_perform" if index % 2 else "cluster_update"
        events.append({"id": stable_hex(8, "database event", item.id, index), "cluster_name": name,
                       "event_type": kind, "create_time": iso_utc(at)})
    return encode({"events": events})


def given_details(context: GivenContext) -> Built | None:
    """Answers given per cluster id (`database_replicas`, `database_backups`,
    `database_events`: {cluster id: answer}), served as given; the clusters without one get
    derived answers. Replica credentials are shown only to tokens allowed to see them."""
    related: dict[str, tuple[Item, ...]] = {}
    for what in ("replicas", "backups", "events"):
        for cluster_id, answer in (context.value(f"database_{what}") or {}).items():
            related[f"{what}:{cluster_id}"] = (make_item(dict(answer), id=str(cluster_id)),)
    return Built(related=related) if related else None


KIND = Kind(
    name=KIND_NAME,
    # Not in the vendored subset: validated against the full description instead
    # (tests/simulator/test_database_details.py, test_full_spec_conformance.py).
    routes=tuple(
        Endpoint(template, "database:read", handler, in_spec=False)
        for template, handler in (
            ("/v2/databases/{database_cluster_uuid}/replicas", get_replicas),
            ("/v2/databases/{database_cluster_uuid}/backups", get_backups),
            ("/v2/databases/{database_cluster_uuid}/events", get_events),
        )
    ),
    given=given_details,
    given_keys=("database_replicas", "database_backups", "database_events"),
)
