"""Spaces access keys: GET /v2/spaces/keys (scope spaces_key:read, default every 15m).

Each access key by its access key id (the public half DigitalOcean names it by in its own
URLs, `/v2/spaces/keys/{access_key}`) with its name, one `_grant_info` series per grant
(bucket and permission: `read`, `readwrite`, `fullaccess`, or "" as the API spells it) and its
creation time, so a key with full access or an old key is visible. The secret half
(`secret_key`, which the API sends when a key is created) and any other field are never read:
a record has no place for them.

    digitalocean_spaces_key_info{account="production",spaces_key_id="DOACCESSKEYEXAMPLE",name="my-access-key"} 1
    digitalocean_spaces_key_grant_info{account="production",spaces_key_id="DOACCESSKEYEXAMPLE",bucket="my-bucket",permission="read"} 1
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import Collector, Facts, Family, PollContext, ResourceReader, Sample
from exporter.collectors.fields import objects, optional_str, required_str, sorted_by, timestamp

ENDPOINT = "/v2/spaces/keys"

INFO = Family(
    "digitalocean_spaces_key_info",
    "Spaces access key name (always 1), polled from /v2/spaces/keys.",
    ("spaces_key_id", "name"),
)
GRANT = Family(
    "digitalocean_spaces_key_grant_info",
    "A bucket the Spaces access key may use and its permission, one series per grant "
    "(always 1), polled from /v2/spaces/keys.",
    ("spaces_key_id", "bucket", "permission"),
)
GRANTS = Family(
    "digitalocean_spaces_key_grants",
    "Grants (bucket and permission) of the Spaces access key, polled from /v2/spaces/keys.",
    ("spaces_key_id",),
)
CREATED = Family(
    "digitalocean_spaces_key_created_timestamp_seconds",
    "When the Spaces access key was created, polled from /v2/spaces/keys.",
    ("spaces_key_id",),
)


@dataclass(frozen=True, slots=True)
class SpacesKeyRecord:
    spaces_key_id: str  # the access key id; never the secret key
    name: str
    grants: tuple[tuple[str, str], ...]  # (bucket, permission), sorted, each once
    created_at: float | None


def _grants(key: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    value = key.get("grants")
    if not isinstance(value, list):
        return ()
    return tuple(sorted({
        (optional_str(grant, "bucket"), optional_str(grant, "permission"))
        for grant in value
        if isinstance(grant, dict)
    }))


def parse_page(items: list[Any], start: int, where: str = f"{ENDPOINT} keys") -> list[SpacesKeyRecord]:
    # Named fields only: `secret_key` (and anything else the answer may carry) is not looked at.
    return [
        SpacesKeyRecord(
            spaces_key_id=required_str(key, "access_key", path),
            name=optional_str(key, "name"),
            grants=_grants(key),
            created_at=timestamp(key, "created_at"),
        )
        for path, key in objects(items, where, start)
    ]


def by_id(records: Iterable[SpacesKeyRecord]) -> tuple[SpacesKeyRecord, ...]:
    return sorted_by(records, lambda r: r.spaces_key_id)


async def fetch(reader: ResourceReader) -> tuple[SpacesKeyRecord, ...]:
    return await fetch_selected(reader, PollContext())


async def fetch_selected(reader: ResourceReader, context: PollContext) -> tuple[SpacesKeyRecord, ...]:
    """What the `filter:` keeps (the list takes no filter: applied here)."""
    records = by_id(await reader.list_all(ENDPOINT, "keys", parse=parse_page))
    return context.selection.keep(records, lambda r: Facts(r.spaces_key_id, name=r.name))


def samples(keys: tuple[SpacesKeyRecord, ...]) -> Iterator[Sample]:
    for k in keys:
        key = (k.spaces_key_id,)
        yield INFO.name, (*key, k.name), 1
        for bucket, permission in k.grants:
            yield GRANT.name, (*key, bucket, permission), 1
        yield GRANTS.name, key, len(k.grants)
        if k.created_at is not None:
            yield CREATED.name, key, k.created_at


COLLECTOR: Collector[tuple[SpacesKeyRecord, ...]] = Collector(
    name="spaces_keys",
    summary="Spaces access keys: name, grants (bucket, permission), creation time; never the secret",
    endpoints=(ENDPOINT,),
    id_label="spaces_key_id",
    paged=ENDPOINT,
    scope="spaces_key:read",
    interval=900.0,
    families=(INFO, GRANT, GRANTS, CREATED),
    fetch=fetch,
    filters=("name", "id"),
    fetch_with=fetch_selected,
    samples=samples,
)
