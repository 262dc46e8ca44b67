"""The status page at `/`: what the exporter is doing, for a person, in one server-rendered page.

Per account: the token's verdict (read-only, expiry, a scopes summary), the request budget plan
and each collector's state (last success and its age, the error, the interval in effect,
requests per hour). At the top: readiness, and a red banner naming every failing collector.
Plain HTML with inline CSS: no script, no external asset, so it works behind the same TLS and
basic auth as `/metrics` and in any browser.

Two halves. `status_model` reads the running daemon into frozen `StatusModel` records; it runs
on the event loop (the poller's state is the loop's), which `StatusPage` asks from the HTTP
thread with a deadline. `render_page` is a pure function of the model: every string from a
config, a token or the API goes through `html.escape` (an error can quote an HTML proxy page),
and known secrets are redacted before that. No token, or any part of one, is ever in the model.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from exporter import __version__
from exporter.discovery import PATHS as DISCOVERY_PATHS
from exporter.discovery import PREFIX as DISCOVERY_PREFIX
from exporter.scopes import Verdict, is_needed, missing_scopes, needed_scopes, scope_table

if TYPE_CHECKING:
    from exporter.clock import Clock
    from exporter.daemon import ServeOptions
    from exporter.logs import Redactor
    from exporter.poller import AccountRuntime, Poller
    from exporter.snapshot import SnapshotStore

REPOSITORY = "https://github.com/digitalocean-exporter/digitalocean-exporter"
DOC_LINKS = (
    ("Documentation", f"{REPOSITORY}#readme"),
    ("Collectors", f"{REPOSITORY}/blob/main/docs/collectors.md"),
    ("Deployment", f"{REPOSITORY}/blob/main/docs/deploy.md"),
    ("Grafana dashboards", f"{REPOSITORY}/tree/main/grafana/dashboards"),
    ("Alert rules", f"{REPOSITORY}/blob/main/deploy/prometheus/alerts.yml"),
)
EXPIRY_WARNING_SECONDS = 7 * 86400.0  # a token expiring sooner is shown in amber
PAGE_DEADLINE_SECONDS = 2.0  # how long the HTTP thread waits for the event loop
SHOWN_SCOPES = 6  # scopes named in a summary line; the rest are counted
SHOWN_HELD = 12  # held scopes listed per account

CollectorState = Literal["ok", "failing", "disabled", "pending"]


@dataclass(frozen=True)
class CollectorStatus:
    """One (account, collector) as the page shows it."""

    name: str
    state: CollectorState
    last_success: float | None = None  # wall time of the last good poll
    error: str | None = None  # why the latest poll failed
    interval: float | None = None  # in effect (stretched when over budget); None: derived
    configured_interval: float | None = None
    requests_per_hour: float | None = None  # None until a poll measured its cost
    duration: float | None = None  # seconds the latest poll took
    stale: bool = False  # the last good data is too old and no longer served


@dataclass(frozen=True)
class TokenStatus:
    verdict: Verdict
    valid: bool = True  # False after a 401 stopped the account's polling
    expires_at: float | None = None
    scopes: tuple[str, ...] = ()
    write_scopes: tuple[str, ...] = ()
    secret_scopes: tuple[str, ...] = ()
    excess_scopes: tuple[str, ...] = ()  # held, needed by no enabled collector
    missing_scopes: tuple[str, ...] = ()  # needed by an enabled collector, held by no scope
    reason: str = ""  # why unverifiable or invalid
    unreadable: str | None = None  # the token source's error, while it lasts


@dataclass(frozen=True)
class BudgetStatus:
    per_hour: int
    planned_per_hour: float
    factor: float = 1.0
    used_last_hour: int = 0
    rate_limit_remaining: int | None = None
    rate_limit_limit: int | None = None
    replicas: int = 1  # api.replicas: this process keeps 1/replicas of the token's budget


@dataclass(frozen=True)
class AccountStatus:
    name: str
    token: TokenStatus
    budget: BudgetStatus
    collectors: tuple[CollectorStatus, ...]


@dataclass(frozen=True)
class StatusModel:
    version: str
    telemetry_path: str
    now: float  # wall time the model was read
    ready: bool = False
    pending: tuple[str, ...] = ()  # what readiness waits for
    accounts: tuple[AccountStatus, ...] = ()
    problem: str | None = None  # why the model could not be read (the page still renders)
    shard: str | None = None  # `shard 1 of 3: 2 of 7 accounts (...)`; None when not sharded

    def collectors_in(self, state: CollectorState) -> list[tuple[str, CollectorStatus]]:
        return [(a.name, c) for a in self.accounts for c in a.collectors if c.state == state]


class _Derived(Protocol):
    @property
    def derived_status(self) -> Mapping[tuple[str, str], str | None]: ...


class DaemonView(Protocol):
    """What the page reads of the running daemon (`exporter.daemon.Daemon` has all of it)."""

    @property
    def options(self) -> ServeOptions: ...

    @property
    def redactor(self) -> Redactor: ...

    @property
    def poller(self) -> Poller | None: ...

    @property
    def store(self) -> SnapshotStore: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def renderer(self) -> _Derived: ...

    def readiness(self) -> tuple[bool, Sequence[str]]: ...

    def shard_summary(self) -> str | None: ...


# -- reading the daemon (on the event loop) ------------------------------------------------


def status_model(
    daemon: DaemonView, version: str, telemetry_path: str, redact: Callable[[str], str] = str
) -> StatusModel:
    """The daemon's state now. Call on the event loop: the poller's state is the loop's."""
    ready, pending = daemon.readiness()
    poller = daemon.poller
    now = daemon.clock.time()
    accounts: tuple[AccountStatus, ...] = ()
    if poller is not None:
        derived = daemon.renderer.derived_status
        accounts = tuple(_account(daemon, poller, a, derived, redact) for a in poller.accounts)
    return StatusModel(version, telemetry_path, now, ready, tuple(pending), accounts,
                       shard=daemon.shard_summary())


