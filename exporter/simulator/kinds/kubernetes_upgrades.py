"""What hangs off each Kubernetes cluster: the versions it can be upgraded to, its latest
clusterlint run and its status messages (`/v2/kubernetes/clusters/{cluster_id}/upgrades`,
`/clusterlint`, `/status_messages`). Not a counted kind: the answers are derived from each
cluster (id, version, state, creation time), so generated and given fleets both have them; a
given fleet may also give a cluster's answers as they are
(`Fleet.from_objects(kubernetes_upgrades={id: answer}, ...)`).

A cluster still provisioning has never been linted: its clusterlint answers 404, as the API
does before the first run. A degraded cluster has one status message.
"""

from __future__ import annotations

import json

from exporter.simulator.building import GivenContext, JsonObject, text, unix
from exporter.simulator.catalog import KUBERNETES_VERSIONS
from exporter.simulator.determinism import stable_int, stable_uuid
from exporter.simulator.handling import ApiError, ApiRequest, Caller, Endpoint, FleetView
from exporter.simulator.items import DAY, Item, make_item
from exporter.simulator.kind import Kind
from exporter.simulator.kinds.kubernetes_clusters import kubernetes_clusters
from exporter.simulator.resources import Built
from exporter.simulator.timefmt import iso_utc

KIND_NAME = "kubernetes_upgrades"
# clusterlint checks and their severities (github.com/digitalocean/clusterlint, checks.md)
LINT_CHECKS = (
    ("unused-config-map", "warning", "config map"),
    ("resource-requirements", "warning", "pod"),
    ("latest-tag", "warning", "pod"),
    ("default-namespace", "suggestion", "pod"),
    ("admission-controller-webhook", "error", "validating webhook configuration"),
)


def given_answer(fleet: FleetView, what: str, body: JsonObject, now: float) -> bytes | None:
    """The answer given to `Fleet.from_objects` for this cluster: its bytes, a 404 for an
    empty one (never linted), None when none was given."""
    found = fleet.resources.related(KIND_NAME, f"{what}:{body.get('id')}")
    if found is None:
        return None
    if not found:
        raise ApiError(404)
    return found[0].render(now)


def cluster(fleet: FleetView, request: ApiRequest) -> JsonObject:
    wanted = request.path_params["cluster_id"]
    found: Item | None = next(
        (c for c in kubernetes_clusters(fleet.resources) if str(c.id) == wanted), None
    )
    if found is None:
        raise ApiError(404)
    return found.as_json(request.now)


def encode(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def get_upgrades(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """One minor version up, when the catalogue has a newer one (null when up to date)."""
    given = given_answer(fleet, "upgrades", cluster(fleet, request), request.now)
    if given is not None:
        return given
    version = text(cluster(fleet, request).get("version"))
    position = KUBERNETES_VERSIONS.index(version) if version in KUBERNETES_VERSIONS else 0
    if position == 0:
        return b'{"available_upgrade_versions":null}'
    slug = KUBERNETES_VERSIONS[position - 1]
    return encode({"available_upgrade_versions": [{
        "slug": slug,
        "kubernetes_version": slug.split("-", 1)[0],
        "supported_features": ["cluster-autoscaler", "docr-integration", "ha-control-plane",
                               "token-authentication"],
    }]})


def get_clusterlint(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    given = given_answer(fleet, "clusterlint", cluster(fleet, request), request.now)
    if given is not None:
        return given
    body = cluster(fleet, request)
    state = text((body.get("status") or {}).get("state"))
    if state == "provisioning":
        raise ApiError(404)  # never linted yet
    cluster_id = text(body.get("id"))
    requested = unix(text(body.get("created_at"))) + DAY
    diagnostics = []
    for index, (check, severity, kind) in enumerate(LINT_CHECKS):
        found = stable_int("clusterlint", cluster_id, check) % (4 if severity == "error" else 3)
        if severity == "error" and state != "degraded":
            found = 0
        for number in range(found):
            diagnostics.append({
                "check_name": check,
                "severity": severity,
                "message": f"{check} found an issue",
                "object": {"name": f"{check}-{index}-{number}", "kind": kind,
                           "namespace": "default" if number % 2 else "kube-system"},
            })
    return encode({
        "run_id": stable_uuid("clusterlint run", cluster_id),
        "requested_at": iso_utc(requested),
        "completed_at": iso_utc(requested + 4),
        "diagnostics": diagnostics,
    })


def get_status_messages(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    given = given_answer(fleet, "status_messages", cluster(fleet, request), request.now)
    if given is not None:
        return given
    body = cluster(fleet, request)
    status = body.get("status") or {}
    messages = []
    if text(status.get("state")) == "degraded":
        messages.append({"message": text(status.get("message")),
                         "timestamp": text(body.get("updated_at")) or text(body.get("created_at"))})
    return encode({"messages": messages})


def given_upgrades(context: GivenContext) -> Built | None:
    """Answers given per cluster id (`kubernetes_upgrades`, `kubernetes_clusterlint`,
    `kubernetes_status_messages`: {cluster id: answer}; a clusterlint answer of None is a 404,
    never linted), served as given; the clusters without one get derived answers."""
    related: dict[str, tuple[Item, ...]] = {}
    for what in ("upgrades", "clusterlint", "status_messages"):
        for cluster_id, answer in (context.value(f"kubernetes_{what}") or {}).items():
            related[f"{what}:{cluster_id}"] = (
                () if answer is None else (make_item(dict(answer), id=str(cluster_id)),)
            )
    return Built(related=related) if related else None


KIND = Kind(
    name=KIND_NAME,
    # Not in the vendored subset: validated against the full description instead
    # (tests/simulator/test_kubernetes_upgrades.py, test_full_spec_conformance.py).
    routes=tuple(
        Endpoint(template, "kubernetes:read", handler, in_spec=False)
        for template, handler in (
            ("/v2/kubernetes/clusters/{cluster_id}/upgrades", get_upgrades),
            ("/v2/kubernetes/clusters/{cluster_id}/clusterlint", get_clusterlint),
            ("/v2/kubernetes/clusters/{cluster_id}/status_messages", get_status_messages),
        )
    ),
    given=given_upgrades,
    given_keys=("kubernetes_upgrades", "kubernetes_clusterlint", "kubernetes_status_messages"),
)
