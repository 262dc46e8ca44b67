"""The fault matrix's harness: the real daemon in-process against the simulator, its logs
captured as JSON at debug level, its exposition read over HTTP, and a clock tests can move."""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from exporter.cli import collector_defaults
from exporter.collectors import COLLECTORS
from exporter.config import Settings, load_settings
from exporter.daemon import Daemon, ServeOptions
from exporter.logs import Redactor
from exporter.simulator import FleetSpec, Simulator
from tests.conftest import (
    OTHER_TOKEN,
    READ_TOKEN,
    DaemonHandle,
    captured_logs,
    token_file_config,
    two_accounts,
    write_config,
)

PRODUCTION_DROPLETS = 1000  # five pages of 200
STAGING_DROPLETS = 5
ENABLED = ("account", "droplets", "volumes")
INTERVAL = "1h"  # background polls happen once, at start; tests poll on purpose
STALE_AFTER_SECONDS = 3 * 3600  # the default: three intervals
SERIES = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


class OffsetClock:
    """Real time plus an offset that a test moves forward; sleeping is real.

    The daemon's loops keep their real pace, while staleness (wall time against `fetched_at`)
    can be reached at once.
    """

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def advance(self, seconds: float) -> None:
        self.offset += seconds


async def eventually(check: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, f"not reached within {timeout}s: {what}"
        await asyncio.sleep(0.02)


@dataclass(frozen=True)
class Series:
    name: str
    labels: dict[str, str]
    value: float


def parse_exposition(text: str, name: str = r"[a-zA-Z_:][a-zA-Z0-9_:]*") -> list[Series]:
    """The sample lines of `text` (of one family when `name` is given)."""
    pattern = re.compile(rf"^(?P<name>{name})(?:\{{(?P<labels>.*)\}})? (?P<value>\S+)$", re.M)
    return [Series(m.group("name"), dict(LABEL.findall(m.group("labels") or "")),
                   float(m.group("value"))) for m in pattern.finditer(text)]


class Exposition:
    """One exposition, with lookups by family and labels (parsed per family, on demand: a
    1,000-Droplet exposition has tens of thousands of lines)."""

    def __init__(self, text: str) -> None:
        self.text = text
        assert all(SERIES.match(line) for line in text.splitlines()[:50]
                   if line and not line.startswith("#")), "not an exposition"

    def find(self, name: str, **labels: str) -> list[Series]:
        return [s for s in parse_exposition(self.text, re.escape(name))
                if all(s.labels.get(k) == v for k, v in labels.items())]

    def value(self, name: str, **labels: str) -> float | None:
        found = self.find(name, **labels)
        assert len(found) <= 1, found
        return found[0].value if found else None

    def droplet_ids(self, account: str) -> list[str]:
        prefix = re.escape(f'digitalocean_droplet_info{{account="{account}",droplet_id="')
        return re.findall(rf'^{prefix}(\d+)"', self.text, re.M)

    def success(self, account: str, collector: str) -> float | None:
        return self.value("digitalocean_collector_success", account=account, collector=collector)

    def families_of(self, account: str, prefix: str) -> set[str]:
        pattern = rf'^({re.escape(prefix)}\w*)\{{account="{re.escape(account)}"'
        return set(re.findall(pattern, self.text, re.M))


def collectors_config(enabled: Iterable[str], interval: str = INTERVAL) -> str:
    wanted = set(enabled)
    lines = ["collectors:"]
    for collector in COLLECTORS:
        if collector.name in wanted:
            lines.append(f"  {collector.name}: {{interval: {interval}}}")
        else:
            lines.append(f"  {collector.name}: {{enabled: false}}")
    return "\n".join(lines) + "\n"


def write_settings(
    directory: Path,
    api_url: str,
    tokens: dict[str, str],
    *,
    enabled: Iterable[str] = ENABLED,
    timeout: str = "1s",
    extra: str = "",
) -> Path:
    text = token_file_config(directory, api_url, tokens, f", timeout: {timeout}")
    return write_config(directory, text + collectors_config(enabled) + extra)


class Harness(DaemonHandle):
    """A running daemon, its simulator, clock and captured logs."""

    def __init__(self, daemon: Daemon, task: asyncio.Task[int], simulator: Simulator,
                 clock: OffsetClock, logs: io.StringIO, config: Path) -> None:
        super().__init__(daemon, task)
        self.simulator = simulator
        self.clock = clock
        self.logs = logs
        self.config = config
        self._parsed: tuple[object, Exposition] | None = None

    async def get(self, path: str) -> httpx.Response:
        async with httpx.AsyncClient(timeout=5) as client:
            return await client.get(f"{self.url}{path}")

    async def scrape(self) -> Exposition:
        """/metrics over HTTP, with the self part refreshed first (it is otherwise refreshed
        once a second)."""
        assert not self.task.done(), "the daemon stopped"
        self.daemon.refresh_self()
        response = await self.get("/metrics")
        assert response.status_code == 200
        return Exposition(response.text)

    def rendered(self) -> Exposition:
        """What the cache holds now (parsed once per new exposition)."""
        current = self.daemon.cache.current
        if self._parsed is None or self._parsed[0] is not current:
            self._parsed = (current, Exposition(b"".join(current.text).decode()))
        return self._parsed[1]

    async def until_rendered(self, check: Callable[[Exposition], bool], what: str = "",
                             timeout: float = 10.0) -> Exposition:
        """The exposition once the render loop has caught up with a change."""
        await eventually(lambda: check(self.rendered()), timeout, what)
        return await self.scrape()

    def events(self, **match: Any) -> list[dict[str, Any]]:
        found = []
        for line in self.logs.getvalue().splitlines():
            event = json.loads(line)
            if all(event.get(k) == v if not callable(v) else v(event.get(k))
                   for k, v in match.items()):
                found.append(event)
        return found

    def assert_no_hidden_failure(self) -> None:
        """No traceback in the log: a fault must be handled, not caught by a last-resort
        handler (the render loop keeps the previous exposition after an exception, which
        would otherwise hide a broken snapshot)."""
        hidden = [e for e in self.events()
                  if ("exception" in e or e.get("level") == "critical")
                  and not str(e.get("logger")).startswith("exporter.simulator")]  # the fake API
        assert hidden == [], hidden

    def requests(self, **match: Any) -> list[Any]:
        return [r for r in self.simulator.requests.entries()
                if all(getattr(r, k) == v for k, v in match.items())]


def contains(text: str) -> Callable[[object], bool]:
    return lambda value: isinstance(value, str) and text in value


@pytest.fixture
def logs() -> Any:
    with captured_logs("debug") as captured:
        yield captured


@pytest.fixture
def simulator() -> Any:
    config = two_accounts(FleetSpec(seed=1, droplets=PRODUCTION_DROPLETS, volumes=4),
                          FleetSpec(seed=2, droplets=STAGING_DROPLETS, volumes=2))
    with Simulator(config) as sim:
        yield sim


async def start_daemon(settings_path: Path, redactor: Redactor, clock: OffsetClock,
                       environ: dict[str, str] | None = None) -> tuple[Daemon, asyncio.Task[int]]:
    def load() -> Settings:
        return load_settings(settings_path, environ or {}, collector_defaults())

    daemon = Daemon(load(), ServeOptions("127.0.0.1", 0, "/metrics"), collectors=COLLECTORS,
                    reload_settings=load, redactor=redactor, environ=environ or {}, clock=clock,
                    handle_signals=False)
    return daemon, asyncio.create_task(daemon.run())


@pytest.fixture
async def harness(tmp_path: Path, simulator: Simulator, logs: Any) -> AsyncIterator[Harness]:
    stream, redactor = logs
    clock = OffsetClock()
    config = write_settings(tmp_path, simulator.url,
                            {"production": READ_TOKEN, "staging": OTHER_TOKEN})
    daemon, task = await start_daemon(config, redactor, clock)
    running = Harness(daemon, task, simulator, clock, stream, config)
    await eventually(lambda: task.done() or (daemon.server is not None and daemon.readiness()[0]),
                     what="first polls")
    assert not task.done(), stream.getvalue()
    await running.until_rendered(
        lambda e: len(e.droplet_ids("production")) == PRODUCTION_DROPLETS
        and len(e.droplet_ids("staging")) == STAGING_DROPLETS, "the first exposition")
    yield running
    daemon.request_stop()
    # stopping cleanly with 0 is the proof that no fault crashed the daemon
    assert await asyncio.wait_for(task, 10) == 0
    running.assert_no_hidden_failure()
