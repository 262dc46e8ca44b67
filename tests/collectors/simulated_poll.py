"""One account's Poller against a running simulator: the real client, the real poll boundary
and the real logs, for the tests that a 403 disables only its collector and that no secret an
answer carries reaches a record, a series, a log line or an error."""

from __future__ import annotations

import io
import json
import random
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from exporter.api import DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.clock import SystemClock
from exporter.collectors import droplets
from exporter.collectors.base import Collector
from exporter.config import AccountSettings, CollectorSettings, TokenPolicy
from exporter.logs import get_logger
from exporter.poller import AccountRuntime, Poller
from exporter.scopes import classify
from exporter.simulator import Fleet, FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from exporter.snapshot import SnapshotStore
from exporter.tokens import InlineToken, TokenSource
from tests.conftest import READ_TOKEN


class Quiet:
    def observe(self, *args: object) -> None:
        pass


def log_events(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@asynccontextmanager
async def simulated_poller(
    collectors: Sequence[Collector[Any]],
    scopes: Sequence[str],
    fleet: FleetSpec | Fleet | None = None,
) -> AsyncIterator[tuple[Poller, AccountRuntime]]:
    """A Poller of `collectors` for one account ("production") of a simulated `fleet`, whose
    token holds exactly `scopes`. Logs go wherever the caller configured them."""
    config = SimulatorConfig(accounts=(SimAccount(
        "production", tokens=(SimToken("production-ro", READ_TOKEN, scopes=list(scopes)),),
        fleet=fleet if fleet is not None else FleetSpec(seed=5, droplets=10),
    ),))
    clock = SystemClock()
    with Simulator(config) as sim:
        client = DigitalOceanClient(api_url=sim.url, auth_url=sim.url, timeout=10, user_agent="t",
                                    observer=Quiet(), clock=clock, rng=random.Random(1))
        token = InlineToken(READ_TOKEN)
        source = TokenSource(token, {})
        budget = RequestBudget(4000, clock)
        account = AccountRuntime(
            AccountSettings("production", token, "accounts[0].token"), source,
            client.account("production", lambda: source.token, budget), budget,
            classify({"scopes": list(scopes)}, 0),
        )
        poller = Poller(
            collectors=collectors,
            settings={c.name: CollectorSettings(True, 60, 180) for c in collectors},
            store=SnapshotStore(), token_policy=TokenPolicy(), clock=clock,
            log=get_logger("test"), remember_secret=lambda s: None,
        )
        poller.accounts = [account]
        try:
            yield poller, account
        finally:
            await poller.stop()
            await client.aclose()


async def assert_403_disables_only(collector: Collector[Any], stream: io.StringIO) -> None:
    """A token with droplet:read but without `collector.scope`: that collector is disabled with
    its scope named in one error line, and the Droplets keep being polled."""
    async with simulated_poller((droplets.COLLECTOR, collector), ["droplet:read"]) as (poller, account):
        assert not (await poller.poll_once(account, collector)).ok
        assert (await poller.poll_once(account, droplets.COLLECTOR)).ok
        assert not account.state(collector.name).enabled
        assert account.state(collector.name).missing_scope == collector.scope
        assert account.state("droplets").enabled
    [error] = [e for e in log_events(stream) if e["level"] == "error"]
    assert (error["collector"], error["scope"]) == (collector.name, collector.scope)
    assert f"lacks the {collector.scope} scope" in str(error["event"])
