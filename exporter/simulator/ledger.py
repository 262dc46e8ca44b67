"""What one account's fleet costs: one `Charge` per billed thing, and DigitalOcean's rules.

Every amount the billing endpoints serve (the balance's month-to-date usage, the invoice
preview, past invoices and their summaries, Billing Insights' daily data points) is computed
here from the live fleet, so the simulator's "invoice" agrees with any estimate made from the
resources it serves. The rules are DigitalOcean's, the same the exporter estimates with
(`exporter/data/prices.yml`); they are implemented again here, from the fleet's own data:

* Time is UTC calendar months. In a month, a resource costs `min(hours x hourly, monthly)`,
  where `hours` counts every started hour from `max(created_at, month start)` to the moment
  asked about (0 before it exists). Prices given per month only are billed at
  `hourly = monthly / 672` (unrounded).
* Droplets: their size's `price_monthly` and `price_hourly` (the JSON numbers read as
  `Decimal(repr(x))`); `new`, `active` and `off` are billed, `archive` is not. Backups
  ("backups" in `features`) add 20 % of both prices on the weekly plan, 30 % on the daily one
  (the `daily_backups` kind names those Droplets). Kubernetes worker nodes are Droplets but
  are billed once, as Kubernetes: each node from its own `created_at` at its pool's size
  price (from `/v2/sizes`), and the node Droplets are left out of "Droplets".
* HA control planes $40/month; volumes `size_gigabytes` x $0.10/month; snapshots
  `size_gigabytes` x $0.06/month (from their `created_at`, which moves with the clock's day);
  unassigned reserved IPv4 $5/month, assumed unassigned since the month began (assigned ones
  and reserved IPv6 are free); load balancers $12 x `size_unit`/month (`GLOBAL` $15);
  databases the table's price per node x `num_nodes`; the container registry its tier's price.
* App Platform apps: the table's price per instance x count of their services and workers.
* Storage (issue 17): custom images `size_gigabytes` x the custom image price, NFS shares
  `size_gib` x the NFS price and NFS snapshots `size_gib` x the NFS snapshot price, all per
  month from their `created_at`.
* VPC NAT gateways: `nat_gateway_unit_month` x `size` (gateway units), from `created_at`.
  SaaS add-ons: `plan_price_per_month` while `provisioned`; their answer has no creation
  time, so they are billed from the start of every month (as the exporter estimates them).
* Also billed, and NOT estimated by the exporter (`Charge.estimated` is False), kept small:
  the Spaces subscription ($5/month once the account has a bucket; there is no Spaces API to
  see it). Bandwidth, CDN and overages are not billed.

Amounts stay unrounded Decimals until they leave: a total is rounded once (`money()`), and
amounts that must add up to a rounded total are rounded together (`apportion`).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from exporter.simulator.catalog import (
    APP_INSTANCE_PRICES,
    DROPLET_BACKUPS_DAILY_RATIO,
    DROPLET_BACKUPS_RATIO,
    GLOBAL_LOAD_BALANCER_MONTHLY,
    HOURS_BILLED_PER_MONTH,
    KUBERNETES_HA_CONTROL_PLANE_MONTHLY,
    LEGACY_LOAD_BALANCER_NODES,
    LOAD_BALANCER_MONTHLY_PER_NODE,
    NAT_GATEWAY_UNIT_MONTHLY,
    PRICES,
    RESERVED_IP_UNASSIGNED_MONTHLY,
    RESERVED_IPV6_UNASSIGNED_MONTHLY,
    SIZES_BY_SLUG,
    SNAPSHOT_PRICE_PER_GIB_MONTH,
    VOLUME_PRICE_PER_GIB_MONTH,
    database_monthly,
)
from exporter.simulator.determinism import stable_int
from exporter.simulator.items import DropletRef, Item, Stamp
from exporter.simulator.objects import price

if TYPE_CHECKING:
    from exporter.simulator.objects import ListedObject
    from exporter.simulator.resources import Resources

JsonObject = dict[str, Any]

ZERO = Decimal(0)
CENT = Decimal("0.01")
HOUR = 3600
DAY = 86_400
HOURS = Decimal(HOURS_BILLED_PER_MONTH)
SPACES_SUBSCRIPTION_MONTHLY = Decimal("5.00")
"""Spaces' flat subscription (250 GiB and 1 TiB of transfer included): not estimated by the
exporter, so it is one of the small unestimated items."""

DROPLETS = "Droplets"
BACKUPS = "Droplet Backups"
KUBERNETES = "Kubernetes Clusters"
VOLUMES = "Volumes"
SNAPSHOTS = "Snapshots"
RESERVED_IPS = "Reserved IPs"
LOAD_BALANCERS = "Load Balancers"
DATABASES = "Database Clusters"
REGISTRY = "Container Registry"
APPS = "App Platform"
DEDICATED_INFERENCE = "Dedicated Inference"
SPACES = "Spaces Subscription"
CUSTOM_IMAGES = "Custom Images"
NFS = "Network File Storage"
NFS_SNAPSHOTS = "NFS Snapshots"
NAT_GATEWAYS = "VPC NAT Gateways"
ADDONS = "SaaS Add-ons"
PRODUCTS: tuple[str, ...] = (
    DROPLETS,
    BACKUPS,
    KUBERNETES,
    VOLUMES,
    SNAPSHOTS,
    RESERVED_IPS,
    LOAD_BALANCERS,
    DATABASES,
    REGISTRY,
    APPS,
    CUSTOM_IMAGES,
    NFS,
    NFS_SNAPSHOTS,
    DEDICATED_INFERENCE,
    NAT_GATEWAYS,
    ADDONS,
    SPACES,
)
"""Invoice summary product names, in the order summaries list them."""
UNESTIMATED: frozenset[str] = frozenset({SPACES})
"""Products the simulator bills that the exporter does not estimate."""


def money(amount: Decimal) -> str:
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def unix(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def optional_unix(value: object) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return unix(value)
    except ValueError:
        return None


def month_start(moment: float) -> int:
    """The start (Unix time) of the UTC calendar month `moment` is in."""
    when = datetime.fromtimestamp(int(moment // 1), UTC)
    return int(datetime(when.year, when.month, 1, tzinfo=UTC).timestamp())


def month_bounds(year: int, month: int) -> tuple[int, int]:
    """[start, end) of a calendar month, as Unix times."""
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return int(start.timestamp()), int(end.timestamp())


def day_start(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def sku(code: str, key: object, digits: int = 4) -> str:
    """A SKU stable per product and size, shaped like DigitalOcean's ("1-DO-DROP-0109")."""
    return f"1-{code}-{stable_int('sku', code, key) % 10**digits:0{digits}d}"


