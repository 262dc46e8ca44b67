"""The managed database options (`/v2/databases/options`): each generated engine's regions,
versions and layouts, and `version_availability` with the end of life and of availability the
spec's example gives those versions. The same for every account; not a counted kind. A given
fleet may give the answer as it is (`Fleet.from_objects(database_options={...})`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from exporter.simulator.building import GivenContext
from exporter.simulator.catalog import DATABASE_ENGINES, DATABASE_SIZES
from exporter.simulator.handling import ApiRequest, Caller, Endpoint, FleetView
from exporter.simulator.items import make_item
from exporter.simulator.kind import Kind
from exporter.simulator.resources import Built

KIND_NAME = "database_versions"
REGIONS = ("ams3", "fra1", "lon1", "nyc1", "nyc3", "sfo3", "sgp1", "tor1")
# (version, end of life, end of availability) per engine, as the spec's example of
# /v2/databases/options dates them (None: no date announced).
VERSION_AVAILABILITY: Mapping[str, tuple[tuple[str, str | None, str | None], ...]] = {
    "pg": (
        ("14", "2026-11-12T00:00:00Z", "2026-05-12T00:00:00Z"),
        ("15", "2027-11-11T00:00:00Z", "2027-05-12T00:00:00Z"),
        ("16", "2028-11-09T00:00:00Z", "2028-05-09T00:00:00Z"),
    ),
    "mysql": (("8", None, None),),
    "valkey": (("8", None, None),),
    "mongodb": (
        ("6.0", "2025-07-01T07:00:00Z", None),
        ("7.0", "2026-08-01T07:00:00Z", None),
    ),
}
if {e.slug for e in DATABASE_ENGINES} != set(VERSION_AVAILABILITY) or any(
    e.version not in {v for v, _, _ in VERSION_AVAILABILITY[e.slug]} for e in DATABASE_ENGINES
):
    raise RuntimeError("every generated database engine version needs its availability")


@cache
def options_body() -> bytes:
    sizes = [size.slug for size in DATABASE_SIZES]
    options: dict[str, Any] = {}
    availability: dict[str, Any] = {}
    for engine in DATABASE_ENGINES:
        versions = VERSION_AVAILABILITY[engine.slug]
        options[engine.slug] = {
            "regions": list(REGIONS),
            "versions": [version for version, _, _ in versions],
            "layouts": [{"num_nodes": n, "sizes": sizes} for n in (1, 2, 3)],
        }
        availability[engine.slug] = [
            {"end_of_life": eol, "end_of_availability": eoa, "version": version}
            for version, eol, eoa in versions
        ]
    body = {"options": options, "version_availability": availability}
    return json.dumps(body, separators=(",", ":")).encode()


def get_options(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    given = fleet.resources.related(KIND_NAME, "options")
    return given[0].render(request.now) if given else options_body()


def given_options(context: GivenContext) -> Built | None:
    answer = context.value("database_options")
    if answer is None:
        return None
    return Built(related={"options": (make_item(dict(answer), id="options"),)})


KIND = Kind(
    name=KIND_NAME,
    # not in the vendored subset: validated against the full description instead
    routes=(Endpoint("/v2/databases/options", "database:read", get_options, in_spec=False),),
    given=given_options,
    given_keys=("database_options",),
)
