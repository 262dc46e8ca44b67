"""Issue 18, point 8: slow clients cannot starve scrapes or API polls.

~1,000 slow clients under the usual 1,024 file-descriptor limit used to exhaust the exporter's
descriptors: scrapes timed out and API polls failed. The real daemon runs here as a subprocess
under `ulimit -n 1024` (soft and hard, so raising the soft limit cannot help) against the
simulator, while 1,000 connections that never finish their request headers (half send
nothing, half a request line and one header) are kept open, reopened as soon as the exporter
closes one. Fresh scrapes must keep answering fast and the Droplet polls must keep succeeding.
"""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from exporter.cli import build_parser
from exporter.server import ConnectionLimiter
from exporter.simulator import FleetSpec, Simulator
from tests.conftest import OTHER_TOKEN, READ_TOKEN, free_port, token_file_config, two_accounts, write_config
from tests.reliability.conftest import collectors_config

SLOW_CLIENTS = 1100  # with the exporter's own descriptors, past the 1,024 limit
NOFILE = 1024
ATTACK_SECONDS = 14.0
REOPEN_SECONDS = 1.0  # more than two Droplet poll intervals (5 s) and the 10 s header deadline
LAST_SUCCESS = re.compile(
    r'^digitalocean_collector_last_success_timestamp_seconds\{account="production",'
    r'collector="droplets"\} (\S+)$', re.M)
SUCCESS = re.compile(
    r'^digitalocean_collector_success\{account="production",collector="droplets"\} (\S+)$', re.M)

