"""Firewalls: GET /v2/firewalls (scope firewall:read, default every 5m).

Each cloud firewall exports its status as a state set, its inbound and outbound rule counts and
the changes still being applied, so a failed or stuck firewall shows up. The Droplets it protects
directly and the tags it targets are relation series (`_droplet_info`, `_tag_info`), one per pair;
Droplets reached through a tag are found by joining with `digitalocean_droplet_tag_info`. Rule
contents (ports, addresses) are not exported.

    digitalocean_firewall_info{account="production",firewall_id="fb6045f1-cf1d-4ca3-bfac-18832663025b",name="firewall"} 1
    digitalocean_firewall_droplet_info{account="production",firewall_id="fb6045f1-cf1d-4ca3-bfac-18832663025b",droplet_id="8043964"} 1
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import (
    Collector,
    Family,
    FieldScope,
    ResourceReader,
    Sample,
    known_values,
    state_set,
)
from exporter.collectors.fields import (
    objects,
    optional_str,
    required_str,
    string_list,
    timestamp,
)

ENDPOINT = "/v2/firewalls"
STATUSES = ("waiting", "succeeded", "failed")

INFO = Family(
    "digitalocean_firewall_info",
    "Firewall name (always 1), polled from /v2/firewalls.",
    ("firewall_id", "name"),
)
STATUS = Family(
    "digitalocean_firewall_status",
    "Firewall status as a state set (1 for the current status), polled from /v2/firewalls.",
    ("firewall_id", "status"),
)
INBOUND_RULES = Family(
    "digitalocean_firewall_inbound_rules",
    "Inbound rules of the firewall, polled from /v2/firewalls.",
    ("firewall_id",),
)
OUTBOUND_RULES = Family(
    "digitalocean_firewall_outbound_rules",
    "Outbound rules of the firewall, polled from /v2/firewalls.",
    ("firewall_id",),
)
DROPLETS = Family(
    "digitalocean_firewall_droplets",
    "Droplets the firewall is applied to directly (not through a tag), polled from /v2/firewalls.",
    ("firewall_id",),
)
PENDING_CHANGES = Family(
    "digitalocean_firewall_pending_changes",
    "Droplets whose security policy is still being updated for the firewall, polled from "
    "/v2/firewalls.",
    ("firewall_id",),
)
CREATED = Family(
    "digitalocean_firewall_created_timestamp_seconds",
    "When the firewall was created, polled from /v2/firewalls.",
    ("firewall_id",),
)
DROPLET = Family(
    "digitalocean_firewall_droplet_info",
    "One series per Droplet the firewall is applied to directly (always 1), polled from "
    "/v2/firewalls.",
    ("firewall_id", "droplet_id"),
)
TAG = Family(
    "digitalocean_firewall_tag_info",
    "One series per tag the firewall is applied to (always 1), polled from /v2/firewalls.",
    ("firewall_id", "tag"),
)


@dataclass(frozen=True, slots=True)
class FirewallRecord:
    firewall_id: str
    name: str
    status: str
    inbound_rules: int | None
    outbound_rules: int | None
    pending_changes: int | None
    droplet_ids: tuple[int, ...] | None  # None: not in the answer (it needs droplet:read)
    tags: tuple[str, ...]
    created_at: float | None


def rule_count(firewall: Mapping[str, Any], key: str) -> int | None:
    """The spec marks both rule lists nullable with no scope behind them: null is a firewall
    without rules in that direction, while an absent list is unknown."""
    if key not in firewall:
        return None
    value = firewall[key]
    if value is None:
        return 0
    return len(value) if isinstance(value, list) else None


def droplet_ids(firewall: Mapping[str, Any]) -> tuple[int, ...] | None:
    """`droplet_ids` is nullable and needs droplet:read, so null cannot be told apart from a
    missing scope: only a list is read."""
    value = firewall.get("droplet_ids")
    if not isinstance(value, list):
        return None
    return tuple(sorted({i for i in value if isinstance(i, int) and not isinstance(i, bool)}))


def parse_firewalls(items: list[Any], where: str = f"{ENDPOINT} firewalls") -> tuple[FirewallRecord, ...]:
    records: list[FirewallRecord] = []
    for path, firewall in objects(items, where):
        pending = firewall.get("pending_changes")
        record = FirewallRecord(
            firewall_id=required_str(firewall, "id", path),
            name=optional_str(firewall, "name"),
            status=optional_str(firewall, "status") or "unknown",
            inbound_rules=rule_count(firewall, "inbound_rules"),
            outbound_rules=rule_count(firewall, "outbound_rules"),
            pending_changes=len(pending) if isinstance(pending, list) else None,
            droplet_ids=droplet_ids(firewall),
            tags=tuple(sorted(set(string_list(firewall, "tags")))),
            created_at=timestamp(firewall, "created_at"),
        )
        records.append(record)
    # sorted; `list_all` already dropped what a shifting list repeated
    return tuple(sorted(records, key=lambda record: record.firewall_id))


async def fetch(reader: ResourceReader) -> tuple[FirewallRecord, ...]:
    return parse_firewalls(await reader.list_all(ENDPOINT, "firewalls"))


def samples(firewalls: tuple[FirewallRecord, ...]) -> Iterator[Sample]:
    for f in firewalls:
        key = (f.firewall_id,)
        yield INFO.name, (*key, f.name), 1
        yield from state_set(STATUS.name, key, f.status, STATUSES)
        yield from known_values(key, (
            (INBOUND_RULES, f.inbound_rules),
            (OUTBOUND_RULES, f.outbound_rules),
            (DROPLETS, None if f.droplet_ids is None else len(f.droplet_ids)),
            (PENDING_CHANGES, f.pending_changes),
            (CREATED, f.created_at),
        ))
        for droplet_id in f.droplet_ids or ():
            yield DROPLET.name, (*key, str(droplet_id)), 1
        for tag in f.tags:
            yield TAG.name, (*key, tag), 1


COLLECTOR: Collector[tuple[FirewallRecord, ...]] = Collector(
    name="firewalls",
    summary="cloud firewalls: status, rule counts, pending changes, Droplets and tags applied to",
    endpoints=(ENDPOINT,),
    id_label="firewall_id",
    paged=ENDPOINT,
    scope="firewall:read",
    field_scopes=(
        FieldScope("droplet_ids", ("droplet:read",), (
            "digitalocean_firewall_droplets", "digitalocean_firewall_droplet_info",
        )),
        # The API description asks for a write scope here: under write_scopes: refuse this
        # family can never have series.
        FieldScope("tags", ("tag:create", "tag:read"), ("digitalocean_firewall_tag_info",)),
    ),
    interval=300.0,
    families=(INFO, STATUS, INBOUND_RULES, OUTBOUND_RULES, DROPLETS, PENDING_CHANGES, CREATED,
              DROPLET, TAG),
    fetch=fetch,
    samples=samples,
)
