"""Monitoring API answers for collector tests: matrices of the shape the spec documents, and
the spec's own examples (`spec_matrix`, from tests.conftest)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from exporter.collectors.base import Collector, PollContext
from tests.collectors.fakes import Answer, FakeReader, Request

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
