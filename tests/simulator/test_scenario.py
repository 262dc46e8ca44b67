"""Scenario files, the demo configuration and the standalone command."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from exporter.simulator import (
    FULL_ACCESS_SCOPES,
    READ_ONLY_SCOPES,
    Fault,
    FleetSpec,
    ScenarioError,
    Simulator,
    demo_config,
    load_scenario,
)
from exporter.simulator.config import generated_token
from exporter.simulator.scenario import bundled_scenario
from exporter.tokens import looks_like_token

from .conftest import DAY, START, ManualClock, alert_worthy, parse_time

PACKAGE = Path(__file__).resolve().parents[2] / "exporter" / "simulator"
REPOSITORY = PACKAGE.parents[1]

SCENARIO = """
seed: 5
rate_limits: {requests_per_hour: 100, requests_per_minute: 10}
accounts:
  - name: production
    team: Prod Team
    tokens:
      - {name: prod-ro, token: sim-secret-prod-ro, scopes: read-only}
      - {name: prod-rw, scopes: full-access, expires_in_seconds: 60}
      - {name: prod-custom, token: sim-secret-custom, scopes: ["droplet:read", "billing:read"]}
    fleet: {seed: 2, droplets: 12, gpu_droplets: 1, volumes: 3, month_to_date_usage: "10.50"}
faults:
  - {kind: error, endpoint: /v2/droplets, page: 3, status: 500, count: 1}
  - {kind: rate_limit, endpoint: /v2/customers/my/balance, retry_after: null, reset_in: 30}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_scenario_file_becomes_a_config(tmp_path: Path) -> None:
    config = load_scenario(write(tmp_path, SCENARIO))
    assert (config.seed, config.requests_per_hour, config.requests_per_minute) == (5, 100, 10)
    (account,) = config.accounts
    assert (account.name, account.team_name) == ("production", "Prod Team")
    ro, rw, custom = account.tokens
    assert (ro.name, ro.token, ro.scopes) == ("prod-ro", "sim-secret-prod-ro", READ_ONLY_SCOPES)
    assert (rw.scopes, rw.expires_in_seconds) == (FULL_ACCESS_SCOPES, 60)
    assert rw.token == generated_token(5, "production", "prod-rw")
    assert custom.scopes == ("droplet:read", "billing:read")
    assert account.fleet == FleetSpec(
        seed=2, droplets=12, gpu_droplets=1, volumes=3, month_to_date_usage="10.50"
    )
    assert config.faults == (
        Fault(kind="error", endpoint="/v2/droplets", page=3, status=500, count=1),
        Fault(
            kind="rate_limit", endpoint="/v2/customers/my/balance", retry_after=None, reset_in=30
        ),
    )


def test_every_problem_is_reported_with_its_key_path(tmp_path: Path) -> None:
    broken = """
accounts:
  - name: production
    colour: blue
    tokens:
      - {token: sim-secret-x}
      - {name: t2, scopes: admin}
    fleet: {droplets: many, account_balance: 12.5, regions: [nyc3, 7]}
faults:
  - {kind: explode}
  - {kind: error, status: "500"}
"""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, broken))
    assert caught.value.problems == [
        "accounts[0].colour: unknown key; "
        "allowed: email, fleet, name, resource_owner_id, team, tokens",
        "accounts[0].tokens[0]: a token needs a name",
        "accounts[0].tokens[1].scopes: unknown preset 'admin'; one of read-only, full-access",
        "accounts[0].fleet.droplets: expected an integer, got 'many'",
        "accounts[0].fleet.regions: expected a list of strings",
        'accounts[0].fleet.account_balance: money is a quoted string like "23.44", got 12.5',
        "faults[0].kind: expected one of latency, error, rate_limit, hang, malformed, "
        "revoke_token, churn, got 'explode'",
        "faults[1].status: expected an integer, got '500'",
    ]
    assert str(caught.value).startswith(f"{tmp_path / 'scenario.yml'}: invalid scenario:")


