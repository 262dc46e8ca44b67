"""Spaces buckets: served by no endpoint of this API (Spaces speaks S3); seen as project
resources and CDN origins.
"""

from __future__ import annotations

from exporter.simulator.building import BuildContext
from exporter.simulator.catalog import SPACES_REGIONS
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built
from exporter.simulator.timefmt import iso_utc

BUCKET_WORDS = ("static", "backups", "media", "logs", "artifacts", "uploads")

def build_spaces_buckets(context: BuildContext) -> Built:
    regions = [r for r in context.placement if r in SPACES_REGIONS] or ["nyc3"]
    items: list[Item] = []
    count = context.counts.spaces_buckets
    for index in range(count):
        word = BUCKET_WORDS[index % len(BUCKET_WORDS)]
        suffix = "" if index < len(BUCKET_WORDS) else f"-{index // len(BUCKET_WORDS) + 1}"
        name = f"{context.slug}-{word}{suffix}"
        region = regions[index % len(regions)]
        created = iso_utc(context.created("space", index, count))
        urn = f"do:space:{name}"
        items.append(
            make_item(
                {"name": name, "region": region, "created_at": created},
                id=name,
                name=name,
                region=region,
                created_at=created,
                urn=urn,
            )
        )
        context.assign(urn, f"/v2/spaces/{name}", created, context.project_for(("space", name)))
    return Built(items=tuple(items))


KIND = Kind(
    name="spaces_buckets",
    count=Count(
        # One origin per CDN endpoint (counted before, in KINDS order), + 1 from 10 Droplets.
        derive=lambda droplets, earlier: earlier["cdn_endpoints"] + (1 if droplets >= 10 else 0)
    ),
    build=build_spaces_buckets,
)
