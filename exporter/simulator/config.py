"""What a simulated DigitalOcean looks like: accounts, tokens, fleet specs, limits and faults.

Everything here is a frozen description. The live, changing state (revoked tokens, fault
counters, mutated fleets) belongs to `exporter.simulator.server.Simulator`, which is built from
one `SimulatorConfig`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from exporter.simulator.fleet import Fleet
from exporter.simulator.spec import FleetSpec

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