def _account(
    daemon: DaemonView,
    poller: Poller,
    account: AccountRuntime,
    derived: Mapping[tuple[str, str], str | None],
    redact: Callable[[str], str],
) -> AccountStatus:
    report = account.report
    table = scope_table()
    enabled = poller.collectors_of(account)
    needed = needed_scopes(enabled)
    missing = missing_scopes(report.scopes, enabled, table) if report.scopes else {}
    token = TokenStatus(
        verdict=report.verdict,
        valid=account.token_valid,
        expires_at=report.expires_at,
        scopes=report.scopes,
        write_scopes=report.write_scopes,
        secret_scopes=report.secret_scopes,
        excess_scopes=tuple(s for s in report.scopes if not is_needed(s, needed, table)),
        missing_scopes=tuple(sorted({s for scopes in missing.values() for s in scopes})),
        reason=redact(report.reason),
        unreadable=redact(account.unreadable) if account.unreadable else None,
    )
    rate = account.api.rate_limit
    budget = BudgetStatus(
        per_hour=account.budget.per_hour,
        planned_per_hour=account.plan.planned_per_hour,
        factor=account.plan.factor,
        used_last_hour=account.budget.used_last_hour(),
        rate_limit_remaining=rate.remaining,
        rate_limit_limit=rate.limit,
        replicas=account.budget.replicas,
    )
    monotonic = daemon.clock.monotonic()
    collectors = []
    for collector in enabled:
        settings = poller.settings_for(account, collector.name)
        interval = poller.interval_of(account, collector.name)
        snapshot = daemon.store.get((account.name, collector.name))
        cost = account.requests_per_poll.get(collector.name)
        state: CollectorState
        if not account.state(collector.name).enabled:
            state = "disabled"
        elif snapshot is None:
            state = "pending"
        else:
            state = "ok" if snapshot.ok else "failing"
        collectors.append(CollectorStatus(
            name=collector.name,
            state=state,
            last_success=snapshot.fetched_at if snapshot else None,
            error=redact(snapshot.error) if snapshot and snapshot.error else None,
            interval=interval,
            configured_interval=settings.interval,
            requests_per_hour=max(1, cost) * 3600.0 / interval if cost is not None else None,
            duration=snapshot.duration if snapshot else None,
            stale=snapshot is not None and snapshot.fetched_at is not None
            and not snapshot.fresh(monotonic, settings.stale_after),
        ))
    for (name, derived_name), error in sorted(derived.items()):
        if name == account.name:
            collectors.append(CollectorStatus(
                derived_name, "ok" if error is None else "failing",
                error=redact(error) if error else None,
            ))
    return AccountStatus(account.name, token, budget, tuple(collectors))


