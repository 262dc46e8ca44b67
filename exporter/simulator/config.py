"""What a simulated DigitalOcean looks like: accounts, tokens, fleet specs, limits and faults.

Everything here is a frozen description. The live, changing state (revoked tokens, fault
counters, mutated fleets) belongs to `exporter.simulator.server.Simulator`, which is built from
one `SimulatorConfig`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from exporter.simulator.fleet import Fleet

RATIO = re.compile(r"^(0|1)(\.\d+)?$")
"""A ratio written as a decimal string ("0.04"), like money never a float."""

READ_ONLY_SCOPES: tuple[str, ...] = ("read",)
"""A legacy read-only token, as the control panel's "Read Only" option reports it."""

FULL_ACCESS_SCOPES: tuple[str, ...] = ("read", "write")
"""A legacy full-access token."""

SCOPE_PRESETS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"read-only": READ_ONLY_SCOPES, "full-access": FULL_ACCESS_SCOPES}
)
"""Names a scenario file may use instead of a scope list."""

FaultKind = Literal["latency", "error", "rate_limit", "hang", "malformed", "revoke_token", "churn"]
FAULT_KINDS: tuple[FaultKind, ...] = (
    "latency",
    "error",
    "rate_limit",
    "hang",
    "malformed",
    "revoke_token",
    "churn",
)

MalformedStyle = Literal["truncated", "html", "disconnect"]
MALFORMED_STYLES: tuple[MalformedStyle, ...] = ("truncated", "html", "disconnect")


def generated_token(seed: int, account: str, token_name: str) -> str:
    """A personal-access-token-shaped secret derived from names, so no secret lives in a file."""
    digest = hashlib.sha256(f"simulator:{seed}:{account}:{token_name}".encode()).hexdigest()
    return "dop_v1_" + digest


@dataclass(frozen=True)
class SimToken:
    """One API token of one account.

    `expires_in_seconds` counts from the moment the simulator is built (or the token is added):
    a negative or zero value makes an already expired token. `created_at` is a Unix time; None
    means "when the simulator was built".
    """

    name: str
    token: str
    scopes: Sequence[str] = READ_ONLY_SCOPES
    expires_in_seconds: int | None = None
    revoked: bool = False
    created_at: int | None = None

    def __post_init__(self) -> None:
        # A list passed by a caller would make the frozen token unhashable and shareable.
        object.__setattr__(self, "scopes", tuple(self.scopes))

    def __repr__(self) -> str:
        # The secret must never reach a log line or a test failure message.
        return (
            f"SimToken(name={self.name!r}, token='<redacted>', scopes={self.scopes!r}, "
            f"expires_in_seconds={self.expires_in_seconds!r}, revoked={self.revoked!r})"
        )


RESOURCE_COUNTS: tuple[str, ...] = (
    "snapshots",
    "reserved_ips",
    "reserved_ipv6s",
    "load_balancers",
    "kubernetes_clusters",
    "databases",
    "apps",
    "domains",
    "firewalls",
    "custom_vpcs",
    "cdn_endpoints",
    "certificates",
    "uptime_checks",
    "projects",
    "spaces_buckets",
)
"""The FleetSpec counts of resources other than Droplets and volumes (None: derived)."""


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
    # Every other resource. None: a realistic share of `droplets` (see `resource_counts` in
    # resources.py and the README); an explicit count wins.
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
        for name in ("droplets", "gpu_droplets", "volumes", "invoice_months", *RESOURCE_COUNTS):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"FleetSpec.{name} must not be negative")
        if self.projects is not None and self.projects < 1:
            raise ValueError("FleetSpec.projects must be at least 1 (the default project)")
        object.__setattr__(self, "regions", tuple(self.regions))
        object.__setattr__(self, "tags", tuple(self.tags))
        if self.invoice_amounts is not None:
            object.__setattr__(self, "invoice_amounts", tuple(self.invoice_amounts))
        if not RATIO.match(self.invoice_credit_ratio) or Decimal(self.invoice_credit_ratio) >= 1:
            raise ValueError("FleetSpec.invoice_credit_ratio must be a decimal string in [0, 1)")


@dataclass(frozen=True)
class SimAccount:
    """One DigitalOcean account (or team): its fleet and the tokens that can read it."""

    name: str
    tokens: tuple[SimToken, ...] = ()
    fleet: FleetSpec | Fleet = field(default_factory=FleetSpec)
    """A spec to generate from, or a ready `Fleet` (used as is, so every Simulator built from
    this config shares it and its mutations)."""
    team_name: str | None = None
    """None: derived from the account name ("production" -> "Production")."""
    email: str | None = None
    resource_owner_id: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tokens", tuple(self.tokens))


@dataclass(frozen=True)
class Fault:
    """One misbehaviour of the API, matched against each request.

    Filters (all optional): `endpoint` is a path template such as "/v2/droplets", `page` the
    requested page, `account` and `token` names. Of the matching requests, the first `after`
    pass untouched; then the fault fires with `probability` (seeded, deterministic) at most
    `count` times.

    Kind-specific fields:
      latency: `seconds` added before answering.
      error: `status` (500, 502, 503, ...) with the real JSON error body.
      rate_limit: 429; with `retry_after` seconds (the burst limit) or, when it is None,
        only `ratelimit-remaining: 0` and `ratelimit-reset` `reset_in` seconds ahead.
      hang: hold the request `seconds`, then close the connection without an answer.
      malformed: `style` "truncated" (200, JSON cut in half), "html" (`status`, default 502,
        a proxy's HTML page) or "disconnect" (headers promise more body than is sent).
      revoke_token: the token is revoked once `after` matching requests have been answered.
      churn: every `every`-th matching request first creates `create` and destroys `destroy`
        droplets in the account being asked.
    """

    kind: FaultKind
    endpoint: str | None = None
    page: int | None = None
    account: str | None = None
    token: str | None = None
    count: int | None = None
    probability: float = 1.0
    after: int = 0
    seconds: float = 0.0
    status: int | None = None
    retry_after: int | None = 60
    reset_in: int = 3600
    style: MalformedStyle = "truncated"
    every: int = 1
    create: int = 1
    destroy: int = 1

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(FAULT_KINDS)}")
        if self.style not in MALFORMED_STYLES:
            raise ValueError(f"unknown malformed style {self.style!r}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("fault probability must be between 0 and 1")
        if self.every < 1:
            raise ValueError("fault 'every' must be at least 1")
        if self.after < 0 or (self.count is not None and self.count < 0):
            raise ValueError("fault 'after' and 'count' must not be negative")


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything a `Simulator` serves. Token names are unique across accounts."""

    accounts: tuple[SimAccount, ...]
    requests_per_hour: int = 5000
    requests_per_minute: int = 250
    faults: tuple[Fault, ...] = ()
    seed: int = 0
    """Seeds fault probabilities and request ids."""
    request_log_limit: int = 200_000
    """Oldest request-log entries are dropped beyond this, so long benchmarks stay bounded."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "accounts", tuple(self.accounts))
        object.__setattr__(self, "faults", tuple(self.faults))
        account_names = [account.name for account in self.accounts]
        if len(set(account_names)) != len(account_names):
            raise ValueError("account names must be unique")
        token_names = [token.name for account in self.accounts for token in account.tokens]
        if len(set(token_names)) != len(token_names):
            raise ValueError("token names must be unique across accounts")
        token_values = [token.token for account in self.accounts for token in account.tokens]
        if len(set(token_values)) != len(token_values):
            raise ValueError("two tokens share the same secret")
        if self.requests_per_hour < 1 or self.requests_per_minute < 1:
            raise ValueError("rate limits must be at least 1")
