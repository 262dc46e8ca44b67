"""What the Monitoring API collectors share (not a collector itself): reading one metric of one
resource, parsing the Prometheus-style matrix it answers with, picking the newest point of each
series, integrating a bandwidth series, choosing resources by the config's `filter:`, and
counting the requests a poll will make before it runs.

Every /v2/monitoring/metrics/... endpoint (scope monitoring:read) answers one metric of one
resource between `start` and `end` (unix seconds):
`{"status": "success", "data": {"resultType": "matrix", "result": [{"metric": {...},
"values": [[ts, "value"], ...]}]}}`. The envelope is identity (a wrong one fails the poll with
a ShapeError naming the place); each point is read leniently: a point whose value is not a
finite number (`"NaN"`, `"+Inf"`, garbage) is skipped, never exported.

The resources come from the inventory collector named in `Collector.inputs` (its last good
records, `PollContext.inputs`), never from another list request. A resource deleted between
the inventory and the metric read (404) is left out of that poll.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from exporter.collectors.base import (
    Collector,
    Facts,
    Family,
    PollContext,
    ResourceReader,
    Sample,
)
from exporter.collectors.fields import ShapeError, as_object, describe
from exporter.tasks import all_or_nothing

R = TypeVar("R")

SCOPE = "monitoring:read"
INTERVAL = 300.0
WINDOW = 600  # seconds read back for the newest point: DigitalOcean's data is a minute or more late
LIMIT = 8  # requests of one poll in flight at once (the reader applies the budget to each)
MEGABIT_BYTES = 1e6 / 8  # the bandwidth endpoint answers in megabits per second
PERCENT = 0.01  # DigitalOcean's percentages become ratios (0 to 1)

# The HELP text of every family says how old DigitalOcean's data is.
LATE = "the newest point DigitalOcean has, usually a minute or more old"


def late_help(what: str, endpoint: str) -> str:
    """HELP text: what the value is, how late it is, and where it is polled from."""
    return f"{what} ({LATE}), polled from {endpoint}."


def step_for(start: int, end: int) -> int:
    """The resolution DigitalOcean answers a range with: at most ~1440 points, at least 60 s."""
    return max(60, math.ceil((end - start) / 1440 / 60) * 60)


def month_start(now: float) -> int:
    """00:00 UTC on the first day of the month `now` is in."""
    day = datetime.fromtimestamp(now, UTC)
    return int(datetime(day.year, day.month, 1, tzinfo=UTC).timestamp())


@dataclass(frozen=True, slots=True)
class Series:
    """One series of a matrix answer: its labels and its finite points, oldest first."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]

    @property
    def latest(self) -> tuple[float, float] | None:
        return self.points[-1] if self.points else None


def _point(value: object) -> tuple[float, float] | None:
    """(timestamp, value) of one point, or None when it is not a pair of finite numbers."""
    if not isinstance(value, list) or len(value) != 2:
        return None
    ts, raw = value
    stamp = _number(ts)
    number = _number(raw)
    if stamp is None or number is None:
        return None
    return stamp, number


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def parse_matrix(body: Mapping[str, Any], where: str) -> tuple[Series, ...]:
    """The series of one answer. The envelope is strict, each point lenient (skipped if bad)."""
    status = body.get("status")
    if status != "success":
        raise ShapeError(f"{where} status: expected \"success\", got {describe(status)}")
    data = as_object(body.get("data"), f"{where} data")
    kind = data.get("resultType")
    if kind != "matrix":
        raise ShapeError(f"{where} data.resultType: expected \"matrix\", got {describe(kind)}")
    result = data.get("result")
    if not isinstance(result, list):
        raise ShapeError(f"{where} data.result: expected a list, got {describe(result)}")
    series = []
    for index, item in enumerate(result):
        place = f"{where} data.result[{index}]"
        entry = as_object(item, place)
        metric = entry.get("metric")
        labels = ({k: v for k, v in metric.items() if isinstance(v, str)}
                  if isinstance(metric, dict) else {})
        values = entry.get("values")
        if not isinstance(values, list):
            raise ShapeError(f"{place}.values: expected a list, got {describe(values)}")
        points = sorted(p for p in map(_point, values) if p is not None)
        series.append(Series(labels, tuple(points)))
    return tuple(series)


