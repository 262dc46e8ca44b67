"""The Monitoring API (`/v2/monitoring/metrics/...`): every one of its 58 metric routes.

Each route answers ONE metric of ONE resource between `start` and `end` (Unix seconds) as a
Prometheus-style matrix, `{"status": "success", "data": {"resultType": "matrix", "result":
[{"metric": {labels}, "values": [[ts, "value"], ...]}]}}`, scope `monitoring:read` (the
spec's `security` for all 58).

Points: every `step` seconds, aligned to multiples of the step, `step = max(60,
ceil((end - start) / 1440 / 60) * 60)` (at most ~1440 points a series: 1-minute resolution up to
a day), only those with `start <= ts <= min(end, now)` and, for a Droplet, from its creation
on. A value is the series' value at `ts`, except bandwidth: the average rate (Mbps) over the
step that ends at `ts`, so `sum(value x step)` integrates the rate. Values are strings
(integers for bytes and counts, at most 6 decimals otherwise); timestamps are integers.

Series are functions of the fleet object and the clock only (sines of Unix time with periods
of a day or less, their parameters drawn from `stable_fraction` of the object's id), with
closed-form integrals, so a day of 1-minute points costs O(points):

* Droplets (`host_id`), only `active` ones (an `off`, `new` or `archive` Droplet, whose agent
  sends nothing, answers an empty `result`): `cpu` is cumulative seconds per mode (idle, iowait,
  irq, nice, softirq, steal, system, user), each only increasing, together `vcpus x` the
  seconds since `created_at`; the non-idle share moves between 5 and 40 % (the busy Droplet:
  90-96 %). `load_1`, `load_5`, `load_15` are `vcpus x` that share averaged over 1, 5 and 15
  minutes. Memory: `memory_total` is the size's memory, and `memory_free <= memory_available
  <= memory_total`, `memory_cached` beside them. Filesystem (`/dev/vda1`, ext4, `/`): `size`
  is the size's disk; `free` stays still, except on the filling Droplet, whose free space
  falls linearly over 20-hour cycles (aligned to multiples of 72000 s of Unix time) from 30 %
  to nothing, then is freed again: whatever the clock, its disk is full within 20 hours.
  `bandwidth` (Mbps) per interface (public, private) and direction (inbound, outbound).
* Load balancers (`lb_id`): frontend series labelled `lb_id` (HTTP responses also `code`:
  2xx, 3xx, 4xx, 5xx), backend (`droplets_*`) series per target Droplet (`lb_id`,
  `droplet_id`; responses also `code`). The failing load balancer has one unhealthy target:
  `droplets_health_checks` 0 (the others 1), no traffic, and `droplets_downtime`
  (cumulative seconds down) rising since a day after the load balancer was created. The
  `frontend_nlb_*` series are empty for the simulator's (`REGIONAL`, HTTP) load balancers.
* Apps (`app_id`, optional `app_component`): one series per instance of each service, worker
  and job (`app_component`, `app_component_instance`, `app_uuid`); `restart_count` is
  cumulative since the app's creation; the restarting app's first component restarts every
  30 minutes, the others never.
* MySQL clusters (`db_id`): the 11 `database/mysql` routes, labelled `db_id` (and `schema`);
  a cluster of another engine is a 404, like an unknown id; a schema the cluster does not have
  answers an empty `result`. `aggregate`: min/avg/max of the cluster's nodes.
* Autoscale pools (`autoscale_pool_id`): current/target instances (the pool's
  `active_resources_count`; target: `config.target_number_instances` or the current count),
  CPU and memory utilisation as the pool object's fractions (`current_utilization`, moving a
  little around it; targets from `config`, empty where the config has none).

Who is what (`MonitoringPlan`, built with the fleet; `monitoring_plan(resources)`): among
the active Droplets that are not Kubernetes nodes, the busy one prefers the `worker` role tag,
the heavy one `web` and the filling one `db` (by id otherwise). The heavy Droplet's public
outbound rate averages 1.25 x the account's pooled transfer allowance over 28 days, the pool
taken at its largest (every Droplet, archived ones too, its `size.transfer` for a whole month,
read as TiB: more than DigitalOcean's TB of 1,000 GiB), so its month-to-date outbound transfer
(`public_outbound_month_to_date_bytes`) exceeds the pool by the end of any month, however the
pool is prorated. The failing
load balancer is the `errored` one (else the first with two targets), its last target the
unhealthy one; the restarting app is the one whose deployment failed (the second, else the
first). As with the other alert-worthy states (`FleetSpec.problems`): `true` all of them,
`false` none, null from 10 Droplets (3 load balancers, 3 apps) up. Fleets given verbatim
(`Fleet.from_objects`) have none. In the demo: production's busy Droplet is
`worker-sfo3-00009`, the heavy one `web-tor1-00028`, the filling one `db-fra1-00008`, the
failing load balancer `db-fra1-lb-02`; staging (`problems: false`) has none.

Unknown ids (and non-MySQL clusters) answer 404 `not_found` (the spec lists 404 for the
database routes; for the others the real answer to a missing resource is unconfirmed, and
404 fits their `default` error response). A missing required parameter, a `start`/`end`
that is not a Unix time, an `end` before `start` or a value outside a parameter's enum is a
400 (`bad_request`). Label names beyond those the spec's examples show (`host_id`, `mode`,
`interface`, `direction`, `device`, `fstype`, `mountpoint`, `app_component`,
`app_component_instance`, `app_uuid`) are the simulator's choice.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from functools import cache, partial
from typing import Any

from exporter.simulator.building import BuildContext, unix
from exporter.simulator.determinism import stable_fraction
from exporter.simulator.handling import ApiError, ApiRequest, Caller, Endpoint, FleetView, single
from exporter.simulator.items import DAY, make_item
from exporter.simulator.kind import Kind
from exporter.simulator.resources import Built, Resources

JsonObject = dict[str, Any]
SCOPE = "monitoring:read"
PREFIX = "/v2/monitoring/metrics/"
TAU = 2 * math.pi
MEBIBYTE = 2**20
GIBIBYTE = 2**30
TEBIBYTE = 2**40
BYTES_PER_MEGABIT = 125_000
FILL_CYCLE = 72_000
"""The filling Droplet's disk fills over 20 hours, then is freed (aligned to Unix time)."""
FILL_START_SHARE = 0.3
MONTH_FLOOR = 28 * DAY
"""The shortest month: the heavy Droplet outgrows the pool in any month."""
HEAVY_OVER_POOL = 1.25
RESTART_EVERY = 1800
CPU_MODES = (
    ("idle", 0.0),
    ("iowait", 0.04),
    ("irq", 0.005),
    ("nice", 0.01),
    ("softirq", 0.02),
    ("steal", 0.055),
    ("system", 0.17),
    ("user", 0.70),
)
"""Each mode's part of the non-idle time (idle is the rest), alphabetical as the API lists them."""
IN_SUBSET = frozenset(
    PREFIX + name for name in ("droplet/cpu", "droplet/bandwidth", "droplet/memory_total",
                               "droplet/memory_available")
)
"""The four monitoring routes the vendored spec subset describes (all 58 are in the full one)."""


