"""Droplet autoscale pool members and scaling history: GET
/v2/droplets/autoscale/{autoscale_pool_id}/members and .../history (scope droplet:read, default
every 5m).

For each pool the `autoscale_pools` collector listed in its last good poll (read from
`PollContext.inputs`, never listed again), the Droplets the pool runs by status and by health,
and its scaling history: when it last scaled, how that ended, and how many events of each
reason the history holds. A pool whose members are unhealthy, or whose last scaling event
failed, shows here before its Droplets do. Two paged lists per pool and poll.

    digitalocean_droplet_autoscale_pool_member_droplets{account="production",autoscale_pool_id="0d3db13e-a604-4944-9827-7ec2642d32ac",status="active"} 1
    digitalocean_droplet_autoscale_pool_last_scaling_event_timestamp_seconds{account="production",autoscale_pool_id="0d3db13e-a604-4944-9827-7ec2642d32ac"} 1.605817638e+09
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from exporter.collectors import autoscale_pools
from exporter.collectors.autoscale_pools import AutoscalePoolRecord
from exporter.collectors.base import (
    FOLLOW_UP_CONCURRENCY,
    Collector,
    Family,
    PollContext,
    ResourceReader,
    Sample,
    state_set,
)
from exporter.collectors.fields import objects, optional_str, required_int, timestamp
from exporter.collectors.relisting import confirm_deleted
from exporter.tasks import all_or_nothing

POOLS = autoscale_pools.ENDPOINT
MEMBERS = "/v2/droplets/autoscale/{autoscale_pool_id}/members"
HISTORY = "/v2/droplets/autoscale/{autoscale_pool_id}/history"

# The spec's enums, as the API spells them.
MEMBER_STATUSES = ("provisioning", "active", "deleting", "off")
HEALTH = ("healthy", "unhealthy")
REASONS = ("CONFIGURATION_CHANGE", "SCALE_UP", "SCALE_DOWN")
EVENT_STATUSES = ("in_progress", "success", "error")

_LABEL = ("autoscale_pool_id",)
MEMBER_INFO = Family(
    "digitalocean_droplet_autoscale_pool_member_info",
    "A Droplet that is a member of the autoscale pool (always 1), polled from "
    "/v2/droplets/autoscale/{autoscale_pool_id}/members.",
    ("autoscale_pool_id", "droplet_id"),
)
MEMBER_DROPLETS = Family(
    "digitalocean_droplet_autoscale_pool_member_droplets",
    "Member Droplets of the autoscale pool in each state, polled from "
    "/v2/droplets/autoscale/{autoscale_pool_id}/members.",
    ("autoscale_pool_id", "status"),
)
HEALTH_DROPLETS = Family(
    "digitalocean_droplet_autoscale_pool_member_health_droplets",
    "Member Droplets of the autoscale pool by health check result, polled from "
    "/v2/droplets/autoscale/{autoscale_pool_id}/members.",
    ("autoscale_pool_id", "health"),
)
LAST_EVENT = Family(
    "digitalocean_droplet_autoscale_pool_last_scaling_event_timestamp_seconds",
    "When the autoscale pool's newest history event started, polled from "
    "/v2/droplets/autoscale/{autoscale_pool_id}/history.",
    _LABEL,
)
LAST_EVENT_STATUS = Family(
    "digitalocean_droplet_autoscale_pool_last_scaling_event_status",
    "State of the autoscale pool's newest history event (1 for the current one), polled from "
    "/v2/droplets/autoscale/{autoscale_pool_id}/history.",
    ("autoscale_pool_id", "status"),
)
EVENTS = Family(
    "digitalocean_droplet_autoscale_pool_scaling_events",
    "History events the autoscale pool's history holds, by reason (lower case), polled from "
    "/v2/droplets/autoscale/{autoscale_pool_id}/history.",
    ("autoscale_pool_id", "reason"),
)


@dataclass(frozen=True, slots=True)
class MemberRecord:
    droplet_id: int
    status: str
    health: str


@dataclass(frozen=True, slots=True)
class EventRecord:
    reason: str
    status: str
    created_at: float | None


@dataclass(frozen=True, slots=True)
class PoolMembersRecord:
    pool_id: str
    members: tuple[MemberRecord, ...]  # sorted by Droplet id
    events: tuple[EventRecord, ...]


def parse_members(items: list[Any], start: int, where: str) -> list[MemberRecord]:
    return [
        MemberRecord(
            droplet_id=required_int(member, "droplet_id", path),
            status=optional_str(member, "status"),
            health=optional_str(member, "health_status"),
        )
        for path, member in objects(items, where, start)
    ]


def parse_events(items: list[Any], start: int, where: str) -> list[EventRecord]:
    return [
        EventRecord(
            reason=optional_str(event, "reason"),
            status=optional_str(event, "status"),
            created_at=timestamp(event, "created_at"),
        )
        for _, event in objects(items, where, start)
    ]


async def _members(reader: ResourceReader, pool_id: str) -> list[MemberRecord] | None:
    where = f"{MEMBERS.format(autoscale_pool_id=pool_id)} droplets"
    return await reader.list_all(
        MEMBERS, "droplets", path={"autoscale_pool_id": pool_id}, missing_ok=True,
        parse=lambda items, start: parse_members(items, start, where),
    )


async def _events(reader: ResourceReader, pool_id: str) -> list[EventRecord] | None:
    where = f"{HISTORY.format(autoscale_pool_id=pool_id)} history"
    return await reader.list_all(
        HISTORY, "history", path={"autoscale_pool_id": pool_id}, missing_ok=True,
        parse=lambda items, start: parse_events(items, start, where),
    )


def selected(pools: Sequence[AutoscalePoolRecord], context: PollContext) -> list[AutoscalePoolRecord]:
    return [p for p in pools
            if context.selection.matches(object_id=p.pool_id, name=p.name, region=p.region)]


async def fetch_with(reader: ResourceReader, context: PollContext) -> tuple[PoolMembersRecord, ...]:
    pools: Sequence[AutoscalePoolRecord] | None = context.inputs.get("autoscale_pools")
    if pools is None:  # the pool collector has no good poll yet: list the pools once here
        pools = await autoscale_pools.fetch(reader)
    wanted = selected(pools, context)
    members = await all_or_nothing(
        [_members(reader, p.pool_id) for p in wanted], limit=FOLLOW_UP_CONCURRENCY)
    events = await all_or_nothing(
        [_events(reader, p.pool_id) for p in wanted], limit=FOLLOW_UP_CONCURRENCY)
    gone = [p.pool_id for p, m, e in zip(wanted, members, events, strict=True)
            if m is None or e is None]
    # a 404 for a pool the list still holds fails the poll instead of dropping the pool
    await confirm_deleted(reader, POOLS, "autoscale_pools", "id", gone=gone,
                          follow_up=f"{MEMBERS} or {HISTORY}")
    records = [
        PoolMembersRecord(p.pool_id, tuple(sorted(m, key=lambda r: r.droplet_id)), tuple(e))
        for p, m, e in zip(wanted, members, events, strict=True)
        if m is not None and e is not None
    ]
    return tuple(sorted(records, key=lambda r: r.pool_id))


async def fetch(reader: ResourceReader) -> tuple[PoolMembersRecord, ...]:
    return await fetch_with(reader, PollContext())


def samples(pools: tuple[PoolMembersRecord, ...]) -> Iterator[Sample]:
    for p in pools:
        key = (p.pool_id,)
        for member in p.members:
            yield MEMBER_INFO.name, (*key, str(member.droplet_id)), 1
        yield from _counts(MEMBER_DROPLETS.name, key, [m.status for m in p.members], MEMBER_STATUSES)
        yield from _counts(HEALTH_DROPLETS.name, key, [m.health for m in p.members], HEALTH)
        yield from _counts(EVENTS.name, key, [e.reason for e in p.events], REASONS)
        dated = [e for e in p.events if e.created_at is not None]
        if dated:
            newest = max(dated, key=lambda e: e.created_at or 0.0)
            yield LAST_EVENT.name, key, newest.created_at or 0.0
            yield from state_set(LAST_EVENT_STATUS.name, key, newest.status, EVENT_STATUSES)


def _counts(family: str, key: tuple[str, ...], values: list[str], known: tuple[str, ...]) -> Iterator[Sample]:
    """One count per known value (0 included, so a pool with no unhealthy member says so) and
    per unknown value met; written in lower case like a state set. An empty value (the field
    missing) is not counted."""
    counted = Counter(value.lower() for value in values if value)
    for value in dict.fromkeys([*(k.lower() for k in known), *sorted(counted)]):
        yield family, (*key, value), counted.get(value, 0)


COLLECTOR: Collector[tuple[PoolMembersRecord, ...]] = Collector(
    name="autoscale_members",
    summary="Droplet autoscale pool members by status and health, and scaling history",
    endpoints=(MEMBERS, HISTORY),
    id_label="autoscale_pool_id",
    scope="droplet:read",
    interval=300.0,
    families=(MEMBER_INFO, MEMBER_DROPLETS, HEALTH_DROPLETS, LAST_EVENT, LAST_EVENT_STATUS, EVENTS),
    fetch=fetch,
    samples=samples,
    filters=("region", "name", "id"),
    inputs=("autoscale_pools",),
    fetch_with=fetch_with,
)
