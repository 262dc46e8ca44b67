"""What a token may do: the read-only verdict from `/v1/oauth/token/info`, and the policy decision.

The request itself is made by `api.py`; everything else here is pure. The verdict comes from the
scope table (`exporter/data/scopes.json`, generated from DigitalOcean's own API description by
`exporter/data/generate_scopes.py`): a scope is read-only iff every operation that lists it is a
read. So `partner_network_connect:read`, which the API lists on PATCH and DELETE, makes a token
write-capable, and so does any scope the table does not know (it cannot be proven read-only).
The table also names the read scopes that hand out secrets (`genai:read`, `app:read`, ...); they
are subject to `token_policy.secret_scopes`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, Protocol

from exporter.api import ApiError, TokenRejectedError

Verdict = Literal["read_only", "write", "unverifiable", "invalid"]

LEGACY_READ = "read"  # the legacy read scope: grants every read scope
_SHOWN_OPERATIONS = 2  # writes quoted per scope in a message; the rest are counted
_SHOWN_SCOPES = 5  # scopes explained per message; the rest are counted


@dataclass(frozen=True)
class ScopeEntry:
    """One scope of the table: the operations that list it, and what it allows."""

    read_only: bool
    operations: tuple[str, ...]  # "METHOD /path"
    reason: str = ""  # why a scope that is only on reads is still not read-only (or a legacy scope)
    secret: str = ""  # what secret a read-only scope reveals; "" when none


@dataclass(frozen=True)
class ScopeTable:
    """Every scope DigitalOcean's API description names, and the legacy ones."""

    scopes: Mapping[str, ScopeEntry]
    read_posts: frozenset[str]  # the POSTs the table counts as reads

    def is_read_only(self, scope: str) -> bool:
        entry = self.scopes.get(scope)
        return entry is not None and entry.read_only

    def why_not_read_only(self, scope: str) -> str:
        """Completes "<scope> ..." for a scope that is not read-only."""
        entry = self.scopes.get(scope)
        if entry is None:
            return "is unknown to the API description, so it cannot be proven read-only"
        if entry.reason:
            return entry.reason
        writes = [op for op in entry.operations
                  if op.split(" ", 1)[0] not in ("GET", "HEAD") and op not in self.read_posts]
        more = len(writes) - _SHOWN_OPERATIONS
        if more > 0:
            shown = ", ".join(writes[:_SHOWN_OPERATIONS])
            return f"appears on {shown} and {more} more {_plural(more, 'write')}"
        return "appears on " + " and ".join(writes)

    def secret(self, scope: str) -> str:
        """What secret `scope` reveals, or "" if none. The legacy read scope reveals them all."""
        if scope == LEGACY_READ:
            names = ", ".join(s for s, e in self.scopes.items() if e.secret)
            return f"grants every read scope, the secret-revealing ones too: {names}"
        entry = self.scopes.get(scope)
        return entry.secret if entry is not None and entry.read_only else ""

    def grants(self, held: str, needed: str) -> bool:
        """Whether holding `held` allows what `needed` allows (the legacy scopes cover reads)."""
        return held == needed or (held in ("read", "write") and self.is_read_only(needed))

    @property
    def read_scopes_that_write(self) -> tuple[str, ...]:
        """Scopes named like reads (`*:read`) that the API lists on writes."""
        return tuple(s for s, e in self.scopes.items() if s.endswith(":read") and not e.read_only)


@cache
def scope_table() -> ScopeTable:
    """The table shipped with the package (read once; it is immutable)."""
    text = resources.files("exporter").joinpath("data/scopes.json").read_text(encoding="utf-8")
    return parse_scope_table(json.loads(text))


def parse_scope_table(data: Mapping[str, Any]) -> ScopeTable:
    return ScopeTable(
        scopes={
            name: ScopeEntry(
                read_only=bool(entry["read_only"]),
                operations=tuple(entry["operations"]),
                reason=str(entry.get("reason", "")),
                secret=str(entry.get("secret", "")),
            )
            for name, entry in data["scopes"].items()
        },
        read_posts=frozenset(data["read_posts"]),
    )


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


