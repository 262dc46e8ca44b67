"""What a collector is: the families it emits, how it fetches, and how it turns data into samples.

A collector never imports httpx: it receives a ResourceReader (an `api.AccountApi`) and returns
parsed, immutable records. `samples()` is a pure function from those records to
(family, label values, value) triples; the `account` label is added by the renderer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, Literal, Protocol, TypeVar, overload

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
    ) -> list[Any] | None:
        """Every item of the list; with `parse`, each page's items are turned into records as
        the page arrives (`parse(items, index of the first in the whole list)`), and the
        records are returned instead. With `missing_ok`, None when the list's owner does not
        exist (404), so a collector can tell "gone" from "empty" without seeing the error."""
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
    kind: Literal["gauge"] = "gauge"
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
    # invoice_summary, billing_history, billing_insights), whose series `account` names.
    id_label: str
    # The list endpoint that pages and whose items are this collector's objects (one object,
    # one `id_label` value); None when there is none: single objects, unpaged lists, or a
    # paged list of entries the collector summarises (billing history, Billing Insights).
    paged: str | None = None
    enabled_by_default: bool = True
    # Fields that need a scope beyond `scope` (from the API description): wanted, not required.
    field_scopes: tuple[FieldScope, ...] = ()


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
