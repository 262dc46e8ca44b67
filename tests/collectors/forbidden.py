"""A poll of one collector by the real poller, against the simulator, with a token that lacks
one scope: what a 403 does to that collector and to another beside it, and every log line."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exporter.api import DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.clock import SystemClock
from exporter.collectors import COLLECTORS, droplets
from exporter.collectors.base import Collector
from exporter.config import AccountSettings, CollectorSettings, TokenPolicy
from exporter.logs import get_logger
from exporter.poller import AccountRuntime, CollectorState, Poller
from exporter.scopes import classify
from exporter.simulator import FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from exporter.snapshot import Snapshot, SnapshotStore
from exporter.tokens import FileToken, TokenSource
from tests.conftest import READ_TOKEN, captured_logs


@dataclass(frozen=True)
class Refused:
    snapshot: Snapshot  # of the collector whose scope is missing
    state: CollectorState
    beside: Snapshot  # of the droplets collector, polled with the same token
    beside_state: CollectorState
    logs: list[dict[str, Any]]


async def poll_without(collector: Collector[Any], scope: str, fleet: FleetSpec,
                       tmp_path: Path) -> Refused:
    """Poll `collector`, then droplets, with a token holding every collector's scope but
    `scope`, against a simulated `fleet`."""
    scopes = sorted({s for c in COLLECTORS for s in c.scope.split()} - {scope})
    config = SimulatorConfig(accounts=(
        SimAccount("production", tokens=(SimToken("ro", READ_TOKEN, scopes=scopes),), fleet=fleet),
    ))
    token_file = tmp_path / "production"
    token_file.write_text(READ_TOKEN)
    with captured_logs() as (stream, _), Simulator(config) as sim:
        clock = SystemClock()
        client = DigitalOceanClient(
            api_url=sim.url, auth_url=sim.url, timeout=10, user_agent="t", clock=clock,
            observer=type("O", (), {"observe": lambda *a: None})(), rng=random.Random(1),
        )
        source = TokenSource(FileToken(token_file), {})
        budget = RequestBudget(4000, clock)
        settings = AccountSettings("production", FileToken(token_file), "accounts[0].token_file")
        account = AccountRuntime(settings, source, client.account("production", lambda: source.token, budget),
                                 budget, classify({"scopes": scopes}, 0))
        both = (collector, droplets.COLLECTOR)
        poller = Poller(
            collectors=both, settings={c.name: CollectorSettings(True, 60, 180) for c in both},
            store=SnapshotStore(), token_policy=TokenPolicy(), clock=clock,
            log=get_logger("test"), remember_secret=lambda s: None,
        )
        poller.accounts = [account]
        try:
            refused = await poller.poll_once(account, collector)
            beside = await poller.poll_once(account, droplets.COLLECTOR)
        finally:
            await poller.stop()
            await client.aclose()
        logs = [json.loads(line) for line in stream.getvalue().splitlines()]
    return Refused(refused, account.state(collector.name), beside,
                   account.state(droplets.COLLECTOR.name), logs)


def assert_disabled_naming(refused: Refused, collector: Collector[Any]) -> None:
    """The collector failed and is disabled with its scope named in one error line; the
    Droplets collector polled with the same token is unaffected."""
    assert refused.snapshot.error is not None
    assert not refused.state.enabled
    assert refused.state.missing_scope == collector.scope
    assert refused.beside.error is None
    assert refused.beside_state.enabled
    [error] = [e for e in refused.logs if e["level"] == "error"]
    assert (error["collector"], error["scope"]) == (collector.name, collector.scope)
    assert f"the token lacks the {collector.scope} scope" in str(error["event"])
