"""Token rotation as Kubernetes does it: the real daemon, as a subprocess, reads its tokens from a
directory laid out like a mounted Secret, and the Secret is updated the way the kubelet's atomic
writer updates it. The simulator's request log tells which token each API request carried.

The layout (kubelet `AtomicWriter`): the files live in a timestamped directory `..2026_...`,
`..data` is a symlink to it, and each key is a symlink `name -> ..data/name`. An update writes
a new timestamped directory, points a new symlink `..data_tmp` at it, renames `..data_tmp` over
`..data` (one atomic step), then removes the old directory; the key symlinks never change.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from exporter.simulator import FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from tests.conftest import ExporterProcess, write_config
from tests.reliability.conftest import collectors_config

OLD_TOKEN = "dop_v1_" + "a11ce" * 12 + "a11c"
NEW_TOKEN = "dop_v1_" + "b0b0" * 16
WRITE_TOKEN = "dop_v1_" + "e7e7" * 16
STAGING_TOKEN = "dop_v1_" + "5ca1e" * 12 + "5ca1"
SECRETS = (OLD_TOKEN, NEW_TOKEN, WRITE_TOKEN, STAGING_TOKEN)
POLLED = ("account", "droplets")
INTERVAL = "5s"  # the shortest interval the config allows: every collector polls every 5 s
TOKEN_INFO = "/v1/oauth/token/info"


class MountedSecret:
    """A directory laid out and updated like a Secret volume by the kubelet."""

    def __init__(self, directory: Path, data: dict[str, str]) -> None:
        self.directory = directory
        directory.mkdir(mode=0o755)
        self._serial = 0
        payload = self._write_payload(data)
        (directory / "..data").symlink_to(payload.name)
        for key in data:
            (directory / key).symlink_to(f"..data/{key}")

    def _write_payload(self, data: dict[str, str]) -> Path:
        self._serial += 1
        stamp = datetime.now(UTC).strftime("%Y_%m_%d_%H_%M_%S")
        payload = self.directory / f"..{stamp}.{self._serial:09d}"
        payload.mkdir(mode=0o755)
        for key, value in data.items():
            path = payload / key
            path.write_text(value)
            path.chmod(0o440)  # defaultMode 0440: group-readable, like the manifests
        return payload

    def update(self, data: dict[str, str]) -> None:
        old = (self.directory / "..data").readlink()
        payload = self._write_payload(data)
        tmp = self.directory / "..data_tmp"
        tmp.symlink_to(payload.name)
        os.replace(tmp, self.directory / "..data")  # rename(2): atomic
        for file in (self.directory / old).iterdir():
            file.unlink()
        (self.directory / old).rmdir()


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    config = SimulatorConfig(accounts=(
        SimAccount("production", fleet=FleetSpec(seed=1, droplets=30, volumes=2), tokens=(
            SimToken("production-old", OLD_TOKEN),
            SimToken("production-new", NEW_TOKEN),
            SimToken("production-write", WRITE_TOKEN, scopes=("read", "write")),
        )),
        SimAccount("staging", fleet=FleetSpec(seed=2, droplets=5),
                   tokens=(SimToken("staging-ro", STAGING_TOKEN),)),
    ))
    with Simulator(config) as sim:
        yield sim


def wait_for(check: Callable[[], bool], what: str, exporter: ExporterProcess,
             timeout: float = 20.0) -> float:
    """Seconds until `check()` held; fails with the exporter's log tail after `timeout`."""
    started = time.monotonic()
    while not check():
        assert exporter.process.poll() is None, f"exporter exited:\n{exporter.output()[-3000:]}"
        assert time.monotonic() - started < timeout, f"{what}:\n{exporter.output()[-3000:]}"
        time.sleep(0.1)
    return time.monotonic() - started


