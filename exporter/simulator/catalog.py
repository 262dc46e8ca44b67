"""DigitalOcean's product catalogue as the simulator sells it: regions, Droplet sizes, images.

Droplet prices, memory and disk follow DigitalOcean's public price list (hourly = monthly /
672, the hours DigitalOcean bills in a month). The prices the API does not return (volumes,
snapshots, reserved IPs, load balancers, HA control planes, database nodes) are the exporter's
shipped table, `exporter/data/prices.yml` (`PRICES`), so the simulator bills exactly what the
exporter estimates. Region slugs stay inside the spec's `region_slug` enum, because image
`regions` is validated against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from exporter.pricing import PriceTable, load_price_table

JsonObject = dict[str, Any]

PRICES: PriceTable = load_price_table()
"""The exporter's shipped price table: the simulator bills with the same list prices."""
HOURS_BILLED_PER_MONTH = PRICES.hours_per_month


@dataclass(frozen=True)
class RegionEntry:
    slug: str
    name: str
    gpu: bool = False

    def as_json(self, size_slugs: tuple[str, ...]) -> JsonObject:
        features = ["backups", "ipv6", "metadata", "install_agent", "storage", "image_transfer"]
        if self.gpu:
            features += ["server_id", "management_networking"]
        else:
            features.insert(0, "private_networking")
        return {
            "name": self.name,
            "slug": self.slug,
            "features": features,
            "available": True,
            "sizes": list(size_slugs),
        }


@dataclass(frozen=True)
class SizeEntry:
    slug: str
    vcpus: int
    memory_mib: int
    disk_gib: int
    transfer_tib: float
    price_monthly: float
    description: str
    gpu_model: str | None = None
    gpu_count: int = 0
    gpu_vram_gib: int = 0
    scratch_gib: int = 0

    @property
    def price_hourly(self) -> float:
        return round(self.price_monthly / HOURS_BILLED_PER_MONTH, 5)

    def disk_info(self) -> list[JsonObject]:
        disks: list[JsonObject] = [
            {"type": "local", "size": {"amount": self.disk_gib, "unit": "gib"}}
        ]
        if self.scratch_gib:
            disks.append({"type": "scratch", "size": {"amount": self.scratch_gib, "unit": "gib"}})
        return disks

    def gpu_info(self) -> JsonObject | None:
        if self.gpu_model is None:
            return None
        return {
            "count": self.gpu_count,
            "vram": {"amount": self.gpu_vram_gib, "unit": "gib"},
            "model": self.gpu_model,
        }

    def as_json(self, region_slugs: tuple[str, ...]) -> JsonObject:
        size: JsonObject = {
            "slug": self.slug,
            "memory": self.memory_mib,
            "vcpus": self.vcpus,
            "disk": self.disk_gib,
            "transfer": self.transfer_tib,
            "price_monthly": self.price_monthly,
            "price_hourly": self.price_hourly,
            "regions": list(region_slugs),
            "available": True,
            "description": self.description,
            "disk_info": self.disk_info(),
        }
        gpu = self.gpu_info()
        if gpu is not None:
            size["gpu_info"] = gpu
        return size


@dataclass(frozen=True)
class ImageEntry:
    id: int
    slug: str
    name: str
    distribution: str
    created_at: str
    min_disk_size: int
    size_gigabytes: float
    description: str

    def as_json(self, region_slugs: tuple[str, ...]) -> JsonObject:
        return {
            "id": self.id,
            "name": self.name,
            "distribution": self.distribution,
            "slug": self.slug,
            "public": True,
            "regions": list(region_slugs),
            "created_at": self.created_at,
            "type": "base",
            "min_disk_size": self.min_disk_size,
            "size_gigabytes": self.size_gigabytes,
            "description": self.description,
            "tags": [],
            "status": "available",
            "error_message": "",
        }


