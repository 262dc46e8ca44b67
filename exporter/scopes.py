"""What a token may do: the read-only verdict from `/v1/oauth/token/info`, and the policy decision.

The request itself is made by `api.py`; everything else here is pure. A token is read-only when every scope
it holds is `read`, `api:read`, ends in `:read`, or is `nfs:list`. Anything else (`write`,
`droplet:create`, `database:view_credentials`, `kubernetes:access_cluster`, ...) can change or
expose infrastructure, so it makes the token write-capable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from exporter.api import ApiError, TokenRejectedError

Verdict = Literal["read_only", "write", "unverifiable", "invalid"]

_READ_SCOPES = frozenset({"read", "api:read", "nfs:list"})

READ_ONLY_HOWTO = (
    "Create a read-only token in the DigitalOcean control panel (API > Tokens > Generate New Token, "
    'scope "Read Only", or custom scopes that all end in ":read")'
)


def is_read_scope(scope: str) -> bool:
    resource, sep, action = scope.partition(":")
    return scope in _READ_SCOPES or (bool(resource) and sep == ":" and action == "read")


@dataclass(frozen=True)
class ScopeReport:
    """What token/info said about one token (or why it could not say)."""

    verdict: Verdict
    scopes: tuple[str, ...] = ()
    write_scopes: tuple[str, ...] = ()
    expires_at: float | None = None  # Unix time; None when the token does not expire
    reason: str = ""  # why the token is unverifiable or invalid

    @property
    def read_only(self) -> bool:
        return self.verdict == "read_only"


def unverifiable(reason: str) -> ScopeReport:
    return ScopeReport(verdict="unverifiable", reason=reason)


def invalid(reason: str) -> ScopeReport:
    return ScopeReport(verdict="invalid", reason=reason)


def classify(info: object, now: float) -> ScopeReport:
    """The verdict for a token/info response body, taken at wall time `now`.

    The documented shape is `{"scopes": [...], "expires_in_seconds": int|null, ...}`; a
    space-separated `scope` string (the OAuth convention) is accepted too. Anything else is
    unverifiable rather than guessed.
    """
    if not isinstance(info, Mapping):
        return unverifiable("token/info did not answer with a JSON object")
    scopes = _scopes(info)
    if scopes is None:
        return unverifiable("token/info did not list the token's scopes")
    if not scopes:
        return unverifiable("token/info listed no scopes")
    expires_at = None
    expires_in = info.get("expires_in_seconds")
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool) and expires_in > 0:
        expires_at = now + float(expires_in)
    writes = tuple(s for s in scopes if not is_read_scope(s))
    return ScopeReport(
        verdict="write" if writes else "read_only",
        scopes=scopes,
        write_scopes=writes,
        expires_at=expires_at,
    )


def _scopes(info: Mapping[str, object]) -> tuple[str, ...] | None:
    raw = info.get("scopes", info.get("scope"))
    items: Iterable[object]
    if isinstance(raw, str):
        items = raw.split()
    elif isinstance(raw, list):
        items = raw
    else:
        return None
    if not all(isinstance(s, str) for s in items):
        return None
    return tuple(sorted({str(s) for s in items}))


@dataclass(frozen=True)
class TokenDecision:
    """Whether an account may run with its token, and the one log message that says why."""

    allowed: bool
    level: Literal["info", "warning", "error"]
    message: str


def decide(
    account: str,
    origin: str,
    report: ScopeReport,
    write_policy: Literal["refuse", "warn"],
    unverifiable_policy: Literal["warn", "refuse"],
) -> TokenDecision:
    """Apply `token_policy` to a ScopeReport. Messages name the account and scopes, never the token."""
    who = f'account "{account}" ({origin})'
    if report.verdict == "read_only":
        return TokenDecision(True, "info", f"{who}: token verified read-only")
    if report.verdict == "invalid":
        return TokenDecision(
            False,
            "error",
            f"{who}: DigitalOcean rejected the token ({report.reason}); it is invalid, expired "
            f"or revoked. {READ_ONLY_HOWTO} and update {origin}.",
        )
    if report.verdict == "write":
        scopes = ", ".join(report.write_scopes)
        if write_policy == "refuse":
            return TokenDecision(
                False,
                "error",
                f"{who}: the token can change infrastructure (scopes: {scopes}); refusing to use "  # noqa: S608  # prose, not SQL
                f"it. {READ_ONLY_HOWTO} and update {origin}; or set token_policy.write_scopes: "
                "warn to run with it anyway (not recommended).",
            )
        return TokenDecision(
            True,
            "warning",
            f"{who}: the token can change infrastructure (scopes: {scopes}); running anyway "
            "because token_policy.write_scopes is warn. " + READ_ONLY_HOWTO + ".",
        )
    if unverifiable_policy == "refuse":
        return TokenDecision(
            False,
            "error",
            f"{who}: could not verify the token's scopes ({report.reason}); refusing because "
            "token_policy.unverifiable is refuse.",
        )
    return TokenDecision(
        True,
        "warning",
        f"{who}: could not verify the token's scopes ({report.reason}); running anyway because "
        "token_policy.unverifiable is warn.",
    )


class TokenInfoReader(Protocol):
    async def token_info(self, token: str | None = None) -> dict[str, Any]: ...


async def verify_token(
    reader: TokenInfoReader, now: Callable[[], float], token: str | None = None
) -> ScopeReport:
    """Ask token/info about the account's token (or a candidate replacing it) and classify it."""
    try:
        info = await reader.token_info(token)
    except TokenRejectedError as exc:
        return invalid(f"HTTP 401 from {exc.endpoint}")
    except ApiError as exc:
        return unverifiable(str(exc))
    return classify(info, now())
