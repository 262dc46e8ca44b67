"""Strict YAML files: the one way the config file and the web config file are read and reported.

This module owns what both files share: the loader (a key given twice is an error; syntax errors
become one line with its line and column, never PyYAML's multi-line dump, which quotes the file
and could show a token or a password hash), the problem list (every problem at once, each
`<key path>: <problem>`), the names of YAML types in messages, Go-style durations, and a reader
of plain YAML values into typed ones that rejects unknown keys (suggesting the closest known one).

What a file means (accounts, TLS, ...) is not here: config.py and webconfig.py build on this.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import yaml

TOP_LEVEL = "(top level)"
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {
    "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0,
}


class InvalidFileError(Exception):
    """Every problem found in one file, each `<key path>: <problem>`, under one line naming it."""

    kind: ClassVar[str] = "file"  # what the first line calls the file: "invalid <kind> (<path>):"
    noun: ClassVar[str] = "file"  # what a problem with the file itself calls it

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = [f"invalid {self.kind} ({source}):"] + [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))


def describe_type(value: object) -> str:
    """A YAML value's type as messages name it ("a mapping", "null", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def parse_duration(text: str) -> float:
    """Seconds in a Go-style duration such as `30s`, `1m30s`, `1h` or `250ms`; ValueError if not one."""
    if not text:
        raise ValueError(text)
    pos = 0
    total = 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            raise ValueError(text)
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not math.isfinite(total):
        raise ValueError(text)
    return total


def format_duration(seconds: float) -> str:
    """`90.0` → `1m30s`: durations printed the way users write them."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    whole = int(seconds)
    parts = []
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    fraction = seconds - whole
    if secs or fraction or not parts:
        parts.append(f"{secs + fraction:g}s")
    return "".join(parts)


def key_path(path: str, key: object) -> str:
    """`path.key`, the key quoted when printing it bare would mislead (blank, control characters,
    not a string), so that every problem stays one readable line."""
    shown = key if isinstance(key, str) and key.isprintable() and key.strip() else repr(key)
    return f"{path}.{shown}" if path else shown


class StrictYamlLoader(yaml.SafeLoader):
    """A safe loader that rejects a key given twice in one mapping (the YAML default keeps the
    last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key; the constructor reports it
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


def yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    """`(yaml) line L, column C: <what is wrong>`: the place and the parser's problem only; the
    context lines PyYAML adds could hold a token, a hash or a key."""
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        character = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return (f"(yaml) line {line}, column {column}: unacceptable character "
                f"#x{character:04x}: {exc.reason}")
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or f"not valid YAML ({type(exc).__name__})"
    if mark is not None:
        return f"(yaml) line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return f"(yaml) {problem}"


def load_document(path: Path, error: type[InvalidFileError]) -> object:
    """The YAML document in the file at `path` (None when empty); `error` with one problem if the
    file cannot be read or is not YAML."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(source, [f"{error.noun} {path} does not exist"]) from None
    except IsADirectoryError:
        raise error(source, [f"{error.noun} {path} is a directory"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise error(source, [f"{error.noun} {path} cannot be read: {reason}"]) from None
    try:
        return yaml.load(text, Loader=StrictYamlLoader)  # noqa: S506  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise error(source, [yaml_problem(exc, text)]) from None


class Problems:
    """Every problem found so far, each `<key path>: <problem>` (the top level has a name too)."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{path or TOP_LEVEL}: {message}")


class StrictReader:
    """Reads plain YAML values into typed ones, recording a problem (and returning None) for
    each value that is not what it should be, so that one pass finds every problem."""

    def __init__(self) -> None:
        self.problems = Problems()

    def mapping(
        self,
        value: object,
        path: str,
        known: Sequence[str],
        explained: Mapping[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """The known keys of a mapping; any other key is a problem, with the closest known key
        as a suggestion, or with its own message from `explained`."""
        if not isinstance(value, dict):
            self.problems.add(path, f"expected a mapping, got {describe_type(value)}")
            return None
        found: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                self.problems.add(path, f"key {key!r} is not a string")
            elif key in known:
                found[key] = item
            elif explained is not None and key in explained:
                self.problems.add(key_path(path, key), explained[key])
            else:
                self.problems.add(key_path(path, key), unknown_key(key, known))
        return found

    def mapping_of(self, value: object, path: str, expected: str = "a mapping") -> dict[Any, Any] | None:
        """A mapping whose keys are data (user names, header names), not a fixed set."""
        if not isinstance(value, dict):
            self.problems.add(path, f"expected {expected}, got {describe_type(value)}")
            return None
        return value

    def sequence(self, value: object, path: str) -> list[Any] | None:
        if not isinstance(value, list):
            self.problems.add(path, f"expected a list, got {describe_type(value)}")
            return None
        return value

    def string(self, value: object, path: str, expected: str = "a string") -> str | None:
        """A non-empty string."""
        if not isinstance(value, str):
            self.problems.add(path, f"expected {expected}, got {describe_type(value)}")
            return None
        if not value:
            self.problems.add(path, "must not be empty")
            return None
        return value

    def integer(self, value: object, path: str) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.add(path, f"expected an integer, got {describe_type(value)}")
            return None
        return value

    def boolean(self, value: object, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.problems.add(path, f"expected true or false, got {describe_type(value)}")
            return None
        return value

    def choice(self, value: object, path: str, choices: Collection[str]) -> str | None:
        if not isinstance(value, str) or value not in choices:
            shown = repr(value) if isinstance(value, str) else describe_type(value)
            self.problems.add(path, f"{shown} is not one of {', '.join(choices)}")
            return None
        return value

    def duration(self, value: object, path: str, minimum: float | None = None) -> float | None:
        """Seconds in a Go-style duration above zero (and at least `minimum`)."""
        if not isinstance(value, str):
            self.problems.add(
                path, f"expected a duration such as 30s, 5m or 1h, got {describe_type(value)}"
            )
            return None
        try:
            seconds = parse_duration(value)
        except ValueError:
            self.problems.add(
                path, f"{value!r} is not a duration; use a number with a unit, e.g. 30s, 5m, 1h"
            )
            return None
        if minimum is not None and seconds < minimum:
            self.problems.add(path, f"{value} is below the minimum of {format_duration(minimum)}")
            return None
        if seconds <= 0:
            self.problems.add(path, "must be greater than zero")
            return None
        return seconds

    def require(self, entry: Mapping[str, Any], path: str, *keys: str) -> bool:
        """True if every key is present; a problem for each missing one."""
        missing = [key for key in keys if key not in entry]
        for key in missing:
            self.problems.add(path, f"missing required key {key}")
        return not missing


def unknown_key(key: str, known: Sequence[str]) -> str:
    """`unknown key (did you mean x?); known keys are ...`, the guess only for a near miss."""
    import difflib  # noqa: PLC0415  # only for a misspelled key

    close = difflib.get_close_matches(key, known, n=1)
    guess = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown key{guess}; known keys are {', '.join(known)}"
