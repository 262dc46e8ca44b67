"""The running exporter: verifies tokens, runs the poller, renders on change, serves, reloads.

Threads: the event loop (polls, token checks, the self-metrics refresh, signals), one render
worker (each poll's encoding and the join of the data part, so a large fleet never stalls the
loop) and the HTTP server's threads (which only read the cached exposition).
"""

from __future__ import annotations

import asyncio
import errno
import signal
import socket
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from exporter import __version__
from exporter.api import DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.clock import Clock, SystemClock
from exporter.collectors.base import Collector
from exporter.config import ConfigError, Settings
from exporter.costs import cost_families
from exporter.discovery import ServiceDiscovery
from exporter.exposition import DataPart, DataRenderer, ExpositionCache
from exporter.logs import Redactor, get_logger
from exporter.memory import limit_arenas, release_free_memory
from exporter.poller import AccountRuntime, Poller, describe_stretch, safe_verify
from exporter.pricing import load_price_table
from exporter.scopes import (
    ScopeReport,
    decide,
    least_privilege_report,
    needed_scopes,
    scope_warnings,
)
from exporter.selfmetrics import SelfRenderer, self_registry
from exporter.server import DEFAULT_MAX_CONNECTIONS, MetricsServer, ServerApp
from exporter.sharding import NO_SHARD, Shard
from exporter.snapshot import Snapshot, SnapshotStore
from exporter.strictyaml import format_duration
from exporter.tokens import TokenSource, TokenSourceError, fingerprint, source_name
from exporter.transfer import transfer_families
from exporter.webconfig import WebConfig

if TYPE_CHECKING:  # the page at / is imported when first asked for: not every exporter shows it
    from exporter.statuspage import StatusPage

SELF_REFRESH_SECONDS = 1.0
# The self part is rendered on the event loop; with hundreds of accounts it holds a hundred
# thousand lines (API requests by account and endpoint) and takes a second or more, so it is
# rendered less often then: at most this share of the time (bench/accounts.py).
SELF_REFRESH_SHARE = 0.1
# After a render of the data part that took t seconds, the next one waits RENDER_SPACING x t
# (renders take at most a third of the time).
RENDER_SPACING = 2.0
PROGRESS_EVERY_SECONDS = 10.0  # "waiting for first polls" while the first polls run
PENDING_SHOWN = 3  # how many pending (account/collector) pairs the progress line names
EXPIRY_WARNING_SECONDS = 7 * 86400  # a token that expires sooner is logged as a warning
# Exit codes (docs/deploy.md, "Exit codes"): 2 is what a restart cannot fix (systemd's
# RestartPreventExitStatus=2); 1 may pass (a port busy for a moment, the network not up yet).
EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_REFUSED = 2

USER_AGENT = f"digitalocean-exporter/{__version__}"


def user_agent(shard: Shard = NO_SHARD) -> str:
    """`digitalocean-exporter/1.2.0`, and `(shard 1 of 3)` after it when sharded: the shard that
    made a request shows in DigitalOcean's (and the simulator's) request logs."""
    return f"{USER_AGENT} ({shard})" if shard.sharded else USER_AGENT


