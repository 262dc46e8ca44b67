"""DigitalOcean's pagination: `page`/`per_page`, `links.pages` and `meta.total`.

Rules, as the real API applies them: pages count from 1; `per_page` defaults to 20 and larger
values than 200 are served as 200; `links.pages` holds absolute URLs built from the request's
Host, with `first`/`prev` only after page 1 and `next`/`last` only when a next page exists
(`links` is `{}` when there is nothing to link); a page past the end is an empty list with the
real total. Every other query parameter is kept in the links, so following `next` of a
`?type=gpus` listing stays on GPU Droplets.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

T = TypeVar("T")

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 200


class PagingError(ValueError):
    """A `page` or `per_page` value the API refuses (answered with 400)."""


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int
    per_page_given: bool

    @property
    def start(self) -> int:
        return (self.page - 1) * self.per_page

    def last_page(self, total: int) -> int:
        return max(1, -(-total // self.per_page))

    def window(self, items: Sequence[T]) -> Sequence[T]:
        """This page's items; empty past the end."""
        return items[self.start : self.start + self.per_page]


def positive_int(name: str, raw: str) -> int:
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise PagingError(f"{name} must be a positive integer, got {raw!r}")
    return int(text)


def parse_paging(query: Mapping[str, Sequence[str]]) -> Paging:
    """The page asked for; raises PagingError for values that are not positive integers."""
    page = positive_int("page", query["page"][-1]) if query.get("page") else 1
    per_page_given = bool(query.get("per_page"))
    per_page = DEFAULT_PER_PAGE
    if per_page_given:
        per_page = min(positive_int("per_page", query["per_page"][-1]), MAX_PER_PAGE)
    return Paging(page=page, per_page=per_page, per_page_given=per_page_given)


def page_links(
    *,
    base_url: str,
    path: str,
    query: Mapping[str, Sequence[str]],
    paging: Paging,
    total: int,
) -> dict[str, dict[str, str]]:
    """The `links` object of one page."""
    kept = [(k, v) for k, values in query.items() if k not in ("page", "per_page") for v in values]

    def url(page: int) -> str:
        params = [*kept, ("page", str(page))]
        if paging.per_page_given:
            params.append(("per_page", str(paging.per_page)))
        return f"{base_url}{path}?{urlencode(params)}"

    last = paging.last_page(total)
    pages: dict[str, str] = {}
    if paging.page > 1:
        pages["first"] = url(1)
        pages["prev"] = url(paging.page - 1)
    if paging.page < last:
        pages["next"] = url(paging.page + 1)
        pages["last"] = url(last)
    return {"pages": pages} if pages else {}


def page_body(
    *,
    key: str,
    chunk: Iterable[bytes],
    total: int,
    links: Mapping[str, object],
    extra: Mapping[str, object] | None = None,
) -> bytes:
    """`{"<key>": [...chunk...], <extra>, "links": ..., "meta": {"total": N}}` from cached bytes."""
    parts = [b'{"', key.encode(), b'":[', b",".join(chunk), b"]"]
    for name, value in (extra or {}).items():
        parts += [b',"', name.encode(), b'":', json.dumps(value, separators=(",", ":")).encode()]
    parts += [
        b',"links":',
        json.dumps(links, separators=(",", ":")).encode(),
        b',"meta":{"total":',
        str(total).encode(),
        b"}}",
    ]
    return b"".join(parts)