def api_requests(sim: Simulator, account: str) -> list[Any]:
    """The data requests of one account (token/info asked by the token watch excluded)."""
    return [r for r in sim.requests.entries()
            if r.account == account and r.endpoint != TOKEN_INFO]


def test_a_rotated_secret_is_used_without_restart_and_a_write_token_is_refused(
    tmp_path: Path, simulator: Simulator
) -> None:
    secret = MountedSecret(tmp_path / "digitalocean",
                           {"production": OLD_TOKEN + "\n", "staging": STAGING_TOKEN + "\n"})
    config = write_config(tmp_path, (
        f"tokens_dir: {secret.directory}\n"
        f"api: {{url: '{simulator.url}', auth_url: '{simulator.url}'}}\n"
        + collectors_config(POLLED, INTERVAL)
    ))
    exporter = ExporterProcess(["--config.file", str(config)], tmp_path)
    try:
        exporter.wait_ready()
        pid = exporter.process.pid
        assert {r.token_name for r in api_requests(simulator, "production")} == {"production-old"}

        # 1. a new read-only token: verified, then used by the next poll
        simulator.requests.clear()
        secret.update({"production": NEW_TOKEN + "\n", "staging": STAGING_TOKEN + "\n"})
        waited = wait_for(
            lambda: any(r.token_name == "production-new" for r in api_requests(simulator, "production")),
            "the new token was not used for an API request", exporter,
        )
        assert waited < 15  # token file check (5 s) + verification + the next poll (5 s)
        assert simulator.requests.count(endpoint=TOKEN_INFO, token_name="production-new") == 1
        changed = [e for e in exporter.log_events() if e.get("event") == "token changed; using the new token"]
        assert [e.get("account") for e in changed] == ["production"]
        # from then on only the new token: one more full poll cycle, nothing with the old one
        simulator.requests.clear()
        wait_for(lambda: all({r.endpoint for r in api_requests(simulator, account)}
                             >= {"/v2/account", "/v2/droplets"} for account in ("production", "staging")),
                 "no poll of both accounts after the rotation", exporter)
        assert {r.token_name for r in api_requests(simulator, "production")} == {"production-new"}
        assert {r.token_name for r in api_requests(simulator, "staging")} == {"staging-ro"}

        # 2. a write-capable replacement: refused and logged, the previous token stays
        simulator.requests.clear()
        secret.update({"production": WRITE_TOKEN + "\n", "staging": STAGING_TOKEN + "\n"})

        def refused() -> list[dict[str, Any]]:
            return [e for e in exporter.log_events()
                    if e.get("level") == "error" and "can change infrastructure" in e.get("event", "")]

        wait_for(lambda: bool(refused()), "the write-capable token was not refused", exporter)
        [event] = refused()
        assert event["account"] == "production"
        assert 'account "production"' in event["event"]
        assert "(scopes: write)" in event["event"]
        assert event["event"].endswith("The previous token stays in use.")
        # the next polls still carry the previous token; the write token only ever reached
        # token/info, once (a refused token is not offered again until the file changes)
        wait_for(lambda: len([r for r in api_requests(simulator, "production")
                              if r.endpoint == "/v2/droplets"]) >= 2,
                 "no polls after the refusal", exporter)
        assert {r.token_name for r in api_requests(simulator, "production")} == {"production-new"}
        assert simulator.requests.count(token_name="production-write") == 1
        assert simulator.requests.count(endpoint=TOKEN_INFO, token_name="production-write") == 1
        assert exporter.process.pid == pid
        assert exporter.process.poll() is None  # no restart, no crash
        metrics = exporter.metrics()
        assert 'digitalocean_token_read_only{account="production"} 1.0' in metrics
        assert 'digitalocean_collector_success{account="production",collector="droplets"} 1.0' in metrics
    finally:
        assert exporter.stop() == 0
    output = exporter.output()
    assert [s for s in SECRETS if s in output or s.removeprefix("dop_v1_") in output] == []
    assert "Traceback" not in output
