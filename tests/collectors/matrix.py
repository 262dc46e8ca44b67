"""Monitoring API answers for collector tests: the spec's own examples where it has them, and
matrices of the shape the spec documents where it has none."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from exporter.collectors.base import Collector, PollContext
from tests.collectors.fakes import Answer, FakeReader, Request
from tests.conftest import full_spec, official_example, spec_example

JSON = dict[str, Any]


def matrix(*series: tuple[Mapping[str, str], Sequence[Sequence[Any]]]) -> JSON:
    """A successful matrix answer with these (labels, values) series."""
    return {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": dict(labels), "values": [list(v) for v in values]} for labels, values in series
    ]}}


def spec_matrix(endpoint: str, name: str | None = None) -> JSON:
    """The spec's example answer of a monitoring endpoint; where it has none, one series made
    of the schema's own `metric` and `values` examples."""
    if name is not None or official_example(endpoint) is not None:
        body: JSON = spec_example(endpoint, name)
        return body
    content = full_spec()["paths"][endpoint]["get"]["responses"]["200"]["content"]
    item = content["application/json"]["schema"]["properties"]["data"]["properties"]["result"]["items"]
    return matrix((item["properties"]["metric"]["example"], item["properties"]["values"]["example"]))


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
