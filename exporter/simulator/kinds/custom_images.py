"""Custom images (`/v2/images`): virtual machine images the account uploaded.

Only the account's own custom images are listed: DigitalOcean's public distribution and
application images, and the Droplet snapshots and backups the real list also shows as images,
are not modelled here (snapshots are served by `/v2/snapshots`). So `?private=true` lists them
all, `?type=distribution` and `?type=application` (public images) none, and `?tag_name=`
those with the tag. Each is billed per GiB and month like a snapshot.
"""

from __future__ import annotations

from exporter.simulator.building import BuildContext, GivenContext, JsonObject, given_item
from exporter.simulator.determinism import stable_int
from exporter.simulator.handling import (
    ApiError,
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
    single,
)
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc

DISTRIBUTIONS = ("Ubuntu", "Debian", "Rocky Linux", "Fedora", "FreeBSD", "Unknown")
WORDS = ("appliance", "hardened-base", "legacy-erp", "build-runner", "vpn-gateway")


def custom_images(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("custom_images")


def list_images(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    kind = single(request.query, "type")
    if kind not in (None, "application", "distribution"):
        raise ApiError(400, "type must be one of: application, distribution")
    private = single(request.query, "private")
    items = custom_images(fleet.resources)
    if kind is not None or private == "false":
        items = ()  # public images: not modelled
    tag = single(request.query, "tag_name")
    if tag is not None:
        items = tuple(item for item in items if tag in item.tags)
    return paged_items(request, "images", items, fleet)


def build_custom_images(context: BuildContext) -> Built:
    count = context.counts.custom_images
    rng = context.rng("custom_images")
    next_id = 160_000_000 + stable_int(context.spec.seed, context.account, "custom") % 800_000 * 50
    items: list[Item] = []
    for index in range(count):
        next_id += 1 + rng.randrange(9)
        region = context.region_at(index, vpc=False)
        regions = [region]
        other = next((r for r in context.spec.regions if r != region), None)
        if index % 3 == 1 and other:
            regions.append(other)
        created = context.created("custom_image", index, count)
        name = f"{WORDS[index % len(WORDS)]}-{index + 1:02d}"
        tags = ["custom-image"] if index % 2 == 0 else []
        body: JsonObject = {
            "id": next_id,
            "name": name,
            "type": "custom",
            "distribution": DISTRIBUTIONS[index % len(DISTRIBUTIONS)],
            "slug": None,
            "public": False,
            "regions": regions,
            "created_at": iso_utc(created),
            "min_disk_size": 20 + 5 * rng.randrange(8),
            "size_gigabytes": round(1 + rng.random() * 12, 2),
            "description": f"{name} uploaded from a qcow2 file",
            "tags": tags,
            "status": "available",
            "error_message": "",
        }
        for tag in tags:
            context.tag(tag, "images", f"/v2/images/{next_id}")
        items.append(make_item(body, id=next_id, name=name, region=region, tags=tuple(tags),
                               created_at=body["created_at"]))
    return Built(items=tuple(items))


def given_custom_images(context: GivenContext) -> Built:
    items = []
    for image in context.objects("images"):
        if image.get("public") is True:
            continue  # public images are not the account's own: not served
        tags = tuple(str(tag) for tag in image.get("tags") or ())
        for tag in tags:
            context.tag(tag, "images", f"/v2/images/{image.get('id')}")
        items.append(given_item(image, name=str(image.get("name") or ""), tags=tags,
                                created_at=str(image.get("created_at") or "")))
    return Built(items=tuple(items))


KIND = Kind(
    name="custom_images",
    routes=(Endpoint("/v2/images", "image:read", list_images, paged=True, in_spec=False),),
    list_endpoint="/v2/images",
    count=Count(derive=lambda droplets, _: droplets // 20),
    build=build_custom_images,
    given=given_custom_images,
    given_keys=("images",),
    in_state=True,
)
