"""SaaS add-ons (`/v2/add-ons/saas`): Marketplace add-on resources, NOT paged.

`{"resources": [...]}`, every resource at once. Each has a plan with a whole-dollar price per
month; a `provisioned` one is billed at it (see `ledger.addon_charges`). The answer has no
creation time, so a resource is billed from the start of every month, as the exporter
estimates it. With problems on, the second is `provisioning-failed`. `metadata` holds a
fake API key, so tests can show that the exporter never reads it.
"""

from __future__ import annotations

from exporter.simulator.building import BuildContext, GivenContext, JsonObject, given_item, text
from exporter.simulator.handling import ApiRequest, Caller, Endpoint, FleetView
from exporter.simulator.items import Item, make_item
from exporter.simulator.kind import Count, Kind
from exporter.simulator.resources import Built, Resources

# (app slug, app name, plan slug, plan name, price per month in dollars): made-up catalogue
PLANS = (
    ("mail_relay", "Mail Relay", "starter", "Starter", 15),
    ("log_search", "Log Search", "standard", "Standard", 29),
    ("error_tracker", "Error Tracker", "team", "Team", 26),
)


def addons(resources: Resources) -> tuple[Item, ...]:
    return resources.objects("addons")


def list_addons(request: ApiRequest, fleet: FleetView, caller: Caller) -> bytes:
    """Not paged: no `links`, no `meta`, every resource."""
    return b'{"resources":[' + b",".join(item.body for item in addons(fleet.resources)) + b"]}"


def build_addons(context: BuildContext) -> Built:
    count = context.counts.addons
    failed = 1 if context.problems is True and count >= 2 else None
    items: list[Item] = []
    for index in range(count):
        resource_id = context.uuid("addon", index)
        app_slug, app_name, plan_slug, plan_name, price = PLANS[index % len(PLANS)]
        name = f"{context.slug}-{app_slug.replace('_', '-')}-{index + 1}"
        body: JsonObject = {
            "uuid": resource_id,
            "name": name,
            "state": "provisioning-failed" if index == failed else "provisioned",
            "app_name": app_name,
            "app_slug": app_slug,
            "plan_name": plan_name,
            "plan_slug": plan_slug,
            "plan_price_per_month": price,
            "has_config": True,
            "metadata": [{"name": "API_KEY", "value": "sk_sim_" + resource_id.replace("-", "")}],
            "message": "Resource is provisioned successfully.",
        }
        items.append(make_item(body, id=resource_id, name=name))
    return Built(items=tuple(items))


def given_addons(context: GivenContext) -> Built:
    return Built(items=tuple(given_item(a, "uuid", name=text(a.get("name")))
                             for a in context.objects("addons")))


KIND = Kind(
    name="addons",
    routes=(Endpoint("/v2/add-ons/saas", "addon:read", list_addons, in_spec=False),),
    list_endpoint="/v2/add-ons/saas",
    count=Count(derive=lambda droplets, _: droplets // 250),
    build=build_addons,
    given=given_addons,
)