@dataclass(frozen=True, slots=True)
class Charge:
    """One billed thing: a Droplet, its backups, a node, a volume, a load balancer, ..."""

    product: str
    """The invoice summary product it is billed under."""
    sku: str
    description: str
    """As Billing Insights shows it, e.g. "web-nyc3-00001 (s-1vcpu-1gb)"."""
    region: str
    monthly: Decimal
    hourly: Decimal
    created_at: int | None = None
    """Unix time; None: billed from the start of every month (unassigned reserved IPs)."""
    created_stamp: Stamp | None = None
    """A creation time relative to the clock's day (snapshots): wins over `created_at`."""
    group: str = ""
    """Billing Insights' `group_description`: the cluster name of Kubernetes charges."""

    @property
    def estimated(self) -> bool:
        """Whether the exporter estimates this charge (everything but the Spaces subscription)."""
        return self.product not in UNESTIMATED

    def created(self, now: float) -> float | None:
        if self.created_stamp is not None:
            return self.created_stamp.at(now)
        return self.created_at

    def accrued(self, start: int, until: float, now: float) -> Decimal:
        """Its cost in the month that begins at `start`, from then (or its creation) until
        `until` (inside that month): started hours x hourly, capped at the monthly price."""
        created = self.created(now)
        begin = start if created is None else max(start, created)
        if until <= begin:
            return ZERO
        hours = math.ceil((until - begin) / HOUR)
        return min(hours * self.hourly, self.monthly)


def monthly_only(monthly: Decimal) -> Decimal:
    """The hourly price of a price given per month only: monthly / 672, unrounded."""
    return monthly / HOURS


@dataclass(frozen=True)
class ProductTotal:
    product: str
    amount: Decimal
    """Unrounded."""
    count: int
    """Charges with a cost in the period."""


