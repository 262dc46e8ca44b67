"""Spaces access keys (`/v2/spaces/keys`), granted on the account's Spaces buckets.

The list carries each key's access key id, name, grants and creation time, never its secret
(DigitalOcean sends `secret_key` only in the answer that creates a key, which is a write this
simulator does not serve). Permissions cycle through `read`, `readwrite` and `fullaccess`.
Keys are not billed.
"""

from __future__ import annotations

from exporter.simulator.building import BuildContext, GivenContext, JsonObject, given_item, text
from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    named_as_asked,
    paged_items,
)
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc

PERMISSIONS = ("read", "readwrite", "fullaccess")


def spaces_keys(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("spaces_keys")


def list_spaces_keys(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    keys = named_as_asked(request, spaces_keys(fleet.resources))
    return paged_items(request, "keys", keys, fleet)


def access_key_id(context: BuildContext, index: int) -> str:
    """`DO` and 18 upper-case letters and digits, as DigitalOcean's access key ids look."""
    return "DO" + context.uuid("spaces_key", index).replace("-", "").upper()[:18]


def build_spaces_keys(context: BuildContext) -> Built:
    count = context.counts.spaces_keys
    buckets = [item.name for item in context.built("spaces_buckets").items]
    items: list[Item] = []
    for index in range(count):
        key_id = access_key_id(context, index)
        name = f"{context.slug}-key-{index + 1}"
        permission = PERMISSIONS[index % len(PERMISSIONS)]
        if buckets:
            chosen = [buckets[index % len(buckets)], buckets[(index + 1) % len(buckets)]]
            grants = [{"bucket": bucket, "permission": permission}
                      for bucket in dict.fromkeys(chosen)]
        else:
            grants = []
        body: JsonObject = {
            "name": name,
            "access_key": key_id,
            "grants": grants,
            "created_at": iso_utc(context.created("spaces_key", index, count)),
        }
        items.append(make_item(body, id=key_id, name=name))
    return Built(items=tuple(items))


def given_spaces_keys(context: GivenContext) -> Built:
    return Built(items=tuple(given_item(k, "access_key", name=text(k.get("name")))
                             for k in context.objects("spaces_keys")))


KIND = Kind(
    name="spaces_keys",
    routes=(Endpoint("/v2/spaces/keys", "spaces_key:read", list_spaces_keys, paged=True,
                     in_spec=False),),
    list_endpoint="/v2/spaces/keys",
    count=Count(derive=lambda droplets, counts: min(3, counts.get("spaces_buckets", 0))),
    build=build_spaces_keys,
    after=("spaces_buckets",),
    given=given_spaces_keys,
)
