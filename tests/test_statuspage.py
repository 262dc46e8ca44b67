"""The status page at `/`: what it shows, that nothing in it is markup it did not write, that no
token reaches it, that it sits behind the web config, and how a real browser renders it."""

from __future__ import annotations

import asyncio
import html
import struct
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import bcrypt
import httpx
import pytest

from exporter.cli import collector_defaults
from exporter.collectors import COLLECTORS
from exporter.config import Settings, load_settings
from exporter.daemon import Daemon, ServeOptions
from exporter.logs import Redactor
from exporter.scopes import needed_scopes
from exporter.simulator import Fault, FleetSpec, SimToken, Simulator, demo_config
from exporter.statuspage import (
    AccountStatus,
    BudgetStatus,
    CollectorStatus,
    StatusModel,
    StatusPage,
    TokenStatus,
    render_page,
)
from exporter.webconfig import load_web_config
from tests.conftest import (
    OTHER_TOKEN,
    READ_TOKEN,
    WRITE_TOKEN,
    DaemonHandle,
    ExporterProcess,
    require_tool,
    token_file_config,
    write_config,
)

ROOT = Path(__file__).parent.parent
NOW = 1_790_000_000.0
# the markup the page is made of; anything else in it came from data that was not escaped
PAGE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "span", "nav", "a",
    "main", "div", "section", "ul", "li", "p", "b", "code", "table", "thead",
    "tbody", "tr", "th", "td", "footer",
}
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
# a collector the staging token of the end-to-end tests lacks the scope of (HTTP 403)
UNSCOPED = "cdn"
KNOWN_TOKENS = (READ_TOKEN, OTHER_TOKEN, WRITE_TOKEN)
BROWSER_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
)


class Tags(HTMLParser):
    """The tags of a document, and its text."""

    def __init__(self, document: str) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.text: list[str] = []
        self.feed(document)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def model(*accounts: AccountStatus, ready: bool = True, pending: tuple[str, ...] = ()) -> StatusModel:
    return StatusModel("1.2.3", "/metrics", NOW, ready, pending, accounts)


def account(name: str, *collectors: CollectorStatus, token: TokenStatus | None = None,
            budget: BudgetStatus | None = None) -> AccountStatus:
    return AccountStatus(name, token or TokenStatus("read_only", scopes=("read",)),
                         budget or BudgetStatus(4000, 590.0), collectors)


def ok(name: str, interval: float = 60.0) -> CollectorStatus:
    return CollectorStatus(name, "ok", last_success=NOW - 12, interval=interval,
                           configured_interval=interval, requests_per_hour=60.0, duration=0.2)


# -- the page, from a model -----------------------------------------------------------------


def test_a_failing_collector_is_named_at_the_top_in_red() -> None:
    failing = CollectorStatus("volumes", "failing", last_success=NOW - 300, error="HTTP 502",
                              interval=60.0, configured_interval=60.0)
    page = render_page(model(account("production", ok("droplets"), failing),
                             account("staging", ok("droplets"), ok("volumes"))))
    assert "<title>(1 failing) DigitalOcean Exporter</title>" in page
    assert '<span class="badge bad" id="count-failing">1 collector failing</span>' in page
    assert ('<section class="alert" id="failing"><h2>1 collector failing</h2><ul><li>'
            '<a href="#production--volumes">production / volumes</a>: HTTP 502</li></ul></section>'
            ) in page
    # the banner comes before any account
    assert page.index('id="failing"') < page.index('id="account-production"')
    assert '<tr class="failing" id="production--volumes"><td>volumes</td>' in page
    assert '<span class="badge ok" id="count-ok">3 collectors OK</span>' in page
    assert '<span class="badge ok" id="readiness">Ready</span>' in page


def test_all_well_has_no_banner() -> None:
    page = render_page(model(account("production", ok("droplets"))))
    assert 'id="failing"' not in page
    assert "<title>DigitalOcean Exporter</title>" in page
    assert "FAILING" not in page


def test_the_header_links_the_service_discovery_endpoints() -> None:
    page = render_page(model(account("production", ok("droplets"))))
    for kind in ("droplets", "kubernetes_nodes", "load_balancers", "databases"):
        assert f'<a href="/sd/{kind}">Discovery: {kind}</a>' in page


