"""The strict-YAML toolkit both config files are read with: loader, problem list, type names,
durations and the reader, each with its exact message."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from exporter.strictyaml import (
    InvalidFileError,
    Problems,
    StrictReader,
    describe_type,
    format_duration,
    key_path,
    load_document,
    parse_duration,
    unknown_key,
)


class ExampleError(InvalidFileError):
    kind = "example configuration"
    noun = "example file"


def load_text(tmp_path: Path, text: str) -> object:
    path = tmp_path / "example.yml"
    path.write_text(text)
    return load_document(path, ExampleError)


def problems_of(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ExampleError) as caught:
        load_text(tmp_path, text)
    return caught.value.problems


# -- the file and the loader -------------------------------------------------------------------


def test_a_document_is_loaded_and_an_empty_file_is_none(tmp_path: Path) -> None:
    assert load_text(tmp_path, "a: [1, 2]\nb: {c: x}\n") == {"a": [1, 2], "b": {"c": "x"}}
    assert load_text(tmp_path, "") is None


def test_the_error_names_the_file_then_lists_every_problem() -> None:
    error = ExampleError("/etc/x.yml", ["a: first", "b.c: second"])
    assert str(error).splitlines() == [
        "invalid example configuration (/etc/x.yml):", "  a: first", "  b.c: second"
    ]
    assert (error.source, error.problems) == ("/etc/x.yml", ["a: first", "b.c: second"])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: 1\nb:\n  c: 2\n  c: 3\n",
         "(yaml) line 4, column 3: key 'c' appears twice in one mapping"),
        ("a: [\n", "(yaml) line 2, column 1: expected the node content, but found '<stream end>'"),
        ("a: b: c\n", "(yaml) line 1, column 5: mapping values are not allowed here"),
        ("a: 1\nb: x\x07y\n",
         "(yaml) line 2, column 5: unacceptable character #x0007: special characters are not "
         "allowed"),
        ("? [a]\n: 1\n", "(yaml) line 1, column 3: found unhashable key"),
        ("a: !!python/object:os.system x\n",
         "(yaml) line 1, column 4: could not determine a constructor for the tag "
         "'tag:yaml.org,2002:python/object:os.system'"),
    ],
)
def test_yaml_errors_are_one_line_with_line_and_column(
    tmp_path: Path, text: str, problem: str
) -> None:
    assert problems_of(tmp_path, text) == [problem]


def test_a_syntax_error_never_quotes_the_file(tmp_path: Path) -> None:
    secret = "dop_v1_" + "1" * 64
    [problem] = problems_of(tmp_path, f"token: {secret}\n  bad: [\n")
    assert secret not in problem
    assert "\n" not in problem


def test_files_that_cannot_be_read(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yml"
    with pytest.raises(ExampleError) as caught:
        load_document(missing, ExampleError)
    assert caught.value.problems == [f"example file {missing} does not exist"]
    with pytest.raises(ExampleError) as caught:
        load_document(tmp_path, ExampleError)
    assert caught.value.problems == [f"example file {tmp_path} is a directory"]
    latin1 = tmp_path / "latin1.yml"
    latin1.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ExampleError) as caught:
        load_document(latin1, ExampleError)
    assert caught.value.problems == [f"example file {latin1} cannot be read: UnicodeDecodeError"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_a_file_without_read_permission(tmp_path: Path) -> None:
    locked = tmp_path / "locked.yml"
    locked.write_text("a: 1\n")
    locked.chmod(0)
    with pytest.raises(ExampleError) as caught:
        load_document(locked, ExampleError)
    assert caught.value.problems == [f"example file {locked} cannot be read: Permission denied"]


# -- names in messages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "name"),
    [(None, "null"), (True, "a boolean"), (3, "an integer"), (1.5, "a number"), ("x", "a string"),
     ([], "a list"), ({}, "a mapping"), (b"x", "bytes")],
)
def test_describe_type(value: object, name: str) -> None:
    assert describe_type(value) == name


@pytest.mark.parametrize(
    ("path", "key", "shown"),
    [("", "api", "api"), ("api", "url", "api.url"), ("users", "bob:x", "users.bob:x"),
     ("users", "", "users.''"), ("users", " ", "users.' '"), ("users", "a\nb", "users.'a\\nb'"),
     ("sizes", 3, "sizes.3"), ("", None, "None")],
)
def test_key_path_keeps_each_problem_on_one_readable_line(path: str, key: object, shown: str) -> None:
    assert key_path(path, key) == shown


def test_problems_name_the_top_level() -> None:
    problems = Problems()
    problems.add("", "expected a mapping, got a list")
    problems.add("api.url", "must not be empty")
    assert problems.items == ["(top level): expected a mapping, got a list",
                              "api.url: must not be empty"]


def test_unknown_key_suggests_only_a_near_miss() -> None:
    known = ("accounts", "tokens_dir", "api")
    assert unknown_key("acounts", known) == (
        "unknown key (did you mean accounts?); known keys are accounts, tokens_dir, api"
    )
    assert unknown_key("token_dir", known) == (
        "unknown key (did you mean tokens_dir?); known keys are accounts, tokens_dir, api"
    )
    assert unknown_key("bogus", known) == "unknown key; known keys are accounts, tokens_dir, api"


# -- durations -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h", 3600), ("1m30s", 90), ("250ms", 0.25), ("1.5h", 5400)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "10x", "m", "1h 2m", "-5s", "5s3", "9" * 400 + "h"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011  # the message is the input itself
        parse_duration(text)


def test_format_duration() -> None:
    assert [format_duration(s) for s in (5, 90, 3600, 3661, 0.25)] == [
        "5s", "1m30s", "1h", "1h1m1s", "250ms"
    ]


# -- the reader ----------------------------------------------------------------------------------


def test_mapping_keeps_known_keys_and_reports_every_other_one() -> None:
    reader = StrictReader()
    value: dict[Any, Any] = {"url": "x", "urll": 1, "cipher": [], 7: "seven", "bogus": None}
    found = reader.mapping(value, "api", ("url", "timeout"), {"cipher": "is not supported here"})
    assert found == {"url": "x"}
    assert reader.problems.items == [
        "api.urll: unknown key (did you mean url?); known keys are url, timeout",
        "api.cipher: is not supported here",
        "api: key 7 is not a string",
        "api.bogus: unknown key; known keys are url, timeout",
    ]


def test_each_reader_returns_the_value_or_none_with_its_problem() -> None:
    reader = StrictReader()
    assert reader.mapping([], "", ("a",)) is None
    assert reader.mapping_of("x", "users", "a mapping of user names to hashes") is None
    assert reader.mapping_of({1: 2}, "users") == {1: 2}
    assert reader.sequence({}, "accounts") is None
    assert reader.sequence([1], "accounts") == [1]
    assert reader.string(3, "name") is None
    assert reader.string("", "name") is None
    assert reader.string(None, "cert_file", "a file name") is None
    assert reader.string("x", "name") == "x"
    assert reader.integer(True, "count") is None
    assert reader.integer("3", "count") is None
    assert reader.integer(3, "count") == 3
    assert reader.boolean("yes", "enabled") is None
    assert reader.boolean(False, "enabled") is False
    assert reader.choice("allow", "policy", ("refuse", "warn")) is None
    assert reader.choice(["warn"], "policy", ("refuse", "warn")) is None
    assert reader.choice("warn", "policy", ("refuse", "warn")) == "warn"
    assert reader.require({"name": "a"}, "accounts[0]", "name")
    assert not reader.require({}, "accounts[0]", "name", "token")
    assert reader.problems.items == [
        "(top level): expected a mapping, got a list",
        "users: expected a mapping of user names to hashes, got a string",
        "accounts: expected a list, got a mapping",
        "name: expected a string, got an integer",
        "name: must not be empty",
        "cert_file: expected a file name, got null",
        "count: expected an integer, got a boolean",
        "count: expected an integer, got a string",
        "enabled: expected true or false, got a string",
        "policy: 'allow' is not one of refuse, warn",
        "policy: a list is not one of refuse, warn",
        "accounts[0]: missing required key name",
        "accounts[0]: missing required key token",
    ]


def test_duration_reader() -> None:
    reader = StrictReader()
    assert reader.duration("1m30s", "interval", minimum=5) == 90
    assert reader.duration(30, "interval") is None
    assert reader.duration("soon", "interval") is None
    assert reader.duration("1s", "interval", minimum=5) is None
    assert reader.duration("0s", "timeout") is None
    assert reader.problems.items == [
        "interval: expected a duration such as 30s, 5m or 1h, got an integer",
        "interval: 'soon' is not a duration; use a number with a unit, e.g. 30s, 5m, 1h",
        "interval: 1s is below the minimum of 5s",
        "timeout: must be greater than zero",
    ]
