"""Dedicated inference endpoints (`/v2/dedicated-inferences`) and their GPU prices
(`/v2/dedicated-inferences/sizes`).

Endpoints in the regions the product runs in (atl1, nyc2, tor1: the spec's enum, whatever the
account's regions), each serving one Hugging Face model on one or two GPUs; with problems on,
the second one is in `error`. The sizes list prices every GPU slug in every region, and the
ledger bills each endpoint's GPUs at those prices (`hourly_cost`), in `error` or not.
"""

from __future__ import annotations

import json
from decimal import Decimal

from exporter.simulator.building import HOUR, BuildContext, GivenContext, JsonObject, given_item
from exporter.simulator.handling import ApiRequest, Caller, Endpoint, FleetView, paged_items
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc

REGIONS = ("atl1", "nyc2", "tor1")
GPU_PRICES = {"gpu-mi300x1-192gb": Decimal("1.99"), "gpu-h100x1-80gb": Decimal("3.39")}
"""USD per GPU hour the sizes list gives (the simulator's, in every region)."""
MODELS = ("mistral/mistral-7b-instruct-v3", "meta-llama/Llama-3.1-8B-Instruct")


def dedicated_inferences(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("dedicated_inferences")


def list_dedicated_inferences(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "dedicated_inferences", dedicated_inferences(fleet.resources), fleet)


def list_sizes(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    sizes = [{"gpu_slug": slug, "price_per_hour": str(price), "region": region, "currency": "USD"}
             for region in REGIONS for slug, price in GPU_PRICES.items()]
    return json.dumps({"enabled_regions": list(REGIONS), "sizes": sizes},
                      separators=(",", ":")).encode()


def build_dedicated_inferences(context: BuildContext) -> Built:
    count = context.counts.dedicated_inferences
    errored = 1 if context.problems is not False and count >= 2 else None
    slugs = tuple(GPU_PRICES)
    items: list[Item] = []
    for index in range(count):
        inference_id = context.uuid("dedicated_inference", index)
        region = REGIONS[index % len(REGIONS)]
        created = context.created("dedicated_inference", index, count)
        name = f"inference-{region}-{index + 1:02d}"
        vpc = context.uuid("dedicated_inference_vpc", index)
        slug = slugs[index % len(slugs)]
        gpus = 1 + index % 2
        status = "error" if index == errored else "active"
        body: JsonObject = {
            "id": inference_id,
            "status": status,
            "region": region,
            "vpc_uuid": vpc,
            "spec": {
                "version": 1,
                "name": name,
                "region": region,
                "vpc": {"uuid": vpc},
                "enable_public_endpoint": index % 2 == 0,
                "model_deployments": [{
                    "model_id": context.uuid("dedicated_inference_model", index),
                    "model_slug": MODELS[index % len(MODELS)],
                    "model_provider": "hugging_face",
                    "accelerators": [{"scale": gpus, "type": "prefill_decode",
                                      "accelerator_slug": slug,
                                      "status": "new" if status == "error" else "active"}],
                }],
            },
            "endpoints": {
                "public_endpoint_fqdn": f"https://{inference_id[:24]}-public-dedicated-inference.do-infra.ai",
                "private_endpoint_fqdn": f"https://{inference_id[:24]}-private-dedicated-inference.do-infra.ai",
            },
            "created_at": iso_utc(created),
            "updated_at": iso_utc(created + HOUR),
        }
        items.append(make_item(body, id=inference_id, name=name, region=region,
                               hourly_cost=GPU_PRICES[slug] * gpus))
    return Built(items=tuple(items))


def given_dedicated_inferences(context: GivenContext) -> Built:
    return Built(items=tuple(given_item(d) for d in context.objects("dedicated_inferences")))


KIND = Kind(
    name="dedicated_inferences",
    routes=(Endpoint("/v2/dedicated-inferences", "dedicated_inference:read",
                     list_dedicated_inferences, paged=True, in_spec=False),
            Endpoint("/v2/dedicated-inferences/sizes", "dedicated_inference:read", list_sizes,
                     in_spec=False)),
    list_endpoint="/v2/dedicated-inferences",
    # GPUs cost dollars an hour: none unless asked for (the demo's production runs two)
    count=Count(derive=lambda droplets, _: 0),
    build=build_dedicated_inferences,
    given=given_dedicated_inferences,
    in_state=True,
)
