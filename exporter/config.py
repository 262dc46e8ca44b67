"""Settings: the config file, environment variables and token sources, validated strictly.

Every problem is collected with its key path (`accounts[1].token_file: ...`) and reported at once
in a ConfigError; nothing is read at import time. Token sources are checked here (the file exists,
is readable and holds one token) so `--config.check` catches them, but the token text is never part
of a message.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from exporter.budget import replica_share
from exporter.collectors.base import EVERYTHING, FILTER_KEYS, Selection
from exporter.logs import looks_like_secret
from exporter.pricing import DATABASE_KEY, SIZE_TABLES, load_price_table
from exporter.strictyaml import (
    InvalidFileError,
    StrictReader,
    describe_type,
    format_duration,
    key_path,
    load_document,
)
from exporter.tokens import (
    EnvToken,
    FileToken,
    InlineToken,
    TokenSourceError,
    TokenSpec,
    discover_tokens_dir,
    read_token,
    readable_by_others,
)

MIN_INTERVAL_SECONDS = 5.0
DEFAULT_API_URL = "https://api.digitalocean.com"
DEFAULT_AUTH_URL = "https://cloud.digitalocean.com"
DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_REQUESTS_PER_HOUR = 4000
# One request, body included, may take this many api.timeout at most (api.response_deadline).
RESPONSE_DEADLINE_TIMEOUTS = 3
# A page of 200 Droplets is about 1 MB; 32 MiB leaves room for 30 times that and still stops a
# gzip bomb long before it costs memory (api.max_response_bytes).
DEFAULT_MAX_RESPONSE_BYTES = 32 * 2**20
MIN_RESPONSE_BYTES = 2**20
MAX_RESPONSE_BYTES = 2**30
DIGITALOCEAN_HOURLY_LIMIT = 5000
MAX_REPLICAS = 10  # api.replicas: processes polling the same accounts with the same tokens
STALE_AFTER_INTERVALS = 3

ENV_CONFIG_FILE = "DO_EXPORTER_CONFIG"
ENV_TOKEN = "DIGITALOCEAN_TOKEN"
ENV_TOKEN_FILE = "DIGITALOCEAN_TOKEN_FILE"
DEFAULT_ACCOUNT_NAME = "default"

_ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_TOP_KEYS = ("accounts", "tokens_dir", "token_policy", "api", "collectors", "pricing")
_ACCOUNT_KEYS = ("name", "token_file", "token_env", "token", "collectors")
_TOKEN_KEYS = ("token_file", "token_env", "token")
_POLICY_KEYS = ("write_scopes", "unverifiable", "secret_scopes", "excess_scopes")
_API_KEYS = (
    "url", "auth_url", "timeout", "requests_per_hour", "response_deadline", "max_response_bytes",
    "replicas",
)
_SIZE = re.compile(r"^(\d+)\s*(B|KiB|MiB|GiB)?$")
_SIZE_UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
_COLLECTOR_KEYS = ("enabled", "interval", "stale_after", "filter", "metrics")


class ConfigError(InvalidFileError):
    """Every problem found in the configuration, each prefixed with its key path."""

    kind = "configuration"
    noun = "config file"


@dataclass(frozen=True)
class CollectorSettings:
    enabled: bool
    interval: float
    stale_after: float
    selection: Selection = EVERYTHING  # `filter:`
    metrics: tuple[str, ...] = ()  # `metrics:` of a Monitoring API collector (resolved)


@dataclass(frozen=True)
class AccountSettings:
    """One DigitalOcean account: its label value, where its token lives, and its collectors'
    settings when the account's own `collectors:` changes any (None: the top-level ones)."""

    name: str
    token: TokenSpec
    origin: str  # the key path the account came from, for messages
    collectors: Mapping[str, CollectorSettings] | None = None


@dataclass(frozen=True)
class TokenPolicy:
    write_scopes: Literal["refuse", "warn"] = "refuse"
    unverifiable: Literal["warn", "refuse"] = "warn"
    secret_scopes: Literal["warn", "refuse"] = "warn"  # read scopes that reveal secrets
    excess_scopes: Literal["ignore", "warn"] = "warn"  # scopes no enabled collector needs


