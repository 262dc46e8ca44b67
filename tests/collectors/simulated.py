"""Collectors that read other collectors' data (`Collector.inputs`), run for real: through
DigitalOceanClient against a simulator, and through the Poller, their inputs handed over as
the poller will (`PollContext.inputs`: the last good data of each input collector)."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from exporter.api import AccountApi, DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.clock import SystemClock
from exporter.collectors.base import Collector, PollContext
from exporter.config import AccountSettings, CollectorSettings, TokenPolicy
from exporter.logs import get_logger
from exporter.poller import AccountRuntime, Poller
from exporter.scopes import classify
from exporter.simulator import Simulator
from exporter.snapshot import SnapshotStore
from exporter.tokens import FileToken, TokenSource

NOW = 1_795_000_000.0  # 2026-11-18, after every generated creation time


class Frozen(SystemClock):
    def time(self) -> float:
        return NOW


class Quiet:
    def observe(self, *args: object) -> None:
        pass


@asynccontextmanager
async def simulated_reader(sim: Simulator, account: str, token: str) -> AsyncIterator[AccountApi]:
    client = DigitalOceanClient(api_url=sim.url, auth_url=sim.url, timeout=10, user_agent="t",
                                observer=Quiet(), clock=Frozen(), rng=random.Random(1))
    try:
        yield client.account(account, lambda: token, RequestBudget(5000, Frozen(), 5000))
    finally:
        await client.aclose()


async def collect_with_inputs(reader: AccountApi, collectors: tuple[Collector[Any], ...]) -> dict[str, Any]:
    """Each collector's data in turn, each given the data of its inputs collected before it."""
    polls: dict[str, Any] = {}
    for collector in collectors:
        context = PollContext(inputs={n: polls[n] for n in collector.inputs if n in polls})
        polls[collector.name] = await collector.collect(reader, context)
    return polls


def given_inputs(collector: Collector[Any], inputs: Mapping[str, Any]) -> Collector[Any]:
    """`collector` polling with `inputs` besides what the poller passes (the data of its input
    collectors in the store), for a poller that does not run those."""

    async def fetch(reader: Any) -> Any:
        return await collector.collect(reader, PollContext(inputs=inputs))

    async def fetch_with(reader: Any, context: PollContext) -> Any:
        given = dataclasses.replace(context, inputs={**inputs, **context.inputs})
        return await collector.collect(reader, given)

    return dataclasses.replace(collector, fetch=fetch, fetch_with=fetch_with)


@asynccontextmanager
async def simulated_poller(
    sim: Simulator, account: str, token: str, collectors: tuple[Collector[Any], ...], tmp: Path
) -> AsyncIterator[tuple[Poller, AccountRuntime]]:
    token_file = tmp / account
    token_file.write_text(token)
    clock = Frozen()
    client = DigitalOceanClient(api_url=sim.url, auth_url=sim.url, timeout=10, user_agent="t",
                                observer=Quiet(), clock=clock, rng=random.Random(1))
    source = TokenSource(FileToken(token_file), {})
    budget = RequestBudget(5000, clock, 5000)
    settings = AccountSettings(account, FileToken(token_file), "accounts[0].token_file")
    runtime = AccountRuntime(settings, source, client.account(account, lambda: source.token, budget),
                             budget, classify({"scopes": ["read"]}, 0))
    poller = Poller(
        collectors=collectors,
        settings={c.name: CollectorSettings(True, c.interval, 3 * c.interval) for c in collectors},
        store=SnapshotStore(), token_policy=TokenPolicy(), clock=clock, log=get_logger("test"),
        remember_secret=lambda s: None,
    )
    poller.accounts = [runtime]
    try:
        yield poller, runtime
    finally:
        await poller.stop()
        await client.aclose()