def integrate(points: Iterable[tuple[float, float]], since: float, step: float) -> float:
    """The integral over time, after `since`, of one series whose points (oldest first) are each
    the average rate over the time since the point before, at most `step` seconds: a rate per
    second gives an amount. A gap longer than a step (no data) adds nothing for the gap."""
    total = 0.0
    previous = since
    for ts, rate in points:
        if ts > previous:
            total += rate * min(step, ts - previous)
            previous = ts
    return total


@dataclass(frozen=True, slots=True)
class Resource:
    """One resource to read metrics of: its id (the id label's value and the id parameter's)
    and its kind where some metrics exist only for some kinds (network load balancers)."""

    resource_id: str
    kind: str = ""


@dataclass(frozen=True)
class Query:
    """One Monitoring API request per resource: one metric, into one family.

    The family's labels are the id label, then one per `fixed` value (given by the request,
    such as interface="public"), then one per `labels` entry (family label, the matrix label
    it is copied from). `combine` says what several series of one answer become: one sample
    each ("each", the newest per label set), their sum or their maximum (one sample)."""

    endpoint: str
    group: str
    family: Family
    params: tuple[tuple[str, str], ...] = ()
    fixed: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    scale: float = 1.0
    combine: Literal["each", "sum", "max"] = "each"
    kinds: tuple[str, ...] | None = None  # only resources of these kinds; None: all
    not_kinds: tuple[str, ...] = ()  # never resources of these kinds
    # Integrated since the month's start into this family (bandwidth): the request then
    # reads from the month's start, or from the last point the previous poll integrated.
    month_to_date: Family | None = None

    def applies(self, resource: Resource) -> bool:
        if resource.kind in self.not_kinds:
            return False
        return self.kinds is None or resource.kind in self.kinds


@dataclass(frozen=True, slots=True)
class Reading:
    family: str
    labels: tuple[str, ...]  # the id first
    value: float


@dataclass(frozen=True, slots=True)
class MonthToDate:
    """A month-to-date integral of one resource: the amount from `month` (the month's start)
    through the newest point integrated (`through`)."""

    family: str
    resource_id: str
    month: int
    through: float
    amount: float


@dataclass(frozen=True, slots=True)
class MonitoringData:
    """One poll's newest values, the newest point's time per (resource, group), and the
    month-to-date integrals carried from poll to poll."""

    readings: tuple[Reading, ...] = ()
    newest: tuple[tuple[str, str, float], ...] = ()  # (resource id, group, timestamp)
    month_to_date: tuple[MonthToDate, ...] = ()
    # Where the next poll's slice starts (an index into the selected resources), when the plan
    # lets each poll read only a slice of them (`PollContext.request_cap`).
    cursor: int = 0

    def without(self, polled: set[str], selected: set[str]) -> MonitoringData:
        """What this data says of the selected resources that were not polled again: carried
        into the next poll's data so a slice never drops the others."""
        keep = selected - polled
        return MonitoringData(
            readings=tuple(r for r in self.readings if r.labels[0] in keep),
            newest=tuple(n for n in self.newest if n[0] in keep),
            month_to_date=tuple(m for m in self.month_to_date if m.resource_id in keep),
        )

    def __bool__(self) -> bool:
        """False for a poll that found nothing (no resource selected, or no points)."""
        return bool(self.readings or self.newest or self.month_to_date)


