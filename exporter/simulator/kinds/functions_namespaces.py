"""Functions namespaces (`/v2/functions/namespaces`) and their triggers
(`/v2/functions/namespaces/{namespace_id}/triggers`). Neither list pages.

Namespaces in the account's regions, each with a (fake) `key`, the credential doctl uses, that
the exporter must never copy, and a few scheduled triggers; with problems on, one trigger of
the first namespace is disabled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from exporter.simulator.building import HOUR, BuildContext, GivenContext, JsonObject, given_item, text
from exporter.simulator.handling import ApiError, ApiRequest, Caller, Endpoint, FleetView
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc

FUNCTIONS = ("cleanup", "report", "sync", "notify")


def functions_namespaces(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("functions_namespaces")


def _listing(key: str, items: Sequence[Item], now: float) -> bytes:
    return b'{"' + key.encode() + b'":[' + b",".join(i.render(now) for i in items) + b"]}"


def list_namespaces(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return _listing("namespaces", functions_namespaces(fleet.resources), request.now)


def list_triggers(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    triggers = fleet.resources.related("functions_namespaces", request.path_params["namespace_id"])
    if triggers is None:
        raise ApiError(404)
    return _listing("triggers", triggers, request.now)


def namespace_key(context: BuildContext, index: int) -> str:
    """The fake credential of a namespace: never in the exporter's output."""
    return "sim-fn-key-" + context.uuid("functions_namespace_key", index).replace("-", "")


def build_functions_namespaces(context: BuildContext) -> Built:
    count = context.counts.functions_namespaces
    rng = context.rng("functions_namespaces")
    items: list[Item] = []
    related: dict[str, tuple[Item, ...]] = {}
    for index in range(count):
        uuid = context.uuid("functions_namespace", index)
        namespace = f"fn-{uuid}"
        region = context.region_at(index, vpc=False)
        created = context.created("functions_namespace", index, count)
        label = f"{context.slug}-{FUNCTIONS[index % len(FUNCTIONS)]}"
        body: JsonObject = {
            "api_host": f"https://faas-{region}-{uuid[:8]}.doserverless.co",
            "namespace": namespace,
            "created_at": iso_utc(created),
            "updated_at": iso_utc(created + HOUR),
            "label": label,
            "region": region,
            "uuid": uuid,
            "key": namespace_key(context, index),
        }
        items.append(make_item(body, id=namespace, name=label, region=region))
        triggers = []
        for number in range(1 + rng.randrange(3)):
            function = FUNCTIONS[(index + number) % len(FUNCTIONS)]
            trigger: JsonObject = {
                "namespace": namespace,
                "name": f"{function}-every-{5 * (number + 1)}m",
                "function": function,
                "type": "SCHEDULED",
                "is_enabled": not (context.problems is not False and index == 0 and number == 0),
                "created_at": iso_utc(created + HOUR),
                "updated_at": iso_utc(created + HOUR),
                "scheduled_details": {"cron": f"*/{5 * (number + 1)} * * * *", "body": {}},
                "scheduled_runs": {"last_run_at": iso_utc(created + 2 * HOUR),
                                   "next_run_at": iso_utc(created + 2 * HOUR + 300)},
            }
            triggers.append(make_item(trigger, id=f"{namespace}/{trigger['name']}"))
        related[namespace] = tuple(triggers)
    return Built(items=tuple(items), related=related)


def given_functions_namespaces(context: GivenContext) -> Built:
    """Namespaces as given; `functions_triggers` ({namespace: [...]}) their triggers (none for
    a namespace not named there)."""
    given = context.objects("functions_namespaces")
    triggers: Mapping[str, Sequence[Mapping[str, object]]] = context.value("functions_triggers") or {}
    return Built(
        items=tuple(given_item(n, key="namespace", name=text(n.get("label"))) for n in given),
        related={
            text(n.get("namespace")): tuple(given_item(t, key="name")
                                            for t in triggers.get(text(n.get("namespace")), ()))
            for n in given
        },
    )


KIND = Kind(
    name="functions_namespaces",
    routes=(Endpoint("/v2/functions/namespaces", "function:read", list_namespaces,
                     in_spec=False),
            Endpoint("/v2/functions/namespaces/{namespace_id}/triggers", "function:read",
                     list_triggers, in_spec=False)),
    list_endpoint="/v2/functions/namespaces",
    count=Count(derive=lambda droplets, _: min(2, droplets // 15), problems_minimum=1),
    build=build_functions_namespaces,
    given=given_functions_namespaces,
    given_keys=("functions_namespaces", "functions_triggers"),
    in_state=True,
)
