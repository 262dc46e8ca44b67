"""The daemon in-process against the simulator: staleness, empty fleets, runtime 401, reload."""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from exporter.cli import collector_defaults
from exporter.collectors import COLLECTORS
from exporter.config import Settings, load_settings
from exporter.daemon import (
    Daemon,
    ServeOptions,
    describe_expiry,
    next_self_refresh,
    waiting_message,
)
from exporter.exposition import DataPart
from exporter.logs import Redactor
from exporter.sharding import Shard, shard_of
from exporter.simulator import Fault, FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from exporter.snapshot import Snapshot
from tests.conftest import (
    OTHER_TOKEN,
    READ_TOKEN,
    DaemonHandle,
    FakeClock,
    captured_logs,
    token_file_config,
    two_accounts,
    write_config,
    write_token,
)


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    config = two_accounts(FleetSpec(seed=1, droplets=3, volumes=2),
                          FleetSpec(seed=2, droplets=2, volumes=1))
    with Simulator(config) as sim:
        yield sim


def settings_file(tmp_path: Path, sim: Simulator, accounts: dict[str, str]) -> Path:
    return write_config(tmp_path, token_file_config(tmp_path, sim.url, accounts))


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


class Running(DaemonHandle):
    def __init__(self, daemon: Daemon, task: asyncio.Task[int], config: Path) -> None:
        super().__init__(daemon, task)
        self.config = config

    async def metrics(self) -> str:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{self.url}/metrics")).text


@pytest.fixture
async def running(tmp_path: Path, simulator: Simulator) -> AsyncIterator[Running]:
    config = settings_file(tmp_path, simulator, {"production": READ_TOKEN, "staging": OTHER_TOKEN})

    def load() -> Settings:
        return load_settings(config, {}, collector_defaults())

    daemon = Daemon(load(), ServeOptions("127.0.0.1", 0, "/metrics"), collectors=COLLECTORS,
                    reload_settings=load, redactor=Redactor(), environ={}, handle_signals=False)
    task = asyncio.create_task(daemon.run())
    await eventually(lambda: daemon.server is not None and daemon.readiness()[0])
    yield Running(daemon, task, config)
    daemon.request_stop()
    assert await asyncio.wait_for(task, 10) == 0


async def test_both_accounts_are_served(running: Running) -> None:
    await eventually(lambda: b"staging" in b"".join(running.daemon.cache.current.text))
    metrics = await running.metrics()
    assert metrics.count('digitalocean_droplet_info{account="production"') == 3
    assert metrics.count('digitalocean_droplet_info{account="staging"') == 2


async def test_empty_fleet_removes_the_series(running: Running, simulator: Simulator) -> None:
    production = b'digitalocean_droplet_info{account="production"'
    await eventually(lambda: production in running.daemon.cache.current.text[0])
    simulator.mutate_fleet("production", destroy_droplets=3)
    snapshot = await running.poll("production", "droplets")
    assert snapshot.ok
    assert snapshot.data == ()
    await eventually(
        lambda: production not in running.daemon.cache.current.text[0]
    )
    metrics = await running.metrics()
    assert 'digitalocean_droplet_status{account="production"' not in metrics
    assert metrics.count('digitalocean_droplet_info{account="staging"') == 2


async def test_runtime_401_for_one_account_leaves_the_other_running(
    running: Running, simulator: Simulator
) -> None:
    simulator.revoke_token("production-ro")
    assert not (await running.poll("production", "droplets")).ok
    assert (await running.poll("staging", "droplets")).ok
    running.daemon.refresh_self()
    metrics = await running.metrics()
    assert 'digitalocean_token_valid{account="production"} 0.0' in metrics
    assert 'digitalocean_token_valid{account="staging"} 1.0' in metrics
    assert 'digitalocean_collector_success{account="production",collector="droplets"} 0.0' in metrics
    assert 'digitalocean_collector_success{account="staging",collector="droplets"} 1.0' in metrics
    # the last good production data is still served until it goes stale
    assert 'digitalocean_droplet_info{account="production"' in metrics


