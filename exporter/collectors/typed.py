"""Typed decoding of a paged list: each page's bytes decoded by msgspec straight into Structs
holding only the fields a collector reads.

`json.loads` builds a dict for every object of a page and a Python value for every field, most
of which no collector reads (a Droplet's size lists its regions, its image its own details):
at 10,000 Droplets, decoding their pages into Structs instead halves the CPU of a Droplet poll
(bench/decoding.py; docs/performance.md has the numbers and the decision).

Nothing the exporter reports changes. A page is decoded this way only when it fits the types
exactly; any other page (a field of an unexpected type, NaN or Infinity, a byte order mark,
invalid UTF-8, nesting too deep, a list that is not there) is decoded as plain JSON by the
client, as before, and parsed by the collector's lenient dict parser, so its records and its
errors are the ones it always had. An item that fits the types but not what the typed parse
handles exactly (`Unfit`) sends its whole page to the dict parser too, as builtins. Tests
check, on the same pages, that the typed parse and the dict parse give equal records.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, Generic, TypeVar

import msgspec

I = TypeVar("I", bound=msgspec.Struct)  # noqa: E741  (an item)
R = TypeVar("R")  # a record

# What a list page holds besides its items, read by `list_all` (see exporter/api.py
# `_meta_total` and `_next_page`): kept as decoded, untyped, only when present.
PAGE_FIELDS = ("meta", "links", "total_items", "total")


@cache
def _page_decoder(key: str, item: type[msgspec.Struct]) -> msgspec.json.Decoder[Any]:
    """A decoder of a page whose items, under `key`, are `item`s (one per list kind: the
    page type is made once)."""
    fields: list[Any] = [(key, list[item])]  # type: ignore[valid-type]
    fields += [(name, Any, msgspec.UNSET) for name in PAGE_FIELDS]
    return msgspec.json.Decoder(msgspec.defstruct(f"{item.__name__}Page", fields))


class Unfit(Exception):
    """An item of a well-typed page that only the dict parser reads exactly (an empty id)."""


class TypedPages(Generic[I, R]):
    """A page parser (`parse(items, start)`) that also decodes its list's pages
    (`decode(content)`, used by `AccountApi.list_all`).

    `typed(item)` makes a record of a decoded item, or raises Unfit; `plain(items, start)` is
    the collector's parser of JSON dicts, for every page that was not decoded here."""

    def __init__(self, key: str, item: type[I], typed: Callable[[I], R],
                 plain: Callable[[list[Any], int], list[R]]) -> None:
        self.key = key
        self.item = item
        self.typed = typed
        self.plain = plain
        self._decoder = _page_decoder(key, item)

    def decode(self, content: bytes) -> dict[str, Any] | None:
        """The page as `list_all` reads it (its items as Structs), or None when it does not
        fit the types: the client then decodes it as plain JSON."""
        try:
            page = self._decoder.decode(content)
        except (msgspec.DecodeError, RecursionError):  # a ValidationError is a DecodeError
            return None
        body = {self.key: getattr(page, self.key)}
        for name in PAGE_FIELDS:
            value = getattr(page, name)
            if value is not msgspec.UNSET:
                body[name] = value
        return body

    def __call__(self, items: list[Any], start: int) -> list[R]:
        if not isinstance(items, list) or not items or not isinstance(items[0], self.item):
            return self.plain(items, start)  # a page decoded as plain JSON
        typed = self.typed
        try:
            return [typed(item) for item in items]
        except Unfit:
            return self.plain(msgspec.to_builtins(items), start)
