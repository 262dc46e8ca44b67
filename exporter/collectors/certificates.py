"""Certificates: GET /v2/certificates (scope certificate:read, default every 1h).

TLS certificates used by load balancers and CDN endpoints: name and type (`custom` or
`lets_encrypt`) on `_info`, the state as a state set, and the expiry time from `not_after`, so
`digitalocean_certificate_expiry_timestamp_seconds - time() < 14 * 86400` alerts before one
lapses. The DNS name count skips empty names (the spec's custom certificate example lists `""`).

    digitalocean_certificate_info{account="production",certificate_id="ba9b9c18-6c59-46c2-99df-70da170a42ba",name="web-cert-02",type="lets_encrypt"} 1
    digitalocean_certificate_expiry_timestamp_seconds{account="production",certificate_id="ba9b9c18-6c59-46c2-99df-70da170a42ba"} 1528393452.0
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import Collector, Family, ResourceReader, Sample, known_values, state_set
from exporter.collectors.fields import objects, optional_str, required_str, timestamp

ENDPOINT = "/v2/certificates"
STATES = ("pending", "verified", "error")

INFO = Family(
    "digitalocean_certificate_info",
    "Certificate name and type, custom or lets_encrypt (always 1), polled from /v2/certificates.",
    ("certificate_id", "name", "type"),
)
STATUS = Family(
    "digitalocean_certificate_status",
    "Certificate state as a state set (1 for the current state), polled from /v2/certificates.",
    ("certificate_id", "status"),
)
EXPIRY = Family(
    "digitalocean_certificate_expiry_timestamp_seconds",
    "When the certificate expires (not_after), polled from /v2/certificates.",
    ("certificate_id",),
)
CREATED = Family(
    "digitalocean_certificate_created_timestamp_seconds",
    "When the certificate was created, polled from /v2/certificates.",
    ("certificate_id",),
)
DNS_NAMES = Family(
    "digitalocean_certificate_dns_names",
    "DNS names the certificate was issued for, polled from /v2/certificates.",
    ("certificate_id",),
)


@dataclass(frozen=True, slots=True)
class CertificateRecord:
    certificate_id: str
    name: str
    type: str
    state: str
    not_after: float | None
    created_at: float | None
    dns_name_count: int | None  # None when the API sent no list


def dns_name_count(certificate: Mapping[str, Any]) -> int | None:
    names = certificate.get("dns_names")
    if not isinstance(names, list):
        return None
    return sum(1 for name in names if isinstance(name, str) and name)


def parse_certificates(
    items: list[Any], where: str = f"{ENDPOINT} certificates"
) -> tuple[CertificateRecord, ...]:
    records: list[CertificateRecord] = []
    for path, certificate in objects(items, where):
        record = CertificateRecord(
            certificate_id=required_str(certificate, "id", path),
            name=optional_str(certificate, "name"),
            type=optional_str(certificate, "type"),
            state=optional_str(certificate, "state") or "unknown",
            not_after=timestamp(certificate, "not_after"),
            created_at=timestamp(certificate, "created_at"),
            dns_name_count=dns_name_count(certificate),
        )
        records.append(record)
    # sorted; `list_all` already dropped what a shifting list repeated
    return tuple(sorted(records, key=lambda record: record.certificate_id))


async def fetch(reader: ResourceReader) -> tuple[CertificateRecord, ...]:
    return parse_certificates(await reader.list_all(ENDPOINT, "certificates"))


def samples(certificates: tuple[CertificateRecord, ...]) -> Iterator[Sample]:
    for c in certificates:
        key = (c.certificate_id,)
        yield INFO.name, (*key, c.name, c.type), 1
        yield from state_set(STATUS.name, key, c.state, STATES)
        yield from known_values(key, (
            (EXPIRY, c.not_after),
            (CREATED, c.created_at),
            (DNS_NAMES, c.dns_name_count),
        ))


COLLECTOR: Collector[tuple[CertificateRecord, ...]] = Collector(
    name="certificates",
    summary="load balancer and CDN TLS certificates: type, state, expiry time, DNS names",
    endpoints=(ENDPOINT,),
    id_label="certificate_id",
    paged=ENDPOINT,
    scope="certificate:read",
    interval=3600.0,
    families=(INFO, STATUS, EXPIRY, CREATED, DNS_NAMES),
    fetch=fetch,
    samples=samples,
)