def test_a_scenario_needs_accounts_and_valid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="at least one account"):
        load_scenario(write(tmp_path, "seed: 1\n"))
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(write(tmp_path, "accounts: [\n"))
    with pytest.raises(ScenarioError, match="token names must be unique"):
        load_scenario(
            write(
                tmp_path,
                "accounts:\n"
                "  - {name: a, tokens: [{name: t}]}\n"
                "  - {name: b, tokens: [{name: t}]}\n",
            )
        )


def test_the_shipped_demo_scenario_is_demo_config() -> None:
    assert load_scenario(PACKAGE / "scenarios" / "demo.yml") == demo_config(seed=0)
    assert bundled_scenario("demo") == demo_config(seed=0)


def test_the_shipped_large_and_flaky_scenarios_load() -> None:
    large = bundled_scenario("large")
    assert large.accounts[0].fleet == FleetSpec(
        seed=7,
        droplets=50_000,
        gpu_droplets=20,
        volumes=5000,
        regions=("nyc1", "nyc3", "sfo3", "ams3", "fra1", "lon1", "sgp1", "tor1", "blr1", "syd1"),
    )
    flaky = bundled_scenario("flaky")
    # token-shaped, so the exporter takes them from the simulator's --tokens-dir output
    assert all(looks_like_token(t.token)
               for account in flaky.accounts for t in account.tokens)
    assert {fault.kind for fault in flaky.faults} == {
        "error",
        "latency",
        "rate_limit",
        "malformed",
        "churn",
    }


def test_demo_config_has_read_only_tokens_and_things_worth_alerting_on(clock: ManualClock) -> None:
    config = demo_config(seed=1)
    assert [account.name for account in config.accounts] == ["production", "staging"]
    simulator = Simulator(config, clock=clock)
    for account in config.accounts:
        assert all(token.scopes == READ_ONLY_SCOPES for token in account.tokens)
        assert all(re.fullmatch(r"dop_v1_[0-9a-f]{64}", token.token) for token in account.tokens)
        fleet = simulator.fleet(account.name)
        assert 10 <= len(fleet.droplets) <= 99
        assert 1 <= len(fleet.gpu_droplets) <= 3
        assert any(not volume.attachments for volume in fleet.volumes)
        assert any(d.as_json()["status"] == "off" for d in fleet.droplets)
    production = simulator.fleet("production").billing
    invoices, _ = production.invoices(START)
    balance = production.balance(START)
    # The month-end forecast (usage extrapolated over the month) is above the last invoice.
    generated = parse_time(balance["generated_at"])
    elapsed = Decimal(int(generated - 1_793_491_200))  # since 2026-11-01T00:00:00Z
    forecast = Decimal(balance["month_to_date_usage"]) * 30 * 86_400 / elapsed
    assert forecast > Decimal(invoices[0]["amount"])
    assert demo_config(seed=1) == demo_config(seed=1)
    assert demo_config(seed=1).accounts[0].tokens != demo_config(seed=2).accounts[0].tokens


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("days_later", [0, 45, 3 * 365])
def test_the_demo_alerts_fire_for_production_only_whatever_the_date(
    clock: ManualClock, seed: int, days_later: int
) -> None:
    """Ages and expiry follow the clock, so the same alerts fire years from now."""
    simulator = Simulator(demo_config(seed=seed), clock=clock)
    now = START + days_later * DAY
    production = alert_worthy(simulator, "production", now)
    assert all(production.values()), production
    assert len(production["unassigned_reserved_ips"]) == 1
    assert len(production["errored_load_balancers"]) == 1
    assert len(production["degraded_clusters"]) == 1
    assert len(production["pools_below_minimum"]) == 1
    assert len(production["databases_not_online"]) == 1
    assert len(production["failed_apps"]) == 1
    assert len(production["expiring_certificates"]) == 1
    assert len(production["uptime_down"]) == 1
    staging = alert_worthy(simulator, "staging", now)
    assert not any(staging.values()), staging
    assert simulator.fleet("staging").resources.objects("registry") == ()
    assert simulator.fleet("production").resources.objects("registry") != ()
    apps = [a.as_json(now) for a in simulator.fleet("production").resources.objects("apps")]
    assert any("in_progress_deployment" in app for app in apps)


