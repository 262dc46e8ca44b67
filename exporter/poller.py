"""The poller: one asyncio task per (account, collector), plus a token watcher per account.

Each task polls at its collector's interval (with a little jitter so accounts do not fire together;
the first poll starts at once), publishes a Snapshot, and never raises. One poll is its own error
boundary (node_exporter's `execute()`): fetch -> parse -> samples -> encoded fragment, all or
nothing, the encoding off the event loop. Whatever fails in it is a failed poll of that collector
alone, logged once per distinct error, and keeps the last good data and fragment. A 401 pauses
every collector of that account until its token changes; a 403 disables the one collector whose
scope is missing. A changed token file is verified (token/info) before it is used; an invalid or
write-capable replacement is refused and the old token kept.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import Any

import structlog

from exporter.api import (
    AccountApi,
    ApiError,
    ScopeMissingError,
    TokenRejectedError,
    request_counter,
)
from exporter.budget import BACKGROUND_SHARE, RequestBudget, background
from exporter.clock import Clock
from exporter.collectors.base import Collector, PollContext
from exporter.collectors.fields import ShapeError
from exporter.config import AccountSettings, CollectorSettings, TokenPolicy
from exporter.exposition import SampleError, encode_collector
from exporter.planner import MONITORING_MAX_INTERVAL, PLANNING_SHARE, Overflow, Plan, plan
from exporter.scopes import ScopeReport, decide, needed_scopes, unverifiable, verify_token
from exporter.snapshot import Snapshot, SnapshotStore
from exporter.tokens import FileToken, TokenSource, TokenSourceError, source_name

JITTER = 0.05  # +-5 % of the interval
TOKEN_CHECK_INTERVAL = 5.0
# After a 401 (the account) or a 403 (one collector), try again after this long, doubling up to
# the cap: a transient refusal heals by itself, for at most a few requests an hour.
RETRY_FIRST = 15 * 60.0
RETRY_CAP = 60 * 60.0
# A whole poll (every page and follow-up request, and encoding) must end within this many times
# its last successful duration, never less than POLL_DEADLINE_MIN and never more than
# POLL_DEADLINE_MAX (also the deadline of a first poll): a poll fed a trickling body or an
# endless `next` chain fails visibly instead of running for an hour.
POLL_DEADLINE_FACTOR = 5.0
POLL_DEADLINE_MIN = 60.0
POLL_DEADLINE_MAX = 600.0
BACKGROUND_PACE = BACKGROUND_SHARE  # the share of the per-minute budget a monitoring poll gets
SLOW_ANSWER = 0.25  # seconds a poll of many requests allows each, however fast the budget
INPUT_WAIT = 1.0  # a collector that reads another's data looks for its first data this often


CANDIDATE_RETRY = 60.0  # a changed token token/info could not judge: asked again after this


def retry_delay(failures: int) -> float:
    """Seconds before the next try after `failures` refusals in a row (1 or more)."""
    return min(RETRY_CAP, RETRY_FIRST * 2.0 ** (max(failures, 1) - 1))

Log = structlog.stdlib.BoundLogger


class PollDeadlineError(Exception):
    """A whole poll ran past its deadline."""


class OverBudgetError(Exception):
    """A Monitoring API selection that cannot fit the budget even at the longest interval."""


def overflow_message(name: str, overflow: Overflow) -> str:
    fits = (f"at most {overflow.fits} of the selected objects fit" if overflow.fits is not None
            else "a smaller selection is needed")
    return (
        f"the {name} selection needs {overflow.needed_per_hour:.0f} requests per hour even "
        f"every {MONITORING_MAX_INTERVAL / 3600:g} h (the longest interval), but the budget "
        f"leaves it {overflow.available_per_hour:.0f}; {fits}. It is not polled: narrow "
        f"collectors.{name}.filter or .metrics, or raise api.requests_per_hour"
    )


def describe_stretch(current: Plan) -> str:
    parts = []
    if current.monitoring_factor > 1.0:
        parts.append(f"the Monitoring API collectors are stretched {current.monitoring_factor:.2f}x")
    if current.factor > 1.0:
        parts.append(f"every other interval is stretched {current.factor:.2f}x")
    return " and ".join(parts) or "no interval is stretched"


@dataclass
class CollectorState:
    """Whether a collector runs for an account: off after a 403 until the token changes or the
    next retry (`retry_at`, monotonic) finds the scope granted."""

    enabled: bool = True
    missing_scope: str | None = None
    refusals: int = 0  # 403s in a row
    retry_at: float | None = None


class AccountRuntime:
    """One account while the daemon runs: token source, API view, verdict, collector states."""

    def __init__(
        self,
        settings: AccountSettings,
        source: TokenSource,
        api: AccountApi,
        budget: RequestBudget,
        report: ScopeReport,
    ) -> None:
        self.settings = settings
        self.source = source
        self.api = api
        self.budget = budget
        self.report = report
        self.token_valid = True
        self.token_refusals = 0  # 401s in a row, for the retry back-off
        self.token_retry_at: float | None = None  # monotonic time to ask token/info again
        self.candidate_retry_at: float | None = None  # an unverifiable replacement: ask again then
        self.unreadable: str | None = None  # the token source's error, while it lasts
        self.collectors: dict[str, CollectorState] = {}
        # the collectors that run for this account, once a poller has looked (collectors_of)
        self.enabled: list[Collector[Any]] | None = None
        self.requests_per_poll: dict[str, int] = {}  # measured by the last poll of each collector
        self.per_object: dict[str, int] = {}  # monitoring: requests per selected object
        self.plan = Plan(0.0, 1.0)
        self._changed = asyncio.Event()

    @property
    def name(self) -> str:
        return self.settings.name

    def state(self, collector: str) -> CollectorState:
        return self.collectors.setdefault(collector, CollectorState())

    def notify(self) -> None:
        """Wake every task waiting for this account's token or collector state to change."""
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def wait_usable(self, collector: str, clock: Clock) -> None:
        """Return once the token is valid and the collector enabled; a collector disabled by a
        403 is enabled again for one probe poll when its retry is due."""
        while True:
            state = self.state(collector)
            if self.token_valid and state.enabled:
                return
            changed = self._changed
            if self.token_valid and state.retry_at is not None:
                delay = state.retry_at - clock.monotonic()
                if delay <= 0:
                    state.enabled, state.retry_at = True, None  # probe: a 403 disables it again
                    return
                await _first_of(changed.wait(), clock.sleep(delay))
            else:
                await changed.wait()


