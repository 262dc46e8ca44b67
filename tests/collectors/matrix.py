"""Monitoring API answers for collector tests: matrices of the shape the spec documents, and
the spec's own examples (`spec_matrix`, from tests.conftest)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from exporter.api import ScopeMissingError
from exporter.collectors.base import Collector, PollContext
from tests.collectors.fakes import Answer, FakeReader, Request
from tests.conftest import full_spec

JSON = dict[str, Any]


def matrix(*series: tuple[Mapping[str, str], Sequence[Sequence[Any]]]) -> JSON:
    """A successful matrix answer with these (labels, values) series."""
    return {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": dict(labels), "values": [list(v) for v in values]} for labels, values in series
    ]}}


def reader_for(respond: Callable[[str, Mapping[str, str]], Answer | None], now: float) -> FakeReader:
    return FakeReader({}, now=now, respond=respond)


def made(reader: FakeReader) -> list[Request]:
    return [r for r in reader.requests if r.endpoint.startswith("/v2/monitoring/")]


async def poll(collector: Collector[Any], reader: FakeReader, context: PollContext) -> dict[
        tuple[str, tuple[str, ...]], float]:
    """One poll's samples, by (family, label values)."""
    data = await collector.collect(reader, context)
    found: dict[tuple[str, tuple[str, ...]], float] = {}
    for name, labels, value in collector.samples(data):
        assert (name, labels) not in found, f"{name}{labels} twice"
        found[(name, labels)] = value
    return found


async def assert_a_403_stops_the_poll(collector: Collector[Any], context: PollContext,
                                      now: float) -> None:
    """A 403 from the Monitoring API fails the poll with the scope the spec names for every
    endpoint of the collector's product (`monitoring:read`)."""
    with pytest.raises(ScopeMissingError):
        await collector.collect(reader_for(lambda endpoint, params: 403, now), context)
    base = collector.endpoints[0].rsplit("/", 1)[0]
    paths = full_spec()["paths"]
    assert set(collector.endpoints) == {p for p in paths if p.startswith(f"{base}/")}
    for endpoint in collector.endpoints:
        assert paths[endpoint]["get"]["security"] == [{"bearer_auth": [collector.scope]}]


def assert_monitoring_help_and_settings(collector: Collector[Any], inventory: str) -> None:
    """HELP says how old DigitalOcean's data is and where it is polled from; every family
    starts with the id label; off by default, every 5 minutes, reading `inventory`'s records."""
    base = collector.endpoints[0].rsplit("/", 1)[0]
    for family in collector.families:
        assert "a minute or more old" in family.help, family.name
        assert family.help.endswith(".")
        assert f", polled from {base}/" in family.help, family.name
        assert family.labels[0] == collector.id_label
    assert collector.enabled_by_default is False
    assert collector.interval == 300
    assert collector.inputs == (inventory,)
