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