def read_only_howto(table: ScopeTable | None = None) -> str:
    table = table or scope_table()
    exceptions = " and ".join(table.read_scopes_that_write)
    return (
        "Create a read-only token in the DigitalOcean control panel (API > Tokens > Generate New "
        'Token, custom scopes that all end in ":read"'
        + (f", except {exceptions}, which can change infrastructure" if exceptions else "")
        + ")"
    )


def is_read_scope(scope: str, table: ScopeTable | None = None) -> bool:
    return (table or scope_table()).is_read_only(scope)


class ScopedField(Protocol):
    """A field that needs scopes beyond its collector's (see `collectors.base.FieldScope`)."""

    @property
    def field(self) -> str: ...

    @property
    def scopes(self) -> tuple[str, ...]: ...

    @property
    def empty(self) -> tuple[str, ...]: ...

    def describe(self) -> str: ...  # what stays empty without the scopes


class ScopedCollector(Protocol):
    """What the scope checks need of a collector: its name and the scopes it needs."""

    @property
    def name(self) -> str: ...

    @property
    def scope(self) -> str: ...  # space-separated; the collector cannot run without them

    @property
    def field_scopes(self) -> Sequence[ScopedField]: ...  # wanted: some fields stay empty without


def needed_scopes(
    collectors: Iterable[ScopedCollector], *, fields: bool = True
) -> dict[str, tuple[str, ...]]:
    """Every scope the given (enabled) collectors need, with the collectors that need it; with
    `fields`, also the scopes some of their fields need (the collector runs without those)."""
    needed: dict[str, list[str]] = {}
    for collector in collectors:
        scopes = collector.scope.split()
        if fields:
            scopes += [s for f in collector.field_scopes for s in f.scopes]
        for scope in scopes:
            users = needed.setdefault(scope, [])
            if collector.name not in users:
                users.append(collector.name)
    return {scope: tuple(names) for scope, names in sorted(needed.items())}


def is_needed(held: str, needed: Iterable[str], table: ScopeTable | None = None) -> bool:
    """Whether a held scope grants something a collector needs."""
    table = table or scope_table()
    return any(table.grants(held, scope) for scope in needed)


def _lacking(held: Sequence[str], scopes: Iterable[str], table: ScopeTable) -> tuple[str, ...]:
    return tuple(s for s in scopes if not any(table.grants(h, s) for h in held))


def missing_scopes(
    held: Sequence[str], collectors: Iterable[ScopedCollector], table: ScopeTable | None = None
) -> dict[str, tuple[str, ...]]:
    """For each collector, the scopes it cannot run without that no held scope grants
    (collectors that lack none are left out). Field scopes: `missing_field_scopes`."""
    table = table or scope_table()
    missing: dict[str, tuple[str, ...]] = {}
    for collector in collectors:
        lacking = _lacking(held, collector.scope.split(), table)
        if lacking:
            missing[collector.name] = lacking
    return missing


def missing_field_scopes(
    held: Sequence[str], collectors: Iterable[ScopedCollector], table: ScopeTable | None = None
) -> list[tuple[str, ScopedField, tuple[str, ...]]]:
    """(collector, field, scopes no held scope grants) for each field that will stay empty,
    leaving out collectors that lack a scope they cannot run without (all of theirs is empty)."""
    table = table or scope_table()
    found = []
    for collector in collectors:
        if _lacking(held, collector.scope.split(), table):
            continue
        for field_scope in collector.field_scopes:
            lacking = _lacking(held, field_scope.scopes, table)
            if lacking:
                found.append((collector.name, field_scope, lacking))
    return found


@dataclass(frozen=True)
class ScopeReport:
    """What token/info said about one token (or why it could not say)."""

    verdict: Verdict
    scopes: tuple[str, ...] = ()
    write_scopes: tuple[str, ...] = ()  # scopes that are not provably read-only
    secret_scopes: tuple[str, ...] = ()  # read-only scopes that reveal secrets
    expires_at: float | None = None  # Unix time; None when the token does not expire
    reason: str = ""  # why the token is unverifiable or invalid

    @property
    def read_only(self) -> bool:
        return self.verdict == "read_only"


