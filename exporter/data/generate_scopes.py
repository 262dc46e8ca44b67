"""Writes exporter/data/scopes.json, the scope table, from DigitalOcean's full OpenAPI description.

    python exporter/data/generate_scopes.py                 # from the vendored spec copy
    python exporter/data/generate_scopes.py SPEC.json.gz    # from another copy of the spec

(`make scopes` runs the first.) For every scope named in an operation's `security` list, the table
holds the operations (`METHOD /path`) that list it and whether the scope is read-only: it is iff
every operation that lists it is a read. A read is a GET or HEAD, or one of the POSTs in
READ_POSTS below, which the spec uses to read (each is named with the reason). The named lists
that follow (legacy scopes, GET-only scopes that hand out control, read scopes that reveal
secrets) are judgements the spec cannot make by itself; each carries its reason, and the table
records them so the exporter's messages can quote them.

tests/test_scope_table.py fails when scopes.json differs from what this script makes of the
vendored spec. Standard library only, so the generator runs anywhere Python does.
"""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SPEC_PATH = ROOT / "tests" / "fixtures" / "do-api" / "digitalocean-openapi-full.json.gz"
TABLE_PATH = HERE / "scopes.json"
SOURCE = "https://github.com/digitalocean/openapi commit 7c1300c479fed9c353cda9fc21cd968619552304"

METHODS = ("get", "head", "post", "put", "patch", "delete", "options", "trace")
READ_METHODS = frozenset({"GET", "HEAD"})

# POSTs that only read: their body carries a query, and nothing is created or changed.
READ_POSTS: Mapping[str, str] = {
    "POST /v2/apps/propose": (
        "validates a proposed app spec and returns its cost; creates and changes nothing"
    ),
    "POST /v2/apps/metrics/bandwidth_daily": (
        "returns the daily bandwidth of the apps whose ids are in the body"
    ),
}

# Scopes the spec does not name: the legacy scopes of tokens made before custom scopes.
# (read_only, reason completing the sentence "<scope> ...")
LEGACY_SCOPES: Mapping[str, tuple[bool, str]] = {
    "read": (True, "is legacy read access: it grants every read scope"),
    "write": (False, "is legacy full access: it grants every scope"),
}

# Only on GETs, but what they return is a way to change things: they stay write-capable. Each
# reason completes the sentence "<scope> ...".
CONTROL_SCOPES: Mapping[str, str] = {
    "app:access_console": "opens a console in an app's running containers",
    "database:view_credentials": (
        "returns database admin credentials: vector databases' api_token, metrics endpoints' "
        "basic auth password"
    ),
    "kubernetes:access_cluster": "returns a kubeconfig with credentials that administer the cluster",
}

# Read-only by the rule above, but what they return includes secrets (the reason says which).
SECRET_SCOPES: Mapping[str, str] = {
    "app:read": (
        "app specs carry log destinations' API keys, tokens and passwords: Datadog api_key, "
        "Logtail token, OpenSearch basic_auth password"
    ),
    "genai:read": (
        "returns agent and model API keys' secret_key, agents' Anthropic and OpenAI API keys "
        "and custom models' Hugging Face token"
    ),
    "monitoring:read": "/v2/monitoring/sinks returns the sinks' destination credentials",
    "registry:read": (
        "/v2/registry/docker-credentials and /v2/registries/{registry_name}/docker-credentials "
        "return registry login credentials"
    ),
}


