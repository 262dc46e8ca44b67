"""TLS certificates (`/v2/certificates`).
"""

from __future__ import annotations

from exporter.simulator.building import HOUR, BuildContext, GivenContext, JsonObject, given_item, text
from exporter.simulator.determinism import stable_hex
from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    named_as_asked,
    paged_items,
)
from exporter.simulator.items import DAY, Item, Stamp, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.kinds.domains import domain_names
from exporter.simulator.resources import Built, Resources


def certificates(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("certificates")


def list_certificates(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "certificates", named_as_asked(request, certificates(fleet.resources)), fleet)


def build_certificates(context: BuildContext) -> Built:
    count = context.counts.certificates
    rng = context.rng("certificates")
    expiring, pending, errored = None, None, None
    if context.problems is True:
        expiring = 1 if count >= 2 else 0
    elif context.problems is None:
        expiring = 3 if count >= 4 else None
    if context.problems is not False:
        pending = count - 1 if count >= 3 and count - 1 != expiring else None
        errored = 4 if count >= 5 else None
    zones = domain_names(context) or [f"{context.slug}.example"]
    out: list[tuple[Item, JsonObject]] = []
    for index in range(count):
        zone = zones[index % len(zones)]
        kind = "custom" if index % 3 == 1 or index == expiring else "lets_encrypt"
        state = "verified"
        if index == pending:
            state = "pending"
        elif index == errored:
            state = "error"
        if index == expiring:
            expires = 9 * DAY + 6 * HOUR
        elif kind == "lets_encrypt":
            expires = rng.randrange(31, 86) * DAY + rng.randrange(DAY)
        else:
            expires = rng.randrange(120, 700) * DAY
        validity = 90 * DAY if kind == "lets_encrypt" else 365 * DAY
        names = ([zone, f"*.{zone}"], [f"api.{zone}"], [f"cdn.{zone}"])[index % 3]
        certificate_id = context.uuid("certificate", index)
        name = f"{zone.replace('.', '-')}-{'le' if kind == 'lets_encrypt' else 'custom'}"
        body: JsonObject = {
            "id": certificate_id,
            "name": f"{name}-{index + 1:02d}",
            "not_after": Stamp(expires),
            "sha1_fingerprint": stable_hex(40, context.spec.seed, context.account, "sha1", index),
            "created_at": Stamp(expires - validity),
            "dns_names": names,
            "state": state,
            "type": kind,
        }
        item = make_item(body, id=certificate_id, name=str(body["name"]), extra=state)
        out.append((item, body))
    return Built(items=tuple(item for item, _ in out), bodies=tuple(body for _, body in out))


def given_certificates(context: GivenContext) -> Built:
    return Built(
        items=tuple(given_item(c, name=text(c.get("name"))) for c in context.objects("certificates"))
    )


KIND = Kind(
    name="certificates",
    routes=(Endpoint("/v2/certificates", "certificate:read", list_certificates, paged=True),),
    list_endpoint="/v2/certificates",
    count=Count(
        derive=lambda droplets, _: min(4, 1 + droplets // 200) if droplets >= 10 else 0,
        problems_minimum=2,
    ),
    build=build_certificates,
    given=given_certificates,
    in_state=True,
)