def unverifiable(reason: str) -> ScopeReport:
    return ScopeReport(verdict="unverifiable", reason=reason)


def invalid(reason: str) -> ScopeReport:
    return ScopeReport(verdict="invalid", reason=reason)


def classify(info: object, now: float, table: ScopeTable | None = None) -> ScopeReport:
    """The verdict for a token/info response body, taken at wall time `now`.

    The documented shape is `{"scopes": [...], "expires_in_seconds": int|null, ...}`; a
    space-separated `scope` string (the OAuth convention) is accepted too, and when both are
    there the token holds what either lists. Anything else is unverifiable rather than guessed.
    An expiry that is not a plausible integer of seconds is "no expiry known": it cannot change
    the verdict, and a wrong expiry metric would be worse than none.
    """
    if not isinstance(info, Mapping):
        return unverifiable("token/info did not answer with a JSON object")
    scopes = _scopes(info)
    if scopes is None:
        return unverifiable("token/info did not list the token's scopes")
    if not scopes:
        return unverifiable("token/info listed no scopes")
    expires_at = _expires_at(info.get("expires_in_seconds"), now)
    table = table or scope_table()
    writes = tuple(s for s in scopes if not table.is_read_only(s))
    return ScopeReport(
        verdict="write" if writes else "read_only",
        scopes=scopes,
        write_scopes=writes,
        secret_scopes=tuple(s for s in scopes if table.secret(s)),
        expires_at=expires_at,
    )


def _scopes(info: Mapping[str, object]) -> tuple[str, ...] | None:
    """Every scope `scopes` and `scope` list together; None if neither lists any, or if either
    is of an unknown shape (a scope hidden in it could be a write scope)."""
    found: set[str] = set()
    listed = False
    for key in ("scopes", "scope"):
        raw = info.get(key)
        items: Iterable[object]
        if raw is None:
            continue
        if isinstance(raw, str):
            items = raw.split()
        elif isinstance(raw, list):
            items = raw
        else:
            return None
        if not all(isinstance(s, str) for s in items):
            return None
        found.update(str(s) for s in items)
        listed = True
    return tuple(sorted(found)) if listed else None


# Longer than any token DigitalOcean issues (at most a year, or never): past it the value is
# noise, and 10**400 would overflow a float.
MAX_EXPIRES_IN_SECONDS = 100 * 365 * 86400


def _expires_at(expires_in: object, now: float) -> float | None:
    """Unix time the token expires, from `expires_in_seconds` (an integer, or null/absent for a
    token that does not expire); None for anything else too."""
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        return None
    if not 0 < expires_in <= MAX_EXPIRES_IN_SECONDS:
        return None
    return now + expires_in


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
    *,
    secret_policy: Literal["warn", "refuse"] = "warn",  # noqa: S107  # a policy, not a password
    needed: Mapping[str, Sequence[str]] | None = None,
    table: ScopeTable | None = None,
) -> TokenDecision:
    """Apply `token_policy` to a ScopeReport. Messages name the account and scopes, never the token.

    `needed` maps the scopes the enabled collectors need to those collectors, so that a message
    about a secret-revealing scope can say which collector wants it.
    """
    table = table or scope_table()
    who = f'account "{account}" ({origin})'
    howto = read_only_howto(table)
    if report.verdict == "invalid":
        return TokenDecision(
            False,
            "error",
            f"{who}: DigitalOcean rejected the token ({report.reason}); it is invalid, expired "
            f"or revoked. {howto} and update {origin}.",
        )
    if report.verdict == "unverifiable":
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
    secrets = _secrets_sentence(report.secret_scopes, needed or {}, table)
    if report.verdict == "write":
        scopes = ", ".join(report.write_scopes)
        why = _write_reasons(report.write_scopes, table)
        if write_policy == "refuse":
            return TokenDecision(
                False,
                "error",
                f"{who}: the token can change infrastructure (scopes: {scopes}); refusing to use "  # noqa: S608  # prose, not SQL
                f"it. {why} {howto} and update {origin}; or set token_policy.write_scopes: "
                "warn to run with it anyway (not recommended).",
            )
        if secrets and secret_policy == "refuse":
            return _refuse_secrets(who, origin, secrets)
        return TokenDecision(
            True,
            "warning",
            f"{who}: the token can change infrastructure (scopes: {scopes}); running anyway "
            f"because token_policy.write_scopes is warn. {why} {howto}."
            + (f" It can also read secrets: {secrets}." if secrets else ""),
        )
    if secrets:
        if secret_policy == "refuse":
            return _refuse_secrets(who, origin, secrets)
        return TokenDecision(
            True,
            "warning",
            f"{who}: token verified read-only, but it can read secrets: {secrets}. Running anyway "
            "because token_policy.secret_scopes is warn; a token without these scopes is safer.",
        )
    return TokenDecision(True, "info", f"{who}: token verified read-only")