@dataclass(frozen=True)
class ApiSettings:
    url: str = DEFAULT_API_URL
    auth_url: str = DEFAULT_AUTH_URL
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    requests_per_hour: int = DEFAULT_REQUESTS_PER_HOUR
    response_deadline: float | None = None  # None: RESPONSE_DEADLINE_TIMEOUTS x timeout
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    replicas: int = 1  # api.replicas: each process plans with 1/replicas of every token's budget

    @property
    def request_deadline(self) -> float:
        """The longest one request may take, from sending it to the last byte of its body."""
        if self.response_deadline is not None:
            return self.response_deadline
        return RESPONSE_DEADLINE_TIMEOUTS * self.timeout


@dataclass(frozen=True)
class CollectorDefaults:
    """What the collector table says about a collector when the config is silent, and which
    `filter:` keys, `metrics:` groups and inputs it has."""

    interval: float
    enabled: bool = True
    filters: tuple[str, ...] = ()
    metric_groups: tuple[str, ...] = ()
    default_metrics: tuple[str, ...] | None = None
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class PricingOverrides:
    """The config's `pricing:` section: amounts that replace the shipped price table's."""

    prices: Mapping[str, Decimal] = field(default_factory=dict)
    tables: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)  # by size slug

    @property
    def database_node_month(self) -> Mapping[str, Decimal]:
        return self.tables.get(DATABASE_KEY, {})


@dataclass(frozen=True)
class Settings:
    accounts: tuple[AccountSettings, ...]
    collectors: Mapping[str, CollectorSettings]
    token_policy: TokenPolicy = TokenPolicy()
    api: ApiSettings = ApiSettings()
    tokens_dir: Path | None = None
    source: str = "environment"
    warnings: tuple[str, ...] = field(default=())
    pricing: PricingOverrides = PricingOverrides()

    def collectors_of(self, account: AccountSettings) -> Mapping[str, CollectorSettings]:
        """The collector settings of one account: its own `collectors:` over the top-level."""
        return self.collectors if account.collectors is None else account.collectors


