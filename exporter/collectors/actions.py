"""Actions: GET /v2/actions (scope actions:read, default every 30m), read incrementally.

Every change DigitalOcean makes to a resource (create, destroy, resize, power_off, snapshot,
...) is an action with a status: `in-progress`, then `completed` or `errored`. This collector
counts them, so "how many resizes errored today" and "mark every destroy on the dashboards"
are PromQL over one counter.

The list holds every action the account ever had and DigitalOcean serves it newest first (the
API description does not promise an order; the API, doctl and the simulator all list newest
first). So each poll reads pages from the newest end only until it reaches an action it already
knows (`PollContext.previous` holds the newest id seen): after the first poll, an account where
nothing happened costs one request a poll, two an hour at the default interval. The list is
read page by page here, not with `list_all`, because `list_all` returns a whole list or nothing.

* The first poll reads at most FIRST_POLL_PAGES pages (1,000 actions): that backlog is the
  counters' starting value (counted "since the exporter started", like any counter); older
  actions are never read. A later poll reads at most MAX_PAGES pages (2,000 actions); past
  that, the older new actions of one interval are skipped.
* Each action is counted once, when it is first seen in a final status (`completed`, `errored`,
  or any status the API adds later), under that status and the type it then has. An action seen
  `in-progress` is remembered and counted when a later poll sees it finish; it is remembered only
  while polls still read down to it (a poll that stops at MAX_PAGES before reaching it gives it
  up). A missing status is `in-progress`, the API's documented default.
* Both final statuses of every (type, resource type) seen are exported, 0 until one happens, so
  the first errored resize raises an existing series (`increase()` sees it) instead of starting
  a new one. A counter never goes down while the exporter runs.

    digitalocean_actions_total{account="production",type="resize",status="errored",resource_type="droplet"} 1
    digitalocean_action_last_errored_timestamp_seconds{account="production",resource_type="droplet"} 1.7900012e+09
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import Collector, Family, PollContext, ResourceReader, Sample
from exporter.collectors.fields import objects, optional_str, required_int, timestamp

ENDPOINT = "/v2/actions"
LIST_KEY = "actions"
PER_PAGE = 200  # the most the API sends in one page
FIRST_POLL_PAGES = 5
MAX_PAGES = 10
IN_PROGRESS = "in-progress"
FINAL_STATUSES = ("completed", "errored")

COUNT = Family(
    "digitalocean_actions_total",
    "Actions that reached a final status since the exporter started (the first poll counts the "
    "newest 1,000 as its starting value), by type, status and resource type, polled from "
    "/v2/actions.",
    ("type", "status", "resource_type"),
    kind="counter",
)
IN_PROGRESS_COUNT = Family(
    "digitalocean_actions_in_progress",
    "Actions seen in progress and not yet seen finished, by resource type, polled from "
    "/v2/actions.",
    ("resource_type",),
)
LAST_ERRORED = Family(
    "digitalocean_action_last_errored_timestamp_seconds",
    "When the newest errored action the exporter has seen finished (or started, when the API "
    "gives no end), by resource type, polled from /v2/actions.",
    ("resource_type",),
)


@dataclass(frozen=True, slots=True)
class ActionRecord:
    action_id: int
    type: str
    status: str  # lower case; "in-progress" when the API leaves it out
    resource_type: str
    ended_at: float | None  # completed_at, else started_at

    @property
    def final(self) -> bool:
        return self.status != IN_PROGRESS


@dataclass(frozen=True)
class ActionsState:
    """What the collector knows after a poll; the next poll builds on it."""

    newest_id: int | None  # the newest action read so far; None while the account has none
    counts: Mapping[tuple[str, str, str], int]  # (type, status, resource_type) -> actions
    pending: Mapping[int, str]  # action id -> resource type, of actions seen in progress
    last_errored: Mapping[str, float]  # resource type -> when its newest errored action ended
    pages: int = 0  # pages this poll read
    skipped: bool = False  # this poll stopped at its page limit before reaching known actions


def parse_page(items: object, start: int) -> list[ActionRecord]:
    """Records of one page of the action list (`start`: the index of its first item)."""
    records = []
    for path, action in objects(items, f"{ENDPOINT} {LIST_KEY}", start):
        started = timestamp(action, "started_at")
        completed = timestamp(action, "completed_at")
        records.append(ActionRecord(
            action_id=required_int(action, "id", path),
            type=optional_str(action, "type"),
            status=(optional_str(action, "status") or IN_PROGRESS).lower(),
            resource_type=optional_str(action, "resource_type"),
            ended_at=completed if completed is not None else started,
        ))
    return records


def _has_next(body: Mapping[str, Any]) -> bool:
    links = body.get("links")
    pages = links.get("pages") if isinstance(links, dict) else None
    return isinstance(pages, dict) and bool(pages.get("next"))


async def read_newest(
    reader: ResourceReader, stop_at: int | None, max_pages: int
) -> tuple[list[ActionRecord], int, bool]:
    """(the actions read, newest first and each once; pages read; whether the read stopped at
    the page limit before reaching `stop_at` or the end of the list)."""
    records: list[ActionRecord] = []
    seen: set[int] = set()
    for number in range(1, max_pages + 1):
        body = await reader.get(ENDPOINT, params={"page": str(number), "per_page": str(PER_PAGE)})
        page = parse_page(body.get(LIST_KEY), (number - 1) * PER_PAGE)
        # an action created while paging shifts the list: the last of a page comes again
        for record in page:
            if record.action_id not in seen:
                seen.add(record.action_id)
                records.append(record)
        reached = stop_at is not None and any(r.action_id <= stop_at for r in page)
        if reached or not page or not _has_next(body):
            return records, number, False
    return records, max_pages, True


def advance(previous: ActionsState | None, records: list[ActionRecord], pages: int,
            skipped: bool) -> ActionsState:
    """The state after a poll read `records` (previous None: the first poll, whose final
    actions are the counters' starting value)."""
    counts = dict(previous.counts) if previous else {}
    last_errored = dict(previous.last_errored) if previous else {}
    known = previous.newest_id if previous else None
    was_pending = previous.pending if previous else {}
    pending: dict[int, str] = {}
    for record in records:
        new = known is None or record.action_id > known
        if not new and record.action_id not in was_pending:
            continue  # counted, or given up, before
        if not record.final:
            pending[record.action_id] = record.resource_type
            continue
        key = (record.type, record.status, record.resource_type)
        counts[key] = counts.get(key, 0) + 1
        if record.status == "errored" and record.ended_at is not None:
            last = last_errored.get(record.resource_type)
            last_errored[record.resource_type] = max(record.ended_at, last or record.ended_at)
    newest = max((r.action_id for r in records), default=None)
    if known is not None:
        newest = known if newest is None else max(newest, known)
    return ActionsState(newest_id=newest, counts=counts, pending=pending,
                        last_errored=last_errored, pages=pages, skipped=skipped)


async def fetch_with(reader: ResourceReader, context: PollContext) -> ActionsState:
    previous = context.previous if isinstance(context.previous, ActionsState) else None
    if previous is None:
        records, pages, skipped = await read_newest(reader, None, FIRST_POLL_PAGES)
        return advance(None, records, pages, skipped)
    # down to the oldest action still in progress, or else to the newest already known
    floor = [previous.newest_id] if previous.newest_id is not None else []
    stop_at = min([*floor, *previous.pending], default=None)
    records, pages, skipped = await read_newest(reader, stop_at, MAX_PAGES)
    return advance(previous, records, pages, skipped)


async def fetch(reader: ResourceReader) -> ActionsState:
    """A first poll: what `fetch_with` reads with no previous data."""
    return await fetch_with(reader, PollContext())


def samples(state: ActionsState) -> Iterator[Sample]:
    for action_type, resource_type in sorted({(t, r) for t, _, r in state.counts}):
        for status in FINAL_STATUSES:
            yield COUNT.name, (action_type, status, resource_type), state.counts.get(
                (action_type, status, resource_type), 0)
    for key in sorted(state.counts):
        if key[1] not in FINAL_STATUSES:  # a final status the API added later
            yield COUNT.name, key, state.counts[key]
    in_progress: dict[str, int] = {}
    for resource_type in state.pending.values():
        in_progress[resource_type] = in_progress.get(resource_type, 0) + 1
    for resource_type in sorted(in_progress):
        yield IN_PROGRESS_COUNT.name, (resource_type,), in_progress[resource_type]
    for resource_type in sorted(state.last_errored):
        yield LAST_ERRORED.name, (resource_type,), state.last_errored[resource_type]


COLLECTOR: Collector[ActionsState] = Collector(
    name="actions",
    summary="actions by type, final status and resource type, read incrementally; last error",
    endpoints=(ENDPOINT,),
    id_label="",
    # The list is read from its newest end and never whole (see the module docstring).
    paged=None,
    scope="actions:read",
    interval=1800.0,
    families=(COUNT, IN_PROGRESS_COUNT, LAST_ERRORED),
    fetch=fetch,
    fetch_with=fetch_with,
    samples=samples,
)
