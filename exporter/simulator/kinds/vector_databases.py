"""Vector databases (`/v2/vector-databases`).

Paged its own way, as the full description has it: `page`/`per_page`, the body `vector_dbs`
and a top-level `total`, no `links` and no `meta`. Each instance is a Weaviate cluster of size
`small`, `medium` or `large` (the tiers the description names) in one of the account's regions,
with its connection endpoints (public host names, no credential); the admin token is not
served. With problems on, the second is `errored`. The description gives no price, so no
instance is billed (no `hourly_cost`); none unless counted.
"""

from __future__ import annotations

from exporter.simulator.building import HOUR, BuildContext, GivenContext, JsonObject, given_item
from exporter.simulator.handling import ApiError, ApiRequest, Caller, Endpoint, FleetView
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.paging import PagingError, parse_paging
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc

SIZES = ("small", "medium", "large")
WEAVIATE_VERSIONS = ("1.30.1", "1.31.0")
WORDS = ("docs-search", "support-rag", "catalog-embeddings", "images")


def vector_databases(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("vector_databases")


def list_vector_databases(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """This page's `vector_dbs` and the `total` of the whole list; no links, no meta."""
    try:
        paging = parse_paging(request.query)
    except PagingError as error:
        raise ApiError(400, str(error)) from error
    items = vector_databases(fleet.resources)
    page = b",".join(item.render(request.now) for item in paging.window(items))
    return b'{"vector_dbs":[' + page + b'],"total":' + str(len(items)).encode() + b"}"


def build_vector_databases(context: BuildContext) -> Built:
    count = context.counts.vector_databases
    errored = 1 if context.problems is not False and count >= 2 else None
    items: list[Item] = []
    for index in range(count):
        database_id = context.uuid("vector_database", index)
        region = context.region_at(index, vpc=False)
        created = context.created("vector_database", index, count)
        word = WORDS[index % len(WORDS)]
        suffix = "" if index < len(WORDS) else f"-{index // len(WORDS) + 1}"
        name = f"{word}{suffix}"
        host = f"{name}-{region}-{database_id[:8]}"
        tags = [context.factory.env_tag, "vector"]
        body: JsonObject = {
            "id": database_id,
            "name": name,
            "region": region,
            "size": SIZES[index % len(SIZES)],
            "status": "errored" if index == errored else "active",
            "created_at": iso_utc(created),
            "updated_at": iso_utc(created + HOUR),
            "project_id": context.project_for(("vector_database", database_id)),
            "owner_uuid": context.uuid("vector_database_owner", 0),
            "tags": tags,
            "config": {
                "default_quantization": "rq",
                "enable_auto_schema": True,
                "weaviate_version": WEAVIATE_VERSIONS[index % len(WEAVIATE_VERSIONS)],
            },
            "endpoints": {
                "http": f"https://{host}.weaviate.ondigitalocean.com",
                "grpc": f"{host}-grpc.weaviate.ondigitalocean.com:443",
            },
            "forked_from_id": "",
            "last_restore_id": "",
        }
        items.append(make_item(body, id=database_id, name=name, region=region,
                               created_at=iso_utc(created), tags=tuple(tags)))
    return Built(items=tuple(items))


def given_vector_databases(context: GivenContext) -> Built:
    return Built(items=tuple(
        given_item(d, name=str(d.get("name") or ""), region=str(d.get("region") or ""),
                   created_at=str(d.get("created_at") or ""), tags=tuple(d.get("tags") or ()))
        for d in context.objects("vector_databases")))


KIND = Kind(
    name="vector_databases",
    routes=(Endpoint("/v2/vector-databases", "database:read", list_vector_databases,
                     paged=True, in_spec=False),),
    list_endpoint="/v2/vector-databases",
    # no price in the API description: none unless asked for (the demo's production runs one)
    count=Count(derive=lambda droplets, _: 0),
    build=build_vector_databases,
    given=given_vector_databases,
    in_state=True,
)