@dataclass
class Ledger:
    """The charges of one fleet generation (rebuilt when Droplets are created or destroyed).

    Results are cached per (period, until, clock day): snapshot creation times are relative to
    the clock's UTC day, everything else is fixed.
    """

    charges: tuple[Charge, ...]
    _cache: dict[tuple[int, float, int], tuple[ProductTotal, ...]] = field(
        default_factory=dict, repr=False
    )
    memo: dict[object, Any] = field(default_factory=dict, repr=False)
    """Answers built from this ledger (Billing Insights pages of one query), kept while the
    fleet does not change: a client paging through 200 points at a time must not make every
    page recompute them all."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def remember(self, key: object, build: Callable[[], Any]) -> Any:
        """`build()` once per key (the last few keys are kept); requests wait for each other."""
        with self._lock:
            if key not in self.memo:
                if len(self.memo) >= 8:
                    self.memo.pop(next(iter(self.memo)))
                self.memo[key] = build()
            return self.memo[key]

    def hourly_rate(self) -> Decimal:
        """The hourly price of everything billed, existing or not yet (no monthly cap)."""
        return sum((charge.hourly for charge in self.charges), ZERO)

    def breakdown(self, start: int, until: float, now: float) -> tuple[ProductTotal, ...]:
        """Cost per product in the month beginning at `start`, up to `until`; products with
        a cost only, in `PRODUCTS` order."""
        key = (start, until, int(now) // DAY)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        amounts: dict[str, Decimal] = {}
        counts: dict[str, int] = {}
        for charge in self.charges:
            cost = charge.accrued(start, until, now)
            if cost > 0:
                amounts[charge.product] = amounts.get(charge.product, ZERO) + cost
                counts[charge.product] = counts.get(charge.product, 0) + 1
        result = tuple(
            ProductTotal(product, amounts[product], counts[product])
            for product in PRODUCTS
            if product in amounts
        )
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[key] = result
        return result

    def total(self, start: int, until: float, now: float) -> Decimal:
        """Unrounded cost of the whole fleet in the month beginning at `start`, to `until`."""
        return sum((p.amount for p in self.breakdown(start, until, now)), ZERO)

    def month_to_date(self, at: float) -> Decimal:
        """Unrounded cost from the start of `at`'s month to `at`, on a clock reading `at`."""
        return self.total(month_start(at), at, at)

    def month(self, year: int, month: int, now: float) -> Decimal:
        """Unrounded cost of a whole calendar month (the current fleet, on the clock `now`)."""
        start, end = month_bounds(year, month)
        return self.total(start, end, now)

    def day(self, day: date, now: float) -> list[tuple[Charge, Decimal]]:
        """Each charge's unrounded cost on one UTC day, up to `now` (nothing for a day that
        begins after `now`); charges without a cost that day are left out. The days of a
        month add up to its month-to-date cost exactly."""
        begin = day_start(day)
        if begin >= now:
            return []
        start = month_start(begin)
        until = min(begin + DAY, now)
        costs: list[tuple[Charge, Decimal]] = []
        for charge in self.charges:
            cost = charge.accrued(start, until, now) - charge.accrued(start, begin, now)
            if cost > 0:
                costs.append((charge, cost))
        return costs


def apportion(amounts: Sequence[Decimal], target: Decimal | None = None) -> list[Decimal]:
    """Amounts rounded to cents so that they add up to `target` exactly (default: their own
    sum, rounded): floors first, then the leftover cents to the largest remainders (earlier
    amounts first on ties). With a `target`, the amounts are first scaled to it."""
    amounts = list(amounts)
    if not amounts:
        return []
    whole = sum(amounts, ZERO)
    if target is None:
        target = cents(whole)
    elif whole > 0:
        amounts = [amount * target / whole for amount in amounts]
    else:
        amounts = [target / len(amounts)] * len(amounts)
    floors = [amount.quantize(CENT, rounding=ROUND_FLOOR) for amount in amounts]
    left = int((target - sum(floors, ZERO)) / CENT)
    order = sorted(range(len(amounts)), key=lambda i: (floors[i] - amounts[i], i))
    for position in order[:left]:
        floors[position] += CENT
    return floors


# -- building the charges from a fleet --------------------------------------------------------


def _json(item: Item, now: float = 0.0) -> JsonObject:
    value: JsonObject = json.loads(item.render(now))
    return value


def _region(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("slug") or "")
    return "" if value is None else str(value)


