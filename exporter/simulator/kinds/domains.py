"""DNS zones (`/v2/domains`) and their records (`/v2/domains/{domain_name}/records`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from exporter.simulator.building import BuildContext, GivenContext, JsonObject, given_item, text
from exporter.simulator.determinism import stable_int
from exporter.simulator.handling import (
    ApiError,
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
    single,
)
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc

DOMAIN_WORDS = ("shop", "status", "docs", "mail", "blog")
NAMESERVERS = ("ns1.digitalocean.com", "ns2.digitalocean.com", "ns3.digitalocean.com")


def domains(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("domains")


def domain_records(resources: Resources, domain: str) -> tuple[Item, ...] | None:
    return resources.related("domains", domain)


def list_domains(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    return paged_items(request, "domains", domains(fleet.resources), fleet)


def list_domain_records(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """Not in the spec subset; the real API's shape. `type` and `name` (the full name) filter."""
    domain = request.path_params["domain_name"]
    records = domain_records(fleet.resources, domain)
    if records is None:
        raise ApiError(404)
    kind = single(request.query, "type")
    name = single(request.query, "name")
    if kind is not None:
        records = tuple(r for r in records if r.extra == kind)
    if name is not None:
        wanted = "@" if name.casefold() == domain.casefold() else name.casefold()
        suffix = f".{domain.casefold()}"
        records = tuple(r for r in records if wanted in (r.name, f"{r.name}{suffix}"))
    return paged_items(request, "domain_records", records, fleet)


RecordRow = tuple[str, str, str, int, int | None]
"""(type, name, data, ttl, priority) of one DNS record."""


def zone_line(zone: str, serial: int, row: RecordRow) -> str:
    """The record as a line of the domain's `zone_file`."""
    kind, name, data, ttl, priority = row
    owner = f"{zone}." if name == "@" else f"{name}.{zone}."
    if kind == "SOA":
        return (
            f"{owner} IN SOA ns1.digitalocean.com. hostmaster.{zone}. {1_700_000_000 + serial} "
            "10800 3600 604800 1800"
        )
    value = f'"{data}"' if kind == "TXT" else data
    if priority is not None:
        value = f"{priority} {value}"
    if kind == "CAA":
        value = f"0 issue {value}"
    return f"{owner} {ttl} IN {kind} {value}"


def domain_names(context: BuildContext) -> list[str]:
    """The zones of the account (certificates, apps, CDN endpoints and checks use them)."""
    names = []
    for index in range(context.counts.domains):
        if index == 0:
            names.append(f"{context.slug}.example")
        else:
            word = DOMAIN_WORDS[(index - 1) % len(DOMAIN_WORDS)]
            suffix = "" if index <= len(DOMAIN_WORDS) else str(index)
            names.append(f"{word}{suffix}-{context.slug}.example")
    return names


def build_domains(context: BuildContext) -> Built:
    names = domain_names(context)
    load_balancers = context.built("load_balancers").bodies
    apps = context.built("apps").bodies
    cdn = context.built("cdn_endpoints").bodies
    serving = context.serving()
    record_id = 170_000_000 + stable_int(context.spec.seed, context.account, "records") % 1000 * 10_000
    domains: list[Item] = []
    all_records: dict[str, tuple[Item, ...]] = {}
    for index, name in enumerate(names):
        if load_balancers:
            target = str(load_balancers[index % len(load_balancers)]["ip"])
        elif serving:
            target = context.public_ip(serving[index % len(serving)])
        else:
            target = f"192.0.2.{index % 250 + 2}"
        rows = record_rows(name, target, apps, cdn)
        if index == 0:
            # The first zone names many Droplets, so its records take more than one page.
            rows += [("A", d["name"], context.public_ip(d), 300, None) for d in serving[:40]]
        records: list[Item] = []
        zone = [f"$ORIGIN {name}.", "$TTL 1800"]
        for row in rows:
            kind, record_name, data, ttl, priority = row
            record_id += 1 + stable_int(record_id) % 3
            record = {
                "id": record_id,
                "type": kind,
                "name": record_name,
                "data": data,
                "priority": priority,
                "port": None,
                "ttl": ttl,
                "weight": None,
                "flags": 0 if kind == "CAA" else None,
                "tag": "issue" if kind == "CAA" else None,
            }
            records.append(make_item(record, id=record_id, name=record_name, extra=kind))
            zone.append(zone_line(name, index, row))
        body: JsonObject = {"name": name, "ttl": 1800, "zone_file": "\n".join(zone) + "\n"}
        domains.append(make_item(body, id=name, name=name, urn=f"do:domain:{name}"))
        all_records[name] = tuple(records)
        project = context.project_for(("domain", name))
        context.assign(f"do:domain:{name}", f"/v2/domains/{name}", iso_utc(context.start), project)
    return Built(items=tuple(domains), related=all_records)


def record_rows(
    name: str, target: str, apps: Sequence[JsonObject], cdn: Sequence[JsonObject]
) -> list[RecordRow]:
    rows: list[RecordRow] = [
        ("SOA", "@", "1800", 1800, None),
        *(("NS", "@", ns, 86400, None) for ns in NAMESERVERS),
        ("A", "@", target, 3600, None),
        ("A", "www", target, 3600, None),
        ("MX", "@", f"mx1.{name}", 14400, 10),
        ("TXT", "@", "v=spf1 include:_spf.google.com ~all", 3600, None),
        ("CAA", "@", "letsencrypt.org", 3600, None),
    ]
    for body in apps:
        host = str(body["default_ingress"]).removeprefix("https://")
        for domain in body["spec"].get("domains", []):
            if domain["zone"] == name:
                label = str(domain["domain"]).split(".", maxsplit=1)[0]
                rows.append(("CNAME", label, f"{host}.", 1800, None))
    for body in cdn:
        custom = str(body.get("custom_domain", ""))
        if custom.endswith(f".{name}"):
            label = custom.split(".", maxsplit=1)[0]
            rows.append(("CNAME", label, f"{body['endpoint']}.", 3600, None))
    return rows


def given_domains(context: GivenContext) -> Built:
    given = context.objects("domains")
    for domain in given:
        context.assign(f"do:domain:{domain.get('name')}", f"/v2/domains/{domain.get('name')}", "")
    records: Mapping[str, Sequence[Mapping[str, object]]] = context.value("domain_records") or {}
    return Built(
        items=tuple(given_item(d, key="name", urn=f"do:domain:{d.get('name')}") for d in given),
        related={
            name: tuple(
                given_item(record, name=text(record.get("name")), extra=record.get("type"))
                for record in rows
            )
            for name, rows in records.items()
        },
    )


KIND = Kind(
    name="domains",
    routes=(
        Endpoint("/v2/domains", "domain:read", list_domains, paged=True),
        Endpoint(
            "/v2/domains/{domain_name}/records",
            "domain:read",
            list_domain_records,
            paged=True,
            in_spec=False,
        ),
    ),
    list_endpoint="/v2/domains",
    count=Count(
        derive=lambda droplets, _: min(5, 1 + droplets // 100) if droplets else 0,
        problems_minimum=1,
    ),
    build=build_domains,
    after=("load_balancers", "apps", "cdn_endpoints"),
    given=given_domains,
    given_keys=("domains", "domain_records"),
    in_state=True,
)
