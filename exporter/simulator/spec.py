"""`FleetSpec`: how to generate one account's resources, as counts and a seed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

RATIO = re.compile(r"^(0|1)(\.\d+)?$")
"""A ratio written as a decimal string ("0.04"), like money never a float."""

NOT_COUNTS = frozenset({"seed", "created_until"})
"""Integer fields that may be negative; every other number in a FleetSpec is a count or limit."""


Count = int | bool
"""A kind's count: a number, or yes/no for a kind an account has one or none of (a registry)."""


@dataclass(frozen=True)
class FleetShape:
    """The fields of a `FleetSpec` that are not counts of a kind of `KINDS` (besides the
    Droplets and volumes `Fleet.generate` makes itself), and `counts`."""

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
    problems: bool | None = None
    """Alert-worthy states among the resources above. None: a realistic sprinkle once a list
    is long enough; True: at least one of each (unassigned reserved IP, snapshot older than 90
    days, errored load balancer, degraded cluster with a pool below its minimum, database not
    online, app whose latest deployment failed, certificate expiring within 14 days, uptime
    check down in a region, registry almost full); False: none at all."""
    counts: tuple[tuple[str, Count], ...] = ()
    """Every other kind's count given explicitly, by kind name (`Kind.name`), sorted; a kind
    left out gets a realistic share of `droplets` (its `Count`, worked out by
    `kinds.resource_counts`, which also refuses names that are no kind's)."""

    def __post_init__(self) -> None:
        values = [(f.name, getattr(self, f.name)) for f in fields(self) if f.name != "counts"]
        for name, value in (*values, *self.counts):
            countable = isinstance(value, int) and not isinstance(value, bool)
            if countable and name not in NOT_COUNTS and value < 0:
                raise ValueError(f"FleetSpec.{name} must not be negative")
        if self.count("projects") is not None and int(self.count("projects") or 0) < 1:
            raise ValueError("FleetSpec.projects must be at least 1 (the default project)")
        object.__setattr__(self, "regions", tuple(self.regions))
        object.__setattr__(self, "tags", tuple(self.tags))
        if self.invoice_amounts is not None:
            object.__setattr__(self, "invoice_amounts", tuple(self.invoice_amounts))
        if not RATIO.match(self.invoice_credit_ratio) or Decimal(self.invoice_credit_ratio) >= 1:
            raise ValueError("FleetSpec.invoice_credit_ratio must be a decimal string in [0, 1)")

    def count(self, name: str) -> Count | None:
        """The count of kind `name` as given (a field for Droplets and volumes); None: derived."""
        if name in SHAPE_FIELDS:
            value: Count | None = getattr(self, name)
            return value
        return dict(self.counts).get(name)


SHAPE_FIELDS = frozenset(f.name for f in fields(FleetShape)) - {"counts"}


class FleetSpec(FleetShape):
    """How to generate one account's resources, deterministically from `seed`.

    Takes `FleetShape`'s fields and any kind's count by name as keywords
    (`FleetSpec(droplets=3, load_balancers=2)`), so a new kind needs no field here.
    Counts left as None get a realistic share of `droplets` (see `Fleet.generate`).
    Money is given as strings, exactly as the billing API sends it.
    """

    def __init__(
        self, counts: Iterable[tuple[str, Count | None]] = (), **values: Any
    ) -> None:
        given = dict(counts)
        shape = {}
        for name, value in values.items():
            if name in SHAPE_FIELDS:
                shape[name] = value
            else:
                given[name] = value
        explicit = tuple(sorted((n, v) for n, v in given.items() if v is not None))
        super().__init__(**shape, counts=explicit)