def _size_prices(sizes: Iterable[Item]) -> dict[str, tuple[Decimal, Decimal]]:
    """(monthly, hourly) per size slug, as `/v2/sizes` serves them (the catalogue's if absent)."""
    prices: dict[str, tuple[Decimal, Decimal]] = {}
    for slug, entry in SIZES_BY_SLUG.items():
        monthly, hourly = price(entry.price_monthly), price(entry.price_hourly)
        if monthly is not None and hourly is not None:
            prices[slug] = (monthly, hourly)
    for size in sizes:
        body = _json(size)
        monthly, hourly = price(body.get("price_monthly")), price(body.get("price_hourly"))
        if monthly is not None and hourly is not None:
            prices[str(body.get("slug"))] = (monthly, hourly)
    return prices


def _fixed(
    product: str,
    code: str,
    key: object,
    description: str,
    *,
    region: str,
    monthly: Decimal,
    created: int | None,
    stamp: Stamp | None = None,
    group: str = "",
) -> Charge:
    return Charge(
        product=product,
        sku=sku(code, key),
        description=description,
        region=region,
        monthly=monthly,
        hourly=monthly_only(monthly),
        created_at=created,
        created_stamp=stamp,
        group=group,
    )


def droplet_charges(
    droplets: Iterable[ListedObject], nodes: set[str], daily: Collection[int] = frozenset()
) -> list[Charge]:
    """Droplets (not archived, not Kubernetes nodes) and their backups (`daily`: the Droplets
    on the daily plan, the others weekly)."""
    charges: list[Charge] = []
    for droplet in droplets:
        if droplet.status == "archive" or str(droplet.id) in nodes:
            continue
        monthly, hourly = droplet.price_monthly, droplet.price_hourly
        if monthly is None or hourly is None:
            continue
        created = optional_unix(droplet.created_at)
        charges.append(
            Charge(
                product=DROPLETS,
                sku=sku("DO-DROP", droplet.size_slug),
                description=f"{droplet.name} ({droplet.size_slug})",
                region=droplet.region,
                monthly=monthly,
                hourly=hourly,
                created_at=created,
            )
        )
        if droplet.backups:
            daily_plan = int(droplet.id) in daily
            ratio = DROPLET_BACKUPS_DAILY_RATIO if daily_plan else DROPLET_BACKUPS_RATIO
            charges.append(
                Charge(
                    product=BACKUPS,
                    sku=sku("DO-BKUP", droplet.size_slug),
                    description=f"{droplet.name} {'daily ' if daily_plan else ''}backups "
                                f"({droplet.size_slug})",
                    region=droplet.region,
                    monthly=monthly * ratio,
                    hourly=hourly * ratio,
                    created_at=created,
                )
            )
    return charges


def kubernetes_charges(
    clusters: Iterable[JsonObject], sizes: Mapping[str, tuple[Decimal, Decimal]]
) -> list[Charge]:
    """HA control planes, and every worker node at its pool's size price."""
    charges: list[Charge] = []
    for cluster in clusters:
        name = str(cluster.get("name") or cluster.get("id") or "")
        region = _region(cluster.get("region"))
        if cluster.get("ha") is True:
            charges.append(
                _fixed(
                    KUBERNETES,
                    "KS-K8SHA",
                    "ha",
                    f"{name} HA control plane",
                    region=region,
                    monthly=KUBERNETES_HA_CONTROL_PLANE_MONTHLY,
                    created=optional_unix(cluster.get("created_at")),
                    group=name,
                )
            )
        for pool in cluster.get("node_pools") or ():
            size = str(pool.get("size") or "")
            if size not in sizes:
                continue  # a size /v2/sizes does not list: not priced, like the exporter
            monthly, hourly = sizes[size]
            for node in pool.get("nodes") or ():
                charges.append(
                    Charge(
                        product=KUBERNETES,
                        sku=sku("KS-K8SWN", size, 5),
                        description=f"{node.get('name') or pool.get('name')} ({size})",
                        region=region,
                        monthly=monthly,
                        hourly=hourly,
                        created_at=optional_unix(node.get("created_at")),
                        group=name,
                    )
                )
    return charges


def node_droplet_ids(clusters: Iterable[JsonObject]) -> set[str]:
    return {
        str(node.get("droplet_id"))
        for cluster in clusters
        for pool in cluster.get("node_pools") or ()
        for node in pool.get("nodes") or ()
        if node.get("droplet_id")
    }


