"""Container registry: GET /v2/registry and GET /v2/registry/subscription (scope registry:read,
default every 1h).

The account's container registry: region on `_info`, storage used against what the subscription
tier includes, and the tier's monthly price (cents in the API, dollars here). An account without
a registry answers 404, which is an empty result, not a failed poll; then the subscription is not
requested. Both endpoints are deprecated in favour of `/v2/registries` but still served; an
account with several registries gets 412 from them, which fails the poll visibly.

    digitalocean_registry_info{account="production",registry="example",region="fra1"} 1
    digitalocean_registry_storage_usage_bytes{account="production",registry="example"} 29393920
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from exporter.collectors.base import Collector, Family, ResourceReader, Sample, known_values
from exporter.collectors.fields import as_object, optional_int, optional_str, required_str, timestamp

ENDPOINT = "/v2/registry"
SUBSCRIPTION_ENDPOINT = "/v2/registry/subscription"
CENTS_PER_DOLLAR = Decimal(100)

INFO = Family(
    "digitalocean_registry_info",
    "Container registry region (always 1), polled from /v2/registry.",
    ("registry", "region"),
)
STORAGE_USAGE = Family(
    "digitalocean_registry_storage_usage_bytes",
    "Storage used by the container registry, polled from /v2/registry.",
    ("registry",),
)
STORAGE_USAGE_UPDATED = Family(
    "digitalocean_registry_storage_usage_updated_timestamp_seconds",
    "When DigitalOcean last computed the storage usage, polled from /v2/registry.",
    ("registry",),
)
CREATED = Family(
    "digitalocean_registry_created_timestamp_seconds",
    "When the container registry was created, polled from /v2/registry.",
    ("registry",),
)
SUBSCRIPTION = Family(
    "digitalocean_registry_subscription_info",
    "Container registry subscription tier slug (always 1), polled from /v2/registry/subscription.",
    ("registry", "tier"),
)
INCLUDED_STORAGE = Family(
    "digitalocean_registry_subscription_included_storage_bytes",
    "Storage included in the subscription tier, polled from /v2/registry/subscription.",
    ("registry",),
)
INCLUDED_REPOSITORIES = Family(
    "digitalocean_registry_subscription_included_repositories",
    "Repositories included in the subscription tier (0 means unlimited), "
    "polled from /v2/registry/subscription.",
    ("registry",),
)
PRICE_MONTHLY = Family(
    "digitalocean_registry_subscription_price_monthly_usd",
    "Monthly price of the subscription tier, polled from /v2/registry/subscription.",
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


def parse_registry(body: Mapping[str, Any]) -> RegistryRecord:
    """The registry without its subscription."""
    where = f"{ENDPOINT} registry"
    registry = as_object(body.get("registry"), where)
    return RegistryRecord(
        registry=required_str(registry, "name", where),
        region=optional_str(registry, "region"),
        storage_usage_bytes=optional_int(registry, "storage_usage_bytes"),
        storage_usage_updated_at=timestamp(registry, "storage_usage_bytes_updated_at"),
        created_at=timestamp(registry, "created_at"),
        subscription=None,
    )


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
    registry_body = await reader.get_or_none(ENDPOINT)
    if registry_body is None:  # no registry configured
        return ()
    registry = parse_registry(registry_body)
    subscription_body = await reader.get_or_none(SUBSCRIPTION_ENDPOINT)
    subscription = None if subscription_body is None else parse_subscription(subscription_body)
    return (replace(registry, subscription=subscription),)


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
    endpoints=(ENDPOINT, SUBSCRIPTION_ENDPOINT),
    id_label="registry",
    scope="registry:read",
    interval=3600.0,
    families=(INFO, STORAGE_USAGE, STORAGE_USAGE_UPDATED, CREATED, SUBSCRIPTION, INCLUDED_STORAGE,
              INCLUDED_REPOSITORIES, PRICE_MONTHLY),
    fetch=fetch,
    samples=samples,
)