class StatusPage:
    """The page for the HTTP threads: reads the model on the daemon's event loop, with a
    deadline, and renders it. A loop that does not answer is itself what the page reports."""

    def __init__(
        self,
        daemon: DaemonView,
        loop: asyncio.AbstractEventLoop,
        version: str = __version__,
        deadline: float = PAGE_DEADLINE_SECONDS,
    ) -> None:
        self._daemon = daemon
        self._loop = loop
        self._version = version
        self._telemetry_path = daemon.options.telemetry_path
        self._redact = daemon.redactor.redact
        self._deadline = deadline

    def model(self) -> StatusModel:
        async def read() -> StatusModel:
            return status_model(self._daemon, self._version, self._telemetry_path, self._redact)

        reading = read()
        try:
            future = asyncio.run_coroutine_threadsafe(reading, self._loop)
        except RuntimeError:  # the loop is closed: the daemon is stopping
            reading.close()
            return self._problem("the exporter is stopping")
        try:
            return future.result(self._deadline)
        except TimeoutError:
            future.cancel()
            return self._problem(
                f"the exporter's event loop did not answer within {self._deadline:g} s; polls "
                "and token checks are stalled (the served metrics are the last rendered ones)"
            )
        except Exception as exc:  # the page's boundary: a bug here must not break `/`
            return self._problem(f"the status could not be read: {type(exc).__name__}: {exc}")

    def _problem(self, text: str) -> StatusModel:
        return StatusModel(self._version, self._telemetry_path, time.time(),
                           problem=self._redact(text))

    def html(self) -> str:
        model = self.model()
        try:
            return render_page(model)
        except Exception as exc:  # a bug in the page must not take `/` down with it
            return render_page(self._problem(
                f"the status page could not be rendered: {type(exc).__name__}: {exc}"))


# -- rendering (pure) -----------------------------------------------------------------------

_CSS = """
:root{--ok:#1a7f37;--ok-bg:#dafbe1;--bad:#cf222e;--bad-bg:#ffebe9;--warn:#9a6700;
--warn-bg:#fff8c5;--muted:#57606a;--line:#d0d7de;--head:#f6f8fa;--brand:#0069ff}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
background:#f6f8fa}
header{background:#fff;border-bottom:1px solid var(--line);padding:14px 24px;display:flex;
flex-wrap:wrap;align-items:center;gap:8px 20px}
header h1{font-size:20px;margin:0;color:var(--brand)}
header .version{color:var(--muted)}
nav{display:flex;flex-wrap:wrap;gap:4px 14px;margin-left:auto}
nav a{color:var(--brand);text-decoration:none}nav a:hover{text-decoration:underline}
main{max-width:1200px;margin:0 auto;padding:16px 24px 40px}
.summary{display:flex;flex-wrap:wrap;gap:8px;margin:4px 0 16px}
.badge{display:inline-block;border-radius:999px;padding:2px 10px;font-weight:600;font-size:13px;
border:1px solid transparent;white-space:nowrap}
.badge.ok{background:var(--ok-bg);color:var(--ok);border-color:#aceebb}
.badge.bad{background:var(--bad-bg);color:var(--bad);border-color:#ffcecb}
.badge.warn{background:var(--warn-bg);color:var(--warn);border-color:#eed888}
.badge.muted{background:#eaeef2;color:var(--muted)}
.alert{background:var(--bad-bg);border:1px solid #ffcecb;border-left:6px solid var(--bad);
border-radius:6px;padding:10px 14px;margin:0 0 16px}
.alert h2{margin:0 0 6px;font-size:16px;color:var(--bad)}
.alert ul{margin:0;padding-left:20px}.alert a{color:var(--bad);font-weight:600}
.account{background:#fff;border:1px solid var(--line);border-radius:8px;margin:0 0 20px;
overflow:hidden}
.account>h2{margin:0;padding:10px 16px;font-size:17px;background:var(--head);
border-bottom:1px solid var(--line);display:flex;flex-wrap:wrap;gap:8px;align-items:center}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:0 32px;
padding:10px 16px;border-bottom:1px solid var(--line)}
.facts p{margin:3px 0;display:grid;grid-template-columns:110px 1fr;align-items:baseline}
.facts b{color:var(--muted);font-weight:600}.facts code{margin-right:4px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#eaeef2;border-radius:4px;
padding:0 4px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 10px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);
background:#fff;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.failing td{background:var(--bad-bg)}tr.failing td:first-child{box-shadow:inset 4px 0 var(--bad)}
tr.disabled td{background:var(--warn-bg)}tr.disabled td:first-child{box-shadow:inset 4px 0 #d4a72c}
td.error{color:var(--bad);word-break:break-word;max-width:520px}
.note{color:var(--warn)}
.muted{color:var(--muted)}
footer{color:var(--muted);font-size:12px;text-align:center;padding:0 0 20px}
"""


