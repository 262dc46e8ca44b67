"""Property-based tests: whatever JSON the API sends and whatever YAML a user writes, the
exporter answers with a valid record or a clear error that names a place, never another
exception.

Collectors get the official examples with a few nodes replaced by any JSON value, dropped,
emptied or repeated (and sometimes arbitrary JSON), through a reader that behaves like
`api.AccountApi` (a non-object body or a page without its list is a ResponseError, as the real
client raises). The config loaders get config-shaped mappings with wrong types and values,
and arbitrary text.
"""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exporter.api import ApiError, RepeatFilter, ResponseError
from exporter.cli import collector_defaults
from exporter.collectors import COLLECTORS, collector_table
from exporter.collectors.base import Collector, PollContext, ResourceReader
from exporter.collectors.fields import ShapeError
from exporter.config import ConfigError, Settings, describe_settings, load_settings
from exporter.exposition import encode_collector
from exporter.pricing import load_price_table
from exporter.webconfig import WebConfig, WebConfigError, load_web_config
from tests.collectors.fakes import FakeReader
from tests.conftest import READ_TOKEN, example_reader
from tests.test_exposition import mysql_twin, network_twin, poll_all

PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,  # a slow example on a busy CI machine is not a failure
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
    database=None,
)

SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats() | st.text(max_size=30)
           # strings the parsers look into: times, amounts, ids, URNs
           | st.sampled_from(["", "2020-07-21T18:37:44Z", "2020-07-21T18:37:44", "23.44", "-1",
                              "NaN", "1e400", "do:droplet:1", "do:droplet:", "active", "x" * 300]))
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children,
                                                                       max_size=4),
    max_leaves=20,
)


def node_paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path (keys and indexes) of every node of a JSON value, the root included."""
    found = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            found += node_paths(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += node_paths(item, (*here, index))
    return found


def mutate(data: st.DataObject, value: Any) -> Any:
    """A copy of `value` with a few nodes replaced by any JSON, dropped, emptied or repeated.

    Mutating chosen nodes (rather than deciding at every node) keeps each example cheap and
    most of the answer intact, so the parsers get past the first field.
    """
    result = copy.deepcopy(value)
    paths = node_paths(value)
    for _ in range(data.draw(st.integers(0, 4), label="mutations")):
        path = data.draw(st.sampled_from(paths), label="where")
        action = data.draw(st.sampled_from(["replace", "replace", "drop", "empty", "repeat"]))
        replacement = data.draw(JSON, label="with") if action == "replace" else None
        if not path:
            if action == "replace":
                result = replacement
            continue
        parent: Any = result
        for step in path[:-1]:
            try:
                parent = parent[step]
            except (KeyError, IndexError, TypeError):
                break  # an earlier mutation removed the way there
        else:
            last = path[-1]
            if not isinstance(parent, dict | list):
                continue  # an earlier mutation replaced the container
            try:
                current = parent[last]
            except (KeyError, IndexError, TypeError):
                continue
            if action == "replace":
                parent[last] = replacement
            elif action == "drop" and isinstance(parent, dict):
                del parent[last]
            elif action == "empty":
                parent[last] = type(current)() if isinstance(current, list | dict | str) else None
            elif action == "repeat" and isinstance(parent, list):
                parent.insert(last, copy.deepcopy(current))  # the same object listed twice
    return result


@cache
def examples() -> FakeReader:
    return example_reader()


def example_for(endpoint: str, params: Mapping[str, str] | None) -> Any:
    found = examples().lookup(endpoint, None, params)
    if found is None:  # the same endpoint with other parameters
        found = next((body for r, body in examples().answers.items()
                      if r.split("?")[0] == endpoint), None)
    return found


class FuzzReader:
    """A ResourceReader whose answers are the official examples, mutated, or any JSON."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data

    def now(self) -> float:
        return 1735779600.0

    def _answer(self, example: Any, endpoint: str) -> Any:
        if example is None or self.data.draw(st.integers(0, 9), label=endpoint) == 0:
            return self.data.draw(JSON, label=endpoint)
        return mutate(self.data, example)

    async def get(self, endpoint: str, *, path: Any = None, params: Any = None) -> dict[str, Any]:
        body = self._answer(example_for(endpoint, params), endpoint)
        if not isinstance(body, dict):  # what DigitalOceanClient does with such an answer
            raise ResponseError(f"{endpoint}: HTTP 200 answer is JSON but not an object",
                                endpoint=endpoint)
        return body

    async def get_or_none(self, endpoint: str, *, path: Any = None,
                          params: Any = None) -> dict[str, Any]:
        return await self.get(endpoint, path=path, params=params)  # never a 404 here

    async def list_all(self, endpoint: str, key: str, *, path: Any = None,
                       params: Any = None, parse: Any = None, missing_ok: bool = False,
                       id_key: str | None = "id") -> list[Any]:
        example = example_for(endpoint, params)
        items = self._answer(example.get(key) if isinstance(example, dict) else None, endpoint)
        if not isinstance(items, list):  # DigitalOceanClient: a page without its list
            raise ResponseError(f"{endpoint}: page 1 has no {key!r} list", endpoint=endpoint)
        # one page, its repeated ids dropped and parsed as it arrives, as the client does
        return RepeatFilter(parse or (lambda page, start: page), id_key).parse(items, 0)


