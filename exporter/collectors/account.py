"""Account: GET /v2/account (scope account:read, default every 5m).

Team, status and the limits DigitalOcean sets on the account. The email address is never read.

    digitalocean_account_info{account="production",team="Acme",status="active"} 1
    digitalocean_account_droplet_limit{account="production"} 25
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import (
    Collector,
    Family,
    FieldScope,
    ResourceReader,
    Sample,
    known_values,
)
from exporter.collectors.fields import as_object, optional_int, optional_str

ENDPOINT = "/v2/account"

INFO = Family("digitalocean_account_info",
              "Account team and status (always 1), polled from /v2/account.", ("team", "status"))
DROPLET_LIMIT = Family("digitalocean_account_droplet_limit",
                       "Droplets the account may have at once, polled from /v2/account.")
VOLUME_LIMIT = Family("digitalocean_account_volume_limit",
                      "Volumes the account may have, polled from /v2/account (when the API sends it).")
RESERVED_IP_LIMIT = Family("digitalocean_account_reserved_ip_limit",
                           "Reserved IPs the account may have, polled from /v2/account.")


@dataclass(frozen=True, slots=True)
class AccountRecord:
    team: str
    status: str
    droplet_limit: int | None
    volume_limit: int | None
    reserved_ip_limit: int | None


def parse_account(body: Mapping[str, Any]) -> AccountRecord:
    account = as_object(body.get("account"), f"{ENDPOINT} account")
    reserved = optional_int(account, "reserved_ip_limit")
    if reserved is None:  # the older name for the same limit
        reserved = optional_int(account, "floating_ip_limit")
    return AccountRecord(
        team=optional_str(account, "team", "name"),
        status=optional_str(account, "status"),
        droplet_limit=optional_int(account, "droplet_limit"),
        volume_limit=optional_int(account, "volume_limit"),
        reserved_ip_limit=reserved,
    )


async def fetch(reader: ResourceReader) -> AccountRecord:
    return parse_account(await reader.get(ENDPOINT))


def samples(record: AccountRecord) -> Iterator[Sample]:
    yield INFO.name, (record.team, record.status), 1
    yield from known_values((), (
        (DROPLET_LIMIT, record.droplet_limit),
        (VOLUME_LIMIT, record.volume_limit),
        (RESERVED_IP_LIMIT, record.reserved_ip_limit),
    ))


COLLECTOR: Collector[AccountRecord] = Collector(
    name="account",
    summary="account team, status and resource limits",
    endpoints=(ENDPOINT,),
    id_label="",
    scope="account:read",
    field_scopes=(
        FieldScope("droplet_limit", ("droplet:read",), ("digitalocean_account_droplet_limit",)),
        FieldScope("floating_ip_limit", ("reserved_ip:read",),
                   ("digitalocean_account_reserved_ip_limit",)),
    ),
    interval=300.0,
    families=(INFO, DROPLET_LIMIT, VOLUME_LIMIT, RESERVED_IP_LIMIT),
    fetch=fetch,
    samples=samples,
)
