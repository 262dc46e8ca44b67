"""Uptime checks (`/v2/uptime/checks`) and their state per region.
"""

from __future__ import annotations

from exporter.simulator.building import HOUR, BuildContext, GivenContext, JsonObject, given_item
from exporter.simulator.handling import (
    ApiError,
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
)
from exporter.simulator.items import DAY, Item, Stamp, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.kinds.domains import domain_names
from exporter.simulator.resources import Built, Resources

UPTIME_REGION_SETS = (
    ("us_east", "eu_west"),
    ("us_east", "us_west", "eu_west", "se_asia"),
    ("us_west", "se_asia"),
    ("eu_west", "se_asia", "us_east"),
)


def uptime_checks(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("uptime_checks")


def uptime_state(resources: Resources, check_id: str) -> Item | None:
    state = resources.related("uptime_checks", check_id)
    return state[0] if state else None


def list_uptime_checks(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "checks", uptime_checks(fleet.resources), fleet)


def get_uptime_check_state(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    check_id = request.path_params["check_id"]
    state = uptime_state(fleet.resources, check_id)
    if state is None or fleet.find_uptime_check(check_id) is None:
        raise ApiError(404)
    return state.render(request.now)


def build_uptime_checks(context: BuildContext) -> Built:
    count = context.counts.uptime_checks
    rng = context.rng("uptime")
    down = None
    if context.problems is True:
        down = 1 if count >= 2 else 0
    elif context.problems is None and count >= 3:
        down = 1
    disabled = 3 if context.problems is not False and count >= 4 else None
    load_balancers = context.built("load_balancers").bodies
    zones = domain_names(context) or [f"{context.slug}.example"]
    checks: list[Item] = []
    states: dict[str, Item] = {}
    for index in range(count):
        zone = zones[index % len(zones)]
        kind = ("https", "http", "ping")[index % 3]
        if kind == "ping":
            target = str(load_balancers[0]["ip"]) if load_balancers else "192.0.2.10"
            name = f"ping {target}"
        else:
            target = f"{kind}://{'www.' if kind == 'http' else ''}{zone}/"
            name = f"{zone} {'homepage' if kind == 'https' else 'redirect'}"
        regions = UPTIME_REGION_SETS[index % len(UPTIME_REGION_SETS)]
        check_id = context.uuid("uptime", index)
        body: JsonObject = {
            "id": check_id,
            "name": name,
            "type": kind,
            "target": target,
            "regions": list(regions),
            "enabled": index != disabled,
        }
        checks.append(make_item(body, id=check_id, name=name))
        region_states: JsonObject = {}
        for position, region in enumerate(regions):
            is_down = index == down and position == 0
            changed = -(2 * HOUR + 17 * 60) if is_down else -(
                rng.randrange(3, 60) * DAY + rng.randrange(DAY)
            )
            region_states[region] = {
                "status": "DOWN" if is_down else "UP",
                "status_changed_at": Stamp(changed),
                "thirty_day_uptime_percentage": 97.92 if is_down else round(
                    99.5 + rng.random() * 0.5, 2
                ),
            }
        outage_start = -(rng.randrange(5, 25) * DAY + rng.randrange(DAY))
        state: JsonObject = {
            "state": {
                "regions": region_states,
                "previous_outage": {
                    "region": regions[-1],
                    "started_at": Stamp(outage_start),
                    "ended_at": Stamp(outage_start + 240),
                    "duration_seconds": 240,
                },
            }
        }
        states[check_id] = make_item(
            state, id=check_id, extra="DOWN" if index == down else "UP"
        )
    return Built(
        items=tuple(checks), related={check: (state,) for check, state in states.items()}
    )


def given_uptime_checks(context: GivenContext) -> Built:
    states = context.value("uptime_states") or {}
    return Built(
        items=tuple(given_item(check) for check in context.objects("uptime_checks")),
        related={
            check: (make_item({"state": dict(state.get("state", state))}, id=check),)
            for check, state in states.items()
        },
    )


KIND = Kind(
    name="uptime_checks",
    routes=(
        Endpoint("/v2/uptime/checks", "uptime:read", list_uptime_checks, paged=True),
        Endpoint("/v2/uptime/checks/{check_id}/state", "uptime:read", get_uptime_check_state),
    ),
    list_endpoint="/v2/uptime/checks",
    count=Count(
        derive=lambda droplets, _: min(5, 1 + droplets // 100) if droplets >= 10 else 0,
        problems_minimum=2,
    ),
    build=build_uptime_checks,
    after=("load_balancers",),
    given=given_uptime_checks,
    given_keys=("uptime_checks", "uptime_states"),
    in_state=True,
)