async def fetch(collector: Collector[Any], reader: ResourceReader) -> Any:
    """One poll of `collector` as a coroutine, which asyncio.run needs (fetch is any awaitable).
    A collector that builds on others' data (`inputs`) gets what they make of the unmutated
    examples, as the poller hands it their last good data: only its own answers are fuzzed."""
    inputs = {name: await collector_table()[name].fetch(example_reader()) for name in collector.inputs}
    return await collector.collect(reader, PollContext(inputs=inputs))


def check_collector(collector: Collector[Any], data: st.DataObject) -> None:
    error: str | None
    try:
        records = asyncio.run(fetch(collector, FuzzReader(data)))
    except ShapeError as exc:
        error = str(exc)
    except ApiError:
        return  # the client's own refusals, handled by the poller like any failed request
    else:
        error = None
    if error is not None:
        # the message names the endpoint and the place in the answer
        assert re.match(r"^/v[12]/\S+.*: .+", error), error
        return
    for name, labels, value in collector.samples(records):
        assert isinstance(name, str)
        assert all(isinstance(label, str) for label in labels), labels
        assert isinstance(value, int | float), value
    lines = encode_collector("fuzz", collector, records)  # label arity and values render
    # a raw carriage return is allowed in a label value; only "\n" ends a sample line
    assert all(line.startswith(family + "{") for family, text in lines.items()
               for line in text.decode().split("\n")[:-1])


@pytest.mark.parametrize("collector", COLLECTORS, ids=lambda c: c.name)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_any_api_answer_gives_records_or_a_shape_error(collector: Collector[Any],
                                                       data: st.DataObject) -> None:
    check_collector(collector, data)


def test_the_unmutated_examples_parse() -> None:
    """The strategies start from answers the collectors accept (else the fuzzing would only
    ever see errors). The official examples hold no MySQL cluster and no network load
    balancer, whose Monitoring API metrics are the only ones of their collectors: their twins
    are added to the inputs, as for the golden exposition."""
    polled = asyncio.run(poll_all(example_reader(), {"databases": (mysql_twin(),),
                                                     "load_balancers": (network_twin(),)}))
    for collector in COLLECTORS:
        assert list(collector.samples(polled[collector.name])), collector.name


# -- the config loaders -----------------------------------------------------------------------

DURATIONS = st.one_of(
    # (a duration too large for a float is left to test_a_huge_duration_is_an_error)
    st.sampled_from(["30s", "5m", "1h", "1m30s", "250ms", "4s", "0s", "", "10x", "-1s", "1.5h",
                     "9" * 20 + "h"]),
    st.integers(0, 10**6).map(lambda n: f"{n}s"),
    JSON,
)
URLS = st.sampled_from([
    "https://api.digitalocean.com", "http://127.0.0.1:8080", "http://localhost", "http://[::1]:1",
    "http://api.example.com", "ftp://x", "https://user:pw@host", "https://host/path",
    "https://host?q=1", "https://", "", "https://does-not-exist.invalid/",
]) | JSON


