"""The fault matrix: every way the DigitalOcean API (or a user's files) can fail, against the
real daemon, asserting what a user sees: `digitalocean_collector_success`, the data kept or
dropped, `/metrics` still answering, the log line, and recovery. Every test ends with the daemon
stopping cleanly (exit 0), so none of these faults crashed it.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from exporter.daemon import EXIT_REFUSED
from exporter.simulator import Fault, SimToken
from exporter.simulator.config import MalformedStyle
from tests.conftest import OTHER_TOKEN, READ_TOKEN, WRITE_TOKEN, write_token
from tests.reliability.conftest import (
    PRODUCTION_DROPLETS,
    STAGING_DROPLETS,
    STALE_AFTER_SECONDS,
    Harness,
    OffsetClock,
    contains,
    eventually,
    start_daemon,
    write_settings,
)

DROPLETS = "/v2/droplets"
POLL_FAILED = "poll failed; keeping the last good data"
FIRST_POLL_FAILED = "poll failed; no data yet"


def droplet_requests(h: Harness, account: str = "production", **match: Any) -> list[Any]:
    """Requests for the regular Droplet list (the GPU list shares the endpoint)."""
    return [r for r in h.requests(endpoint=DROPLETS, account=account, **match)
            if "type=gpus" not in r.path]


def page_of(record: Any) -> int:
    return int(parse_qs(urlsplit(record.path).query)["page"][0])


def page_requests(h: Harness, page: int, since: int = 0) -> list[Any]:
    """Requests for one page of production's regular Droplet list (five pages of 200; the GPU
    list has one page, so faults on pages 2 and up hit the regular list only)."""
    return [r for r in droplet_requests(h)[since:] if page_of(r) == page]


async def test_5xx_storm_keeps_the_fleet_goes_stale_and_recovers(harness: Harness) -> None:
    h = harness
    before = await h.scrape()
    ids = before.droplet_ids("production")
    last_success = before.value("digitalocean_collector_last_success_timestamp_seconds",
                                account="production", collector="droplets")
    h.simulator.set_faults([Fault("error", endpoint=DROPLETS, account="production", page=2,
                                  status=503)])
    sent = len(droplet_requests(h))
    snapshot = await h.poll("production", "droplets")
    assert not snapshot.ok
    assert snapshot.error is not None
    assert snapshot.error.startswith("/v2/droplets: HTTP 503 service_unavailable")
    # the first try and two retries, then the poll gives up (no hammering)
    assert [r.status for r in page_requests(h, 2, sent)] == [503] * 3
    await h.poll("production", "droplets")  # still failing
    after = await h.scrape()
    assert after.success("production", "droplets") == 0
    assert after.success("staging", "droplets") == 1
    assert after.droplet_ids("production") == ids  # the last good fleet, whole
    assert after.value("digitalocean_collector_last_success_timestamp_seconds",
                       account="production", collector="droplets") == last_success
    # the request counter agrees with what the API answered (both Droplet lists)
    assert after.value("digitalocean_api_requests_total", account="production",
                       endpoint=DROPLETS, code="503") == len(
        h.requests(endpoint=DROPLETS, account="production", status=503))
    # one warning per failed poll, none per retry (each names its own request id)
    warnings = h.events(event=POLL_FAILED, account="production", collector="droplets")
    assert [w["level"] for w in warnings] == ["warning", "warning"]
    assert warnings[0]["error"] == snapshot.error

    # past stale_after the failing collector's series go; the others stay
    h.clock.advance(STALE_AFTER_SECONDS + 1)
    assert (await h.poll("staging", "droplets")).ok
    stale = await h.until_rendered(
        lambda e: not e.droplet_ids("production") and len(e.droplet_ids("staging")) == 5,
        "production's droplets dropped as stale")
    assert stale.success("production", "droplets") == 0  # the failure stays visible
    assert (await h.get("/healthz")).status_code == 200
    assert (await h.get("/readyz")).status_code == 200

    h.simulator.clear_faults()
    assert (await h.poll("production", "droplets")).ok
    recovered = await h.until_rendered(
        lambda e: len(e.droplet_ids("production")) == PRODUCTION_DROPLETS, "recovery")
    assert recovered.success("production", "droplets") == 1
    assert len(h.events(event="collector recovered", account="production",
                        collector="droplets")) == 1


async def test_429_with_retry_after_is_waited_out(harness: Harness) -> None:
    h = harness
    h.simulator.set_faults([Fault("rate_limit", endpoint=DROPLETS, account="production", page=2,
                                  retry_after=1, count=2)])
    sent = len(droplet_requests(h))
    snapshot = await h.poll("production", "droplets")
    assert snapshot.ok
    second_pages = page_requests(h, 2, sent)
    assert [r.status for r in second_pages] == [429, 429, 200]
    for previous, following in itertools.pairwise(second_pages):
        assert following.time - previous.time >= 0.95  # retry-after: 1 was honoured
    metrics = await h.scrape()
    assert metrics.success("production", "droplets") == 1
    assert metrics.value("digitalocean_api_requests_total", account="production",
                         endpoint=DROPLETS, code="429") == 2
    assert len(metrics.droplet_ids("production")) == PRODUCTION_DROPLETS


async def test_a_429_storm_that_does_not_clear_fails_the_poll_boundedly(harness: Harness) -> None:
    h = harness
    h.simulator.set_faults([Fault("rate_limit", endpoint=DROPLETS, account="production", page=2,
                                  retry_after=0)])
    ids = (await h.scrape()).droplet_ids("production")
    sent = len(droplet_requests(h))
    snapshot = await h.poll("production", "droplets")
    assert snapshot.error is not None
    assert snapshot.error.startswith("/v2/droplets: HTTP 429")
    # one try and four waits, then it gives up
    assert [r.status for r in page_requests(h, 2, sent)] == [429] * 5
    metrics = await h.scrape()
    assert metrics.success("production", "droplets") == 0
    assert metrics.droplet_ids("production") == ids


async def test_429_with_only_ratelimit_reset_waits_until_the_reset(harness: Harness) -> None:
    h = harness
    h.simulator.set_faults([Fault("rate_limit", endpoint=DROPLETS, account="production", page=2,
                                  retry_after=None, reset_in=2, count=1)])
    sent = len(droplet_requests(h))
    assert (await h.poll("production", "droplets")).ok
    limited, retried = page_requests(h, 2, sent)
    assert (limited.status, retried.status) == (429, 200)
    reset_at = math.ceil(limited.time + 2)  # the simulator's ratelimit-reset header
    assert retried.time >= reset_at - 0.05
    metrics = await h.scrape()
    assert metrics.success("production", "droplets") == 1
    assert metrics.value("digitalocean_api_requests_total", account="production",
                         endpoint=DROPLETS, code="429") == 1


async def test_a_hang_past_the_timeout_fails_the_poll_while_metrics_answer(harness: Harness) -> None:
    h = harness
    ids = (await h.scrape()).droplet_ids("production")
    h.simulator.set_faults([Fault("hang", endpoint=DROPLETS, account="production", page=2,
                                  seconds=3, count=3)])
    poll = asyncio.create_task(h.poll("production", "droplets"))
    await asyncio.sleep(0.5)
    during = await h.scrape()  # served from the cache while the poll hangs
    assert not poll.done()
    assert during.droplet_ids("production") == ids
    snapshot = await poll
    assert snapshot.error == "/v2/droplets: no answer within 1s"
    metrics = await h.scrape()
    assert metrics.value("digitalocean_api_requests_total", account="production",
                         endpoint=DROPLETS, code="timeout") == 3
    assert metrics.success("production", "droplets") == 0
    assert metrics.droplet_ids("production") == ids
    assert h.events(event=POLL_FAILED, account="production", error=snapshot.error)


@pytest.mark.parametrize(("style", "attempts", "error"), [
    ("truncated", 1, "/v2/droplets: HTTP 200 answer is not JSON"),
    ("html", 3, "/v2/droplets: HTTP 502 non-JSON body '<html>"),
    ("disconnect", 3, "/v2/droplets: RemoteProtocolError"),
])
async def test_malformed_answers_fail_the_poll_and_keep_the_fleet(
    harness: Harness, style: MalformedStyle, attempts: int, error: str
) -> None:
    h = harness
    ids = (await h.scrape()).droplet_ids("production")
    h.simulator.set_faults([Fault("malformed", endpoint=DROPLETS, account="production", page=2,
                                  style=style)])
    sent = len(droplet_requests(h))
    snapshot = await h.poll("production", "droplets")
    assert snapshot.error is not None
    assert snapshot.error.startswith(error), snapshot.error
    # a broken 200 is not retried (the same answer would come back); 5xx and cut connections are
    assert len(page_requests(h, 2, sent)) == attempts
    metrics = await h.scrape()
    assert metrics.success("production", "droplets") == 0
    assert metrics.droplet_ids("production") == ids
    h.simulator.clear_faults()
    assert (await h.poll("production", "droplets")).ok


async def test_page_3_of_5_failing_keeps_exactly_the_previous_fleet(harness: Harness) -> None:
    h = harness
    previous = (await h.scrape()).droplet_ids("production")
    assert len(previous) == PRODUCTION_DROPLETS
    # the fleet changes, so a mix of old and new pages could not pass for the old fleet
    created, destroyed = h.simulator.mutate_fleet("production", create_droplets=7, destroy_droplets=7)
    h.simulator.set_faults([Fault("error", endpoint=DROPLETS, account="production", page=3,
                                  status=500)])
    snapshot = await h.poll("production", "droplets")
    assert snapshot.error is not None
    assert snapshot.error.startswith("/v2/droplets: HTTP 500")
    assert [r.status for r in page_requests(h, 3)][-3:] == [500] * 3
    metrics = await h.scrape()
    assert metrics.droplet_ids("production") == previous  # no half fleet, no mix
    assert metrics.success("production", "droplets") == 0

    h.simulator.clear_faults()
    assert (await h.poll("production", "droplets")).ok
    current = await h.until_rendered(
        lambda e: str(created[0]) in e.droplet_ids("production"), "the new fleet")
    ids = set(current.droplet_ids("production"))
    assert len(ids) == PRODUCTION_DROPLETS
    assert ids == (set(previous) - {str(d) for d in destroyed}) | {str(c) for c in created}


async def test_page_3_failing_once_is_retried_and_the_poll_succeeds(harness: Harness) -> None:
    h = harness
    created, _ = h.simulator.mutate_fleet("production", create_droplets=3, destroy_droplets=3)
    h.simulator.set_faults([Fault("error", endpoint=DROPLETS, account="production", page=3,
                                  status=500, count=1)])
    assert (await h.poll("production", "droplets")).ok
    assert [r.status for r in page_requests(h, 3)][-2:] == [500, 200]
    metrics = await h.until_rendered(
        lambda e: str(created[0]) in e.droplet_ids("production"), "the new fleet")
    assert len(metrics.droplet_ids("production")) == PRODUCTION_DROPLETS


async def test_a_runtime_401_stops_one_account_and_the_other_keeps_working(harness: Harness) -> None:
    h = harness
    ids = (await h.scrape()).droplet_ids("production")
    h.simulator.revoke_token("production-ro")
    snapshot = await h.poll("production", "droplets")
    assert snapshot.error is not None
    assert snapshot.error.startswith("/v2/droplets: HTTP 401")
    assert not (await h.poll("production", "volumes")).ok  # a second collector hits it too
    assert (await h.poll("staging", "droplets")).ok
    metrics = await h.scrape()
    assert metrics.value("digitalocean_token_valid", account="production") == 0
    assert metrics.value("digitalocean_token_valid", account="staging") == 1
    assert metrics.success("production", "droplets") == 0
    assert metrics.success("staging", "droplets") == 1
    assert metrics.droplet_ids("production") == ids  # kept until stale
    assert len(metrics.droplet_ids("staging")) == STAGING_DROPLETS
    [error] = h.events(level="error", account="production",
                       event=contains("DigitalOcean rejected the token (401)"))
    assert "at once when the token file changes" in error["event"]
    # the account's collectors wait for a new token instead of polling into 401s
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(h.account("production").wait_usable("droplets", h.clock), 0.3)
    assert (await h.get("/readyz")).status_code == 200


async def test_a_rotated_token_that_is_invalid_or_write_capable_is_refused(
    harness: Harness, tmp_path: Path
) -> None:
    h = harness
    new_token = "dop_v1_" + "beef" * 16
    h.simulator.add_token("staging", SimToken("staging-write", WRITE_TOKEN, scopes=("read", "write")))
    h.simulator.add_token("production", SimToken("production-ro-2", new_token))
    write_token(tmp_path, "production", "dop_v1_" + "0" * 64)  # unknown to DigitalOcean
    write_token(tmp_path, "staging", WRITE_TOKEN)
    await eventually(lambda: len(h.events(level="error", event=contains("previous token stays"))) == 2,
                     timeout=12, what="both replacements refused by the token watch")
    [invalid] = h.events(level="error", account="production", event=contains("previous token"))
    assert invalid["event"].startswith(
        f'account "production" (token file {tmp_path / "production"}): DigitalOcean rejected the '
        'token (HTTP 401 from /v1/oauth/token/info); it is invalid, expired or revoked.')
    [write] = h.events(level="error", account="staging", event=contains("previous token"))
    assert "the token can change infrastructure (scopes: write); refusing to use it" in write["event"]
    assert h.account("production").source.token == READ_TOKEN
    assert h.account("staging").source.token == OTHER_TOKEN
    # the old tokens keep polling; the write-capable one was only ever shown to token/info
    assert (await h.poll("staging", "droplets")).ok
    assert droplet_requests(h, "staging")[-1].token_name == "staging-ro"
    assert {r.endpoint for r in h.requests(token_name="staging-write")} == {"/v1/oauth/token/info"}
    metrics = await h.scrape()
    assert metrics.value("digitalocean_token_read_only", account="staging") == 1
    assert metrics.success("staging", "droplets") == 1

    # a good replacement is taken; the refused one is not asked about again meanwhile
    write_token(tmp_path, "production", new_token)
    await eventually(lambda: bool(h.events(account="production",
                                           event="token changed; using the new token")),
                     timeout=12, what="the good replacement accepted")
    assert h.account("production").source.token == new_token
    assert len(h.requests(token_name="staging-write")) == 1
    assert (await h.poll("production", "droplets")).ok
    assert droplet_requests(h)[-1].token_name == "production-ro-2"


RELOAD_FAILED = "configuration reload failed; keeping the running configuration"
# (the broken text from the good one and the temporary directory, the problems logged)
BrokenConfig = tuple[Callable[[str, Path], str], Callable[[str, Path], list[str]]]
BROKEN_CONFIGS: dict[str, BrokenConfig] = {
    "yaml syntax": (lambda good, tmp: good + "collectors: [\n",
                    lambda good, tmp: [f"(yaml) line {len(good.splitlines()) + 2}, column 1: "
                                       "expected the node content, but found '<stream end>'"]),
    "unknown key": (lambda good, tmp: good + "bogus: 1\n",
                    lambda good, tmp: ["bogus: unknown key; known keys are accounts, tokens_dir, "
                                       "token_policy, api, collectors, pricing"]),
    "missing token file": (lambda good, tmp: good.replace(str(tmp / "staging"), str(tmp / "gone")),
                           lambda good, tmp: [f"accounts[1].token_file: token file {tmp}/gone "
                                              "does not exist"]),
}


@pytest.mark.parametrize("case", list(BROKEN_CONFIGS))
async def test_sighup_with_a_broken_config_keeps_the_running_one(
    harness: Harness, tmp_path: Path, case: str
) -> None:
    h = harness
    make, expected = BROKEN_CONFIGS[case]
    running = h.daemon.settings
    poller = h.daemon.poller
    before = (await h.scrape()).droplet_ids("production")
    good = h.config.read_text()
    h.config.write_text(make(good, tmp_path))
    h.daemon.request_reload()  # what SIGHUP does
    await eventually(lambda: bool(h.events(event=RELOAD_FAILED)), what=RELOAD_FAILED)
    [failure] = h.events(event=RELOAD_FAILED)
    assert failure["level"] == "error"
    assert failure["problems"] == expected(good, tmp_path)
    assert h.daemon.settings is running
    assert h.daemon.poller is poller
    assert (await h.poll("production", "droplets")).ok
    metrics = await h.scrape()
    assert metrics.droplet_ids("production") == before
    assert len(metrics.droplet_ids("staging")) == STAGING_DROPLETS


async def test_sighup_with_a_write_capable_token_is_refused_whole(
    harness: Harness, tmp_path: Path
) -> None:
    h = harness
    h.simulator.add_token("staging", SimToken("staging-write", WRITE_TOKEN, scopes=("read", "write")))
    running = h.daemon.settings
    write_token(tmp_path, "staging", WRITE_TOKEN)
    h.daemon.request_reload()
    event = "configuration reload refused; keeping the running configuration"
    await eventually(lambda: bool(h.events(event=event)), what=event)
    [refusal] = h.events(event=event)
    assert "the token can change infrastructure (scopes: write)" in refusal["problems"][0]
    assert h.daemon.settings is running
    assert h.account("staging").source.token == OTHER_TOKEN
    assert (await h.poll("staging", "droplets")).ok
    assert {r.endpoint for r in h.requests(token_name="staging-write")} == {"/v1/oauth/token/info"}


async def test_an_empty_fleet_removes_every_droplet_series(harness: Harness) -> None:
    h = harness
    h.simulator.mutate_fleet("production", destroy_droplets=PRODUCTION_DROPLETS)
    snapshot = await h.poll("production", "droplets")
    assert snapshot.ok
    assert snapshot.data == ()
    metrics = await h.until_rendered(lambda e: not e.droplet_ids("production"), "no droplets")
    assert metrics.families_of("production", "digitalocean_droplet_") == set()
    assert metrics.success("production", "droplets") == 1  # an empty fleet is a success
    assert len(metrics.droplet_ids("staging")) == STAGING_DROPLETS
    assert metrics.find("digitalocean_volume_info", account="production")  # other collectors stay
    # and nothing comes back on the next render (no ghosts from the old fleet)
    h.clock.advance(60)
    assert (await h.poll("production", "droplets")).ok
    await asyncio.sleep(1.2)  # a refresh of the self part and a render check
    assert not (await h.scrape()).droplet_ids("production")


async def test_dns_failure_keeps_the_daemon_up_and_says_so(tmp_path: Path, logs: Any) -> None:
    stream, redactor = logs
    config = write_settings(tmp_path, "https://does-not-exist.invalid", {"production": READ_TOKEN},
                            enabled=("droplets",))
    clock = OffsetClock()
    daemon, task = await start_daemon(config, redactor, clock)
    h = Harness(daemon, task, None, clock, stream, config)  # type: ignore[arg-type]  # no simulator
    try:
        # unverifiable (the default policy: warn) and running, every collector failing visibly
        await eventually(lambda: task.done() or (daemon.server is not None and daemon.readiness()[0]),
                         timeout=15, what="first polls")
        assert not task.done()
        [unverified] = h.events(level="warning", event=contains("could not verify the token's scopes"))
        assert "ConnectError" in unverified["event"]
        assert "running anyway because token_policy.unverifiable is warn" in unverified["event"]
        metrics = await h.scrape()
        assert metrics.success("production", "droplets") == 0
        assert not metrics.droplet_ids("production")
        assert (await h.get("/healthz")).status_code == 200
        assert (await h.get("/readyz")).status_code == 200
        [failed] = h.events(event=FIRST_POLL_FAILED, account="production", collector="droplets")
        assert failed["error"].startswith("/v2/droplets: ConnectError")
        assert not h.events(event=POLL_FAILED)  # there was no good data to keep
    finally:
        daemon.request_stop()
        assert await asyncio.wait_for(task, 10) == 0


async def test_dns_failure_with_unverifiable_refuse_exits_2(tmp_path: Path, logs: Any) -> None:
    stream, redactor = logs
    config = write_settings(tmp_path, "https://does-not-exist.invalid", {"production": READ_TOKEN},
                            enabled=("droplets",), extra="token_policy: {unverifiable: refuse}\n")
    _, task = await start_daemon(config, redactor, OffsetClock())
    assert await asyncio.wait_for(task, 15) == EXIT_REFUSED
    assert "refusing because token_policy.unverifiable is refuse" in stream.getvalue()
