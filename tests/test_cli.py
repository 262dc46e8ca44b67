"""The real daemon as a subprocess against the simulator: exit codes, refusal, leaks, signals."""

from __future__ import annotations

import json
import logging
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import structlog

from exporter import __version__
from exporter.cli import EXIT_CODES, main
from exporter.collectors import COLLECTORS
from exporter.daemon import EXIT_OK, EXIT_REFUSED, EXIT_RUNTIME
from exporter.sharding import shard_of
from exporter.simulator import Fault, FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from tests.conftest import (
    OTHER_TOKEN,
    READ_TOKEN,
    WRITE_TOKEN,
    ExporterProcess,
    token_file_config,
    write_config,
    write_token,
)

SCOPES_WITHOUT_BILLING = ("account:read", "droplet:read", "block_storage:read")


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    config = SimulatorConfig(accounts=(
        SimAccount("production", tokens=(
            SimToken("production-ro", READ_TOKEN),
            SimToken("production-write", WRITE_TOKEN, scopes=("droplet:read", "droplet:delete")),
        ), fleet=FleetSpec(seed=1, droplets=450, volumes=20)),
        SimAccount("staging", tokens=(
            SimToken("staging-partial", OTHER_TOKEN, scopes=SCOPES_WITHOUT_BILLING),
        ), fleet=FleetSpec(seed=2, droplets=5, volumes=2)),
    ))
    with Simulator(config) as sim:  # started on 127.0.0.1 by the context manager
        yield sim


def config_for(tmp_path: Path, sim: Simulator, accounts: dict[str, str], extra: str = "",
               api_extra: str = "") -> Path:
    return write_config(tmp_path, token_file_config(tmp_path, sim.url, accounts, api_extra) + extra)


def run(args: list[str], timeout: float = 10) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "exporter", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_version() -> None:
    result = run(["--version"])
    assert result.returncode == 0
    assert result.stdout.startswith("digitalocean-exporter 0.")


def test_config_check_ok_prints_summary_without_token(tmp_path: Path, simulator: Simulator) -> None:
    config = config_for(tmp_path, simulator, {"production": READ_TOKEN})
    result = run(["--config.file", str(config), "--config.check"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"configuration OK ({config})\naccounts (1):\n  production  token file")
    assert READ_TOKEN not in result.stdout + result.stderr


def test_collector_flags_override_the_config(tmp_path: Path, simulator: Simulator) -> None:
    config = config_for(tmp_path, simulator, {"production": READ_TOKEN},
                        extra="collectors:\n  volumes: {enabled: false}\n")
    result = run(["--config.file", str(config), "--config.check", "--no-collector.billing",
                  "--collector.volumes"])
    assert result.returncode == 0, result.stderr
    assert "  billing: disabled" in result.stdout.splitlines()
    assert "  volumes: every 1m, stale after 3m" in result.stdout.splitlines()
    assert "  droplets: every 1m, stale after 3m" in result.stdout.splitlines()


def test_config_check_invalid_exits_2_with_every_problem(tmp_path: Path) -> None:
    config = write_config(tmp_path, "accounts:\n  - name: a\n    token_file: /nope\napi: {timeout: x}\n")
    result = run(["--config.file", str(config), "--config.check"])
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"invalid configuration ({config}):",
        "  accounts[0].token_file: token file /nope does not exist",
        "  api.timeout: 'x' is not a duration; use a number with a unit, e.g. 30s, 5m, 1h",
    ]


