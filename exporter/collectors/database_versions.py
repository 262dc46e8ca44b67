"""Database engine versions: GET /v2/databases/options (scope database:read, default every 6h).

Per engine and version of DigitalOcean's managed databases (`version_availability`), when the
version stops being supported (`end_of_life`) and when new clusters of it stop being offered
(`end_of_availability`); null dates (none announced) are left out, never shown as 0. Join with
`digitalocean_database_info` on engine and version to see which clusters run a version near its
end. The catalogue is DigitalOcean's, the same for every account, so its series have no
`account` label and are written once (`per_account=False`), as for the size catalogue.

    digitalocean_database_engine_version_info{engine="pg",version="13"} 1
    digitalocean_database_engine_version_end_of_life_timestamp_seconds{engine="pg",version="13"} 1762992000.0
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.collectors.base import Collector, Family, ResourceReader, Sample, known_values
from exporter.collectors.fields import ShapeError, as_object, objects, required_str, timestamp

ENDPOINT = "/v2/databases/options"
KEY = "version_availability"
VERSION = ("engine", "version")

_ONCE = "the same for every account, so without an account label"
INFO = Family(
    "digitalocean_database_engine_version_info",
    f"A managed database engine version with an availability entry (always 1), {_ONCE}, "
    f"polled from {ENDPOINT}.",
    VERSION,
    per_account=False,
)
END_OF_LIFE = Family(
    "digitalocean_database_engine_version_end_of_life_timestamp_seconds",
    f"When the engine version stops being supported (absent when no date is announced), "
    f"{_ONCE}, polled from {ENDPOINT}.",
    VERSION,
    per_account=False,
)
END_OF_AVAILABILITY = Family(
    "digitalocean_database_engine_version_end_of_availability_timestamp_seconds",
    f"When new clusters of the engine version stop being offered (absent when no date is "
    f"announced), {_ONCE}, polled from {ENDPOINT}.",
    VERSION,
    per_account=False,
)


@dataclass(frozen=True, slots=True)
class EngineVersion:
    engine: str
    version: str
    end_of_life: float | None
    end_of_availability: float | None


def parse_versions(body: Mapping[str, Any]) -> tuple[EngineVersion, ...]:
    """Every (engine, version) of `version_availability`, sorted by engine, then version."""
    where = f"{ENDPOINT} {KEY}"
    if KEY not in body:
        # a body without it is not the options answer: reading it as "no versions" would drop
        # every series instead of keeping the last poll's
        raise ShapeError(f"{where}: missing from the response")
    found: dict[tuple[str, str], EngineVersion] = {}
    for engine, versions in as_object(body[KEY], where).items():
        for path, item in objects([] if versions is None else versions, f"{where}.{engine}"):
            record = EngineVersion(
                engine=engine,
                version=required_str(item, "version", path),
                end_of_life=timestamp(item, "end_of_life"),
                end_of_availability=timestamp(item, "end_of_availability"),
            )
            found[(record.engine, record.version)] = record
    return tuple(found[key] for key in sorted(found))


async def fetch(reader: ResourceReader) -> tuple[EngineVersion, ...]:
    # One request: the endpoint is not paged.
    return parse_versions(await reader.get(ENDPOINT))


def samples(versions: tuple[EngineVersion, ...]) -> Iterator[Sample]:
    for v in versions:
        key = (v.engine, v.version)
        yield INFO.name, key, 1
        yield from known_values(key, (
            (END_OF_LIFE, v.end_of_life),
            (END_OF_AVAILABILITY, v.end_of_availability),
        ))


COLLECTOR: Collector[tuple[EngineVersion, ...]] = Collector(
    name="database_versions",
    summary="managed database engine versions: end of life and end of availability",
    endpoints=(ENDPOINT,),
    id_label="engine",
    scope="database:read",
    interval=6 * 3600.0,
    families=(INFO, END_OF_LIFE, END_OF_AVAILABILITY),
    fetch=fetch,
    samples=samples,
)