REGIONS: tuple[RegionEntry, ...] = (
    RegionEntry("nyc1", "New York 1"),
    RegionEntry("nyc2", "New York 2", gpu=True),
    RegionEntry("nyc3", "New York 3"),
    RegionEntry("sfo2", "San Francisco 2"),
    RegionEntry("sfo3", "San Francisco 3"),
    RegionEntry("ams3", "Amsterdam 3", gpu=True),
    RegionEntry("fra1", "Frankfurt 1"),
    RegionEntry("lon1", "London 1"),
    RegionEntry("sgp1", "Singapore 1"),
    RegionEntry("tor1", "Toronto 1", gpu=True),
    RegionEntry("blr1", "Bangalore 1"),
    RegionEntry("syd1", "Sydney 1"),
)

REGULAR_SIZES: tuple[SizeEntry, ...] = (
    SizeEntry("s-1vcpu-512mb-10gb", 1, 512, 10, 0.5, 4.0, "Basic"),
    SizeEntry("s-1vcpu-1gb", 1, 1024, 25, 1.0, 6.0, "Basic"),
    SizeEntry("s-1vcpu-2gb", 1, 2048, 50, 2.0, 12.0, "Basic"),
    SizeEntry("s-2vcpu-2gb", 2, 2048, 60, 3.0, 18.0, "Basic"),
    SizeEntry("s-2vcpu-4gb", 2, 4096, 80, 4.0, 24.0, "Basic"),
    SizeEntry("s-4vcpu-8gb", 4, 8192, 160, 5.0, 48.0, "Basic"),
    SizeEntry("s-8vcpu-16gb", 8, 16384, 320, 6.0, 96.0, "Basic"),
    SizeEntry("g-2vcpu-8gb", 2, 8192, 25, 4.0, 63.0, "General Purpose"),
    SizeEntry("g-4vcpu-16gb", 4, 16384, 50, 5.0, 126.0, "General Purpose"),
    SizeEntry("c-4", 4, 8192, 50, 5.0, 84.0, "CPU-Optimized"),
    SizeEntry("m-2vcpu-16gb", 2, 16384, 50, 4.0, 84.0, "Memory-Optimized"),
    SizeEntry("so-2vcpu-16gb", 2, 16384, 300, 4.0, 131.0, "Storage-Optimized"),
)
"""Regular sizes, most common first: generated fleets favour the front of this tuple."""

GPU_SIZES: tuple[SizeEntry, ...] = (
    SizeEntry(
        "gpu-4000adax1-20gb",
        8,
        32768,
        500,
        10.0,
        510.72,
        "RTX 4000 Ada GPU - 1X",
        gpu_model="nvidia_rtx_4000_ada",
        gpu_count=1,
        gpu_vram_gib=20,
    ),
    SizeEntry(
        "gpu-l40sx1-48gb",
        8,
        65536,
        500,
        10.0,
        1055.04,
        "L40S GPU - 1X",
        gpu_model="nvidia_l40s",
        gpu_count=1,
        gpu_vram_gib=48,
    ),
    SizeEntry(
        "gpu-h100x1-80gb",
        20,
        245760,
        720,
        15.0,
        4529.3,
        "H100 GPU - 1X",
        gpu_model="nvidia_h100",
        gpu_count=1,
        gpu_vram_gib=80,
        scratch_gib=5120,
    ),
    SizeEntry(
        "gpu-h100x8-640gb",
        160,
        1966080,
        2046,
        60.0,
        31987.2,
        "H100 GPU - 8X",
        gpu_model="nvidia_h100",
        gpu_count=8,
        gpu_vram_gib=640,
        scratch_gib=40960,
    ),
)

REGULAR_IMAGES: tuple[ImageEntry, ...] = (
    ImageEntry(
        165064836,
        "ubuntu-24-04-x64",
        "24.04 (LTS) x64",
        "Ubuntu",
        "2024-10-02T18:45:17Z",
        7,
        2.94,
        "Ubuntu 24.04 (LTS) x64",
    ),
    ImageEntry(
        129211873,
        "ubuntu-22-04-x64",
        "22.04 (LTS) x64",
        "Ubuntu",
        "2023-03-29T13:31:25Z",
        7,
        2.36,
        "Ubuntu 22.04 (LTS) x64",
    ),
    ImageEntry(
        160190187,
        "debian-12-x64",
        "12 x64",
        "Debian",
        "2024-06-18T20:11:48Z",
        10,
        1.02,
        "Debian 12 x64 (bookworm)",
    ),
    ImageEntry(
        162925838,
        "rockylinux-9-x64",
        "9 x64",
        "Rocky Linux",
        "2024-08-20T14:04:36Z",
        10,
        1.21,
        "Rocky Linux 9 x64",
    ),
)

