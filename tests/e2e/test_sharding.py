"""Sharding and replicas end to end: real exporter processes against one simulator.

- Three shards (`--shard i --total-shards 3`) with the same config: the simulator's request log
  shows every account's token used by exactly one shard (a sharded exporter names its shard in
  its User-Agent), and the union of the three shards' data series equals what one unsharded
  exporter serves against the same simulator (frozen clock: the same fleet, the same values).
- `api.replicas: 2`: two processes with the same config spend, together, at most each token's
  budget; with `api.replicas: 1` the same two spend twice it (the HA bill the setting prevents).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporter import __version__
from exporter.selfmetrics import SELF_FAMILIES
from exporter.sharding import shard_of
from exporter.simulator import FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from tests.conftest import ExporterProcess, token_file_config, write_config

pytestmark = pytest.mark.e2e

FROZEN = 1_795_000_000.0  # the simulator's clock: every run sees the same fleet and ages
ACCOUNTS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf")
SHARDS = 3
# Enough products to compare (inventory, derived costs, billing, and catalogs with no account
# label, which every shard serves), few enough for four processes to be ready in seconds; the
# shard filter is the same for every collector, as it only chooses accounts.
COMPARED = ("account", "droplets", "volumes", "load_balancers", "databases", "database_versions",
            "sizes", "billing")
# The exporter's own families (and a histogram's parts): per process, never compared.
SELF_NAMES = {f.name.removesuffix("_total") for f in SELF_FAMILIES}

Series = frozenset[tuple[str, tuple[tuple[str, str], ...], float]]


def token_of(index: int) -> str:
    return "dop_v1_" + f"{index + 1:x}" * 64


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    config = SimulatorConfig(
        accounts=tuple(
            SimAccount(name, tokens=(SimToken(f"{name}-ro", token_of(i)),),
                       fleet=FleetSpec(seed=i + 1, droplets=2 + i % 3, volumes=1))
            for i, name in enumerate(ACCOUNTS)
        ),
        requests_per_hour=1_000_000, requests_per_minute=1_000_000,  # the frozen clock never
    )                                                                # empties a window
    with Simulator(config, clock=lambda: FROZEN) as sim:
        yield sim


def data_series(text: str) -> Series:
    """Every sample of the exposition except the exporter's own families."""
    found = set()
    for family in text_string_to_metric_families(text):
        if family.name in SELF_NAMES:
            continue
        for sample in family.samples:
            found.add((sample.name, tuple(sorted(sample.labels.items())), sample.value))
    return frozenset(found)


def accounts_in(series: Series) -> set[str]:
    return {value for _, labels, _ in series for key, value in labels if key == "account"}


# Families whose value depends on when the exporter renders (its wall clock), not on the data.
CLOCK_DEPENDENT = {"digitalocean_transfer_pool_accrued_bytes"}


def exact(series: Series) -> Series:
    return frozenset(s for s in series if s[0] not in CLOCK_DEPENDENT)


def by_key(series: Series) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(name, labels): value for name, labels, value in series}


def without_account(series: Series) -> Series:
    return frozenset(s for s in series if "account" not in dict(s[1]))


def only(collectors: tuple[str, ...]) -> str:
    from exporter.collectors import COLLECTORS  # noqa: PLC0415

    return "collectors:\n" + "".join(
        f"  {c.name}: {{enabled: {'true' if c.name in collectors else 'false'}}}\n"
        for c in COLLECTORS)