def token_sources(directory: Path) -> st.SearchStrategy[dict[str, Any]]:
    files = st.sampled_from([str(directory / "token"), str(directory / "missing"),
                             str(directory / "empty"), str(directory / "two"), str(directory),
                             "token", "~/nope"]) | JSON
    return st.fixed_dictionaries({}, optional={
        "name": st.sampled_from(["production", "staging", "bad name", "", "a" * 70]) | JSON,
        "token_file": files,
        "token_env": st.sampled_from(["DO_T", "UNSET", ""]) | JSON,
        "token": st.sampled_from([READ_TOKEN, "", "dor_v1_x", "two words", "\x00"]) | JSON,
        "extra": JSON,
    })


# A directory name longer than the system allows is left to test_a_too_long_tokens_dir_is_an_error.
PATH_LIKE_JSON = JSON.filter(lambda value: not (isinstance(value, str) and len(value) > 255))


@cache
def config_documents(directory: Path) -> st.SearchStrategy[Any]:
    collectors = st.dictionaries(
        st.sampled_from([c.name for c in COLLECTORS] + ["nope"]),
        st.fixed_dictionaries({}, optional={
            "enabled": st.booleans() | JSON, "interval": DURATIONS, "stale_after": DURATIONS,
            "other": JSON,
        }) | JSON,
        max_size=4,
    )
    prices = [*list(load_price_table().prices)[:5], "database_node_month", "nope"]
    pricing = st.dictionaries(
        st.sampled_from(prices),
        st.sampled_from(["5.00", "-1", "x", "1e400", "NaN", 3, True]) | JSON
        | st.dictionaries(st.text(max_size=8), st.sampled_from(["1.00", "x"]) | JSON, max_size=2),
        max_size=3,
    )
    shaped = st.fixed_dictionaries({}, optional={
        "accounts": st.lists(token_sources(directory), max_size=3) | JSON,
        "tokens_dir": st.sampled_from([str(directory / "tokens"), str(directory / "missing"),
                                       str(directory / "token")]) | PATH_LIKE_JSON,
        "token_policy": st.fixed_dictionaries({}, optional={
            "write_scopes": st.sampled_from(["refuse", "warn", "x"]) | JSON,
            "unverifiable": st.sampled_from(["refuse", "warn", "x"]) | JSON,
        }) | JSON,
        "api": st.fixed_dictionaries({}, optional={
            "url": URLS, "auth_url": URLS, "timeout": DURATIONS,
            "requests_per_hour": st.integers(-10, 10_000) | JSON,
        }) | JSON,
        "collectors": collectors | JSON,
        "pricing": pricing | JSON,
        "bogus": JSON,
    })
    return st.one_of(shaped, shaped, shaped, JSON.filter(lambda doc: not isinstance(doc, dict)))


@pytest.fixture(scope="module")
def token_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("tokens")
    for name, text in (("token", READ_TOKEN), ("empty", ""), ("two", "a b")):
        (directory / name).write_text(text)
        (directory / name).chmod(0o600)
    (directory / "tokens").mkdir()
    (directory / "tokens" / "production").write_text(READ_TOKEN)
    (directory / "tokens" / ".hidden").write_text("x")
    return directory


def names_a_place(problem: str) -> bool:
    """`place: message`, the place a key path, `(top level)` or `(yaml) line L, column C`; an
    unknown key is its own place, however odd its name."""
    place, separator, message = problem.partition(": ")
    return bool(separator and message.strip() and (place or message.startswith("unknown key")))


def check_config(path: Path, text: str) -> None:
    path.write_text(text)
    try:
        loaded: Settings = load_settings(path, {"DO_T": READ_TOKEN}, collector_defaults())
    except ConfigError as exc:
        error: ConfigError | None = exc
    else:
        error = None
    if error is not None:
        assert error.problems, "an error without a problem"
        for problem in error.problems:
            assert names_a_place(problem), problem
        assert READ_TOKEN not in str(error)
        return
    if not loaded.accounts:
        return  # a known bug: see test_an_empty_account_list_is_an_error
    summary = describe_settings(loaded)  # what --config.check prints
    assert READ_TOKEN not in summary
    for collector in loaded.collectors.values():
        assert collector.interval >= 5
        assert collector.stale_after >= collector.interval
    for amount in loaded.pricing.prices.values():
        assert isinstance(amount, Decimal)
        assert amount.is_finite()