def test_collector_facts() -> None:
    stretched = CollectorStatus("droplets", "ok", last_success=NOW - 90, interval=150.0,
                                configured_interval=60.0, requests_per_hour=24.0, duration=1.234)
    disabled = CollectorStatus(UNSCOPED, "disabled", error="HTTP 403 from /v2/cdn/endpoints",
                               interval=900.0, configured_interval=900.0)
    pending = CollectorStatus("volumes", "pending", interval=60.0, configured_interval=60.0)
    stale = replace(ok("tags"), state="failing", error="timeout", last_success=NOW - 7200, stale=True)
    costs = CollectorStatus("costs", "ok")
    page = render_page(model(
        account("production", stretched, disabled, pending, stale, costs,
                budget=BudgetStatus(4000, 9000.0, factor=2.5, used_last_hour=3210,
                                    rate_limit_remaining=4100, rate_limit_limit=5000)),
        ready=False, pending=("production/volumes",),
    ))
    assert ('<td><span title="2026-09-21 14:11:50 UTC">1.5 min ago</span></td>'
            '<td class="num">2.5 min <span class="muted">(set 1 min)</span></td>'
            '<td class="num">24.0</td><td class="num">1.23 s</td>') in page
    assert ('<tr class="disabled" id="production--cdn"><td>cdn</td><td><span class="badge warn">'
            "disabled</span></td>") in page
    assert '<span class="badge warn" id="count-disabled">1 collector disabled (missing scope)' in page
    assert '<span class="badge muted">first poll</span>' in page
    assert '<span class="badge bad">data stale</span>' in page
    assert "2 h ago" in page
    assert '<span class="badge warn" id="readiness">Not ready: waiting for production/volumes' in page
    assert ("<p><b>Request plan</b><span>9,000 requests/h planned of a 4,000/h budget (225%) "
            '<span class="badge warn">intervals stretched 2.50x</span></span></p>') in page
    assert "<p><b>Used</b><span>3,210 requests in the last hour</span></p>" in page
    assert "4,100 of 5,000 left" in page


@pytest.mark.parametrize(("token", "shown"), [
    (TokenStatus("read_only", scopes=("droplet:read", "genai:read"), secret_scopes=("genai:read",),
                 excess_scopes=("genai:read",), missing_scopes=("cdn:read",),
                 expires_at=NOW + 2 * 86400),
     ['<span class="badge ok">read-only token</span>',
      "<p><b>Expires</b><span>2026-09-23 14:13:20 UTC <span class=\"badge warn\">in 2 d</span>"
      "</span></p>",
      '<p><b>Scopes</b><span><code>droplet:read</code> <code>genai:read</code> '
      '<span class="badge warn">missing: cdn:read</span> <span class="badge muted">1 not needed'
      '</span> <span class="badge warn">reveals secrets: genai:read</span></span></p>']),
    (TokenStatus("write", scopes=("read", "write"), write_scopes=("write",)),
     ['<span class="badge bad">write-capable token</span>',
      "<p><b>Token</b><span>can change infrastructure: write</span></p>",
      '<span class="muted">does not expire</span>']),
    (TokenStatus("unverifiable", reason="token/info answered 503"),
     ['<span class="badge warn">token unverifiable</span>',
      "could not be verified: token/info answered 503", "not listed by token/info"]),
    (TokenStatus("read_only", valid=False, scopes=("read",), expires_at=NOW - 3600),
     ['<span class="badge bad">token rejected (401)</span>',
      "rejected by DigitalOcean (HTTP 401); polling of this account stopped",
      '<span class="badge bad">expired 1 h ago</span>']),
], ids=["read-only", "write", "unverifiable", "rejected"])
def test_token_verdicts(token: TokenStatus, shown: list[str]) -> None:
    page = render_page(model(account("production", ok("droplets"), token=token)))
    for text in shown:
        assert text in page


