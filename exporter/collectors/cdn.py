"""CDN endpoints: GET /v2/cdn/endpoints (scope cdn:read, default every 15m).

Each endpoint's origin Space, CDN hostname, custom domain and TLS certificate live on `_info`
(join `certificate_id` with `digitalocean_certificate_expiry_timestamp_seconds` to watch the
custom domain's certificate); the cache TTL and creation time carry only `cdn_endpoint_id`.
DigitalOcean limits this endpoint to 5 requests per 10 seconds, hence the long default interval.

    digitalocean_cdn_endpoint_info{account="production",cdn_endpoint_id="19f06b6a-3ace-4315-b086-499a0e521b76",origin="static-images.nyc3.digitaloceanspaces.com",endpoint="static-images.nyc3.cdn.digitaloceanspaces.com",custom_domain="static.example.com",certificate_id="892071a0-bb95-49bc-8021-3afd67a210bf"} 1
    digitalocean_cdn_endpoint_ttl_seconds{account="production",cdn_endpoint_id="19f06b6a-3ace-4315-b086-499a0e521b76"} 3600
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import Collector, Family, ResourceReader, Sample
from exporter.collectors.fields import objects, optional_int, optional_str, required_str, timestamp

ENDPOINT = "/v2/cdn/endpoints"

INFO = Family(
    "digitalocean_cdn_endpoint_info",
    "CDN endpoint origin, hostname, custom domain and certificate (always 1), "
    "polled from /v2/cdn/endpoints.",
    ("cdn_endpoint_id", "origin", "endpoint", "custom_domain", "certificate_id"),
)
TTL = Family(
    "digitalocean_cdn_endpoint_ttl_seconds",
    "How long the CDN edge servers cache content, polled from /v2/cdn/endpoints.",
    ("cdn_endpoint_id",),
)
CREATED = Family(
    "digitalocean_cdn_endpoint_created_timestamp_seconds",
    "When the CDN endpoint was created, polled from /v2/cdn/endpoints.",
    ("cdn_endpoint_id",),
)


@dataclass(frozen=True, slots=True)
class CdnEndpointRecord:
    cdn_endpoint_id: str
    origin: str
    endpoint: str
    custom_domain: str
    certificate_id: str
    ttl_seconds: int | None
    created_at: float | None


def parse_endpoints(
    items: list[Any], where: str = f"{ENDPOINT} endpoints"
) -> tuple[CdnEndpointRecord, ...]:
    records: list[CdnEndpointRecord] = []
    for path, endpoint in objects(items, where):
        record = CdnEndpointRecord(
            cdn_endpoint_id=required_str(endpoint, "id", path),
            origin=optional_str(endpoint, "origin"),
            endpoint=optional_str(endpoint, "endpoint"),
            custom_domain=optional_str(endpoint, "custom_domain"),
            certificate_id=optional_str(endpoint, "certificate_id"),
            ttl_seconds=optional_int(endpoint, "ttl"),
            created_at=timestamp(endpoint, "created_at"),
        )
        records.append(record)
    # sorted; `list_all` already dropped what a shifting list repeated
    return tuple(sorted(records, key=lambda record: record.cdn_endpoint_id))


async def fetch(reader: ResourceReader) -> tuple[CdnEndpointRecord, ...]:
    return parse_endpoints(await reader.list_all(ENDPOINT, "endpoints"))


def samples(endpoints: tuple[CdnEndpointRecord, ...]) -> Iterator[Sample]:
    for e in endpoints:
        key = (e.cdn_endpoint_id,)
        yield INFO.name, (*key, e.origin, e.endpoint, e.custom_domain, e.certificate_id), 1
        if e.ttl_seconds is not None:
            yield TTL.name, key, e.ttl_seconds
        if e.created_at is not None:
            yield CREATED.name, key, e.created_at


COLLECTOR: Collector[tuple[CdnEndpointRecord, ...]] = Collector(
    name="cdn",
    summary="content delivery endpoints (Spaces CDN): origin, custom domain, certificate, cache TTL",
    endpoints=(ENDPOINT,),
    id_label="cdn_endpoint_id",
    paged=ENDPOINT,
    scope="cdn:read",
    interval=900.0,
    families=(INFO, TTL, CREATED),
    fetch=fetch,
    samples=samples,
)