async def safe_verify(
    api: AccountApi, now: Callable[[], float], token: str | None
) -> ScopeReport:
    """`verify_token` as a boundary: whatever token/info answers, a report (an answer the
    exporter cannot read is `unverifiable`), never an exception."""
    try:
        return await verify_token(api, now, token)
    except Exception as exc:
        return unverifiable(f"token/info answered something unreadable ({type(exc).__name__}: {exc})")


async def _first_of(*waits: Any) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


class Poller:
    """Runs the polling and token-watching tasks of a set of accounts."""

    def __init__(
        self,
        *,
        collectors: Sequence[Collector[Any]],
        settings: Mapping[str, CollectorSettings],
        store: SnapshotStore,
        token_policy: TokenPolicy,
        clock: Clock,
        log: Log,
        remember_secret: Callable[[str], None],
        rng: random.Random | None = None,
        token_check_interval: float = TOKEN_CHECK_INTERVAL,
        encoder: Executor | None = None,
        deadline_bounds: tuple[float, float] = (POLL_DEADLINE_MIN, POLL_DEADLINE_MAX),
    ) -> None:
        self.all_collectors = tuple(collectors)
        # enabled for some account (by default: as the top-level settings say; see start())
        self.collectors = [c for c in collectors if settings[c.name].enabled]
        self.settings = settings
        self.store = store
        self.token_policy = token_policy
        self.clock = clock
        self.log = log
        self.remember_secret = remember_secret
        self.rng = rng or random.Random()  # noqa: S311  # jitter, not cryptography
        self.token_check_interval = token_check_interval
        self.encoder = encoder  # where fragments are encoded; None: the loop's default executor
        self.deadline_bounds = deadline_bounds
        self.accounts: list[AccountRuntime] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._failing: dict[tuple[str, str], str] = {}

    def settings_for(self, account: AccountRuntime, name: str) -> CollectorSettings:
        """One collector's settings for one account: the account's own `collectors:` over the
        top-level ones."""
        own = account.settings.collectors
        return (self.settings if own is None else own)[name]

    def collectors_of(self, account: AccountRuntime) -> list[Collector[Any]]:
        """The collectors that run for an account."""
        if account.enabled is None:
            account.enabled = [
                c for c in self.all_collectors if self.settings_for(account, c.name).enabled
            ]
        return account.enabled

    def start(self, accounts: Sequence[AccountRuntime]) -> None:
        self.accounts = list(accounts)
        for account in self.accounts:
            account.enabled = None  # settings may have changed (a reload)
        running = {c.name for a in self.accounts for c in self.collectors_of(a)}
        if self.accounts:
            self.collectors = [c for c in self.all_collectors if c.name in running]
        for account in self.accounts:
            self.replan(account)
            for collector in self.collectors_of(account):
                account.state(collector.name)
                self._tasks.append(asyncio.create_task(
                    self._run(account, collector), name=f"poll {account.name}/{collector.name}"
                ))
            self._tasks.append(asyncio.create_task(
                self._watch_token(account), name=f"token {account.name}"
            ))

    async def stop(self) -> None:
        # Cancel until every task is done: a cancellation can be swallowed by a connection
        # that is being opened at that moment (anyio), and one round would then hang forever.
        pending = set(self._tasks)
        while pending:
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=1.0)
        self._tasks = []

    def ready(self) -> tuple[bool, list[str]]:
        """Ready once every (account, collector) finished its first poll; else what is pending.
        The Monitoring API collectors do not count: their requests yield to every other
        collector's, so their first poll may wait a minute for its share of the budget."""
        pending = [
            f"{a.name}/{c.name}"
            for a in self.accounts
            for c in self.collectors_of(a)
            if not c.monitoring and self.store.get((a.name, c.name)) is None
        ]
        return not pending, pending

    def replan(self, account: AccountRuntime) -> Plan:
        """Recompute the account's plan; say so once when its intervals start or stop stretching,
        or stretch noticeably more."""
        enabled = self.collectors_of(account)
        intervals = {c.name: self.settings_for(account, c.name).interval for c in enabled}
        new = plan(
            account.requests_per_poll, intervals, account.budget.per_hour,
            monitoring={c.name for c in enabled if c.monitoring},
            per_object=account.per_object,
        )
        old, account.plan = account.plan, new
        for name, overflow in new.overflow.items():
            if name not in old.overflow:
                self.log.error(overflow_message(name, overflow), account=account.name,
                               collector=name)
        if new.stretched and (not old.stretched or new.factor > old.factor * 1.1
                              or new.monitoring_factor > old.monitoring_factor * 1.1):
            self.log.warning(
                f"the configured intervals would need {new.planned_per_hour:.0f} requests per "
                f"hour, above the {PLANNING_SHARE:.0%} of the budget of "
                f"{account.budget.per_hour} that is planned (the rest is kept for retries); "
                + describe_stretch(new)
                + ". Raise api.requests_per_hour (up to 5000), narrow the Monitoring API "
                "selections or lengthen the intervals of the busiest collectors",
                account=account.name,
                planned_requests_per_hour=round(new.planned_per_hour),
            )
        elif old.stretched and not new.stretched:
            self.log.info("intervals back to the configured ones: the plan fits the budget",
                          account=account.name)
        return new

    def interval_of(self, account: AccountRuntime, name: str) -> float:
        """The interval a collector runs at for an account: the plan's, stretched or not."""
        return account.plan.intervals.get(name, self.settings_for(account, name).interval)

    def context(self, account: AccountRuntime, collector: Collector[Any]) -> PollContext:
        """What one poll knows besides the API: settings, inputs and its own last data."""
        settings = self.settings_for(account, collector.name)
        inputs = {}
        for name in collector.inputs:
            snapshot = self.store.get((account.name, name))
            if snapshot is not None and snapshot.data is not None:
                inputs[name] = snapshot.data
        previous = self.store.get((account.name, collector.name))
        return PollContext(
            selection=settings.selection,
            metrics=settings.metrics or collector.chosen_metrics,
            inputs=inputs,
            previous=previous.data if previous is not None else None,
            interval=self.interval_of(account, collector.name),
            request_cap=self.request_cap(account, collector),
        )

    def request_cap(self, account: AccountRuntime, collector: Collector[Any]) -> int | None:
        """A stretched Monitoring API collector keeps polling at its own interval and reads a
        slice of its objects each time, so each object is read every stretched interval and
        the requests are spread evenly instead of coming in one burst; None: read them all."""
        if not collector.monitoring:
            return None
        own = self.settings_for(account, collector.name).interval
        planned = self.interval_of(account, collector.name)
        cost = account.requests_per_poll.get(collector.name)
        if cost is None or planned <= own * 1.0001:
            return None
        return max(1, math.ceil(cost * own / planned))

    async def _wait_inputs(self, account: AccountRuntime, collector: Collector[Any]) -> None:
        """Before its first poll, a collector that reads others' data waits for their first
        polls to end (failed or not: an input that has no data, say for lack of its scope,
        leaves this one with nothing to read, never waiting forever)."""
        while any(self.store.get((account.name, name)) is None for name in collector.inputs):
            await self.clock.sleep(INPUT_WAIT)

    async def _run(self, account: AccountRuntime, collector: Collector[Any]) -> None:
        await self._wait_inputs(account, collector)
        while True:
            await account.wait_usable(collector.name, self.clock)
            started = self.clock.monotonic()
            await self.poll_once(account, collector)
            interval = self.interval_of(account, collector.name)
            if collector.monitoring:  # stretched by slicing (request_cap), or refused: own pace
                interval = self.settings_for(account, collector.name).interval
            next_start = started + interval * (1 + self.rng.uniform(-JITTER, JITTER))
            await self.clock.sleep(next_start - self.clock.monotonic())

    async def poll_once(self, account: AccountRuntime, collector: Collector[Any]) -> Snapshot:
        """Poll once and publish the result; errors end up in the snapshot, never raised."""
        key = (account.name, collector.name)
        log = self.log.bind(account=account.name, collector=collector.name)
        started = self.clock.monotonic()
        previous = self.store.get(key)
        requests = [0]
        counting = request_counter.set(requests)
        quiet = background.set(collector.monitoring)
        bug: Exception | None = None
        said = False  # a 401 or 403 has its own log line; no second one for the same poll
        try:
            context = self.context(account, collector)
            if self._estimate(account, collector, context):
                context = replace(context, interval=self.interval_of(account, collector.name),
                                  request_cap=self.request_cap(account, collector))
            overflow = account.plan.overflow.get(collector.name)
            if overflow is not None:
                raise OverBudgetError(overflow_message(collector.name, overflow))
            data, fragment = await self._collect(account, collector, previous, context)
            error = None
        except Exception as exc:  # the poll's boundary: whatever happened, this poll failed
            error, said, bug = self._failure(account, collector, exc, log)
        finally:
            background.reset(quiet)
            request_counter.reset(counting)
        duration = self.clock.monotonic() - started
        now = self.clock.time()
        if error is None:
            self._scope_granted(account, collector, log)
            if collector.requests_for is None:  # a known cost stays the planner's, not a slice's
                account.requests_per_poll[collector.name] = requests[0]
                self.replan(account)
            snapshot = Snapshot(data, now, None, now, duration, fragment, self.clock.monotonic())
            if key in self._failing:
                del self._failing[key]
                log.info("collector recovered", duration_seconds=round(duration, 3))
        else:
            snapshot = Snapshot(
                previous.data if previous else None,
                previous.fetched_at if previous else None,
                error,
                now,
                duration,
                previous.fragment if previous else None,
                previous.fetched_mono if previous else None,
            )
            if self._failing.get(key) != error:
                self._failing[key] = error
                if not said:
                    self._report_failure(log, error, bug, has_data=snapshot.fetched_at is not None)
        self.store.publish(key, snapshot)
        return snapshot

    def _failure(
        self, account: AccountRuntime, collector: Collector[Any], exc: Exception, log: Log
    ) -> tuple[str, bool, Exception | None]:
        """Why a poll failed, whether that was logged already, and the exception if it is a bug."""
        if isinstance(exc, TokenRejectedError):
            self._token_rejected(account, exc, log)
            return str(exc), True, None
        if isinstance(exc, ScopeMissingError):
            self._scope_missing(account, collector, exc, log)
            return str(exc), True, None
        if isinstance(exc, OverBudgetError):
            return str(exc), True, None  # said by replan(), once
        if isinstance(exc, ApiError | PollDeadlineError):
            return str(exc), False, None
        if isinstance(exc, ShapeError):
            return f"unexpected API answer: {exc}", False, None
        if isinstance(exc, SampleError):
            return f"unusable value in the API answer: {exc}", False, None
        # a collector bug ends this poll only, never the task
        return f"internal error: {type(exc).__name__}: {exc}", False, exc

    def _estimate(
        self, account: AccountRuntime, collector: Collector[Any], context: PollContext
    ) -> bool:
        """A collector whose cost is known before it runs (the Monitoring API: requests per
        object x objects selected) tells the planner before it polls, not after; whether the
        plan changed."""
        if collector.requests_for is None:
            return False
        estimate = collector.requests_for(context)
        if collector.requests_per_object is not None:
            account.per_object[collector.name] = collector.requests_per_object(context)
        if account.requests_per_poll.get(collector.name) == estimate:
            return False
        account.requests_per_poll[collector.name] = estimate
        self.replan(account)
        return True

    async def _collect(
        self, account: AccountRuntime, collector: Collector[Any], previous: Snapshot | None,
        context: PollContext,
    ) -> tuple[Any, Mapping[str, bytes]]:
        """Fetch and parse, then make, encode and compress the samples off the event loop; when
        the data equals the last good data, its fragment is kept instead of encoded again, and
        a family whose lines did not change keeps its compressed member."""
        deadline = self.poll_deadline(previous)
        if collector.requests_for is not None:  # hundreds of paced requests take their time
            expected = context.request_cap or account.requests_per_poll.get(collector.name, 1)
            pace = max(1.0, account.budget.per_minute * BACKGROUND_PACE) / 60.0
            deadline = max(deadline, 2 * expected / pace, expected * SLOW_ANSWER)
        try:
            async with asyncio.timeout(deadline):
                data = await collector.collect(account.api, context)
                if (previous is not None and previous.fragment is not None
                        and previous.data == data):
                    return previous.data, previous.fragment
                fragment = await asyncio.get_running_loop().run_in_executor(
                    self.encoder, encode_collector, account.name, collector, data,
                    previous.fragment if previous is not None else None,
                )
        except TimeoutError:
            raise PollDeadlineError(
                f"the poll did not end within its deadline of {deadline:g} s (every page and "
                "follow-up request included); the API answers too slowly or never ends a list"
            ) from None
        return data, fragment

    def poll_deadline(self, previous: Snapshot | None) -> float:
        """How long a poll may take: a few times the last successful one, within bounds."""
        least, most = self.deadline_bounds
        if previous is None or previous.fetched_at is None or previous.error is not None:
            return most
        return min(most, max(least, POLL_DEADLINE_FACTOR * previous.duration))

    @staticmethod
    def _report_failure(log: Log, error: str, bug: Exception | None, *, has_data: bool) -> None:
        """One log line per new error of a collector (not one per poll)."""
        event = "poll failed; keeping the last good data" if has_data else "poll failed; no data yet"
        if bug is not None:
            log.error(event, error=error, exc_info=bug,
                      hint="this is a bug in the exporter, please report it")
        else:
            log.warning(event, error=error)

    def _token_rejected(self, account: AccountRuntime, exc: ApiError, log: Log) -> None:
        if not account.token_valid:
            return
        account.token_valid = False
        account.token_refusals += 1
        account.token_retry_at = self.clock.monotonic() + retry_delay(account.token_refusals)
        account.notify()
        resume = (
            "and at once when the token file changes"
            if isinstance(account.settings.token, FileToken)
            else "or at once after SIGHUP"
        )
        where = source_name(account.settings.token, account.settings.origin)
        log.error(
            f"DigitalOcean rejected the token (401); polling of this account stopped. Create a new "
            f"read-only token and update {where}. Polling resumes when "
            f"token/info accepts the token again (asked in {retry_delay(1) / 60:.0f} minutes, then "
            f"less often) {resume}",
            request_id=exc.request_id,
        )

    def _scope_missing(
        self, account: AccountRuntime, collector: Collector[Any], exc: ApiError, log: Log
    ) -> None:
        state = account.state(collector.name)
        if not state.enabled:
            return
        first = state.missing_scope is None
        state.enabled = False
        state.missing_scope = collector.scope
        state.refusals += 1
        state.retry_at = self.clock.monotonic() + retry_delay(state.refusals)
        if not first:  # a retry found the scope still missing: said already, try later again
            log.debug("scope still missing; trying again later",
                      retry_in_seconds=retry_delay(state.refusals))
            return
        scopes = collector.scope.replace(" ", " and ")
        log.error(
            f"collector disabled for this account: the token lacks the {scopes} scope "
            f"(HTTP 403 from {exc.endpoint}); the other collectors keep running. Add the scope "
            f"to the token to enable it; it is tried again in {retry_delay(1) / 60:.0f} minutes "
            "(then less often), and at once when the token changes",
            scope=collector.scope,
            request_id=exc.request_id,
        )

    def _scope_granted(self, account: AccountRuntime, collector: Collector[Any], log: Log) -> None:
        state = account.state(collector.name)
        if state.missing_scope is not None:
            log.info("collector enabled again: the token now has its scope",
                     scope=state.missing_scope)
        state.missing_scope, state.refusals, state.retry_at = None, 0, None

    async def _watch_token(self, account: AccountRuntime) -> None:
        """Every few seconds: a changed token file is verified and taken; a token DigitalOcean
        refused is asked about again when its retry is due. Nothing raised here ends the task."""
        log = self.log.bind(account=account.name)
        failing: str | None = None
        while True:
            await self.clock.sleep(self.token_check_interval)
            try:
                await self._check_token(account, log)
                failing = None
            except Exception as exc:  # the watcher's boundary: say it once, keep watching
                error = f"{type(exc).__name__}: {exc}"
                if failing != error:
                    failing = error
                    log.error("checking the token failed; keeping the current token and "
                              "checking again", error=error, exc_info=exc)

    async def _check_token(self, account: AccountRuntime, log: Log) -> None:
        try:
            candidate = account.source.changed_candidate()
        except TokenSourceError as exc:
            if account.unreadable != str(exc):
                account.unreadable = str(exc)
                log.warning("token source unreadable; keeping the current token", error=str(exc))
            return
        account.unreadable = None
        now = self.clock.monotonic()
        if candidate is not None:
            if account.candidate_retry_at is None or now >= account.candidate_retry_at:
                await self.try_new_token(account, candidate, log)
        elif (not account.token_valid and account.token_retry_at is not None
              and now >= account.token_retry_at):
            await self._recheck_refused_token(account, log)

    async def _recheck_refused_token(self, account: AccountRuntime, log: Log) -> None:
        """After a 401, ask token/info once whether the same token is accepted again."""
        report = await safe_verify(account.api, self.clock.time, None)
        if report.verdict in ("invalid", "unverifiable"):
            account.token_refusals += 1
            account.token_retry_at = self.clock.monotonic() + retry_delay(account.token_refusals)
            log.debug("the token is still refused", reason=report.reason)
            return
        log.info("DigitalOcean accepts the token again; polling resumes")
        account.token_valid, account.token_refusals, account.token_retry_at = True, 0, None
        account.notify()

    async def try_new_token(self, account: AccountRuntime, candidate: str, log: Log) -> bool:
        """Verify a changed token and switch to it only if the token policy allows it."""
        self.remember_secret(candidate)
        report = await safe_verify(account.api, self.clock.time, candidate)
        if report.verdict == "unverifiable":
            # never adopt a replacement nobody could check: it may be write-capable
            account.candidate_retry_at = self.clock.monotonic() + CANDIDATE_RETRY
            log.warning(
                "could not verify the changed token; the previous token stays in use, and the "
                f"new one is checked again in {CANDIDATE_RETRY:.0f} s",
                reason=report.reason,
            )
            return False
        account.candidate_retry_at = None
        decision = decide(
            account.name,
            source_name(account.settings.token, account.settings.origin),
            report,
            self.token_policy.write_scopes,
            self.token_policy.unverifiable,
            secret_policy=self.token_policy.secret_scopes,
            needed=needed_scopes(self.collectors_of(account)),
        )
        if not decision.allowed:
            account.source.reject(candidate)
            log.error(decision.message + " The previous token stays in use.")
            return False
        account.source.accept(candidate)
        account.report = report
        account.token_valid, account.token_refusals, account.token_retry_at = True, 0, None
        for state in account.collectors.values():
            state.enabled, state.missing_scope, state.refusals, state.retry_at = True, None, 0, None
        if decision.level == "warning":
            log.warning(decision.message)
        log.info("token changed; using the new token", read_only=report.read_only)
        account.notify()
        return True