@dataclass(frozen=True, slots=True)
class Wave:
    """`mean x (1 + amplitude x sin(2 pi t / period + phase))`, with its exact integral."""

    mean: float
    amplitude: float
    period: float
    phase: float

    def at(self, t: float) -> float:
        return self.mean * (1 + self.amplitude * math.sin(TAU * t / self.period + self.phase))

    def integral(self, t0: float, t1: float) -> float:
        """The integral from t0 to t1 (0 when t1 <= t0)."""
        if t1 <= t0:
            return 0.0
        k = self.period / TAU
        turn = math.cos(TAU * t1 / self.period + self.phase) - math.cos(
            TAU * t0 / self.period + self.phase
        )
        return self.mean * ((t1 - t0) - self.amplitude * k * turn)

    def average(self, t0: float, t1: float) -> float:
        return self.integral(t0, t1) / (t1 - t0)


def wave(key: object, name: str, low: float, high: float, amplitude: float, *,
         period: float = DAY) -> Wave:
    """A wave whose mean lies in [low, high), its phase and mean drawn from `key` and `name`."""
    mean = low + (high - low) * stable_fraction("monitoring", key, name, "mean")
    return Wave(mean, amplitude, period, TAU * stable_fraction("monitoring", key, name, "phase"))


@dataclass(frozen=True)
class MonitoringPlan:
    """Which objects of a fleet carry the alert-worthy behaviours (see the module docstring)."""

    busy: int | None = None
    heavy: int | None = None
    filling: int | None = None
    heavy_mbps: float = 0.0
    """The heavy Droplet's mean public outbound rate."""
    failing_load_balancer: str | None = None
    unhealthy_droplet: int | None = None
    restarting_app: str | None = None


NO_PLAN = MonitoringPlan()


def monitoring_plan(resources: Resources) -> MonitoringPlan:
    for item in resources.objects("monitoring"):
        if isinstance(item.extra, MonitoringPlan):
            return item.extra
    return NO_PLAN


def pooled_transfer_bytes(droplets: Sequence[Mapping[str, Any]]) -> float:
    """Every Droplet's `size.transfer` (TiB) for a whole month: the largest pool it can be."""
    return sum(
        float((d.get("size") or {}).get("transfer") or 0) * TEBIBYTE for d in droplets
    )


