"""App instance sizes: GET /v2/apps/tiers/instance_sizes (scope app:read, default every 6h).

The App Platform instance size catalogue with its list prices (strings in the API, Decimal
here). The cost estimates price each app's services and workers from it, and fall back to the
shipped price table (`exporter/data/prices.yml`) only for a size it does not list. The catalogue
is DigitalOcean's, the same for every account, so its series have no `account` label and are
written once (`per_account=False`, as the Droplet size catalogue).

    digitalocean_app_instance_size_info{instance_size="apps-d-2vcpu-8gb",name="Dedicated 2VCPU 8GB",tier="professional",cpu_type="DEDICATED"} 1
    digitalocean_app_instance_size_price_monthly_usd{instance_size="apps-d-2vcpu-8gb"} 98.0
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from exporter.collectors.base import Collector, Family, ResourceReader, Sample, known_values
from exporter.collectors.fields import objects, optional_str, required_str

ENDPOINT = "/v2/apps/tiers/instance_sizes"

INFO = Family(
    "digitalocean_app_instance_size_info",
    f"App Platform instance size name, tier and CPU type (always 1), polled from {ENDPOINT}.",
    ("instance_size", "name", "tier", "cpu_type"),
    per_account=False,
)
PRICE_MONTHLY = Family(
    "digitalocean_app_instance_size_price_monthly_usd",
    f"List price of one instance of an App Platform instance size per month, polled from {ENDPOINT}.",
    ("instance_size",),
    per_account=False,
)
VCPUS = Family(
    "digitalocean_app_instance_size_vcpus",
    f"vCPUs of an App Platform instance size, polled from {ENDPOINT}.",
    ("instance_size",),
    per_account=False,
)
MEMORY = Family(
    "digitalocean_app_instance_size_memory_bytes",
    f"Memory of an App Platform instance size, polled from {ENDPOINT}.",
    ("instance_size",),
    per_account=False,
)


@dataclass(frozen=True, slots=True)
class InstanceSizeRecord:
    slug: str
    name: str
    tier: str
    cpu_type: str
    vcpus: int | None
    memory_bytes: int | None
    price_monthly_usd: Decimal | None


def _decimal(obj: Mapping[str, Any], key: str) -> Decimal | None:
    # int64 and money fields are strings in this API; a non-numeric one is unknown, not zero
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() and number >= 0 else None


def _integer(obj: Mapping[str, Any], key: str) -> int | None:
    number = _decimal(obj, key)
    return None if number is None or number != number.to_integral_value() else int(number)


def parse_instance_sizes(body: Mapping[str, Any]) -> tuple[InstanceSizeRecord, ...]:
    by_slug: dict[str, InstanceSizeRecord] = {}
    for path, size in objects(body.get("instance_sizes"), f"{ENDPOINT} instance_sizes"):
        record = InstanceSizeRecord(
            slug=required_str(size, "slug", path),
            name=optional_str(size, "name"),
            tier=optional_str(size, "tier_slug"),
            cpu_type=optional_str(size, "cpu_type"),
            vcpus=_integer(size, "cpus"),
            memory_bytes=_integer(size, "memory_bytes"),
            price_monthly_usd=_decimal(size, "usd_per_month"),
        )
        by_slug[record.slug] = record
    return tuple(by_slug[slug] for slug in sorted(by_slug))


async def fetch(reader: ResourceReader) -> tuple[InstanceSizeRecord, ...]:
    # not paged: the spec declares no parameters for this list
    return parse_instance_sizes(await reader.get(ENDPOINT))


def samples(sizes: tuple[InstanceSizeRecord, ...]) -> Iterator[Sample]:
    for size in sizes:
        key = (size.slug,)
        yield INFO.name, (*key, size.name, size.tier, size.cpu_type), 1
        price = None if size.price_monthly_usd is None else float(size.price_monthly_usd)
        yield from known_values(key, (
            (PRICE_MONTHLY, price),
            (VCPUS, size.vcpus),
            (MEMORY, size.memory_bytes),
        ))


COLLECTOR: Collector[tuple[InstanceSizeRecord, ...]] = Collector(
    name="app_instance_sizes",
    summary="the App Platform instance size catalogue and its list prices",
    endpoints=(ENDPOINT,),
    id_label="instance_size",
    scope="app:read",
    interval=6 * 3600.0,
    families=(INFO, PRICE_MONTHLY, VCPUS, MEMORY),
    fetch=fetch,
    samples=samples,
)