class ListenError(Exception):
    """The server cannot listen on --web.listen-address; the message names the flag, the address
    and what to do, and `exit_code` says whether a restart may help."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def listen_text(host: str, port: int) -> str:
    """The address as --web.listen-address spells it."""
    if not host:
        return f":{port}"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def listen_error(host: str, port: int, exc: OSError) -> ListenError:
    flag = f"--web.listen-address {listen_text(host, port)}"
    if isinstance(exc, socket.gaierror):
        return ListenError(f"{flag}: the host {host} cannot be resolved ({exc.strerror}); give an "
                           "IP address or a name this machine resolves", EXIT_RUNTIME)
    if exc.errno == errno.EADDRINUSE:
        return ListenError(f"{flag}: the address is already in use (another exporter running?); "
                           "stop it or choose another port", EXIT_RUNTIME)
    if exc.errno == errno.EADDRNOTAVAIL:
        return ListenError(f"{flag}: {host} is not an address of this machine (yet?); give one "
                           f"of its addresses, or :{port} for all", EXIT_RUNTIME)
    if exc.errno == errno.EACCES:
        return ListenError(f"{flag}: permission denied; ports below 1024 need privileges "
                           "(CAP_NET_BIND_SERVICE): choose a port above 1023", EXIT_REFUSED)
    return ListenError(f"{flag}: cannot listen ({exc.strerror or exc})", EXIT_RUNTIME)


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    telemetry_path: str
    web: WebConfig | None = None  # --web.config.file: TLS, basic auth, headers
    max_connections: int = DEFAULT_MAX_CONNECTIONS  # --web.max-connections


class Daemon:
    """Owns everything that lives as long as the process."""

    def __init__(
        self,
        settings: Settings,
        options: ServeOptions,
        *,
        collectors: Sequence[Collector[Any]],
        reload_settings: Callable[[], Settings],
        redactor: Redactor,
        environ: dict[str, str],
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        handle_signals: bool = True,
        progress_every: float = PROGRESS_EVERY_SECONDS,
        shard: Shard = NO_SHARD,
    ) -> None:
        self.shard = shard  # every part below sees only this shard's accounts (Shard.own)
        self.accounts_configured = len(settings.accounts)
        settings = shard.own(settings)
        self.settings = settings
        self.options = options
        self.collectors = tuple(collectors)
        self.reload_settings = reload_settings
        self.redactor = redactor
        self.environ = environ
        self.clock = clock or SystemClock()
        self.transport = transport
        self.handle_signals = handle_signals
        self.progress_every = progress_every
        self.log = get_logger("exporter")
        self.store = SnapshotStore()
        self.cache = ExpositionCache()
        self.renderer = self._renderer(settings)
        self.poller: Poller | None = None
        self.client: DigitalOceanClient | None = None
        self.registry, self.api_metrics = self_registry(
            lambda: self.poller, self.store, __version__, lambda: self.renderer.derived_status,
            shard=lambda: (self.shard, len(self.settings.accounts), self.accounts_configured),
        )
        self.server: MetricsServer | None = None
        self._self_renderer = SelfRenderer()  # each second: only what changed is rendered
        limit_arenas()  # before the first thread starts
        self._render_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render")
        self._rendered: tuple[frozenset[tuple[str, str]], int] = (frozenset(), 0)
        self._render_wanted: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self._reload: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = False
        self._ready_version: int | None = None  # store version when every first poll had ended
        self._rendered_version = -1  # store version the served exposition was rendered from
        self._derived_reported: dict[tuple[str, str], str | None] = {}
        self._render_failure: str | None = None
        self._started_at = 0.0  # monotonic, when run() began: for "ready after N s"
        self._ready_said = False
        self._progress_at = 0.0  # monotonic, when the next "waiting for first polls" is due

    # -- lifecycle ------------------------------------------------------------------------

    async def run(self) -> int:
        self._loop = asyncio.get_running_loop()
        self._started_at = self.clock.monotonic()
        self._progress_at = self._started_at + self.progress_every
        self._render_wanted = asyncio.Event()
        self._stop = asyncio.Event()
        self._reload = asyncio.Event()
        self._install_signals()
        try:
            self.server = MetricsServer(
                self.options.host,
                self.options.port,
                ServerApp(self.cache, self.options.telemetry_path, self.readiness, __version__,
                          status_page=_status_page(self, self._loop),
                          discovery=ServiceDiscovery(self.store.items, self.readiness,
                                                     lambda: self.store.data_version)),
                web=self.options.web,
                max_connections=self.options.max_connections,
            )
        except OSError as exc:
            raise listen_error(self.options.host, self.options.port, exc) from None
        self.server.start()
        self.log.info(
            "listening",
            address=f"{self.options.host or '*'}:{self.server.port}",
            scheme=self.server.scheme,
            metrics_path=self.options.telemetry_path,
            version=__version__,
        )
        background: list[asyncio.Task[None]] = []
        try:
            prepared = await self._prepare(self.settings, {})
            if isinstance(prepared, list):
                return EXIT_REFUSED
            self.client, accounts = prepared
            self._start_poller(self.settings, accounts)
            self._log_start(accounts)
            self.store.subscribe(self._render_wanted.set)
            background = [
                asyncio.create_task(self._render_loop(), name="render"),
                asyncio.create_task(self._refresh_loop(), name="self-metrics"),
            ]
            while True:
                stop = asyncio.create_task(self._stop.wait())
                reload = asyncio.create_task(self._reload.wait())
                await asyncio.wait({stop, reload}, return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                reload.cancel()
                if self._stop.is_set():
                    self.log.info("stopping")
                    return EXIT_OK
                self._reload.clear()
                # A reload may wait on the request budget; SIGTERM must not wait for it.
                reloading = asyncio.create_task(self.reload())
                stop = asyncio.create_task(self._stop.wait())
                await asyncio.wait({reloading, stop}, return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                if not reloading.done():
                    reloading.cancel()
                    await asyncio.gather(reloading, return_exceptions=True)
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            if self.poller is not None:
                await self.poller.stop()
            if self.client is not None:
                await self.client.aclose()
            self.server.stop()
            self._render_executor.shutdown(wait=True)

    def request_stop(self) -> None:
        """Stop the daemon; safe to call from any thread (signal handlers, tests)."""
        self._from_any_thread(self._stop)

    def request_reload(self) -> None:
        """Reload the configuration, as SIGHUP does; safe to call from any thread."""
        self._from_any_thread(self._reload)

    def _from_any_thread(self, event: asyncio.Event | None) -> None:
        if event is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(event.set)

    def _install_signals(self) -> None:
        if not self.handle_signals:
            return  # embedded (tests): stopped and reloaded through request_stop/request_reload
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop)
        loop.add_signal_handler(signal.SIGINT, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)

    def readiness(self) -> tuple[bool, Sequence[str]]:
        """Ready once every first poll finished AND its data is in the served exposition; once
        ready, stays ready (a later change must not make Kubernetes pull the pod)."""
        if self._ready:
            return True, []
        poller = self.poller
        if poller is None:
            return False, ["token verification"]
        ready, pending = poller.ready()
        if not ready:
            return False, pending
        if self._rendered_version < self._version_at_ready(poller):
            return False, ["the first rendering of the polled data"]
        self._ready = True
        return True, []

    def _version_at_ready(self, poller: Poller) -> int:
        if self._ready_version is None:
            self._ready_version = self.store.data_version
        return self._ready_version

    def shard_summary(self) -> str | None:
        """What the status page says of sharding; None when not sharded."""
        if not self.shard.sharded:
            return None
        return self.shard.describe(len(self.settings.accounts), self.accounts_configured)

    # -- accounts and tokens --------------------------------------------------------------

    async def _prepare(
        self, settings: Settings, previous: dict[str, AccountRuntime]
    ) -> tuple[DigitalOceanClient, list[AccountRuntime]] | list[str]:
        """A client and verified accounts for `settings`, or the reasons they were refused.

        Accounts whose token and auth URL did not change keep their earlier verdict, budget and
        rate-limit state, so a reload costs no request for them.
        """
        client = DigitalOceanClient(
            api_url=settings.api.url,
            auth_url=settings.api.auth_url,
            timeout=settings.api.timeout,
            user_agent=user_agent(self.shard),
            observer=self.api_metrics,
            lists=self.api_metrics,
            clock=self.clock,
            transport=self.transport,
            response_deadline=settings.api.response_deadline,
            max_response_bytes=settings.api.max_response_bytes,
        )
        problems: list[str] = []
        accounts: list[AccountRuntime] = []
        to_verify: list[AccountRuntime] = []
        same_auth = self.settings.api.auth_url == settings.api.auth_url
        for account_settings in settings.accounts:
            try:
                source = TokenSource(account_settings.token, self.environ)
            except TokenSourceError as exc:
                problems.append(f'account "{account_settings.name}": {exc}')
                self.log.error(str(exc), account=account_settings.name)
                continue
            self.redactor.add(source.token)
            old = previous.get(account_settings.name)
            api_settings = settings.api
            if old is None:
                budget = RequestBudget(api_settings.requests_per_hour, self.clock,
                                       replicas=api_settings.replicas)
            else:  # a reload: the same windows, the new limits
                budget = old.budget
                budget.set_limits(api_settings.requests_per_hour, api_settings.replicas)
            api = client.account(account_settings.name, _token_of(source), budget)
            if old is not None:
                api.rate_limit = old.api.rate_limit
            reuse = (
                old is not None
                and same_auth
                and fingerprint(old.source.token) == fingerprint(source.token)
            )
            report = old.report if old is not None and reuse else ScopeReport("unverifiable")
            account = AccountRuntime(account_settings, source, api, budget, report)
            accounts.append(account)
            if not reuse:
                to_verify.append(account)
        reports = await asyncio.gather(*(safe_verify(a.api, self.clock.time, None) for a in to_verify))
        policy = settings.token_policy
        for account, report in zip(to_verify, reports, strict=True):
            account.report = report
            own = settings.collectors_of(account.settings)
            enabled = [c for c in self.collectors if own[c.name].enabled]
            decision = decide(
                account.name,
                source_name(account.settings.token, account.settings.origin),
                report,
                policy.write_scopes,
                policy.unverifiable,
                secret_policy=policy.secret_scopes,
                needed=needed_scopes(enabled),
            )
            log = self.log.bind(account=account.name)
            if not decision.allowed:
                problems.append(decision.message)
                log.error(decision.message,
                          scopes=list(report.write_scopes or report.secret_scopes) or None)
                continue
            if decision.level == "warning":
                log.warning(decision.message)
            else:
                log.info(decision.message)
            self._log_expiry(account, report.expires_at)
            for message, fields in scope_warnings(report, enabled, policy.excess_scopes):
                log.warning(message, **fields)
            log.info("least-privilege report:\n" + "\n".join(
                f"  {line}" for line in least_privilege_report(report, enabled)))
        if problems:
            await client.aclose()
            return problems
        return client, accounts

    def _log_expiry(self, account: AccountRuntime, expires_at: float | None) -> None:
        if expires_at is None:
            return
        level, text = describe_expiry(expires_at, self.clock.time())
        log = self.log.bind(account=account.name)
        if level == "warning":
            where = source_name(account.settings.token, account.settings.origin)
            log.warning(f"{text}; create a new read-only token and update {where} before then")
        else:
            log.info(text)

    def _start_poller(self, settings: Settings, accounts: list[AccountRuntime]) -> None:
        self.poller = Poller(
            collectors=self.collectors,
            settings=settings.collectors,
            store=self.store,
            token_policy=settings.token_policy,
            clock=self.clock,
            log=self.log,
            remember_secret=self.redactor.add,
            encoder=self._render_executor,
        )
        self.poller.start(accounts)

    async def reload(self) -> bool:
        """SIGHUP: load the config again; on any problem keep running the current one."""
        try:
            return await self._apply_reload()
        except Exception as exc:  # the reload's boundary: never lost silently, never fatal
            self.log.error("configuration reload failed unexpectedly; keeping the running "
                           "configuration", event_source="reload",
                           error=f"{type(exc).__name__}: {exc}", exc_info=exc)
            return False

    async def _apply_reload(self) -> bool:
        log = self.log.bind(event_source="reload")
        try:
            loaded = self.reload_settings()
        except ConfigError as exc:
            log.error("configuration reload failed; keeping the running configuration",
                      problems=exc.problems)
            return False
        settings = self.shard.own(loaded)  # the same shard, over the new list of accounts
        previous = {a.name: a for a in (self.poller.accounts if self.poller else [])}
        prepared = await self._prepare(settings, previous)
        if isinstance(prepared, list):
            log.error("configuration reload refused; keeping the running configuration",
                      problems=prepared)
            return False
        client, accounts = prepared
        if self.poller is not None:
            await self.poller.stop()
        old_client, self.client = self.client, client
        if old_client is not None:
            await old_client.aclose()
        names = {a.name for a in accounts}
        enabled = {
            (a.name, name)
            for a in accounts
            for name, c in settings.collectors_of(a.settings).items() if c.enabled
        }
        for name in set(previous) - names:
            self.api_metrics.forget_account(name)
        self.store.retain(lambda key: key in enabled)
        self.settings = settings
        self.accounts_configured = len(loaded.accounts)
        self.renderer = self._renderer(settings)
        self._start_poller(settings, accounts)
        log.info("configuration reloaded", accounts=sorted(names),
                 **self._shard_fields())
        if self._render_wanted is not None:
            self._render_wanted.set()
        return True

    # -- rendering ------------------------------------------------------------------------

    def _renderer(self, settings: Settings) -> DataRenderer:
        prices = load_price_table().with_overrides(
            settings.pricing.prices, settings.pricing.tables
        )
        return DataRenderer(self.collectors, (cost_families(prices), transfer_families(prices)))

    def _render_state(
        self, fresh: list[tuple[str, str, Snapshot]]
    ) -> tuple[frozenset[tuple[str, str]], int]:
        """What the data part depends on besides the data itself: which snapshots are fresh,
        and the clock's period for the cost estimates."""
        return frozenset((a, c) for a, c, _ in fresh), self.renderer.time_bucket(self.clock.time())

    def fresh_snapshots(self) -> list[tuple[str, str, Snapshot]]:
        now = self.clock.monotonic()
        fresh = []
        own = {a.name: self.settings.collectors_of(a) for a in self.settings.accounts}
        for (account, collector), snapshot in self.store.items():
            settings = own.get(account, self.settings.collectors).get(collector)
            if settings is not None and snapshot.fresh(now, settings.stale_after):
                fresh.append((account, collector, snapshot))
        return fresh

    async def _render_loop(self) -> None:
        assert self._render_wanted is not None
        loop = asyncio.get_running_loop()
        while True:
            await self._render_wanted.wait()
            self._render_wanted.clear()
            version = self.store.data_version
            fresh = self.fresh_snapshots()
            state = self._render_state(fresh)
            renderer = self.renderer
            started = self.clock.monotonic()
            try:
                part = await loop.run_in_executor(
                    self._render_executor, self._render, renderer, fresh, self.clock.time()
                )
            except Exception as exc:  # joining cached bytes: a bug, never data; say so once
                if self._render_failure != repr(exc):
                    self._render_failure = repr(exc)
                    self.log.exception("rendering failed; still serving the previous exposition")
                continue
            self._render_failure = None
            self._rendered = state
            self.cache.set_data(part)
            self._rendered_version = version
            self.log.debug("exposition rendered", snapshots=len(fresh),
                           bytes=part.size, compressed_bytes=part.deflate_size,
                           seconds=round(self.clock.monotonic() - started, 3))
            self._report_derived(renderer.derived_status)
            # Changes that come meanwhile wait and are rendered together: while hundreds of
            # accounts' first polls come in, a render after each would be quadratic work.
            await self.clock.sleep((self.clock.monotonic() - started) * RENDER_SPACING)

    def _report_derived(self, status: Mapping[tuple[str, str], str | None]) -> None:
        """One log line per change of a derived set's state (costs) for an account."""
        for (account, name), error in status.items():
            if self._derived_reported.get((account, name)) == error:
                continue
            if error is not None:
                self.log.warning(
                    f"{name} could not be computed; its series are left out for this account "
                    "until they can be",
                    account=account, collector=name, error=error,
                )
            elif (account, name) in self._derived_reported:
                self.log.info(f"{name} recovered", account=account, collector=name)
        self._derived_reported = dict(status)

    @staticmethod
    def _render(
        renderer: DataRenderer, fresh: list[tuple[str, str, Snapshot]], now: float
    ) -> DataPart:
        part = renderer.render_part(fresh, now)
        release_free_memory()
        return part

    async def _refresh_loop(self) -> None:
        """Once a second: notice snapshots that went stale or costs that are due, refresh the
        self part, and say how the first polls are going until the exporter is ready."""
        assert self._render_wanted is not None
        self_due = self.clock.monotonic()
        while True:
            if self._render_state(self.fresh_snapshots()) != self._rendered:
                self._render_wanted.set()
            started = self.clock.monotonic()
            if started >= self_due:
                self.refresh_self()
                ended = self.clock.monotonic()
                self_due = next_self_refresh(ended, ended - started)
            self.report_progress()
            await self.clock.sleep(SELF_REFRESH_SECONDS)

    def report_progress(self) -> None:
        """One "ready after N s" line when /readyz turns 200 (whether or not anyone asks it),
        and before that a "waiting for first polls" line every `progress_every` seconds."""
        if self._ready_said:
            return
        ready, pending = self.readiness()
        now = self.clock.monotonic()
        if ready:
            self._ready_said = True
            self.log.info(f"ready after {now - self._started_at:.1f} s: every account's first "
                          "polls are served; /readyz answers 200")
            return
        if now < self._progress_at:
            return
        self._progress_at = now + self.progress_every
        self.log.info(waiting_message(pending, self._pairs()),
                      waiting_seconds=round(now - self._started_at))

    def _pairs(self) -> int:
        poller = self.poller
        return sum(len(poller.collectors_of(a)) for a in poller.accounts) if poller else 0

    def _log_start(self, accounts: Sequence[AccountRuntime]) -> None:
        """The one line that says what this run will do: accounts, collectors and their
        intervals, and each account's request plan against its budget."""
        enabled = [c for c in self.collectors if self.settings.collectors[c.name].enabled]
        intervals = {c.name: self.settings.collectors[c.name].interval for c in enabled}
        self.log.info(
            f"starting: {_count(len(accounts), 'account')} ({', '.join(a.name for a in accounts)}), "
            f"{len(enabled)} of {len(self.collectors)} collectors, first polls now",
            collectors=group_by_interval(intervals),
            request_plan={a.name: describe_plan(a) for a in accounts},
            **self._shard_fields(),
        )
        if self.shard.sharded and not accounts:
            self.log.warning(f"{self.shard_summary()}; it is ready at once (more accounts, or "
                             "fewer shards, give it work)")

    def _shard_fields(self) -> dict[str, Any]:
        if not self.shard.sharded:
            return {}
        return {"shard": self.shard.index, "total_shards": self.shard.total,
                "sharding": self.shard_summary()}

    def refresh_self(self) -> None:
        text, openmetrics = self._self_renderer.render(self.registry)
        self.cache.set_self(text, openmetrics)