def render_page(model: StatusModel) -> str:
    """The whole page for `model`."""
    failing = model.collectors_in("failing")
    title = "DigitalOcean Exporter"
    if failing:
        title = f"({len(failing)} failing) {title}"
    parts = [
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        _header(model),
        "<main>",
        _summary(model),
        _failing_banner(model, failing),
    ]
    if model.shard is not None:
        parts.append(f'<p id="shard">This exporter is {_e(model.shard)}.</p>')
    parts += [_account_section(model, account) for account in model.accounts]
    if not model.accounts and model.problem is None and model.ready:
        parts.append('<p class="muted">This shard owns no account of the configuration: it '
                     "serves only the exporter's own metrics.</p>")
    elif not model.accounts and model.problem is None:
        parts.append('<p class="muted">No account is being polled yet: the tokens are being '
                     "verified.</p>")
    parts.append(f"</main><footer>Read at {_e(_utc(model.now))}. Reload the page to refresh; "
                 "the same data is on the metrics page as <code>digitalocean_collector_*</code>, "
                 "<code>digitalocean_token_*</code> and <code>digitalocean_api_*</code>."
                 "</footer></body></html>\n")
    return "".join(parts)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _header(model: StatusModel) -> str:
    links = [(f"Metrics ({model.telemetry_path})", model.telemetry_path),
             ("Health", "/healthz"), ("Readiness", "/readyz"),
             *((f"Discovery: {path.removeprefix(DISCOVERY_PREFIX)}", path)
               for path in DISCOVERY_PATHS),
             *DOC_LINKS]
    nav = "".join(f'<a href="{_e(href)}">{_e(text)}</a>' for text, href in links)
    return (f'<header><h1>DigitalOcean Exporter</h1><span class="version">version '
            f"{_e(model.version)}</span><nav>{nav}</nav></header>")


def _badge(kind: str, text: str, ident: str = "") -> str:
    attribute = f' id="{_e(ident)}"' if ident else ""
    return f'<span class="badge {kind}"{attribute}>{_e(text)}</span>'


def _summary(model: StatusModel) -> str:
    badges = []
    if model.problem is not None:
        badges.append(_badge("bad", model.problem, "problem"))
    elif model.ready:
        badges.append(_badge("ok", "Ready", "readiness"))
    else:
        waiting = ", ".join(model.pending[:SHOWN_SCOPES])
        more = len(model.pending) - SHOWN_SCOPES
        if more > 0:
            waiting += f" and {more} more"
        badges.append(_badge("warn", f"Not ready: waiting for {waiting}", "readiness"))
    if model.accounts:
        badges.append(_badge("muted", _count(len(model.accounts), "account")))
    counts: tuple[tuple[CollectorState, str, str], ...] = (
        ("failing", "bad", "failing"), ("disabled", "warn", "disabled (missing scope)"),
        ("pending", "muted", "waiting for a first poll"), ("ok", "ok", "OK"),
    )
    for state, kind, text in counts:
        found = len(model.collectors_in(state))
        if found:
            badges.append(_badge(kind, f"{_count(found, 'collector')} {text}", f"count-{state}"))
    tokens = [a for a in model.accounts if not a.token.valid or a.token.verdict != "read_only"]
    if tokens:
        badges.append(_badge("bad" if any(not a.token.valid for a in tokens) else "warn",
                             f"{_count(len(tokens), 'token')} not verified read-only or rejected"))
    return f'<div class="summary">{"".join(badges)}</div>'