GPU_IMAGE = ImageEntry(
    166407044,
    "gpu-h100x1-base",
    "AI/ML Ready H100x1",
    "Ubuntu",
    "2024-09-27T15:35:19Z",
    25,
    18.47,
    "GPU H100 1x Base Image",
)

REGIONS_BY_SLUG: Mapping[str, RegionEntry] = MappingProxyType(
    {region.slug: region for region in REGIONS}
)
GPU_REGION_SLUGS: tuple[str, ...] = tuple(region.slug for region in REGIONS if region.gpu)
ALL_REGION_SLUGS: tuple[str, ...] = tuple(region.slug for region in REGIONS)
REGULAR_SIZE_SLUGS: tuple[str, ...] = tuple(size.slug for size in REGULAR_SIZES)
GPU_SIZE_SLUGS: tuple[str, ...] = tuple(size.slug for size in GPU_SIZES)


def region_size_slugs(region: RegionEntry) -> tuple[str, ...]:
    """The sizes a region offers, as the region object's `sizes` lists them."""
    if region.gpu:
        return REGULAR_SIZE_SLUGS + GPU_SIZE_SLUGS
    return REGULAR_SIZE_SLUGS


def size_region_slugs(size: SizeEntry) -> tuple[str, ...]:
    """The regions a size is sold in, as the size object's `regions` lists them."""
    return GPU_REGION_SLUGS if size.gpu_model else ALL_REGION_SLUGS


# -- the rest of the catalogue: prices and options of the other products ----------------------

VOLUME_PRICE_PER_GIB_MONTH: Decimal = PRICES.amount("volume_gib_month")
SNAPSHOT_PRICE_PER_GIB_MONTH: Decimal = PRICES.amount("snapshot_gib_month")
DROPLET_BACKUPS_RATIO: Decimal = PRICES.amount("droplet_backups_ratio")
"""Weekly backups; daily ones cost `DROPLET_BACKUPS_DAILY_RATIO` of the Droplet's price."""
DROPLET_BACKUPS_DAILY_RATIO: Decimal = PRICES.amount("droplet_backups_daily_ratio")
RESERVED_IP_UNASSIGNED_MONTHLY: Decimal = PRICES.amount("reserved_ipv4_unassigned_month")
"""Reserved IPv4 addresses cost nothing while assigned, $5 a month while not."""
RESERVED_IPV6_UNASSIGNED_MONTHLY: Decimal = PRICES.amount("reserved_ipv6_unassigned_month")
LOAD_BALANCER_MONTHLY_PER_NODE: Decimal = PRICES.amount("load_balancer_node_month")
GLOBAL_LOAD_BALANCER_MONTHLY: Decimal = PRICES.amount("global_load_balancer_month")
KUBERNETES_HA_CONTROL_PLANE_MONTHLY: Decimal = PRICES.amount("kubernetes_ha_control_plane_month")
NAT_GATEWAY_UNIT_MONTHLY: Decimal = PRICES.amount("nat_gateway_unit_month")
LEGACY_LOAD_BALANCER_NODES: Mapping[str, int] = MappingProxyType(
    {"lb-small": 1, "lb-medium": 3, "lb-large": 6}
)
"""Nodes of the load balancer size slugs from before `size_unit`."""


@dataclass(frozen=True)
class DatabaseSize:
    slug: str
    vcpus: int
    memory_mib: int
    storage_gib: int

    @property
    def price_monthly(self) -> Decimal:
        """Per node, from the price table (every generated size is in it)."""
        return PRICES.database_node_month[self.slug]