def next_self_refresh(ended: float, took: float) -> float:
    """When the self part is rendered next (monotonic): SELF_REFRESH_SECONDS after the last
    rendering ended, or later when that one took more than SELF_REFRESH_SHARE of the time."""
    return ended + max(SELF_REFRESH_SECONDS, took / SELF_REFRESH_SHARE)


def _status_page(daemon: Daemon, loop: asyncio.AbstractEventLoop) -> Callable[[], str]:
    """The status page's renderer, its module imported on the first request for `/`."""
    made: list[StatusPage] = []

    def html() -> str:
        if not made:
            from exporter.statuspage import StatusPage  # noqa: PLC0415  # see above

            made.append(StatusPage(daemon, loop))
        return made[0].html()

    return html


def _token_of(source: TokenSource) -> Callable[[], str]:
    return lambda: source.token


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def group_by_interval(intervals: Mapping[str, float]) -> str:
    """`every 1m: droplets, volumes; every 1h: billing`, shortest interval first."""
    groups: dict[float, list[str]] = {}
    for name, interval in intervals.items():
        groups.setdefault(interval, []).append(name)
    return "; ".join(f"every {format_duration(interval)}: {', '.join(names)}"
                     for interval, names in sorted(groups.items()))


def describe_plan(account: AccountRuntime) -> str:
    """An account's request plan before its first polls, when each poll counts as one request
    (the plan is measured from then on, and intervals stretch if it outgrows the budget)."""
    plan = account.plan
    text = (f"at least {plan.planned_per_hour:.0f} requests/hour planned (1 per poll until "
            f"measured) of a budget of {account.budget.per_hour}")
    if account.budget.replicas > 1:
        text += f" (1/{account.budget.replicas} of the token's: api.replicas)"
    if plan.stretched:
        text += f"; {describe_stretch(plan)} to fit"
    return text


def waiting_message(pending: Sequence[str], pairs: int) -> str:
    """`waiting for first polls: 3 of 24 pending (production/droplets, ...)`."""
    if not pending or "/" not in pending[0]:  # token verification, or the first rendering
        return f"waiting for {', '.join(pending) or 'the first polls'}"
    shown = ", ".join(pending[:PENDING_SHOWN]) + (", …" if len(pending) > PENDING_SHOWN else "")
    return f"waiting for first polls: {len(pending)} of {pairs} pending ({shown})"


def describe_expiry(expires_at: float, now: float) -> tuple[str, str]:
    """The log level and the words for a token's expiry: a date a person reads, and how soon.
    A token that expires within EXPIRY_WARNING_SECONDS is a warning."""
    when = datetime.fromtimestamp(expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    left = expires_at - now
    level = "warning" if left < EXPIRY_WARNING_SECONDS else "info"
    return level, f"the token expires on {when}, {_in(left)}"


def _in(seconds: float) -> str:
    if seconds <= 0:
        return "now"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"in {_count(max(minutes, 1), 'minute')}"
    hours = round(seconds / 3600)
    if hours < 48:
        return f"in {_count(hours, 'hour')}"
    return f"in {_count(round(seconds / 86400), 'day')}"