def test_three_shards_poll_each_account_once_and_together_serve_the_unsharded_series(
    simulator: Simulator, tmp_path: Path
) -> None:
    owner = {name: shard_of(name, SHARDS) for name in ACCOUNTS}
    assert set(owner.values()) == set(range(SHARDS))  # every shard owns at least one account
    config = write_config(tmp_path, token_file_config(
        tmp_path, simulator.url, {name: token_of(i) for i, name in enumerate(ACCOUNTS)})
        + only(COMPARED))
    common = ["--config.file", str(config)]
    processes = [ExporterProcess([*common, "--shard", str(i), "--total-shards", str(SHARDS)], tmp_path)
                 for i in range(SHARDS)]
    whole = ExporterProcess(common, tmp_path)
    try:
        for process in [*processes, whole]:
            process.wait_ready(timeout=60)
        shard_series = [data_series(p.metrics()) for p in processes]
        unsharded = data_series(whole.metrics())
        entries = simulator.requests.entries()
    finally:
        for process in [*processes, whole]:
            process.stop()

    # the request log: which shard sent each account's token (token/info included)
    agents = {f"digitalocean-exporter/{__version__} (shard {i} of {SHARDS})": i
              for i in range(SHARDS)}
    plain = f"digitalocean-exporter/{__version__}"
    used_by: dict[str, set[int]] = {name: set() for name in ACCOUNTS}
    for entry in entries:
        assert entry.account is not None, entry
        assert entry.token_name == f"{entry.account}-ro", entry
        if entry.user_agent == plain:
            continue  # the unsharded exporter, which polls every account
        used_by[entry.account].add(agents[entry.user_agent or ""])
    assert used_by == {name: {owner[name]} for name in ACCOUNTS}
    assert {e.account for e in entries if e.user_agent == plain} == set(ACCOUNTS)

    # the series: each shard serves its own accounts only, and together exactly the whole; the
    # catalogs without an account label (sizes, engine versions) are the same in every shard
    for i, series in enumerate(shard_series):
        assert accounts_in(series) == {name for name in ACCOUNTS if owner[name] == i}
        assert without_account(series) == without_account(unsharded)
    assert len(unsharded - without_account(unsharded)) > 20 * len(ACCOUNTS)  # real data
    assert without_account(unsharded)
    per_account = [s - without_account(s) for s in shard_series]
    assert sum(len(s) for s in per_account) == len(frozenset().union(*per_account))  # disjoint
    union = frozenset().union(*shard_series)
    assert exact(union) == exact(unsharded)
    # the allowance accrued so far this month grows with the exporter's own clock at render
    # time (not the simulator's): the same series, values within the seconds between renders
    moving, whole_moving = by_key(union - exact(union)), by_key(unsharded - exact(unsharded))
    assert moving.keys() == whole_moving.keys()
    assert len(moving) == len(ACCOUNTS)
    for key, value in moving.items():
        assert value == pytest.approx(whole_moving[key], rel=1e-3), key


def replicas_config(tmp_path: Path, sim: Simulator, replicas: int, per_hour: int) -> Path:
    return write_config(tmp_path, token_file_config(
        tmp_path, sim.url, {name: token_of(i) for i, name in enumerate(ACCOUNTS[:2])},
        api_extra=f", requests_per_hour: {per_hour}, replicas: {replicas}"))


def spent(sim: Simulator) -> dict[str, int]:
    return {name: sim.requests.count(token_name=f"{name}-ro") for name in ACCOUNTS[:2]}


def settle(sim: Simulator, at_least: int, timeout: float = 30.0, quiet: float = 1.0) -> dict[str, int]:
    """Each token's count once every token reached `at_least` and nothing more came for `quiet`
    seconds (the budgets bind: every further request waits for the hour to roll)."""
    deadline = time.monotonic() + timeout
    last, since = spent(sim), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = spent(sim)
        if now != last:
            last, since = now, time.monotonic()
        elif min(now.values()) >= at_least and time.monotonic() - since >= quiet:
            return now
    raise AssertionError(f"the request counts did not settle: {last}")


@pytest.mark.parametrize("replicas", [2, 1])
def test_two_replicas_stay_inside_each_tokens_budget_only_with_api_replicas_2(
    simulator: Simulator, tmp_path: Path, replicas: int
) -> None:
    """A budget of 20 an hour per token binds at once: the first polls of the default collectors
    want far more than 20 requests per process. The window is shorter than an hour, so every
    rolling hour that holds it holds at least these requests: a count over budget here is over
    budget in DigitalOcean's window too. With api.replicas: 2 each process stops at 10; with 1
    (the mistake the setting is for) each stops at 20, and together they spend 40."""
    per_hour = 20
    config = replicas_config(tmp_path, simulator, replicas, per_hour)
    processes = [ExporterProcess(["--config.file", str(config)], tmp_path) for _ in range(2)]
    try:
        counts = settle(simulator, at_least=2 * (per_hour // replicas))
        assert all(p.process.poll() is None for p in processes), processes[0].output()
    finally:
        for process in processes:
            process.stop()
    if replicas == 2:
        assert counts == dict.fromkeys(ACCOUNTS[:2], per_hour)  # each process spent its half
    else:
        assert counts == dict.fromkeys(ACCOUNTS[:2], 2 * per_hour)  # twice the token's budget
