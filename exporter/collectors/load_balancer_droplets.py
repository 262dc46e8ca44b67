"""Load balancer Droplets: per load balancer GET /v2/load_balancers/{lb_id} (scope
load_balancer:read, default every 15m).

The load balancers are the ones the `load_balancers` collector last listed (its data is this
collector's input, which counts their Droplets but does not name them): the list is never read
again, except after a 404 to tell a deleted load balancer (left out of that poll) from a failed
request. Each load balancer costs one request per poll.

Each Droplet behind a load balancer is one `_droplet_info` series (join it with
`digitalocean_droplet_info` on `droplet_id`), and the tag that selects them, when the balancer
targets a tag, is one `_tag_info` series. Whether a backend passes its health check is not in
the v2 load balancer object: DigitalOcean serves it only from the Monitoring API
(`/v2/monitoring/metrics/load_balancer/droplets_health_checks`, scope monitoring:read), so it
is not exported here.

    digitalocean_load_balancer_droplet_info{account="production",load_balancer_id="4de7ac8b-495b-4884-9a69-1050c6793cd6",droplet_id="3164444"} 1
    digitalocean_load_balancer_droplet_info{account="production",load_balancer_id="4de7ac8b-495b-4884-9a69-1050c6793cd6",droplet_id="3164445"} 1
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.collectors import load_balancers
from exporter.collectors.base import (
    FOLLOW_UP_CONCURRENCY,
    Collector,
    Family,
    PollContext,
    ResourceReader,
    Sample,
)
from exporter.collectors.fields import as_object, int_list, optional_str
from exporter.collectors.relisting import confirm_deleted
from exporter.tasks import all_or_nothing

ENDPOINT = "/v2/load_balancers/{lb_id}"

DROPLET_INFO = Family(
    "digitalocean_load_balancer_droplet_info",
    f"A Droplet assigned to the load balancer as a backend (always 1), polled from {ENDPOINT}.",
    ("load_balancer_id", "droplet_id"),
)
TAG_INFO = Family(
    "digitalocean_load_balancer_tag_info",
    f"The tag whose Droplets the load balancer targets (always 1; absent when it names them "
    f"by id), polled from {ENDPOINT}.",
    ("load_balancer_id", "tag"),
)


@dataclass(frozen=True, slots=True)
class LoadBalancerDroplets:
    load_balancer_id: str
    droplet_ids: tuple[int, ...]  # sorted
    tag: str  # "" when the Droplets are named by id


def parse_load_balancer(body: Mapping[str, Any], lb_id: str) -> LoadBalancerDroplets:
    """The Droplets of the load balancer asked for by `lb_id` (the identity: the answer's own
    `id` is not needed). Droplet ids that are not integers are left out."""
    lb = as_object(body.get("load_balancer"), f"{ENDPOINT.replace('{lb_id}', lb_id)} load_balancer")
    return LoadBalancerDroplets(
        load_balancer_id=lb_id,
        droplet_ids=tuple(sorted(set(int_list(lb, "droplet_ids")))),
        tag=optional_str(lb, "tag"),
    )


async def _droplets_or_none(reader: ResourceReader, lb_id: str) -> LoadBalancerDroplets | None:
    body = await reader.get_or_none(ENDPOINT, path={"lb_id": lb_id})
    return None if body is None else parse_load_balancer(body, lb_id)


def inventory(context: PollContext) -> tuple[load_balancers.LoadBalancerRecord, ...]:
    """The load balancers last listed; none before the first good poll of `load_balancers`."""
    records: tuple[load_balancers.LoadBalancerRecord, ...] = context.inputs.get(
        load_balancers.COLLECTOR.name, ()
    )
    return records


async def fetch_with(reader: ResourceReader, context: PollContext) -> tuple[LoadBalancerDroplets, ...]:
    listed = inventory(context)
    answers = await all_or_nothing(
        [_droplets_or_none(reader, lb.load_balancer_id) for lb in listed], limit=FOLLOW_UP_CONCURRENCY
    )
    gone = [lb.load_balancer_id for lb, found in zip(listed, answers, strict=True) if found is None]
    await confirm_deleted(reader, load_balancers.ENDPOINT, "load_balancers", "id", gone=gone,
                          follow_up=ENDPOINT)
    found = {a.load_balancer_id: a for a in answers if a is not None}
    return tuple(found[key] for key in sorted(found))


def requests_for(context: PollContext) -> int:
    """Requests one poll makes (without the rare re-read of the list after a 404)."""
    return len(inventory(context))


async def fetch(reader: ResourceReader) -> tuple[LoadBalancerDroplets, ...]:
    return await fetch_with(reader, PollContext())


def samples(data: tuple[LoadBalancerDroplets, ...]) -> Iterator[Sample]:
    for lb in data:
        for droplet_id in lb.droplet_ids:
            yield DROPLET_INFO.name, (lb.load_balancer_id, str(droplet_id)), 1
        if lb.tag:
            yield TAG_INFO.name, (lb.load_balancer_id, lb.tag), 1


COLLECTOR: Collector[tuple[LoadBalancerDroplets, ...]] = Collector(
    name="load_balancer_droplets",
    summary="the Droplets behind each load balancer and the tag that selects them",
    endpoints=(ENDPOINT,),
    id_label="load_balancer_id",
    scope="load_balancer:read",
    interval=900.0,
    families=(DROPLET_INFO, TAG_INFO),
    fetch=fetch,
    samples=samples,
    inputs=("load_balancers",),
    fetch_with=fetch_with,
    requests_for=requests_for,
)
