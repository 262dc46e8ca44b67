"""Droplet and volume snapshots (`/v2/snapshots`).
"""

from __future__ import annotations

import random
from decimal import Decimal

from exporter.simulator.building import (
    HOUR,
    BuildContext,
    GivenContext,
    JsonObject,
    given_item,
    monthly,
    unix,
)
from exporter.simulator.catalog import SNAPSHOT_PRICE_PER_GIB_MONTH
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
from exporter.simulator.items import DAY, Item, Stamp, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources

SNAPSHOT_LABELS = ("weekly", "pre-upgrade", "before-resize", "golden-image", "manual")


def snapshots(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("snapshots")


def list_snapshots(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    kind = single(request.query, "resource_type")
    if kind not in (None, "droplet", "volume"):
        raise ApiError(400, "resource_type must be one of: droplet, volume")
    items = snapshots(fleet.resources)
    if kind is not None:
        items = tuple(item for item in items if item.extra == kind)
    return paged_items(request, "snapshots", items, fleet)


def build_snapshots(context: BuildContext) -> Built:
    """Droplet and volume snapshots, oldest first (ids grow with age, like image ids).

    Nobody snapshots Kubernetes nodes, so their Droplets are left out. A tenth of the
    Droplet snapshots (with `problems` not False) outlived their Droplet: their
    `resource_id` names a Droplet that no longer exists.
    """
    count = context.counts.snapshots
    candidates = [d for d in context.droplets if d["id"] not in context.node_ids] or context.droplets
    if not count or not (candidates or context.volumes):
        return Built()
    rng = context.rng("snapshots")
    volume_count = min(count // 3, len(context.volumes)) if candidates else count
    droplet_count = count - volume_count
    old_age = (120 + rng.randrange(80)) * DAY + rng.randrange(DAY)
    planned: list[tuple[int, int, JsonObject, bool]] = []
    for index in range(droplet_count):
        # The first is of the oldest Droplet, so it can be older than 90 days on any clock.
        droplet = candidates[0] if index == 0 else rng.choice(candidates)
        orphan = context.problems is not False and droplet_count >= 10 and index % 10 == 9
        planned.append((snapshot_age(context, rng, index, old_age), index, droplet, orphan))
    for index in range(volume_count):
        age = snapshot_age(context, rng, droplet_count + index, old_age)
        planned.append((age, droplet_count + index, rng.choice(context.volumes), False))
    planned.sort(key=lambda plan: (-plan[0], plan[1]))
    existing = {int(d["id"]) for d in (*context.droplets, *context.gpu_droplets)}
    next_id = 150_000_000 + stable_int(context.spec.seed, context.account, "images") % 800_000 * 50
    items: list[Item] = []
    for age, index, target, orphan in planned:
        label = SNAPSHOT_LABELS[index % len(SNAPSHOT_LABELS)]
        if "disk" not in target:
            items.append(volume_snapshot(context, target, index, age, label=label, rng=rng))
            continue
        next_id += 1 + rng.randrange(9)
        if orphan:
            resource_id = int(target["id"]) - 3 - 7 * (index + 1)
            while resource_id in existing:
                resource_id -= 1
            name, floor = f"{context.role(target)}-{label}-{index:03d}", None
        else:
            resource_id = int(target["id"])
            name = f"{target['name']}-{label}"
            floor = unix(target["created_at"]) + HOUR
            target["snapshot_ids"] = [*target["snapshot_ids"], next_id]
        region = target["region"]["slug"]
        regions = [region]
        other = next((r for r in context.spec.regions if r != region), None)
        if index % 8 == 5 and other:
            regions.append(other)  # copied to a second region
        body: JsonObject = {
            "id": str(next_id),
            "name": name,
            "created_at": Stamp(-age, floor),
            "regions": regions,
            "resource_id": str(resource_id),
            "resource_type": "droplet",
            "min_disk_size": target["disk"],
            "size_gigabytes": round(target["disk"] * (0.05 + rng.random() * 0.5), 2),
            "tags": [context.factory.env_tag],
        }
        items.append(snapshot_item(context, body, str(next_id), "images"))
    return Built(items=tuple(items))


def volume_snapshot(
    context: BuildContext,
    volume: JsonObject,
    index: int,
    age: int,
    *,
    label: str,
    rng: random.Random,
) -> Item:
    snapshot_id = context.uuid("volume_snapshot", index)
    body: JsonObject = {
        "id": snapshot_id,
        "name": f"{volume['name']}-{label}",
        "created_at": Stamp(-age, unix(volume["created_at"]) + HOUR),
        "regions": [volume["region"]["slug"]],
        "resource_id": volume["id"],
        "resource_type": "volume",
        "min_disk_size": volume["size_gigabytes"],
        "size_gigabytes": round(volume["size_gigabytes"] * (0.01 + rng.random() * 0.4), 4),
        "tags": list(volume.get("tags") or []),
    }
    return snapshot_item(context, body, snapshot_id, "volume_snapshots")


def snapshot_age(context: BuildContext, rng: random.Random, index: int, old_age: int) -> int:
    if context.problems is False:
        return rng.randrange(1, 80) * DAY + rng.randrange(DAY)
    if index == 0 and context.problems is True:
        return old_age
    return rng.randrange(1, 400) * DAY + rng.randrange(DAY)


def snapshot_item(context: BuildContext, body: JsonObject, snapshot_id: str, kind: str) -> Item:
    path = "images" if kind == "images" else "snapshots"
    for tag in body["tags"]:
        context.tag_sources.append((tag, kind, f"/v2/{path}/{snapshot_id}"))
    return make_item(
        body,
        id=snapshot_id,
        name=str(body["name"]),
        region=str(body["regions"][0]),
        tags=tuple(body["tags"]),
        hourly_cost=monthly(Decimal(str(body["size_gigabytes"])) * SNAPSHOT_PRICE_PER_GIB_MONTH),
        extra=body["resource_type"],
    )


def given_snapshots(context: GivenContext) -> Built:
    items = []
    for snapshot in context.objects("snapshots"):
        kind = "images" if snapshot.get("resource_type") == "droplet" else "volume_snapshots"
        path = "images" if kind == "images" else "snapshots"
        for tag in snapshot.get("tags") or ():
            context.tag(str(tag), kind, f"/v2/{path}/{snapshot.get('id')}")
        items.append(
            given_item(
                snapshot,
                tags=tuple(snapshot.get("tags") or ()),
                extra=snapshot.get("resource_type"),
            )
        )
    return Built(items=tuple(items))


KIND = Kind(
    name="snapshots",
    routes=(Endpoint("/v2/snapshots", "snapshot:read", list_snapshots, paged=True),),
    list_endpoint="/v2/snapshots",
    count=Count(derive=lambda droplets, _: droplets // 5, problems_minimum=2),
    build=build_snapshots,
    given=given_snapshots,
    in_state=True,
)
