"""Uptime checks: GET /v2/uptime/checks, then GET /v2/uptime/checks/{check_id}/state per check
(scope uptime:read, default every 5m: each check costs one request per poll).

Name, type, target and whether the check is enabled live on `_info`. Each region the check runs
from has its status as a state set (`up`, `down`, `checking`: the API's UP, DOWN and CHECKING in
lower case), `_up` (1 for UP, 0 for DOWN, absent while CHECKING), when that status last changed, and the 30-day uptime as a ratio. The previous
outage is exported by its start, end and duration. Credentials, query and fragment are cut from
the target URL, so a token in a checked URL never becomes a label. A check deleted between the
list and its state (404) is left out of that poll.

    digitalocean_uptime_check_info{account="production",uptime_check_id="5a4981aa-9653-4bd1-bef5-d6bff52042e4",name="Landing page check",type="https",target="https://www.landingpage.com",enabled="true"} 1
    digitalocean_uptime_check_up{account="production",uptime_check_id="5a4981aa-9653-4bd1-bef5-d6bff52042e4",region="us_east"} 1
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from exporter.collectors.base import (
    FOLLOW_UP_CONCURRENCY,
    Collector,
    Family,
    ResourceReader,
    Sample,
    known_values,
    state_set,
)
from exporter.collectors.fields import (
    bool_label,
    objects,
    optional_int,
    optional_number,
    optional_str,
    required_str,
    timestamp,
)
from exporter.tasks import all_or_nothing

ENDPOINT = "/v2/uptime/checks"
STATE_ENDPOINT = "/v2/uptime/checks/{check_id}/state"
STATUSES = ("UP", "DOWN", "CHECKING")
UP_VALUES: Mapping[str, int] = {"UP": 1, "DOWN": 0}  # CHECKING has no up/down answer yet

INFO = Family(
    "digitalocean_uptime_check_info",
    "Uptime check name, type, target without credentials or query, and whether it is enabled "
    "(always 1), polled from /v2/uptime/checks.",
    ("uptime_check_id", "name", "type", "target", "enabled"),
)
STATUS = Family(
    "digitalocean_uptime_check_status",
    "Uptime check status in each region as a state set (1 for the current status), "
    "polled from /v2/uptime/checks/{check_id}/state.",
    ("uptime_check_id", "region", "status"),
)
UP = Family(
    "digitalocean_uptime_check_up",
    "1 if the target is up from the region, 0 if down (absent while checking), "
    "polled from /v2/uptime/checks/{check_id}/state.",
    ("uptime_check_id", "region"),
)
STATUS_CHANGED = Family(
    "digitalocean_uptime_check_status_changed_timestamp_seconds",
    "When the status in the region last changed, polled from /v2/uptime/checks/{check_id}/state.",
    ("uptime_check_id", "region"),
)
UPTIME_RATIO = Family(
    "digitalocean_uptime_check_thirty_day_uptime_ratio",
    "Share of the last 30 days the target was up from the region (0 to 1), "
    "polled from /v2/uptime/checks/{check_id}/state.",
    ("uptime_check_id", "region"),
)
OUTAGE_STARTED = Family(
    "digitalocean_uptime_check_previous_outage_started_timestamp_seconds",
    "When the previous outage started, polled from /v2/uptime/checks/{check_id}/state.",
    ("uptime_check_id",),
)
OUTAGE_ENDED = Family(
    "digitalocean_uptime_check_previous_outage_ended_timestamp_seconds",
    "When the previous outage ended, polled from /v2/uptime/checks/{check_id}/state.",
    ("uptime_check_id",),
)
OUTAGE_DURATION = Family(
    "digitalocean_uptime_check_previous_outage_duration_seconds",
    "How long the previous outage lasted, polled from /v2/uptime/checks/{check_id}/state.",
    ("uptime_check_id",),
)


@dataclass(frozen=True, slots=True)
class RegionStateRecord:
    region: str
    status: str
    status_changed_at: float | None
    thirty_day_uptime_ratio: float | None


@dataclass(frozen=True, slots=True)
class CheckStateRecord:
    regions: tuple[RegionStateRecord, ...]  # sorted by region
    previous_outage_started_at: float | None
    previous_outage_ended_at: float | None
    previous_outage_duration_seconds: int | None


NO_STATE = CheckStateRecord((), None, None, None)


@dataclass(frozen=True, slots=True)
class UptimeCheckRecord:
    uptime_check_id: str
    name: str
    type: str
    target: str
    enabled: str  # "true", "false", or "" when the API did not say
    state: CheckStateRecord = NO_STATE


def bounded_target(target: str) -> str:
    """The checked URL or host without user info, query or fragment: those may hold secrets."""
    try:
        parts = urlsplit(target)
    except ValueError:
        return ""
    if parts.netloc:
        return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
    # a ping target is a bare host or address
    return target.rpartition("@")[2].split("?", 1)[0].split("#", 1)[0]


def parse_checks(items: list[Any], where: str = f"{ENDPOINT} checks") -> tuple[UptimeCheckRecord, ...]:
    """Checks without their state, sorted by id."""
    records: list[UptimeCheckRecord] = []
    for path, check in objects(items, where):
        record = UptimeCheckRecord(
            uptime_check_id=required_str(check, "id", path),
            name=optional_str(check, "name"),
            type=optional_str(check, "type"),
            target=bounded_target(optional_str(check, "target")),
            enabled=bool_label(check, "enabled"),
        )
        records.append(record)
    # sorted; `list_all` already dropped what a shifting list repeated
    return tuple(sorted(records, key=lambda record: record.uptime_check_id))


def _past_time(obj: Mapping[str, Any], key: str) -> float | None:
    """A timestamp, or None for Go's zero time (year 1), which stands for "never"."""
    value = timestamp(obj, key)
    return value if value is not None and value > 0 else None


