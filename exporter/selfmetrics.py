"""The exporter's own metrics: build info, collector health, API requests, rate limits, tokens,
and the process's CPU, memory and file descriptors.

These live in a prometheus_client registry of their own (the "self part" of the exposition). Label
sets are bounded (accounts x collectors x endpoints x status codes) and an account's series are
removed when a reload drops the account. The `process_*` and `python_info` families are
prometheus_client's own collectors, under the names every Prometheus client library uses, so
the usual process dashboards and alerts work unchanged.
"""

from __future__ import annotations

import contextlib
import platform
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.registry import Collector as RegistryCollector

from exporter.scopes import ScopeTable, is_needed, needed_scopes, scope_table
from exporter.snapshot import SnapshotStore

if TYPE_CHECKING:
    from exporter.poller import Poller
    from exporter.sharding import Shard

REQUEST_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ApiRequestMetrics:
    """`digitalocean_api_requests_total`, `digitalocean_api_request_duration_seconds` and
    `digitalocean_api_list_duplicates_dropped_total`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            API_REQUESTS.name.removesuffix("_total"), API_REQUESTS.help, API_REQUESTS.labels,
            registry=registry,
        )
        self.duration = Histogram(
            API_DURATION.name, API_DURATION.help, API_DURATION.labels, buckets=REQUEST_BUCKETS,
            registry=registry,
        )
        self.duplicates = Counter(
            API_DUPLICATES.name.removesuffix("_total"), API_DUPLICATES.help, API_DUPLICATES.labels,
            registry=registry,
        )
        self._seen: set[tuple[str, str, str]] = set()
        self._lists: set[tuple[str, str]] = set()

    def observe(self, account: str, endpoint: str, code: str, seconds: float) -> None:
        self._seen.add((account, endpoint, code))
        self.requests.labels(account, endpoint, code).inc()
        self.duration.labels(account, endpoint).observe(seconds)

    def dropped_duplicates(self, account: str, endpoint: str, count: int) -> None:
        self._lists.add((account, endpoint))
        self.duplicates.labels(account, endpoint).inc(count)

    def forget_account(self, account: str) -> None:
        for listed in [s for s in self._lists if s[0] == account]:
            self._lists.discard(listed)
            self.duplicates.remove(*listed)
        for seen in [s for s in self._seen if s[0] == account]:
            self._seen.discard(seen)
            self.requests.remove(*seen)
            # the histogram has no code label: another code of the same endpoint removed it
            with contextlib.suppress(KeyError):
                self.duration.remove(seen[0], seen[1])


@dataclass(frozen=True)
class SelfFamily:
    """One of the exporter's own families, as documented (labels in full, `account` included)."""

    name: str
    kind: str
    labels: tuple[str, ...]
    help: str

    def gauge(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(self.name, self.help, labels=self.labels)


_ACCOUNT = ("account",)
SHARD_INFO = SelfFamily(
    "digitalocean_exporter_shard_info", "gauge", ("shard", "total_shards"),
    "Which shard this exporter is (--shard, --total-shards; shard 0 of 1 when not sharded); "
    "always 1.",
)
SHARD_ACCOUNTS = SelfFamily(
    "digitalocean_exporter_shard_accounts", "gauge", (),
    "Accounts this shard polls (every account of the configuration when not sharded).",
)
CONFIGURED_ACCOUNTS = SelfFamily(
    "digitalocean_exporter_configured_accounts", "gauge", (),
    "Accounts in the configuration, those of every shard together.",
)
_COLLECTOR = ("account", "collector")
BUILD_INFO = SelfFamily("digitalocean_exporter_build_info", "gauge", ("version", "python_version"),
                        "Version of the exporter and of the Python running it (always 1).")
COLLECTOR_SUCCESS = SelfFamily(
    "digitalocean_collector_success", "gauge", _COLLECTOR,
    "1 if the collector's last poll succeeded, 0 if it failed (its last good data is still served "
    "until stale); for collector costs, 0 when the account's cost estimates could not be "
    "computed.",
)
COLLECTOR_DURATION = SelfFamily("digitalocean_collector_duration_seconds", "gauge", _COLLECTOR,
                                "How long the collector's last poll took.")
COLLECTOR_LAST_SUCCESS = SelfFamily(
    "digitalocean_collector_last_success_timestamp_seconds", "gauge", _COLLECTOR,
    "When the collector last polled successfully.",
)
COLLECTOR_INTERVAL = SelfFamily(
    "digitalocean_collector_interval_seconds", "gauge", _COLLECTOR,
    "The collector's poll interval in effect: the configured one, stretched when the planned "
    "requests would exceed the token's budget.",
)
COLLECTOR_ENABLED = SelfFamily(
    "digitalocean_collector_enabled", "gauge", _COLLECTOR,
    "1 if the collector runs for the account, 0 if it was disabled because the token lacks its "
    "read scope (HTTP 403).",
)
API_REQUESTS = SelfFamily(
    "digitalocean_api_requests_total", "counter", ("account", "endpoint", "code"),
    "Requests made to the DigitalOcean API, by account, endpoint path template and HTTP status "
    "code (timeout or error when no answer came).",
)
API_DURATION = SelfFamily(
    "digitalocean_api_request_duration_seconds", "histogram", ("account", "endpoint"),
    "Duration of requests to the DigitalOcean API, by account and endpoint path template.",
)
API_DUPLICATES = SelfFamily(
    "digitalocean_api_list_duplicates_dropped_total", "counter", ("account", "endpoint"),
    "Repeated objects dropped from paged lists, by account and endpoint path template: an "
    "object created while a list was paged shifts the later pages, so one object comes twice.",
)
RATE_LIMIT_REMAINING = SelfFamily(
    "digitalocean_api_rate_limit_remaining", "gauge", _ACCOUNT,
    "Requests left in the token's rolling hour, from the last ratelimit-remaining header.",
)
RATE_LIMIT_LIMIT = SelfFamily(
    "digitalocean_api_rate_limit_limit", "gauge", _ACCOUNT,
    "The token's hourly request limit, from the last ratelimit-limit header.",
)
RATE_LIMIT_RESET = SelfFamily(
    "digitalocean_api_rate_limit_reset_timestamp_seconds", "gauge", _ACCOUNT,
    "When the oldest request in the token's rolling hour expires, from the last ratelimit-reset "
    "header.",
)
BUDGET = SelfFamily(
    "digitalocean_api_budget_requests_per_hour", "gauge", _ACCOUNT,
    "The exporter's own request budget per token (api.requests_per_hour, divided by api.replicas).",
)
PLANNED = SelfFamily(
    "digitalocean_api_planned_requests_per_hour", "gauge", _ACCOUNT,
    "Requests per hour the configured intervals need, from what each collector's last poll "
    "cost; above the budget, intervals stretch.",
)
BUDGET_USED = SelfFamily(
    "digitalocean_api_budget_used_requests", "gauge", _ACCOUNT,
    "Requests the exporter made with the token in the last hour.",
)
TOKEN_READ_ONLY = SelfFamily(
    "digitalocean_token_read_only", "gauge", _ACCOUNT,
    "1 if token/info verified the token as read-only, 0 otherwise (write scopes, or unverifiable).",
)
TOKEN_VALID = SelfFamily(
    "digitalocean_token_valid", "gauge", _ACCOUNT,
    "0 after DigitalOcean rejected the token (HTTP 401) and polling of the account stopped, "
    "1 otherwise.",
)
TOKEN_EXPIRY = SelfFamily(
    "digitalocean_token_expiry_timestamp_seconds", "gauge", _ACCOUNT,
    "When the token expires, from token/info (absent for tokens that do not expire).",
)
TOKEN_SCOPES = SelfFamily(
    "digitalocean_token_scopes", "gauge", ("account", "scope", "needed"),
    "1 for each scope the token holds, from token/info; needed is true when an enabled collector "
    "needs what the scope grants (absent when token/info could not list the scopes).",
)
TOKEN_EXCESS_SCOPES = SelfFamily(
    "digitalocean_token_excess_scopes", "gauge", _ACCOUNT,
    "How many of the token's scopes no enabled collector needs, from token/info.",
)
TOKEN_SECRET_SCOPES = SelfFamily(
    "digitalocean_token_secret_scopes", "gauge", _ACCOUNT,
    "How many of the token's scopes reveal secrets (genai:read, app:read, monitoring:read, "
    "registry:read, the legacy read scope), from token/info.",
)

# prometheus_client's process and platform collectors: their names and help, as they emit them
# (Linux only: the process collector reads /proc/self)
PROCESS_FAMILIES = (
    SelfFamily("process_cpu_seconds_total", "counter", (),
               "Total user and system CPU time spent in seconds."),
    SelfFamily("process_resident_memory_bytes", "gauge", (), "Resident memory size in bytes."),
    SelfFamily("process_virtual_memory_bytes", "gauge", (), "Virtual memory size in bytes."),
    SelfFamily("process_start_time_seconds", "gauge", (),
               "Start time of the process since unix epoch in seconds."),
    SelfFamily("process_open_fds", "gauge", (), "Number of open file descriptors."),
    SelfFamily("process_max_fds", "gauge", (), "Maximum number of open file descriptors."),
    SelfFamily("python_info", "gauge", ("implementation", "major", "minor", "patchlevel", "version"),
               "Python platform information"),
)

SELF_FAMILIES = (
    BUILD_INFO, SHARD_INFO, SHARD_ACCOUNTS, CONFIGURED_ACCOUNTS,
    COLLECTOR_SUCCESS, COLLECTOR_DURATION, COLLECTOR_LAST_SUCCESS, COLLECTOR_INTERVAL,
    COLLECTOR_ENABLED, API_REQUESTS, API_DURATION, API_DUPLICATES, RATE_LIMIT_REMAINING, RATE_LIMIT_LIMIT,
    RATE_LIMIT_RESET, BUDGET, PLANNED, BUDGET_USED, TOKEN_READ_ONLY, TOKEN_VALID, TOKEN_EXPIRY,
    TOKEN_SCOPES, TOKEN_EXCESS_SCOPES, TOKEN_SECRET_SCOPES, *PROCESS_FAMILIES,
)


class RuntimeMetrics(RegistryCollector):
    """Gauges read from the running poller at render time (nothing is stored twice)."""

    def __init__(
        self,
        poller: Callable[[], Poller | None],
        store: SnapshotStore,
        version: str,
        derived: Callable[[], Mapping[tuple[str, str], str | None]] = dict,
        scopes: ScopeTable | None = None,
        *,
        shard: Callable[[], tuple[Shard, int, int]] | None = None,
    ) -> None:
        self._poller = poller
        self._shard = shard  # -> (this shard, accounts it owns, accounts configured)
        self._store = store
        self._version = version
        self._derived = derived  # (account, derived name, e.g. costs) -> None or why it failed
        self._scopes = scopes or scope_table()

    def collect(self) -> Iterator[Metric]:
        build = BUILD_INFO.gauge()
        build.add_metric((self._version, platform.python_version()), 1)
        yield build
        if self._shard is not None:
            yield from self._shard_families(*self._shard())
        poller = self._poller()
        if poller is None:
            return
        yield from self._collector_families(poller)
        yield from self._account_families(poller)
        yield from self._scope_families(poller)

    @staticmethod
    def _shard_families(shard: Shard, owned: int, configured: int) -> Iterator[Metric]:
        info = SHARD_INFO.gauge()
        info.add_metric((str(shard.index), str(shard.total)), 1)
        accounts, total = SHARD_ACCOUNTS.gauge(), CONFIGURED_ACCOUNTS.gauge()
        accounts.add_metric((), owned)
        total.add_metric((), configured)
        yield from (info, accounts, total)

    def _collector_families(self, poller: Poller) -> Iterator[Metric]:
        success = COLLECTOR_SUCCESS.gauge()
        duration = COLLECTOR_DURATION.gauge()
        last_success = COLLECTOR_LAST_SUCCESS.gauge()
        interval = COLLECTOR_INTERVAL.gauge()
        enabled = COLLECTOR_ENABLED.gauge()
        for account in poller.accounts:
            for collector in poller.collectors_of(account):
                key = (account.name, collector.name)
                enabled.add_metric(key, 1 if account.state(collector.name).enabled else 0)
                interval.add_metric(key, poller.interval_of(account, collector.name))
                snapshot = self._store.get(key)
                if snapshot is None:
                    continue
                success.add_metric(key, 1 if snapshot.ok else 0)
                duration.add_metric(key, snapshot.duration)
                if snapshot.fetched_at is not None:
                    last_success.add_metric(key, snapshot.fetched_at)
        for (account_name, name), error in sorted(self._derived().items()):
            success.add_metric((account_name, name), 1 if error is None else 0)
        yield from (success, duration, last_success, interval, enabled)

    def _account_families(self, poller: Poller) -> Iterator[Metric]:
        families = [f.gauge() for f in (
            RATE_LIMIT_REMAINING, RATE_LIMIT_LIMIT, RATE_LIMIT_RESET, BUDGET, PLANNED, BUDGET_USED,
            TOKEN_READ_ONLY, TOKEN_VALID, TOKEN_EXPIRY,
        )]
        remaining, limit, reset, budget, planned, used, read_only, valid, expiry = families
        for account in poller.accounts:
            key = (account.name,)
            state = account.api.rate_limit
            if state.remaining is not None:
                remaining.add_metric(key, state.remaining)
            if state.limit is not None:
                limit.add_metric(key, state.limit)
            if state.reset_at is not None:
                reset.add_metric(key, state.reset_at)
            budget.add_metric(key, account.budget.per_hour)
            planned.add_metric(key, account.plan.planned_per_hour)
            used.add_metric(key, account.budget.used_last_hour())
            read_only.add_metric(key, 1 if account.report.read_only else 0)
            valid.add_metric(key, 1 if account.token_valid else 0)
            if account.report.expires_at is not None:
                expiry.add_metric(key, account.report.expires_at)
        yield from families

    def _scope_families(self, poller: Poller) -> Iterator[Metric]:
        held, excess, secret = TOKEN_SCOPES.gauge(), TOKEN_EXCESS_SCOPES.gauge(), TOKEN_SECRET_SCOPES.gauge()
        for account in poller.accounts:
            needed = needed_scopes(poller.collectors_of(account))
            scopes = account.report.scopes  # empty when token/info did not list them
            if not scopes:
                continue
            unneeded = 0
            for scope in scopes:
                wanted = is_needed(scope, needed, self._scopes)
                unneeded += 0 if wanted else 1
                held.add_metric((account.name, scope, "true" if wanted else "false"), 1)
            excess.add_metric((account.name,), unneeded)
            secret.add_metric((account.name,), len(account.report.secret_scopes))
        yield from (held, excess, secret)


OPENMETRICS_EOF = b"# EOF\n"


class SelfRenderer:
    """The self part in both formats (what `exposition.render_registry` makes, byte for byte),
    each metric family rendered again only when it changed since the last call.

    The daemon refreshes the self part every second on its event loop; between polls only the
    process_* families change, and rendering the ~10,000 unchanged samples (request duration
    histograms per endpoint, collector states) again took ~20 ms of CPU each second at 1,000
    Droplets (bench/startup.py, "CPU seconds until ready")."""

    def __init__(self) -> None:
        self._rendered: dict[tuple[int, str], tuple[Metric, bytes, bytes]] = {}

    def render(self, registry: RegistryCollector) -> tuple[bytes, bytes]:
        rendered: dict[tuple[int, str], tuple[Metric, bytes, bytes]] = {}
        for index, family in enumerate(registry.collect()):
            key = (index, family.name)
            cached = self._rendered.get(key)
            if cached is None or cached[0] != family:  # a new NaN differs: rendered again
                one = _Family(family)
                openmetrics: bytes = generate_openmetrics(one)  # type: ignore[no-untyped-call]  # untyped upstream
                cached = (family, generate_latest(one), openmetrics.removesuffix(OPENMETRICS_EOF))
            rendered[key] = cached
        self._rendered = rendered
        return (b"".join(text for _, text, _ in rendered.values()),
                b"".join(om for _, _, om in rendered.values()) + OPENMETRICS_EOF)


class _Family(RegistryCollector):
    """One collected family, as a registry the exposition functions read."""

    def __init__(self, family: Metric) -> None:
        self.family = family

    def collect(self) -> Iterator[Metric]:
        yield self.family


def self_registry(
    poller: Callable[[], Poller | None],
    store: SnapshotStore,
    version: str,
    derived: Callable[[], Mapping[tuple[str, str], str | None]] = dict,
    shard: Callable[[], tuple[Shard, int, int]] | None = None,
) -> tuple[CollectorRegistry, ApiRequestMetrics]:
    # `_created` series would double the request metrics in the text format for no use here;
    # the switch is process-wide in prometheus_client, and this is the only registry we own.
    disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped upstream
    registry = CollectorRegistry(auto_describe=False)
    api_metrics = ApiRequestMetrics(registry)
    registry.register(RuntimeMetrics(poller, store, version, derived, shard=shard))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry, api_metrics

