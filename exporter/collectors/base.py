"""What a collector is: the families it emits, how it fetches, and how it turns data into samples.

A collector never imports httpx: it receives a ResourceReader (an `api.AccountApi`) and returns
parsed, immutable records. `samples()` is a pure function from those records to
(family, label values, value) triples; the `account` label is added by the renderer.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Generic, Literal, NamedTuple, Protocol, TypeVar, overload

T = TypeVar("T")

Sample = tuple[str, tuple[str, ...], float]


class ResourceReader(Protocol):
    def now(self) -> float: ...

    async def get(
        self,
        endpoint: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]: ...

    async def get_or_none(
        self,
        endpoint: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """`get`, or None when the object does not exist (404); other errors are raised."""
        ...

    @overload
    async def list_all(
        self,
        endpoint: str,
        key: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        parse: Callable[[list[Any], int], list[Any]] | None = None,
        missing_ok: Literal[False] = False,
        id_key: str | None = "id",
    ) -> list[Any]: ...

    @overload
    async def list_all(
        self,
        endpoint: str,
        key: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        parse: Callable[[list[Any], int], list[Any]] | None = None,
        missing_ok: Literal[True],
        id_key: str | None = "id",
    ) -> list[Any] | None: ...

    async def list_all(
        self,
        endpoint: str,
        key: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        parse: Callable[[list[Any], int], list[Any]] | None = None,
        missing_ok: bool = False,
        id_key: str | None = "id",
    ) -> list[Any] | None:
        """Every item of the list; with `parse`, each page's items are turned into records as
        the page arrives (`parse(items, index of the first in the whole list)`), and the
        records are returned instead. With `missing_ok`, None when the list's owner does not
        exist (404), so a collector can tell "gone" from "empty" without seeing the error.
        An item whose `id_key` value an earlier item had (a list that shifted while it was
        paged) is dropped before `parse` sees it: collectors never dedupe a list themselves."""
        ...


@dataclass(frozen=True)
class Family:
    """One metric family: its name, HELP text and the labels that follow `account`.

    `per_account=False` marks facts about DigitalOcean itself, the same whoever asks (the size
    catalogue): their series have no `account` label and are written once, from the first
    account (by name) whose poll has data, instead of once per account."""

    name: str
    help: str
    labels: tuple[str, ...] = ()
    kind: Literal["gauge", "counter"] = "gauge"  # a counter's name ends in _total
    per_account: bool = True


@dataclass(frozen=True)
class FieldScope:
    """A field of a collector's answers that DigitalOcean fills only for a token that also holds
    `scopes` (the API description marks it "Requires `tag:read` scope"). Without them the
    collector still runs; only what `empty` names stays empty."""

    field: str  # the field in the API's answer, e.g. "tags"
    scopes: tuple[str, ...]  # every scope the field needs
    empty: tuple[str, ...]  # what is missing without them: "family" or "family{label}"

    def describe(self) -> str:
        """What stays empty, for messages: "the tag label of digitalocean_droplet_tag_info"."""
        parts = []
        for item in self.empty:
            family, _, label = item.partition("{")
            label, _, value = label.rstrip("}").partition("=")
            if value:
                parts.append(f'the {label}="{value}" series of {family}')
            else:
                parts.append(f"the {label} label of {family}" if label else family)
        return " and ".join(parts)


FILTER_KEYS = ("tag", "region", "name", "id")
R = TypeVar("R")


class Facts(NamedTuple):
    """What a `filter:` can look at in one record: its id, name, region (or regions) and tags."""

    object_id: object
    name: str | None = None
    region: str | None = None
    tags: Iterable[str] = ()
    regions: Iterable[str] = ()


@dataclass(frozen=True)
class Selection:
    """Which objects a collector keeps: the config's `filter:` of one (account, collector).

    An object is kept when it matches every key given: one of `tags`, one of `regions`, a name
    the `name` pattern matches whole (like a Prometheus regex), one of `ids`. Nothing given keeps
    everything. A collector applies it itself before exporting (it knows its records' fields),
    and asks the API to filter where it can (`server_tag()` for `?tag_name=`)."""

    tags: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    name: re.Pattern[str] | None = None
    ids: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        return not (self.tags or self.regions or self.name is not None or self.ids)

    def keys(self) -> tuple[str, ...]:
        """The filter keys given, in FILTER_KEYS order."""
        given = (bool(self.tags), bool(self.regions), self.name is not None, bool(self.ids))
        return tuple(key for key, on in zip(FILTER_KEYS, given, strict=True) if on)

    def matches(
        self,
        *,
        object_id: object = None,  # the object's id, as the API spells it
        name: str | None = None,
        region: str | None = None,
        tags: Iterable[str] = (),
        regions: Iterable[str] = (),  # an object in several regions (a snapshot): any of them
    ) -> bool:
        if self.ids and (object_id is None or str(object_id) not in self.ids):
            return False
        if self.regions and region not in self.regions and not any(
            r in self.regions for r in regions
        ):
            return False
        if self.name is not None and (name is None or self.name.fullmatch(name) is None):
            return False
        return not self.tags or any(tag in self.tags for tag in tags)

    def keep(self, records: Iterable[R], facts: Callable[[R], Facts]) -> tuple[R, ...]:
        """The records this selection keeps, in their order; `facts(record)` tells each one's
        id, name, region and tags (what it does not have: None or ())."""
        found = tuple(records)
        if self.everything:
            return found
        return tuple(r for r in found if self.matches(
            object_id=(f := facts(r)).object_id, name=f.name, region=f.region, tags=f.tags,
            regions=f.regions))

    def server_region(self) -> str | None:
        """The one region the API can filter by (`?region=`), when the selection names one."""
        return self.regions[0] if len(self.regions) == 1 else None

    def server_tag(self) -> str | None:
        """The one tag the API can filter by (`?tag_name=`), when the selection names exactly
        one; the other keys are still applied to what comes back."""
        return self.tags[0] if len(self.tags) == 1 else None

    def describe(self) -> str:
        parts = []
        if self.tags:
            parts.append("tag " + "|".join(self.tags))
        if self.regions:
            parts.append("region " + "|".join(self.regions))
        if self.name is not None:
            parts.append(f"name ~ {self.name.pattern}")
        if self.ids:
            parts.append(f"{len(self.ids)} id(s)")
        return ", ".join(parts) or "everything"


EVERYTHING = Selection()


# Requests a collector makes at once for its objects' details (a cluster's upgrades, a project's
# resources, ...): as many as the pages of one list (DigitalOceanClient.page_concurrency). The
# request budget paces them either way; this only bounds how many wait on the API at once.
FOLLOW_UP_CONCURRENCY = 25


@dataclass(frozen=True)
class PollContext:
    """What one poll of one (account, collector) knows besides the API: its settings and the
    data it builds on. Collectors that need none of it implement `fetch(reader)` only."""

    selection: Selection = EVERYTHING
    # Monitoring collectors: the metric groups chosen (`metrics:`), never empty for them.
    metrics: tuple[str, ...] = ()
    # The last good data of each collector named in `Collector.inputs` that has some, by name.
    inputs: Mapping[str, Any] = field(default_factory=dict)
    # This collector's own last good data, for incremental reads (None on the first poll).
    previous: Any = None
    interval: float = 60.0  # the interval this poll runs at (stretched by the plan, if it is)
    # The most requests this poll may make, when the plan spreads a Monitoring API
    # collector's objects over several polls (None: read them all).
    request_cap: int | None = None


@dataclass(frozen=True)
class Collector(Generic[T]):
    """One resource: one module in `collectors/`, one entry in the collector table."""

    name: str
    summary: str
    endpoints: tuple[str, ...]
    scope: str  # the read scope(s) the endpoints need, space-separated; named when a 403 disables it
    interval: float  # default poll interval, seconds
    families: tuple[Family, ...]
    fetch: Callable[[ResourceReader], Awaitable[T]]
    samples: Callable[[T], Iterator[Sample]]
    # The label naming one of this collector's objects (`droplet_id`, `reserved_ip`, `domain`,
    # `tag`); "" for a collector of facts about the account itself (account, billing,
    # invoice_summary, billing_history, billing_insights, actions), whose series `account` names.
    id_label: str
    # The list endpoint that pages and whose items are this collector's objects (one object,
    # one `id_label` value); None when there is none: single objects, unpaged lists, or a
    # paged list of entries the collector summarises (billing history, Billing Insights).
    paged: str | None = None
    enabled_by_default: bool = True
    # Fields that need a scope beyond `scope` (from the API description): wanted, not required.
    field_scopes: tuple[FieldScope, ...] = ()
    # The `filter:` keys it honours (a subset of FILTER_KEYS); any other is a config error.
    filters: tuple[str, ...] = ()
    # Collectors whose last good data `fetch_with` reads (`PollContext.inputs`), never calling
    # the API for what they already have; each must be enabled where this one is.
    inputs: tuple[str, ...] = ()
    # Monitoring API collectors: the metric groups `metrics:` may choose; not empty marks a
    # collector whose requests scale with its selection, planned (and stretched) first.
    metric_groups: tuple[str, ...] = ()
    # The metric groups used when `metrics:` is not given (default: all of them).
    default_metrics: tuple[str, ...] | None = None
    # Requests one poll will make, known before it runs (monitoring: groups x selected objects);
    # None for collectors whose cost is only measured.
    requests_for: Callable[[PollContext], int] | None = None
    # Monitoring: requests one selected object costs per poll with the context's metrics, so a
    # selection that does not fit can say how many objects would.
    requests_per_object: Callable[[PollContext], int] | None = None
    # The poll itself when it needs its context (filters, inputs, previous data); otherwise
    # `fetch(reader)` is called.
    fetch_with: Callable[[ResourceReader, PollContext], Awaitable[T]] | None = None

    async def collect(self, reader: ResourceReader, context: PollContext) -> T:
        """One poll's data: `fetch_with(reader, context)` when the collector has it."""
        if self.fetch_with is not None:
            return await self.fetch_with(reader, context)
        return await self.fetch(reader)

    @property
    def monitoring(self) -> bool:
        return bool(self.metric_groups)

    @property
    def chosen_metrics(self) -> tuple[str, ...]:
        return self.metric_groups if self.default_metrics is None else self.default_metrics


@dataclass(frozen=True)
class DerivedFamilies:
    """Families computed from several collectors' data of one account and the time (costs).

    `samples(inputs, now)` gets the fresh data of each of `inputs` that has some, by collector
    name. The values move with the clock, so they are rendered again every `period` seconds.
    """

    name: str
    families: tuple[Family, ...]
    inputs: tuple[str, ...]
    samples: Callable[[Mapping[str, Any], float], Iterator[Sample]]
    period: float


def known_values(key: tuple[str, ...], pairs: Iterable[tuple[Family, float | None]]) -> Iterator[Sample]:
    """One sample per family whose value is known; an unknown value is left out, never shown as 0."""
    for family, value in pairs:
        if value is not None:
            yield family.name, key, value


def state_set(
    family: str, key: tuple[str, ...], current: str, states: tuple[str, ...]
) -> Iterator[Sample]:
    """A state set: one sample per known state, 1 for the current one. An unknown current
    state is emitted too, so it is visible instead of reading as all zeros.

    Every state is written in lower case, whatever case the API uses (apps say `ERROR`, Droplets
    `active`): one convention across families, so `status="error"` means the same everywhere.
    `states` and `current` are given as the API spells them."""
    current = current.lower()
    known = _lowered(states)
    for state in known:
        yield family, (*key, state), 1 if state == current else 0
    if current not in known:
        yield family, (*key, current), 1


@cache
def _lowered(states: tuple[str, ...]) -> tuple[str, ...]:
    """The known states in lower case, each once; computed once per collector's tuple, not once
    per object."""
    return tuple(dict.fromkeys(state.lower() for state in states))
