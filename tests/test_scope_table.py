"""The shipped scope table (exporter/data/scopes.json) is what the generator makes of the vendored
full API description, and the comparison notices a change to the spec."""

from __future__ import annotations

import copy
import gzip
import json
import re
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.deploy.catalog import ROOT, load_script

TABLE_PATH = ROOT / "exporter" / "data" / "scopes.json"


def generator() -> ModuleType:
    return load_script(ROOT / "exporter" / "data" / "generate_scopes.py")


@cache
def spec() -> Any:
    return generator().load_spec(generator().SPEC_PATH)


def shipped() -> Any:
    return json.loads(TABLE_PATH.read_text(encoding="utf-8"))


def test_shipped_table_matches_the_spec() -> None:
    made = generator().build_table(spec())
    assert generator().differences(shipped(), made) == [], "scopes.json is stale: run make scopes"
    assert TABLE_PATH.read_text(encoding="utf-8") == generator().render(made)


def test_a_planted_write_on_a_read_scope_is_reported(tmp_path: Path) -> None:
    planted = copy.deepcopy(spec())
    planted["paths"]["/v2/droplets/{droplet_id}"]["delete"]["security"] = [
        {"bearer_auth": ["droplet:read"]}
    ]
    path = tmp_path / "planted.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(planted, f)
    made = generator().build_table(generator().load_spec(path))
    assert generator().differences(shipped(), made) == [
        "droplet:delete: - DELETE /v2/droplets/{droplet_id}",
        "droplet:read: read-only -> write-capable",
        "droplet:read: + DELETE /v2/droplets/{droplet_id}",
    ]


def test_a_named_list_that_no_longer_matches_the_spec_stops_the_generator() -> None:
    changed = copy.deepcopy(spec())
    del changed["paths"]["/v2/apps/propose"]
    message = "READ_POSTS names POST /v2/apps/propose, which no scope lists"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        generator().build_table(changed)


def test_what_the_spec_says_about_read_scopes() -> None:
    scopes = shipped()["scopes"]
    read_named = {s for s in scopes if s.endswith(":read")}
    assert {s for s in read_named if not scopes[s]["read_only"]} == {"partner_network_connect:read"}
    assert "PATCH /v2/partner_network_connect/attachments/{pa_id}" in (
        scopes["partner_network_connect:read"]["operations"])
    assert {s for s, e in scopes.items() if "secret" in e} == {
        "app:read", "genai:read", "monitoring:read", "registry:read"}
    for scope in ("read", "api:read", "nfs:list", "app:read"):
        assert scopes[scope]["read_only"], scope
    for scope in ("write", "api:write", "database:view_credentials", "kubernetes:access_cluster",
                  "app:access_console", "droplet:create"):
        assert not scopes[scope]["read_only"], scope


SPEC_SPELLING = {"resources.images": "imgages"}  # the API description's own typo for the key


def field_scopes_in_spec(node: Any, field: str, found: set[str]) -> None:
    """Scopes named ("Requires `tag:read` scope") in the descriptions of `field` anywhere below
    `node`, allOf/anyOf alternatives included."""
    if isinstance(node, list):
        for item in node:
            field_scopes_in_spec(item, field, found)
    if not isinstance(node, dict):
        return
    for name, prop in (node.get("properties") or {}).items():
        if name == field:
            found.update(re.findall(r"`([a-z_]+:[a-z_]+)`", json.dumps(prop)))
    for value in node.values():
        if isinstance(value, dict | list):
            field_scopes_in_spec(value, field, found)


def test_every_field_scope_a_collector_declares_is_marked_in_the_spec() -> None:
    from exporter.collectors import COLLECTORS  # noqa: PLC0415  # the registry under test

    paths = spec()["paths"]
    for collector in COLLECTORS:
        answers = [paths[e.split("?")[0]]["get"]["responses"]["200"] for e in collector.endpoints
                   if e.split("?")[0] in paths]
        for field_scope in collector.field_scopes:
            field = SPEC_SPELLING.get(field_scope.field, field_scope.field.rsplit(".", 1)[-1])
            found: set[str] = set()
            field_scopes_in_spec(answers, field, found)
            missing = set(field_scope.scopes) - found
            assert not missing, f"{collector.name} {field_scope.field}: {missing} not in the spec"
