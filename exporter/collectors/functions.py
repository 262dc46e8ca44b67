"""Functions namespaces and their triggers: GET /v2/functions/namespaces and
/v2/functions/namespaces/{namespace_id}/triggers (scope function:read, default every 5m).

Each namespace's label and region, and how many triggers of each type it has, enabled or not,
read for the namespaces of the same poll's list (one request per namespace). Neither list
pages. A namespace's `key` (its credential for doctl) and `api_host` are never read, nor a
scheduled trigger's request body.

    digitalocean_functions_namespace_info{account="production",namespace_id="fn-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",label="my namespace",region="nyc1"} 1
    digitalocean_functions_namespace_triggers{account="production",namespace_id="fn-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",type="SCHEDULED",enabled="true"} 1
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import (
    FOLLOW_UP_CONCURRENCY,
    Collector,
    Family,
    PollContext,
    ResourceReader,
    Sample,
    known_values,
)
from exporter.collectors.fields import bool_label, objects, optional_str, required_str, timestamp
from exporter.collectors.relisting import confirm_deleted
from exporter.tasks import all_or_nothing

ENDPOINT = "/v2/functions/namespaces"
TRIGGERS = "/v2/functions/namespaces/{namespace_id}/triggers"

_LABEL = ("namespace_id",)
INFO = Family(
    "digitalocean_functions_namespace_info",
    "Functions namespace descriptive labels (always 1), polled from /v2/functions/namespaces.",
    ("namespace_id", "label", "region"),
)
CREATED = Family(
    "digitalocean_functions_namespace_created_timestamp_seconds",
    "When the Functions namespace was created, polled from /v2/functions/namespaces.",
    _LABEL,
)
TRIGGER_COUNT = Family(
    "digitalocean_functions_namespace_triggers",
    "Triggers of the Functions namespace by type and whether they are enabled, polled from "
    "/v2/functions/namespaces/{namespace_id}/triggers.",
    ("namespace_id", "type", "enabled"),
)


@dataclass(frozen=True, slots=True)
class NamespaceRecord:
    namespace_id: str  # the `namespace` field (fn-...), which the triggers path takes
    label: str
    region: str
    created_at: float | None
    triggers: tuple[tuple[str, str, int], ...] = ()  # (type, enabled, count), sorted


def parse_namespaces(body: object) -> list[NamespaceRecord]:
    where = f"{ENDPOINT} namespaces"
    items = body.get("namespaces") if isinstance(body, dict) else body
    return [
        NamespaceRecord(
            namespace_id=required_str(namespace, "namespace", path),
            label=optional_str(namespace, "label"),
            region=optional_str(namespace, "region"),
            created_at=timestamp(namespace, "created_at"),
        )
        for path, namespace in objects(items, where)
    ]


def count_triggers(body: object, namespace_id: str) -> tuple[tuple[str, str, int], ...]:
    where = f"{TRIGGERS.format(namespace_id=namespace_id)} triggers"
    items = body.get("triggers") if isinstance(body, dict) else body
    counted = Counter((optional_str(trigger, "type"), bool_label(trigger, "is_enabled"))
                      for _, trigger in objects(items, where))
    return tuple(sorted((kind, enabled, n) for (kind, enabled), n in counted.items()))


async def _triggers(reader: ResourceReader, namespace_id: str) -> dict[str, Any] | None:
    # None: the namespace was deleted since the list was read
    return await reader.get_or_none(TRIGGERS, path={"namespace_id": namespace_id})


def selected(namespaces: Sequence[NamespaceRecord], context: PollContext) -> list[NamespaceRecord]:
    return [n for n in namespaces
            if context.selection.matches(object_id=n.namespace_id, name=n.label, region=n.region)]


async def fetch_with(reader: ResourceReader, context: PollContext) -> tuple[NamespaceRecord, ...]:
    namespaces = selected(parse_namespaces(await reader.get(ENDPOINT)), context)
    bodies = await all_or_nothing(
        [_triggers(reader, n.namespace_id) for n in namespaces], limit=FOLLOW_UP_CONCURRENCY)
    gone = [n.namespace_id for n, body in zip(namespaces, bodies, strict=True) if body is None]
    await confirm_deleted(reader, ENDPOINT, "namespaces", "namespace", gone=gone,
                          follow_up=TRIGGERS)
    by_id = {
        n.namespace_id: NamespaceRecord(n.namespace_id, n.label, n.region, n.created_at,
                                        count_triggers(body, n.namespace_id))
        for n, body in zip(namespaces, bodies, strict=True) if body is not None
    }
    return tuple(by_id[key] for key in sorted(by_id))


async def fetch(reader: ResourceReader) -> tuple[NamespaceRecord, ...]:
    return await fetch_with(reader, PollContext())


def samples(namespaces: tuple[NamespaceRecord, ...]) -> Iterator[Sample]:
    for n in namespaces:
        key = (n.namespace_id,)
        yield INFO.name, (*key, n.label, n.region), 1
        yield from known_values(key, ((CREATED, n.created_at),))
        for kind, enabled, count in n.triggers:
            yield TRIGGER_COUNT.name, (*key, kind, enabled), count


COLLECTOR: Collector[tuple[NamespaceRecord, ...]] = Collector(
    name="functions",
    summary="Functions namespaces: label, region, triggers by type and state",
    endpoints=(ENDPOINT, TRIGGERS),
    id_label="namespace_id",
    scope="function:read",
    interval=300.0,
    families=(INFO, CREATED, TRIGGER_COUNT),
    fetch=fetch,
    samples=samples,
    filters=("region", "name", "id"),
    fetch_with=fetch_with,
)