async def test_reload_drops_a_removed_account_everywhere(
    running: Running, simulator: Simulator, tmp_path: Path
) -> None:
    settings_file(tmp_path, simulator, {"staging": OTHER_TOKEN})
    assert await running.daemon.reload()
    await eventually(lambda: b'account="production"' not in b"".join(running.daemon.cache.current.text))
    metrics = await running.metrics()
    assert 'account="production"' not in metrics
    assert 'digitalocean_droplet_info{account="staging"' in metrics


async def test_reload_refuses_a_write_capable_token(
    running: Running, simulator: Simulator, tmp_path: Path
) -> None:
    write_token_value = "dop_v1_" + "f00d" * 16
    simulator.add_token("staging", SimToken("staging-write", write_token_value, scopes=("read", "write")))
    settings_file(tmp_path, simulator, {"production": READ_TOKEN, "staging": write_token_value})
    assert not await running.daemon.reload()
    assert running.account("staging").source.token == OTHER_TOKEN


async def test_a_missing_read_scope_disables_only_its_collector(tmp_path: Path) -> None:
    scopes = sorted({s for c in COLLECTORS for s in c.scope.split()} - {"kubernetes:read"})
    config = SimulatorConfig(accounts=(
        SimAccount("production", tokens=(SimToken("no-k8s", READ_TOKEN, scopes=scopes),),
                   fleet=FleetSpec(seed=3, droplets=30, kubernetes_clusters=1)),
    ))
    with captured_logs() as (stream, _), Simulator(config) as sim:
        settings_path = settings_file(tmp_path, sim, {"production": READ_TOKEN})
        settings = load_settings(settings_path, {}, collector_defaults())
        daemon = Daemon(settings, ServeOptions("127.0.0.1", 0, "/metrics"),
                        collectors=COLLECTORS, reload_settings=lambda: settings,
                        redactor=Redactor(), environ={}, handle_signals=False)
        task = asyncio.create_task(daemon.run())
        await eventually(lambda: daemon.server is not None and daemon.readiness()[0])
        daemon.refresh_self()
        text = b"".join(daemon.cache.current.text).decode()
        daemon.request_stop()
        assert await asyncio.wait_for(task, 10) == 0
    assert 'digitalocean_collector_enabled{account="production",collector="kubernetes"} 0.0' in text
    for collector in COLLECTORS:
        if collector.name != "kubernetes" and collector.enabled_by_default:
            assert (f'digitalocean_collector_success{{account="production",collector='
                    f'"{collector.name}"}} 1.0') in text, collector.name
    assert "digitalocean_droplet_info{" in text
    assert "digitalocean_kubernetes_cluster_info{" not in text
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    # first from token/info at startup (the collector still runs), then from the 403
    startup, disabled = [e for e in events if e.get("scope") and e.get("collector") == "kubernetes"]
    # the token holds every collector's scope but not every field's: those are warned about
    # (image:read is a collector's scope since the images collector, so only this one is left)
    assert {(e["collector"], e["field"]) for e in events if "field" in e} == {
        ("tags", "resources.volume_snapshots")}
    assert (startup["level"], startup["collector"], startup["scope"]) == (
        "warning", "kubernetes", "kubernetes:read")
    assert startup["event"] == (
        "collector kubernetes: the token lacks the kubernetes:read scope (from token/info), so its "
        "series will be missing; it still runs, and is disabled for this account if the API "
        "answers 403. Add the scope to the token, or disable the collector"
    )
    [report] = [e for e in events if e["event"].startswith("least-privilege report:")]
    assert report["account"] == "production"
    assert "    kubernetes:read: every series of the kubernetes collector" in report["event"]
    assert "block_storage_snapshot:read" in report["event"].splitlines()[-1]  # to tick
    assert disabled["collector"] == "kubernetes"
    assert disabled["scope"] == "kubernetes:read"
    assert "lacks the kubernetes:read scope" in disabled["event"]