def pick(candidates: Sequence[Mapping[str, Any]], tag: str, taken: set[int]) -> int | None:
    free = [d for d in candidates if d["id"] not in taken]
    preferred = [d for d in free if tag in (d.get("tags") or ())]
    chosen = preferred or free
    return int(chosen[0]["id"]) if chosen else None


def build_monitoring(context: BuildContext) -> Built:
    droplets = len(context.droplets)
    enabled = context.problems is True or (context.problems is None and droplets >= 10)
    plan = MonitoringPlan()
    if enabled:
        candidates = sorted(
            (d for d in context.serving() if d["status"] == "active"), key=lambda d: int(d["id"])
        )
        taken: set[int] = set()
        roles: dict[str, int | None] = {}
        for role, tag in (("busy", "worker"), ("heavy", "web"), ("filling", "db")):
            chosen = pick(candidates, tag, taken)
            roles[role] = chosen
            taken.update(() if chosen is None else (chosen,))
        pool = pooled_transfer_bytes([*context.droplets, *context.gpu_droplets])
        heavy_mbps = HEAVY_OVER_POOL * pool / BYTES_PER_MEGABIT / MONTH_FLOOR
        plan = MonitoringPlan(busy=roles["busy"], heavy=roles["heavy"],
                              filling=roles["filling"], heavy_mbps=heavy_mbps)
    load_balancers = context.built("load_balancers").bodies
    if context.problems is True or (context.problems is None and len(load_balancers) >= 3):
        failing = next((lb for lb in load_balancers if lb["status"] == "errored"), None)
        failing = failing or next((lb for lb in load_balancers if len(lb["droplet_ids"]) >= 2),
                                  None)
        if failing is not None and failing["droplet_ids"]:
            plan = replace(plan, failing_load_balancer=failing["id"],
                           unhealthy_droplet=int(failing["droplet_ids"][-1]))
    apps = context.built("apps").bodies
    if apps and (context.problems is True or (context.problems is None and len(apps) >= 3)):
        restarting = apps[1] if len(apps) >= 2 else apps[0]
        plan = replace(plan, restarting_app=restarting["id"])
    summary = {k: v for k, v in asdict(plan).items() if v is not None}
    return Built(items=(make_item(summary, id="plan", extra=plan),))


# --- the answer ---------------------------------------------------------------------------

Labels = dict[str, str]
Value = Callable[[int], float | None]
"""A series' value at a point (None: no point there)."""


@dataclass(frozen=True)
class Series:
    labels: Labels
    value: Value
    integer: bool = False
    since: float = 0.0
    """No points before this time (a Droplet's creation)."""


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    now: float

    @property
    def step(self) -> int:
        return max(60, math.ceil((self.end - self.start) / 1440 / 60) * 60)

    def times(self, since: float = 0.0) -> range:
        step = self.step
        first = math.ceil(max(self.start, since) / step) * step
        last = math.floor(min(self.end, self.now))
        return range(first, last + 1, step)


def created_of(value: Mapping[str, Any]) -> float:
    """An object's `created_at` in Unix seconds; 0 (always there) when it has none."""
    try:
        return float(unix(str(value.get("created_at"))))
    except ValueError:
        return 0.0


def number(value: float, integer: bool) -> str:
    if integer:
        return str(int(value))
    text = f"{round(value, 6):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def matrix(series: Sequence[Series], window: Window) -> bytes:
    result = []
    for one in series:
        values = []
        for ts in window.times(one.since):
            value = one.value(ts)
            if value is not None:
                values.append([ts, number(value, one.integer)])
        result.append({"metric": one.labels, "values": values})
    body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
    return json.dumps(body, separators=(",", ":")).encode()


UNIX_TIME = re.compile(r"^[0-9]{1,12}(\.[0-9]+)?$")


def required(request: ApiRequest, name: str) -> str:
    value = single(request.query, name)
    if value is None or value == "":
        raise ApiError(400, f"{name} is required")
    return value


def one_of(request: ApiRequest, name: str, allowed: Sequence[str]) -> str:
    value = required(request, name)
    if value not in allowed:
        raise ApiError(400, f"{name} must be one of {', '.join(allowed)}")
    return value


def window_of(request: ApiRequest) -> Window:
    start, end = required(request, "start"), required(request, "end")
    for name, value in (("start", start), ("end", end)):
        if not UNIX_TIME.match(value):
            raise ApiError(400, f"{name} must be a Unix timestamp")
    if float(end) < float(start):
        raise ApiError(400, "end must not be before start")
    return Window(float(start), float(end), request.now)