def test_everything_from_config_tokens_and_the_api_is_escaped() -> None:
    hostile = account(
        HOSTILE,
        CollectorStatus(HOSTILE, "failing", error=HOSTILE, interval=60.0, configured_interval=60.0),
        token=TokenStatus("unverifiable", scopes=(HOSTILE, 'a"b'), secret_scopes=(HOSTILE,),
                          reason=HOSTILE, unreadable=HOSTILE),
    )
    page = render_page(replace(model(hostile, ready=False, pending=(HOSTILE,)),
                               version=HOSTILE, telemetry_path='/m"><script>x</script>'))
    parsed = Tags(page)
    assert parsed.tags <= PAGE_TAGS
    assert "onerror" not in parsed.attributes
    assert "<script" not in page
    assert "<img" not in page
    # shown as text, as written
    assert HOSTILE in html.unescape("".join(parsed.text))
    assert '<a href="/m&quot;&gt;&lt;script&gt;x&lt;/script&gt;">' in page


# -- the page of a running daemon -----------------------------------------------------------


def lacking_one_scope() -> tuple[str, ...]:
    """Every scope the collectors need but the one collector UNSCOPED needs: a 403 for it."""
    unscoped = next(c for c in COLLECTORS if c.name == UNSCOPED)
    enabled = [c for c in COLLECTORS if c.enabled_by_default]
    return tuple(s for s in needed_scopes(enabled, fields=False) if s != unscoped.scope)


def simulated(fleets: tuple[FleetSpec, FleetSpec] | None = None) -> Simulator:
    """The demo fleet (or `fleets`), production with READ_TOKEN and staging with OTHER_TOKEN
    lacking one collector's scope; production's volumes answered by an HTML proxy error page."""
    demo = demo_config()
    production, staging = demo.accounts
    if fleets is not None:
        production, staging = (replace(production, fleet=fleets[0]), replace(staging, fleet=fleets[1]))
    config = replace(demo, accounts=(
        replace(production, tokens=(SimToken("production-ro", READ_TOKEN),)),
        replace(staging, tokens=(SimToken("staging-ro", OTHER_TOKEN, scopes=lacking_one_scope()),)),
    ), faults=(Fault("malformed", style="html", status=502, endpoint="/v2/volumes",
                     account="production"),))
    return Simulator(config)


@pytest.fixture
def small_simulator() -> Iterator[Simulator]:
    with simulated((FleetSpec(seed=1, droplets=3, volumes=2), FleetSpec(seed=2, droplets=2))) as sim:
        yield sim


def expect_failing_and_disabled(page: str) -> None:
    """What the page of `simulated()` shows, as served HTML or as the browser's DOM."""
    assert 'id="account-production"' in page
    assert 'id="account-staging"' in page
    assert '<span class="badge bad" id="count-failing">1 collector failing</span>' in page
    assert '<a href="#production--volumes">production / volumes</a>: /v2/volumes: HTTP 502' in page
    # the proxy's page is quoted in the error as text, never as markup
    assert "&lt;title&gt;502 Bad Gateway&lt;/title&gt;" in page
    assert '<tr class="failing" id="production--volumes">' in page
    assert f'<tr class="disabled" id="staging--{UNSCOPED}">' in page
    assert '<tr class="ok" id="production--droplets">' in page
    assert '<tr class="ok" id="staging--droplets">' in page
    assert page.count('<span class="badge ok">read-only token</span>') == 2
    for token in KNOWN_TOKENS:
        assert token not in page
        assert token[7:] not in page  # not even without its prefix


