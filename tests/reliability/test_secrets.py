"""Secrets: no token on any fault path (logs at debug, metrics, probes, landing page,
`--config.check`), no database credential kept, warnings for files others can read, and no
plain-http API URL to a remote host."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from exporter.collectors.databases import DatabaseRecord
from exporter.simulator import Fault, FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from tests.conftest import (
    OTHER_TOKEN,
    READ_TOKEN,
    WRITE_TOKEN,
    ExporterProcess,
    two_accounts,
    write_config,
    write_token,
)
from tests.reliability.conftest import (
    Exposition,
    Harness,
    OffsetClock,
    collectors_config,
    eventually,
    start_daemon,
    write_settings,
)

INVALID_TOKEN = "dop_v1_" + "0" * 64  # unknown to DigitalOcean: token/info answers 401
NEW_TOKEN = "dop_v1_" + "feed" * 16
SECRETS = {"READ_TOKEN": READ_TOKEN, "OTHER_TOKEN": OTHER_TOKEN, "WRITE_TOKEN": WRITE_TOKEN,
           "INVALID_TOKEN": INVALID_TOKEN, "NEW_TOKEN": NEW_TOKEN}
ENABLED = ("account", "droplets", "volumes", "snapshots", "tags", "sizes")


def leaks(text: str, secrets: dict[str, str] = SECRETS) -> list[str]:
    """The names of the secrets found in `text`, whole or without their `dop_v1_` prefix."""
    return [name for name, secret in secrets.items()
            if secret in text or secret.removeprefix("dop_v1_") in text]


def test_the_scan_catches_a_planted_token() -> None:
    assert leaks("nothing secret here") == []
    assert leaks(f'{{"event": "x", "headers": "Bearer {READ_TOKEN}"}}') == ["READ_TOKEN"]
    assert leaks(f"token={WRITE_TOKEN.removeprefix('dop_v1_')}") == ["WRITE_TOKEN"]
    assert leaks(OTHER_TOKEN + NEW_TOKEN) == ["OTHER_TOKEN", "NEW_TOKEN"]


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    config = two_accounts(FleetSpec(seed=1, droplets=450, volumes=4),
                          FleetSpec(seed=2, droplets=5, volumes=2))
    with Simulator(config) as sim:
        yield sim


class Watched:
    """The exporter subprocess, with waits on its JSON log and its metrics."""

    def __init__(self, exporter: ExporterProcess, requests: Callable[[], int]) -> None:
        self.exporter = exporter
        self.requests = requests  # how many API requests were made so far (the simulator's log)

    def events(self, **match: Any) -> list[dict[str, Any]]:
        return [e for e in self.exporter.log_events()
                if all(v(e.get(k)) if callable(v) else e.get(k) == v for k, v in match.items())]

    def wait(self, check: Callable[[], bool], what: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert self.exporter.process.poll() is None, self.exporter.output()
            assert time.monotonic() < deadline, f"{what}:\n{self.exporter.output()[-3000:]}"
            time.sleep(0.1)

    def wait_event(self, what: str, count: int = 1, timeout: float = 20, **match: Any) -> None:
        self.wait(lambda: len(self.events(**match)) >= count, what, timeout)

    def metrics(self) -> Exposition:
        return Exposition(self.exporter.metrics())

    def settle(self, quiet: float = 0.7) -> None:
        """Wait until no request has been made for `quiet` seconds.

        A signal that lands while a poll opens a connection can be lost with the poller's
        cancellation (anyio#1214: a native Task.cancel() swallowed during connect_tcp), and
        the reload or the stop then waits for that poll's next interval. That is a bug of its
        own (see docs/reliability.md); this test is about secrets, so it signals a quiet
        exporter.
        """
        seen, since = self.requests(), time.monotonic()
        while time.monotonic() - since < quiet:
            time.sleep(0.1)
            now = self.requests()
            if now != seen:
                seen, since = now, time.monotonic()

    def reload(self) -> None:
        """SIGHUP once the exporter is quiet, and wait until it was handled."""
        self.settle()
        done = len(self.events(event_source="reload"))
        self.exporter.process.send_signal(signal.SIGHUP)
        self.wait_event("reload handled", done + 1, event_source="reload")


def text_has(fragment: str) -> Callable[[object], bool]:
    return lambda value: isinstance(value, str) and fragment in value


def test_no_token_appears_on_any_fault_path(tmp_path: Path, simulator: Simulator) -> None:
    """Every fault of the matrix, in one debug-level run; then every output is scanned."""
    tokens = {"production": READ_TOKEN, "staging": OTHER_TOKEN}
    config = write_settings(tmp_path, simulator.url, tokens, enabled=ENABLED)
    good_config = config.read_text()
    exporter = ExporterProcess(["--config.file", str(config), "--log.level", "debug"], tmp_path)
    run = Watched(exporter, lambda: len(simulator.requests.entries()))
    try:
        exporter.wait_ready()
        # 1. API faults, all at once: 5xx storm, page 3 of 3 failing, 429 with retry-after and
        #    with ratelimit-reset only, truncated JSON, an HTML proxy page, a hang past the
        #    timeout, a connection cut mid-body. A reload starts every collector's poll at once.
        simulator.set_faults([
            Fault("error", endpoint="/v2/droplets", account="production", page=3, status=500),
            Fault("error", endpoint="/v2/volumes", account="production", status=503),
            Fault("rate_limit", endpoint="/v2/account", account="production", retry_after=1, count=1),
            Fault("rate_limit", endpoint="/v2/snapshots", account="production", retry_after=None,
                  reset_in=1, count=1),
            Fault("malformed", endpoint="/v2/tags", account="production", style="truncated"),
            Fault("malformed", endpoint="/v2/sizes", account="production", style="html"),
            Fault("hang", endpoint="/v2/droplets", account="staging", seconds=2, count=6),
            Fault("malformed", endpoint="/v2/volumes", account="staging", style="disconnect"),
        ])
        run.reload()
        for account, collector in (("production", "droplets"), ("production", "volumes"),
                                   ("production", "tags"), ("production", "sizes"),
                                   ("staging", "droplets"), ("staging", "volumes")):
            run.wait_event(f"{account}/{collector} failing", event="poll failed; keeping the last "
                           "good data", account=account, collector=collector)
        run.wait(lambda: all(simulator.faults_fired), "every fault fired")
        simulator.clear_faults()

        # 2. SIGHUP with a broken config
        config.write_text(good_config + "bogus: 1\n")
        run.reload()
        assert run.events(event="configuration reload failed; keeping the running configuration")

        # 3. DNS failure: an API host that does not resolve (token/info cannot answer either)
        write_config(tmp_path, good_config.replace(simulator.url, "https://does-not-exist.invalid")
                     .replace(collectors_config(ENABLED), collectors_config(("droplets",))))
        run.reload()
        run.wait_event("DNS failure seen", event="poll failed; keeping the last good data",
                       error=text_has("ConnectError"), timeout=30)
        write_config(tmp_path, good_config)
        run.reload()

        # 4. an empty fleet, 5. a token revoked at runtime
        simulator.mutate_fleet("production", destroy_droplets=450)
        simulator.revoke_token("staging-ro")
        run.reload()
        run.wait(lambda: not run.metrics().droplet_ids("production"), "production's fleet empty")
        run.wait(lambda: run.metrics().value("digitalocean_token_valid", account="staging") == 0,
                 "staging's token rejected")

        # 6. rotated token files: invalid, write-capable, then a good one
        simulator.add_token("staging", SimToken("staging-write", WRITE_TOKEN,
                                                scopes=("read", "write")))
        simulator.add_token("staging", SimToken("staging-new", NEW_TOKEN))
        write_token(tmp_path, "production", INVALID_TOKEN)
        write_token(tmp_path, "staging", WRITE_TOKEN)
        run.wait_event("both replacements refused", 2, level="error",
                       event=text_has("The previous token stays in use."))
        write_token(tmp_path, "staging", NEW_TOKEN)
        run.wait_event("the good replacement taken", account="staging",
                       event="token changed; using the new token")
        run.wait(lambda: run.metrics().value("digitalocean_token_valid", account="staging") == 1,
                 "staging polling again")

        metrics = exporter.metrics()
        readyz = httpx.get(f"{exporter.url}/readyz").text
        landing = httpx.get(f"{exporter.url}/").text
        run.settle()
    finally:
        simulator.clear_faults()
        assert exporter.stop() == 0
    check = subprocess.run([sys.executable, "-m", "exporter", "--config.file", str(config),
                            "--config.check", "--log.level", "debug"],
                           capture_output=True, text=True, timeout=20, check=False)

    codes = {s.labels["code"] for s in Exposition(metrics).find("digitalocean_api_requests_total")}
    assert {"200", "401", "429", "500", "502", "503", "timeout", "error"} <= codes
    output = exporter.output()
    # debug logging really ran (the exporter's own; the libraries stay at warning)
    assert '"level": "debug"' in output
    everything = "\n".join((output, metrics, readyz, landing, check.stdout, check.stderr))
    assert leaks(everything + READ_TOKEN) == ["READ_TOKEN"]  # this text would show a token
    assert leaks(everything) == []


async def test_database_credentials_are_never_kept(
    tmp_path: Path, logs: tuple[Any, Any]
) -> None:
    stream, redactor = logs
    config = SimulatorConfig(accounts=(SimAccount("production", tokens=(
        SimToken("credentials", READ_TOKEN, scopes=("read", "database:view_credentials")),
    ), fleet=FleetSpec(seed=4, droplets=20, databases=3)),))
    with Simulator(config) as sim:
        # what DigitalOcean sends to such a token: the credentials we must not keep
        body = httpx.get(f"{sim.url}/v2/databases",
                         headers={"Authorization": f"Bearer {READ_TOKEN}"}).json()
        credentials: dict[str, str] = {}  # secret: where DigitalOcean sent it
        for index, database in enumerate(body["databases"]):
            for part in ("connection", "private_connection"):
                credentials.setdefault(database[part]["password"], f"{index}.{part}.password")
                credentials.setdefault(database[part]["uri"], f"{index}.{part}.uri")
            for user in database["users"]:
                credentials.setdefault(user["password"], f"{index}.{user['name']}.password")
        assert len(credentials) >= 3 * 3
        assert all(credentials)

        settings = write_settings(tmp_path, sim.url, {"production": READ_TOKEN},
                                  enabled=("databases",),
                                  extra="token_policy: {write_scopes: warn, excess_scopes: ignore}\n")
        clock = OffsetClock()
        daemon, task = await start_daemon(settings, redactor, clock)
        h = Harness(daemon, task, sim, clock, stream, settings)
        try:
            await eventually(lambda: task.done() or (daemon.server is not None
                                                     and daemon.readiness()[0]))
            assert not task.done(), stream.getvalue()
            snapshot = await h.poll("production", "databases")
            assert snapshot.ok
            assert len(snapshot.data) == 3
            exposition = await h.until_rendered(
                lambda e: len(e.find("digitalocean_database_info")) == 3, "databases rendered")
            landing = (await h.get("/")).text
        finally:
            daemon.request_stop()
            assert await asyncio.wait_for(task, 10) == 0
    [warned] = h.events(level="warning", account="production")
    assert "can change infrastructure (scopes: database:view_credentials); running anyway" \
        in warned["event"]
    fields = {f.name for f in dataclasses.fields(DatabaseRecord)}
    assert not fields & {"connection", "private_connection", "users", "password", "uri"}
    def found_in(text: str) -> list[str]:
        return [name for secret, name in credentials.items() if secret in text]

    records = repr(snapshot.data)
    first_secret, first_name = next(iter(credentials.items()))
    assert found_in(records + first_secret) == [first_name]  # the scan would see a leak
    for where, text in (("records", records), ("exposition", exposition.text),
                        ("logs", stream.getvalue()), ("landing", landing)):
        assert found_in(text) == [], f"credentials in the {where}"
    assert leaks(stream.getvalue()) == []


def test_files_readable_by_others_are_warned_about(tmp_path: Path, simulator: Simulator) -> None:
    token_file = write_token(tmp_path, "production", READ_TOKEN)
    token_file.chmod(0o644)
    config = write_config(tmp_path, (
        f"accounts:\n  - name: production\n    token_file: {token_file}\n"
        f"  - name: staging\n    token: {OTHER_TOKEN}\n"
        f"api: {{url: '{simulator.url}', auth_url: '{simulator.url}'}}\n"
        + collectors_config(("account",))
    ))
    config.chmod(0o644)
    exporter = ExporterProcess(["--config.file", str(config)], tmp_path)
    try:
        exporter.wait_ready()
    finally:
        assert exporter.stop() == 0
    # (the tokens' legacy read scope is warned about too, as it grants secret-revealing reads)
    warnings = [e["event"] for e in exporter.log_events() if e.get("level") == "warning"
                and "can read secrets" not in e["event"]]
    assert warnings == [
        f"accounts[0].token_file: token file {token_file} is readable by other users; chmod 600 it",
        f"accounts[1].token: the config file {config} holds a token and is readable by other "
        "users; chmod 600 it or use token_file",
    ]
    assert leaks(exporter.output()) == []


@pytest.mark.parametrize(("url", "allowed"), [
    ("http://api.example.com", False),
    ("http://203.0.113.7:8080", False),
    ("http://127.0.0.1:8080", True),
    ("http://localhost:8080", True),
    ("http://[::1]:8080", True),
    ("https://api.example.com", True),
])
def test_plain_http_api_urls_are_refused_unless_loopback(
    tmp_path: Path, url: str, allowed: bool
) -> None:
    token = write_token(tmp_path, "t", READ_TOKEN)
    config = write_config(tmp_path, f"accounts: [{{name: a, token_file: {token}}}]\n"
                                    f"api: {{url: '{url}', auth_url: '{url}'}}\n")
    result = subprocess.run([sys.executable, "-m", "exporter", "--config.file", str(config),
                             "--config.check", "--offline"], capture_output=True, text=True,
                            timeout=20,
                            check=False)
    if allowed:
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 2
    problem = (f"{url!r} uses plain http to a non-loopback host; the token would travel in clear "
               "text (use https)")
    assert result.stderr.splitlines() == [f"invalid configuration ({config}):",
                                          f"  api.url: {problem}", f"  api.auth_url: {problem}"]
    # the daemon itself refuses the same way, before any request
    started = subprocess.run([sys.executable, "-m", "exporter", "--config.file", str(config),
                              "--web.listen-address", "127.0.0.1:0"], capture_output=True,
                             text=True, timeout=20, check=False)
    assert started.returncode == 2
    assert f"  api.url: {problem}" in started.stderr.splitlines()
    assert leaks(result.stdout + result.stderr + started.stdout + started.stderr) == []