# --- Droplets -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DropletProfile:
    """One Droplet's series parameters."""

    id: int
    vcpus: int
    memory_bytes: int
    disk_bytes: int
    created: float
    busy: Wave
    """The non-idle share of its CPU time."""
    used: Wave
    """Memory in use (not reclaimable), as a share of the total."""
    cached: Wave
    free_disk_share: float
    filling: bool
    bandwidth: Mapping[tuple[str, str], tuple[Wave, Wave]]
    """(interface, direction): a daily and an hourly wave, in Mbps; their sum is the rate."""


def droplet_profile(droplet: Mapping[str, Any], plan: MonitoringPlan) -> DropletProfile:
    key = droplet["id"]
    busy = (wave(key, "busy", 0.93, 0.94, 0.03) if key == plan.busy
            else wave(key, "busy", 0.07, 0.32, 0.25))
    bandwidth: dict[tuple[str, str], tuple[Wave, Wave]] = {}
    ranges = {("public", "inbound"): (0.2, 5.0), ("public", "outbound"): (0.5, 20.0),
              ("private", "inbound"): (0.1, 10.0), ("private", "outbound"): (0.1, 10.0)}
    for (interface, direction), (low, high) in ranges.items():
        name = f"{interface}-{direction}"
        daily, hourly = wave(key, name, low, high, 0.8), wave(key, name + "-h", 0, 1, 0.3, period=3700)
        if key == plan.heavy and (interface, direction) == ("public", "outbound"):
            daily = Wave(plan.heavy_mbps, 0.8, DAY, daily.phase)
        # half the mean in each wave: the rate stays above 45 % of the mean
        bandwidth[(interface, direction)] = (
            Wave(daily.mean / 2, daily.amplitude, daily.period, daily.phase),
            Wave(daily.mean / 2, hourly.amplitude, hourly.period, hourly.phase),
        )
    return DropletProfile(
        id=int(key),
        vcpus=int(droplet.get("vcpus") or 1),
        memory_bytes=int(droplet.get("memory") or 0) * MEBIBYTE,
        disk_bytes=int(droplet.get("disk") or 0) * GIBIBYTE,
        created=created_of(droplet),
        busy=busy,
        used=wave(key, "memory", 0.25, 0.6, 0.1),
        cached=wave(key, "cached", 0.08, 0.2, 0.1, period=6 * 3600),
        free_disk_share=0.4 + 0.45 * stable_fraction("monitoring", key, "disk"),
        filling=key == plan.filling,
        bandwidth=bandwidth,
    )


def cpu_series(profile: DropletProfile, host: Labels) -> list[Series]:
    """Cumulative seconds per mode; the busy time at a point is worked out once for all modes."""

    @cache
    def busy(t: int) -> float:
        return profile.vcpus * profile.busy.integral(profile.created, t)

    def seconds(mode: str, share: float, t: int) -> float:
        if mode == "idle":
            return profile.vcpus * (t - profile.created) - busy(t)
        return share * busy(t)

    return [
        Series({**host, "mode": mode}, partial(seconds, mode, share), since=profile.created)
        for mode, share in CPU_MODES
    ]


def load(profile: DropletProfile, minutes: int, t: float) -> float:
    return profile.vcpus * profile.busy.average(t - 60 * minutes, t)


