"""Container registries: GET /v2/registries (scope registry:read, default every 1h).

Every container registry of the account, each with its subscription: region on `_info`, storage
used against what the subscription tier includes, and the tier's monthly price (cents in the API,
dollars here). An account without a registry answers an empty list. The older `/v2/registry` and
`/v2/registry/subscription` are deprecated and answer 412 on an account with several registries,
so they are not read.

    digitalocean_registry_info{account="production",registry="example",region="fra1"} 1
    digitalocean_registry_storage_usage_bytes{account="production",registry="example"} 29393920
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from exporter.collectors.base import Collector, Family, ResourceReader, Sample, known_values
from exporter.collectors.fields import objects, optional_int, optional_str, required_str, timestamp

ENDPOINT = "/v2/registries"
CENTS_PER_DOLLAR = Decimal(100)

INFO = Family(
    "digitalocean_registry_info",
    "Container registry region (always 1), polled from /v2/registries.",
    ("registry", "region"),
)
STORAGE_USAGE = Family(
    "digitalocean_registry_storage_usage_bytes",
    "Storage used by the container registry, polled from /v2/registries.",
    ("registry",),
)
STORAGE_USAGE_UPDATED = Family(
    "digitalocean_registry_storage_usage_updated_timestamp_seconds",
    "When DigitalOcean last computed the storage usage, polled from /v2/registries.",
    ("registry",),
)
CREATED = Family(
    "digitalocean_registry_created_timestamp_seconds",
    "When the container registry was created, polled from /v2/registries.",
    ("registry",),
)
SUBSCRIPTION = Family(
    "digitalocean_registry_subscription_info",
    "Container registry subscription tier slug (always 1), polled from /v2/registries.",
    ("registry", "tier"),
)
INCLUDED_STORAGE = Family(
    "digitalocean_registry_subscription_included_storage_bytes",
    "Storage included in the subscription tier, polled from /v2/registries.",
    ("registry",),
)
INCLUDED_REPOSITORIES = Family(
    "digitalocean_registry_subscription_included_repositories",
    "Repositories included in the subscription tier (0 means unlimited), "
    "polled from /v2/registries.",
    ("registry",),
)
PRICE_MONTHLY = Family(
    "digitalocean_registry_subscription_price_monthly_usd",
    "Monthly price of the subscription tier, polled from /v2/registries.",
    ("registry",),
)


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    tier: str  # the tier slug, e.g. basic
    included_storage_bytes: int | None
    included_repositories: int | None
    price_monthly_usd: Decimal | None


@dataclass(frozen=True, slots=True)
class RegistryRecord:
    registry: str
    region: str
    storage_usage_bytes: int | None
    storage_usage_updated_at: float | None
    created_at: float | None
    subscription: SubscriptionRecord | None


def parse_registry(registry: Mapping[str, Any], where: str) -> RegistryRecord:
    """One registry of the list, with its subscription when the answer has one."""
    return RegistryRecord(
        registry=required_str(registry, "name", where),
        region=optional_str(registry, "region"),
        storage_usage_bytes=optional_int(registry, "storage_usage_bytes"),
        storage_usage_updated_at=timestamp(registry, "storage_usage_bytes_updated_at"),
        created_at=timestamp(registry, "created_at"),
        subscription=parse_subscription(registry),
    )


def parse_registries(body: Mapping[str, Any]) -> tuple[RegistryRecord, ...]:
    where = f"{ENDPOINT} registries"
    return tuple(parse_registry(registry, path)
                 for path, registry in objects(body.get("registries"), where))


def parse_subscription(body: Mapping[str, Any]) -> SubscriptionRecord | None:
    subscription = body.get("subscription")
    if not isinstance(subscription, dict):
        return None
    tier = subscription.get("tier")
    if not isinstance(tier, dict):
        tier = {}
    cents = optional_int(tier, "monthly_price_in_cents")
    return SubscriptionRecord(
        tier=optional_str(tier, "slug"),
        included_storage_bytes=optional_int(tier, "included_storage_bytes"),
        included_repositories=optional_int(tier, "included_repositories"),
        price_monthly_usd=None if cents is None else Decimal(cents) / CENTS_PER_DOLLAR,
    )


async def fetch(reader: ResourceReader) -> tuple[RegistryRecord, ...]:
    # not paged: the spec declares no parameters for this list
    return parse_registries(await reader.get(ENDPOINT))


def samples(registries: tuple[RegistryRecord, ...]) -> Iterator[Sample]:
    for r in registries:
        key = (r.registry,)
        yield INFO.name, (*key, r.region), 1
        yield from known_values(key, (
            (STORAGE_USAGE, r.storage_usage_bytes),
            (STORAGE_USAGE_UPDATED, r.storage_usage_updated_at),
            (CREATED, r.created_at),
        ))
        s = r.subscription
        if s is None:
            continue
        yield SUBSCRIPTION.name, (*key, s.tier), 1
        if s.included_storage_bytes is not None:
            yield INCLUDED_STORAGE.name, key, s.included_storage_bytes
        if s.included_repositories is not None:
            yield INCLUDED_REPOSITORIES.name, key, s.included_repositories
        if s.price_monthly_usd is not None:
            yield PRICE_MONTHLY.name, key, float(s.price_monthly_usd)


COLLECTOR: Collector[tuple[RegistryRecord, ...]] = Collector(
    name="registry",
    summary="container registry: storage used, subscription tier, included storage and price",
    endpoints=(ENDPOINT,),
    id_label="registry",
    scope="registry:read",
    interval=3600.0,
    families=(INFO, STORAGE_USAGE, STORAGE_USAGE_UPDATED, CREATED, SUBSCRIPTION, INCLUDED_STORAGE,
              INCLUDED_REPOSITORIES, PRICE_MONTHLY),
    fetch=fetch,
    samples=samples,
)
