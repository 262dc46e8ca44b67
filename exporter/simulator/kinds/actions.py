"""Actions (`/v2/actions`): the account's history of changes, newest first.

A generated fleet starts with a history: a completed `create` for every Droplet at its creation
time and a `power_off` for every Droplet that is off; with problems on, the newest Droplet's
last resize errored and a snapshot of it never finishes. Each change of the fleet
(`Fleet.mutate`: Droplets created, destroyed, resized, powered off or on, and resizes that
fail) adds its actions at the head of the list, completed (or errored) at the time of the
change. Ids grow with time, as DigitalOcean's do, and
the list is served newest first, in pages like every list.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from exporter.simulator.building import BuildContext, GivenContext, given_item, unix
from exporter.simulator.handling import ApiRequest, Caller, Endpoint, FleetView, paged_items
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Kind
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc

JsonObject = dict[str, Any]

FIRST_ID = 1_800_000_000
"""Action ids are numbers in the billions (the spec's examples: 36804636, 982864273)."""
ID_STRIDE = 7
TAKES = {"create": 45, "destroy": 10, "resize": 120, "power_off": 15, "power_on": 20}
"""Seconds an action of each type takes from start to end."""


@dataclass(frozen=True)
class Event:
    """One change to record: an action on a Droplet."""

    type: str
    droplet_id: int
    region: JsonObject  # the region object, as actions embed it
    started: float
    status: str = "completed"


def actions(resources: Resources) -> tuple[Item, ...]:
    """The account's actions, newest first."""
    return resources.objects("actions")


def list_actions(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "actions", actions(fleet.resources), fleet)


def action_body(action_id: int, event: Event) -> JsonObject:
    """An action as the API describes it (every documented field, region in full)."""
    ended = event.started + TAKES.get(event.type, 30)
    return {
        "id": action_id,
        "status": event.status,
        "type": event.type,
        "started_at": iso_utc(event.started),
        "completed_at": None if event.status == "in-progress" else iso_utc(ended),
        "resource_id": event.droplet_id,
        "resource_type": "droplet",
        "region": event.region,
        "region_slug": event.region.get("slug"),
    }


def action_items(events: Iterable[Event], first_id: int) -> tuple[Item, ...]:
    """Items of `events` (oldest first) with growing ids from `first_id`, newest first."""
    items = []
    action_id = first_id
    for event in sorted(events, key=lambda e: (e.started, e.droplet_id)):
        items.append(make_item(action_body(action_id, event), id=action_id,
                               created_at=iso_utc(event.started)))
        action_id += ID_STRIDE
    return tuple(reversed(items))


def build_actions(context: BuildContext) -> Built:
    events = []
    droplets: Sequence[JsonObject] = (*context.droplets, *context.gpu_droplets)
    for droplet in droplets:
        created = unix(droplet["created_at"])
        events.append(Event("create", int(droplet["id"]), droplet["region"], created))
        if droplet["status"] == "off":
            events.append(Event("power_off", int(droplet["id"]), droplet["region"],
                                created + 3 * 86_400))
    if context.problems is not False and context.droplets:
        newest = max(context.droplets, key=lambda d: unix(d["created_at"]))
        events.append(Event("resize", int(newest["id"]), newest["region"],
                            unix(newest["created_at"]) + 3600, status="errored"))
        events.append(Event("snapshot", int(newest["id"]), newest["region"],
                            unix(newest["created_at"]) + 7200, status="in-progress"))
    return Built(items=action_items(events, FIRST_ID))


def given_actions(context: GivenContext) -> Built:
    return Built(items=tuple(given_item(a) for a in context.objects("actions")))


def record(resources: Resources, events: Sequence[Event]) -> Resources:
    """`resources` with the actions of `events` (oldest first) at the head of the list."""
    if not events:
        return resources
    current = actions(resources)
    highest = max((int(item.id) for item in current if str(item.id).isdigit()),
                  default=FIRST_ID - ID_STRIDE)
    added = action_items(events, highest + ID_STRIDE)
    kinds = dict(resources.kinds)
    built = kinds.get("actions", Built())
    kinds["actions"] = replace(built, items=(*added, *current))
    return replace(resources, kinds=kinds)


KIND = Kind(
    name="actions",
    routes=(Endpoint("/v2/actions", "actions:read", list_actions, paged=True, in_spec=False),),
    list_endpoint="/v2/actions",
    build=build_actions,
    given=given_actions,
)