def _failing_banner(model: StatusModel, failing: list[tuple[str, CollectorStatus]]) -> str:
    if not failing:
        return ""
    items = "".join(
        f'<li><a href="#{_e(_row_id(account, c.name))}">{_e(account)} / {_e(c.name)}</a>: '
        f"{_e(c.error or 'failed')}</li>"
        for account, c in failing
    )
    return (f'<section class="alert" id="failing"><h2>{_e(_count(len(failing), "collector"))} '
            f"failing</h2><ul>{items}</ul></section>")


def _account_section(model: StatusModel, account: AccountStatus) -> str:
    token = account.token
    failing = sum(1 for c in account.collectors if c.state == "failing")
    badges = [_verdict_badge(token)]
    if failing:
        badges.append(_badge("bad", f"{failing} failing"))
    rows = "".join(_collector_row(model.now, account.name, c) for c in account.collectors)
    return (
        f'<section class="account" id="{_e("account-" + account.name)}">'
        f"<h2>{_e(account.name)} {''.join(badges)}</h2>"
        f'<div class="facts"><div>{_token_facts(model.now, token)}</div>'
        f"<div>{_budget_facts(account.budget)}</div></div>"
        "<table><thead><tr><th>Collector</th><th>State</th><th>Last success</th>"
        '<th class="num">Interval</th><th class="num">Requests/h</th>'
        '<th class="num">Poll took</th><th>Error</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></section>"
    )


def _verdict_badge(token: TokenStatus) -> str:
    if not token.valid:
        return _badge("bad", "token rejected (401)")
    return {
        "read_only": _badge("ok", "read-only token"),
        "write": _badge("bad", "write-capable token"),
        "unverifiable": _badge("warn", "token unverifiable"),
        "invalid": _badge("bad", "token invalid"),
    }[token.verdict]


def _token_facts(now: float, token: TokenStatus) -> str:
    lines = []
    verdict = {
        "read_only": "read-only, verified with token/info",
        "write": "can change infrastructure: " + ", ".join(token.write_scopes),
        "unverifiable": f"could not be verified: {token.reason}",
        "invalid": f"invalid: {token.reason}",
    }[token.verdict]
    if not token.valid:
        verdict = "rejected by DigitalOcean (HTTP 401); polling of this account stopped"
    lines.append(_fact("Token", _e(verdict)))
    if token.unreadable:
        lines.append(_fact("Token source", "unreadable, the previous token stays in use: "
                           + _e(token.unreadable), "note"))
    if token.expires_at is None:
        expiry = '<span class="muted">does not expire</span>' if token.verdict != "unverifiable" \
            else '<span class="muted">unknown</span>'
    else:
        left = token.expires_at - now
        kind = "bad" if left <= 0 else "warn" if left < EXPIRY_WARNING_SECONDS else "ok"
        when = f"expired {_age(-left)} ago" if left <= 0 else f"in {_age(left)}"
        expiry = f"{_e(_utc(token.expires_at))} {_badge(kind, when)}"
    lines.append(_fact("Expires", expiry))
    lines.append(_fact("Scopes", _scopes_summary(token)))
    return "".join(lines)