def test_new_fleet_keys_in_a_scenario(tmp_path: Path) -> None:
    text = """
accounts:
  - name: acme
    fleet:
      droplets: 30
      snapshots: 4
      reserved_ips: null
      load_balancers: 2
      kubernetes_clusters: 1
      databases: 0
      custom_vpcs: 1
      projects: 3
      registry: false
      problems: true
"""
    (account,) = load_scenario(write(tmp_path, text)).accounts
    assert account.fleet == FleetSpec(
        droplets=30,
        snapshots=4,
        load_balancers=2,
        kubernetes_clusters=1,
        databases=0,
        custom_vpcs=1,
        projects=3,
        registry=False,
        problems=True,
    )
    broken = """
accounts:
  - name: acme
    fleet: {snapshots: -1, registry: "yes", problems: 1, apps: many}
  - name: other
    fleet: {projects: 0}
"""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, broken))
    assert caught.value.problems == [
        "accounts[0].fleet.apps: expected an integer, got 'many'",
        "accounts[0].fleet.snapshots: must not be negative",
        "accounts[0].fleet.registry: expected true, false or null, got 'yes'",
        "accounts[0].fleet.problems: expected true, false or null, got 1",
        "accounts[1].fleet: FleetSpec.projects must be at least 1 (the default project)",
    ]


def test_no_token_secret_is_written_in_the_package() -> None:
    literal = re.compile(r"do[opr]_v1_[0-9a-f]{64}")
    for path in PACKAGE.rglob("*"):
        if path.is_file() and path.suffix in {".py", ".yml", ".md"}:
            assert not literal.search(path.read_text(encoding="utf-8")), path


def run_standalone(tmp_path: Path, *arguments: str) -> tuple[subprocess.Popen[str], str]:
    url_file = tmp_path / "url"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "exporter.simulator",
            "--port",
            "0",
            "--url-file",
            str(url_file),
            *arguments,
        ],
        cwd=REPOSITORY,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
    )
    deadline = time.monotonic() + 20
    while not url_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"simulator did not start: {process.communicate()}")
        time.sleep(0.02)
    return process, url_file.read_text(encoding="utf-8").strip()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_standalone_simulator_serves_a_scenario_and_stops_on_signals(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    scenario = write(tmp_path, SCENARIO)
    tokens_dir = tmp_path / "tokens"
    process, url = run_standalone(
        tmp_path, "--scenario", str(scenario), "--tokens-dir", str(tokens_dir)
    )
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        generated = (tokens_dir / "prod-rw").read_text(encoding="utf-8").strip()
        assert generated == generated_token(5, "production", "prod-rw")
        assert stat.S_IMODE((tokens_dir / "prod-rw").stat().st_mode) == 0o600
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {generated}"}) as client:
            assert client.get("/v1/oauth/token/info").json()["scopes"] == ["read", "write"]
            assert client.get("/v2/droplets").json()["meta"]["total"] == 12
            assert client.get("/v2/droplets", params={"page": 3, "per_page": 5}).status_code == 500
            assert client.get("/v2/customers/my/balance").status_code == 429
    finally:
        process.send_signal(stop_signal)
        stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
    assert url in stdout
    assert "prod-ro" in stdout
    assert "prod-rw" in stdout
    assert "sim-secret" not in stdout + stderr
    assert generated not in stdout + stderr
    assert "simulator stopped" in stdout


def test_standalone_simulator_defaults_to_the_demo_and_refuses_bad_scenarios(
    tmp_path: Path,
) -> None:
    process, _ = run_standalone(tmp_path)
    process.send_signal(signal.SIGTERM)
    stdout, _ = process.communicate(timeout=10)
    assert "account production" in stdout
    assert "production-read-only" in stdout
    assert "dop_v1_" not in stdout
    bad = write(tmp_path, "accounts: 3\n")
    failed = subprocess.run(
        [sys.executable, "-m", "exporter.simulator", "--scenario", str(bad)],
        cwd=REPOSITORY,
        check=False,
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
    )
    assert failed.returncode == 2
    assert "scenario.accounts: expected a list, got int" in failed.stderr