def test_config_file_from_environment_variable(tmp_path: Path, simulator: Simulator) -> None:
    config = config_for(tmp_path, simulator, {"production": READ_TOKEN})
    result = subprocess.run([sys.executable, "-m", "exporter", "--config.check"], capture_output=True,
                            text=True, timeout=10, check=False,
                            env={"DO_EXPORTER_CONFIG": str(config), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr


def test_write_capable_token_exits_2_quickly_naming_account_and_scopes(
    tmp_path: Path, simulator: Simulator
) -> None:
    config = config_for(tmp_path, simulator, {"production": WRITE_TOKEN})
    started = time.monotonic()
    exporter = ExporterProcess(["--config.file", str(config)], tmp_path)
    code = exporter.wait(timeout=10)
    elapsed = time.monotonic() - started
    assert code == 2
    assert elapsed < 5
    output = exporter.output()
    assert WRITE_TOKEN not in output
    [refusal] = [e for e in exporter.log_events() if e.get("level") == "error"]
    assert refusal["account"] == "production"
    assert refusal["scopes"] == ["droplet:delete"]
    assert "(scopes: droplet:delete); refusing to use it" in refusal["event"]
    assert "Create a read-only token" in refusal["event"]


def test_invalid_token_exits_2_naming_the_token_file(tmp_path: Path, simulator: Simulator) -> None:
    config = config_for(tmp_path, simulator, {"production": "dop_v1_" + "0" * 64})
    exporter = ExporterProcess(["--config.file", str(config)], tmp_path)
    assert exporter.wait(timeout=10) == 2
    [refusal] = [e for e in exporter.log_events() if e.get("level") == "error"]
    token_file = tmp_path / "production"
    assert refusal["event"] == (
        f'account "production" (token file {token_file}): DigitalOcean rejected the token (HTTP '
        "401 from /v1/oauth/token/info); it is invalid, expired or revoked. Create a read-only "
        "token in the DigitalOcean control panel (API > Tokens > Generate New Token, custom "
        'scopes that all end in ":read", except partner_network_connect:read, which can change '
        f"infrastructure) and update token file {token_file}."
    )
    assert "accounts[0]" not in exporter.output()


def test_read_only_token_and_default_account_from_environment(
    tmp_path: Path, simulator: Simulator
) -> None:
    config = write_config(tmp_path, f"api: {{url: '{simulator.url}', auth_url: '{simulator.url}'}}\n")
    exporter = ExporterProcess(["--config.file", str(config)], tmp_path,
                               env={"DIGITALOCEAN_TOKEN": READ_TOKEN})
    try:
        exporter.wait_ready()
        metrics = exporter.metrics()
        assert 'digitalocean_token_read_only{account="default"} 1.0' in metrics
        assert metrics.count('digitalocean_droplet_info{account="default"') == 450
        # 450 droplets: exactly ceil(450/200) = 3 requests to the default list
        default_list = [r for r in simulator.requests.entries()
                        if r.endpoint == "/v2/droplets" and "type=gpus" not in r.path]
        assert len(default_list) == 3
    finally:
        assert exporter.stop() == 0


def test_token_never_appears_on_any_path(tmp_path: Path, simulator: Simulator) -> None:
    """Success, 401, 403, 429, 5xx and timeouts, at debug level: no token anywhere."""
    simulator.set_faults([
        Fault("rate_limit", endpoint="/v2/account", account="production", count=1, retry_after=1),
        # listed first so it sees the first request too (the first fault that answers ends
        # the evaluation): the first volumes request gets a 500, the retry hangs
        Fault("hang", endpoint="/v2/volumes", account="production", seconds=3, after=1, count=1),
        Fault("error", endpoint="/v2/volumes", account="production", status=500, count=1),
    ])
    config = config_for(
        tmp_path, simulator, {"production": READ_TOKEN, "staging": OTHER_TOKEN},
        api_extra=", timeout: 1s", extra="collectors:\n  droplets: {interval: 5s}\n",
    )
    exporter = ExporterProcess(["--config.file", str(config), "--log.level", "debug"], tmp_path)
    try:
        exporter.wait_ready()
        simulator.revoke_token("production-ro")  # the next droplet poll gets a 401
        deadline = time.monotonic() + 15
        metrics = exporter.metrics()
        while 'digitalocean_token_valid{account="production"} 0.0' not in metrics:
            assert time.monotonic() < deadline, exporter.output()
            time.sleep(0.2)
            metrics = exporter.metrics()
        readyz = httpx.get(f"{exporter.url}/readyz").text
        landing = httpx.get(f"{exporter.url}/").text
    finally:
        assert exporter.stop() == 0
    codes = {line.split('code="')[1].split('"')[0] for line in metrics.splitlines()
             if line.startswith("digitalocean_api_requests_total")}
    assert {"200", "401", "403", "429", "500", "timeout"} <= codes
    everything = exporter.output() + metrics + readyz + landing
    # debug logging really ran, so there was something to scan; the libraries' chatter stays out
    events = exporter.log_events()
    assert any(e.get("level") == "debug" and e.get("logger") == "exporter" for e in events)
    assert not [e for e in events if str(e.get("logger", "")).startswith(("httpx", "httpcore"))]
    for token in (READ_TOKEN, OTHER_TOKEN):
        assert token not in everything
        assert token[7:] not in everything  # not even without its prefix


def test_metrics_answer_from_cache_while_the_api_hangs(tmp_path: Path, simulator: Simulator) -> None:
    config = config_for(tmp_path, simulator, {"production": READ_TOKEN},
                        api_extra=", timeout: 2s", extra="collectors:\n  droplets: {interval: 5s}\n")
    exporter = ExporterProcess(["--config.file", str(config)], tmp_path)
    try:
        exporter.wait_ready()
        simulator.set_faults([Fault("hang", seconds=60)])
        deadline = time.monotonic() + 20
        slowest = 0.0
        # scrape until the exporter itself reports a request that timed out: by then a poll
        # has been stuck on the hanging API for a while
        while True:
            assert time.monotonic() < deadline, exporter.output()
            started = time.monotonic()
            metrics = exporter.metrics(timeout=2)
            slowest = max(slowest, time.monotonic() - started)
            assert metrics.count('digitalocean_droplet_info{account="production"') == 450
            if 'code="timeout",endpoint="/v2/droplets"' in metrics:
                break
            time.sleep(0.1)
        assert slowest < 1.0
    finally:
        simulator.clear_faults()
        assert exporter.stop() == 0


def test_sighup_with_a_broken_config_keeps_the_running_one(
    tmp_path: Path, simulator: Simulator
) -> None:
    config = config_for(tmp_path, simulator, {"production": READ_TOKEN})
    exporter = ExporterProcess(["--config.file", str(config)], tmp_path)
    try:
        exporter.wait_ready()
        good = config.read_text()
        config.write_text(good + "bogus: 1\n")
        exporter.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while not any("reload failed" in e.get("event", "") for e in exporter.log_events()):
            assert time.monotonic() < deadline, exporter.output()
            time.sleep(0.05)
        assert 'digitalocean_droplet_info{account="production"' in exporter.metrics()
        [failure] = [e for e in exporter.log_events() if "reload failed" in e.get("event", "")]
        assert failure["problems"] == ["bogus: unknown key; known keys are accounts, tokens_dir, "
                                       "token_policy, api, collectors, pricing"]
        # a good config with a second account is taken
        config.write_text(good.replace(
            "api:", f"  - name: staging\n    token_file: {write_token(tmp_path, 's', OTHER_TOKEN)}\napi:"
        ))
        exporter.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while 'digitalocean_droplet_info{account="staging"' not in exporter.metrics():
            assert time.monotonic() < deadline, exporter.output()
            time.sleep(0.1)
    finally:
        assert exporter.stop() == 0


def test_the_simulator_is_imported_for_demo_only() -> None:
    program = ("import sys, exporter.cli; "
               "print(sorted(m for m in sys.modules if m.startswith('exporter.simulator')))")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "[]"


# -- --config.check verifies every token online (issue 13 item 3, issue 16 points 1 and 10) ------


def test_config_check_names_the_source_of_a_rejected_token(tmp_path: Path, simulator: Simulator) -> None:
    bad = "dop_v1_" + "0" * 64
    config = config_for(tmp_path, simulator, {"production": bad})
    result = run(["--config.file", str(config), "--config.check"])
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f'account "production" (token file {tmp_path / "production"}): DigitalOcean rejected the '
        "token (HTTP 401 from /v1/oauth/token/info); it is invalid, expired or revoked. Create a "
        'read-only token in the DigitalOcean control panel (API > Tokens > Generate New Token, '
        'custom scopes that all end in ":read", except partner_network_connect:read, which can '
        f'change infrastructure) and update token file {tmp_path / "production"}.',
        "token check failed for 1 of 1 account: production; the exporter would exit 2 at startup",
    ]
    assert "accounts[0]" not in result.stderr
    assert bad not in result.stdout + result.stderr
    # the same from an environment variable: the variable is named
    env_config = write_config(tmp_path, f"accounts:\n  - name: production\n    token_env: DO_PROD\n"
                                        f"api: {{url: '{simulator.url}', auth_url: '{simulator.url}'}}\n")
    result = subprocess.run([sys.executable, "-m", "exporter", "--config.file", str(env_config),
                             "--config.check"], capture_output=True, text=True, timeout=10,
                            check=False, env={"DO_PROD": bad, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert result.stderr.startswith('account "production" (environment variable DO_PROD): '
                                    "DigitalOcean rejected the token")
    assert bad not in result.stdout + result.stderr


def test_config_check_refuses_a_write_token(tmp_path: Path, simulator: Simulator) -> None:
    config = config_for(tmp_path, simulator, {"production": WRITE_TOKEN})
    result = run(["--config.file", str(config), "--config.check"])
    assert result.returncode == 2
    assert "the token can change infrastructure (scopes: droplet:delete); refusing" in result.stderr
    assert "  excess scopes (no enabled collector needs them): droplet:delete" in result.stdout
    assert "    can change infrastructure: droplet:delete appears on" in result.stdout
    assert WRITE_TOKEN not in result.stdout + result.stderr
    # the file-only check does not ask DigitalOcean
    before = len(simulator.requests.entries())
    offline = run(["--config.file", str(config), "--config.check", "--offline"])
    assert offline.returncode == 0, offline.stderr
    assert len(simulator.requests.entries()) == before


def test_config_check_prints_the_least_privilege_report(tmp_path: Path, simulator: Simulator) -> None:
    config = config_for(tmp_path, simulator, {"staging": OTHER_TOKEN},
                        extra="collectors:\n" + "".join(
                            f"  {c.name}: {{enabled: false}}\n" for c in COLLECTORS
                            if c.name not in ("account", "droplets", "volumes", "billing")))
    result = run(["--config.file", str(config), "--config.check"])
    assert result.returncode == 0, result.stderr
    _, report_text, plan_text = result.stdout.split("\n\n")
    report = report_text.splitlines()
    assert report == [
        f'account "staging" (token file {tmp_path / "staging"}): token verified read-only',
        "  scopes held (3): account:read, block_storage:read, droplet:read",
        "  scopes needed by the enabled collectors (4): account:read (account), billing:read "
        "(billing), block_storage:read (volumes), droplet:read (droplets)",
        "  scopes only some fields need, the collector runs without (4): image:read (droplets), "
        "reserved_ip:read (account), tag:read (droplets), vpc:read (droplets)",
        "  missing scopes, and what will be empty:",
        "    billing:read: every series of the billing collector",
        "    reserved_ip:read: digitalocean_account_reserved_ip_limit (account floating_ip_limit)",
        "    tag:read: the tag label of digitalocean_droplet_tag_info (droplets tags)",
        "    vpc:read: the vpc_uuid label of digitalocean_droplet_info (droplets vpc_uuid)",
        "    image:read: the image label of digitalocean_droplet_info (droplets image)",
        "  excess scopes (no enabled collector needs them): none",
        "  custom scopes to tick in the control panel (API > Tokens > Generate New Token > Custom "
        "Scopes), 8: account:read billing:read block_storage:read droplet:read image:read "
        "reserved_ip:read tag:read vpc:read",
    ]
    # the request plan, measured by one poll of each collector (billing lacks its scope)
    *rows, billing, done = plan_text.splitlines()
    assert rows == [
        'request plan of account "staging" (budget 4000 requests/hour, planned to 194):',
        "  account   1 per poll, 12/hour, every 5m",
        "  droplets  2 per poll, 120/hour, every 1m",
        "  volumes   1 per poll, 60/hour, every 1m",
    ]
    # billing asks for its balance and invoices side by side: either 403 may come first
    assert re.match(r"  billing   not measured: /v2/customers/my/(balance|invoices): HTTP 403 ",
                    billing), billing
    assert done == "tokens OK (1 verified with DigitalOcean)"
    assert OTHER_TOKEN not in result.stdout + result.stderr


def test_config_check_into_a_closed_pipe_ends_quietly(tmp_path: Path, simulator: Simulator) -> None:
    """`--config.check | head`: the reader is gone before the first line is written."""
    config = config_for(tmp_path, simulator, {"production": READ_TOKEN})
    process = subprocess.Popen([sys.executable, "-m", "exporter", "--config.file", str(config),
                                "--config.check"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=20) == 0, stderr
    assert "Traceback" not in stderr
    assert "BrokenPipeError" not in stderr


# -- the listen address and the exit codes (issue 16 point 3) ------------------------------------


def test_a_busy_port_names_the_flag_and_exits_1_so_systemd_retries(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(["--demo", "--web.listen-address", f"127.0.0.1:{port}"], timeout=30)
    assert result.returncode == 1
    [error] = [json.loads(line) for line in result.stderr.splitlines()
               if json.loads(line)["level"] == "error"]
    assert error["event"] == (
        f"--web.listen-address 127.0.0.1:{port}: the address is already in use (another exporter "
        "running?); stop it or choose another port"
    )


def test_a_url_as_listen_address_is_refused_naming_the_flag() -> None:
    result = run(["--web.listen-address", "http://127.0.0.1:9212"])
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "--web.listen-address: 'http://127.0.0.1:9212' is a URL, not [host]:port; drop the scheme "
        "http:// (and any path) and give '127.0.0.1:9212'"
    ]


def test_exit_codes_are_documented_in_help_and_docs() -> None:
    result = run(["--help"])
    assert result.returncode == 0
    assert EXIT_CODES in result.stdout
    docs = (Path(__file__).parent.parent / "docs" / "deploy.md").read_text()
    section = docs.split("## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    for code, meaning in ((EXIT_OK, "stopped on request"),
                          (EXIT_RUNTIME, "a runtime failure a restart may fix"),
                          (EXIT_REFUSED, "a problem a restart cannot fix")):
        assert f"| `{code}` | {meaning}" in section


@pytest.fixture
def in_process() -> Iterator[None]:
    """`main()` in this process configures logging; leave it as it was found."""
    yield
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


@pytest.mark.usefixtures("in_process")
@pytest.mark.parametrize(("flags", "env", "message"), [
    (["--shard", "3", "--total-shards", "3"], {},
     "--shard: shard 3 is outside 0..2 for --total-shards 3; shards are numbered from 0 to the "
     "number of shards minus 1"),
    (["--total-shards", "0"], {}, "--total-shards: 0 is outside 1..1000; give the number of "
     "exporter processes that share the configuration (1: no sharding)"),
    (["--shard.auto", "--total-shards", "3"], {"POD_NAME": "digitalocean-exporter"},
     "--shard.auto: the pod name 'digitalocean-exporter' (env POD_NAME) does not end in "
     "-<ordinal> as a StatefulSet pod's does (e.g. digitalocean-exporter-2); set POD_NAME from "
     "the downward API (fieldRef metadata.name) in a StatefulSet, or give --shard N instead"),
])
def test_bad_shard_flags_exit_2_naming_the_flag(
    flags: list[str], env: dict[str, str], message: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["--config.check", "--offline", *flags]) == EXIT_REFUSED
    assert capsys.readouterr().err.strip() == message


@pytest.mark.usefixtures("in_process")
def test_a_shard_flag_that_is_not_a_number_is_an_argparse_error(
    capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--shard", "one"])
    assert exit_.value.code == EXIT_REFUSED
    assert "argument --shard: 'one' is not a whole number" in capsys.readouterr().err


@pytest.mark.usefixtures("in_process")
def test_config_check_of_a_shard_plans_its_accounts_only(
    tmp_path: Path, simulator: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(tmp_path, simulator, {"production": READ_TOKEN, "staging": OTHER_TOKEN},
                        api_extra=", replicas: 2, requests_per_hour: 3000",
                        extra="collectors: {billing: {enabled: false}}\n")
    owner = {name: shard_of(name, 2) for name in ("production", "staging")}
    assert set(owner.values()) == {0, 1}  # the two names land on different shards of 2
    for shard in (0, 1):
        simulator.requests.clear()
        assert main(["--config.file", str(config), "--config.check", "--shard", str(shard),
                     "--total-shards", "2"]) == EXIT_OK
        out = capsys.readouterr().out
        mine = next(n for n, s in owner.items() if s == shard)
        other = next(n for n, s in owner.items() if s != shard)
        assert f"accounts (1):\n  {mine}  token file" in out
        assert (f"sharding: shard {shard} of 2: 1 of 2 accounts (the other 1 is polled by the "
                "other shards)") in out
        assert (f'request plan of account "{mine}", polled by shard {shard} of 2 (budget 1500 '
                "requests/hour, 1/2 of the token's: api.replicas 2 processes poll it") in out
        assert f'"{other}"' not in out
        assert ("budget 3000 requests/hour per token, shared by 2 replicas (api.replicas: each "
                "polls every account with the same tokens): 1500 requests/hour per token for this "
                "process") in out
        assert f"tokens OK (1 of shard {shard} of 2 verified with DigitalOcean)" in out
        used = {r.account for r in simulator.requests.entries()}
        assert used == {mine}  # the other shard's token was never sent
        agents = {r.user_agent for r in simulator.requests.entries()}
        assert agents == {f"digitalocean-exporter/{__version__} (shard {shard} of 2)"}
