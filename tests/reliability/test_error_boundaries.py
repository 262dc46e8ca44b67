"""Every poll is its own error boundary, and so are each account's cost estimates.

The real daemon in-process against the simulator (two accounts), with one step of one poll made to
fail: an exception in one collector's `samples()`, NaN and Infinity in the API's answers, an
exception inside the cost estimate. Each time only the failing part reads `success 0`, every other
series keeps updating, `/readyz` turns 200 at startup, the error is logged once, and a scrape
answers at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from exporter.cli import collector_defaults
from exporter.collectors import COLLECTORS, droplets
from exporter.collectors.base import Collector, DerivedFamilies, Sample
from exporter.config import Settings, load_settings
from exporter.costs import FAMILIES as COST_FAMILIES
from exporter.daemon import Daemon, ServeOptions
from exporter.exposition import DataRenderer
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

PRODUCTION_DROPLETS, STAGING_DROPLETS = 3, 2


class Run(DaemonHandle):
    def __init__(self, daemon: Daemon, task: asyncio.Task[int], logs: Callable[[], str]) -> None:
        super().__init__(daemon, task)
        self._logs = logs

    async def get(self, path: str) -> httpx.Response:
        """A request that must be answered at once: a scrape never waits for a poll or render."""
        async with httpx.AsyncClient(timeout=2.0) as client:
            started = time.monotonic()
            response = await client.get(self.url + path)
            assert time.monotonic() - started < 2.0
            return response

    async def series(self) -> dict[str, float]:
        self.daemon.refresh_self()
        text = (await self.get("/metrics")).text
        return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
                for line in text.splitlines() if line and not line.startswith("#")}

    def events(self, **match: Any) -> list[dict[str, Any]]:
        found = [json.loads(line) for line in self._logs().splitlines()]
        return [e for e in found if all(e.get(k) == v for k, v in match.items())]


def success(account: str, collector: str) -> str:
    return f'digitalocean_collector_success{{account="{account}",collector="{collector}"}}'


def count(series: Mapping[str, float], family: str, account: str) -> int:
    return sum(1 for key in series if key.startswith(f'{family}{{account="{account}"'))


async def eventually(check: Callable[[], Any], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not reached in time: {what}"
        await asyncio.sleep(0.02)


class BoundaryDaemon(Daemon):
    """The daemon with its derived families (the cost estimates) wrapped, to break them."""

    def __init__(
        self, *args: Any, wrap: Callable[[DerivedFamilies], DerivedFamilies], **kwargs: Any
    ) -> None:
        self.wrap = wrap  # before Daemon.__init__, which makes the first renderer
        super().__init__(*args, **kwargs)

    def _renderer(self, settings: Settings) -> DataRenderer:
        plain = super()._renderer(settings)
        return DataRenderer(self.collectors, tuple(self.wrap(d) for d in plain._derived))


@asynccontextmanager
async def daemon_run(
    tmp_path: Path,
    collectors: Sequence[Collector[Any]] = COLLECTORS,
    transport: httpx.AsyncBaseTransport | None = None,
    wrap: Callable[[DerivedFamilies], DerivedFamilies] | None = None,
) -> AsyncIterator[tuple[Run, Simulator]]:
    config = two_accounts(FleetSpec(seed=1, droplets=PRODUCTION_DROPLETS, volumes=2),
                          FleetSpec(seed=2, droplets=STAGING_DROPLETS, volumes=1))
    with captured_logs() as (stream, _), Simulator(config) as sim:
        path = write_config(tmp_path, token_file_config(
            tmp_path, sim.url, {"production": READ_TOKEN, "staging": OTHER_TOKEN}
        ) + "collectors: {" + ", ".join(f"{c.name}: {{interval: 1h}}" for c in collectors) + "}\n")

        def load() -> Settings:
            return load_settings(path, {}, collector_defaults())

        daemon = BoundaryDaemon(load(), ServeOptions("127.0.0.1", 0, "/metrics"),
                                collectors=collectors, reload_settings=load, redactor=Redactor(),
                                environ={}, handle_signals=False, transport=transport,
                                wrap=wrap or (lambda derived: derived))
        task = asyncio.create_task(daemon.run())
        run = Run(daemon, task, stream.getvalue)
        try:
            await eventually(lambda: daemon.server is not None, "the server started")
            await eventually(lambda: daemon.readiness()[0], "ready")
            assert (await run.get("/readyz")).status_code == 200
            yield run, sim
        finally:
            daemon.request_stop()
            assert await asyncio.wait_for(task, 10) == 0


class Switch:
    def __init__(self) -> None:
        self.on = True


def failing_samples(switch: Switch) -> Collector[Any]:
    """The droplets collector whose samples() raises for the production fleet while on."""
    def samples(records: Any) -> Iterator[Sample]:
        if switch.on and len(records) == PRODUCTION_DROPLETS:
            raise IndexError("list index out of range")
        return droplets.COLLECTOR.samples(records)

    return dataclasses.replace(droplets.COLLECTOR, samples=samples)


async def test_an_exception_in_one_collectors_samples_fails_that_poll_alone(tmp_path: Path) -> None:
    switch = Switch()
    collectors = tuple(failing_samples(switch) if c.name == "droplets" else c for c in COLLECTORS)
    async with daemon_run(tmp_path, collectors) as (run, sim):
        series = await run.series()
        assert series[success("production", "droplets")] == 0
        assert series[success("staging", "droplets")] == 1
        assert count(series, "digitalocean_droplet_info", "production") == 0
        assert count(series, "digitalocean_droplet_info", "staging") == STAGING_DROPLETS
        for collector in COLLECTORS:  # every collector the config enables (the default ones)
            if collector.name != "droplets" and collector.enabled_by_default:
                assert series[success("production", collector.name)] == 1, collector.name
        assert count(series, "digitalocean_volume_info", "production") == 2

        for _ in range(3):  # the same error again: no new log line
            assert not (await run.poll("production", "droplets")).ok
        [failed] = run.events(collector="droplets", account="production", level="error")
        assert failed["event"] == "poll failed; no data yet"
        assert failed["error"] == "internal error: IndexError: list index out of range"
        assert "Traceback" in failed["exception"]

        # the others keep updating while production's droplets fail
        sim.mutate_fleet("staging", destroy_droplets=1)
        assert (await run.poll("staging", "droplets")).ok
        await eventually(lambda: b"".join(run.daemon.cache.current.text).count(
            b'digitalocean_droplet_info{account="staging"') == STAGING_DROPLETS - 1, "staging updated")

        switch.on = False
        assert (await run.poll("production", "droplets")).ok
        await eventually(lambda: b'digitalocean_droplet_info{account="production"'
                         in b"".join(run.daemon.cache.current.text), "production recovered")
        assert (await run.series())[success("production", "droplets")] == 1
        assert run.events(event="collector recovered", collector="droplets")


class Corrupting(httpx.AsyncHTTPTransport):
    """Answers as the simulator does, with values JSON can spell but no price or size means:
    a bare NaN price in the first production Droplet, Infinity as a volume's size."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        production = request.headers.get("authorization") == f"Bearer {READ_TOKEN}"
        if not production or request.url.path not in ("/v2/droplets", "/v2/volumes"):
            return response
        body = (await response.aread()).decode()
        if request.url.path == "/v2/droplets":
            body = re.sub(r'"price_monthly": ?[0-9.]+', '"price_monthly": NaN', body, count=1)
        else:
            body = re.sub(r'"size_gigabytes": ?[0-9.]+', '"size_gigabytes": Infinity', body, count=1)
        headers = [(k, v) for k, v in response.headers.items()
                   if k.lower() not in ("content-length", "content-encoding")]
        return httpx.Response(response.status_code, headers=headers, content=body.encode())


