"""Realistic Droplet and volume objects for one account (`DropletFactory`), deterministic from
the `FleetSpec` seed; `Fleet.generate` decides how many and when, this module what each looks
like."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from exporter.simulator.catalog import (
    GPU_IMAGE,
    GPU_REGION_SLUGS,
    GPU_SIZES,
    KUBERNETES_NODE_IMAGE,
    REGIONS_BY_SLUG,
    REGULAR_IMAGES,
    REGULAR_SIZES,
    SIZES_BY_SLUG,
    ImageEntry,
    RegionEntry,
    SizeEntry,
    region_size_slugs,
    size_region_slugs,
)
from exporter.simulator.determinism import stable_uuid
from exporter.simulator.objects import ListedObject, encode_json, listed_droplet
from exporter.simulator.spec import FleetSpec
from exporter.simulator.timefmt import iso_utc

JsonObject = dict[str, Any]

REGULAR_SIZE_WEIGHTS = (3, 30, 20, 12, 12, 8, 4, 3, 2, 2, 2, 1)
GPU_SIZE_WEIGHTS = (6, 3, 2, 1)
IMAGE_WEIGHTS = (6, 3, 2, 1)
VOLUME_SIZES_GIB = (10, 25, 50, 100, 250, 500, 1000)

@dataclass(frozen=True, slots=True)
class KubernetesNode:
    """What makes a Droplet a Kubernetes worker node."""

    name: str
    size: str
    region: str
    tags: tuple[str, ...]


class DropletFactory:
    """Builds realistic Droplet and volume objects for one account.

    The nested size, region and image objects are built once per slug and shared: only their
    serialised copies end up in each Droplet's bytes.
    """

    def __init__(self, spec: FleetSpec, account_name: str) -> None:
        unknown = [slug for slug in spec.regions if slug not in REGIONS_BY_SLUG]
        if unknown or not spec.regions:
            known = ", ".join(REGIONS_BY_SLUG)
            raise ValueError(f"unknown region(s) {unknown or '[]'} in FleetSpec; known: {known}")
        self.spec = spec
        self.account_name = account_name
        self.env_tag = env_tag(account_name)
        self.regions = tuple(REGIONS_BY_SLUG[slug] for slug in spec.regions)
        gpu_regions = tuple(region for region in self.regions if region.gpu)
        self.gpu_regions = gpu_regions or tuple(REGIONS_BY_SLUG[s] for s in GPU_REGION_SLUGS)
        self._regions_json = {
            region.slug: region.as_json(region_size_slugs(region))
            for region in (*REGIONS_BY_SLUG.values(),)
        }
        self._sizes_json = {
            size.slug: size.as_json(size_region_slugs(size)) for size in REGULAR_SIZES + GPU_SIZES
        }
        all_region_slugs = tuple(REGIONS_BY_SLUG)
        self._images_json = {
            image.slug: image.as_json(all_region_slugs) for image in (*REGULAR_IMAGES, GPU_IMAGE)
        }
        self._shared_bytes = {
            id(shared): encode_json(shared)
            for table in (self._regions_json, self._sizes_json, self._images_json)
            for shared in table.values()
        }
        self._disk_info = {size.slug: size.disk_info() for size in REGULAR_SIZES + GPU_SIZES}
        self._region_octets = {slug: 16 + n for n, slug in enumerate(REGIONS_BY_SLUG)}
        self._vpc_uuids = {
            slug: stable_uuid(spec.seed, account_name, "vpc", slug) for slug in REGIONS_BY_SLUG
        }

    def vpc_uuid(self, region: str) -> str:
        """The id of the region's default VPC, which every Droplet there is in."""
        return self._vpc_uuids[region]

    def region_object(self, region: str) -> JsonObject:
        """The region object as Droplets embed it (shared: do not modify)."""
        return self._regions_json[region]

    def resized(self, droplet: JsonObject, slug: str) -> JsonObject:
        """`droplet` (a copy) after a resize to size `slug`: its size and what follows from it."""
        size = SIZES_BY_SLUG[slug]
        return {
            **droplet,
            "memory": size.memory_mib,
            "vcpus": size.vcpus,
            "disk": size.disk_gib,
            "disk_info": self._disk_info[size.slug],
            "size": self._sizes_json[size.slug],
            "size_slug": size.slug,
        }

    def listed(self, droplet: JsonObject) -> ListedObject:
        """`listed_droplet`, but the shared region, size and image objects are serialised once.

        Encoding 50,000 Droplets is dominated by those nested objects; splicing their cached
        bytes in keeps generating a large fleet to about a second.
        """
        placeholders: dict[bytes, bytes] = {}
        shallow = dict(droplet)
        for key in ("image", "size", "region"):
            shared = self._shared_bytes.get(id(droplet.get(key)))
            if shared is not None:
                mark = f"@shared-{key}@"
                shallow[key] = mark
                placeholders[f'"{mark}"'.encode()] = shared
        body = encode_json(shallow)
        for quoted_mark, shared_bytes in placeholders.items():
            body = body.replace(quoted_mark, shared_bytes, 1)
        return listed_droplet(droplet, body)

    def droplet(
        self,
        rng: random.Random,
        *,
        droplet_id: int,
        index: int,
        created_at: float,
        status: str,
        gpu: bool = False,
        node: KubernetesNode | None = None,
    ) -> JsonObject:
        """A Droplet; `node` makes it the worker node of a Kubernetes node pool."""
        size: SizeEntry
        image: ImageEntry
        region: RegionEntry
        if gpu:
            size = rng.choices(GPU_SIZES, weights=GPU_SIZE_WEIGHTS)[0]
            image = GPU_IMAGE
            region = rng.choice(self.gpu_regions)
            role = "ml"
            name = f"ml-{size.slug.removeprefix('gpu-')}-{region.slug}-{index:03d}"
            features = ["droplet_agent", "private_networking"]
        elif node is not None:
            size = SIZES_BY_SLUG[node.size]
            image = KUBERNETES_NODE_IMAGE
            region = REGIONS_BY_SLUG[node.region]
            role = "k8s"
            name = node.name
            features = ["monitoring", "droplet_agent", "private_networking"]
        else:
            size = rng.choices(REGULAR_SIZES, weights=REGULAR_SIZE_WEIGHTS)[0]
            image = rng.choices(REGULAR_IMAGES, weights=IMAGE_WEIGHTS)[0]
            region = rng.choice(self.regions)
            role = rng.choice(self.spec.tags) if self.spec.tags else "app"
            name = f"{role}-{region.slug}-{index:05d}"
            features = ["monitoring", "droplet_agent", "private_networking"]
        # Worker nodes never have backups (DOKS does not offer them); the draw is kept so the
        # random stream, and every Droplet after a node, stays the same.
        backups = not gpu and rng.random() < 0.3 and node is None
        ipv6 = not gpu and rng.random() < 0.4
        if backups:
            features.insert(0, "backups")
        if ipv6:
            features.append("ipv6")
        created = int(created_at)
        host = droplet_id % 65_000
        region_octet = self._region_octets[region.slug]
        v6 = []
        if ipv6:
            v6.append(
                {
                    "ip_address": f"2604:a880:{region_octet:x}:d0::{host:x}:1001",
                    "netmask": 64,
                    "gateway": f"2604:a880:{region_octet:x}:d0::1",
                    "type": "public",
                }
            )
        droplet: JsonObject = {
            "id": droplet_id,
            "name": name,
            "memory": size.memory_mib,
            "vcpus": size.vcpus,
            "disk": size.disk_gib,
            "disk_info": self._disk_info[size.slug],
            "locked": False,
            "status": status,
            "kernel": None,
            "created_at": iso_utc(created),
            "features": features,
            "backup_ids": [droplet_id * 3 + 17] if backups else [],
            "next_backup_window": (
                {"start": iso_utc(created + 86_400), "end": iso_utc(created + 2 * 86_400 - 3600)}
                if backups
                else None
            ),
            "snapshot_ids": [],
            "image": self._images_json[image.slug],
            "volume_ids": [],
            "size": self._sizes_json[size.slug],
            "size_slug": size.slug,
            "networks": {
                "v4": [
                    {
                        "ip_address": f"10.{region_octet}.{host // 256}.{host % 256}",
                        "netmask": "255.255.0.0",
                        "gateway": "nil",
                        "type": "private",
                    },
                    {
                        "ip_address": f"164.{90 + region_octet}.{host // 256}.{host % 256}",
                        "netmask": "255.255.240.0",
                        "gateway": f"164.{90 + region_octet}.{host // 256}.1",
                        "type": "public",
                    },
                ],
                "v6": v6,
            },
            "region": self._regions_json[region.slug],
            "tags": [role, self.env_tag] if node is None else list(node.tags),
            "vpc_uuid": self.vpc_uuid(region.slug),
        }
        gpu_info = size.gpu_info()
        if gpu_info is not None:
            droplet["gpu_info"] = gpu_info
        return droplet

    def volume(
        self,
        rng: random.Random,
        *,
        index: int,
        region: str,
        created_at: float,
        droplet_ids: list[int],
    ) -> JsonObject:
        filesystem = rng.choice(("ext4", "ext4", "xfs"))
        name = f"data-{region}-{index:04d}"
        return {
            "id": stable_uuid(self.spec.seed, self.account_name, "volume", index),
            "region": self._regions_json[region],
            "droplet_ids": droplet_ids,
            "name": name,
            "description": f"Block storage for {self.account_name}",
            "size_gigabytes": rng.choice(VOLUME_SIZES_GIB),
            "created_at": iso_utc(int(created_at)),
            "filesystem_type": filesystem,
            "filesystem_label": name[:12] if filesystem == "xfs" else name[:16],
            "tags": [self.env_tag],
        }


def env_tag(account_name: str) -> str:
    """`env:<account>`, which every Droplet carries; characters a tag cannot hold become `-`."""
    return "env:" + re.sub(r"[^a-zA-Z0-9_:-]", "-", account_name)


