"""Typed reads of API JSON, with errors that name the exact place (`/v2/droplets droplets[3].id`).

Identity fields are strict: an object without its id cannot become a series, so the whole poll
fails with a ShapeError and the previous good snapshot stays. Descriptive fields are lenient,
because the API omits or nulls them when the token lacks a secondary scope (`tags` without
`tag:read`, `image` without `image:read`): those read as "" or None.

Strings kept from an answer are interned: a fleet repeats its regions, sizes, images, VPCs,
statuses and tags thousands of times, and each JSON page would otherwise bring its own copies
(at 10,000 Droplets and 10,000 volumes, interning lowers the resident memory by about 5 MB).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from sys import intern
from typing import Any, TypeVar

R = TypeVar("R")

MIB = 2**20
GIB = 2**30


class ShapeError(ValueError):
    """An API answer that does not have the documented shape."""


def describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def as_object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ShapeError(f"{where}: expected an object, got {describe(value)}")
    return value


def sorted_by(records: Iterable[R], key: Callable[[R], Any]) -> tuple[R, ...]:
    """The records in `key` order. Repeats are not dropped here: `list_all` drops the items a
    list that shifted while it was paged repeats (by `id_key`), in one place for every list."""
    return tuple(sorted(records, key=key))


def objects(values: object, where: str, start: int = 0) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(path, object) for each element of a JSON list, e.g. ("/v2/volumes volumes[2]", {...});
    `start` is the index of the first (a page of a longer list)."""
    if not isinstance(values, list):
        raise ShapeError(f"{where}: expected a list, got {describe(values)}")
    for index, value in enumerate(values, start):
        path = f"{where}[{index}]"
        yield path, as_object(value, path)


def required_int(obj: Mapping[str, Any], key: str, where: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ShapeError(f"{where}.{key}: expected an integer, got {describe(value)}")
    return value


def required_str(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise ShapeError(f"{where}.{key}: expected a non-empty string, got {describe(value)}")
    return intern(value)


def optional_str(obj: Mapping[str, Any], *keys: str) -> str:
    """The string at obj[k1][k2]..., or "" when any step is missing, null or not the right type."""
    value: object = obj
    for key in keys:
        if not isinstance(value, dict):
            return ""
        value = value.get(key)
    return intern(value) if isinstance(value, str) else ""


def optional_number(obj: Mapping[str, Any], *keys: str) -> float | None:
    value: object = obj
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def optional_int(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def optional_bool(obj: Mapping[str, Any], key: str) -> bool | None:
    """A JSON boolean; None when missing or of another type (never guessed from 0, "no", ...)."""
    value = obj.get(key)
    return value if isinstance(value, bool) else None


def bool_label(obj: Mapping[str, Any], key: str) -> str:
    """A boolean as a label value: "true", "false", or "" when unknown."""
    value = optional_bool(obj, key)
    return "" if value is None else ("true" if value else "false")


def list_length(obj: Mapping[str, Any], key: str) -> int | None:
    """How many items a JSON list holds; None when it is missing (unknown is not zero)."""
    value = obj.get(key)
    return len(value) if isinstance(value, list) else None


def string_list(obj: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = obj.get(key)
    if not isinstance(value, list):
        return ()
    return tuple(intern(item) for item in value if isinstance(item, str))


def int_list(obj: Mapping[str, Any], key: str) -> tuple[int, ...]:
    value = obj.get(key)
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, int) and not isinstance(item, bool))


def money(obj: Mapping[str, Any], key: str, where: str) -> Decimal:
    """A dollar amount. The billing API sends strings ("23.44"); numbers are accepted too."""
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ShapeError(f"{where}.{key}: expected an amount such as \"23.44\", got {describe(value)}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ShapeError(f"{where}.{key}: {value!r} is not an amount") from None
    if not amount.is_finite():
        raise ShapeError(f"{where}.{key}: {value!r} is not a finite amount")
    return amount


def optional_money(obj: Mapping[str, Any], key: str, where: str) -> Decimal | None:
    return None if obj.get(key) is None else money(obj, key, where)


def timestamp(obj: Mapping[str, Any], key: str) -> float | None:
    """Unix seconds from an ISO 8601 time ("2020-07-21T18:37:44Z"); None when absent or unreadable."""
    return iso_timestamp(obj.get(key))


def iso_timestamp(value: object) -> float | None:
    """`timestamp` of a value already read (a typed item's field)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None  # the API always sends a zone; a time without one cannot be placed
    return parsed.timestamp()