def volume_charges(volumes: Iterable[ListedObject]) -> list[Charge]:
    charges = []
    for volume in volumes:
        body = volume.as_json()
        gib = price(body.get("size_gigabytes"))
        if gib is None:
            continue
        charges.append(
            _fixed(
                VOLUMES,
                "DO-BLOCK",
                "volume",
                f"{volume.name} ({body.get('size_gigabytes')} GiB)",
                region=volume.region,
                monthly=gib * VOLUME_PRICE_PER_GIB_MONTH,
                created=optional_unix(body.get("created_at")),
            )
        )
    return charges


def snapshot_charges(snapshots: Iterable[Item]) -> list[Charge]:
    charges = []
    for snapshot in snapshots:
        body = _json(snapshot)
        gib = price(body.get("size_gigabytes"))
        if gib is None:
            continue
        stamp = next((slot for slot in snapshot.slots if isinstance(slot, Stamp)), None)
        regions = body.get("regions") or [""]
        charges.append(
            _fixed(
                SNAPSHOTS,
                "DO-SNAP",
                body.get("resource_type"),
                f"{body.get('name')} ({body.get('size_gigabytes')} GiB)",
                region=str(regions[0]),
                monthly=gib * SNAPSHOT_PRICE_PER_GIB_MONTH,
                created=None if stamp is not None else optional_unix(body.get("created_at")),
                stamp=stamp,
            )
        )
    return charges


def reserved_ip_charges(
    ipv4: Iterable[Item], ipv6: Iterable[Item], droplet_exists: Callable[[int], bool]
) -> list[Charge]:
    """Unassigned addresses, assumed unassigned since the month began (as the exporter does:
    how long an address has been unassigned is not in the API)."""
    charges = []
    for items, monthly, version in (
        (ipv4, RESERVED_IP_UNASSIGNED_MONTHLY, "v4"),
        (ipv6, RESERVED_IPV6_UNASSIGNED_MONTHLY, "v6"),
    ):
        if monthly <= 0:
            continue
        for item in items:
            refs = [slot for slot in item.slots if isinstance(slot, DropletRef)]
            assigned = droplet_exists(refs[0].droplet_id) if refs else item.extra is not None
            if assigned:
                continue
            region = item.region or _region(_json(item).get("region"))
            charges.append(
                _fixed(
                    RESERVED_IPS,
                    "DO-RIP",
                    version,
                    f"{item.id} (unassigned)",
                    region=region,
                    monthly=monthly,
                    created=None,
                )
            )
    return charges


def load_balancer_charges(load_balancers: Iterable[Item]) -> list[Charge]:
    charges = []
    for item in load_balancers:
        body = _json(item)
        created = optional_unix(body.get("created_at"))
        region = _region(body.get("region"))
        name = str(body.get("name") or body.get("id"))
        if body.get("type") == "GLOBAL":
            charges.append(
                _fixed(
                    LOAD_BALANCERS,
                    "DO-GLB",
                    "global",
                    f"{name} (global)",
                    region=region,
                    monthly=GLOBAL_LOAD_BALANCER_MONTHLY,
                    created=created,
                )
            )
            continue
        nodes = body.get("size_unit")
        if not isinstance(nodes, int) or isinstance(nodes, bool) or nodes < 1:
            nodes = LEGACY_LOAD_BALANCER_NODES.get(str(body.get("size") or ""), 1)
        charges.append(
            _fixed(
                LOAD_BALANCERS,
                "DO-LB",
                nodes,
                f"{name} ({nodes} node{'s' if nodes > 1 else ''})",
                region=region,
                monthly=LOAD_BALANCER_MONTHLY_PER_NODE * nodes,
                created=created,
            )
        )
    return charges


def database_charges(databases: Iterable[Item]) -> list[Charge]:
    charges = []
    for item in databases:
        body = _json(item)
        size = str(body.get("size") or "")
        per_node = PRICES.database_node_month.get(size)
        if per_node is None:
            continue  # a size the price table does not know: the exporter skips it too
        nodes = body.get("num_nodes")
        count = nodes if isinstance(nodes, int) and not isinstance(nodes, bool) and nodes > 0 else 1
        added = body.get("storage_size_mib")
        added_mib = added if isinstance(added, int) and not isinstance(added, bool) else 0
        engine = str(body.get("engine") or "db").upper()
        charges.append(
            _fixed(
                DATABASES,
                f"DB-{engine}",
                size,
                f"{body.get('name')} ({size} x {count})",
                region=_region(body.get("region")),
                monthly=database_monthly(size, count, added_mib),
                created=optional_unix(body.get("created_at")),
            )
        )
    return charges


