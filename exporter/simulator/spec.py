"""`FleetSpec`: how to generate one account's resources, as counts and a seed."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from decimal import Decimal

RATIO = re.compile(r"^(0|1)(\.\d+)?$")
"""A ratio written as a decimal string ("0.04"), like money never a float."""

NOT_COUNTS = frozenset({"seed", "created_until"})
"""Integer fields that may be negative; every other number in a FleetSpec is a count or limit."""


@dataclass(frozen=True)
class FleetSpec:
    """How to generate one account's resources, deterministically from `seed`.

    Counts left as None get a realistic share of `droplets` (see `Fleet.generate`).
    Money is given as strings, exactly as the billing API sends it.
    """

    seed: int = 0
    droplets: int = 20
    gpu_droplets: int = 0
    volumes: int = 0
    unattached_volumes: int | None = None
    off_droplets: int | None = None
    new_droplets: int | None = None
    archive_droplets: int | None = None
    regions: tuple[str, ...] = ("nyc3", "sfo3", "ams3", "fra1", "lon1", "sgp1", "tor1")
    tags: tuple[str, ...] = ("web", "api", "worker", "db", "cache", "k8s")
    created_until: int = 1_780_272_000
    """Unix time of the newest generated resource (2026-06-01T00:00:00Z): fixed, not the clock,
    so generated fleets are byte-identical from run to run."""
    created_span_days: int = 365
    droplet_limit: int | None = None
    volume_limit: int = 100
    floating_ip_limit: int = 3
    reserved_ip_limit: int = 3
    account_balance: str = "0.00"
    month_to_date_usage: str | None = None
    """None: the fleet's cost so far this month on the clock (see `ledger.py`); a string fixes
    the balance's usage and the invoice preview (tests)."""
    invoice_months: int = 14
    invoice_amounts: tuple[str, ...] | None = None
    """Newest first; None: the fleet's full-month cost of each month."""
    invoice_credit_ratio: str = "0"
    """Share of each past invoice's product charges given back as credits (a promotional
    programme, say "0.04"): shown under the summary's `credits_and_adjustments`, and the
    invoice's amount is that much below the fleet's full-month cost. Ignored with
    `invoice_amounts`."""
    # Every other kind (one field per counted kind of `exporter.simulator.kinds.KINDS`, checked
    # by tests/simulator/test_kinds.py). None: a realistic share of `droplets` (each kind's
    # `Count`, worked out by `kinds.resource_counts`); an explicit count wins.
    snapshots: int | None = None
    """Droplet and volume snapshots; None: 1 per 5 Droplets (a third of volume snapshots)."""
    reserved_ips: int | None = None
    """Reserved IPv4 addresses (also listed as floating IPs); None: 1 per 20 Droplets."""
    reserved_ipv6s: int | None = None
    """None: 1 per 100 Droplets."""
    load_balancers: int | None = None
    """None: 1 per 50 Droplets."""
    kubernetes_clusters: int | None = None
    """None: 1 per 100 Droplets; each has 1-3 node pools whose nodes are Droplets of the fleet."""
    databases: int | None = None
    """Managed database clusters; None: 1 per 50 Droplets."""
    apps: int | None = None
    """App Platform apps; None: 1 per 50 Droplets."""
    domains: int | None = None
    """DNS zones, each with records; None: a few (1 + 1 per 100 Droplets, at most 5)."""
    firewalls: int | None = None
    """Cloud firewalls; None: a few (1 + 1 per 100 Droplets, at most 5)."""
    custom_vpcs: int | None = None
    """VPCs besides the default one of every region in use; None: 1 per 1,000 Droplets."""
    cdn_endpoints: int | None = None
    """None: from 10 Droplets, 1 + 1 per 500 Droplets, at most 3."""
    certificates: int | None = None
    """None: from 10 Droplets, 1 + 1 per 200 Droplets, at most 4."""
    uptime_checks: int | None = None
    """None: from 10 Droplets, 1 + 1 per 100 Droplets, at most 5."""
    projects: int | None = None
    """Including the default project; None: 1 with no Droplets, else 2-4 (grows with the fleet)."""
    spaces_buckets: int | None = None
    """Spaces buckets (only seen as project resources and CDN origins); None: one per CDN
    endpoint, plus one from 10 Droplets."""
    registry: bool | None = None
    """A container registry; None: from 20 Droplets. False: /v2/registry answers 404."""
    problems: bool | None = None
    """Alert-worthy states among the resources above. None: a realistic sprinkle once a list
    is long enough; True: at least one of each (unassigned reserved IP, snapshot older than 90
    days, errored load balancer, degraded cluster with a pool below its minimum, database not
    online, app whose latest deployment failed, certificate expiring within 14 days, uptime
    check down in a region, registry almost full); False: none at all."""

    def __post_init__(self) -> None:
        for spec_field in fields(self):
            value = getattr(self, spec_field.name)
            countable = isinstance(value, int) and not isinstance(value, bool)
            if countable and spec_field.name not in NOT_COUNTS and value < 0:
                raise ValueError(f"FleetSpec.{spec_field.name} must not be negative")
        if self.projects is not None and self.projects < 1:
            raise ValueError("FleetSpec.projects must be at least 1 (the default project)")
        object.__setattr__(self, "regions", tuple(self.regions))
        object.__setattr__(self, "tags", tuple(self.tags))
        if self.invoice_amounts is not None:
            object.__setattr__(self, "invoice_amounts", tuple(self.invoice_amounts))
        if not RATIO.match(self.invoice_credit_ratio) or Decimal(self.invoice_credit_ratio) >= 1:
            raise ValueError("FleetSpec.invoice_credit_ratio must be a decimal string in [0, 1)")


