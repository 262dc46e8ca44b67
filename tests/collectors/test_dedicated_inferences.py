"""Dedicated inference endpoints: the official examples of the list and of the sizes, the
models and GPUs of an endpoint and their hourly price, an unpriced slug, shape errors, the
request count, and the 403 that disables only this collector."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exporter.collectors import dedicated_inferences
from exporter.collectors.dedicated_inferences import ENDPOINT, SIZES
from exporter.collectors.fields import ShapeError
from exporter.exposition import encode_collector
from exporter.simulator import FleetSpec
from tests.collectors.fakes import FakeReader
from tests.collectors.forbidden import assert_disabled_naming, poll_without
from tests.conftest import example_reader, spec_example

EXAMPLE = "6b5c619c-359c-44ca-87e2-47e98170c01d"
PREFIX = "digitalocean_dedicated_inference"


def with_models() -> dict[str, Any]:
    body: dict[str, Any] = spec_example(ENDPOINT)
    body["dedicated_inferences"][0]["spec"] = {
        "version": 1, "name": "chat", "region": "nyc2", "vpc": {"uuid": "v"},
        "enable_public_endpoint": True,
        "model_deployments": [
            {"model_slug": "mistral/mistral-7b-instruct-v3", "model_provider": "hugging_face",
             "accelerators": [{"scale": 2, "type": "prefill_decode",
                               "accelerator_slug": "gpu-mi300x1-192gb"}]},
            {"model_slug": "meta/llama", "accelerators": [
                {"scale": 1, "type": "prefill_decode", "accelerator_slug": "gpu-mi300x1-192gb"},
                {"scale": "many", "type": "prefill_decode", "accelerator_slug": "gpu-x"}]},
        ],
    }
    return body


async def test_values_from_the_official_examples() -> None:
    reader = example_reader()
    records = await dedicated_inferences.fetch(reader)
    samples = {(n, lab): v for n, lab, v in dedicated_inferences.samples(records)}
    assert samples == {
        (f"{PREFIX}_info", (EXAMPLE, "", "atl1", "997615ce-132d-4bae-9270-9ee21b395e5d")): 1,
        (f"{PREFIX}_status", (EXAMPLE, "active")): 1,
        (f"{PREFIX}_status", (EXAMPLE, "new")): 0,
        (f"{PREFIX}_status", (EXAMPLE, "provisioning")): 0,
        (f"{PREFIX}_status", (EXAMPLE, "updating")): 0,
        (f"{PREFIX}_status", (EXAMPLE, "deleting")): 0,
        (f"{PREFIX}_status", (EXAMPLE, "error")): 0,
        (f"{PREFIX}_created_timestamp_seconds", (EXAMPLE,)): 1704833072.0,
    }  # the example has no spec: no models, no GPUs, so no price
    assert [r.endpoint for r in reader.requests] == [ENDPOINT, SIZES]


async def test_models_gpus_and_the_hourly_price_in_the_endpoints_region() -> None:
    sizes = spec_example(SIZES)  # gpu-mi300x1-192gb at "2" an hour in nyc2
    body = with_models()
    body["dedicated_inferences"][0]["region"] = "nyc2"
    body["dedicated_inferences"][0]["spec"]["model_deployments"][1]["accelerators"].pop()
    records = await dedicated_inferences.fetch(FakeReader({ENDPOINT: body, SIZES: sizes}))
    [record] = records
    assert record.price_hourly == Decimal(6)
    samples = {(n, lab): v for n, lab, v in dedicated_inferences.samples(records)}
    assert samples[(f"{PREFIX}_accelerators", (EXAMPLE, "gpu-mi300x1-192gb"))] == 3
    assert samples[(f"{PREFIX}_price_hourly_usd", (EXAMPLE,))] == 6.0
    assert samples[(f"{PREFIX}_model_info", (EXAMPLE, "mistral/mistral-7b-instruct-v3"))] == 1
    assert samples[(f"{PREFIX}_model_info", (EXAMPLE, "meta/llama"))] == 1
    assert samples[(f"{PREFIX}_info", (EXAMPLE, "chat", "nyc2",
                                       "997615ce-132d-4bae-9270-9ee21b395e5d"))] == 1


async def test_a_gpu_without_a_price_in_the_region_leaves_the_price_unknown() -> None:
    body = with_models()  # in atl1, where the sizes example prices nothing; "many" GPUs ignored
    records = await dedicated_inferences.fetch(FakeReader({ENDPOINT: body, SIZES: spec_example(SIZES)}))
    names = {n for n, _, _ in dedicated_inferences.samples(records)}
    assert f"{PREFIX}_price_hourly_usd" not in names
    assert [r.accelerators for r in records] == [(("gpu-mi300x1-192gb", 3),)]


async def test_no_endpoints_no_sizes_request() -> None:
    reader = FakeReader({ENDPOINT: {"dedicated_inferences": [], "links": {}, "meta": {"total": 0}}})
    assert await dedicated_inferences.fetch(reader) == ()
    assert [r.endpoint for r in reader.requests] == [ENDPOINT]


async def test_the_endpoints_urls_are_never_copied() -> None:
    records = await dedicated_inferences.fetch(example_reader())
    text = repr(records) + b"".join(
        encode_collector("p", dedicated_inferences.COLLECTOR, records).values()).decode()
    assert "do-infra.ai" not in text


def test_an_endpoint_without_its_id_and_a_bad_price_fail_the_poll() -> None:
    with pytest.raises(ShapeError) as caught:
        dedicated_inferences.parse_page([{"status": "active"}], 0)
    assert str(caught.value) == (
        "/v2/dedicated-inferences dedicated_inferences[0].id: expected a non-empty string, got null")
    with pytest.raises(ShapeError, match=r"^/v2/dedicated-inferences/sizes sizes\[0\]\.price_per_hour: "
                                         r"'two' is not an amount$"):
        dedicated_inferences.parse_prices({"sizes": [
            {"gpu_slug": "g", "region": "nyc2", "price_per_hour": "two", "currency": "USD"}]})


async def test_a_403_disables_only_this_collector_and_names_its_scope(tmp_path: Path) -> None:
    refused = await poll_without(dedicated_inferences.COLLECTOR, "dedicated_inference:read",
                                 FleetSpec(seed=3, droplets=24, dedicated_inferences=1), tmp_path)
    assert_disabled_naming(refused, dedicated_inferences.COLLECTOR)