def registry_charges(registries: Iterable[Item]) -> list[Charge]:
    """Each registry's subscription tier."""
    charges = []
    for registry in registries:
        body = _json(registry)
        tier = ((body.get("subscription") or {}).get("tier")) or {}
        cents_per_month = tier.get("monthly_price_in_cents")
        if not isinstance(cents_per_month, int) or cents_per_month <= 0:
            continue
        charges.append(_fixed(
            REGISTRY,
            "CR-REG",
            tier.get("slug"),
            f"{body.get('name')} ({tier.get('name') or tier.get('slug')})",
            region=str(body.get("region") or ""),
            monthly=Decimal(cents_per_month) / 100,
            created=optional_unix(body.get("created_at")),
        ))
    return charges


def app_charges(apps: Iterable[Item]) -> list[Charge]:
    """Every service and worker at its instance price; an autoscaled one at its minimum."""
    charges = []
    for item in apps:
        body = _json(item)
        spec = body.get("spec") or {}
        monthly = ZERO
        sizes = []
        for component in (*(spec.get("services") or ()), *(spec.get("workers") or ())):
            slug = str(component.get("instance_size_slug") or "")
            scaling = component.get("autoscaling")
            if isinstance(scaling, dict) and "instance_count" not in component:
                count = scaling.get("min_instance_count") or 1
            else:
                count = component.get("instance_count") or 1
            if slug in APP_INSTANCE_PRICES and isinstance(count, int):
                monthly += Decimal(repr(APP_INSTANCE_PRICES[slug])) * count
                sizes.append(f"{slug} x {count}")
        if monthly <= 0:
            continue
        region = body.get("region") or {}
        charges.append(
            _fixed(
                APPS,
                "AP-APP",
                ",".join(sizes),
                f"{spec.get('name') or body.get('id')} ({', '.join(sizes)})",
                region=str(region.get("slug") if isinstance(region, dict) else region or ""),
                monthly=monthly,
                created=optional_unix(body.get("created_at")),
            )
        )
    return charges


DAILY = "daily"
"""`Item.extra` of a generated `daily_backups` object: its Droplet's backups are daily."""
GIVEN = "given"
"""`Item.extra` of a backup policy given verbatim (`backup_policies=`)."""


def daily_droplet_ids(policies: Iterable[Item]) -> frozenset[int]:
    """The Droplets whose backups are on the daily plan, from the `daily_backups` kind's
    objects (generated, or policies given verbatim)."""
    ids = set()
    for item in policies:
        if item.extra == DAILY:
            ids.add(int(item.id))
        elif item.extra == GIVEN:
            body = _json(item)
            rule = body.get("backup_policy")
            if body.get("backup_enabled") is True and isinstance(rule, dict) \
                    and rule.get("plan") == DAILY:
                ids.add(int(body["droplet_id"]))
    return frozenset(ids)


def storage_charges(images: Iterable[Item], shares: Iterable[Item],
                    nfs_snapshots: Iterable[Item]) -> list[Charge]:
    """Custom images (by `size_gigabytes`), NFS shares and NFS snapshots (by `size_gib`)."""
    charges = []
    for items, product, code, field_name, per_gib in (
        (images, CUSTOM_IMAGES, "DO-IMG", "size_gigabytes", PRICES.amount("custom_image_gib_month")),
        (shares, NFS, "DO-NFS", "size_gib", PRICES.amount("nfs_gib_month")),
        (nfs_snapshots, NFS_SNAPSHOTS, "DO-NFSSNAP", "size_gib",
         PRICES.amount("nfs_snapshot_gib_month")),
    ):
        for item in items:
            body = _json(item)
            if product == CUSTOM_IMAGES and body.get("type") != "custom":
                continue  # snapshots and backups listed as images are billed as such
            gib = price(body.get(field_name))
            if gib is None:
                continue
            regions = body.get("regions")
            region = str(regions[0]) if isinstance(regions, list) and regions else _region(
                body.get("region"))
            charges.append(_fixed(
                product,
                code,
                field_name,
                f"{body.get('name')} ({body.get(field_name)} GiB)",
                region=region,
                monthly=gib * per_gib,
                created=optional_unix(body.get("created_at")),
            ))
    return charges


