"""Domains: GET /v2/domains, then GET /v2/domains/{domain_name}/records per domain (scope
domain:read, default every 1h).

Each DNS zone hosted by DigitalOcean is one `_info` series, with its default TTL and the number
of DNS records of each type, so a zone that loses its records or gains unexpected ones shows up.
The zone file and record data are never kept. A domain deleted between the two requests (its
records answer 404) is left out of that poll.

    digitalocean_domain_info{account="production",domain="example.com"} 1
    digitalocean_domain_records{account="production",domain="example.com",type="A"} 1
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import FOLLOW_UP_CONCURRENCY, Collector, Family, ResourceReader, Sample
from exporter.collectors.fields import objects, optional_int, optional_str, required_str
from exporter.collectors.relisting import confirm_deleted
from exporter.tasks import all_or_nothing

ENDPOINT = "/v2/domains"
RECORDS_ENDPOINT = "/v2/domains/{domain_name}/records"
UNKNOWN_TYPE = "unknown"  # a record without a type is still counted, visibly

INFO = Family(
    "digitalocean_domain_info",
    "Domain (DNS zone) hosted by DigitalOcean (always 1), polled from /v2/domains.",
    ("domain",),
)
TTL = Family(
    "digitalocean_domain_ttl_seconds",
    "Default time to live of the records in the domain, polled from /v2/domains.",
    ("domain",),
)
RECORDS = Family(
    "digitalocean_domain_records",
    "DNS records in the domain by record type, polled from /v2/domains/{domain_name}/records.",
    ("domain", "type"),
)


@dataclass(frozen=True, slots=True)
class DomainRecord:
    domain: str
    ttl_seconds: int | None
    dns_record_counts: tuple[tuple[str, int], ...] = ()  # (record type, count), sorted by type


def parse_domains(items: list[Any], where: str = f"{ENDPOINT} domains") -> tuple[DomainRecord, ...]:
    """Domains without their record counts, sorted by name. `ip_address` is write-only in the
    spec and `zone_file` is free text, so neither is read."""
    records: list[DomainRecord] = []
    for path, domain in objects(items, where):
        record = DomainRecord(
            domain=required_str(domain, "name", path),
            ttl_seconds=optional_int(domain, "ttl"),
        )
        records.append(record)
    # sorted; `list_all` already dropped what a shifting list repeated
    return tuple(sorted(records, key=lambda record: record.domain))


def count_record_types(items: list[Any], where: str) -> tuple[tuple[str, int], ...]:
    """(type, count) of one domain's DNS records, sorted by type."""
    counts = Counter(optional_str(record, "type") or UNKNOWN_TYPE for _, record in objects(items, where))
    return tuple(sorted(counts.items()))


def records_where(domain: str) -> str:
    return f"/v2/domains/{domain}/records domain_records"


async def _records_or_none(reader: ResourceReader, domain: str) -> list[Any] | None:
    # None: the domain was deleted since the domain list was read
    return await reader.list_all(RECORDS_ENDPOINT, "domain_records", path={"domain_name": domain},
                                 missing_ok=True)


def with_record_counts(
    domains: tuple[DomainRecord, ...], records: Sequence[list[Any] | None]
) -> tuple[DomainRecord, ...]:
    """Each domain with its counts by type; a domain whose records are None (gone) is dropped."""
    return tuple(
        DomainRecord(d.domain, d.ttl_seconds, count_record_types(items, records_where(d.domain)))
        for d, items in zip(domains, records, strict=True)
        if items is not None
    )


async def fetch(reader: ResourceReader) -> tuple[DomainRecord, ...]:
    domains = parse_domains(await reader.list_all(ENDPOINT, "domains", id_key="name"))
    answers = await all_or_nothing(
        [_records_or_none(reader, d.domain) for d in domains], limit=FOLLOW_UP_CONCURRENCY
    )
    gone = [d.domain for d, items in zip(domains, answers, strict=True) if items is None]
    await confirm_deleted(reader, ENDPOINT, "domains", "name", gone=gone, follow_up=RECORDS_ENDPOINT)
    return with_record_counts(domains, answers)


def samples(domains: tuple[DomainRecord, ...]) -> Iterator[Sample]:
    for d in domains:
        key = (d.domain,)
        yield INFO.name, key, 1
        if d.ttl_seconds is not None:
            yield TTL.name, key, d.ttl_seconds
        for record_type, count in d.dns_record_counts:
            yield RECORDS.name, (*key, record_type), count


COLLECTOR: Collector[tuple[DomainRecord, ...]] = Collector(
    name="domains",
    summary="domains hosted on DigitalOcean DNS: default TTL and record counts by type",
    endpoints=(ENDPOINT, RECORDS_ENDPOINT),
    id_label="domain",
    paged=ENDPOINT,
    scope="domain:read",
    interval=3600.0,
    families=(INFO, TTL, RECORDS),
    fetch=fetch,
    samples=samples,
)
