"""Droplet backup policies (`/v2/droplets/backups/policies`); the count is how many of the
Droplets with backups are on the daily plan.

The policies are the live Droplets' (a Droplet created or destroyed later shows or leaves at
once): a Droplet with "backups" in its `features` has them enabled, on the weekly plan unless
it is one of the `daily_backups` picked when the fleet was built. The answer is a map keyed by
Droplet id, paged like a list. The window's hour (and a weekly plan's day) is stable per
Droplet; the next window is the next one after the clock. Daily backups are billed at 30 % of
the Droplet's price, weekly ones at 20 % (`ledger.py`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import partial

from exporter.simulator.building import BuildContext, GivenContext, JsonObject, given_item
from exporter.simulator.determinism import stable_int
from exporter.simulator.handling import ApiError, ApiRequest, Caller, Endpoint, FleetView
from exporter.simulator.items import DAY, Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.ledger import DAILY, GIVEN, daily_droplet_ids
from exporter.simulator.objects import ListedObject
from exporter.simulator.paging import PagingError, page_links, parse_paging
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc

WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
HOURS = (0, 4, 8, 12, 16, 20)
WINDOW_HOURS = 4
RETENTION_DAYS = {"daily": 7, "weekly": 28}


def daily_backups(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("daily_backups")


def next_window(droplet_id: int, plan: str, hour: int, weekday: int, now: float) -> JsonObject:
    """The next backup window after `now`: today's or a later day at `hour` (a weekly plan on
    its weekday)."""
    day = int(now) // DAY * DAY
    start = day + hour * 3600
    while start <= now or (plan != DAILY and weekday_of(start) != weekday):
        start += DAY
    return {"start": iso_utc(start), "end": iso_utc(start + WINDOW_HOURS * 3600)}


def weekday_of(moment: int) -> int:
    """0 for Sunday ... 6 for Saturday (1970-01-01 was a Thursday)."""
    return (moment // DAY + 4) % 7


def policy(droplet: ListedObject, daily: frozenset[int], now: float) -> JsonObject:
    droplet_id = int(droplet.id)
    if not droplet.backups:
        return {"droplet_id": droplet_id, "backup_enabled": False}
    plan = DAILY if droplet_id in daily else "weekly"
    hour = HOURS[stable_int("backup-hour", droplet_id) % len(HOURS)]
    weekday = stable_int("backup-day", droplet_id) % 7
    rule: JsonObject = {"plan": plan}
    if plan != DAILY:
        rule["weekday"] = WEEKDAYS[weekday]
    rule.update({"hour": hour, "window_length_hours": WINDOW_HOURS,
                 "retention_period_days": RETENTION_DAYS[plan]})
    return {"droplet_id": droplet_id, "backup_enabled": True, "backup_policy": rule,
            "next_backup_window": next_window(droplet_id, plan, hour, weekday, now)}


def list_policies(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """A map of Droplet id -> policy, paged: `links` and `meta.total` as for a list."""
    items = daily_backups(fleet.resources)
    daily = daily_droplet_ids(items)
    given = {int(item.as_json()["droplet_id"]): item for item in items if item.extra == GIVEN}
    # each entry is encoded only when its page is asked for: a 10,000-Droplet fleet is 50 pages
    entries: list[tuple[int, Callable[[], bytes]]] = [
        (int(d.id), partial(_encoded, d, daily, request.now))
        for d in fleet.droplets if int(d.id) not in given
    ]
    entries += [(droplet_id, partial(item.render, request.now))
                for droplet_id, item in given.items()]
    return policy_page(request, entries)


def _encoded(droplet: ListedObject, daily: frozenset[int], now: float) -> bytes:
    return json.dumps(policy(droplet, daily, now), separators=(",", ":")).encode()


def policy_page(request: ApiRequest, entries: Sequence[tuple[int, Callable[[], bytes]]]) -> bytes:
    try:
        paging = parse_paging(request.query)
    except PagingError as error:
        raise ApiError(400, str(error)) from error
    links = page_links(base_url=request.base_url, path=request.path, query=request.query,
                       paging=paging, total=len(entries))
    chunk = b",".join(b'"%d":' % droplet_id + body() for droplet_id, body in paging.window(entries))
    return b"".join([
        b'{"policies":{', chunk, b'},"links":', json.dumps(links, separators=(",", ":")).encode(),
        b',"meta":{"total":', str(len(entries)).encode(), b"}}",
    ])


def build_daily_backups(context: BuildContext) -> Built:
    """The first `daily_backups` Droplets with backups (by id) are on the daily plan."""
    backed_up = sorted(int(d["id"]) for d in context.droplets if "backups" in d["features"])
    return Built(items=tuple(
        make_item({"droplet_id": droplet_id, "plan": DAILY}, id=droplet_id, extra=DAILY)
        for droplet_id in backed_up[: context.counts.daily_backups]
    ))


def given_daily_backups(context: GivenContext) -> Built:
    return Built(items=tuple(given_item(p, key="droplet_id", extra=GIVEN)
                             for p in context.objects("backup_policies")))


KIND = Kind(
    name="daily_backups",
    routes=(Endpoint("/v2/droplets/backups/policies", "droplet:read", list_policies, paged=True,
                     in_spec=False),),
    # No list endpoint of its own objects: the policies are every Droplet's.
    count=Count(derive=lambda droplets, _: droplets // 20),
    build=build_daily_backups,
    given=given_daily_backups,
    given_keys=("backup_policies",),
)
