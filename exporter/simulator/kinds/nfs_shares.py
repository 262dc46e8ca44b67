"""NFS shares and their snapshots (`/v2/nfs`, `/v2/nfs/snapshots`).

Neither list pages (the spec declares no `page`/`per_page` and no `links`/`meta`); both take
an optional `?region=`, and the snapshot list a `?share_id=`. Each share is reachable from the
default VPC of its region (the VPC of a Droplet there) or, where the account runs no Droplet
in that region, from none (`INACTIVE`); the first share has two snapshots, the 3rd, 5th, ...
one each.
With problems on, the second share is `FAILED`.
"""

from __future__ import annotations

from exporter.simulator.building import BuildContext, GivenContext, JsonObject, given_item
from exporter.simulator.handling import ApiRequest, Caller, Endpoint, FleetView, single
from exporter.simulator.items import DAY, Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc

SIZES_GIB = (50, 100, 250, 1024)
TIERS = ("PERFORMANCE_TIER_STANDARD", "PERFORMANCE_TIER_HIGH")


def nfs_shares(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("nfs_shares")


def nfs_snapshots(resources: Resources) -> tuple[Item, ...]:
    return resources.related("nfs_shares", "snapshots") or ()


def _in_region(request: ApiRequest, items: tuple[Item, ...]) -> tuple[Item, ...]:
    region = single(request.query, "region")
    return tuple(item for item in items if item.region == region) if region else items


def _listing(key: str, items: tuple[Item, ...], request: ApiRequest) -> bytes:
    return b'{"' + key.encode() + b'":[' + b",".join(i.render(request.now) for i in items) + b"]}"


def list_shares(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return _listing("shares", _in_region(request, nfs_shares(fleet.resources)), request)


def list_snapshots(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    items = _in_region(request, nfs_snapshots(fleet.resources))
    share = single(request.query, "share_id")
    if share:
        items = tuple(item for item in items if item.extra == share)
    return _listing("snapshots", items, request)


def build_nfs_shares(context: BuildContext) -> Built:
    count = context.counts.nfs_shares
    rng = context.rng("nfs_shares")
    failed = 1 if context.problems is not False and count >= 2 else None
    vpc_of_region: dict[str, str] = {}
    for droplet in context.droplets:
        if droplet.get("vpc_uuid"):
            vpc_of_region.setdefault(droplet["region"]["slug"], droplet["vpc_uuid"])
    shares: list[Item] = []
    snapshots: list[Item] = []
    for index in range(count):
        share_id = context.uuid("nfs_share", index)
        region = context.region_at(index)
        created = context.created("nfs_share", index, count)
        size = SIZES_GIB[index % len(SIZES_GIB)]
        vpc = vpc_of_region.get(region)
        status = "FAILED" if index == failed else ("ACTIVE" if vpc else "INACTIVE")
        name = f"shared-{region}-{index + 1:02d}"
        body: JsonObject = {
            "id": share_id,
            "name": name,
            "size_gib": size,
            "region": region,
            "status": status,
            "created_at": iso_utc(created),
            "vpc_ids": [vpc] if vpc else [],
            "performance_tier": TIERS[index % len(TIERS)],
            "mount_path": f"/{100000 + index}/{share_id}",
            "host": f"10.{110 + index % 100}.0.{2 + index % 250}",
        }
        shares.append(make_item(body, id=share_id, name=name, region=region,
                                created_at=body["created_at"]))
        taken = 2 if index == 0 else (1 if index % 2 == 0 else 0)
        for number in range(taken):
            snapshot_id = context.uuid("nfs_snapshot", (index, number))
            when = created + (number + 1) * (1 + rng.randrange(20)) * DAY // 2
            snapshot: JsonObject = {
                "id": snapshot_id,
                "name": f"{name}-snap-{number + 1}",
                "size_gib": max(1, size * (10 + rng.randrange(80)) // 100),
                "region": region,
                "status": "ACTIVE",
                "created_at": iso_utc(when),
                "share_id": share_id,
            }
            snapshots.append(make_item(snapshot, id=snapshot_id, name=str(snapshot["name"]),
                                       region=region, created_at=snapshot["created_at"],
                                       extra=share_id))
    return Built(items=tuple(shares), related={"snapshots": tuple(snapshots)})


def given_nfs_shares(context: GivenContext) -> Built:
    shares = tuple(given_item(share, name=str(share.get("name") or ""),
                              region=str(share.get("region") or ""),
                              created_at=str(share.get("created_at") or ""))
                   for share in context.objects("nfs_shares"))
    snapshots = tuple(given_item(snapshot, name=str(snapshot.get("name") or ""),
                                 region=str(snapshot.get("region") or ""),
                                 created_at=str(snapshot.get("created_at") or ""),
                                 extra=snapshot.get("share_id"))
                      for snapshot in context.objects("nfs_snapshots"))
    return Built(items=shares, related={"snapshots": snapshots})


KIND = Kind(
    name="nfs_shares",
    routes=(
        Endpoint("/v2/nfs", "nfs:list", list_shares, in_spec=False),
        Endpoint("/v2/nfs/snapshots", "nfs:list", list_snapshots, in_spec=False),
    ),
    list_endpoint="/v2/nfs",
    count=Count(derive=lambda droplets, _: droplets // 25, problems_minimum=2),
    build=build_nfs_shares,
    given=given_nfs_shares,
    given_keys=("nfs_shares", "nfs_snapshots"),
    in_state=True,
)
