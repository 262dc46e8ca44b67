"""The exporter's own metrics, read from the running state at render time."""

from __future__ import annotations

import platform
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.parser import text_string_to_metric_families as parse_text

from exporter import selfmetrics
from exporter.api import DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.collectors import droplets, volumes
from exporter.config import AccountSettings, CollectorSettings, TokenPolicy
from exporter.exposition import render_registry
from exporter.logs import get_logger
from exporter.poller import AccountRuntime, Poller
from exporter.scopes import classify, unverifiable
from exporter.selfmetrics import PROCESS_FAMILIES, SELF_FAMILIES, SelfRenderer, self_registry
from exporter.sharding import Shard
from exporter.snapshot import Snapshot, SnapshotStore
from exporter.tokens import InlineToken, TokenSource
from tests.conftest import READ_TOKEN, FakeClock, require_tool


def token_of(source: TokenSource) -> Callable[[], str]:
    """The token getter for one account (a lambda in the loop would bind late)."""
    return lambda: source.token


def samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in parse_text(text.decode()) for s in family.samples
    }


async def test_runtime_metrics(tmp_path: Path, clock: FakeClock) -> None:
    store = SnapshotStore()
    collectors = (droplets.COLLECTOR, volumes.COLLECTOR)
    poller = Poller(
        collectors=collectors,
        settings={c.name: CollectorSettings(True, 60, 180) for c in collectors},
        store=store, token_policy=TokenPolicy(), clock=clock, log=get_logger("t"),
        remember_secret=lambda s: None, rng=random.Random(1),
    )
    registry, api_metrics = self_registry(lambda: poller, store, "9.9.9",
                                          shard=lambda: (Shard(1, 3), 3, 8))
    client = DigitalOceanClient(api_url="https://api.digitalocean.com",
                                auth_url="https://cloud.digitalocean.com", timeout=1,
                                user_agent="t", observer=api_metrics, clock=clock)
    accounts = []
    for name, report in (("prod", classify({"scopes": ["read"], "expires_in_seconds": 600}, 1000.0)),
                         ("dev", unverifiable("token/info timed out")),
                         ("scoped", classify({"scopes": ["droplet:read", "genai:read", "app:read",
                                                         "tag:read"]}, 1000.0))):
        source = TokenSource(InlineToken(READ_TOKEN), {})
        budget = RequestBudget(1234, clock)
        api = client.account(name, token_of(source), budget)
        accounts.append(AccountRuntime(AccountSettings(name, InlineToken(READ_TOKEN), "x"),
                                       source, api, budget, report))
    poller.accounts = accounts
    for account in accounts:
        for collector in collectors:
            account.state(collector.name)
    accounts[0].api.rate_limit.remaining = 4321
    accounts[0].api.rate_limit.limit = 5000
    accounts[0].api.rate_limit.reset_at = 1_790_000_100.0
    accounts[1].token_valid = False
    accounts[1].state("volumes").enabled = False
    store.publish(("prod", "droplets"), Snapshot((), 50.0, None, 60.0, 0.25))
    store.publish(("prod", "volumes"), Snapshot(None, None, "boom", 60.0, 1.5))
    api_metrics.observe("prod", "/v2/droplets", "200", 0.2)
    api_metrics.observe("prod", "/v2/droplets", "200", 0.3)
    api_metrics.observe("dev", "/v2/volumes", "timeout", 10)
    api_metrics.dropped_duplicates("prod", "/v2/droplets", 2)
    api_metrics.dropped_duplicates("prod", "/v2/droplets", 1)
    api_metrics.dropped_duplicates("dev", "/v2/volumes", 1)

    text, openmetrics = render_registry(registry)
    got = samples(text)
    assert got[("digitalocean_collector_success", (("account", "prod"), ("collector", "droplets")))] == 1
    assert got[("digitalocean_collector_success", (("account", "prod"), ("collector", "volumes")))] == 0
    assert ("digitalocean_collector_success", (("account", "dev"), ("collector", "droplets"))) not in got
    assert got[("digitalocean_collector_duration_seconds",
                (("account", "prod"), ("collector", "volumes")))] == 1.5
    assert got[("digitalocean_collector_last_success_timestamp_seconds",
                (("account", "prod"), ("collector", "droplets")))] == 50.0
    assert got[("digitalocean_collector_enabled", (("account", "dev"), ("collector", "volumes")))] == 0
    assert got[("digitalocean_token_read_only", (("account", "prod"),))] == 1
    assert got[("digitalocean_token_read_only", (("account", "dev"),))] == 0
    assert got[("digitalocean_token_expiry_timestamp_seconds", (("account", "prod"),))] == 1600.0
    assert ("digitalocean_token_expiry_timestamp_seconds", (("account", "dev"),)) not in got
    # scopes held, whether an enabled collector (droplets, volumes) needs them, and what they reveal
    held = {labels: v for (name, labels), v in got.items() if name == "digitalocean_token_scopes"}
    assert held == {
        (("account", "prod"), ("needed", "true"), ("scope", "read")): 1,
        (("account", "scoped"), ("needed", "true"), ("scope", "droplet:read")): 1,
        (("account", "scoped"), ("needed", "false"), ("scope", "app:read")): 1,
        (("account", "scoped"), ("needed", "false"), ("scope", "genai:read")): 1,
        # the droplets collector's `tags` field needs it (a field scope: wanted, not excess)
        (("account", "scoped"), ("needed", "true"), ("scope", "tag:read")): 1,
    }
    assert got[("digitalocean_token_excess_scopes", (("account", "scoped"),))] == 2
    assert got[("digitalocean_token_excess_scopes", (("account", "prod"),))] == 0
    assert got[("digitalocean_token_secret_scopes", (("account", "scoped"),))] == 2
    assert got[("digitalocean_token_secret_scopes", (("account", "prod"),))] == 1  # legacy read
    assert ("digitalocean_token_secret_scopes", (("account", "dev"),)) not in got
    assert got[("digitalocean_token_valid", (("account", "dev"),))] == 0
    assert got[("digitalocean_api_rate_limit_remaining", (("account", "prod"),))] == 4321
    assert got[("digitalocean_api_budget_requests_per_hour", (("account", "prod"),))] == 1234
    assert got[("digitalocean_exporter_shard_info", (("shard", "1"), ("total_shards", "3")))] == 1
    assert got[("digitalocean_exporter_shard_accounts", ())] == 3
    assert got[("digitalocean_exporter_configured_accounts", ())] == 8
    assert got[("digitalocean_api_requests_total",
                (("account", "prod"), ("code", "200"), ("endpoint", "/v2/droplets")))] == 2
    assert got[("digitalocean_api_list_duplicates_dropped_total",
                (("account", "prod"), ("endpoint", "/v2/droplets")))] == 3
    assert got[("digitalocean_api_request_duration_seconds_count",
                (("account", "dev"), ("endpoint", "/v2/volumes")))] == 1
    assert ("digitalocean_exporter_build_info", (("python_version", __import__("platform").python_version()),
                                                 ("version", "9.9.9"))) in got
    assert openmetrics.endswith(b"# EOF\n")

    # every documented family is emitted, and nothing undocumented
    emitted = {f.name for f in parse_text(text.decode())}
    assert emitted == {f.name.removesuffix("_total") if f.kind == "counter" else f.name
                       for f in SELF_FAMILIES}

    api_metrics.forget_account("dev")
    after = render_registry(registry)[0].decode()
    assert 'account="dev",code="timeout"' not in after
    assert 'dropped_total{account="dev"' not in after
    assert 'dropped_total{account="prod",endpoint="/v2/droplets"} 3.0' in after
    await client.aclose()

    # last, as it skips where promtool is missing (and fails under CI=true)
    lint = subprocess.run([require_tool("promtool"), "check", "metrics"], input=text,
                          capture_output=True, check=False)
    assert (lint.returncode, lint.stdout + lint.stderr) == (0, b"")


