"""Managed database clusters (`/v2/databases`, not paged).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exporter.simulator.building import BuildContext, GivenContext, JsonObject, given_item, monthly, text
from exporter.simulator.catalog import (
    ADDED_STORAGE_MIB,
    DATABASE_ENGINE_WEIGHTS,
    DATABASE_ENGINES,
    DATABASE_SIZE_WEIGHTS,
    DATABASE_SIZES,
    database_monthly,
)
from exporter.simulator.determinism import stable_hex
from exporter.simulator.handling import (
    ApiError,
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    single,
)
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.kinds.vpcs import custom_vpcs
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc

DATABASE_WORDS = ("orders", "sessions", "analytics", "users", "inventory", "events", "billing")
SECRET_DATABASE_FIELDS = (
    "connection",
    "private_connection",
    "standby_connection",
    "standby_private_connection",
    "ui_connection",
    "schema_registry_connection",
    "users",
)
"""Fields of a database cluster that hold credentials: only for `database:view_credentials`."""


def databases(resources: Resources) -> tuple[Item, ...]:
    """Without credentials; each one's `private` holds the object with them."""
    return resources.objects("databases")


def public_database(database: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in database.items() if key not in SECRET_DATABASE_FIELDS}


def list_databases(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """Not paged. Credentials (`connection`, `private_connection`, `users`) only for tokens
    with `database:view_credentials` or a legacy `write` scope; `"databases": null` for none."""
    items = databases(fleet.resources)
    tag = single(request.query, "tag_name")
    if tag is not None:
        if not caller.may_read("tag:read"):
            raise ApiError(403)
        items = tuple(item for item in items if tag in item.tags)
    if not items:
        return b'{"databases":null}'
    credentials = caller.may_view_database_credentials()
    bodies = (
        (item.private if credentials and item.private is not None else item).render(request.now)
        for item in items
    )
    return b'{"databases":[' + b",".join(bodies) + b"]}"


def build_databases(context: BuildContext) -> Built:
    count = context.counts.databases
    rng = context.rng("databases")
    custom = {region: vpc for vpc, region in reversed(custom_vpcs(context))}
    special: dict[int, str] = {}
    if context.problems is True:
        special[1 if count >= 2 else 0] = "migrating"
    elif context.problems is None:
        if count >= 4:
            special[2] = "resizing"
        if count >= 6:
            special[count - 1] = "creating"
        if count >= 8:
            special[5] = "migrating"
    items: list[Item] = []
    for index in range(count):
        engine = rng.choices(DATABASE_ENGINES, weights=DATABASE_ENGINE_WEIGHTS)[0]
        size = rng.choices(DATABASE_SIZES, weights=DATABASE_SIZE_WEIGHTS)[0]
        nodes = rng.choice((1, 1, 2, 3))
        region = context.region_at(index)
        word = DATABASE_WORDS[index % len(DATABASE_WORDS)]
        suffix = "" if index < len(DATABASE_WORDS) else f"-{index // len(DATABASE_WORDS) + 1}"
        name = f"{engine.slug}-{word}{suffix}"
        database_id = context.uuid("database", index)
        created = context.created("database", index, count)
        vpc = custom.get(region) or context.factory.vpc_uuid(region)
        host_id = stable_hex(8, context.spec.seed, context.account, "db-host", index)
        host = f"{name}-do-user-{context.owner_id}-0.{host_id}.db.ondigitalocean.com"
        tags = [context.factory.env_tag, "db"]
        project = context.project_for(("database", database_id))
        body: JsonObject = {
            "id": database_id,
            "name": name,
            "engine": engine.slug,
            "version": engine.version,
            "semantic_version": engine.semantic_version,
            "num_nodes": nodes,
            "size": size.slug,
            "region": region,
            "status": special.get(index, "online"),
            "created_at": iso_utc(created),
            "private_network_uuid": vpc,
            "tags": tags,
            "db_names": None if engine.db_names is None else list(engine.db_names),
            "maintenance_window": {
                "day": ("sunday", "saturday", "tuesday")[index % 3],
                "hour": f"0{index % 6 + 1}:00:00",
                "pending": index % 4 == 1,
                "description": ["Update to the latest minor version"] if index % 4 == 1 else [],
            },
            "project_id": project,
            # storage added beyond the size's own (the spec's meaning): 10 GiB on every third
            "storage_size_mib": ADDED_STORAGE_MIB if index % 3 == 2 else 0,
            "metrics_endpoints": [{"host": host, "port": 9273}],
        }
        secret = dict(body)
        secret.update(credentials(context, engine.slug, index, host))
        facts: dict[str, Any] = {
            "name": name,
            "region": region,
            "tags": tuple(tags),
            "created_at": iso_utc(created),
            "urn": f"do:dbaas:{database_id}",
            "hourly_cost": monthly(database_monthly(size.slug, nodes, body["storage_size_mib"])),
            "extra": body["status"],
        }
        private = make_item(secret, id=database_id, **facts)
        items.append(make_item(body, id=database_id, private=private, **facts))
        for tag in tags:
            context.tag(tag, "databases", f"/v2/databases/{database_id}")
        context.assign(f"do:dbaas:{database_id}", f"/v2/databases/{database_id}",
                     iso_utc(created), project)
        context.member(vpc, f"do:dbaas:{database_id}", name, iso_utc(created))
    return Built(items=tuple(items))


def credentials(context: BuildContext, engine_slug: str, index: int, host: str) -> JsonObject:
    """Connection details and users, with fake passwords derived from the seed."""
    engine = next(e for e in DATABASE_ENGINES if e.slug == engine_slug)

    def password(user: str) -> str:
        return "AVNS_" + stable_hex(19, context.spec.seed, context.account, "db", index, user)

    admin = password(engine.admin)
    database = (engine.db_names or ("",))[0] if engine.slug in ("pg", "mysql") else ""

    def connection(hostname: str) -> JsonObject:
        path = f"/{database}" if database else ""
        if engine.slug == "mongodb":
            path = "/admin"
        port = "" if engine.slug == "mongodb" else f":{engine.port}"
        return {
            "uri": f"{engine.scheme}://{engine.admin}:{admin}@{hostname}{port}{path}"
            f"{engine.options}",
            "database": database,
            "host": hostname,
            "port": engine.port,
            "user": engine.admin,
            "password": admin,
            "ssl": True,
        }

    users: list[JsonObject] = [{"name": engine.admin, "role": "primary", "password": admin}]
    if engine.slug in ("pg", "mysql"):
        users.append({"name": "app", "role": "normal", "password": password("app")})
    if engine.slug == "mysql":
        for user in users:
            user["mysql_settings"] = {"auth_plugin": "caching_sha2_password"}
    return {
        "connection": connection(host),
        "private_connection": connection(f"private-{host}"),
        "users": users,
    }


def given_databases(context: GivenContext) -> Built:
    """As given, credentials shown only to tokens allowed to see them."""
    items = []
    for database in context.objects("databases"):
        urn = f"do:dbaas:{database.get('id')}"
        context.assign(urn, f"/v2/databases/{database.get('id')}", text(database.get("created_at")))
        vpc = text(database.get("private_network_uuid"))
        if vpc:
            context.member(vpc, urn, text(database.get("name")), text(database.get("created_at")))
        items.append(
            given_item(
                public_database(database),
                tags=tuple(database.get("tags") or ()),
                urn=urn,
                private=given_item(database, urn=urn),
            )
        )
        for tag in database.get("tags") or ():
            context.tag(str(tag), "databases", f"/v2/databases/{database.get('id')}")
    return Built(items=tuple(items))


KIND = Kind(
    name="databases",
    routes=(Endpoint("/v2/databases", "database:read", list_databases, field_scopes=(
        ("databases[].project_id", "project:read"),
        ("databases[].private_network_uuid", "vpc:read"),
    )),),
    list_endpoint="/v2/databases",
    count=Count(derive=lambda droplets, _: droplets // 50, problems_minimum=2),
    build=build_databases,
    given=given_databases,
    in_state=True,
)