def test_snapshots_go_stale_after_stale_after(tmp_path: Path) -> None:
    clock = FakeClock()
    token = write_token(tmp_path, "t", READ_TOKEN)
    config = write_config(tmp_path, f"accounts: [{{name: a, token_file: {token}}}]\n"
                                    "collectors: {droplets: {interval: 1m, stale_after: 5m}}\n")
    settings = load_settings(config, {}, collector_defaults())
    daemon = Daemon(settings, ServeOptions("127.0.0.1", 0, "/metrics"), collectors=COLLECTORS,
                    reload_settings=lambda: settings, redactor=Redactor(), environ={},
                    clock=clock, handle_signals=False)
    daemon.store.publish(("a", "droplets"), Snapshot((), clock.time(), None, clock.time(), 0.1,
                                                     fetched_mono=clock.monotonic()))
    daemon.store.publish(("a", "volumes"), Snapshot((), clock.time(), None, clock.time(), 0.1,
                                                    fetched_mono=clock.monotonic()))
    clock.advance(180)
    assert {c for _, c, _ in daemon.fresh_snapshots()} == {"droplets", "volumes"}
    clock.advance(1)  # volumes: stale after the default 3 x 1m = 180 s
    assert {c for _, c, _ in daemon.fresh_snapshots()} == {"droplets"}
    clock.advance(119)
    assert {c for _, c, _ in daemon.fresh_snapshots()} == {"droplets"}  # exactly 5m old
    clock.advance(1)
    assert daemon.fresh_snapshots() == []
    # a failed poll keeps the old fetched_at, so failing does not keep data fresh
    daemon.store.publish(("a", "droplets"), Snapshot((), clock.time() - 301, "boom", clock.time(), 0.1,
                                                     fetched_mono=clock.monotonic() - 301))
    assert daemon.fresh_snapshots() == []
    # the wall clock stepped back 10 minutes (during an outage): ages are monotonic, so the
    # data stays stale instead of being served again for another 10 minutes
    clock.wall -= 600
    assert daemon.fresh_snapshots() == []


async def self_refreshes(tmp_path: Path, takes: float, seconds: float) -> list[float]:
    """When the refresh loop rendered the self part (monotonic) over `seconds` of a fake clock,
    each rendering taking `takes` seconds."""
    clock = FakeClock()
    token = write_token(tmp_path, "t", READ_TOKEN)
    settings = load_settings(write_config(tmp_path, f"accounts: [{{name: a, token_file: {token}}}]\n"),
                             {}, collector_defaults())
    daemon = Daemon(settings, ServeOptions("127.0.0.1", 0, "/metrics"), collectors=COLLECTORS,
                    reload_settings=lambda: settings, redactor=Redactor(), environ={},
                    clock=clock, handle_signals=False)
    rendered: list[float] = []

    def refresh_self() -> None:
        rendered.append(clock.monotonic())
        clock.advance(takes)

    daemon.refresh_self = refresh_self  # type: ignore[method-assign]
    daemon._render_wanted = asyncio.Event()
    end = clock.monotonic() + seconds
    task = asyncio.create_task(daemon._refresh_loop())
    while clock.monotonic() < end:
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return rendered


async def test_a_slow_self_part_is_rendered_less_often(tmp_path: Path) -> None:
    # fast: every second, as before
    fast = await self_refreshes(tmp_path, 0.001, 30)
    assert len(fast) >= 29
    # 0.5 s per rendering (hundreds of accounts): at most a tenth of the time, so every ~5 s
    slow = await self_refreshes(tmp_path, 0.5, 60)
    assert 10 <= len(slow) <= 12
    assert all(b - a >= 5.5 for a, b in itertools.pairwise(slow))
    assert next_self_refresh(100.0, 0.05) == 101.0
    assert next_self_refresh(100.0, 2.0) == 120.0