def _scopes_summary(token: TokenStatus) -> str:
    if not token.scopes:
        return '<span class="muted">not listed by token/info</span>'
    shown = token.scopes[:SHOWN_HELD]
    listing = " ".join(f"<code>{_e(s)}</code>" for s in shown)
    if len(token.scopes) > len(shown):
        listing += f" and {len(token.scopes) - len(shown)} more"
    facts = []
    if token.missing_scopes:
        facts.append(_badge("warn", f"missing: {_names(token.missing_scopes)}"))
    if token.excess_scopes:
        facts.append(_badge("muted", f"{len(token.excess_scopes)} not needed"))
    if token.secret_scopes:
        facts.append(_badge("warn", f"reveals secrets: {_names(token.secret_scopes)}"))
    return " ".join([listing, *facts])


def _fact(label: str, value: str, kind: str = "") -> str:
    """One line of an account's facts; `value` is HTML already."""
    attribute = f' class="{kind}"' if kind else ""
    return f"<p{attribute}><b>{_e(label)}</b><span>{value}</span></p>"


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:SHOWN_SCOPES])
    more = len(names) - SHOWN_SCOPES
    return shown + (f" and {more} more" if more > 0 else "")


def _budget_facts(budget: BudgetStatus) -> str:
    share = budget.planned_per_hour / budget.per_hour if budget.per_hour else 0.0
    plan = (f"{budget.planned_per_hour:,.0f} requests/h planned of a {budget.per_hour:,}/h "
            f"budget ({share:.0%})")
    if budget.replicas > 1:
        plan += (f"; the token's budget is shared by {budget.replicas} replicas "
                 "(api.replicas), this one keeps its share")
    if budget.factor > 1.0:
        plan_html = _e(plan) + " " + _badge("warn", f"intervals stretched {budget.factor:.2f}x")
    else:
        plan_html = _e(plan)
    lines = [_fact("Request plan", plan_html),
             _fact("Used", f"{budget.used_last_hour:,} requests in the last hour")]
    if budget.rate_limit_remaining is not None and budget.rate_limit_limit is not None:
        lines.append(_fact("Rate limit", f"{budget.rate_limit_remaining:,} of "
                           f"{budget.rate_limit_limit:,} left (DigitalOcean's hourly limit)"))
    return "".join(lines)


_STATE_BADGES: Mapping[CollectorState, tuple[str, str]] = {
    "ok": ("ok", "OK"), "failing": ("bad", "FAILING"), "disabled": ("warn", "disabled"),
    "pending": ("muted", "first poll"),
}


def _collector_row(now: float, account: str, c: CollectorStatus) -> str:
    kind, text = _STATE_BADGES[c.state]
    state = _badge(kind, text)
    if c.stale:
        state += " " + _badge("bad", "data stale")
    if c.interval is None:
        last = "&ndash;"
    elif c.last_success is None:
        last = '<span class="muted">never</span>'
    else:
        last = (f'<span title="{_e(_utc(c.last_success))}">{_e(_age(now - c.last_success))} '
                "ago</span>")
    if c.interval is None:
        interval = '<span class="muted">with its inputs</span>'
    else:
        interval = _e(_duration(c.interval))
        if c.configured_interval is not None and c.interval > c.configured_interval * 1.001:
            interval += f' <span class="muted">(set {_e(_duration(c.configured_interval))})</span>'
    per_hour = "&ndash;" if c.requests_per_hour is None else _e(f"{c.requests_per_hour:,.1f}")
    took = "&ndash;" if c.duration is None else _e(f"{c.duration:.2f} s")
    error = "" if c.error is None else _e(c.error)
    return (f'<tr class="{c.state}" id="{_e(_row_id(account, c.name))}"><td>{_e(c.name)}</td>'
            f"<td>{state}</td><td>{last}</td><td class=\"num\">{interval}</td>"
            f'<td class="num">{per_hour}</td><td class="num">{took}</td>'
            f'<td class="error">{error}</td></tr>')


def _row_id(account: str, collector: str) -> str:
    return f"{account}--{collector}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _utc(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


def _age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}" if seconds >= 10 * size or unit == "d" \
                else f"{seconds / size:.1f} {unit}".replace(".0 ", " ")
    return f"{seconds:.0f} s"


def _duration(seconds: float) -> str:
    for unit, size in (("h", 3600.0), ("min", 60.0)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:.0f} {unit}"
    if seconds >= 120:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.0f} s"