DATABASE_SIZES: tuple[DatabaseSize, ...] = (
    DatabaseSize("db-s-1vcpu-1gb", 1, 1024, 10),
    DatabaseSize("db-s-1vcpu-2gb", 1, 2048, 25),
    DatabaseSize("db-s-2vcpu-4gb", 2, 4096, 38),
    DatabaseSize("db-s-4vcpu-8gb", 4, 8192, 115),
    DatabaseSize("db-s-6vcpu-16gb", 6, 16384, 270),
)
"""The sizes generated databases use: all of them priced by the table (checked at import)."""
if not {size.slug for size in DATABASE_SIZES} <= set(PRICES.database_node_month):
    raise RuntimeError("a generated database size is missing from exporter/data/prices.yml")
DATABASE_SIZE_WEIGHTS = (4, 4, 3, 2, 1)


@dataclass(frozen=True)
class DatabaseEngine:
    slug: str
    version: str
    semantic_version: str
    port: int
    scheme: str
    admin: str
    db_names: tuple[str, ...] | None
    options: str


DATABASE_ENGINES: tuple[DatabaseEngine, ...] = (
    DatabaseEngine(
        "pg", "16", "16.4", 25060, "postgresql", "doadmin", ("defaultdb",), "?sslmode=require"
    ),
    DatabaseEngine(
        "mysql", "8", "8.0.35", 25060, "mysql", "doadmin", ("defaultdb",), "?ssl-mode=REQUIRED"
    ),
    DatabaseEngine("valkey", "8", "8.0.1", 25061, "rediss", "default", None, ""),
    DatabaseEngine(
        "mongodb", "7.0", "7.0.14", 27017, "mongodb+srv", "doadmin", ("admin",),
        "?tls=true&authSource=admin",
    ),
)
DATABASE_ENGINE_WEIGHTS = (5, 3, 2, 1)

ADDED_STORAGE_MIB = 10240
"""Storage added to some database clusters beyond what their size includes (10 GiB)."""


def database_monthly(size: str, nodes: int, added_storage_mib: int) -> Decimal:
    """A database cluster's monthly price: every node at its size's price plus the storage
    added beyond the size's own, also on every node (the price table's rules)."""
    per_node = PRICES.database_node_month[size]
    added = Decimal(added_storage_mib) / 1024 * PRICES.amount("database_storage_gib_month")
    return (per_node + added) * nodes


APP_INSTANCE_PRICES: Mapping[str, float] = MappingProxyType(
    {slug: float(price) for slug, price in PRICES.app_instance_month.items()}
)
"""Monthly price per instance; `apps-s-*` is the basic tier, `apps-d-*` professional."""


def app_instance_sizes_catalog() -> tuple[dict[str, Any], ...]:
    """`/v2/apps/tiers/instance_sizes`: every priced size, shaped like the spec's example
    (int64 and money as strings; `usd_per_second` is the monthly price over 672 hours;
    bandwidth grows by 50 GiB per shared size and 100 GiB per dedicated one, as there)."""
    sizes = []
    rank = {"s": 0, "d": 0}
    for slug, price in PRICES.app_instance_month.items():
        _, kind, cpus, memory, *fixed = slug.split("-")
        vcpus = int(cpus.removesuffix("vcpu"))
        memory_bytes = int(Decimal(memory.removesuffix("gb")) * 2**30)
        dedicated = kind == "d"
        rank[kind] += 1
        basic = bool(fixed) or (not dedicated and (vcpus, memory_bytes) == (1, 2**29))
        size: dict[str, Any] = {
            "name": f"{'Dedicated' if dedicated else 'Shared'} {vcpus}VCPU "
                    f"{memory.removesuffix('gb')}GB{' Fixed' if fixed else ''}",
            "slug": slug,
            "cpu_type": "DEDICATED" if dedicated else "SHARED",
            "cpus": str(vcpus),
            "memory_bytes": str(memory_bytes),
            "usd_per_month": f"{price:.2f}",
            "usd_per_second": f"{price / (PRICES.hours_per_month * 3600):.12f}",
            "tier_slug": "basic" if basic else "professional",
            "bandwidth_allowance_gib": str(rank[kind] * (100 if dedicated else 50)),
        }
        if basic:
            size["single_instance_only"] = True
        if dedicated:
            size["scalable"] = True
        sizes.append(size)
    return tuple(sizes)