def memory(profile: DropletProfile, which: str, t: float) -> float:
    total = profile.memory_bytes
    page = 4096
    available = (total * (1 - profile.used.at(t))) // page * page
    cached = (total * profile.cached.at(t)) // page * page
    free = min(available, (available - 0.85 * cached) // page * page)
    return {"total": total, "available": available, "free": free, "cached": cached}[which]


def filesystem_free(profile: DropletProfile, t: float) -> float:
    if profile.filling:
        left = 1 - (t % FILL_CYCLE) / FILL_CYCLE
        return (profile.disk_bytes * FILL_START_SHARE * left) // 4096 * 4096
    return (profile.disk_bytes * profile.free_disk_share) // 4096 * 4096


def rate_integral(profile: DropletProfile, interface: str, direction: str,
                  t0: float, t1: float) -> float:
    """Megabits sent from t0 to t1 (nothing before the Droplet existed)."""
    t0 = max(t0, profile.created)
    return sum(w.integral(t0, t1) for w in profile.bandwidth[(interface, direction)])


def month_start(at: float) -> float:
    moment = datetime.fromtimestamp(at, UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC).timestamp()


def month_end(at: float) -> float:
    moment = datetime.fromtimestamp(at, UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return datetime(year, month, 1, tzinfo=UTC).timestamp()


def public_outbound_month_to_date_bytes(fleet: FleetView, droplet_id: int, at: float) -> float:
    """The Droplet's public outbound transfer from 00:00 UTC on the 1st of `at`'s month to `at`,
    in bytes: the exact integral of the rate its bandwidth series sample (the simulator's own
    computation, for tests)."""
    listed = fleet.find_droplet(droplet_id)
    if listed is None:
        raise KeyError(droplet_id)
    profile = droplet_profile(listed.as_json(), monitoring_plan(fleet.resources))
    return rate_integral(profile, "public", "outbound", month_start(at), at) * BYTES_PER_MEGABIT


def droplet_of(request: ApiRequest, fleet: FleetView) -> JsonObject:
    host = required(request, "host_id")
    listed = fleet.find_droplet(int(host)) if host.isdigit() else None
    if listed is None:
        raise ApiError(404)
    return listed.as_json()


def droplet_series(
    request: ApiRequest, fleet: FleetView, metric: str, window: Window
) -> list[Series]:
    interface = direction = ""
    if metric == "bandwidth":
        interface = one_of(request, "interface", ("private", "public"))
        direction = one_of(request, "direction", ("inbound", "outbound"))
    droplet = droplet_of(request, fleet)
    if droplet.get("status") != "active":
        return []
    profile = droplet_profile(droplet, monitoring_plan(fleet.resources))
    host = {"host_id": str(profile.id)}
    since = profile.created
    if metric == "cpu":
        return cpu_series(profile, host)
    if metric.startswith("load_"):
        minutes = int(metric.removeprefix("load_"))
        return [Series(host, lambda t: load(profile, minutes, t), since=since)]
    if metric.startswith("memory_"):
        which = metric.removeprefix("memory_")
        return [Series(host, lambda t: memory(profile, which, t), integer=True, since=since)]
    if metric.startswith("filesystem_"):
        labels = {"device": "/dev/vda1", "fstype": "ext4", **host, "mountpoint": "/"}
        if metric == "filesystem_size":
            return [Series(labels, lambda t: profile.disk_bytes, integer=True, since=since)]
        return [Series(labels, lambda t: filesystem_free(profile, t), integer=True, since=since)]
    step = window.step
    return [Series(
        {"direction": direction, **host, "interface": interface},
        lambda t: rate_integral(profile, interface, direction, t - step, t) / step,
        since=since,
    )]


# --- load balancers -----------------------------------------------------------------------

CODES = (("2xx", 0.93), ("3xx", 0.03), ("4xx", 0.035), ("5xx", 0.005))
FAILING_CODES = (("2xx", 0.90), ("3xx", 0.03), ("4xx", 0.03), ("5xx", 0.04))
QUANTILES = {"50p": 1.0, "95p": 3.0, "99p": 6.0, "avg": 1.4}


@dataclass(frozen=True)
class Balancer:
    """One load balancer as its series see it."""

    id: str
    created: float
    units: int
    https: bool
    failing: bool
    targets: tuple[int, ...]
    healthy: tuple[int, ...]
    rps: Wave

    @property
    def labels(self) -> Labels:
        return {"lb_id": self.id}

    @property
    def codes(self) -> tuple[tuple[str, float], ...]:
        return FAILING_CODES if self.failing else CODES

    def key(self, *parts: object) -> str:
        return ":".join(("lb", self.id, *map(str, parts)))

    def share(self, droplet: int, t: float) -> float:
        """The requests per second that reach one target."""
        return self.rps.at(t) / len(self.healthy) if droplet in self.healthy else 0.0

    def frontend(self, value: Value, *, integer: bool = False) -> list[Series]:
        return [Series(self.labels, value, integer=integer, since=self.created)]

    def per_target(self, value: Callable[[int, int], float], *, every: bool = True,
                   integer: bool = False) -> list[Series]:
        """One series per target (`every`) or per healthy target."""
        return [
            Series({**self.labels, "droplet_id": str(d)}, partial(value, d), integer=integer,
                   since=self.created)
            for d in (self.targets if every else self.healthy)
        ]


def balancer_of(request: ApiRequest, fleet: FleetView) -> Balancer:
    lb_id = required(request, "lb_id")
    found = next((i for i in fleet.resources.objects("load_balancers") if i.id == lb_id), None)
    if found is None:
        raise ApiError(404)
    lb = found.as_json(request.now, fleet.droplet_lookup)
    plan = monitoring_plan(fleet.resources)
    failing = lb_id == plan.failing_load_balancer
    targets = tuple(int(d) for d in lb.get("droplet_ids") or () if fleet.find_droplet(int(d)))
    return Balancer(
        id=lb_id,
        created=created_of(lb),
        units=int(lb.get("size_unit") or 1),
        https=any(r.get("entry_protocol") == "https" for r in lb.get("forwarding_rules") or ()),
        failing=failing,
        targets=targets,
        healthy=tuple(d for d in targets if not (failing and d == plan.unhealthy_droplet)),
        rps=wave(f"lb:{lb_id}", "rps", 20, 200, 0.5),
    )


def frontend_responses(lb: Balancer) -> list[Series]:
    def rate(part: float, t: int) -> float:
        return part * lb.rps.at(t)

    return [Series({**lb.labels, "code": code}, partial(rate, part), since=lb.created)
            for code, part in lb.codes]


def backend_responses(lb: Balancer) -> list[Series]:
    def rate(droplet: int, part: float, t: int) -> float:
        return part * lb.share(droplet, t)

    return [Series({**lb.labels, "droplet_id": str(d), "code": code}, partial(rate, d, part),
                   since=lb.created)
            for d in lb.targets for code, part in lb.codes]


def downtime(lb: Balancer) -> list[Series]:
    """Cumulative seconds down: the unhealthy target's since a day after the LB was created."""
    down_since = lb.created + DAY

    def seconds(droplet: int, t: int) -> float:
        return 0.0 if droplet in lb.healthy else max(0.0, t - down_since)

    return lb.per_target(seconds, integer=True)


def backend_timing(lb: Balancer, what: str, low: float, high: float, quantile: str) -> list[Series]:
    """Response times or session durations (seconds) of the healthy targets."""

    shapes = {d: wave(lb.key(what, d), what, low, high, 0.3) for d in lb.healthy}

    def seconds(droplet: int, t: int) -> float:
        return QUANTILES[quantile] * shapes[droplet].at(t)

    return lb.per_target(seconds, every=False)


def dropped(lb: Balancer, per: float) -> list[Series]:
    """Firewall drops: bytes per second, or packets (`per` bytes each)."""
    shape = wave(lb.key("dropped"), "dropped", 100, 2000, 0.5)
    return lb.frontend(lambda t: shape.at(t) / per)


BALANCER_METRICS: Mapping[str, Callable[[Balancer], list[Series]]] = {
    "frontend_http_requests_per_second": lambda lb: lb.frontend(lb.rps.at),
    "frontend_http_responses": frontend_responses,
    "frontend_connections_current": lambda lb: lb.frontend(
        lambda t: round(2.5 * lb.rps.at(t)), integer=True),
    "frontend_connections_limit": lambda lb: lb.frontend(
        lambda t: 10_000 * lb.units, integer=True),
    "frontend_tls_connections_current": lambda lb: lb.frontend(
        lambda t: 0.4 * lb.rps.at(t) if lb.https else 0.0),
    "frontend_tls_connections_limit": lambda lb: lb.frontend(
        lambda t: 250 * lb.units, integer=True),
    "frontend_tls_connections_exceeding_rate_limit": lambda lb: lb.frontend(lambda t: 0.0),
    "frontend_cpu_utilization": lambda lb: lb.frontend(
        wave(lb.key("cpu"), "cpu", 5, 40, 0.3).at),
    "frontend_firewall_dropped_bytes": partial(dropped, per=1.0),
    "frontend_firewall_dropped_packets": partial(dropped, per=60.0),
    "frontend_network_throughput_http": lambda lb: lb.frontend(
        lambda t: 15_000 * lb.rps.at(t)),
    "frontend_network_throughput_tcp": lambda lb: lb.frontend(
        lambda t: 15_000 * lb.rps.at(t)),
    "frontend_network_throughput_udp": lambda lb: lb.frontend(lambda t: 0.0),
    "frontend_nlb_tcp_network_throughput": lambda lb: [],
    "frontend_nlb_udp_network_throughput": lambda lb: [],
    "droplets_health_checks": lambda lb: lb.per_target(
        lambda d, t: float(d in lb.healthy), integer=True),
    "droplets_downtime": downtime,
    "droplets_connections": lambda lb: lb.per_target(
        lambda d, t: round(2.5 * lb.share(d, t)), integer=True),
    "droplets_http_responses": backend_responses,
    "droplets_queue_size": lambda lb: lb.per_target(
        lambda d, t: 3.0 if lb.failing else 0.0, every=False, integer=True),
    **{f"droplets_http_response_time_{q}": partial(
        backend_timing, what="latency", low=0.02, high=0.08, quantile=q)
       for q in ("50p", "95p", "99p", "avg")},
    **{f"droplets_http_session_duration_{q}": partial(
        backend_timing, what="session", low=1.0, high=5.0, quantile=q)
       for q in ("50p", "95p", "avg")},
}


def load_balancer_series(
    request: ApiRequest, fleet: FleetView, metric: str, window: Window
) -> list[Series]:
    return BALANCER_METRICS[metric](balancer_of(request, fleet))


# --- apps ---------------------------------------------------------------------------------

COMPONENT_KINDS = ("services", "workers", "jobs")


def restarts(since: float, every: float, t: int) -> float:
    return (t - since) // every


def app_series(
    request: ApiRequest, fleet: FleetView, metric: str, window: Window
) -> list[Series]:
    app_id = required(request, "app_id")
    asked = single(request.query, "app_component")
    found = next((i for i in fleet.resources.objects("apps") if i.id == app_id), None)
    if found is None:
        raise ApiError(404)
    app = found.as_json(request.now, fleet.droplet_lookup)
    created = created_of(app)
    restarting = app_id == monitoring_plan(fleet.resources).restarting_app
    out: list[Series] = []
    first = True
    for kind in COMPONENT_KINDS:
        for component in (app.get("spec") or {}).get(kind) or ():
            name = str(component.get("name"))
            scaling = component.get("autoscaling") or {}
            count = int(component.get("instance_count") or scaling.get("min_instance_count") or 1)
            crashing = restarting and first
            first = False
            if asked and asked != name:
                continue
            for index in range(count):
                instance = f"{name}-{index}"
                labels = {"app_component": name, "app_component_instance": instance,
                          "app_uuid": app_id}
                key = f"app:{app_id}:{instance}"
                if metric == "restart_count":
                    every = RESTART_EVERY if crashing else math.inf
                    out.append(Series(labels, partial(restarts, created, every),
                                      integer=True, since=created))
                    continue
                low, high = (5, 60) if metric == "cpu_percentage" else (20, 70)
                out.append(Series(labels, wave(key, metric, low, high, 0.2).at, since=created))
    return out


# --- MySQL --------------------------------------------------------------------------------

AGGREGATES = {"min": 0.85, "avg": 1.0, "max": 1.2}


def database_series(
    request: ApiRequest, fleet: FleetView, metric: str, window: Window
) -> list[Series]:
    aggregate = "avg"
    choice = ""
    schema = ""
    if metric in ("cpu_usage", "disk_usage", "memory_usage"):
        aggregate = one_of(request, "aggregate", ("avg", "max", "min"))
    elif metric == "load":
        choice = one_of(request, "metric", ("load1", "load5", "load15"))
        aggregate = one_of(request, "aggregate", ("avg", "max"))
    elif metric == "op_rates":
        choice = one_of(request, "metric", ("select", "insert", "update", "delete"))
    elif metric.startswith("schema_"):
        schema = required(request, "schema")
        choice = one_of(request, "metric", ("insert", "fetch", "update", "delete"))
    db_id = required(request, "db_id")
    found = next((i for i in fleet.resources.objects("databases") if i.id == db_id), None)
    db = None if found is None else found.as_json(request.now)
    if db is None or db.get("engine") != "mysql":
        raise ApiError(404)
    created = created_of(db)
    labels = {"db_id": db_id}
    key = f"db:{db_id}"
    factor = AGGREGATES[aggregate]
    if schema:
        if schema not in (db.get("db_names") or ("defaultdb",)):
            return []
        labels["schema"] = schema
    vcpus = int(m.group(1)) if (m := re.search(r"(\d+)vcpu", str(db.get("size")))) else 1
    ranges: dict[str, tuple[float, float, float]] = {
        "cpu_usage": (10, 50, 0.3), "disk_usage": (30, 70, 0.02), "memory_usage": (40, 80, 0.1),
        "index_vs_sequential_reads": (85, 99, 0.01), "threads_active": (1, 8, 0.4),
        "threads_connected": (10, 60, 0.3), "threads_created_rate": (0.05, 0.5, 0.4),
    }
    op_ranges = {"select": (100, 800), "insert": (10, 80), "update": (5, 50), "delete": (1, 10),
                 "fetch": (100, 800)}
    integer = metric in ("threads_active", "threads_connected")
    if metric in ranges:
        low, high, amplitude = ranges[metric]
        shape = wave(key, metric, low, high, amplitude)
        cap = 100.0 if metric.endswith(("_usage", "_reads")) else math.inf
        if integer:
            return [Series(labels, lambda t: round(shape.at(t)), integer=True, since=created)]
        return [Series(labels, lambda t: min(cap, factor * shape.at(t)), since=created)]
    if metric == "load":
        minutes = int(choice.removeprefix("load"))
        busy = wave(key, "load", 0.1, 0.5, 0.3)
        return [Series(labels, lambda t: factor * vcpus * busy.average(t - 60 * minutes, t),
                       since=created)]
    low, high = op_ranges[choice]
    if metric == "op_rates":
        return [Series(labels, wave(key, f"op:{choice}", low, high, 0.5).at, since=created)]
    if metric == "schema_throughput":
        return [Series(labels, wave(key, f"rows:{schema}:{choice}", low, high, 0.5).at,
                       since=created)]
    latency = wave(key, f"latency:{schema}:{choice}", 0.0005, 0.005, 0.3)
    return [Series(labels, latency.at, since=created)]


# --- autoscale pools ----------------------------------------------------------------------


def autoscale_series(
    request: ApiRequest, fleet: FleetView, metric: str, window: Window
) -> list[Series]:
    pool_id = required(request, "autoscale_pool_id")
    found = next((i for i in fleet.resources.objects("autoscale_pools") if i.id == pool_id),
                 None)
    if found is None:
        raise ApiError(404)
    pool = found.as_json(request.now)
    created = created_of(pool)
    config = pool.get("config") or {}
    current = int(pool.get("active_resources_count") or 0)
    utilization = pool.get("current_utilization") or {}
    labels = {"autoscale_pool_id": pool_id}
    key = f"pool:{pool_id}"

    def constant(value: float, integer: bool = False) -> list[Series]:
        return [Series(labels, lambda t: value, integer=integer, since=created)]

    if metric == "current_instances":
        return constant(current, integer=True)
    if metric == "target_instances":
        return constant(int(config.get("target_number_instances") or current), integer=True)
    resource = "cpu" if "cpu" in metric else "memory"
    if metric.startswith("target_"):
        target = config.get(f"target_{resource}_utilization")
        return [] if target is None else constant(float(target))
    centre = float(utilization.get(resource) or 0.0)
    moving = Wave(centre, 0.03, 3600, TAU * stable_fraction("monitoring", key, resource))
    return [Series(labels, lambda t: min(1.0, moving.at(t)), since=created)]


# --- routes -------------------------------------------------------------------------------

Family = Callable[[ApiRequest, FleetView, str, Window], list[Series]]
FAMILIES: tuple[tuple[str, Family, tuple[str, ...]], ...] = (
    ("droplet/", droplet_series, (
        "bandwidth", "cpu", "filesystem_free", "filesystem_size", "load_1", "load_15", "load_5",
        "memory_available", "memory_cached", "memory_free", "memory_total",
    )),
    ("droplet_autoscale/", autoscale_series, (
        "current_cpu_utilization", "current_instances", "current_memory_utilization",
        "target_cpu_utilization", "target_instances", "target_memory_utilization",
    )),
    ("load_balancer/", load_balancer_series, (
        "droplets_connections", "droplets_downtime", "droplets_health_checks",
        "droplets_http_response_time_50p", "droplets_http_response_time_95p",
        "droplets_http_response_time_99p", "droplets_http_response_time_avg",
        "droplets_http_responses", "droplets_http_session_duration_50p",
        "droplets_http_session_duration_95p", "droplets_http_session_duration_avg",
        "droplets_queue_size", "frontend_connections_current", "frontend_connections_limit",
        "frontend_cpu_utilization", "frontend_firewall_dropped_bytes",
        "frontend_firewall_dropped_packets", "frontend_http_requests_per_second",
        "frontend_http_responses", "frontend_network_throughput_http",
        "frontend_network_throughput_tcp", "frontend_network_throughput_udp",
        "frontend_nlb_tcp_network_throughput", "frontend_nlb_udp_network_throughput",
        "frontend_tls_connections_current", "frontend_tls_connections_exceeding_rate_limit",
        "frontend_tls_connections_limit",
    )),
    ("apps/", app_series, ("cpu_percentage", "memory_percentage", "restart_count")),
    ("database/mysql/", database_series, (
        "cpu_usage", "disk_usage", "index_vs_sequential_reads", "load", "memory_usage",
        "op_rates", "schema_latency", "schema_throughput", "threads_active",
        "threads_connected", "threads_created_rate",
    )),
)


def handler_for(family: Family, metric: str) -> Callable[[ApiRequest, FleetView, Caller], bytes]:
    def handle(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
        window = window_of(request)
        return matrix(family(request, fleet, metric, window), window)

    return handle


def routes() -> Iterator[Endpoint]:
    for folder, family, metrics in FAMILIES:
        for metric in metrics:
            template = PREFIX + folder + metric
            yield Endpoint(template, SCOPE, handler_for(family, metric),
                           in_spec=template in IN_SUBSET)


ROUTES: tuple[Endpoint, ...] = tuple(routes())

KIND = Kind(
    name="monitoring",
    routes=ROUTES,
    build=build_monitoring,
    after=("load_balancers", "apps"),
)