class _Parser(StrictReader):
    """Walks the YAML document once, recording every problem with its key path."""

    def __init__(
        self,
        environ: Mapping[str, str],
        collector_defaults: Mapping[str, CollectorDefaults],
        config_path: Path | None,
        enabled_overrides: Mapping[str, bool],
    ) -> None:
        super().__init__()
        self.environ = environ
        self.defaults = collector_defaults
        self.enabled_overrides = enabled_overrides
        self.config_path = config_path
        self.warnings: list[str] = []
        self.account_collectors: dict[str, dict[str, Any]] = {}  # by account origin

    def document(self, doc: object) -> Settings | None:
        top = self.mapping({} if doc is None else doc, "", _TOP_KEYS)
        if top is None:
            return None
        accounts = self.accounts(top.get("accounts"))
        tokens_dir: Path | None = None
        if "tokens_dir" in top:
            text = self.string(top["tokens_dir"], "tokens_dir")
            if text is not None and looks_like_secret(text):
                self.problems.add("tokens_dir", _token_not_path("tokens_dir"))
            elif text is not None:
                tokens_dir = self.resolve_path(text)
                accounts.extend(self.tokens_dir_accounts(tokens_dir))
        if "accounts" not in top and "tokens_dir" not in top:
            accounts.extend(self.environment_accounts())
        elif not accounts and not self.problems.items:
            self.problems.add(
                "accounts",
                "no accounts configured: the list is empty and tokens_dir gives none",
            )
        elif ENV_TOKEN in self.environ or ENV_TOKEN_FILE in self.environ:
            self.warnings.append(
                f"{ENV_TOKEN}/{ENV_TOKEN_FILE} ignored: the config file defines the accounts"
            )
        self.check_account_names(accounts)
        policy = self.token_policy(top.get("token_policy", {}))
        api = self.api(top.get("api", {}))
        raw_collectors = top.get("collectors", {})
        collectors = self.collectors(raw_collectors)
        if collectors is not None:
            accounts = self.with_account_collectors(accounts, raw_collectors, collectors)
            self.check_inputs(accounts, collectors)
        pricing = self.pricing(top.get("pricing", {}))
        if (self.problems.items or policy is None or api is None or collectors is None
                or pricing is None):
            return None
        return Settings(
            accounts=tuple(accounts),
            collectors=collectors,
            token_policy=policy,
            api=api,
            tokens_dir=tokens_dir,
            source=str(self.config_path) if self.config_path else "environment",
            warnings=tuple(self.warnings),
            pricing=pricing,
        )

    def resolve_path(self, text: str) -> Path:
        path = Path(text).expanduser()
        if not path.is_absolute() and self.config_path is not None:
            path = self.config_path.parent / path
        return path

    def accounts(self, value: object) -> list[AccountSettings]:
        items = [] if value is None else self.sequence(value, "accounts")
        found: list[AccountSettings] = []
        for index, item in enumerate(items or []):
            account = self.account(item, f"accounts[{index}]")
            if account is not None:
                found.append(account)
        return found

    def account(self, value: object, path: str) -> AccountSettings | None:
        entry = self.mapping(value, path, _ACCOUNT_KEYS)
        if entry is None:
            return None
        name = None
        if self.require(entry, path, "name"):
            name = self.account_name(entry["name"], f"{path}.name")
        given = [key for key in _TOKEN_KEYS if key in entry]
        if not given:
            self.problems.add(path, "needs one of token_file, token_env or token")
            return None
        if len(given) > 1:
            self.problems.add(path, f"give only one of {', '.join(given)}")
            return None
        key = given[0]
        spec = self.token_spec(key, entry[key], f"{path}.{key}")
        if "collectors" in entry:
            own = self.mapping(entry["collectors"], f"{path}.collectors", tuple(self.defaults))
            if own is not None:
                self.account_collectors[path] = own
        if name is None or spec is None:
            return None
        return AccountSettings(name=name, token=spec, origin=path)

    def account_name(self, value: object, path: str) -> str | None:
        name = self.string(value, path)
        if name is not None and not _ACCOUNT_NAME.match(name):
            self.problems.add(
                path,
                f"{name!r} is not a valid account name (letters, digits, '_', '.', '-'; "
                "at most 63 characters; starting with a letter or digit)",
            )
            return None
        return name

    def token_spec(self, key: str, value: object, path: str) -> TokenSpec | None:
        text = self.string(value, path)
        if text is None:
            return None
        if key != "token" and looks_like_secret(text):
            self.problems.add(path, _token_not_path(key))
            return None
        spec: TokenSpec
        if key == "token_file":
            spec = FileToken(self.resolve_path(text))
        elif key == "token_env":
            spec = EnvToken(text)
        else:
            spec = InlineToken(text)
            if self.config_path is not None and readable_by_others(self.config_path):
                self.warnings.append(
                    f"{path}: the config file {self.config_path} holds a token and is readable "
                    "by other users; chmod 600 it or use token_file"
                )
        # A token problem is recorded but the account still counts, so a duplicate name
        # is reported alongside it.
        self.check_token(spec, path)
        return spec

    def check_token(self, spec: TokenSpec, path: str) -> bool:
        try:
            read_token(spec, self.environ)
        except TokenSourceError as exc:
            self.problems.add(path, str(exc))
            return False
        if isinstance(spec, FileToken) and readable_by_others(spec.path):
            self.warnings.append(
                f"{path}: {spec.describe()} is readable by other users; chmod 600 it"
            )
        return True

    def tokens_dir_accounts(self, directory: Path) -> list[AccountSettings]:
        try:
            scan = discover_tokens_dir(directory)
        except TokenSourceError as exc:
            self.problems.add("tokens_dir", str(exc))
            return []
        if not scan.tokens:
            self.problems.add("tokens_dir", f"{directory} holds no token files"
                              + "".join(f"; {note}" for note in scan.skipped))
        else:
            self.warnings.extend(f"tokens_dir: {note}" for note in scan.skipped)
        found = []
        for name, spec in scan.tokens:
            path = f"tokens_dir[{name}]"
            if not _ACCOUNT_NAME.match(name):
                self.problems.add(
                    path, f"file name {name!r} is not a valid account name "
                    "(letters, digits, '_', '.', '-'; starting with a letter or digit)"
                )
                continue
            if self.check_token(spec, path):
                found.append(AccountSettings(name=name, token=spec, origin=path))
        return found

    def environment_accounts(self) -> list[AccountSettings]:
        has_token = ENV_TOKEN in self.environ
        has_file = ENV_TOKEN_FILE in self.environ
        if has_token and has_file:
            self.problems.add(ENV_TOKEN, f"set only one of {ENV_TOKEN} and {ENV_TOKEN_FILE}")
            return []
        spec: TokenSpec
        if has_token:
            spec, path = EnvToken(ENV_TOKEN), ENV_TOKEN
        elif has_file:
            file_text = self.environ[ENV_TOKEN_FILE]
            if not file_text:
                self.problems.add(ENV_TOKEN_FILE, "must not be empty")
                return []
            if looks_like_secret(file_text):
                self.problems.add(ENV_TOKEN_FILE, _token_not_path(ENV_TOKEN_FILE))
                return []
            spec, path = FileToken(Path(file_text).expanduser()), ENV_TOKEN_FILE
        else:
            self.problems.add(
                "accounts",
                "no accounts configured; list accounts or set tokens_dir in the config file, "
                f"or set {ENV_TOKEN} or {ENV_TOKEN_FILE}",
            )
            return []
        if not self.check_token(spec, path):
            return []
        return [AccountSettings(name=DEFAULT_ACCOUNT_NAME, token=spec, origin=path)]

    def check_account_names(self, accounts: list[AccountSettings]) -> None:
        seen: dict[str, str] = {}
        for account in accounts:
            if account.name in seen:
                self.problems.add(
                    account.origin,
                    f"account name {account.name!r} is already used by {seen[account.name]}",
                )
            else:
                seen[account.name] = account.origin

    def token_policy(self, value: object) -> TokenPolicy | None:
        entry = self.mapping(value, "token_policy", _POLICY_KEYS)
        if entry is None:
            return None
        write = self.choice(entry.get("write_scopes", "refuse"), "token_policy.write_scopes",
                            ("refuse", "warn"))
        unverifiable = self.choice(entry.get("unverifiable", "warn"),
                                   "token_policy.unverifiable", ("warn", "refuse"))
        secret = self.choice(entry.get("secret_scopes", "warn"), "token_policy.secret_scopes",
                             ("warn", "refuse"))
        excess = self.choice(entry.get("excess_scopes", "warn"), "token_policy.excess_scopes",
                             ("ignore", "warn"))
        if write is None or unverifiable is None or secret is None or excess is None:
            return None
        return TokenPolicy(
            write_scopes="refuse" if write == "refuse" else "warn",
            unverifiable="refuse" if unverifiable == "refuse" else "warn",
            secret_scopes="refuse" if secret == "refuse" else "warn",
            excess_scopes="ignore" if excess == "ignore" else "warn",
        )

    def api(self, value: object) -> ApiSettings | None:
        entry = self.mapping(value, "api", _API_KEYS)
        if entry is None:
            return None
        defaults = ApiSettings()
        url = self.api_url(entry.get("url", defaults.url), "api.url")
        auth_url = self.api_url(entry.get("auth_url", defaults.auth_url), "api.auth_url")
        timeout: float | None = defaults.timeout
        if "timeout" in entry:
            timeout = self.duration(entry["timeout"], "api.timeout")
        requests_per_hour = self.integer(
            entry.get("requests_per_hour", defaults.requests_per_hour), "api.requests_per_hour"
        )
        if requests_per_hour is not None and not 1 <= requests_per_hour <= DIGITALOCEAN_HOURLY_LIMIT:
            self.problems.add(
                "api.requests_per_hour",
                f"{requests_per_hour} is outside 1..{DIGITALOCEAN_HOURLY_LIMIT} "
                f"(DigitalOcean allows {DIGITALOCEAN_HOURLY_LIMIT} requests per hour per token)",
            )
            requests_per_hour = None
        deadline: float | None = None
        if "response_deadline" in entry:
            deadline = self.duration(entry["response_deadline"], "api.response_deadline")
            if deadline is not None and timeout is not None and deadline < timeout:
                self.problems.add(
                    "api.response_deadline",
                    f"{format_duration(deadline)} is shorter than api.timeout "
                    f"{format_duration(timeout)}; every slow answer would be cut off",
                )
                return None
        replicas = self.integer(entry.get("replicas", defaults.replicas), "api.replicas")
        if replicas is not None and not 1 <= replicas <= MAX_REPLICAS:
            self.problems.add(
                "api.replicas",
                f"{replicas} is outside 1..{MAX_REPLICAS}; give the number of exporter processes "
                "that poll the same accounts with the same tokens (1 without a high-availability "
                "pair; each process plans with 1/api.replicas of api.requests_per_hour)",
            )
            replicas = None
        max_bytes: int | None = defaults.max_response_bytes
        if "max_response_bytes" in entry:
            max_bytes = self.size(entry["max_response_bytes"], "api.max_response_bytes",
                                  MIN_RESPONSE_BYTES, MAX_RESPONSE_BYTES)
        if (url is None or auth_url is None or timeout is None or requests_per_hour is None
                or max_bytes is None or replicas is None
                or ("response_deadline" in entry and deadline is None)):
            return None
        return ApiSettings(url=url, auth_url=auth_url, timeout=timeout,
                           requests_per_hour=requests_per_hour, response_deadline=deadline,
                           max_response_bytes=max_bytes, replicas=replicas)

    def size(self, value: object, path: str, minimum: int, maximum: int) -> int | None:
        """Bytes, as an integer or a string such as 32MiB (B, KiB, MiB, GiB), within bounds."""
        match = _SIZE.match(value.strip()) if isinstance(value, str) else None
        if isinstance(value, int) and not isinstance(value, bool):
            size = value
        elif match:
            size = int(match[1]) * _SIZE_UNITS[match[2] or "B"]
        else:
            shown = repr(value) if isinstance(value, str) else describe_type(value)
            self.problems.add(path, f"{shown} is not a size; use bytes or a unit, e.g. 32MiB")
            return None
        if not minimum <= size <= maximum:
            self.problems.add(
                path, f"{value} is outside {_format_size(minimum)}..{_format_size(maximum)}"
            )
            return None
        return size

    def api_url(self, value: object, path: str) -> str | None:
        text = self.string(value, path)
        if text is None:
            return None
        parts = urlsplit(text)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            self.problems.add(path, f"{text!r} is not an http(s) URL such as {DEFAULT_API_URL}")
            return None
        if parts.username or parts.password or parts.query or parts.fragment:
            self.problems.add(path, f"{text!r} must not carry credentials, a query or a fragment")
            return None
        if parts.path not in ("", "/"):
            self.problems.add(path, f"{text!r} must not have a path")
            return None
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            self.problems.add(
                path,
                f"{text!r} uses plain http to a non-loopback host; the token would travel "
                "in clear text (use https)",
            )
            return None
        return text.rstrip("/")

    def amount(self, value: object, path: str) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.problems.add(
                path, f"expected an amount in US dollars such as \"5.00\", got {describe_type(value)}"
            )
            return None
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            self.problems.add(path, f"{value!r} is not an amount such as \"5.00\"")
            return None
        if not amount.is_finite() or amount < 0:
            self.problems.add(path, f"{value!r} must be zero or more")
            return None
        return amount

    def pricing(self, value: object) -> PricingOverrides | None:
        table = load_price_table()
        entry = self.mapping(value, "pricing", (*table.prices, *SIZE_TABLES))
        if entry is None:
            return None
        prices: dict[str, Decimal] = {}
        tables: dict[str, dict[str, Decimal]] = {}
        ok = True
        for key, raw in entry.items():
            if key in SIZE_TABLES:
                sizes = self.mapping_of(raw, f"pricing.{key}",
                                        "a mapping of size slugs to amounts")
                if sizes is None:
                    ok = False
                    continue
                tables[key] = {}
                for slug, size_raw in sizes.items():
                    amount = self.amount(size_raw, key_path(f"pricing.{key}", slug))
                    ok = ok and amount is not None
                    if amount is not None:
                        tables[key][str(slug)] = amount
                continue
            amount = self.amount(raw, f"pricing.{key}")
            ok = ok and amount is not None
            if amount is not None:
                prices[key] = amount
        return PricingOverrides(prices, tables) if ok else None

    def collectors(self, value: object) -> dict[str, CollectorSettings] | None:
        entry = self.mapping(value, "collectors", tuple(self.defaults))
        if entry is None:
            return None
        result: dict[str, CollectorSettings] = {}
        ok = True
        for name, default in self.defaults.items():
            settings = self.collector(entry.get(name), f"collectors.{name}", name, default)
            if settings is None:
                ok = False
            else:
                result[name] = settings
        return result if ok else None

    def with_account_collectors(
        self, accounts: list[AccountSettings], top: object,
        collectors: Mapping[str, CollectorSettings],
    ) -> list[AccountSettings]:
        """Each account with its own `collectors:` merged key by key over the top-level ones."""
        top_entry = top if isinstance(top, dict) else {}
        resolved = []
        for account in accounts:
            own = self.account_collectors.get(account.origin)
            if not own:
                resolved.append(account)
                continue
            mine = dict(collectors)
            ok = True
            for name, value in own.items():
                path = f"{account.origin}.collectors.{name}"
                extra = self.mapping({} if value is None else value, path, _COLLECTOR_KEYS)
                base = top_entry.get(name)
                merged = {**(base if isinstance(base, dict) else {}), **(extra or {})}
                settings = self.collector(merged, path, name, self.defaults[name])
                if extra is None or settings is None:
                    ok = False
                else:
                    mine[name] = settings
            if ok:
                resolved.append(replace(account, collectors=mine))
        return resolved

    def check_inputs(
        self, accounts: list[AccountSettings], collectors: Mapping[str, CollectorSettings]
    ) -> None:
        """A collector that reads another's data needs that one enabled wherever it runs."""
        for account in accounts:
            own = account.collectors
            table = collectors if own is None else own
            for name, default in self.defaults.items():
                if not table[name].enabled:
                    continue
                for needed in default.inputs:
                    if table[needed].enabled:
                        continue
                    where = (f"{account.origin}.collectors.{name}" if own is not None
                             else f"collectors.{name}")
                    problem = (f"needs the {needed} collector's data (it reads no list of its "
                               f"own), but {needed} is disabled; enable collectors.{needed} "
                               f"or disable {name}")
                    if f"{where}: {problem}" not in self.problems.items:
                        self.problems.add(where, problem)

    def collector(
        self, value: object, path: str, name: str, default: CollectorDefaults
    ) -> CollectorSettings | None:
        entry = self.mapping({} if value is None else value, path, _COLLECTOR_KEYS)
        if entry is None:
            return None
        enabled: bool | None = default.enabled
        if "enabled" in entry:
            enabled = self.boolean(entry["enabled"], f"{path}.enabled")
        if name in self.enabled_overrides:  # --collector.<name> / --no-collector.<name>
            enabled = self.enabled_overrides[name]
        interval: float | None = default.interval
        if "interval" in entry:
            interval = self.duration(entry["interval"], f"{path}.interval", MIN_INTERVAL_SECONDS)
        stale_after: float | None = None
        if "stale_after" in entry:
            stale_after = self.duration(entry["stale_after"], f"{path}.stale_after")
        selection: Selection | None = EVERYTHING
        if "filter" in entry:
            selection = self.selection(entry["filter"], f"{path}.filter", name, default)
        metrics: tuple[str, ...] | None = (
            default.metric_groups if default.default_metrics is None else default.default_metrics
        )
        if "metrics" in entry:
            metrics = self.metrics(entry["metrics"], f"{path}.metrics", name, default)
        if (enabled is None or interval is None or selection is None or metrics is None
                or ("stale_after" in entry and stale_after is None)):
            return None
        if stale_after is None:
            stale_after = STALE_AFTER_INTERVALS * interval
        elif stale_after < interval:
            self.problems.add(
                f"{path}.stale_after",
                f"{format_duration(stale_after)} is shorter than the interval "
                f"{format_duration(interval)}; every series would vanish between polls",
            )
            return None
        return CollectorSettings(enabled=enabled, interval=interval, stale_after=stale_after,
                                 selection=selection, metrics=metrics)

    def selection(
        self, value: object, path: str, name: str, default: CollectorDefaults
    ) -> Selection | None:
        if not default.filters:
            self.problems.add(path, f"the {name} collector cannot be filtered (its objects have "
                                    "no tag, region, name or id to select by)")
            return None
        unsupported = {key: (f"the {name} collector cannot be filtered by {key} (it can be "
                             f"by {', '.join(default.filters)})")
                       for key in FILTER_KEYS if key not in default.filters}
        entry = self.mapping(value, path, default.filters, unsupported)
        if entry is None:
            return None
        ok = True
        tags: tuple[str, ...] = ()
        regions: tuple[str, ...] = ()
        ids: tuple[str, ...] = ()
        pattern: re.Pattern[str] | None = None
        if "tag" in entry:
            found = self.strings(entry["tag"], f"{path}.tag")
            ok = ok and found is not None
            tags = found or ()
        if "region" in entry:
            found = self.strings(entry["region"], f"{path}.region")
            ok = ok and found is not None
            regions = found or ()
        if "id" in entry:
            found = self.strings(entry["id"], f"{path}.id", numbers=True)
            ok = ok and found is not None
            ids = found or ()
        if "name" in entry:
            text = self.string(entry["name"], f"{path}.name", "a regular expression")
            if text is None:
                ok = False
            else:
                try:
                    pattern = re.compile(text)
                except re.error as exc:
                    self.problems.add(f"{path}.name", f"{text!r} is not a regular expression: {exc}")
                    ok = False
        if not ok:
            return None
        return Selection(tags=tags, regions=regions, name=pattern, ids=ids)

    def strings(self, value: object, path: str, *, numbers: bool = False) -> tuple[str, ...] | None:
        """One string or a non-empty list of them (ids may be numbers), each non-empty."""
        items = value if isinstance(value, list) else [value]
        if not items:
            self.problems.add(path, "is an empty list; give at least one value or drop the key")
            return None
        found = []
        for index, item in enumerate(items):
            where = f"{path}[{index}]" if isinstance(value, list) else path
            if numbers and isinstance(item, int) and not isinstance(item, bool):
                found.append(str(item))
                continue
            text = self.string(item, where)
            if text is None:
                return None
            if not text:
                self.problems.add(where, "must not be empty")
                return None
            found.append(text)
        return tuple(dict.fromkeys(found))

    def metrics(
        self, value: object, path: str, name: str, default: CollectorDefaults
    ) -> tuple[str, ...] | None:
        if not default.metric_groups:
            self.problems.add(path, f"the {name} collector has no metric groups to choose "
                                    "(only Monitoring API collectors do)")
            return None
        items = self.sequence(value, path)
        if items is None:
            return None
        if not items:
            self.problems.add(path, "is empty; list at least one of "
                                    f"{', '.join(default.metric_groups)} (or disable {name})")
            return None
        chosen = []
        for index, item in enumerate(items):
            group = self.choice(item, f"{path}[{index}]", default.metric_groups)
            if group is None:
                return None
            chosen.append(group)
        return tuple(g for g in default.metric_groups if g in chosen)


