"""The poller: snapshots, last-good data on failure, 401 pause, 403 disable, token rotation."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from exporter.api import DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.collectors import COLLECTORS as ALL_COLLECTORS
from exporter.collectors import billing, droplet_backups, droplets, images, nfs, volumes
from exporter.config import AccountSettings, CollectorSettings, TokenPolicy
from exporter.exposition import encode_collector
from exporter.logs import get_logger
from exporter.poller import TOKEN_CHECK_INTERVAL, AccountRuntime, Poller, retry_delay
from exporter.scopes import classify
from exporter.snapshot import Snapshot, SnapshotStore
from exporter.tokens import FileToken, TokenSource
from tests.conftest import OTHER_TOKEN, READ_TOKEN, WRITE_TOKEN, FakeClock, spec_example

API = "https://api.digitalocean.com"
AUTH = "https://cloud.digitalocean.com"
COLLECTORS = (droplets.COLLECTOR, volumes.COLLECTOR, billing.COLLECTOR)


def events(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


class Setup:
    def __init__(self, poller: Poller, account: AccountRuntime, store: SnapshotStore,
                 token_file: Path, clock: FakeClock) -> None:
        self.poller, self.account, self.store = poller, account, store
        self.token_file, self.clock = token_file, clock


@pytest.fixture
async def setup(tmp_path: Path, clock: FakeClock, log_stream: io.StringIO) -> AsyncIterator[Setup]:
    token_file = tmp_path / "production"
    token_file.write_text(READ_TOKEN)
    client = DigitalOceanClient(
        api_url=API, auth_url=AUTH, timeout=5, user_agent="t", clock=clock,
        observer=type("O", (), {"observe": lambda *a: None})(), rng=random.Random(1),
    )
    source = TokenSource(FileToken(token_file), {})
    budget = RequestBudget(4000, clock)
    settings = AccountSettings("production", FileToken(token_file), "accounts[0].token_file")
    account = AccountRuntime(settings, source, client.account("production", lambda: source.token, budget),
                             budget, classify({"scopes": ["read"]}, 0))
    store = SnapshotStore()
    poller = Poller(
        collectors=COLLECTORS,
        # every collector's settings: some tests poll collectors beyond the three it runs
        settings={c.name: CollectorSettings(True, 60, 180) for c in ALL_COLLECTORS},
        store=store, token_policy=TokenPolicy(), clock=clock, log=get_logger("test"),
        remember_secret=lambda s: None,
    )
    poller.accounts = [account]
    yield Setup(poller, account, store, token_file, clock)
    await poller.stop()
    await client.aclose()


def mock_fleet(droplet_body: object = None) -> None:
    body = droplet_body if droplet_body is not None else spec_example("/v2/droplets", "All Droplets")
    respx.get(f"{API}/v2/droplets").mock(side_effect=lambda r: httpx.Response(
        200, json=body if "type" not in r.url.params else {"droplets": [], "meta": {"total": 0}}
    ))


@respx.mock
async def test_success_publishes_data_and_timing(setup: Setup) -> None:
    mock_fleet()
    snapshot = await setup.poller.poll_once(setup.account, droplets.COLLECTOR)
    assert snapshot.ok
    assert [d.droplet_id for d in snapshot.data] == [3164412, 3164444, 3164459]
    assert snapshot.fetched_at == setup.clock.time()
    assert setup.store.get(("production", "droplets")) is snapshot


@respx.mock
async def test_failure_keeps_the_last_good_data_and_logs_once(
    setup: Setup, log_stream: io.StringIO
) -> None:
    mock_fleet()
    good = await setup.poller.poll_once(setup.account, droplets.COLLECTOR)
    respx.get(f"{API}/v2/droplets").mock(return_value=httpx.Response(
        500, json={"id": "server_error", "message": "oops"}
    ))
    for _ in range(3):
        setup.clock.advance(60)
        failed = await setup.poller.poll_once(setup.account, droplets.COLLECTOR)
    assert not failed.ok
    assert failed.data is good.data
    assert failed.fetched_at == good.fetched_at
    assert failed.error == "/v2/droplets: HTTP 500 server_error: oops"
    warnings = [e for e in events(log_stream) if e["level"] == "warning"]
    assert len(warnings) == 1
    assert warnings[0]["account"] == "production"
    assert warnings[0]["collector"] == "droplets"
    mock_fleet()
    assert (await setup.poller.poll_once(setup.account, droplets.COLLECTOR)).ok
    assert any(e["event"] == "collector recovered" for e in events(log_stream))


@respx.mock
async def test_a_poll_publishes_its_encoded_fragment_and_reuses_it_while_data_is_equal(
    setup: Setup
) -> None:
    mock_fleet()
    first = await setup.poller.poll_once(setup.account, droplets.COLLECTOR)
    assert first.fragment is not None
    assert first.fragment == encode_collector("production", droplets.COLLECTOR, first.data)
    setup.clock.advance(60)
    second = await setup.poller.poll_once(setup.account, droplets.COLLECTOR)
    assert second.fetched_at == setup.clock.time()
    assert second.data is first.data  # equal data: the same objects, nothing encoded again
    assert second.fragment is first.fragment


@respx.mock
async def test_a_value_that_cannot_be_written_fails_the_poll_and_keeps_the_last_good_one(
    setup: Setup, log_stream: io.StringIO
) -> None:
    body = spec_example("/v2/droplets", "All Droplets")
    mock_fleet(body)
    good = await setup.poller.poll_once(setup.account, droplets.COLLECTOR)
    body["droplets"][1]["size"]["price_hourly"] = float("inf")  # JSON text: Infinity
    respx.get(f"{API}/v2/droplets").mock(return_value=httpx.Response(
        200, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    ))
    setup.clock.advance(60)
    failed = await setup.poller.poll_once(setup.account, droplets.COLLECTOR)
    assert failed.error == (
        "unusable value in the API answer: droplets: digitalocean_droplet_price_hourly_usd of "
        f"droplet_id='{body['droplets'][1]['id']}': value inf is not a finite number"
    )
    assert (failed.data, failed.fragment) == (good.data, good.fragment)
    [warning] = [e for e in events(log_stream) if e["level"] == "warning"]
    assert warning["event"] == "poll failed; keeping the last good data"


@respx.mock
async def test_malformed_answer_is_a_failed_poll(setup: Setup) -> None:
    mock_fleet({"droplets": [{"name": "no id"}], "meta": {"total": 1}})
    snapshot = await setup.poller.poll_once(setup.account, droplets.COLLECTOR)
    assert snapshot.error == (
        "unexpected API answer: /v2/droplets droplets[0].id: expected an integer, got null"
    )


@respx.mock
async def test_401_stops_the_account_until_a_good_token_arrives(
    setup: Setup, log_stream: io.StringIO
) -> None:
    respx.get(f"{API}/v2/droplets").mock(return_value=httpx.Response(
        401, json={"id": "unauthorized", "message": "Unable to authenticate you."}
    ))
    snapshot = await setup.poller.poll_once(setup.account, droplets.COLLECTOR)
    assert not snapshot.ok
    assert not setup.account.token_valid
    waiter = asyncio.create_task(setup.account.wait_usable("volumes", setup.clock))
    await asyncio.sleep(0)
    assert not waiter.done()
    [error] = [e for e in events(log_stream) if e["level"] == "error"]
    assert error["event"] == (
        "DigitalOcean rejected the token (401); polling of this account stopped. Create a new "
        f"read-only token and update token file {setup.token_file}. Polling resumes when "
        "token/info accepts the token again (asked in 15 minutes, then less often) and at once "
        "when the token file changes"
    )
    # rotation: the file changes, token/info says read-only, polling resumes
    respx.get(f"{AUTH}/v1/oauth/token/info").mock(return_value=httpx.Response(
        200, json={"scopes": ["read"], "expires_in_seconds": None}
    ))
    setup.token_file.write_text(OTHER_TOKEN)
    candidate = setup.account.source.changed_candidate()
    assert candidate == OTHER_TOKEN
    assert await setup.poller.try_new_token(setup.account, candidate, get_logger("t"))
    await asyncio.wait_for(waiter, 1)
    assert setup.account.token_valid
    assert setup.account.source.token == OTHER_TOKEN


@respx.mock
async def test_write_capable_replacement_is_refused_and_old_token_kept(
    setup: Setup, log_stream: io.StringIO
) -> None:
    route = respx.get(f"{AUTH}/v1/oauth/token/info").mock(return_value=httpx.Response(
        200, json={"scopes": ["droplet:read", "droplet:delete"]}
    ))
    setup.token_file.write_text(WRITE_TOKEN)
    candidate = setup.account.source.changed_candidate()
    assert candidate == WRITE_TOKEN
    assert not await setup.poller.try_new_token(setup.account, candidate, get_logger("t"))
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {WRITE_TOKEN}"
    assert setup.account.source.token == READ_TOKEN
    assert setup.account.source.changed_candidate() is None  # not retried every 5 s
    [error] = [e for e in events(log_stream) if e["level"] == "error"]
    assert "(scopes: droplet:delete)" in str(error["event"])
    assert "The previous token stays in use." in str(error["event"])


@respx.mock
async def test_a_replacement_that_reads_secrets_is_refused_under_secret_scopes_refuse(
    setup: Setup, log_stream: io.StringIO
) -> None:
    respx.get(f"{AUTH}/v1/oauth/token/info").mock(return_value=httpx.Response(
        200, json={"scopes": ["droplet:read", "block_storage:read", "billing:read", "genai:read"]}
    ))
    setup.poller.token_policy = TokenPolicy(secret_scopes="refuse")
    assert not await setup.poller.try_new_token(setup.account, OTHER_TOKEN, get_logger("t"))
    assert setup.account.source.token == READ_TOKEN
    [error] = [e for e in events(log_stream) if e["level"] == "error"]
    assert "genai:read" in str(error["event"])
    assert "The previous token stays in use." in str(error["event"])


@respx.mock
async def test_invalid_replacement_is_refused(setup: Setup) -> None:
    respx.get(f"{AUTH}/v1/oauth/token/info").mock(return_value=httpx.Response(
        401, json={"id": "unauthorized", "message": "Unable to authenticate you."}
    ))
    assert not await setup.poller.try_new_token(setup.account, OTHER_TOKEN, get_logger("t"))
    assert setup.account.source.token == READ_TOKEN


@respx.mock
async def test_403_disables_only_that_collector_and_names_the_scope(
    setup: Setup, log_stream: io.StringIO
) -> None:
    mock_fleet()
    respx.get(f"{API}/v2/customers/my/balance").mock(return_value=httpx.Response(
        403, json={"id": "forbidden", "message": "You are not authorized to perform this operation."}
    ))
    respx.get(f"{API}/v2/customers/my/invoices").mock(return_value=httpx.Response(
        403, json={"id": "forbidden", "message": "You are not authorized to perform this operation."}
    ))
    assert not (await setup.poller.poll_once(setup.account, billing.COLLECTOR)).ok
    assert (await setup.poller.poll_once(setup.account, droplets.COLLECTOR)).ok
    assert not setup.account.state("billing").enabled
    assert setup.account.state("billing").missing_scope == "billing:read"
    assert setup.account.state("droplets").enabled
    [error] = [e for e in events(log_stream) if e["level"] == "error"]
    assert error["scope"] == "billing:read"
    assert error["collector"] == "billing"
    assert "lacks the billing:read scope" in str(error["event"])
    # one line says it all: no second "poll failed" line for the same 403
    assert [e for e in events(log_stream) if e["level"] == "warning"] == []


FORBIDDEN = {"id": "forbidden", "message": "You are not authorized to perform this operation."}


@pytest.mark.parametrize("collector", [nfs.COLLECTOR, images.COLLECTOR, droplet_backups.COLLECTOR],
                         ids=lambda c: c.name)
@respx.mock
async def test_403_disables_only_that_storage_collector_and_names_its_scope(
    setup: Setup, log_stream: io.StringIO, collector: Any
) -> None:
    """Issue 17's products: a token without nfs:list, image:read or droplet:read for the
    backup policies loses that collector alone."""
    mock_fleet()
    for endpoint in collector.endpoints:
        respx.get(f"{API}{endpoint}").mock(return_value=httpx.Response(403, json=FORBIDDEN))
    respx.get(f"{API}/v2/volumes").mock(return_value=httpx.Response(
        200, json=spec_example("/v2/volumes", "All Volumes")))
    assert not (await setup.poller.poll_once(setup.account, collector)).ok
    assert (await setup.poller.poll_once(setup.account, volumes.COLLECTOR)).ok
    assert not setup.account.state(collector.name).enabled
    assert setup.account.state(collector.name).missing_scope == collector.scope
    assert setup.account.state("volumes").enabled
    [error] = [e for e in events(log_stream) if e["level"] == "error"]
    assert (error["collector"], error["scope"]) == (collector.name, collector.scope)
    assert f"lacks the {collector.scope} scope" in str(error["event"])


@respx.mock
async def test_running_tasks_poll_at_start_and_report_readiness(setup: Setup) -> None:
    mock_fleet()
    respx.get(f"{API}/v2/volumes").mock(return_value=httpx.Response(
        200, json=spec_example("/v2/volumes", "All Volumes")
    ))
    respx.get(f"{API}/v2/customers/my/balance").mock(return_value=httpx.Response(
        200, json=spec_example("/v2/customers/my/balance")
    ))
    respx.get(f"{API}/v2/customers/my/invoices").mock(return_value=httpx.Response(
        200, json=spec_example("/v2/customers/my/invoices")
    ))
    assert setup.poller.ready() == (False, ["production/droplets", "production/volumes",
                                            "production/billing"])
    setup.poller.start([setup.account])
    for _ in range(50):
        await asyncio.sleep(0)
        if setup.poller.ready()[0]:
            break
    assert setup.poller.ready() == (True, [])


# -- hostile input (issue 18): deadlines, retries after refusals, boundaries ------------------


async def test_a_poll_that_never_ends_fails_at_its_deadline(setup: Setup) -> None:
    """A trickled body or an endless `next` chain: the whole poll has a deadline."""
    async def forever(reader: Any) -> Any:
        await asyncio.Event().wait()

    stuck = dataclasses.replace(droplets.COLLECTOR, fetch=forever, fetch_with=None)
    setup.poller.deadline_bounds = (0.05, 0.1)
    snapshot = await asyncio.wait_for(setup.poller.poll_once(setup.account, stuck), 5)
    assert snapshot.error == (
        "the poll did not end within its deadline of 0.1 s (every page and follow-up request "
        "included); the API answers too slowly or never ends a list"
    )


def test_the_deadline_follows_the_last_successful_duration(setup: Setup) -> None:
    poller = setup.poller
    assert poller.poll_deadline(None) == 600
    assert poller.poll_deadline(Snapshot((), 1.0, None, 1.0, 2.0)) == 60  # at least a minute
    assert poller.poll_deadline(Snapshot((), 1.0, None, 1.0, 30.0)) == 150  # five times
    assert poller.poll_deadline(Snapshot((), 1.0, None, 1.0, 300.0)) == 600  # at most ten minutes
    assert poller.poll_deadline(Snapshot((), 1.0, "failed", 1.0, 30.0)) == 600


@respx.mock
async def test_a_transient_401_heals_after_a_back_off(setup: Setup, log_stream: io.StringIO) -> None:
    respx.get(f"{API}/v2/droplets").mock(return_value=httpx.Response(
        401, json={"id": "unauthorized", "message": "Unable to authenticate you."}
    ))
    info = respx.get(f"{AUTH}/v1/oauth/token/info").mock(return_value=httpx.Response(
        200, json={"scopes": ["droplet:read"]}
    ))
    await setup.poller.poll_once(setup.account, droplets.COLLECTOR)
    assert not setup.account.token_valid
    log = get_logger("t")
    await setup.poller._check_token(setup.account, log)
    assert info.call_count == 0  # not due yet: not asked every 5 s
    setup.clock.advance(retry_delay(1))
    await setup.poller._check_token(setup.account, log)
    assert info.call_count == 1
    assert setup.account.token_valid
    assert any(e["event"] == "DigitalOcean accepts the token again; polling resumes"
               for e in events(log_stream))


@respx.mock
async def test_a_401_that_lasts_is_asked_about_less_and_less_often(setup: Setup) -> None:
    respx.get(f"{API}/v2/droplets").mock(return_value=httpx.Response(401, json={}))
    info = respx.get(f"{AUTH}/v1/oauth/token/info").mock(return_value=httpx.Response(401, json={}))
    await setup.poller.poll_once(setup.account, droplets.COLLECTOR)
    started = setup.clock.monotonic()
    while setup.clock.monotonic() - started < 6 * 3600:
        setup.clock.advance(TOKEN_CHECK_INTERVAL)
        await setup.poller._check_token(setup.account, get_logger("t"))
    assert not setup.account.token_valid
    assert info.call_count == 7  # after 15, 30, 60, 60, 60, 60, 60 minutes: ~1 an hour


@respx.mock
async def test_a_transient_403_is_retried_after_a_back_off(
    setup: Setup, log_stream: io.StringIO
) -> None:
    route = respx.get(f"{API}/v2/droplets").mock(return_value=httpx.Response(
        403, json={"id": "forbidden", "message": "You are not authorized to perform this operation."}
    ))
    await setup.poller.poll_once(setup.account, droplets.COLLECTOR)
    state = setup.account.state("droplets")
    assert not state.enabled
    started = setup.clock.monotonic()
    await setup.account.wait_usable("droplets", setup.clock)  # the fake clock sleeps at once
    assert setup.clock.monotonic() - started == retry_delay(1)
    assert state.enabled  # one probe poll
    await setup.poller.poll_once(setup.account, droplets.COLLECTOR)  # still 403: quietly off
    assert not state.enabled
    assert state.retry_at == setup.clock.monotonic() + retry_delay(2)
    mock_fleet()
    await setup.account.wait_usable("droplets", setup.clock)
    assert (await setup.poller.poll_once(setup.account, droplets.COLLECTOR)).ok
    assert route.call_count >= 2
    errors = [e for e in events(log_stream) if e["level"] == "error"]
    assert len(errors) == 1  # the 403 was said once, not on every retry
    assert any(e["event"] == "collector enabled again: the token now has its scope"
               for e in events(log_stream))


@respx.mock
async def test_a_replacement_token_that_cannot_be_verified_is_not_adopted(
    setup: Setup, log_stream: io.StringIO
) -> None:
    """token/info answering 503 at the moment of rotation must not let a token in unchecked."""
    info = respx.get(f"{AUTH}/v1/oauth/token/info").mock(return_value=httpx.Response(
        503, json={"id": "service_unavailable", "message": "try later"}
    ))
    setup.token_file.write_text(WRITE_TOKEN)
    await setup.poller._check_token(setup.account, get_logger("t"))
    assert setup.account.source.token == READ_TOKEN
    calls = info.call_count
    setup.clock.advance(TOKEN_CHECK_INTERVAL)
    await setup.poller._check_token(setup.account, get_logger("t"))
    assert info.call_count == calls  # asked again only after a minute, not every 5 s
    assert any("the previous token stays in use" in str(e["event"]) for e in events(log_stream))
    info.mock(return_value=httpx.Response(200, json={"scopes": ["droplet:read", "droplet:delete"]}))
    setup.clock.advance(60)
    await setup.poller._check_token(setup.account, get_logger("t"))
    assert setup.account.source.token == READ_TOKEN  # verified at last: write-capable, refused


class ExplodingSource(TokenSource):
    def changed_candidate(self) -> str | None:
        raise RecursionError("maximum recursion depth exceeded")


async def test_the_token_watcher_survives_anything_and_says_it_once(
    setup: Setup, log_stream: io.StringIO
) -> None:
    setup.account.source = ExplodingSource(FileToken(setup.token_file), {})
    watcher = asyncio.create_task(setup.poller._watch_token(setup.account))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not watcher.done()
    watcher.cancel()
    failures = [e for e in events(log_stream) if e["level"] == "error"]
    assert [e["event"] for e in failures] == [
        "checking the token failed; keeping the current token and checking again"
    ]
    assert failures[0]["error"] == "RecursionError: maximum recursion depth exceeded"