@dataclass(frozen=True)
class Product(Generic[R]):
    """The Monitoring API metrics of one kind of resource, read for the resources an
    inventory collector (`input`) found."""

    input: str  # the inventory collector whose records are the resources
    id_param: str  # the query parameter naming the resource (host_id, lb_id, ...)
    id_label: str
    queries: tuple[Query, ...]
    timestamp: Family  # <prefix>_metric_timestamp_seconds{<id_label>, metric}
    facts: Callable[[R], Facts]
    resource: Callable[[R], Resource | None]  # None: a record with no metrics (not MySQL)
    default_metrics: tuple[str, ...] | None = None
    window: int = WINDOW
    groups: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", tuple(dict.fromkeys(q.group for q in self.queries)))

    @property
    def endpoints(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q.endpoint for q in self.queries))

    @property
    def families(self) -> tuple[Family, ...]:
        found = [q.family for q in self.queries]
        found += [q.month_to_date for q in self.queries if q.month_to_date is not None]
        return (*dict.fromkeys(found), self.timestamp)

    def resources(self, context: PollContext) -> list[Resource]:
        """The selected resources of the input's last good records (none before it has any)."""
        records: Sequence[R] = context.inputs.get(self.input) or ()
        chosen = context.selection.keep(records, self.facts)
        return [r for r in map(self.resource, chosen) if r is not None]

    def jobs(self, context: PollContext) -> list[tuple[Resource, Query]]:
        groups = set(context.metrics or (self.default_metrics or self.groups))
        return [(resource, query) for resource in self.resources(context)
                for query in self.queries if query.group in groups and query.applies(resource)]

    def requests_for(self, context: PollContext) -> int:
        """The requests reading every selected resource once costs: one per job, no more (a
        poll with a request cap reads a slice of them)."""
        return len(self.jobs(context))

    def requests_per_object(self, context: PollContext) -> int:
        """The requests one selected resource costs with the context's metrics: the average
        over the selected resources (their kinds may differ), rounded up; with none selected,
        what a resource of no particular kind would cost."""
        resources = self.resources(context)
        if resources:
            return math.ceil(len(self.jobs(context)) / len(resources))
        groups = set(context.metrics or (self.default_metrics or self.groups))
        return sum(1 for q in self.queries if q.group in groups and q.applies(Resource("")))

    def slice(
        self, context: PollContext
    ) -> tuple[list[tuple[Resource, Query]], int, set[str]]:
        """The jobs of this poll, the next poll's cursor, and every selected resource's id.

        Without a request cap every selected resource is read. With one (the plan stretches
        this collector: each resource is read every stretched interval, the collector polls at
        its own), whole resources are read from the cursor on, wrapping, until the next one
        would pass the cap (at least one), so the load is spread over every poll."""
        jobs = self.jobs(context)
        selected = list(dict.fromkeys(resource.resource_id for resource, _ in jobs))
        cap = context.request_cap
        if cap is None or len(jobs) <= cap or not selected:
            return jobs, 0, set(selected)
        per_resource: dict[str, list[tuple[Resource, Query]]] = {}
        for job in jobs:
            per_resource.setdefault(job[0].resource_id, []).append(job)
        previous = context.previous if isinstance(context.previous, MonitoringData) else None
        start = (previous.cursor if previous is not None else 0) % len(selected)
        chosen: list[tuple[Resource, Query]] = []
        taken = 0
        while taken < len(selected):
            batch = per_resource[selected[(start + taken) % len(selected)]]
            if chosen and len(chosen) + len(batch) > cap:
                break
            chosen += batch
            taken += 1
        return chosen, (start + taken) % len(selected), set(selected)

    def collector(
        self, name: str, summary: str, filters: tuple[str, ...]
    ) -> Collector[MonitoringData]:
        """This product's collector: off by default, every INTERVAL, its input's records the
        objects it watches, its cost counted before it runs; `filters` are the `filter:` keys
        its input's records can answer."""

        async def fetch(reader: ResourceReader) -> MonitoringData:
            return await self.fetch_with(reader, PollContext())

        return Collector(
            name=name, summary=summary, endpoints=self.endpoints, id_label=self.id_label,
            scope=SCOPE, interval=INTERVAL, families=self.families, fetch=fetch,
            samples=self.samples, enabled_by_default=False, filters=filters,
            inputs=(self.input,), metric_groups=self.groups,
            default_metrics=self.default_metrics, requests_for=self.requests_for,
            requests_per_object=self.requests_per_object, fetch_with=self.fetch_with,
        )

    async def fetch_with(self, reader: ResourceReader, context: PollContext) -> MonitoringData:
        jobs, cursor, selected = self.slice(context)
        end = int(reader.now())
        month = month_start(end)
        carried: dict[tuple[str, str], MonthToDate] = {}
        if isinstance(context.previous, MonitoringData):
            carried = {(m.family, m.resource_id): m for m in context.previous.month_to_date
                       if m.month == month}

        def start_of(resource: Resource, query: Query) -> int:
            if query.month_to_date is None:
                return end - self.window
            before = carried.get((query.month_to_date.name, resource.resource_id))
            return month if before is None else min(int(before.through), end - self.window)

        starts = [start_of(resource, query) for resource, query in jobs]
        gate = asyncio.Semaphore(LIMIT)

        async def read(resource: Resource, query: Query, start: int) -> dict[str, Any] | None:
            # the request is made only once the gate lets it through (never left unawaited)
            async with gate:
                return await reader.get_or_none(query.endpoint, params={
                    self.id_param: resource.resource_id, **dict(query.params),
                    "start": str(start), "end": str(end)})

        answers = await all_or_nothing([
            read(resource, query, start) for (resource, query), start in zip(jobs, starts, strict=True)
        ])
        vanished = {resource.resource_id for (resource, _), answer in zip(jobs, answers, strict=True)
                    if answer is None}
        readings: list[Reading] = []
        newest: dict[tuple[str, str], float] = {}
        month_to_date: list[MonthToDate] = []
        for (resource, query), start, answer in zip(jobs, starts, answers, strict=True):
            if answer is None or resource.resource_id in vanished:
                continue
            where = f"{query.endpoint}?{self.id_param}={resource.resource_id}"
            series = parse_matrix(answer, where)
            readings += combine(query, resource.resource_id, series)
            stamps = [latest[0] for s in series if (latest := s.latest) is not None]
            if stamps:
                key = (resource.resource_id, query.group)
                newest[key] = max(newest.get(key, 0.0), *stamps)
            if query.month_to_date is not None:
                total = _month_to_date(query.month_to_date.name, resource.resource_id, month,
                                       series, step=step_for(start, end), scale=query.scale,
                                       before=carried.get((query.month_to_date.name,
                                                           resource.resource_id)))
                if total is not None:
                    month_to_date.append(total)
        polled = {resource.resource_id for resource, _ in jobs}
        if isinstance(context.previous, MonitoringData) and polled != selected:
            carried_over = context.previous.without(polled, selected)
            readings = sorted([*readings, *carried_over.readings],
                              key=lambda r: (r.family, r.labels))
            newest.update({(rid, group): ts for rid, group, ts in carried_over.newest})
            month_to_date = sorted(
                [*month_to_date, *(m for m in carried_over.month_to_date if m.month == month)],
                key=lambda m: (m.family, m.resource_id))
        return MonitoringData(
            readings=tuple(readings),
            newest=tuple((rid, group, ts) for (rid, group), ts in sorted(newest.items())),
            month_to_date=tuple(month_to_date),
            cursor=cursor,
        )

    def samples(self, data: MonitoringData) -> Iterator[Sample]:
        for reading in data.readings:
            yield reading.family, reading.labels, reading.value
        for total in data.month_to_date:
            yield total.family, (total.resource_id,), total.amount
        for resource_id, group, ts in data.newest:
            yield self.timestamp.name, (resource_id, group), ts