async def test_a_running_daemon_shows_its_state_behind_basic_auth(
    tmp_path: Path, small_simulator: Simulator
) -> None:
    config = write_config(tmp_path, token_file_config(
        tmp_path, small_simulator.url, {"production": READ_TOKEN, "staging": OTHER_TOKEN}))
    web_file = tmp_path / "web.yml"
    password_hash = bcrypt.hashpw(b"status page password", bcrypt.gensalt(4)).decode()
    web_file.write_text(f"basic_auth_users: {{alice: '{password_hash}'}}\n")
    web = load_web_config(web_file)

    def load() -> Settings:
        return load_settings(config, {}, collector_defaults())

    daemon = Daemon(load(), ServeOptions("127.0.0.1", 0, "/metrics", web=web), collectors=COLLECTORS,
                    reload_settings=load, redactor=Redactor(), environ={}, handle_signals=False)
    handle = DaemonHandle(daemon, asyncio.create_task(daemon.run()))
    try:
        async with httpx.AsyncClient(base_url="http://127.0.0.1") as client:
            while daemon.server is None or not daemon.readiness()[0]:
                assert not handle.task.done()
                await asyncio.sleep(0.05)
            url = handle.url + "/"
            refused = await client.get(url)
            assert (refused.status_code, refused.text) == (401, "Unauthorized\n")
            answer = await client.get(url, auth=("alice", "status page password"))
    finally:
        daemon.request_stop()
        assert await asyncio.wait_for(handle.task, 10) == 0
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["cache-control"] == "no-store"
    expect_failing_and_disabled(answer.text)
    assert '<span class="badge ok" id="readiness">Ready</span>' in answer.text


async def test_a_stalled_event_loop_is_what_the_page_says(tmp_path: Path) -> None:
    config = write_config(tmp_path, token_file_config(
        tmp_path, "http://127.0.0.1:9", {"production": READ_TOKEN}))
    settings = load_settings(config, {}, collector_defaults())
    daemon = Daemon(settings, ServeOptions("127.0.0.1", 0, "/metrics"), collectors=COLLECTORS,
                    reload_settings=lambda: settings, redactor=Redactor(), environ={},
                    handle_signals=False)
    page = StatusPage(daemon, asyncio.get_running_loop(), deadline=0.2)
    # asked from the loop's own thread, the loop cannot answer: the deadline passes
    stalled = page.html()
    assert ('<span class="badge bad" id="problem">the exporter&#x27;s event loop did not answer '
            "within 0.2 s; polls and token checks are stalled") in stalled
    answered = await asyncio.to_thread(page.html)
    assert '<span class="badge warn" id="readiness">Not ready: waiting for token verification' \
        in answered
    closed = asyncio.new_event_loop()
    closed.close()
    assert '<span class="badge bad" id="problem">the exporter is stopping</span>' \
        in StatusPage(daemon, closed).html()


# -- in a real browser ------------------------------------------------------------------------


def chromium(profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("chromium"), *BROWSER_FLAGS, f"--user-data-dir={profile}", *arguments],
        capture_output=True, text=True, check=True, timeout=60,
    )


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.e2e
def test_headless_chromium_shows_accounts_collectors_and_the_failing_one(tmp_path: Path) -> None:
    require_tool("chromium")
    with simulated() as simulator:
        config = write_config(tmp_path, token_file_config(
            tmp_path, simulator.url, {"production": READ_TOKEN, "staging": OTHER_TOKEN}))
        exporter = ExporterProcess(["--config.file", str(config)], tmp_path)
        try:
            exporter.wait_ready(timeout=60)
            dom = chromium(tmp_path / "profile", "--dump-dom", f"{exporter.url}/").stdout
            shot = tmp_path / "page.png"
            chromium(tmp_path / "profile", "--window-size=1280,1000", f"--screenshot={shot}",
                     f"{exporter.url}/")
        finally:
            assert exporter.stop() == 0
    expect_failing_and_disabled(dom)
    # every collector of both accounts has its row in the rendered document; those off by
    # default (the Monitoring API and GenAI ones) have none
    for name in ("production", "staging"):
        for collector in COLLECTORS:
            row = f'id="{name}--{collector.name}"'
            assert (row in dom) == collector.enabled_by_default, row
    # the browser parsed no element the page did not write (the proxy page's <title> included)
    assert Tags(dom).tags <= PAGE_TAGS
    assert dom.count("<title>") == 1
    assert png_size(shot) == (1280, 1000)
    for token in KNOWN_TOKENS:
        assert token not in exporter.output()


@pytest.mark.e2e
def test_make_screenshot_writes_the_demo_page(tmp_path: Path) -> None:
    require_tool("chromium")
    output = tmp_path / "status-page.png"
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "screenshot.py"), "--output", str(output),
         "--height", "900"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"wrote {output}\n"
    assert png_size(output) == (1280, 900)
    assert png_size(ROOT / "docs" / "status-page.png") == (1280, 1210)