def _describe_collector(c: CollectorSettings) -> str:
    if not c.enabled:
        return "disabled"
    text = f"every {format_duration(c.interval)}, stale after {format_duration(c.stale_after)}"
    if not c.selection.everything:
        text += f", filter: {c.selection.describe()}"
    if c.metrics:
        text += f", metrics: {', '.join(c.metrics)}"
    return text


def _token_not_path(key: str) -> str:
    """The problem with a token given where its path (or variable's name) belongs. The value
    is not quoted: it is most likely the token itself."""
    if key == "token_env":
        return ("the value of token_env looks like a token, not the name of an environment "
                "variable; put the token in a variable and give the variable's name here")
    if key == ENV_TOKEN_FILE:
        return (f"the value of {ENV_TOKEN_FILE} looks like a token, not a path; set {ENV_TOKEN} "
                "to the token instead, or write it to a file (chmod 600) and give that path")
    if key == "tokens_dir":
        return ("the value of tokens_dir looks like a token, not a path; give the directory "
                "that holds one token file per account")
    return (f"the value of {key} looks like a token, not a path; write the token to a file "
            "(chmod 600) and give that file's path here")


def _format_size(size: int) -> str:
    for unit in ("GiB", "MiB", "KiB"):
        if size >= _SIZE_UNITS[unit] and size % _SIZE_UNITS[unit] == 0:
            return f"{size // _SIZE_UNITS[unit]}{unit}"
    return f"{size}B"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings(
    config_path: Path | None,
    environ: Mapping[str, str],
    collector_defaults: Mapping[str, CollectorDefaults],
    enabled_overrides: Mapping[str, bool] | None = None,
) -> Settings:
    """Settings from a config file (or from the environment alone); ConfigError lists every problem.

    `enabled_overrides` (from `--collector.<name>` flags) win over `collectors.<name>.enabled`.
    """
    source = str(config_path) if config_path else "environment"
    doc = None if config_path is None else load_document(config_path, ConfigError)
    parser = _Parser(environ, collector_defaults, config_path, enabled_overrides or {})
    settings = parser.document(doc)
    if settings is None:
        raise ConfigError(source, parser.problems.items)
    return settings