def load_spec(path: Path) -> Mapping[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        spec: Mapping[str, Any] = json.load(f)
    return spec


def operations_by_scope(spec: Mapping[str, Any]) -> dict[str, list[str]]:
    """Every `bearer_auth` scope of the spec, with the operations (`METHOD /path`) that list it.

    Scopes of other schemes (the inference endpoints' own keys) are not API token scopes.
    """
    found: dict[str, set[str]] = {}
    for path, item in spec["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            for requirement in operation.get("security") or ():
                for scope in requirement.get("bearer_auth", ()):
                    found.setdefault(scope, set()).add(f"{method.upper()} {path}")
    return {scope: sorted(ops, key=_path_then_method) for scope, ops in sorted(found.items())}


def _path_then_method(operation: str) -> tuple[str, int]:
    method, _, path = operation.partition(" ")
    return path, METHODS.index(method.lower())


def is_read(operation: str) -> bool:
    return operation.split(" ", 1)[0] in READ_METHODS or operation in READ_POSTS


def build_table(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The table as written to scopes.json; raises ValueError when a named list no longer
    matches the spec (so the names are looked at again instead of silently going stale)."""
    by_scope = operations_by_scope(spec)
    every_operation = {op for ops in by_scope.values() for op in ops}
    problems = [f"READ_POSTS names {op}, which no scope lists" for op in READ_POSTS
                if op not in every_operation]
    scopes: dict[str, Any] = {}
    for scope, (read_only, reason) in LEGACY_SCOPES.items():
        if scope in by_scope:
            problems.append(f"legacy scope {scope} is in the spec now")
        scopes[scope] = {"read_only": read_only, "reason": reason, "operations": []}
    for scope, operations in by_scope.items():
        reads_only = all(is_read(op) for op in operations)
        entry: dict[str, Any] = {"read_only": reads_only and scope not in CONTROL_SCOPES}
        if scope in CONTROL_SCOPES:
            entry["reason"] = CONTROL_SCOPES[scope]
            if not reads_only:
                problems.append(f"CONTROL_SCOPES names {scope}, which is on a write anyway")
        if scope in SECRET_SCOPES:
            entry["secret"] = SECRET_SCOPES[scope]
            if not entry["read_only"]:
                problems.append(f"SECRET_SCOPES names {scope}, which is not read-only")
        entry["operations"] = operations
        scopes[scope] = entry
    problems += [f"{name} names {scope}, which the spec does not list"
                 for name, named in (("CONTROL_SCOPES", CONTROL_SCOPES), ("SECRET_SCOPES", SECRET_SCOPES))
                 for scope in named if scope not in by_scope]
    if problems:
        raise ValueError("; ".join(problems))
    return {
        "generated_by": "exporter/data/generate_scopes.py (make scopes); do not edit by hand",
        "source": SOURCE,
        "operations": len(every_operation),
        "read_posts": dict(READ_POSTS),
        "scopes": dict(sorted(scopes.items())),
    }


def differences(shipped: Mapping[str, Any], made: Mapping[str, Any]) -> list[str]:
    """What changed from the shipped table to a freshly made one, one line per change."""
    lines = [f"{key}: {shipped.get(key)!r} -> {made.get(key)!r}"
             for key in sorted(set(shipped) | set(made)) if key != "scopes"
             and shipped.get(key) != made.get(key)]
    old, new = shipped.get("scopes", {}), made.get("scopes", {})
    for scope in sorted(set(old) | set(new)):
        if scope not in new:
            lines.append(f"{scope}: no longer in the spec")
            continue
        if scope not in old:
            lines.append(f"{scope}: new, {_verdict(new[scope])}")
            continue
        if old[scope]["read_only"] != new[scope]["read_only"]:
            lines.append(f"{scope}: {_verdict(old[scope])} -> {_verdict(new[scope])}")
        lines += [f"{scope}: - {op}" for op in old[scope]["operations"]
                  if op not in new[scope]["operations"]]
        lines += [f"{scope}: + {op}" for op in new[scope]["operations"]
                  if op not in old[scope]["operations"]]
        for key in ("reason", "secret"):
            if old[scope].get(key) != new[scope].get(key):
                lines.append(f"{scope}: {key} {old[scope].get(key)!r} -> {new[scope].get(key)!r}")
    return lines


def _verdict(entry: Mapping[str, Any]) -> str:
    return "read-only" if entry["read_only"] else "write-capable"


def render(table: Mapping[str, Any]) -> str:
    return json.dumps(table, indent=1, sort_keys=False) + "\n"


def main(argv: Sequence[str]) -> int:
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print(__doc__, file=sys.stderr)
        return 2
    spec_path = Path(argv[0]) if argv else SPEC_PATH
    try:
        table = build_table(load_spec(spec_path))
    except ValueError as exc:
        print(f"{spec_path}: {exc}", file=sys.stderr)
        return 1
    TABLE_PATH.write_text(render(table), encoding="utf-8")
    read_only = sum(1 for entry in table["scopes"].values() if entry["read_only"])
    print(f"wrote {TABLE_PATH.relative_to(ROOT)}: {len(table['scopes'])} scopes, {read_only} "
          f"read-only, from {table['operations']} operations")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