def combine(query: Query, resource_id: str, series: Sequence[Series]) -> list[Reading]:
    """The readings one answer gives, scaled: the newest finite point of each series ("each":
    one per label set, the newest if two have the same), or their sum or maximum."""
    name = query.family.name
    latest = [(s, point) for s in series if (point := s.latest) is not None]
    if query.combine != "each":
        if not latest:
            return []
        values = [value for _, (_, value) in latest]
        value = sum(values) if query.combine == "sum" else max(values)
        return [Reading(name, (resource_id, *query.fixed), value * query.scale)]
    newest: dict[tuple[str, ...], tuple[float, float]] = {}
    for s, point in latest:
        key = (resource_id, *query.fixed, *(s.labels.get(source, "") for _, source in query.labels))
        if key not in newest or newest[key][0] < point[0]:
            newest[key] = point
    return [Reading(name, key, value * query.scale) for key, (_, value) in newest.items()]


def _month_to_date(family: str, resource_id: str, month: int, series: Sequence[Series], *,
                   step: int, before: MonthToDate | None, scale: float) -> MonthToDate | None:
    """The month-to-date integral after this answer: the previous poll's amount through its
    last point, plus this answer's points after that (the whole answer on the month's first
    read). None while no point of this month has been seen."""
    since = float(month) if before is None else before.through
    amount = 0.0 if before is None else before.amount
    for s in series:
        amount += integrate(s.points, since, step) * scale
    newest = max((p[0] for s in series for p in s.points), default=since)
    if max(newest, since) <= month:
        return None
    return MonthToDate(family, resource_id, month, max(newest, since), amount)
