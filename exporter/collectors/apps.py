"""Apps: GET /v2/apps (scope app:read, default every 1m).

App Platform apps: the phase of the active deployment and of the one in progress, each its own
state set (the API's phases in lower case, like every family's states), and when the active
deployment went live. A deployment that fails while in progress shows as
`in_progress_deployment_status{status="error"}`; one that failed and was dropped from the app
shows as `last_deployment_created_timestamp_seconds > last_deployment_timestamp_seconds` with no
in-progress series.

Each service and worker (the components that run billed containers) has its instance size and
either a fixed instance count or, when autoscaled, a minimum and a maximum (the spec: an
autoscaled component "must not" set `instance_count`). Static sites and jobs are left out.

    digitalocean_app_info{account="production",app_id="4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf",name="sample-php",region="fra",tier="basic"} 1
    digitalocean_app_last_deployment_timestamp_seconds{account="production",app_id="4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf"} 1606783332.0
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import (
    Collector,
    Facts,
    Family,
    PollContext,
    ResourceReader,
    Sample,
    known_values,
    state_set,
)
from exporter.collectors.fields import objects, optional_str, required_str, timestamp

ENDPOINT = "/v2/apps"
LIST_KEY = "apps"
# The enum apps_deployment_phase, in the spec's order; its default is UNKNOWN.
PHASES = ("UNKNOWN", "PENDING_BUILD", "BUILDING", "PENDING_DEPLOY", "DEPLOYING", "ACTIVE",
          "SUPERSEDED", "ERROR", "CANCELED")
DEFAULT_PHASE = "UNKNOWN"

INFO = Family(
    "digitalocean_app_info",
    f"App descriptive labels (always 1), polled from {ENDPOINT}.",
    ("app_id", "name", "region", "tier"),
)
ACTIVE_STATUS = Family(
    "digitalocean_app_active_deployment_status",
    f"Phase of the app's active deployment as a state set (1 for the current phase), "
    f"polled from {ENDPOINT}.",
    ("app_id", "status"),
)
IN_PROGRESS_STATUS = Family(
    "digitalocean_app_in_progress_deployment_status",
    f"Phase of the app's in-progress deployment as a state set (absent when none is in "
    f"progress), polled from {ENDPOINT}.",
    ("app_id", "status"),
)
LAST_DEPLOYMENT = Family(
    "digitalocean_app_last_deployment_timestamp_seconds",
    f"When the app's active deployment went live, polled from {ENDPOINT}.",
    ("app_id",),
)
LAST_DEPLOYMENT_CREATED = Family(
    "digitalocean_app_last_deployment_created_timestamp_seconds",
    f"When the app's most recent deployment was created, whatever its outcome, "
    f"polled from {ENDPOINT}.",
    ("app_id",),
)
CREATED = Family(
    "digitalocean_app_created_timestamp_seconds",
    f"When the app was created, polled from {ENDPOINT}.",
    ("app_id",),
)
UPDATED = Family(
    "digitalocean_app_updated_timestamp_seconds",
    f"When the app's configuration was last updated, polled from {ENDPOINT}.",
    ("app_id",),
)
COMPONENT_INFO = Family(
    "digitalocean_app_component_info",
    f"Service or worker of an app: its type and instance size slug (always 1), "
    f"polled from {ENDPOINT}.",
    ("app_id", "component", "type", "instance_size"),
)
COMPONENT_INSTANCES = Family(
    "digitalocean_app_component_instances",
    f"Instances of a service or worker that is not autoscaled, polled from {ENDPOINT}.",
    ("app_id", "component"),
)
COMPONENT_MIN_INSTANCES = Family(
    "digitalocean_app_component_autoscaling_min_instances",
    f"Minimum instances of an autoscaled service or worker, polled from {ENDPOINT}.",
    ("app_id", "component"),
)
COMPONENT_MAX_INSTANCES = Family(
    "digitalocean_app_component_autoscaling_max_instances",
    f"Maximum instances of an autoscaled service or worker, polled from {ENDPOINT}.",
    ("app_id", "component"),
)
COMPONENT_KINDS = (("services", "service"), ("workers", "worker"))


@dataclass(frozen=True, slots=True)
class ComponentRecord:
    """A service or worker: the components that run billed containers."""

    name: str
    type: str  # service | worker
    instance_size: str  # "" when the spec omits it
    instance_count: int | None  # None when autoscaled
    min_instances: int | None = None  # autoscaling only
    max_instances: int | None = None

    @property
    def billed_instances(self) -> int:
        """Instances always running: the count, or the autoscaling minimum (at least one)."""
        if self.instance_count is not None:
            return self.instance_count
        return self.min_instances or 1


@dataclass(frozen=True, slots=True)
class AppRecord:
    app_id: str
    name: str
    region: str
    tier: str
    active_phase: str | None  # None: no active deployment
    in_progress_phase: str | None  # None: nothing in progress
    last_deployment_at: float | None
    last_deployment_created_at: float | None
    created_at: float | None
    updated_at: float | None
    components: tuple[ComponentRecord, ...] = ()


def app_time(obj: Mapping[str, Any], key: str) -> float | None:
    # The Apps API is generated from Go structs and sends Go's zero time (0001-01-01T00:00:00Z)
    # for times that never happened; that is "absent", not a date in year 1.
    value = timestamp(obj, key)
    return value if value is not None and value > 0 else None


def _phase(deployment: object) -> str | None:
    if not isinstance(deployment, dict):
        return None
    # An omitted phase is the enum's declared default, so it shows as UNKNOWN rather than vanishing.
    return optional_str(deployment, "phase") or DEFAULT_PHASE


def _went_live(app: Mapping[str, Any]) -> float | None:
    # `last_deployment_active_at` (sent by the API, known to godo, missing from the spec) first;
    # else the active deployment's last phase change, which is when it became ACTIVE; else its
    # last update.
    at = app_time(app, "last_deployment_active_at")
    active = app.get("active_deployment")
    if at is None and isinstance(active, dict):
        at = app_time(active, "phase_last_updated_at") or app_time(active, "updated_at")
    return at


def _count(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _components(app: Mapping[str, Any]) -> tuple[ComponentRecord, ...]:
    spec = app.get("spec")
    if not isinstance(spec, dict):
        return ()
    found = []
    for key, kind in COMPONENT_KINDS:
        components = spec.get(key)
        for component in components if isinstance(components, list) else ():
            if not isinstance(component, dict):
                continue
            autoscaling = component.get("autoscaling")
            name = optional_str(component, "name")
            size = optional_str(component, "instance_size_slug")
            if isinstance(autoscaling, dict) and "instance_count" not in component:
                found.append(ComponentRecord(
                    name, kind, size, None,
                    _count(autoscaling, "min_instance_count"),
                    _count(autoscaling, "max_instance_count"),
                ))
            else:
                # the spec's default is 1 instance
                count = _count(component, "instance_count") if "instance_count" in component else 1
                if count is not None:
                    found.append(ComponentRecord(name, kind, size, count))
    return tuple(found)


def parse_app(app: Mapping[str, Any], where: str) -> AppRecord:
    return AppRecord(
        app_id=required_str(app, "id", where),
        name=optional_str(app, "spec", "name"),
        region=optional_str(app, "region", "slug") or optional_str(app, "spec", "region"),
        tier=optional_str(app, "tier_slug"),
        active_phase=_phase(app.get("active_deployment")),
        in_progress_phase=_phase(app.get("in_progress_deployment")),
        last_deployment_at=_went_live(app),
        last_deployment_created_at=app_time(app, "last_deployment_created_at"),
        created_at=app_time(app, "created_at"),
        updated_at=app_time(app, "updated_at"),
        components=_components(app),
    )


def parse_apps(items: object, where: str = f"{ENDPOINT} {LIST_KEY}") -> tuple[AppRecord, ...]:
    records: list[AppRecord] = []
    for path, app in objects(items, where):
        record = parse_app(app, path)
        records.append(record)
    # sorted; `list_all` already dropped what a shifting list repeated
    return tuple(sorted(records, key=lambda record: record.app_id))


async def fetch(reader: ResourceReader) -> tuple[AppRecord, ...]:
    return await fetch_selected(reader, PollContext())


async def fetch_selected(reader: ResourceReader, context: PollContext) -> tuple[AppRecord, ...]:
    """What the `filter:` keeps (the list takes no filter: applied here)."""
    records = parse_apps(await reader.list_all(ENDPOINT, LIST_KEY))
    return context.selection.keep(records, lambda r: Facts(r.app_id, name=r.name, region=r.region))


def samples(apps: tuple[AppRecord, ...]) -> Iterator[Sample]:
    for a in apps:
        key = (a.app_id,)
        yield INFO.name, (*key, a.name, a.region, a.tier), 1
        if a.active_phase is not None:
            yield from state_set(ACTIVE_STATUS.name, key, a.active_phase, PHASES)
        if a.in_progress_phase is not None:
            yield from state_set(IN_PROGRESS_STATUS.name, key, a.in_progress_phase, PHASES)
        yield from known_values(key, (
            (LAST_DEPLOYMENT, a.last_deployment_at),
            (LAST_DEPLOYMENT_CREATED, a.last_deployment_created_at),
            (CREATED, a.created_at),
            (UPDATED, a.updated_at),
        ))
        for c in a.components:
            component = (*key, c.name)
            yield COMPONENT_INFO.name, (*component, c.type, c.instance_size), 1
            yield from known_values(component, (
                (COMPONENT_INSTANCES, c.instance_count),
                (COMPONENT_MIN_INSTANCES, c.min_instances),
                (COMPONENT_MAX_INSTANCES, c.max_instances),
            ))


COLLECTOR: Collector[tuple[AppRecord, ...]] = Collector(
    name="apps",
    summary="app platform apps: active and in-progress deployment phase, deployment times",
    endpoints=(ENDPOINT,),
    id_label="app_id",
    paged=ENDPOINT,
    scope="app:read",
    interval=60.0,
    families=(INFO, ACTIVE_STATUS, IN_PROGRESS_STATUS, LAST_DEPLOYMENT, LAST_DEPLOYMENT_CREATED,
              CREATED, UPDATED, COMPONENT_INFO, COMPONENT_INSTANCES, COMPONENT_MIN_INSTANCES,
              COMPONENT_MAX_INSTANCES),
    fetch=fetch,
    filters=("region", "name", "id"),
    fetch_with=fetch_selected,
    samples=samples,
)
