"""CDN endpoints (`/v2/cdn/endpoints`), whose origins are the Spaces buckets.
"""

from __future__ import annotations

from exporter.simulator.building import BuildContext, GivenContext, JsonObject, given_item
from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
)
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.kinds.domains import domain_names
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc


def cdn_endpoints(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("cdn_endpoints")


def list_cdn_endpoints(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "endpoints", cdn_endpoints(fleet.resources), fleet)


def build_cdn_endpoints(context: BuildContext) -> Built:
    count = context.counts.cdn_endpoints
    buckets = context.built("spaces_buckets").items
    domains = domain_names(context)
    certificates = context.built("certificates").bodies
    verified = [body for body in certificates if body["state"] == "verified"]
    out: list[tuple[Item, JsonObject]] = []
    for index in range(count):
        if buckets:
            bucket = buckets[index % len(buckets)]
            origin_name, region = bucket.name, bucket.region
        else:
            origin_name, region = f"{context.slug}-cdn-{index + 1}", "nyc3"
        endpoint_id = context.uuid("cdn", index)
        body: JsonObject = {
            "id": endpoint_id,
            "origin": f"{origin_name}.{region}.digitaloceanspaces.com",
            "endpoint": f"{origin_name}.{region}.cdn.digitaloceanspaces.com",
            "created_at": iso_utc(context.created("cdn", index, count)),
            "ttl": (3600, 86400, 600)[index % 3],
        }
        if domains and index % 2 == 0:
            zone = domains[index % len(domains)]
            custom = f"cdn{index or ''}.{zone}"
            covering = next(
                (c for c in verified if {custom, f"*.{zone}"} & set(c["dns_names"])), None
            )
            if covering is not None:
                body["custom_domain"] = custom
                body["certificate_id"] = covering["id"]
        out.append((make_item(body, id=endpoint_id, name=str(body["endpoint"])), body))
    return Built(items=tuple(item for item, _ in out), bodies=tuple(body for _, body in out))


def given_cdn_endpoints(context: GivenContext) -> Built:
    return Built(items=tuple(given_item(cdn) for cdn in context.objects("cdn_endpoints")))


KIND = Kind(
    name="cdn_endpoints",
    routes=(Endpoint("/v2/cdn/endpoints", "cdn:read", list_cdn_endpoints, paged=True),),
    list_endpoint="/v2/cdn/endpoints",
    count=Count(derive=lambda droplets, _: min(3, 1 + droplets // 500) if droplets >= 10 else 0),
    build=build_cdn_endpoints,
    after=("spaces_buckets", "certificates"),
    given=given_cdn_endpoints,
)