def describe_budget(api: ApiSettings) -> str:
    """`4000 requests/hour per token`, and with api.replicas what each process keeps of it."""
    text = f"{api.requests_per_hour} requests/hour per token"
    if api.replicas > 1:
        share, _ = replica_share(api.requests_per_hour, replicas=api.replicas)
        text += (f", shared by {api.replicas} replicas (api.replicas: each polls every account "
                 f"with the same tokens): {share} requests/hour per token for this process")
    return text


def describe_settings(settings: Settings) -> str:
    """The summary `--config.check` prints: what the daemon would do, without any token."""
    lines = [f"configuration OK ({settings.source})", f"accounts ({len(settings.accounts)}):"]
    width = max((len(a.name) for a in settings.accounts), default=0)
    lines += [f"  {a.name:<{width}}  {a.token.describe()}" for a in settings.accounts]
    lines.append("collectors:")
    lines += [f"  {name}: {_describe_collector(c)}" for name, c in settings.collectors.items()]
    for account in settings.accounts:
        own = settings.collectors_of(account)
        changed = [name for name, c in own.items() if c != settings.collectors[name]]
        if changed:
            lines.append(f'collectors of account "{account.name}" ({account.origin}.collectors):')
            lines += [f"  {name}: {_describe_collector(own[name])}" for name in changed]
    api = settings.api
    lines.append(
        f"api: {api.url} (token check at {api.auth_url}), timeout {format_duration(api.timeout)}, "
        f"whole answer within {format_duration(api.request_deadline)}, at most "
        f"{_format_size(api.max_response_bytes)}, "
        f"budget {describe_budget(api)}"
    )
    policy = settings.token_policy
    lines.append(
        f"token policy: write_scopes={policy.write_scopes}, unverifiable={policy.unverifiable}, "
        f"secret_scopes={policy.secret_scopes}, excess_scopes={policy.excess_scopes}"
    )
    lines += [f"warning: {w}" for w in settings.warnings]
    return "\n".join(lines)
