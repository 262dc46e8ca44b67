"""Sizes: GET /v2/sizes (scopes sizes:read and regions:read, default every 6h).

The Droplet size catalogue with its list prices. The cost estimates price Kubernetes node pools
from it (a pool names its Droplet size), and dashboards can show what a size costs.

The catalogue is DigitalOcean's, the same for every account, so its series have no `account`
label and are written once, not once per account (`per_account=False`): each account still polls
it (every account's costs need it, and its own poll keeps working when another account's token
fails), and the exposition shows the first account's copy by name, the next one's when that has
none. A series without `account` is what the catalogue is, a fact about DigitalOcean; the first
account's name on it would suggest it belongs to that account, and would change whenever the
accounts do.

    digitalocean_size_info{size="s-1vcpu-1gb",plan="Basic",available="true"} 1
    digitalocean_size_price_monthly_usd{size="s-1vcpu-1gb"} 5.0
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import Collector, Family, ResourceReader, Sample, known_values
from exporter.collectors.fields import (
    bool_label,
    objects,
    optional_int,
    optional_number,
    optional_str,
    required_str,
)

ENDPOINT = "/v2/sizes"

_ONCE = "the same for every account, so without an account label"
INFO = Family("digitalocean_size_info",
              f"Droplet size plan (the API's description, e.g. Basic) and availability (always 1), "
              f"{_ONCE}, polled from {ENDPOINT}.",
              ("size", "plan", "available"), per_account=False)
PRICE_MONTHLY = Family("digitalocean_size_price_monthly_usd",
                       f"List price of a Droplet size per month, {_ONCE}, polled from {ENDPOINT}.",
                       ("size",), per_account=False)
PRICE_HOURLY = Family("digitalocean_size_price_hourly_usd",
                      f"List price of a Droplet size per hour, {_ONCE}, polled from {ENDPOINT}.",
                      ("size",), per_account=False)
VCPUS = Family("digitalocean_size_vcpus",
               f"vCPUs of a Droplet size, {_ONCE}, polled from {ENDPOINT}.",
               ("size",), per_account=False)


@dataclass(frozen=True, slots=True)
class SizeRecord:
    slug: str
    description: str
    available: str
    vcpus: int | None
    price_monthly: float | None
    price_hourly: float | None
    transfer_tb: float | None = None  # outbound transfer included, TB (for the transfer pool)


def parse_sizes(items: list[Any], where: str = f"{ENDPOINT} sizes") -> tuple[SizeRecord, ...]:
    records: list[SizeRecord] = []
    for path, size in objects(items, where):
        record = SizeRecord(
            slug=required_str(size, "slug", path),
            description=optional_str(size, "description"),
            available=bool_label(size, "available"),
            vcpus=optional_int(size, "vcpus"),
            price_monthly=optional_number(size, "price_monthly"),
            price_hourly=optional_number(size, "price_hourly"),
            transfer_tb=optional_number(size, "transfer"),
        )
        records.append(record)
    # sorted; `list_all` already dropped what a shifting list repeated
    return tuple(sorted(records, key=lambda record: record.slug))


async def fetch(reader: ResourceReader) -> tuple[SizeRecord, ...]:
    return parse_sizes(await reader.list_all(ENDPOINT, "sizes", id_key="slug"))


def samples(sizes: tuple[SizeRecord, ...]) -> Iterator[Sample]:
    for size in sizes:
        key = (size.slug,)
        yield INFO.name, (*key, size.description, size.available), 1
        yield from known_values(key, (
            (PRICE_MONTHLY, size.price_monthly),
            (PRICE_HOURLY, size.price_hourly),
            (VCPUS, size.vcpus),
        ))


COLLECTOR: Collector[tuple[SizeRecord, ...]] = Collector(
    name="sizes",
    summary="the Droplet size catalogue and its list prices",
    endpoints=(ENDPOINT,),
    id_label="size",
    paged=ENDPOINT,
    scope="sizes:read regions:read",
    interval=6 * 3600.0,
    families=(INFO, PRICE_MONTHLY, PRICE_HOURLY, VCPUS),
    fetch=fetch,
    samples=samples,
)