# The daemon with soft and hard `nofile` at 1,024, then the usual entry point.
LIMITED_MAIN = (
    "import resource, sys\n"
    f"resource.setrlimit(resource.RLIMIT_NOFILE, ({NOFILE}, {NOFILE}))\n"
    "from exporter.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


# The slow clients run in a process of their own, so they compete with the exporter for the CPU
# but not with the scrapes measured here for this process's GIL. Each connection the exporter
# closes (deadline, eviction, refusal) is reopened after REOPEN_SECONDS, as slowloris does.
SLOW_CLIENTS_MAIN = """
import selectors, socket, sys, time
port, count, reopen = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
selector = selectors.DefaultSelector()
pending = []  # (when, index) of connections to reopen
opened = closed = 0
def open_one(index, wait=0.0):
    global opened
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if wait:  # the first round connects one by one, as a slowloris does, so all get in
        sock.settimeout(wait)
        try:
            sock.connect(("127.0.0.1", port))
        except OSError:
            sock.close()
            pending.append((time.monotonic() + reopen, index))
            return
        sock.setblocking(False)
    else:
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
    selector.register(sock, selectors.EVENT_WRITE, index)
    opened += 1
setup_end = time.monotonic() + 8
for index in range(count):
    open_one(index, wait=max(0.05, min(0.5, setup_end - time.monotonic())))
print("flooding", opened, flush=True)
while True:
    now = time.monotonic()
    while pending and pending[0][0] <= now:
        open_one(pending.pop(0)[1])
    for key, events in selector.select(0.05):
        sock, index = key.fileobj, key.data
        if events & selectors.EVENT_WRITE:  # connected: half say a little, then nothing more
            try:
                if index % 2:
                    sock.send(b"GET /metrics HTTP/1.1\\r\\nHost: exporter\\r\\n")
            except OSError:
                pass
            selector.modify(sock, selectors.EVENT_READ, index)
            continue
        try:
            data = sock.recv(4096)
        except OSError:
            data = b""
        if not data or data.startswith(b"HTTP/1.1 503"):
            selector.unregister(sock)
            sock.close()
            closed += 1
            pending.append((now + reopen, index))
            print(opened, closed, flush=True)
"""


class SlowClients:
    """`count` connections that never complete a request, from a subprocess; the last line it
    printed says how many it opened and how many the exporter closed."""

    def __init__(self, port: int, count: int, reopen_seconds: float) -> None:
        self.args = [sys.executable, "-c", SLOW_CLIENTS_MAIN, str(port), str(count),
                     str(reopen_seconds)]
        self.opened = self.closed_by_server = self.connected_at_start = 0
        self._process: subprocess.Popen[str] | None = None
        self._lines: list[str] = []
        self._reader: threading.Thread | None = None

    def __enter__(self) -> SlowClients:
        self._process = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        first = self._process.stdout.readline().split()
        assert first[0] == "flooding", first
        self.connected_at_start = int(first[1])
        stdout = self._process.stdout
        self._reader = threading.Thread(target=lambda: self._lines.extend(stdout), daemon=True)
        self._reader.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._process is not None
        self._process.kill()
        self._process.wait()
        if self._reader is not None:
            self._reader.join(5)
        if self._lines:
            self.opened, self.closed_by_server = map(int, self._lines[-1].split())


@pytest.fixture
def exporter(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    config = two_accounts(FleetSpec(seed=1, droplets=50, volumes=2),
                          FleetSpec(seed=2, droplets=5, volumes=1))
    with Simulator(config) as simulator:
        path = write_config(tmp_path, token_file_config(
            tmp_path, simulator.url, {"production": READ_TOKEN, "staging": OTHER_TOKEN},
        ) + collectors_config(("account", "droplets"), "5s"))
        port = free_port()
        log = tmp_path / "exporter.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGITALOCEAN_", "DO_"))}
        env["PYTHONPATH"] = str(Path(__file__).parents[2])
        process = subprocess.Popen(
            [sys.executable, "-c", LIMITED_MAIN, "--config.file", str(path),
             "--web.listen-address", f"127.0.0.1:{port}", "--log.format", "json"],
            stdout=subprocess.DEVNULL, stderr=log.open("wb"), env=env,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while True:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "not ready in 20 s: " + log.read_text()
                try:
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200 and \
                            SUCCESS.search(httpx.get(f"{url}/metrics", timeout=2).text):
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            yield url, process, log
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def last_success(url: str) -> float:
    found = LAST_SUCCESS.search(httpx.get(f"{url}/metrics", timeout=5).text)
    assert found
    return float(found.group(1))


def test_scrapes_and_polls_go_on_under_1000_slow_clients_with_ulimit_1024(
    exporter: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    url, process, log = exporter
    polled_before = last_success(url)
    baseline: list[float] = []
    for _ in range(20):
        start = time.perf_counter()
        httpx.get(f"{url}/metrics", timeout=5).raise_for_status()
        baseline.append(time.perf_counter() - start)
    latencies: list[float] = []
    failures: list[str] = []
    with SlowClients(int(url.rsplit(":", 1)[1]), SLOW_CLIENTS, REOPEN_SECONDS) as attack:
        time.sleep(1.0)  # let the flood land
        end = time.monotonic() + ATTACK_SECONDS
        while time.monotonic() < end:
            start = time.perf_counter()
            try:
                response = httpx.get(f"{url}/metrics", timeout=5)
                assert response.status_code == 200, response.status_code
                assert SUCCESS.search(response.text)
            except (httpx.HTTPError, AssertionError) as exc:
                failures.append(repr(exc))
            latencies.append(time.perf_counter() - start)
            time.sleep(0.1)
        open_fds = len(os.listdir(f"/proc/{process.pid}/fd"))
        polled_during = last_success(url)
        success = SUCCESS.search(httpx.get(f"{url}/metrics", timeout=5).text)
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"\nbefore the attack: p50 {statistics.median(baseline) * 1000:.1f} ms, max "
          f"{max(baseline) * 1000:.1f} ms")
    print(f"{len(latencies)} scrapes under {SLOW_CLIENTS} slow clients, ulimit -n {NOFILE}: "
          f"{len(failures)} failed, p50 {p50:.1f} ms, p99 {p99:.1f} ms, max "
          f"{latencies[-1] * 1000:.1f} ms; slow connections established at first "
          f"{attack.connected_at_start}, opened {attack.opened}, "
          f"closed by the exporter {attack.closed_by_server}; exporter fds at the end {open_fds}")
    assert process.poll() is None, log.read_text()[-2000:]
    # every scrape answered within its 5 s timeout (half Prometheus's default scrape timeout);
    # the latencies are printed, not asserted: p99 measured 0.1-0.4 s on a loaded 2-core machine
    assert failures == [], failures[:5]
    # the Droplet polls went on (every 5 s) and succeeded
    assert polled_during > polled_before
    assert success is not None
    assert float(success.group(1)) == 1
    # the exporter closed slow connections (header deadline, eviction) and said so once
    assert attack.closed_by_server >= SLOW_CLIENTS - 512
    events = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    near = [e for e in events if str(e.get("event", "")).startswith("open HTTP connections near")]
    assert len(near) == 1, near
    assert near[0]["max_connections"] == 512
    assert near[0]["nofile_limit"] == NOFILE
    assert not [e for e in events if e.get("level") == "error"], events[-5:]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_max_connections_must_be_a_positive_number() -> None:
    assert build_parser().parse_args(["--web.max-connections", "64"]).max_connections == 64
    assert build_parser().parse_args([]).max_connections == 512
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--web.max-connections", "0"])


def test_the_limiter_evicts_the_longest_waiting_and_expires_deadlines() -> None:
    """The rules, without sockets' timing: eviction order, refusal, header and idle deadlines."""
    clock = FakeClock()
    limiter = ConnectionLimiter(3, clock)
    pairs = [socket.socketpair() for _ in range(5)]
    try:
        first = limiter.admit(pairs[0][0])
        clock.now += 1
        second = limiter.admit(pairs[1][0])
        clock.now += 1
        third = limiter.admit(pairs[2][0])
        assert first
        assert second
        assert third
        limiter.busy(first)
        limiter.waiting(first)  # served one request: now an idle keep-alive connection
        # at the cap: the never-served connection waiting longest goes, not the kept-alive one
        assert limiter.admit(pairs[3][0]) is not None
        assert pairs[1][1].recv(1) == b""  # the evicted one was shut down
        assert limiter.evicted == 1
        assert len(limiter) == 3
        # every connection answering a request: a new one is refused
        for connection in list(limiter._open.values()):  # the test looks inside
            limiter.busy(connection)
        assert limiter.admit(pairs[4][0]) is None
        assert limiter.refused == 1
    finally:
        for a, b in pairs:
            a.close()
            b.close()


def test_a_client_that_sends_nothing_is_closed_after_the_header_deadline() -> None:
    clock = FakeClock()
    limiter = ConnectionLimiter(10, clock)
    quiet, peer = socket.socketpair()
    kept, kept_peer = socket.socketpair()
    try:
        limiter.admit(quiet)
        served = limiter.admit(kept)
        assert served is not None
        limiter.busy(served)
        limiter.waiting(served)  # kept alive: 120 s to send the next request
        clock.now += 9.9
        limiter.expire()
        assert len(limiter) == 2
        clock.now += 0.2
        limiter.expire()
        assert len(limiter) == 1
        assert peer.recv(1) == b""
        assert limiter.expired == 1
        clock.now += 120
        limiter.expire()
        assert len(limiter) == 0
        assert kept_peer.recv(1) == b""
    finally:
        for sock in (quiet, peer, kept, kept_peer):
            sock.close()