def _write_reasons(scopes: Sequence[str], table: ScopeTable) -> str:
    reasons = [f"{scope} {table.why_not_read_only(scope)}" for scope in scopes[:_SHOWN_SCOPES]]
    more = len(scopes) - _SHOWN_SCOPES
    if more > 0:
        reasons.append(f"and {more} more {_plural(more, 'scope')}")
    return "Why: " + "; ".join(reasons) + "."


def _secrets_sentence(
    scopes: Sequence[str], needed: Mapping[str, Sequence[str]], table: ScopeTable
) -> str:
    parts = []
    for scope in scopes:
        users = [c for s, collectors in needed.items() if table.grants(scope, s) for c in collectors]
        wanted = (f"; needed by the {_plural(len(users), 'collector')} {', '.join(users)}"
                  if scope != LEGACY_READ and users else "")
        parts.append(f"{scope} ({table.secret(scope)}{wanted})")
    return "; ".join(parts)


def _refuse_secrets(who: str, origin: str, secrets: str) -> TokenDecision:
    return TokenDecision(
        False,
        "error",
        f"{who}: the token can read secrets: {secrets}; refusing to use it because "  # noqa: S608  # prose, not SQL
        "token_policy.secret_scopes is refuse. Create a token with custom scopes that leave these "
        f"out (and disable the collectors that need them) and update {origin}; or set "
        "token_policy.secret_scopes: warn.",
    )


def scope_warnings(
    report: ScopeReport,
    collectors: Sequence[ScopedCollector],
    excess_policy: Literal["ignore", "warn"],
    table: ScopeTable | None = None,
) -> list[tuple[str, dict[str, str]]]:
    """Startup warnings from the scopes token/info listed, each with its log fields: one per
    enabled collector whose scopes the token lacks, then one for the scopes no collector needs.

    Nothing when token/info listed no scopes; the 403 on a poll stays the proof either way.
    """
    if not report.scopes:
        return []
    table = table or scope_table()
    warnings = []
    for collector, lacking in missing_scopes(report.scopes, collectors, table).items():
        scopes = " and ".join(lacking)
        warnings.append((
            f"collector {collector}: the token lacks the {scopes} "
            f"{_plural(len(lacking), 'scope')} (from token/info), so its series will be missing; "
            "it still runs, and is disabled for this account if the API answers 403. Add the "
            f"{_plural(len(lacking), 'scope')} to the token, or disable the collector",
            {"collector": collector, "scope": " ".join(lacking)},
        ))
    for collector, field_scope, lacking in missing_field_scopes(report.scopes, collectors, table):
        if not all(table.is_read_only(scope) for scope in lacking):
            continue  # a write scope: a read-only token never has it (the report says so)
        scopes = " and ".join(lacking)
        warnings.append((
            f"collector {collector}: the token lacks the {scopes} "
            f"{_plural(len(lacking), 'scope')} (from token/info) that the API asks for its "
            f"{field_scope.field} field, so {field_scope.describe()} will be missing; the "
            f"collector still runs. Add the {_plural(len(lacking), 'scope')} to the token to get "
            f"{'it' if len(field_scope.empty) == 1 else 'them'}",
            {"collector": collector, "scope": " ".join(lacking), "field": field_scope.field},
        ))
    needed = needed_scopes(collectors)
    excess = [s for s in report.scopes if not is_needed(s, needed, table)]
    if excess and excess_policy == "warn":
        warnings.append((
            f"the token holds {_plural(len(excess), 'scope')} no enabled collector needs: "
            f"{', '.join(excess)}; a token without them is safer (set token_policy.excess_scopes: "
            "ignore to silence this)",
            {"scope": " ".join(excess)},
        ))
    return warnings


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


