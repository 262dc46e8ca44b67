"""Droplet autoscale pools: GET /v2/droplets/autoscale (scope droplet:read, default every 5m).

How each pool is configured to scale (a fixed number of Droplets, or a minimum, a maximum and
utilisation targets), how many Droplets it runs now and its average utilisation, so a pool
stuck at its maximum or in `error` is visible. The Droplet template's `user_data` (which may
hold secrets) is never read.

    digitalocean_droplet_autoscale_pool_info{account="production",autoscale_pool_id="0d3db13e-a604-4944-9827-7ec2642d32ac",name="test-autoscaler-group-01",region="tor1",size="c-2",image="ubuntu-20-04-x64"} 1
    digitalocean_droplet_autoscale_pool_active_droplets{account="production",autoscale_pool_id="0d3db13e-a604-4944-9827-7ec2642d32ac"} 1
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import Collector, Family, ResourceReader, Sample, known_values, state_set
from exporter.collectors.fields import (
    as_object,
    objects,
    optional_int,
    optional_number,
    optional_str,
    required_str,
    sorted_by,
    timestamp,
)

ENDPOINT = "/v2/droplets/autoscale"
STATUSES = ("active", "deleting", "error")  # the spec's enum

_LABEL = ("autoscale_pool_id",)
INFO = Family(
    "digitalocean_droplet_autoscale_pool_info",
    "Autoscale pool descriptive labels and its Droplet template (always 1), polled from "
    "/v2/droplets/autoscale.",
    ("autoscale_pool_id", "name", "region", "size", "image"),
)
STATUS = Family(
    "digitalocean_droplet_autoscale_pool_status",
    "Autoscale pool state (1 for the current one), polled from /v2/droplets/autoscale.",
    ("autoscale_pool_id", "status"),
)
ACTIVE = Family(
    "digitalocean_droplet_autoscale_pool_active_droplets",
    "Droplets active in the autoscale pool, polled from /v2/droplets/autoscale.",
    _LABEL,
)
TARGET = Family(
    "digitalocean_droplet_autoscale_pool_target_droplets",
    "The fixed number of Droplets of a static autoscale pool, polled from /v2/droplets/autoscale.",
    _LABEL,
)
MIN = Family(
    "digitalocean_droplet_autoscale_pool_min_droplets",
    "The fewest Droplets a dynamic autoscale pool scales down to, polled from "
    "/v2/droplets/autoscale.",
    _LABEL,
)
MAX = Family(
    "digitalocean_droplet_autoscale_pool_max_droplets",
    "The most Droplets a dynamic autoscale pool scales up to, polled from /v2/droplets/autoscale.",
    _LABEL,
)
TARGET_CPU = Family(
    "digitalocean_droplet_autoscale_pool_target_cpu_utilization_ratio",
    "The average CPU utilisation (0 to 1) a dynamic autoscale pool scales to keep, polled from "
    "/v2/droplets/autoscale.",
    _LABEL,
)
TARGET_MEMORY = Family(
    "digitalocean_droplet_autoscale_pool_target_memory_utilization_ratio",
    "The average memory utilisation (0 to 1) a dynamic autoscale pool scales to keep, polled "
    "from /v2/droplets/autoscale.",
    _LABEL,
)
CPU = Family(
    "digitalocean_droplet_autoscale_pool_cpu_utilization_ratio",
    "The pool's current average CPU utilisation (0 to 1), polled from /v2/droplets/autoscale.",
    _LABEL,
)
MEMORY = Family(
    "digitalocean_droplet_autoscale_pool_memory_utilization_ratio",
    "The pool's current average memory utilisation (0 to 1), polled from /v2/droplets/autoscale.",
    _LABEL,
)
COOLDOWN = Family(
    "digitalocean_droplet_autoscale_pool_cooldown_seconds",
    "Time a dynamic autoscale pool waits between scaling events, polled from "
    "/v2/droplets/autoscale.",
    _LABEL,
)
CREATED = Family(
    "digitalocean_droplet_autoscale_pool_created_timestamp_seconds",
    "When the autoscale pool was created, polled from /v2/droplets/autoscale.",
    _LABEL,
)


@dataclass(frozen=True, slots=True)
class AutoscalePoolRecord:
    pool_id: str
    name: str
    region: str
    size: str
    image: str
    status: str
    active_droplets: int | None
    target_droplets: int | None  # static pools
    min_droplets: int | None  # dynamic pools
    max_droplets: int | None
    target_cpu: float | None
    target_memory: float | None
    cooldown_minutes: int | None
    cpu: float | None
    memory: float | None
    created_at: float | None


def parse_page(
    items: list[Any], start: int, where: str = f"{ENDPOINT} autoscale_pools"
) -> list[AutoscalePoolRecord]:
    records = []
    for path, pool in objects(items, where, start):
        config = _lenient_object(pool, "config")
        template = pool.get("droplet_template")
        template = as_object(template, f"{path}.droplet_template") if template is not None else {}
        utilization = _lenient_object(pool, "current_utilization")
        records.append(AutoscalePoolRecord(
            pool_id=required_str(pool, "id", path),
            name=optional_str(pool, "name"),
            region=optional_str(template, "region"),
            size=optional_str(template, "size"),
            image=optional_str(template, "image"),
            status=optional_str(pool, "status"),
            active_droplets=optional_int(pool, "active_resources_count"),
            target_droplets=optional_int(config, "target_number_instances"),
            min_droplets=optional_int(config, "min_instances"),
            max_droplets=optional_int(config, "max_instances"),
            target_cpu=optional_number(config, "target_cpu_utilization"),
            target_memory=optional_number(config, "target_memory_utilization"),
            cooldown_minutes=optional_int(config, "cooldown_minutes"),
            cpu=optional_number(utilization, "cpu"),
            memory=optional_number(utilization, "memory"),
            created_at=timestamp(pool, "created_at"),
        ))
    return records


def _lenient_object(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A descriptive sub-object; missing, null or mistyped reads as empty (its values unknown)."""
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def by_id(records: Iterable[AutoscalePoolRecord]) -> tuple[AutoscalePoolRecord, ...]:
    return sorted_by(records, lambda r: r.pool_id)