def _ratio(percentage: float | None) -> float | None:
    # through Decimal, so 97.99 % reads as 0.9799 and not as a float rounding neighbour
    return None if percentage is None else float(Decimal(str(percentage)) / 100)


def parse_state(body: Mapping[str, Any]) -> CheckStateRecord:
    """One check's state; every field is descriptive, so anything missing reads as absent."""
    state = body.get("state")
    if not isinstance(state, dict):
        return NO_STATE
    raw_regions = state.get("regions")
    regions = [
        RegionStateRecord(
            region=region,
            status=optional_str(raw, "status") or "unknown",
            status_changed_at=_past_time(raw, "status_changed_at"),
            thirty_day_uptime_ratio=_ratio(optional_number(raw, "thirty_day_uptime_percentage")),
        )
        for region, raw in (raw_regions.items() if isinstance(raw_regions, dict) else ())
        if isinstance(raw, dict)
    ]
    outage = state.get("previous_outage")
    if not isinstance(outage, dict):
        outage = {}
    started, ended = _past_time(outage, "started_at"), _past_time(outage, "ended_at")
    duration = optional_int(outage, "duration_seconds")
    # zero times and a zero duration are how a check that never failed reads
    had_outage = started is not None or ended is not None or bool(duration)
    return CheckStateRecord(
        regions=tuple(sorted(regions, key=lambda r: r.region)),
        previous_outage_started_at=started,
        previous_outage_ended_at=ended,
        previous_outage_duration_seconds=duration if had_outage else None,
    )


def with_states(
    checks: tuple[UptimeCheckRecord, ...], states: Sequence[Mapping[str, Any] | None]
) -> tuple[UptimeCheckRecord, ...]:
    """Each check with its parsed state; a check whose state is None (gone) is dropped."""
    return tuple(
        UptimeCheckRecord(c.uptime_check_id, c.name, c.type, c.target, c.enabled, parse_state(body))
        for c, body in zip(checks, states, strict=True)
        if body is not None
    )


async def _state_or_none(reader: ResourceReader, check_id: str) -> dict[str, Any] | None:
    # None: the check was deleted since the check list was read
    return await reader.get_or_none(STATE_ENDPOINT, path={"check_id": check_id})


async def fetch(reader: ResourceReader) -> tuple[UptimeCheckRecord, ...]:
    checks = parse_checks(await reader.list_all(ENDPOINT, "checks"))
    states = await all_or_nothing(
        [_state_or_none(reader, c.uptime_check_id) for c in checks], limit=FOLLOW_UP_CONCURRENCY
    )
    return with_states(checks, states)


def samples(checks: tuple[UptimeCheckRecord, ...]) -> Iterator[Sample]:
    for c in checks:
        key = (c.uptime_check_id,)
        yield INFO.name, (*key, c.name, c.type, c.target, c.enabled), 1
        for r in c.state.regions:
            region_key = (*key, r.region)
            yield from state_set(STATUS.name, region_key, r.status, STATUSES)
            if r.status in UP_VALUES:
                yield UP.name, region_key, UP_VALUES[r.status]
            if r.status_changed_at is not None:
                yield STATUS_CHANGED.name, region_key, r.status_changed_at
            if r.thirty_day_uptime_ratio is not None:
                yield UPTIME_RATIO.name, region_key, r.thirty_day_uptime_ratio
        yield from known_values(key, (
            (OUTAGE_STARTED, c.state.previous_outage_started_at),
            (OUTAGE_ENDED, c.state.previous_outage_ended_at),
            (OUTAGE_DURATION, c.state.previous_outage_duration_seconds),
        ))


COLLECTOR: Collector[tuple[UptimeCheckRecord, ...]] = Collector(
    name="uptime",
    summary="uptime checks: up or down per region, 30-day uptime, previous outage",
    endpoints=(ENDPOINT, STATE_ENDPOINT),
    id_label="uptime_check_id",
    paged=ENDPOINT,
    scope="uptime:read",
    interval=300.0,
    families=(INFO, STATUS, UP, STATUS_CHANGED, UPTIME_RATIO, OUTAGE_STARTED, OUTAGE_ENDED,
              OUTAGE_DURATION),
    fetch=fetch,
    samples=samples,
)