async def test_renders_are_spaced_by_their_own_duration(tmp_path: Path) -> None:
    # hundreds of accounts' first polls each change the data: the changes that come while a
    # render runs, and for twice its duration after, are rendered together, not one by one
    clock = FakeClock()
    token = write_token(tmp_path, "t", READ_TOKEN)
    settings = load_settings(write_config(tmp_path, f"accounts: [{{name: a, token_file: {token}}}]\n"),
                             {}, collector_defaults())
    daemon = Daemon(settings, ServeOptions("127.0.0.1", 0, "/metrics"), collectors=COLLECTORS,
                    reload_settings=lambda: settings, redactor=Redactor(), environ={},
                    clock=clock, handle_signals=False)
    renders: list[float] = []

    def render(renderer: object, fresh: object, now: float) -> DataPart:
        renders.append(clock.monotonic())
        clock.advance(1.5)  # a large fleet's render
        return DataPart.build(b"x 1\n")

    daemon._render = render  # type: ignore[method-assign]
    daemon._render_wanted = asyncio.Event()
    daemon._render_wanted.set()
    task = asyncio.create_task(daemon._render_loop())
    await eventually(lambda: len(clock.sleeps) == 1)
    assert clock.sleeps == [3.0]  # twice the render's 1.5 s
    daemon._render_wanted.set()  # a change during that pause: one more render after it
    await eventually(lambda: len(renders) == 2)
    assert renders[1] - renders[0] == 4.5
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def start_with_scopes(
    tmp_path: Path, scopes: list[str], policy: str = ""
) -> tuple[int | None, list[dict[str, object]]]:
    """Run the daemon until ready (or refused) with a token holding `scopes`; its exit code
    (None while it ran) and its log events."""
    config = SimulatorConfig(accounts=(
        SimAccount("production", tokens=(SimToken("custom", READ_TOKEN, scopes=scopes),),
                   fleet=FleetSpec(seed=4, droplets=2)),
    ))
    with captured_logs() as (stream, _), Simulator(config) as sim:
        text = token_file_config(tmp_path, sim.url, {"production": READ_TOKEN}) + policy
        settings = load_settings(write_config(tmp_path, text), {}, collector_defaults())
        daemon = Daemon(settings, ServeOptions("127.0.0.1", 0, "/metrics"),
                        collectors=COLLECTORS, reload_settings=lambda: settings,
                        redactor=Redactor(), environ={}, handle_signals=False)
        task = asyncio.create_task(daemon.run())
        await eventually(lambda: task.done() or (daemon.server is not None
                                                 and daemon.readiness()[0]))
        code = task.result() if task.done() else None
        if code is None:
            daemon.request_stop()
            assert await asyncio.wait_for(task, 10) == 0
    assert READ_TOKEN not in stream.getvalue()
    return code, [json.loads(line) for line in stream.getvalue().splitlines()]


NEEDED = sorted({s for c in COLLECTORS for s in c.scope.split()})
ON_BY_DEFAULT = sorted({s for c in COLLECTORS if c.enabled_by_default for s in c.scope.split()})


async def test_a_token_that_reveals_secrets_is_warned_about_then_refused_under_refuse(
    tmp_path: Path,
) -> None:
    # the GenAI collectors need genai:read and are off by default: no enabled collector does
    held = [*ON_BY_DEFAULT, "genai:read"]
    genai_off = ""
    code, events = await start_with_scopes(tmp_path, held, genai_off)
    assert code is None
    [secrets] = [e for e in events if "can read secrets" in str(e["event"])]
    assert secrets["level"] == "warning"
    assert "genai:read (returns agent and model API keys' secret_key" in str(secrets["event"])
    [excess] = [e for e in events if "no enabled collector needs" in str(e["event"])
                and e["level"] == "warning"]  # the info-level report names it too
    assert excess["scope"] == "genai:read"

    code, events = await start_with_scopes(tmp_path, held,
                                           genai_off + "token_policy: {secret_scopes: refuse}\n")
    assert code == 2
    [refused] = [e for e in events if e["level"] == "error"]
    assert "the token can read secrets: " in str(refused["event"])
    assert "genai:read (returns agent" in str(refused["event"])