def test_the_process_is_watched_as_every_client_library_names_it() -> None:
    """CPU, memory and descriptors of the exporter itself, under the usual process_* names,
    with the help texts the README documents."""
    registry, _ = self_registry(lambda: None, SnapshotStore(), "9.9.9")
    text, _ = render_registry(registry)
    families = {f.name: f for f in parse_text(text.decode())}
    for documented in PROCESS_FAMILIES:
        family = families[documented.name.removesuffix("_total")]
        assert (family.type, family.documentation) == (documented.kind, documented.help)
    got = samples(text)
    assert got[("process_resident_memory_bytes", ())] > 10 * 2**20
    assert got[("process_cpu_seconds_total", ())] > 0
    assert got[("process_open_fds", ())] >= 3
    assert ("python_info", (("implementation", platform.python_implementation()),
                            ("major", str(sys.version_info.major)),
                            ("minor", str(sys.version_info.minor)),
                            ("patchlevel", str(sys.version_info.micro)),
                            ("version", platform.python_version()))) in got


def test_the_self_part_is_rendered_again_only_where_it_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SelfRenderer makes what render_registry makes, byte for byte in both formats, and renders
    again only the families that changed (the daemon refreshes the self part every second)."""
    registry = CollectorRegistry()
    requests = Counter("demo_requests", "Requests.", ["code"], registry=registry)
    level = Gauge("demo_level", "A level.", registry=registry)
    seconds = Histogram("demo_seconds", "Durations.", buckets=(0.1, 1.0), registry=registry)
    requests.labels("200").inc()
    seconds.observe(0.5)
    renders: list[str] = []
    real = selfmetrics.generate_latest  # type: ignore[attr-defined]  # imported there

    def counted(family: selfmetrics._Family) -> bytes:
        renders.append(family.family.name)
        return real(family)

    monkeypatch.setattr(selfmetrics, "generate_latest", counted)
    renderer = SelfRenderer()
    assert renderer.render(registry) == render_registry(registry)
    assert sorted(renders) == ["demo_level", "demo_requests", "demo_seconds"]

    renders.clear()
    assert renderer.render(registry) == render_registry(registry)
    assert renders == []  # nothing changed: nothing rendered

    level.set(float("nan"))
    requests.labels("429").inc()
    assert renderer.render(registry) == render_registry(registry)
    assert sorted(renders) == ["demo_level", "demo_requests"]
    renders.clear()
    assert renderer.render(registry) == render_registry(registry)  # NaN: rendered or kept, right
    assert set(renders) <= {"demo_level"}
