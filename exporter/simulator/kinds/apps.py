"""App Platform apps (`/v2/apps`) and the instance size catalogue
(`/v2/apps/tiers/instance_sizes`, the same for every account).

Every fifth app (the third, eighth, ...) is autoscaled on a dedicated size: its service has
`autoscaling` and, as the spec requires, no `instance_count`; it is billed at its minimum.
"""

from __future__ import annotations

import json
from typing import Any

from exporter.simulator.building import (
    HOUR,
    BuildContext,
    GivenContext,
    JsonObject,
    base36,
    given_item,
    monthly,
    text,
)
from exporter.simulator.catalog import APP_INSTANCE_PRICES, app_instance_sizes_catalog, app_region_for
from exporter.simulator.determinism import stable_hex, stable_int, stable_uuid
from exporter.simulator.handling import (
    ApiRequest,
    Caller,
    Endpoint,
    FleetView,
    paged_items,
    single,
)
from exporter.simulator.items import DAY, Item, Stamp, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.kinds.domains import domain_names
from exporter.simulator.resources import Built, Resources
from exporter.simulator.timefmt import iso_utc

APP_WORDS = (
    "storefront",
    "api-gateway",
    "docs",
    "admin-panel",
    "webhooks",
    "status-page",
    "checkout",
    "marketing",
    "search",
    "notifier",
)


def apps(resources: Resources) -> tuple[Item, ...]:
    """Without `project_id`; each one's `private` holds the object with it."""
    return resources.objects("apps")


