"""Droplet backup policies: GET /v2/droplets/backups/policies (scope droplet:read, default
every 15m).

One paged request lists the backup policy of every Droplet (a map keyed by Droplet id), so
which Droplets are backed up, on which plan (`daily` or `weekly`), how long backups are kept
and when the window opens are known without a request per Droplet. Backups are billed as a
share of the Droplet's price that depends on the plan (`exporter.costs` reads the plan from
here). The window's start hour is exported as seconds after midnight UTC, its length and the
retention in seconds, each a base unit.

    digitalocean_droplet_backups_enabled{account="production",droplet_id="444909706"} 1
    digitalocean_droplet_backup_policy_info{account="production",droplet_id="444909706",plan="weekly",weekday="SUN"} 1
    digitalocean_droplet_backup_retention_seconds{account="production",droplet_id="444909706"} 2419200
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import Collector, Family, ResourceReader, Sample, known_values
from exporter.collectors.fields import (
    as_object,
    objects,
    optional_bool,
    optional_int,
    optional_str,
    required_int,
    sorted_by,
    timestamp,
)

ENDPOINT = "/v2/droplets/backups/policies"
HOUR = 3600
DAY = 86_400

ENABLED = Family(
    "digitalocean_droplet_backups_enabled",
    "1 if the Droplet has backups enabled, 0 if not, polled from /v2/droplets/backups/policies.",
    ("droplet_id",),
)
POLICY = Family(
    "digitalocean_droplet_backup_policy_info",
    "Backup plan (daily or weekly) and weekday of a Droplet with backups (always 1), "
    "polled from /v2/droplets/backups/policies.",
    ("droplet_id", "plan", "weekday"),
)
WINDOW_START = Family(
    "digitalocean_droplet_backup_window_start_seconds",
    "Seconds after midnight UTC at which the Droplet's backup window opens, "
    "polled from /v2/droplets/backups/policies.",
    ("droplet_id",),
)
WINDOW_LENGTH = Family(
    "digitalocean_droplet_backup_window_length_seconds",
    "Length of the Droplet's backup window, polled from /v2/droplets/backups/policies.",
    ("droplet_id",),
)
RETENTION = Family(
    "digitalocean_droplet_backup_retention_seconds",
    "How long each backup of the Droplet is kept, polled from /v2/droplets/backups/policies.",
    ("droplet_id",),
)
NEXT_START = Family(
    "digitalocean_droplet_next_backup_window_start_timestamp_seconds",
    "When the Droplet's next backup window opens, polled from /v2/droplets/backups/policies.",
    ("droplet_id",),
)
NEXT_END = Family(
    "digitalocean_droplet_next_backup_window_end_timestamp_seconds",
    "When the Droplet's next backup window closes, polled from /v2/droplets/backups/policies.",
    ("droplet_id",),
)


@dataclass(frozen=True, slots=True)
class BackupPolicyRecord:
    droplet_id: int
    enabled: bool | None
    plan: str  # "daily", "weekly", or "" when backups are off or the plan is unknown
    weekday: str  # "SUN" ... "SAT" for weekly plans, "" otherwise
    hour: int | None
    window_length_hours: int | None
    retention_days: int | None
    next_window_start: float | None
    next_window_end: float | None


def parse_page(items: list[Any], start: int, where: str = f"{ENDPOINT} policies") -> list[BackupPolicyRecord]:
    """Records of one page of policies (`start`: the index of its first entry)."""
    records = []
    for path, entry in objects(items, where, start):
        raw_policy = entry.get("backup_policy")
        policy = as_object(raw_policy, f"{path}.backup_policy") if raw_policy is not None else {}
        window = entry.get("next_backup_window")
        window = window if isinstance(window, dict) else {}
        records.append(BackupPolicyRecord(
            droplet_id=required_int(entry, "droplet_id", path),
            enabled=optional_bool(entry, "backup_enabled"),
            plan=optional_str(policy, "plan"),
            weekday=optional_str(policy, "weekday"),
            hour=optional_int(policy, "hour"),
            window_length_hours=optional_int(policy, "window_length_hours"),
            retention_days=optional_int(policy, "retention_period_days"),
            next_window_start=timestamp(window, "start"),
            next_window_end=timestamp(window, "end"),
        ))
    return records


def by_id(records: Iterable[BackupPolicyRecord]) -> tuple[BackupPolicyRecord, ...]:
    return sorted_by(records, lambda r: r.droplet_id)


def parse_policies(items: list[Any], where: str = f"{ENDPOINT} policies") -> tuple[BackupPolicyRecord, ...]:
    return by_id(parse_page(items, 0, where))


async def fetch(reader: ResourceReader) -> tuple[BackupPolicyRecord, ...]:
    # a policy names its Droplet, not itself: a repeat is one Droplet listed twice
    return by_id(await reader.list_all(ENDPOINT, "policies", parse=parse_page,
                                       id_key="droplet_id"))


def seconds(value: int | None, unit: int) -> int | None:
    return None if value is None else value * unit


def samples(policies: tuple[BackupPolicyRecord, ...]) -> Iterator[Sample]:
    for p in policies:
        key = (str(p.droplet_id),)
        if p.enabled is not None:
            yield ENABLED.name, key, 1 if p.enabled else 0
        if not p.enabled:
            continue  # a policy of a Droplet without backups is not in force
        if p.plan:
            yield POLICY.name, (*key, p.plan, p.weekday), 1
        yield from known_values(key, (
            (WINDOW_START, seconds(p.hour, HOUR)),
            (WINDOW_LENGTH, seconds(p.window_length_hours, HOUR)),
            (RETENTION, seconds(p.retention_days, DAY)),
            (NEXT_START, p.next_window_start),
            (NEXT_END, p.next_window_end),
        ))


COLLECTOR: Collector[tuple[BackupPolicyRecord, ...]] = Collector(
    name="droplet_backups",
    summary="Droplet backup policies: which Droplets are backed up, plan, retention, window",
    endpoints=(ENDPOINT,),
    id_label="droplet_id",
    paged=ENDPOINT,
    scope="droplet:read",
    interval=900.0,
    families=(ENABLED, POLICY, WINDOW_START, WINDOW_LENGTH, RETENTION, NEXT_START, NEXT_END),
    fetch=fetch,
    samples=samples,
)
