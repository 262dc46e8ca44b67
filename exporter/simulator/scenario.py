"""Scenario files: YAML that describes a `SimulatorConfig` (see README.md in this package).

Parsing is strict: an unknown key, a wrong type or money written as a YAML number is an
error naming its key path, and every problem in the file is reported at once. The same fault
parser serves the control endpoint (`POST /_simulator/faults`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeGuard, TypeVar

import yaml

from exporter.simulator.config import (
    FAULT_KINDS,
    MALFORMED_STYLES,
    SCOPE_PRESETS,
    Fault,
    SimAccount,
    SimToken,
    SimulatorConfig,
    generated_token,
)
from exporter.simulator.kinds import COUNTED
from exporter.simulator.spec import SHAPE_FIELDS, FleetSpec

MONEY = re.compile(r"^-?\d+\.\d{2}$")
T = TypeVar("T")
V = TypeVar("V")


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; the message lists every problem with its key path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{source}: invalid scenario:\n  " + "\n  ".join(problems))


class ScenarioReader:
    """Reads plain YAML values into typed ones, collecting problems instead of stopping."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def mapping(self, value: object, where: str, allowed: frozenset[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, f"expected a mapping, got {type(value).__name__}")
            return {}
        for key in value:
            if key not in allowed:
                self.fail(f"{where}.{key}", f"unknown key; allowed: {', '.join(sorted(allowed))}")
        return {str(key): item for key, item in value.items() if key in allowed}

    def sequence(self, value: object, where: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(where, f"expected a list, got {type(value).__name__}")
            return []
        return value

    def typed(
        self,
        data: Mapping[str, Any],
        key: str,
        where: str,
        *,
        check: Callable[[object], TypeGuard[V]],
        expected: str,
        default: T,
    ) -> V | T:
        if key not in data:
            return default
        value: object = data[key]
        if not check(value):
            self.fail(f"{where}.{key}", f"expected {expected}, got {value!r}")
            return default
        return value

    def integer(self, data: Mapping[str, Any], key: str, where: str, default: T) -> int | T:
        return self.typed(data, key, where, check=is_int, expected="an integer", default=default)

    def count(self, data: Mapping[str, Any], key: str, where: str, default: T) -> int | T:
        if default is None and key in data and data[key] is None:
            return default  # `null` spells "derive it" for the optional counts
        value = self.integer(data, key, where, default)
        if isinstance(value, int) and value < 0:
            self.fail(f"{where}.{key}", "must not be negative")
            return default
        return value

    def number(self, data: Mapping[str, Any], key: str, where: str, default: float) -> float:
        return float(
            self.typed(data, key, where, check=is_number, expected="a number", default=default)
        )

    def text(self, data: Mapping[str, Any], key: str, where: str, default: T) -> str | T:
        return self.typed(data, key, where, check=is_str, expected="a string", default=default)

    def flag(self, data: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        return self.typed(
            data, key, where, check=is_bool, expected="true or false", default=default
        )

    def optional_flag(self, data: Mapping[str, Any], key: str, where: str) -> bool | None:
        """true, false, or null/absent (None)."""
        if data.get(key) is None:
            return None
        return self.typed(data, key, where, check=is_bool, expected="true, false or null", default=None)

    def texts(self, data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...] | None:
        if key not in data:
            return None
        values = self.sequence(data[key], f"{where}.{key}")
        if not all(isinstance(value, str) for value in values):
            self.fail(f"{where}.{key}", "expected a list of strings")
            return None
        return tuple(values)

    def money(self, data: Mapping[str, Any], key: str, where: str) -> str | None:
        if key not in data:
            return None
        value = data[key]
        if not (isinstance(value, str) and MONEY.match(value)):
            self.fail(f"{where}.{key}", f'money is a quoted string like "23.44", got {value!r}')
            return None
        return value


def is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_str(value: object) -> TypeGuard[str]:
    return isinstance(value, str)


def is_bool(value: object) -> TypeGuard[bool]:
    return isinstance(value, bool)


# Scenario keys are FleetSpec's fields and the kinds' counts, so neither needs a second list.
FLEET_KEYS = SHAPE_FIELDS | {kind.name for kind in COUNTED}
TOKEN_KEYS = frozenset(field.name for field in dataclasses.fields(SimToken))
FAULT_KEYS = frozenset(field.name for field in dataclasses.fields(Fault))
ACCOUNT_KEYS = frozenset({"name", "team", "email", "resource_owner_id", "fleet", "tokens"})
TOP_KEYS = frozenset({"seed", "rate_limits", "request_log_limit", "accounts", "faults"})
RATE_KEYS = frozenset({"requests_per_hour", "requests_per_minute"})


def read_counts(
    reader: ScenarioReader, data: Mapping[str, Any], where: str, defaults: FleetSpec, *, fixed: bool
) -> dict[str, Any]:
    """The kinds' counts (`KINDS`) with a `fixed` default (Droplets, volumes) or derived ones:
    a number, null (derive it) or, for a flag, true/false.

    `Any`: the values are checked here, and FleetSpec's fields are typed one by one."""
    counts: dict[str, Any] = {}
    for kind in COUNTED:
        if kind.count is None or (kind.count.fixed is not None) != fixed:
            continue
        if kind.count.flag:
            counts[kind.name] = reader.optional_flag(data, kind.name, where)
        else:
            counts[kind.name] = reader.count(data, kind.name, where, defaults.count(kind.name))
    return counts


def read_fleet(reader: ScenarioReader, value: object, where: str) -> FleetSpec:
    data = reader.mapping(value, where, FLEET_KEYS)
    defaults = FleetSpec()
    amounts = reader.texts(data, "invoice_amounts", where)
    for position, amount in enumerate(amounts or ()):
        if not MONEY.match(amount):
            reader.fail(f"{where}.invoice_amounts[{position}]", f"not money like 12.34: {amount!r}")
    try:
        return FleetSpec(
            seed=reader.integer(data, "seed", where, defaults.seed),
            **read_counts(reader, data, where, defaults, fixed=True),
            unattached_volumes=reader.count(data, "unattached_volumes", where, None),
            off_droplets=reader.count(data, "off_droplets", where, None),
            new_droplets=reader.count(data, "new_droplets", where, None),
            archive_droplets=reader.count(data, "archive_droplets", where, None),
            regions=reader.texts(data, "regions", where) or defaults.regions,
            tags=reader.texts(data, "tags", where) or defaults.tags,
            created_until=reader.integer(data, "created_until", where, defaults.created_until),
            created_span_days=reader.count(
                data, "created_span_days", where, defaults.created_span_days
            ),
            droplet_limit=reader.count(data, "droplet_limit", where, None),
            volume_limit=reader.count(data, "volume_limit", where, defaults.volume_limit),
            floating_ip_limit=reader.count(
                data, "floating_ip_limit", where, defaults.floating_ip_limit
            ),
            reserved_ip_limit=reader.count(
                data, "reserved_ip_limit", where, defaults.reserved_ip_limit
            ),
            account_balance=reader.money(data, "account_balance", where)
            or defaults.account_balance,
            month_to_date_usage=reader.money(data, "month_to_date_usage", where),
            invoice_months=reader.count(data, "invoice_months", where, defaults.invoice_months),
            invoice_amounts=amounts,
            invoice_credit_ratio=reader.text(
                data, "invoice_credit_ratio", where, defaults.invoice_credit_ratio
            ),
            **read_counts(reader, data, where, defaults, fixed=False),
            problems=reader.optional_flag(data, "problems", where),
        )
    except ValueError as error:
        reader.fail(where, str(error))
        return defaults


def read_token(
    reader: ScenarioReader, value: object, where: str, seed: int, account: str
) -> SimToken | None:
    data = reader.mapping(value, where, TOKEN_KEYS)
    name = reader.text(data, "name", where, None)
    if name is None:
        reader.fail(where, "a token needs a name")
        return None
    scopes_value = data.get("scopes", "read-only")
    scopes: tuple[str, ...] = ()
    if isinstance(scopes_value, str):
        if scopes_value not in SCOPE_PRESETS:
            presets = ", ".join(SCOPE_PRESETS)
            reader.fail(f"{where}.scopes", f"unknown preset {scopes_value!r}; one of {presets}")
        scopes = SCOPE_PRESETS.get(scopes_value, ())
    else:
        scopes = reader.texts(data, "scopes", where) or ()
    secret = reader.text(data, "token", where, None) or generated_token(seed, account, name)
    return SimToken(
        name=name,
        token=secret,
        scopes=scopes,
        expires_in_seconds=reader.integer(data, "expires_in_seconds", where, None),
        revoked=reader.flag(data, "revoked", where, False),
        created_at=reader.integer(data, "created_at", where, None),
    )


def read_account(reader: ScenarioReader, value: object, where: str, seed: int) -> SimAccount:
    data = reader.mapping(value, where, ACCOUNT_KEYS)
    name = reader.text(data, "name", where, None)
    if not name:
        reader.fail(where, "an account needs a name")
        name = f"account-{where}"
    tokens = [
        read_token(reader, token, f"{where}.tokens[{position}]", seed, name)
        for position, token in enumerate(reader.sequence(data.get("tokens", []), f"{where}.tokens"))
    ]
    return SimAccount(
        name=name,
        tokens=tuple(token for token in tokens if token is not None),
        fleet=read_fleet(reader, data.get("fleet", {}), f"{where}.fleet"),
        team_name=reader.text(data, "team", where, None),
        email=reader.text(data, "email", where, None),
        resource_owner_id=reader.integer(data, "resource_owner_id", where, None),
    )


def read_fault(reader: ScenarioReader, value: object, where: str) -> Fault | None:
    data = reader.mapping(value, where, FAULT_KEYS)
    kind = data.get("kind")
    if kind not in FAULT_KINDS:
        reader.fail(f"{where}.kind", f"expected one of {', '.join(FAULT_KINDS)}, got {kind!r}")
        return None
    style = data.get("style", "truncated")
    if style not in MALFORMED_STYLES:
        reader.fail(f"{where}.style", f"expected one of {', '.join(MALFORMED_STYLES)}")
        style = "truncated"
    defaults = Fault(kind=kind)
    retry_after = defaults.retry_after
    if "retry_after" in data and data["retry_after"] is None:
        retry_after = None
    else:
        retry_after = reader.count(data, "retry_after", where, defaults.retry_after)
    try:
        return Fault(
            kind=kind,
            endpoint=reader.text(data, "endpoint", where, None),
            page=reader.count(data, "page", where, None),
            account=reader.text(data, "account", where, None),
            token=reader.text(data, "token", where, None),
            count=reader.count(data, "count", where, None),
            probability=reader.number(data, "probability", where, defaults.probability),
            after=reader.count(data, "after", where, defaults.after),
            seconds=reader.number(data, "seconds", where, defaults.seconds),
            status=reader.integer(data, "status", where, None),
            retry_after=retry_after,
            reset_in=reader.count(data, "reset_in", where, defaults.reset_in),
            style=style,
            every=reader.count(data, "every", where, defaults.every),
            create=reader.count(data, "create", where, defaults.create),
            destroy=reader.count(data, "destroy", where, defaults.destroy),
        )
    except ValueError as error:
        reader.fail(where, str(error))
        return None


def read_faults(reader: ScenarioReader, value: object, where: str) -> tuple[Fault, ...]:
    faults = [
        read_fault(reader, item, f"{where}[{position}]")
        for position, item in enumerate(reader.sequence(value, where))
    ]
    return tuple(fault for fault in faults if fault is not None)


def parse_faults(value: object, source: str = "faults") -> tuple[Fault, ...]:
    """Faults from plain data (a list of mappings); raises ScenarioError."""
    reader = ScenarioReader()
    faults = read_faults(reader, value, source)
    if reader.problems:
        raise ScenarioError(source, reader.problems)
    return faults


def parse_scenario(value: object, source: str = "<scenario>") -> SimulatorConfig:
    """A `SimulatorConfig` from plain data as YAML loads it; raises ScenarioError."""
    reader = ScenarioReader()
    data = reader.mapping(value, "scenario", TOP_KEYS)
    seed = reader.integer(data, "seed", "scenario", 0)
    rates = reader.mapping(data.get("rate_limits", {}), "scenario.rate_limits", RATE_KEYS)
    accounts = [
        read_account(reader, account, f"accounts[{position}]", seed)
        for position, account in enumerate(
            reader.sequence(data.get("accounts", []), "scenario.accounts")
        )
    ]
    if not accounts:
        reader.fail("scenario.accounts", "at least one account is needed")
    faults = read_faults(reader, data.get("faults", []), "faults")
    defaults = SimulatorConfig(accounts=())
    config: SimulatorConfig | None = None
    try:
        config = SimulatorConfig(
            accounts=tuple(accounts),
            requests_per_hour=reader.count(
                rates, "requests_per_hour", "scenario.rate_limits", defaults.requests_per_hour
            ),
            requests_per_minute=reader.count(
                rates, "requests_per_minute", "scenario.rate_limits", defaults.requests_per_minute
            ),
            faults=faults,
            seed=seed,
            request_log_limit=reader.count(
                data, "request_log_limit", "scenario", defaults.request_log_limit
            ),
        )
    except ValueError as error:
        reader.fail("scenario", str(error))
    if reader.problems or config is None:
        raise ScenarioError(source, reader.problems)
    return config


def load_scenario(path: str | Path) -> SimulatorConfig:
    """Read a scenario YAML file; raises ScenarioError (or OSError if it cannot be read)."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError(str(path), [f"not valid YAML: {error}"]) from error
    return parse_scenario(value, str(path))


def bundled_scenario(name: str) -> SimulatorConfig:
    """One of the scenarios shipped in `exporter/simulator/scenarios/`, e.g. "large"."""
    resource = resources.files("exporter.simulator").joinpath("scenarios", f"{name}.yml")
    value = yaml.safe_load(resource.read_text(encoding="utf-8"))
    return parse_scenario(value, f"scenarios/{name}.yml")
