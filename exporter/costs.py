"""Cost estimates: the list price per month and the month-to-date cost of every billable
resource, and where the month is heading.

Pure functions of one account's fresh collector data, the price table and the time. They are
rendered with the collectors' families, and again every few minutes, because month-to-date costs
grow with the clock even when nothing else changes.

How a month-to-date cost is estimated (DigitalOcean's billing rules, see `data/prices.yml`):
the hours the resource has existed this calendar month (UTC), each started hour counting, times
its hourly price, capped at its monthly price (672 hours). What the estimate cannot know: a
resource destroyed earlier this month (it is gone from the API, so its cost is not counted), a
resize (the current size is priced for the whole month) and how long a reserved IP has been
unassigned (an unassigned IP is priced from the start of the month). The invoice preview has the
truth; the `digitalocean:cost_estimate_drift_usd` recording rule shows the difference.

Kubernetes worker nodes are Droplets, and the Droplet list shows them too: they are priced once,
with their node pool, and left out of the Droplet costs.

    digitalocean_droplet_month_to_date_cost_usd{account="production",droplet_id="3164444"} 3.2736
    digitalocean_month_forecast_usd{account="production"} 6920.4
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from exporter.collectors.base import DerivedFamilies, Family, Sample
from exporter.collectors.fields import GIB
from exporter.pricing import PriceTable

_ESTIMATE = "computed from polled data and the price table"
COST_REFRESH_SECONDS = 300.0


def _pair(resource: str, what: str, labels: tuple[str, ...]) -> tuple[Family, Family]:
    price = Family(f"digitalocean_{resource}_price_monthly_usd",
                   f"List price per month of each {what}, {_ESTIMATE}.", labels)
    cost = Family(f"digitalocean_{resource}_month_to_date_cost_usd",
                  f"Estimated cost so far this month of each {what} (hours this month times the "
                  f"hourly price, capped at the monthly price), {_ESTIMATE}.", labels)
    return price, cost


DROPLET_COST = Family(
    "digitalocean_droplet_month_to_date_cost_usd",
    "Estimated cost so far this month of each Droplet (hours this month times the hourly price, "
    f"capped at the monthly price), {_ESTIMATE}.",
    ("droplet_id",),
)
BACKUPS_PRICE, BACKUPS_COST = _pair("droplet_backups", "Droplet's backups", ("droplet_id",))
VOLUME_PRICE, VOLUME_COST = _pair("volume", "volume", ("volume_id",))
SNAPSHOT_PRICE, SNAPSHOT_COST = _pair("snapshot", "snapshot", ("snapshot_id",))
IPV4_PRICE, IPV4_COST = _pair("reserved_ip", "reserved IPv4 address (charged while unassigned)",
                              ("reserved_ip",))
IPV6_PRICE, IPV6_COST = _pair("reserved_ipv6", "reserved IPv6 address (charged while unassigned)",
                              ("reserved_ipv6",))
LB_PRICE, LB_COST = _pair("load_balancer", "load balancer", ("load_balancer_id",))
DATABASE_PRICE, DATABASE_COST = _pair("database", "database cluster (all its nodes and their "
                                      "additional storage)", ("database_id",))
CLUSTER_PRICE, CLUSTER_COST = _pair("kubernetes_cluster",
                                    "Kubernetes cluster control plane (charged when HA)",
                                    ("kubernetes_cluster_id",))
POOL_PRICE, POOL_COST = _pair("kubernetes_node_pool", "Kubernetes node pool (its worker nodes)",
                              ("kubernetes_cluster_id", "node_pool_id"))
REGISTRY_PRICE, REGISTRY_COST = _pair("registry", "container registry subscription", ("registry",))
APP_PRICE, APP_COST = _pair("app", "App Platform app (its service and worker instances, "
                            "an autoscaled one at its minimum; sizes without a known price "
                            "left out)", ("app_id",))
INFERENCE_PRICE, INFERENCE_COST = _pair(
    "dedicated_inference", "dedicated inference endpoint (its GPUs at the hourly price "
    "/v2/dedicated-inferences/sizes gives, for 672 hours)", ("dedicated_inference_id",))
NAT_PRICE, NAT_COST = _pair("nat_gateway", "VPC NAT gateway (per gateway unit; data transfer not "
                            "included)", ("nat_gateway_id",))
ADDON_COST = Family(
    "digitalocean_addon_month_to_date_cost_usd",
    "Estimated cost so far this month of each provisioned SaaS add-on (its plan price per month, "
    "from /v2/add-ons/saas, over the hours of this month, capped at it; the API gives no "
    f"creation time, so it is counted from the start of the month), {_ESTIMATE}.",
    ("addon_id",),
)
APP_UNPRICED = Family(
    "digitalocean_app_unpriced_components",
    "Services and workers of an app whose instance size has no known price, so they are missing "
    f"from its price and cost, {_ESTIMATE}.",
    ("app_id",),
)
# Storage products (issue 17): custom images, NFS shares and their snapshots.
IMAGE_PRICE, IMAGE_COST = _pair("image", "custom image", ("image_id",))
NFS_PRICE, NFS_COST = _pair("nfs_share", "NFS share (its provisioned size)", ("nfs_share_id",))
NFS_SNAPSHOT_PRICE, NFS_SNAPSHOT_COST = _pair("nfs_snapshot", "NFS snapshot", ("nfs_snapshot_id",))
FORECAST = Family(
    "digitalocean_month_forecast_usd",
    "Month-end forecast: month-to-date usage from the balance (polled from "
    "/v2/customers/my/balance), extrapolated over the whole calendar month.",
)

FAMILIES = (
    DROPLET_COST, BACKUPS_PRICE, BACKUPS_COST, VOLUME_PRICE, VOLUME_COST, SNAPSHOT_PRICE,
    SNAPSHOT_COST, IPV4_PRICE, IPV4_COST, IPV6_PRICE, IPV6_COST, LB_PRICE, LB_COST, DATABASE_PRICE,
    DATABASE_COST, CLUSTER_PRICE, CLUSTER_COST, POOL_PRICE, POOL_COST, REGISTRY_PRICE,
    REGISTRY_COST, APP_PRICE, APP_COST, APP_UNPRICED,
    IMAGE_PRICE, IMAGE_COST, NFS_PRICE, NFS_COST, NFS_SNAPSHOT_PRICE, NFS_SNAPSHOT_COST,
    INFERENCE_PRICE, INFERENCE_COST, NAT_PRICE, NAT_COST, ADDON_COST, FORECAST,
)
INPUTS = ("droplets", "volumes", "snapshots", "reserved_ips", "load_balancers", "databases",
          "kubernetes", "sizes", "registry", "apps", "app_instance_sizes", "billing",
          "images", "nfs", "droplet_backups", "dedicated_inferences", "nat_gateways", "addons")
BILLED_DROPLET_STATES = frozenset({"new", "active", "off"})  # powered off is still billed


def month_start(now: float) -> float:
    moment = datetime.fromtimestamp(now, UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC).timestamp()


def month_seconds(now: float) -> float:
    moment = datetime.fromtimestamp(now, UTC)
    return calendar.monthrange(moment.year, moment.month)[1] * 86400.0


def billed_hours(created_at: float | None, now: float) -> int:
    """Hours billed this month for a resource created at `created_at` (None: before the month)."""
    start = month_start(now)
    if created_at is not None:
        start = max(start, created_at)
    if now <= start:
        return 0
    return math.ceil((now - start) / 3600)


def month_to_date(
    monthly: Decimal, hourly: Decimal, created_at: float | None, now: float
) -> Decimal:
    return min(billed_hours(created_at, now) * hourly, monthly)


def _decimal(value: float | None) -> Decimal | None:
    # JSON prices are floats; their repr is the shortest exact decimal of what the API sent.
    return None if value is None else Decimal(repr(value))


class _Costs:
    """Builds the samples of one account; each method prices one kind of resource."""

    def __init__(self, inputs: Mapping[str, Any], prices: PriceTable, now: float) -> None:
        self.inputs = inputs
        self.prices = prices
        self.now = now

    def data(self, collector: str) -> Any:
        return self.inputs.get(collector) or ()

    def fixed(self, price: Family, cost: Family, key: tuple[str, ...], monthly: Decimal,
              created_at: float | None) -> Iterator[Sample]:
        yield price.name, key, float(monthly)
        cost_value = month_to_date(monthly, self.prices.hourly(monthly), created_at, self.now)
        yield cost.name, key, float(cost_value)

    def samples(self) -> Iterator[Sample]:
        yield from self.droplets()
        yield from self.volumes()
        yield from self.snapshots()
        yield from self.reserved_ips()
        yield from self.load_balancers()
        yield from self.databases()
        yield from self.kubernetes()
        yield from self.registry()
        yield from self.apps()
        yield from self.storage()
        yield from self.dedicated_inferences()
        yield from self.nat_gateways()
        yield from self.addons()
        yield from self.forecast()

    def kubernetes_droplets(self) -> set[str]:
        return {
            node.droplet_id
            for cluster in self.data("kubernetes")
            for pool in cluster.node_pools
            for node in pool.nodes
            if node.droplet_id
        }

    def droplets(self) -> Iterator[Sample]:
        nodes = self.kubernetes_droplets()
        plans = {p.droplet_id: p.plan for p in self.data("droplet_backups") if p.enabled}
        for droplet in self.data("droplets"):
            monthly, hourly = _decimal(droplet.price_monthly), _decimal(droplet.price_hourly)
            if (droplet.status not in BILLED_DROPLET_STATES or str(droplet.droplet_id) in nodes
                    or monthly is None or hourly is None):
                continue
            key = (str(droplet.droplet_id),)
            yield DROPLET_COST.name, key, float(month_to_date(monthly, hourly, droplet.created_at,
                                                              self.now))
            if droplet.backups or droplet.droplet_id in plans:
                # Weekly unless the backup policies (droplet_backups) say daily.
                backups_ratio = self.prices.amount(
                    "droplet_backups_daily_ratio" if plans.get(droplet.droplet_id) == "daily"
                    else "droplet_backups_ratio")
                yield BACKUPS_PRICE.name, key, float(monthly * backups_ratio)
                yield BACKUPS_COST.name, key, float(
                    month_to_date(monthly * backups_ratio, hourly * backups_ratio,
                                  droplet.created_at, self.now)
                )

    def volumes(self) -> Iterator[Sample]:
        per_gib = self.prices.amount("volume_gib_month")
        for volume in self.data("volumes"):
            size = _decimal(volume.size_gib)
            if size is not None:
                yield from self.fixed(VOLUME_PRICE, VOLUME_COST, (volume.volume_id,),
                                      size * per_gib, volume.created_at)

    def snapshots(self) -> Iterator[Sample]:
        per_gib = self.prices.amount("snapshot_gib_month")
        for snapshot in self.data("snapshots"):
            if snapshot.size_bytes is not None:
                monthly = Decimal(snapshot.size_bytes) / GIB * per_gib
                yield from self.fixed(SNAPSHOT_PRICE, SNAPSHOT_COST, (snapshot.snapshot_id,),
                                      monthly, snapshot.created_at)

    def reserved_ips(self) -> Iterator[Sample]:
        data = self.inputs.get("reserved_ips")
        if data is None:
            return
        for family_pair, records, key in (
            ((IPV4_PRICE, IPV4_COST), data.ipv4, "reserved_ipv4_unassigned_month"),
            ((IPV6_PRICE, IPV6_COST), data.ipv6, "reserved_ipv6_unassigned_month"),
        ):
            for address in records:
                assigned = address.assignment.assigned
                if assigned is None:
                    continue  # assignment unknown (no droplet:read): not guessed
                monthly = Decimal(0) if assigned else self.prices.amount(key)
                # How long an IP has been unassigned is not in the API: assume all month.
                yield from self.fixed(*family_pair, (address.ip,), monthly, None)

    def load_balancers(self) -> Iterator[Sample]:
        node = self.prices.amount("load_balancer_node_month")
        global_price = self.prices.amount("global_load_balancer_month")
        for lb in self.data("load_balancers"):
            monthly = global_price if lb.type == "GLOBAL" else node * (lb.nodes or 1)
            yield from self.fixed(LB_PRICE, LB_COST, (lb.load_balancer_id,), monthly,
                                  lb.created_at)

    def databases(self) -> Iterator[Sample]:
        per_gib = self.prices.amount("database_storage_gib_month")
        for database in self.data("databases"):
            per_node = self.prices.database_node_month.get(database.size)
            if per_node is None:
                continue  # a size the price table does not know: add it under pricing:
            # storage_size_mib is storage added beyond the size's own (null: none), on every node
            added_gib = Decimal(database.storage_mib or 0) / 1024
            monthly = (per_node + added_gib * per_gib) * (database.num_nodes or 1)
            yield from self.fixed(DATABASE_PRICE, DATABASE_COST, (database.database_id,), monthly,
                                  database.created_at)

    def kubernetes(self) -> Iterator[Sample]:
        sizes = {size.slug: size for size in self.data("sizes")}
        ha = self.prices.amount("kubernetes_ha_control_plane_month")
        for cluster in self.data("kubernetes"):
            monthly = ha if cluster.ha else Decimal(0)
            yield from self.fixed(CLUSTER_PRICE, CLUSTER_COST, (cluster.cluster_id,), monthly,
                                  cluster.created_at)
            for pool in cluster.node_pools:
                size = sizes.get(pool.size)
                node_monthly = _decimal(size.price_monthly) if size else None
                node_hourly = _decimal(size.price_hourly) if size else None
                if node_monthly is None or node_hourly is None:
                    continue  # sizes not polled yet, or an unknown size
                key = (cluster.cluster_id, pool.node_pool_id)
                count = pool.count if pool.count is not None else len(pool.nodes)
                yield POOL_PRICE.name, key, float(node_monthly * count)
                # Each node is billed from its own creation, capped at a month.
                cost = sum((month_to_date(node_monthly, node_hourly, node.created_at, self.now)
                            for node in pool.nodes), Decimal(0))
                yield POOL_COST.name, key, float(cost)

    def registry(self) -> Iterator[Sample]:
        for registry in self.data("registry"):
            subscription = registry.subscription
            if subscription is not None and subscription.price_monthly_usd is not None:
                yield from self.fixed(REGISTRY_PRICE, REGISTRY_COST, (registry.registry,),
                                      subscription.price_monthly_usd, registry.created_at)

    def app_instance_prices(self) -> Mapping[str, Decimal]:
        """The API's instance size prices, the price table for the sizes the API does not list."""
        from_api = {size.slug: size.price_monthly_usd for size in self.data("app_instance_sizes")
                    if size.price_monthly_usd is not None}
        return {**self.prices.app_instance_month, **from_api}

    def apps(self) -> Iterator[Sample]:
        prices = self.app_instance_prices()
        for app in self.data("apps"):
            if not app.components:
                continue  # no billed container (static sites, jobs)
            key = (app.app_id,)
            priced = [c for c in app.components if c.instance_size in prices]
            yield APP_UNPRICED.name, key, len(app.components) - len(priced)
            if not priced:
                continue  # no price known: not guessed
            monthly = sum((prices[c.instance_size] * c.billed_instances for c in priced),
                          Decimal(0))
            yield from self.fixed(APP_PRICE, APP_COST, key, monthly, app.created_at)

    def storage(self) -> Iterator[Sample]:
        """Custom images (snapshots and backups listed as images are priced elsewhere), NFS
        shares by their provisioned size and NFS snapshots, per GiB and month."""
        image_gib = self.prices.amount("custom_image_gib_month")
        for image in self.data("images"):
            if image.type == "custom" and image.size_bytes is not None:
                yield from self.fixed(IMAGE_PRICE, IMAGE_COST, (image.image_id,),
                                      Decimal(image.size_bytes) / GIB * image_gib, image.created_at)
        nfs = self.inputs.get("nfs")
        if nfs is None:
            return
        share_gib = self.prices.amount("nfs_gib_month")
        for share in nfs.shares:
            if share.size_gib is not None:
                yield from self.fixed(NFS_PRICE, NFS_COST, (share.share_id,),
                                      share.size_gib * share_gib, share.created_at)
        snapshot_gib = self.prices.amount("nfs_snapshot_gib_month")
        for snapshot in nfs.snapshots:
            if snapshot.size_gib is not None:
                yield from self.fixed(NFS_SNAPSHOT_PRICE, NFS_SNAPSHOT_COST, (snapshot.snapshot_id,),
                                      snapshot.size_gib * snapshot_gib, snapshot.created_at)

    def dedicated_inferences(self) -> Iterator[Sample]:
        """GPUs at the API's hourly price. DigitalOcean prices them by the hour only; that a
        month is capped at 672 hours, as for every other resource, is UNVERIFIED (see
        data/prices.yml)."""
        for inference in self.data("dedicated_inferences"):
            if inference.price_hourly is None:
                continue  # no GPUs, or a slug without a price in its region: not guessed
            monthly = inference.price_hourly * self.prices.hours_per_month
            yield from self.fixed(INFERENCE_PRICE, INFERENCE_COST, (inference.inference_id,),
                                  monthly, inference.created_at)
    def nat_gateways(self) -> Iterator[Sample]:
        per_unit = self.prices.amount("nat_gateway_unit_month")
        for gateway in self.data("nat_gateways"):
            units = gateway.size if gateway.size is not None and gateway.size > 0 else 1
            yield from self.fixed(NAT_PRICE, NAT_COST, (gateway.nat_gateway_id,), per_unit * units,
                                  gateway.created_at)

    def addons(self) -> Iterator[Sample]:
        for addon in self.data("addons"):
            if addon.status != "provisioned" or addon.price_monthly_usd is None:
                continue  # billed only while provisioned; an unknown price is not guessed
            monthly = addon.price_monthly_usd
            # No creation time in the API: counted from the start of the month.
            cost = month_to_date(monthly, self.prices.hourly(monthly), None, self.now)
            yield ADDON_COST.name, (addon.addon_id,), float(cost)

    def forecast(self) -> Iterator[Sample]:
        billing = self.inputs.get("billing")
        if billing is None or billing.month_to_date_usage is None:
            return
        measured_at = billing.generated_at if billing.generated_at is not None else self.now
        elapsed = measured_at - month_start(measured_at)
        if elapsed < 3600:
            return  # an hour into the month, an extrapolation says nothing
        ratio = Decimal(repr(month_seconds(measured_at))) / Decimal(repr(elapsed))
        yield FORECAST.name, (), float(billing.month_to_date_usage * ratio)


def cost_samples(inputs: Mapping[str, Any], prices: PriceTable, now: float) -> Iterator[Sample]:
    return _Costs(inputs, prices, now).samples()


def cost_families(prices: PriceTable) -> DerivedFamilies:
    return DerivedFamilies(
        name="costs",
        families=FAMILIES,
        inputs=INPUTS,
        samples=lambda inputs, now: cost_samples(inputs, prices, now),
        period=COST_REFRESH_SECONDS,
    )