async def test_partner_network_connect_read_is_refused_at_startup(tmp_path: Path) -> None:
    code, events = await start_with_scopes(tmp_path, [*NEEDED, "partner_network_connect:read"])
    assert code == 2
    [refused] = [e for e in events if e["level"] == "error"]
    assert refused["scopes"] == ["partner_network_connect:read"]
    assert "partner_network_connect:read appears on PATCH " in str(refused["event"])


async def test_a_reload_that_raises_is_reported_and_the_daemon_keeps_running(
    running: Running
) -> None:
    def broken() -> Settings:
        raise RecursionError("maximum recursion depth exceeded")

    running.daemon.reload_settings = broken
    with captured_logs() as (stream, _):
        assert not await running.daemon.reload()
    [event] = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert event["event"] == ("configuration reload failed unexpectedly; keeping the running "
                              "configuration")
    assert event["error"] == "RecursionError: maximum recursion depth exceeded"
    assert (await running.poll("staging", "droplets")).ok


async def test_token_info_answers_that_cannot_be_read_do_not_stop_startup(tmp_path: Path) -> None:
    """Deeply nested JSON from token/info: unverifiable (warned, the default policy), not a
    crash with a traceback."""
    nested = b"[" * 200_000 + b"]" * 200_000

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/oauth/token/info":
            return httpx.Response(200, content=nested, headers={"content-type": "application/json"})
        return httpx.Response(200, json={"droplets": [], "links": {}, "meta": {"total": 0}})

    token = write_token(tmp_path, "t", READ_TOKEN)
    config = write_config(tmp_path, f"accounts: [{{name: a, token_file: {token}}}]\n"
                                    "api: {url: http://127.0.0.1:9, auth_url: http://127.0.0.1:9}\n"
                                    "collectors: {" + ", ".join(
                                        f"{c.name}: {{enabled: {str(c.name == 'droplets').lower()}}}"
                                        for c in COLLECTORS) + "}\n")
    settings = load_settings(config, {}, collector_defaults())
    with captured_logs() as (stream, _):
        daemon = Daemon(settings, ServeOptions("127.0.0.1", 0, "/metrics"), collectors=COLLECTORS,
                        reload_settings=lambda: settings, redactor=Redactor(), environ={},
                        handle_signals=False, transport=httpx.MockTransport(answer))
        task = asyncio.create_task(daemon.run())
        await eventually(lambda: task.done() or daemon.readiness()[0])
        daemon.request_stop()
        assert await asyncio.wait_for(task, 10) == 0
    warnings = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert any("could not verify" in str(e["event"]) for e in warnings if e["level"] == "warning")
    assert "Traceback" not in stream.getvalue()


# -- what the terminal shows at startup (issue 16 point 4) ---------------------------------------