@dataclass(frozen=True)
class AppRegion:
    slug: str
    label: str
    flag: str
    continent: str
    data_centers: tuple[str, ...]

    def as_json(self) -> JsonObject:
        return {
            "slug": self.slug,
            "label": self.label,
            "flag": self.flag,
            "continent": self.continent,
            "data_centers": list(self.data_centers),
        }


APP_REGIONS: Mapping[str, AppRegion] = MappingProxyType(
    {
        region.slug: region
        for region in (
            AppRegion("nyc", "New York", "usa", "North America", ("nyc1", "nyc3")),
            AppRegion("sfo", "San Francisco", "usa", "North America", ("sfo3",)),
            AppRegion("tor", "Toronto", "canada", "North America", ("tor1",)),
            AppRegion("ams", "Amsterdam", "netherlands", "Europe", ("ams3",)),
            AppRegion("fra", "Frankfurt", "germany", "Europe", ("fra1",)),
            AppRegion("lon", "London", "uk", "Europe", ("lon1",)),
            AppRegion("blr", "Bangalore", "india", "Asia", ("blr1",)),
            AppRegion("sgp", "Singapore", "singapore", "Asia", ("sgp1",)),
            AppRegion("syd", "Sydney", "australia", "Australia", ("syd1",)),
        )
    }
)
"""App Platform regions (the spec's `app_spec.region` enum), keyed by slug."""


def app_region_for(datacenter: str) -> AppRegion:
    """The App Platform region that serves a datacenter ("fra1" -> "fra")."""
    return APP_REGIONS.get(datacenter.rstrip("0123456789"), APP_REGIONS["nyc"])


KUBERNETES_VERSIONS: tuple[str, ...] = ("1.31.1-do.3", "1.30.5-do.2", "1.29.9-do.4")
KUBERNETES_NODE_SIZES: tuple[str, ...] = (
    "s-2vcpu-4gb",
    "s-4vcpu-8gb",
    "g-2vcpu-8gb",
    "s-8vcpu-16gb",
)
SPACES_REGIONS: tuple[str, ...] = (
    *("nyc3", "sfo2", "sfo3", "ams3", "fra1"),
    *("lon1", "sgp1", "tor1", "blr1", "syd1"),
)
REGISTRY_REGIONS: tuple[str, ...] = ("nyc3", "sfo3", "ams3", "sgp1", "fra1", "blr1", "syd1")


@dataclass(frozen=True)
class RegistryTier:
    name: str
    slug: str
    included_repositories: int
    included_storage_bytes: int
    allow_storage_overage: bool
    included_bandwidth_bytes: int
    monthly_price_in_cents: int
    storage_overage_price_in_cents: int

    def as_json(self) -> JsonObject:
        return {
            "name": self.name,
            "slug": self.slug,
            "included_repositories": self.included_repositories,
            "included_storage_bytes": self.included_storage_bytes,
            "allow_storage_overage": self.allow_storage_overage,
            "included_bandwidth_bytes": self.included_bandwidth_bytes,
            "monthly_price_in_cents": self.monthly_price_in_cents,
            "storage_overage_price_in_cents": self.storage_overage_price_in_cents,
        }


GIB = 1024**3
REGISTRY_TIERS: Mapping[str, RegistryTier] = MappingProxyType(
    {
        "basic": RegistryTier("Basic", "basic", 5, 5 * GIB, True, 5 * GIB, 500, 2),
        "professional": RegistryTier(
            "Professional", "professional", 0, 100 * GIB, True, 100 * GIB, 2000, 2
        ),
    }
)


def sizes_catalog() -> list[JsonObject]:
    """`GET /v2/sizes`: every Droplet size, regular then GPU."""
    return [size.as_json(size_region_slugs(size)) for size in REGULAR_SIZES + GPU_SIZES]


def regions_catalog() -> list[JsonObject]:
    """`GET /v2/regions`: every region with the sizes it sells."""
    return [region.as_json(region_size_slugs(region)) for region in REGIONS]

SIZES_BY_SLUG: Mapping[str, SizeEntry] = MappingProxyType(
    {size.slug: size for size in REGULAR_SIZES + GPU_SIZES}
)
KUBERNETES_NODE_IMAGE = REGULAR_IMAGES[2]
"""Worker nodes of DigitalOcean Kubernetes run Debian."""
