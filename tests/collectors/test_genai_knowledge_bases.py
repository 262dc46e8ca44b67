"""GenAI knowledge bases: the spec's schema examples (the operation has no example answer),
the last indexing job, a knowledge base never indexed, shape errors, paging, and the 403 that
disables only this collector."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.collectors import genai_knowledge_bases
from exporter.collectors.fields import ShapeError
from exporter.simulator import FleetSpec
from tests.collectors.fakes import FakeReader
from tests.collectors.forbidden import assert_disabled_naming, poll_without
from tests.conftest import example_reader

ENDPOINT = "/v2/gen-ai/knowledge_bases"
BASE = "123e4567-e89b-12d3-a456-426614174000"  # every uuid of the schema's examples
PREFIX = "digitalocean_genai_knowledge_base"


async def test_values_from_the_schema_examples() -> None:
    records = await genai_knowledge_bases.fetch(example_reader())
    samples = {(n, lab): v for n, lab, v in genai_knowledge_bases.samples(records)}
    assert samples[(f"{PREFIX}_info", (BASE, "example name", "example string", BASE, BASE))] == 1
    assert samples[(f"{PREFIX}_created_timestamp_seconds", (BASE,))] == 1672531200.0
    assert samples[(f"{PREFIX}_last_indexing_status", (BASE, "index_job_status_unknown"))] == 1
    assert samples[(f"{PREFIX}_last_indexing_status", (BASE, "index_job_status_failed"))] == 0
    assert samples[(f"{PREFIX}_last_indexing_finished_timestamp_seconds", (BASE,))] == 1672531200.0
    assert len([n for n, _ in samples if n == f"{PREFIX}_last_indexing_status"]) == 8


def test_a_knowledge_base_never_indexed_has_no_indexing_series() -> None:
    [record] = genai_knowledge_bases.parse_page([{"uuid": "kb", "last_indexing_job": None}], 0)
    names = {n for n, _, _ in genai_knowledge_bases.samples((record,))}
    assert names == {f"{PREFIX}_info"}


def test_a_failed_indexing_job_is_the_current_state() -> None:
    [record] = genai_knowledge_bases.parse_page([{"uuid": "kb", "last_indexing_job": {
        "status": "INDEX_JOB_STATUS_FAILED", "finished_at": "2026-11-02T10:00:00Z"}}], 0)
    current = [lab[1] for n, lab, v in genai_knowledge_bases.samples((record,))
               if n == f"{PREFIX}_last_indexing_status" and v == 1]
    assert current == ["index_job_status_failed"]


def test_a_knowledge_base_without_its_uuid_fails_the_poll_naming_the_place() -> None:
    with pytest.raises(ShapeError) as caught:
        genai_knowledge_bases.parse_page([{"name": "docs"}], 0)
    assert str(caught.value) == (
        "/v2/gen-ai/knowledge_bases knowledge_bases[0].uuid: expected a non-empty string, got null")


async def test_450_knowledge_bases_arrive_once_each() -> None:
    bases = [{"uuid": f"kb{i:03d}"} for i in range(450)]
    reader = FakeReader({ENDPOINT: {"knowledge_bases": bases}})
    records = await genai_knowledge_bases.fetch(reader)
    assert [r.knowledge_base_id for r in records] == [b["uuid"] for b in bases]


async def test_a_403_disables_only_this_collector_and_names_genai_read(tmp_path: Path) -> None:
    refused = await poll_without(genai_knowledge_bases.COLLECTOR, "genai:read",
                                 FleetSpec(seed=3, droplets=24, genai_knowledge_bases=1), tmp_path)
    assert_disabled_naming(refused, genai_knowledge_bases.COLLECTOR)