async def test_startup_says_what_it_will_do_and_when_it_is_ready(tmp_path: Path) -> None:
    """One "starting" summary (accounts, collectors by interval, each account's request plan),
    a token expiring within a week as a warning with a date and "in N hours", and one "ready
    after N s" line without anyone asking /readyz; no token in any of it."""
    config = SimulatorConfig(accounts=(
        SimAccount("production", tokens=(
            SimToken("production-ro", READ_TOKEN, expires_in_seconds=3 * 3600 + 60),),
            fleet=FleetSpec(seed=1, droplets=2, volumes=1)),
        SimAccount("staging", tokens=(
            SimToken("staging-ro", OTHER_TOKEN, expires_in_seconds=30 * 86400 + 60),),
            fleet=FleetSpec(seed=2, droplets=1, volumes=1)),
    ))
    with Simulator(config) as sim, captured_logs() as (stream, redactor):
        path = settings_file(tmp_path, sim, {"production": READ_TOKEN, "staging": OTHER_TOKEN})
        settings = load_settings(path, {}, collector_defaults())
        daemon = Daemon(settings, ServeOptions("127.0.0.1", 0, "/metrics"), collectors=COLLECTORS,
                        reload_settings=lambda: settings, redactor=redactor, environ={},
                        handle_signals=False)
        task = asyncio.create_task(daemon.run())

        def logged() -> list[dict[str, object]]:
            return [json.loads(line) for line in stream.getvalue().splitlines()]

        await eventually(lambda: any(str(e["event"]).startswith("ready after") for e in logged()))
        daemon.request_stop()
        assert await asyncio.wait_for(task, 10) == 0
    events = logged()
    enabled = [c for c in COLLECTORS if settings.collectors[c.name].enabled]
    [start] = [e for e in events if str(e["event"]).startswith("starting")]
    assert start["event"] == (
        f"starting: 2 accounts (production, staging), {len(enabled)} of {len(COLLECTORS)} "
        "collectors, first polls now"
    )
    assert str(start["collectors"]).startswith("every 1m: droplets, ")
    planned = sum(3600 / settings.collectors[c.name].interval for c in enabled)
    plan = (f"at least {planned:.0f} requests/hour planned (1 per poll until measured) of a "
            "budget of 4000")
    assert start["request_plan"] == {"production": plan, "staging": plan}
    [soon] = [e for e in events if e.get("account") == "production" and "expires" in str(e["event"])]
    assert soon["level"] == "warning"
    assert re.fullmatch(
        r"the token expires on \d{4}-\d\d-\d\d \d\d:\d\d UTC, in 3 hours; create a new read-only "
        rf"token and update token file {re.escape(str(tmp_path / 'production'))} before then",
        str(soon["event"]),
    )
    [later] = [e for e in events if e.get("account") == "staging" and "expires" in str(e["event"])]
    assert later["level"] == "info"
    assert re.fullmatch(r"the token expires on \d{4}-\d\d-\d\d \d\d:\d\d UTC, in 30 days",
                        str(later["event"]))
    assert "expires_at" not in soon  # no float timestamp
    [ready] = [e for e in events if str(e["event"]).startswith("ready after")]
    assert re.fullmatch(r"ready after \d+\.\d s: every account's first polls are served; "
                        r"/readyz answers 200", str(ready["event"]))
    assert READ_TOKEN not in stream.getvalue()
    assert OTHER_TOKEN not in stream.getvalue()


def test_the_progress_line_names_what_is_pending() -> None:
    pending = ["production/droplets", "production/volumes", "staging/billing", "staging/apps"]
    assert waiting_message(pending, 24) == (
        "waiting for first polls: 4 of 24 pending (production/droplets, production/volumes, "
        "staging/billing, …)"
    )
    assert waiting_message(pending[:1], 24) == (
        "waiting for first polls: 1 of 24 pending (production/droplets)"
    )
    assert waiting_message(["token verification"], 0) == "waiting for token verification"


@pytest.mark.parametrize(("left", "level", "text"), [
    (3600 + 59, "warning", "the token expires on 2027-01-01 01:00 UTC, in 1 hour"),
    (25 * 60, "warning", "the token expires on 2027-01-01 00:25 UTC, in 25 minutes"),
    (6 * 86400, "warning", "the token expires on 2027-01-07 00:00 UTC, in 6 days"),
    (7 * 86400, "info", "the token expires on 2027-01-08 00:00 UTC, in 7 days"),
])
def test_token_expiry_in_words(left: float, level: str, text: str) -> None:
    now = 1798761600.0  # 2027-01-01 00:00 UTC
    assert describe_expiry(now + left, now) == (level, text)