def test_an_empty_account_list_is_an_error(tmp_path: Path) -> None:
    """Found by the property above: an empty account list is reported, not accepted."""
    path = tmp_path / "config.yml"
    path.write_text("accounts: []\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, {}, collector_defaults())
    assert caught.value.problems[0].startswith("accounts: ")


def test_a_huge_duration_is_an_error(tmp_path: Path) -> None:
    """Found by the property above: a duration too large for a float is not a duration."""
    path = tmp_path / "config.yml"
    path.write_text(f"accounts: [{{name: a, token: {READ_TOKEN}}}]\n"
                    f"collectors: {{droplets: {{interval: {'9' * 400}h, stale_after: 30s}}}}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, {}, collector_defaults())
    assert caught.value.problems[0].startswith("collectors.droplets.interval: ")


def test_a_too_long_tokens_dir_is_an_error(tmp_path: Path) -> None:
    """Found by the property above: an unreadable tokens_dir path is a config problem."""
    path = tmp_path / "config.yml"
    path.write_text(f"tokens_dir: {tmp_path / ('x' * 300)}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, {}, collector_defaults())
    assert caught.value.problems[0].startswith("tokens_dir: ")


def dump(document: Any) -> str:
    return yaml.safe_dump(document, allow_unicode=True)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_any_config_document_gives_settings_or_errors_with_places(
    tmp_path: Path, token_directory: Path, data: st.DataObject
) -> None:
    document = data.draw(config_documents(token_directory))
    check_config(tmp_path / "config.yml", dump(document))


@PROPERTY_SETTINGS
@given(text=st.text(max_size=200) | st.sampled_from(["{", "- [", "a: !!python/object:os.system x",
                                                      "a: &x [*x]", "\t", "accounts: {name: 1"]))
def test_any_config_text_gives_settings_or_errors_with_places(tmp_path: Path, text: str) -> None:
    check_config(tmp_path / "config.yml", text)


@cache
def web_documents(directory: Path) -> st.SearchStrategy[Any]:
    files = st.sampled_from([str(directory / "token"), str(directory / "missing"), str(directory),
                             ""]) | JSON
    bcrypt_like = st.sampled_from(["$2y$10$" + "a" * 53, "$2b$04$" + "." * 53, "plain", ""]) | JSON
    unhashable = st.sampled_from([[], {}, ["TLS12"]])  # values a lookup table cannot take
    shaped = st.fixed_dictionaries({}, optional={
        "tls_server_config": st.fixed_dictionaries({}, optional={
            "cert_file": files, "key_file": files, "client_ca_file": files,
            "client_auth_type": st.sampled_from(["NoClientCert", "RequireAndVerifyClientCert",
                                                 "RequireAnyClientCert", "x"]) | unhashable | JSON,
            "min_version": st.sampled_from(["TLS12", "TLS13", "TLS10", "x"]) | unhashable | JSON,
            "max_version": st.sampled_from(["TLS12", "TLS13", "x"]) | unhashable | JSON,
            "cipher_suites": JSON,
        }) | JSON,
        "http_server_config": st.fixed_dictionaries({}, optional={
            "http2": st.booleans() | JSON,
            "headers": st.dictionaries(st.sampled_from(["X-Frame-Options", "Content-Length",
                                                        "x-content-type-options"]),
                                       st.sampled_from(["deny", "nosniff", "", "a\nb"]) | unhashable
                                       | JSON,
                                       max_size=3) | JSON,
        }) | JSON,
        "basic_auth_users": st.dictionaries(st.text(max_size=8) | st.integers(), bcrypt_like,
                                            max_size=3) | JSON,
        "probes_without_auth": st.booleans() | JSON,
        "rate_limit": JSON,
    })
    return st.one_of(shaped, shaped, JSON)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_any_web_config_gives_a_config_or_errors_with_places(
    tmp_path: Path, token_directory: Path, data: st.DataObject
) -> None:
    document = data.draw(web_documents(token_directory))
    text = dump(document) if not data.draw(st.booleans()) else data.draw(st.text(max_size=80))
    path = tmp_path / "web.yml"
    path.write_text(text)
    try:
        web = load_web_config(path)
    except WebConfigError as exc:
        error: WebConfigError | None = exc
    else:
        error = None
    if error is not None:
        assert error.problems
        for problem in error.problems:
            assert names_a_place(problem), problem
            assert "a" * 53 not in problem  # a hash is never echoed
        return
    assert isinstance(web, WebConfig)
    web.describe()
    for user, hashed in web.basic_auth_users.items():
        assert ":" not in user
        assert hashed.startswith("$2")