async def test_nan_and_infinity_from_the_api_fail_only_their_collectors(tmp_path: Path) -> None:
    async with daemon_run(tmp_path, transport=Corrupting()) as (run, _):
        series = await run.series()
        assert series[success("production", "droplets")] == 0
        assert series[success("production", "volumes")] == 0
        assert series[success("staging", "droplets")] == 1
        assert series[success("staging", "volumes")] == 1
        assert series[success("production", "account")] == 1
        assert series[success("production", "costs")] == 1  # from what production could read
        assert count(series, "digitalocean_droplet_info", "staging") == STAGING_DROPLETS
        assert count(series, "digitalocean_droplet_info", "production") == 0

        [droplet] = run.events(collector="droplets", account="production", level="warning")
        assert re.fullmatch(
            r"unusable value in the API answer: droplets: digitalocean_droplet_price_monthly_usd "
            r"of droplet_id='\d+': value nan is not a finite number", droplet["error"]
        ), droplet["error"]
        [volume] = run.events(collector="volumes", account="production", level="warning")
        assert "value inf is not a finite number" in volume["error"]
        assert "Traceback" not in run._logs()


def failing_for_production(costs: DerivedFamilies) -> DerivedFamilies:
    """The real cost estimates, raising for the production fleet as a bug or bad price would."""
    def samples(inputs: Mapping[str, Any], now: float) -> Iterator[Sample]:
        if len(inputs.get("droplets") or ()) == PRODUCTION_DROPLETS:
            raise ArithmeticError("decimal.InvalidOperation")
        return costs.samples(inputs, now)

    return dataclasses.replace(costs, samples=samples)


async def test_an_exception_in_the_cost_estimate_leaves_out_that_account_only(
    tmp_path: Path
) -> None:
    async with daemon_run(tmp_path, wrap=failing_for_production) as (run, sim):
        await eventually(lambda: run.daemon.renderer.derived_status, "costs computed")
        series = await run.series()
        assert series[success("production", "costs")] == 0
        assert series[success("staging", "costs")] == 1
        assert series[success("production", "droplets")] == 1
        cost = COST_FAMILIES[0].name
        assert count(series, cost, "production") == 0
        assert count(series, cost, "staging") > 0
        assert count(series, "digitalocean_droplet_info", "production") == PRODUCTION_DROPLETS

        sim.mutate_fleet("staging", destroy_droplets=1)  # the rest keeps updating
        assert (await run.poll("staging", "droplets")).ok
        await eventually(lambda: b"".join(run.daemon.cache.current.text).count(
            b'digitalocean_droplet_info{account="staging"') == STAGING_DROPLETS - 1, "staging updated")
        [failed] = run.events(collector="costs")  # computed again, failed again: logged once
        assert failed["account"] == "production"
        assert failed["error"] == "ArithmeticError: decimal.InvalidOperation"
        assert failed["event"] == ("costs could not be computed; its series are left out for "
                                   "this account until they can be")
