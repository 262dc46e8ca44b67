"""Dedicated inference endpoints: GET /v2/dedicated-inferences and the GPU prices of
/v2/dedicated-inferences/sizes (scope dedicated_inference:read, default every 5m).

Each endpoint's name, region and VPC, its state, the models it serves, the GPUs (accelerators)
it runs and what they cost per hour at the prices the sizes list gives for its region. Two
requests per poll, whatever the number of endpoints. The endpoints' URLs and access tokens are
never read.

    digitalocean_dedicated_inference_info{account="production",dedicated_inference_id="6b5c619c-359c-44ca-87e2-47e98170c01d",name="new-dedicated-inference",region="atl1",vpc_uuid="997615ce-132d-4bae-9270-9ee21b395e5d"} 1
    digitalocean_dedicated_inference_price_hourly_usd{account="production",dedicated_inference_id="6b5c619c-359c-44ca-87e2-47e98170c01d"} 2.0
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from exporter.collectors.base import Collector, Family, ResourceReader, Sample, known_values, state_set
from exporter.collectors.fields import (
    money,
    objects,
    optional_int,
    optional_str,
    required_str,
    timestamp,
)

ENDPOINT = "/v2/dedicated-inferences"
SIZES = "/v2/dedicated-inferences/sizes"
STATUSES = ("active", "new", "provisioning", "updating", "deleting", "error")  # the spec's enum

_LABEL = ("dedicated_inference_id",)
INFO = Family(
    "digitalocean_dedicated_inference_info",
    "Dedicated inference endpoint descriptive labels (always 1), polled from "
    "/v2/dedicated-inferences.",
    ("dedicated_inference_id", "name", "region", "vpc_uuid"),
)
STATUS = Family(
    "digitalocean_dedicated_inference_status",
    "Dedicated inference endpoint state (1 for the current one), polled from "
    "/v2/dedicated-inferences.",
    ("dedicated_inference_id", "status"),
)
CREATED = Family(
    "digitalocean_dedicated_inference_created_timestamp_seconds",
    "When the dedicated inference endpoint was created, polled from /v2/dedicated-inferences.",
    _LABEL,
)
MODEL = Family(
    "digitalocean_dedicated_inference_model_info",
    "A model the dedicated inference endpoint serves (always 1, one series per model), polled "
    "from /v2/dedicated-inferences.",
    ("dedicated_inference_id", "model"),
)
ACCELERATORS = Family(
    "digitalocean_dedicated_inference_accelerators",
    "GPUs of each slug the dedicated inference endpoint's models run on, polled from "
    "/v2/dedicated-inferences.",
    ("dedicated_inference_id", "accelerator_slug"),
)
PRICE = Family(
    "digitalocean_dedicated_inference_price_hourly_usd",
    "What the dedicated inference endpoint's GPUs cost per hour at the region's prices, polled "
    "from /v2/dedicated-inferences/sizes.",
    _LABEL,
)


@dataclass(frozen=True, slots=True)
class DedicatedInferenceRecord:
    inference_id: str
    name: str
    region: str
    vpc_uuid: str
    status: str
    created_at: float | None
    models: tuple[str, ...]
    accelerators: tuple[tuple[str, int], ...]  # (slug, GPUs), by slug
    price_hourly: Decimal | None  # None when a slug has no price in its region


def parse_page(
    items: list[Any], start: int, where: str = f"{ENDPOINT} dedicated_inferences"
) -> list[DedicatedInferenceRecord]:
    records = []
    for path, item in objects(items, where, start):
        spec = _lenient_object(item, "spec")
        models: list[str] = []
        gpus: dict[str, int] = {}
        deployments = spec.get("model_deployments")
        for deployment in deployments if isinstance(deployments, list) else []:
            if not isinstance(deployment, dict):
                continue
            if model := optional_str(deployment, "model_slug"):
                models.append(model)
            accelerators = deployment.get("accelerators")
            for accelerator in accelerators if isinstance(accelerators, list) else []:
                if not isinstance(accelerator, dict):
                    continue
                slug = optional_str(accelerator, "accelerator_slug")
                scale = optional_int(accelerator, "scale")
                if slug and scale is not None:
                    gpus[slug] = gpus.get(slug, 0) + scale
        records.append(DedicatedInferenceRecord(
            inference_id=required_str(item, "id", path),
            name=optional_str(spec, "name"),
            region=optional_str(item, "region") or optional_str(spec, "region"),
            vpc_uuid=optional_str(item, "vpc_uuid"),
            status=optional_str(item, "status"),
            created_at=timestamp(item, "created_at"),
            models=tuple(dict.fromkeys(models)),
            accelerators=tuple(sorted(gpus.items())),
            price_hourly=None,
        ))
    return records


def _lenient_object(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def parse_prices(body: Mapping[str, Any]) -> dict[tuple[str, str], Decimal]:
    """(GPU slug, region) -> USD per hour; sizes in another currency are left out."""
    prices = {}
    for path, size in objects(body.get("sizes"), f"{SIZES} sizes"):
        if optional_str(size, "currency") not in ("", "USD"):
            continue
        slug, region = optional_str(size, "gpu_slug"), optional_str(size, "region")
        if slug and region and size.get("price_per_hour") is not None:
            prices[(slug, region)] = money(size, "price_per_hour", path)
    return prices


def hourly_price(record: DedicatedInferenceRecord,
                 prices: Mapping[tuple[str, str], Decimal]) -> Decimal | None:
    """The GPUs' price per hour in the endpoint's region; None when it runs none or a slug
    has no price there (unknown, never a partial sum)."""
    found = [(prices.get((slug, record.region)), gpus) for slug, gpus in record.accelerators]
    if not found or any(price is None for price, _ in found):
        return None
    return sum((price * gpus for price, gpus in found if price is not None), Decimal(0))


async def fetch(reader: ResourceReader) -> tuple[DedicatedInferenceRecord, ...]:
    records = await reader.list_all(ENDPOINT, "dedicated_inferences", parse=parse_page)
    prices = parse_prices(await reader.get(SIZES)) if records else {}
    by_id = {r.inference_id: replace(r, price_hourly=hourly_price(r, prices)) for r in records}
    return tuple(by_id[key] for key in sorted(by_id))


def samples(inferences: tuple[DedicatedInferenceRecord, ...]) -> Iterator[Sample]:
    for d in inferences:
        key = (d.inference_id,)
        yield INFO.name, (*key, d.name, d.region, d.vpc_uuid), 1
        yield from state_set(STATUS.name, key, d.status, STATUSES)
        for model in d.models:
            yield MODEL.name, (*key, model), 1
        for slug, gpus in d.accelerators:
            yield ACCELERATORS.name, (*key, slug), gpus
        price = float(d.price_hourly) if d.price_hourly is not None else None
        yield from known_values(key, ((CREATED, d.created_at), (PRICE, price)))


COLLECTOR: Collector[tuple[DedicatedInferenceRecord, ...]] = Collector(
    name="dedicated_inferences",
    summary="dedicated inference endpoints: status, models, GPUs, hourly price",
    endpoints=(ENDPOINT, SIZES),
    id_label="dedicated_inference_id",
    paged=ENDPOINT,
    scope="dedicated_inference:read",
    interval=300.0,
    families=(INFO, STATUS, CREATED, MODEL, ACCELERATORS, PRICE),
    fetch=fetch,
    samples=samples,
)