CONTROL_PANEL = "API > Tokens > Generate New Token > Custom Scopes"


def scopes_to_tick(collectors: Iterable[ScopedCollector], table: ScopeTable | None = None) -> tuple[str, ...]:
    """The custom scopes a token for these collectors needs, their fields' included: every
    read-only one (a field that asks for a write scope is left empty rather than granted)."""
    table = table or scope_table()
    return tuple(s for s in needed_scopes(collectors) if table.is_read_only(s))


def least_privilege_report(
    report: ScopeReport, collectors: Sequence[ScopedCollector], table: ScopeTable | None = None
) -> list[str]:
    """The least-privilege report of one token, as lines (indented under a heading the caller
    writes): scopes held, needed, missing (with what stays empty), excess (secret-revealing ones
    called out), and the custom scopes to tick for the enabled collectors."""
    table = table or scope_table()
    required = needed_scopes(collectors, fields=False)
    wanted = [(c.name, f) for c in collectors for f in c.field_scopes]
    held = report.scopes
    lines = []
    if held:
        lines.append(f"scopes held ({len(held)}): {', '.join(held)}")
    else:
        lines.append("scopes held: unknown (token/info did not list them)")
    lines.append(f"scopes needed by the enabled collectors ({len(required)}): " + ", ".join(
        f"{scope} ({', '.join(users)})" for scope, users in required.items()))
    extra = {s: users for s, users in needed_scopes(collectors).items() if s not in required}
    if extra:
        lines.append(f"scopes only some fields need, the collector runs without ({len(extra)}): "
                     + ", ".join(f"{scope} ({', '.join(users)})" for scope, users in extra.items()))
    if held:
        lines += _missing_lines(report, collectors, table)
        lines += _excess_lines(report, collectors, table)
    writes = [(name, f) for name, f in wanted if not all(table.is_read_only(s) for s in f.scopes)]
    for name, f in writes:
        scopes = ", ".join(s for s in f.scopes if not table.is_read_only(s))
        lines.append(f"never filled for a read-only token: {name} {f.field} needs {scopes}, "
                     f"which can change infrastructure, so {f.describe()} stays empty")
    tick = scopes_to_tick(collectors, table)
    lines.append(f"custom scopes to tick in the control panel ({CONTROL_PANEL}), "
                 f"{len(tick)}: {' '.join(tick)}")
    return lines


def _missing_lines(
    report: ScopeReport, collectors: Sequence[ScopedCollector], table: ScopeTable
) -> list[str]:
    missing = missing_scopes(report.scopes, collectors, table)
    fields = [(c, f, lacking) for c, f, lacking in missing_field_scopes(report.scopes, collectors, table)
              if all(table.is_read_only(s) for s in lacking)]
    if not missing and not fields:
        return ["missing scopes: none"]
    lines = ["missing scopes, and what will be empty:"]
    lines += [f"  {' and '.join(lacking)}: every series of the {name} collector"
              for name, lacking in missing.items()]
    lines += [f"  {' and '.join(lacking)}: {f.describe()} ({name} {f.field})"
              for name, f, lacking in fields]
    return lines


def _excess_lines(
    report: ScopeReport, collectors: Sequence[ScopedCollector], table: ScopeTable
) -> list[str]:
    needed = needed_scopes(collectors)
    excess = [s for s in report.scopes if not is_needed(s, needed, table)]
    lines = [f"excess scopes (no enabled collector needs them): {', '.join(excess) or 'none'}"]
    lines += [f"  can change infrastructure: {scope} {table.why_not_read_only(scope)}"
              for scope in report.write_scopes]
    lines += [f"  reveals secrets: {scope} ({table.secret(scope)})" for scope in report.secret_scopes]
    return lines
