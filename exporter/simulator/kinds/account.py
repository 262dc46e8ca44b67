"""Account-level answers: `/v2/account` and the undocumented token/info of cloud.digitalocean.com.

Not a kind a fleet counts: one per account.
"""

from __future__ import annotations

from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
)
from exporter.simulator.kind import Kind
from exporter.simulator.objects import encode_json


def get_account(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return encode_json({"account": fleet.account_object()})


def get_token_info(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """`/v1/oauth/token/info`, undocumented, as doctl reads it from cloud.digitalocean.com."""
    info: dict[str, object] = {
        "resource_owner_id": caller.resource_owner_id,
        "scopes": list(caller.scopes),
        "application": {"uid": caller.application_uid},
        "created_at": caller.created_at,
    }
    if caller.expires_in_seconds is not None:
        info["expires_in_seconds"] = caller.expires_in_seconds  # an integer, or absent: never null
    return encode_json(info)


KIND = Kind(
    name="account",
    routes=(
        Endpoint("/v2/account", "account:read", get_account),
        Endpoint("/v1/oauth/token/info", None, get_token_info, in_spec=False),
    ),
)