async def fetch(reader: ResourceReader) -> tuple[AutoscalePoolRecord, ...]:
    return by_id(await reader.list_all(ENDPOINT, "autoscale_pools", parse=parse_page))


def samples(pools: tuple[AutoscalePoolRecord, ...]) -> Iterator[Sample]:
    for p in pools:
        key = (p.pool_id,)
        yield INFO.name, (*key, p.name, p.region, p.size, p.image), 1
        yield from state_set(STATUS.name, key, p.status, STATUSES)
        cooldown = p.cooldown_minutes * 60 if p.cooldown_minutes is not None else None
        yield from known_values(key, (
            (ACTIVE, p.active_droplets), (TARGET, p.target_droplets), (MIN, p.min_droplets),
            (MAX, p.max_droplets), (TARGET_CPU, p.target_cpu), (TARGET_MEMORY, p.target_memory),
            (CPU, p.cpu), (MEMORY, p.memory), (COOLDOWN, cooldown), (CREATED, p.created_at),
        ))


COLLECTOR: Collector[tuple[AutoscalePoolRecord, ...]] = Collector(
    name="autoscale_pools",
    summary="Droplet autoscale pools: configuration, active Droplets, utilisation, status",
    endpoints=(ENDPOINT,),
    id_label="autoscale_pool_id",
    paged=ENDPOINT,
    scope="droplet:read",
    interval=300.0,
    families=(INFO, STATUS, ACTIVE, TARGET, MIN, MAX, TARGET_CPU, TARGET_MEMORY, CPU, MEMORY,
              COOLDOWN, CREATED),
    fetch=fetch,
    samples=samples,
)