def list_apps(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """`with_projects=true` adds each app's `project_id`."""
    with_projects = (single(request.query, "with_projects") or "").lower() in ("true", "1")
    return paged_items(request, "apps", apps(fleet.resources), fleet, private=with_projects)


INSTANCE_SIZES = json.dumps(
    {"instance_sizes": app_instance_sizes_catalog()}, separators=(",", ":")
).encode()
AUTOSCALED_SIZE = "apps-d-2vcpu-8gb"


def list_instance_sizes(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """Not paged: the spec declares no parameters for it."""
    return INSTANCE_SIZES


def web_service(index: int, repo: str) -> tuple[JsonObject, str, int]:
    """The app's one service, its instance size and the instances it is billed for."""
    size = ("apps-s-1vcpu-0.5gb", "apps-s-1vcpu-1gb", "apps-d-1vcpu-2gb")[index % 3]
    instances = 1 + (index % 4 == 3)
    scaling: JsonObject = {"instance_count": instances}
    if index % 5 == 2:
        size, instances = AUTOSCALED_SIZE, 2
        scaling = {"autoscaling": {"min_instance_count": instances, "max_instance_count": 4,
                                   "metrics": {"cpu": {"percent": 70}}}}
    service: JsonObject = {
        "name": "web",
        "github": {"repo": repo, "branch": "main", "deploy_on_push": True},
        "instance_size_slug": size,
        **scaling,
        "http_port": 8080,
        "routes": [{"path": "/"}],
    }
    return service, size, instances


def build_apps(context: BuildContext) -> Built:
    domains = domain_names(context)
    count = context.counts.apps
    failed = building = None
    if context.problems is True:
        failed = 1 if count >= 2 else 0
        building = 2 if count >= 3 else None
    elif context.problems is None and count >= 3:
        failed, building = 1, 2
    deploying = 4 if context.problems is not False and count >= 5 else None
    out: list[tuple[Item, JsonObject]] = []
    for index in range(count):
        word = APP_WORDS[index % len(APP_WORDS)]
        name = word if index < len(APP_WORDS) else f"{word}-{index // len(APP_WORDS) + 1}"
        app_id = context.uuid("app", index)
        region = app_region_for(context.region_at(index, vpc=False))
        service, size, instances = web_service(index, f"{context.slug}/{name}")
        tier = "professional" if size.startswith("apps-d-") else "basic"
        created = context.created("app", index, count)
        ingress = f"https://{name}-{base36(stable_int(app_id))[-5:]}.ondigitalocean.app"
        domain = f"{word}.{domains[index % len(domains)]}" if domains and index % 2 == 0 else ""
        spec: JsonObject = {
            "name": name,
            "region": region.slug,
            "services": [service],
        }
        if domain:
            spec["domains"] = [
                {"domain": domain, "type": "PRIMARY", "zone": domain.split(".", 1)[1]}
            ]
        active_at = created + DAY
        active = deployment(
            app_id, 0, spec, phase="ACTIVE", created=iso_utc(active_at), tier=tier
        )
        body: JsonObject = {
            "id": app_id,
            "owner_uuid": context.owner_uuid,
            "spec": spec,
            "default_ingress": ingress,
            "created_at": iso_utc(created),
            "updated_at": iso_utc(active_at),
            "active_deployment": active,
            "pending_deployment": active,
            "last_deployment_created_at": active["created_at"],
            "live_url": f"https://{domain}" if domain else ingress,
            "live_url_base": f"https://{domain}" if domain else ingress,
            "live_domain": domain or ingress.removeprefix("https://"),
            "region": region.as_json(),
            "tier_slug": tier,
        }
        phase = None
        if index == failed:
            phase, offset = "ERROR", -3 * HOUR
        elif index == building:
            phase, offset = "BUILDING", -4 * 60
        elif index == deploying:
            phase, offset = "DEPLOYING", -2 * 60
        if phase is not None:
            started = Stamp(offset, floor=active_at + HOUR)
            latest = deployment(app_id, 1, spec, phase=phase, created=started, tier=tier)
            body["pending_deployment"] = latest
            body["last_deployment_created_at"] = started
            body["updated_at"] = started
            if phase != "ERROR":
                body["in_progress_deployment"] = latest
        cost = monthly(APP_INSTANCE_PRICES[size] * instances)
        project = context.project_for(("app", app_id))
        with_project = dict(body)
        with_project["project_id"] = project
        facts: dict[str, Any] = {
            "name": name,
            "region": region.slug,
            "created_at": iso_utc(created),
            "urn": f"do:app:{app_id}",
            "hourly_cost": cost,
            "extra": phase or "ACTIVE",
        }
        private = make_item(with_project, id=app_id, **facts)
        out.append((make_item(body, id=app_id, private=private, **facts), body))
        context.assign(f"do:app:{app_id}", f"/v2/apps/{app_id}", iso_utc(created), project)
    return Built(items=tuple(item for item, _ in out), bodies=tuple(body for _, body in out))


def deployment(
    app_id: str,
    number: int,
    spec: JsonObject,
    *,
    phase: str,
    created: str | Stamp,
    tier: str,
) -> JsonObject:
    steps = ("build", "deploy", "finalize")
    done = {"ACTIVE": 3, "ERROR": 1, "BUILDING": 0, "DEPLOYING": 1}[phase]
    progress_steps: list[JsonObject] = []
    for position, step in enumerate(steps):
        status = "SUCCESS" if position < done else "PENDING"
        if position == done and phase in ("BUILDING", "DEPLOYING"):
            status = "RUNNING"
        if position == done and phase == "ERROR":
            status = "ERROR"
        entry: JsonObject = {"name": step, "status": status}
        if status == "ERROR":
            entry["reason"] = {
                "code": "DeployContainerHealthChecksFailed",
                "message": "Your deploy failed because your container health checks failed.",
            }
        progress_steps.append(entry)
    counted = {s: sum(1 for e in progress_steps if e["status"] == s) for s in
               ("SUCCESS", "ERROR", "RUNNING", "PENDING")}
    commit = stable_hex(40, app_id, "commit", number)
    return {
        "id": stable_uuid(app_id, "deployment", number),
        "spec": spec,
        "services": [{"name": "web", "source_commit_hash": commit}],
        "phase_last_updated_at": created,
        "created_at": created,
        "updated_at": created,
        "cause": f"commit {commit[:7]} pushed to github.com/{spec['services'][0]['github']['repo']}",
        "progress": {
            "success_steps": counted["SUCCESS"],
            "error_steps": counted["ERROR"],
            "running_steps": counted["RUNNING"],
            "pending_steps": counted["PENDING"],
            "total_steps": len(steps),
            "steps": progress_steps,
        },
        "phase": phase,
        "tier_slug": tier,
    }


def given_apps(context: GivenContext) -> Built:
    items = []
    for app in context.objects("apps"):
        context.assign(f"do:app:{app.get('id')}", f"/v2/apps/{app.get('id')}", text(app.get("created_at")))
        items.append(given_item(app, urn=f"do:app:{app.get('id')}", private=given_item(app)))
    return Built(items=tuple(items))


KIND = Kind(
    name="apps",
    routes=(
        Endpoint("/v2/apps", "app:read", list_apps, paged=True),
        Endpoint("/v2/apps/tiers/instance_sizes", "app:read", list_instance_sizes, in_spec=False),
    ),
    list_endpoint="/v2/apps",
    count=Count(derive=lambda droplets, _: droplets // 50, problems_minimum=3),
    build=build_apps,
    given=given_apps,
    in_state=True,
)