async def test_a_slow_first_poll_is_reported_while_it_is_pending(tmp_path: Path) -> None:
    config = two_accounts(FleetSpec(seed=1, droplets=2, volumes=1), FleetSpec(seed=2, droplets=1))
    with Simulator(config) as sim, captured_logs() as (stream, redactor):
        sim.set_faults([Fault("latency", endpoint="/v2/volumes", seconds=2.5)])
        path = settings_file(tmp_path, sim, {"production": READ_TOKEN, "staging": OTHER_TOKEN})
        settings = load_settings(path, {}, collector_defaults())
        daemon = Daemon(settings, ServeOptions("127.0.0.1", 0, "/metrics"), collectors=COLLECTORS,
                        reload_settings=lambda: settings, redactor=redactor, environ={},
                        handle_signals=False, progress_every=0.5)
        task = asyncio.create_task(daemon.run())
        await eventually(lambda: "ready after" in stream.getvalue(), timeout=20)
        daemon.request_stop()
        assert await asyncio.wait_for(task, 10) == 0
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    pairs = 2 * len([c for c in COLLECTORS if settings.collectors[c.name].enabled])
    waiting = [str(e["event"]) for e in events if str(e["event"]).startswith("waiting for")]
    assert waiting
    assert all(re.fullmatch(rf"waiting for first polls: \d+ of {pairs} pending \([^)]*\)", w)
               for w in waiting), waiting
    assert "production/volumes" in waiting[-1]
    order = [str(e["event"]).split(":")[0] for e in events]
    last_wait = max(i for i, e in enumerate(order) if e == "waiting for first polls")
    [ready] = [i for i, e in enumerate(order) if e.startswith("ready after")]
    assert ready > last_wait  # no progress line once ready


async def test_a_shard_serves_only_its_accounts_is_ready_without_any_and_reload_refilters(
    simulator: Simulator, tmp_path: Path
) -> None:
    """Shard `mine` of 2 owns production (staging hashes to the other shard): with only staging
    in the config it polls nothing, is ready and says so; a reload that adds production gives it
    production only."""
    mine = shard_of("production", 2)
    assert shard_of("staging", 2) != mine
    config = settings_file(tmp_path, simulator, {"staging": OTHER_TOKEN})

    def load() -> Settings:
        return load_settings(config, {}, collector_defaults())

    daemon = Daemon(load(), ServeOptions("127.0.0.1", 0, "/metrics"), collectors=COLLECTORS,
                    reload_settings=load, redactor=Redactor(), environ={}, handle_signals=False,
                    shard=Shard(mine, 2))
    with captured_logs() as (stream, _):
        task = asyncio.create_task(daemon.run())
        await eventually(lambda: daemon.server is not None and daemon.readiness()[0])
        handle = DaemonHandle(daemon, task)
        async with httpx.AsyncClient() as client:
            page = html.unescape((await client.get(f"{handle.url}/")).text)
            metrics = (await client.get(f"{handle.url}/metrics")).text
        assert simulator.requests.count() == 0  # staging's token is the other shard's
        assert (f"This exporter is shard {mine} of 2: 0 of 1 account (the other 1 is polled by "
                "the other shards); this shard owns no account and serves only the exporter's "
                "own metrics.") in page
        assert f'digitalocean_exporter_shard_info{{shard="{mine}",total_shards="2"}} 1.0' in metrics
        assert "digitalocean_exporter_shard_accounts 0.0" in metrics
        assert "digitalocean_exporter_configured_accounts 1.0" in metrics
        assert 'account="staging"' not in metrics

        settings_file(tmp_path, simulator, {"production": READ_TOKEN, "staging": OTHER_TOKEN})
        assert await daemon.reload()
        assert [a.name for a in daemon.settings.accounts] == ["production"]
        await eventually(lambda: b'digitalocean_droplet_info{account="production"'
                         in b"".join(daemon.cache.current.text))
        daemon.refresh_self()  # what the refresh loop does each second
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(f"{handle.url}/metrics")).text
            page = html.unescape((await client.get(f"{handle.url}/")).text)
        assert 'account="staging"' not in metrics
        assert "digitalocean_exporter_configured_accounts 2.0" in metrics
        assert f"This exporter is shard {mine} of 2: 1 of 2 accounts" in page
        assert {r.account for r in simulator.requests.entries()} == {"production"}
        daemon.request_stop()
        assert await asyncio.wait_for(task, 10) == 0
    logs = [json.loads(line) for line in stream.getvalue().splitlines()]
    events = [e for e in logs if e.get("event", "").startswith("starting:")]
    assert events[0]["shard"] == mine
    assert events[0]["total_shards"] == 2
    reloaded = [e for e in logs if e.get("event") == "configuration reloaded"]
    assert reloaded[0]["accounts"] == ["production"]