def dedicated_inference_charges(inferences: Iterable[Item]) -> list[Charge]:
    """Each endpoint's GPUs at the hourly price its kind gives them (`Item.hourly_cost`, what
    /v2/dedicated-inferences/sizes lists), capped like every charge at 672 hours a month."""
    charges = []
    for item in inferences:
        if item.hourly_cost <= 0:
            continue
        body = _json(item)
        charges.append(_fixed(
            DEDICATED_INFERENCE,
            "DI-GPU",
            item.hourly_cost,
            f"{item.name or item.id} (dedicated inference)",
            region=str(body.get("region") or ""),
            monthly=item.hourly_cost * HOURS,
            created=optional_unix(body.get("created_at")),
        ))
    return charges


def nat_gateway_charges(gateways: Iterable[Item]) -> list[Charge]:
    """Each gateway at the unit price times its size (gateway units), from its creation."""
    charges = []
    for item in gateways:
        body = _json(item)
        size = body.get("size")
        units = size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else 1
        charges.append(_fixed(
            NAT_GATEWAYS,
            "NET-NAT",
            units,
            f"{body.get('name') or body.get('id')} ({units} unit{'s' if units > 1 else ''})",
            region=_region(body.get("region")),
            monthly=NAT_GATEWAY_UNIT_MONTHLY * units,
            created=optional_unix(body.get("created_at")),
        ))
    return charges


def addon_charges(addons: Iterable[Item]) -> list[Charge]:
    """Each `provisioned` add-on at its plan's price; no creation time: billed all month."""
    charges = []
    for item in addons:
        body = _json(item)
        price_value = body.get("plan_price_per_month")
        if body.get("state") != "provisioned" or not isinstance(price_value, int | float) \
                or isinstance(price_value, bool) or price_value <= 0:
            continue
        charges.append(_fixed(
            ADDONS,
            "MP-ADD",
            body.get("plan_slug"),
            f"{body.get('name')} ({body.get('app_slug')} {body.get('plan_slug')})",
            region="",
            monthly=Decimal(repr(price_value)),
            created=None,
        ))
    return charges


def spaces_charges(buckets: Sequence[Item]) -> list[Charge]:
    """Not estimated by the exporter: the flat Spaces subscription, from the first bucket."""
    if not buckets:
        return []
    created = [c for c in (optional_unix(b.created_at) for b in buckets) if c is not None]
    return [
        _fixed(
            SPACES,
            "SP-SUB",
            "subscription",
            f"Spaces subscription ({len(buckets)} bucket{'s' if len(buckets) > 1 else ''})",
            region=buckets[0].region,
            monthly=SPACES_SUBSCRIPTION_MONTHLY,
            created=min(created) if created else None,
        )
    ]


def build_ledger(
    *,
    droplets: Sequence[ListedObject],
    volumes: Sequence[ListedObject],
    resources: Resources,
    droplet_exists: Callable[[int], bool],
) -> Ledger:
    """Every charge of a fleet (regular and GPU Droplets in `droplets`)."""
    clusters = [_json(item) for item in resources.objects("kubernetes_clusters")]
    sizes = _size_prices(resources.objects("catalog"))
    charges = [
        *droplet_charges(droplets, node_droplet_ids(clusters),
                         daily_droplet_ids(resources.objects("daily_backups"))),
        *kubernetes_charges(clusters, sizes),
        *volume_charges(volumes),
        *snapshot_charges(resources.objects("snapshots")),
        *reserved_ip_charges(
            resources.objects("reserved_ips"), resources.objects("reserved_ipv6s"), droplet_exists
        ),
        *load_balancer_charges(resources.objects("load_balancers")),
        *database_charges(resources.objects("databases")),
        *registry_charges(resources.objects("registry")),
        *app_charges(resources.objects("apps")),
        *storage_charges(resources.objects("custom_images"), resources.objects("nfs_shares"),
                         resources.related("nfs_shares", "snapshots") or ()),
        *dedicated_inference_charges(resources.objects("dedicated_inferences")),
        *nat_gateway_charges(resources.objects("nat_gateways")),
        *addon_charges(resources.objects("addons")),
        *spaces_charges(resources.objects("spaces_buckets")),
    ]
    return Ledger(tuple(charges))
