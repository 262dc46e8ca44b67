"""Performance: scrape latency and throughput, poll cost, render cost and memory, measured.

    python -m bench.performance [--sizes 1000,10000,50000] [--seconds 12] [--latency 0.1]
                                [--runs 3] [--python-floor] [--json PATH]

For each size N the simulator (its own process) serves N Droplets, N volumes and every other
resource in proportion (snapshots N/5, reserved IPs N/20, load balancers N/50, ...), and every
API request waits `--latency` seconds first (the simulator's latency fault), like a real API
round trip. Then:

- **Polls, in this process** (the exporter's own client, collectors and renderer): every
  collector polls once, alone, with the request budget's per-minute pacing lifted (so the wall
  time is the API's and the exporter's, not the budget's); requests counted against the
  minimum, one request per `get` and ceil(items/200) (at least 1) per list; CPU seconds of this
  process per poll. A single 200-item page is timed alone as the unit of one round trip.
- **Reference polls**: the Droplet and volume lists read page by page, one after another, with
  per_page 200 and per_page 20 (what exporters that page serially do).
- **Renders, in this process**: the whole data part from nothing, after a Droplet poll changed
  the fleet (Droplets and costs re-rendered, the rest reused), and when only the cost estimates
  are due; gzip of the data part separately.
- **The exporter process** (`python -m exporter`, every collector on, default intervals)
  against the same simulator: resident memory once the whole fleet is served, and /metrics
  latency and throughput under 1 and 20 concurrent keep-alive scrapers, plain and gzip.
- **The floor**: the exposition the exporter served, saved to files and served by nginx (when
  installed) and, with `--python-floor`, by Python's http.server (ThreadingHTTPServer +
  SimpleHTTPRequestHandler, HTTP/1.1 keep-alive), scraped by the same client with the same
  settings. The 20-scraper gzip load (Prometheus asks for gzip) runs `--runs` times against
  the exporter and against nginx: one run's p99 is only its few slowest scrapes.
- **Scrapes during renders** (in this process: the exporter's HTTP server, cache and renderer,
  with a thread rendering the whole data part back to back, as the render worker does).

The scrapers are `wrk` (C, event-driven, its own process; `apt-get install wrk`), so the client
is not what is measured; without wrk, Python client processes (one per scraper) are used. The
gzip scrapers send `Accept-Encoding: gzip`, as Prometheus does.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import http.client
import json
import math
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    SimulatorProcess,
    exporter_config,
    percentile,
    print_table,
    process_status,
    stop,
)
from exporter import __version__
from exporter.api import PER_PAGE, AccountApi, DigitalOceanClient, request_counter
from exporter.budget import RequestBudget
from exporter.clock import SystemClock
from exporter.collectors import COLLECTORS, collector_table
from exporter.collectors.base import Collector, PollContext
from exporter.costs import cost_families
from exporter.exposition import DataPart, DataRenderer, ExpositionCache, encode_collector
from exporter.pricing import load_price_table
from exporter.server import MetricsServer, ServerApp
from exporter.snapshot import Snapshot

ACCOUNT = "production"
CONCURRENCY = (1, 20)


# -- polls ------------------------------------------------------------------------------------


class _Quiet:
    def observe(self, account: str, endpoint: str, code: str, seconds: float) -> None:
        pass


class CountingReader:
    """The exporter's AccountApi, counting the fewest requests that could have read the same."""

    def __init__(self, api: AccountApi) -> None:
        self.api = api
        self.minimum = 0

    def now(self) -> float:
        return self.api.now()

    async def get(self, endpoint: str, *, path: Mapping[str, str] | None = None,
                  params: Mapping[str, str] | None = None) -> dict[str, Any]:
        self.minimum += 1
        return await self.api.get(endpoint, path=path, params=params)

    async def get_or_none(self, endpoint: str, *, path: Mapping[str, str] | None = None,
                          params: Mapping[str, str] | None = None) -> dict[str, Any] | None:
        self.minimum += 1
        return await self.api.get_or_none(endpoint, path=path, params=params)

    async def list_all(self, endpoint: str, key: str, *, path: Mapping[str, str] | None = None,
                       params: Mapping[str, str] | None = None,
                       parse: Callable[[list[Any], int], list[Any]] | None = None,
                       missing_ok: bool = False, **options: Any) -> list[Any] | None:
        count = [0]

        def counted(items: list[Any], start: int) -> list[Any]:
            count[0] += len(items)  # items as listed, before the collector's parsing
            return parse(items, start) if parse is not None else items

        if (decode := getattr(parse, "decode", None)) is not None:  # typed pages stay typed
            counted.decode = decode  # type: ignore[attr-defined]
        records: list[Any] | None = await self.api.list_all(  # type: ignore[call-overload]
            endpoint, key, path=path, params=params, parse=counted, missing_ok=missing_ok,
            **options)
        self.minimum += max(1, math.ceil(count[0] / PER_PAGE))
        return records


@dataclass
class PollResult:
    collector: str
    seconds: float
    cpu: float
    requests: int
    minimum: int
    data: Any


async def poll_collector(api: AccountApi, collector: Collector[Any],
                         done: Mapping[str, Any] | None = None) -> PollResult:
    """One poll as the poller makes it, with the default settings and the data of the
    collectors it reads (`inputs`) from `done`, by name."""
    reader = CountingReader(api)
    done = done or {}
    context = PollContext(metrics=collector.chosen_metrics,
                          inputs={n: done[n] for n in collector.inputs if n in done})
    counter = [0]
    token = request_counter.set(counter)
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    try:
        data = await collector.collect(reader, context)  # type: ignore[arg-type]
    finally:
        request_counter.reset(token)
    return PollResult(collector.name, time.perf_counter() - started, time.process_time() - cpu,
                      counter[0], reader.minimum, data)


async def serial_list(api: AccountApi, endpoint: str, key: str, per_page: int) -> tuple[int, int]:
    """Page after page, following `links.pages.next`: (items, requests)."""
    items, page = 0, 1
    while True:
        body = await api.get(endpoint, params={"per_page": str(per_page), "page": str(page)})
        items += len(body[key])
        if not body.get("links", {}).get("pages", {}).get("next"):
            return items, page
        page += 1


@dataclass
class Polls:
    results: list[PollResult]
    single_page: float  # seconds for one request of one full page
    serial: list[tuple[str, int, int, float]]  # (what, per_page, requests, seconds)
    api_bound: float  # seconds for one request of a tiny answer (/v2/account)


async def measure_polls(url: str, token: str, size: int, serial_20: bool) -> Polls:
    clock = SystemClock()
    client = DigitalOceanClient(api_url=url, auth_url=url, timeout=120, user_agent="bench",
                                observer=_Quiet(), clock=clock)
    # The real hourly budget, without the per-minute pacing: measured is the API and the
    # exporter, not the budget's wait.
    api = client.account(ACCOUNT, lambda: token, RequestBudget(5000, clock, per_minute=10**9))
    try:
        results: list[PollResult] = []
        for collector in COLLECTORS:  # in table order: a collector's inputs come before it
            if collector.enabled_by_default:
                done = {r.collector: r.data for r in results}
                results.append(await poll_collector(api, collector, done))
        singles, tiny = [], []
        for _ in range(5):
            started = time.perf_counter()
            await api.get("/v2/droplets", params={"per_page": str(PER_PAGE), "page": "1"})
            singles.append(time.perf_counter() - started)
            started = time.perf_counter()
            await api.get("/v2/account")
            tiny.append(time.perf_counter() - started)
        serial = []
        for endpoint, key in (("/v2/droplets", "droplets"), ("/v2/volumes", "volumes")):
            for per_page in (200, 20):
                if per_page == 20 and (not serial_20 or key != "droplets"):
                    continue  # a minute per 10,000 items: once is enough
                started = time.perf_counter()
                _, requests = await serial_list(api, endpoint, key, per_page)
                serial.append((endpoint, per_page, requests, time.perf_counter() - started))
    finally:
        await client.aclose()
    return Polls(results, statistics.median(singles), serial, statistics.median(tiny))


# -- renders ----------------------------------------------------------------------------------


@dataclass
class Renders:
    """CPU-bound seconds: encoding (and compressing) fragments, which the polls do, and the
    render worker's join (derived families and the runs between fragments compressed)."""

    full_encode: float
    full_render: float
    droplets_encode: float
    droplets_render: float
    costs_render: float
    plain_bytes: int
    gzip_bytes: int


def fresh_of(
    data: Mapping[str, Any], now: float, before: list[tuple[str, str, Snapshot]] | None = None
) -> list[tuple[str, str, Snapshot]]:
    """What the polls publish: each collector's data with its encoded fragment (poll-time work),
    reusing a fragment of `before` whose data is the very same object, as the poller does."""
    kept = {name: snap for _, name, snap in before or () if snap.data is data.get(name)}
    # a poll lends its previous fragment's pieces to the families whose lines did not change
    previous = {name: snap.fragment for _, name, snap in before or () if snap.fragment}
    table = collector_table()
    fresh = []
    for name, value in data.items():
        snapshot = kept.get(name)
        if snapshot is None:
            old = previous.get(name)
            fragment = encode_collector(ACCOUNT, table[name], value, old)
            snapshot = Snapshot(value, now, None, now, 0.0, fragment)
        fresh.append((ACCOUNT, name, snapshot))
    return fresh


def render_part(renderer: DataRenderer, fresh: list[tuple[str, str, Snapshot]], now: float
                ) -> tuple[DataPart, float]:
    """What the daemon's render worker does: (the data part, seconds). Compressing the runs
    of headers and small pieces is part of it; fragments were compressed by their polls."""
    started = time.perf_counter()
    part = renderer.render_part(fresh, now)
    return part, time.perf_counter() - started


def measure_renders(data: dict[str, Any]) -> Renders:
    renderer = DataRenderer(COLLECTORS, (cost_families(load_price_table()),))
    now = time.time()
    gc.collect()

    previous: list[tuple[str, str, Snapshot]] = []

    def timed(polled: dict[str, Any], at: float) -> tuple[float, float, DataPart]:
        """(seconds encoding what the polls changed, seconds rendering, the data part)."""
        nonlocal previous
        started = time.perf_counter()
        previous = fresh_of(polled, at, previous)
        encoding = time.perf_counter() - started
        part, rendering = render_part(renderer, previous, at)
        return encoding, rendering, part

    full_encode, full_render, part = timed(data, now)
    # A Droplet poll that changed the fleet: a new records object, so the Droplet fragment is
    # encoded again and the costs computed again.
    changed = {**data, "droplets": (*data["droplets"],)}
    droplets_encode, droplets_render, _ = timed(changed, now)
    # Nothing polled, but the cost estimates are due (every 5 minutes).
    _, costs_render, _ = timed(changed, now + 300)
    gzip_bytes = ExpositionCache()
    gzip_bytes.set_data(part)
    return Renders(full_encode, full_render, droplets_encode, droplets_render, costs_render,
                   part.size, gzip_bytes.current.body(False, True).length)


# -- scrapers ---------------------------------------------------------------------------------


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50: float
    p99: float
    errors: int = 0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _duration(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(url: str, connections: int, seconds: float, gzip: bool) -> LoadResult:
    threads = min(2, connections)
    command = ["wrk", "--latency", "-t", str(threads), "-c", str(connections), "-d",
               f"{seconds:g}s", "--timeout", "30s"]
    if gzip:
        command += ["-H", "Accept-Encoding: gzip"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.MULTILINE))
    total = re.search(r"(\d+) requests in ([\d.]+\w+),", out)
    if total is None or "50" not in percentiles or "99" not in percentiles:
        raise RuntimeError(f"unexpected wrk output for {command} {url}:\n{out}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                              out)
    failed = int(errors.group(1)) if errors else 0
    if socket_errors:
        failed += sum(int(n) for n in socket_errors.groups())
    return LoadResult(int(total.group(1)), _duration(total.group(2)),
                      _duration(percentiles["50"]), _duration(percentiles["99"]), failed)


def _python_scraper(url: str, seconds: float, gzip: bool, out: Any) -> None:
    split = httpx.URL(url)
    connection = http.client.HTTPConnection(split.host, split.port, timeout=30)
    headers = {"Accept-Encoding": "gzip"} if gzip else {"Accept-Encoding": "identity"}
    latencies = []
    stop_at = time.monotonic() + seconds
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        connection.request("GET", split.raw_path.decode(), headers=headers)
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
    out.put(latencies)


def python_load(url: str, connections: int, seconds: float, gzip: bool) -> LoadResult:
    """One client process per scraper (no shared GIL), keep-alive, bodies read whole."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_python_scraper, args=(url, seconds, gzip, queue))
                 for _ in range(connections)]
    for process in processes:
        process.start()
    latencies = sorted(x for _ in processes for x in queue.get())
    for process in processes:
        process.join()
    return LoadResult(len(latencies), seconds, percentile(latencies, 0.5),
                      percentile(latencies, 0.99))


Scrape = Callable[[str, int, float, bool], LoadResult]


Load = dict[tuple[int, bool], list[LoadResult]]


def load_matrix(scrape: Scrape, plain_url: str, gzip_url: str, seconds: float, runs: int = 1
                ) -> Load:
    """1 and 20 scrapers, plain and gzip; the 20-scraper gzip load (what a busy Prometheus
    set-up sends) `runs` times, since one run's p99 is its few slowest scrapes."""
    results: Load = {}
    for connections in CONCURRENCY:
        for gzip in (False, True):
            repeat = runs if (connections, gzip) == (CONCURRENCY[-1], True) else 1
            results[(connections, gzip)] = [
                scrape(gzip_url if gzip else plain_url, connections, seconds, gzip)
                for _ in range(repeat)]
    return results


# -- servers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("server did not listen")


class _StaticHandler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the exporter and Prometheus use
    # as the exporter does: headers and body are separate writes, and Nagle with delayed ACKs
    # would add 40 ms to a body that ends in a small segment
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # stdlib signature
        pass


def serve_static(directory: str, port: int) -> None:
    """Python's http.server on a directory (run in its own process by `--static-server`)."""
    handler = partial(_StaticHandler, directory=directory)
    with _QuietServer(("127.0.0.1", port), handler) as server:
        server.serve_forever()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """wrk closes its connections mid-response when its time is up."""


def start_python_static(directory: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bench.performance", "--static-server",
                                str(directory), str(port)])
    wait_listening(port, process)
    return process, port


NGINX_CONFIG = """
daemon off;
worker_processes auto;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 10000000;
    types {{ }}
    default_type text/plain;
    client_body_temp_path {workdir}/nginx-tmp;
    proxy_temp_path {workdir}/nginx-tmp;
    fastcgi_temp_path {workdir}/nginx-tmp;
    uwsgi_temp_path {workdir}/nginx-tmp;
    scgi_temp_path {workdir}/nginx-tmp;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location ~ \\.gz$ {{ add_header Content-Encoding gzip; }}
    }}
}}
"""


def start_nginx(workdir: Path, root: Path) -> tuple[subprocess.Popen[bytes], int] | None:
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if binary is None:
        return None
    port = free_port()
    (workdir / "nginx-tmp").mkdir(exist_ok=True)
    config = workdir / "nginx.conf"
    config.write_text(NGINX_CONFIG.format(workdir=workdir, port=port, root=root))
    for directory in (workdir, root):
        directory.chmod(0o755)  # nginx's workers run as another user
    process = subprocess.Popen([binary, "-c", str(config), "-p", str(workdir)],
                               stderr=subprocess.DEVNULL)
    wait_listening(port, process)
    return process, port


# -- the exporter process ---------------------------------------------------------------------


@dataclass
class ExporterRun:
    ready_seconds: float
    rss_ready_kib: int
    rss_after_kib: int
    hwm_kib: int
    cpu_to_ready: float
    plain: bytes
    gzip: bytes
    load: Load = field(default_factory=dict)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def served_count(text: str, family: str) -> int:
    return text.count(f"\n{family}{{")


def run_exporter(workdir: Path, simulator: SimulatorProcess, size: int, seconds: float,
                 scrape: Scrape, *, runs: int = 1) -> ExporterRun:
    config = exporter_config(workdir, simulator)
    port = free_port()
    log_path = workdir / "exporter.log"
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.performance", "--unpaced-exporter",
         "--config.file", str(config),
         "--web.listen-address", f"127.0.0.1:{port}", "--log.format", "json"],
        stdout=subprocess.DEVNULL, stderr=log_path.open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = started + 900
        with httpx.Client(timeout=60) as client:
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"exporter not ready:\n{log_path.read_text()[-3000:]}")
                try:
                    if client.get(f"{base}/readyz").status_code == 200:
                        text = client.get(f"{base}/metrics").text
                        if (served_count(text, "digitalocean_droplet_info") >= size
                                and served_count(text, "digitalocean_volume_info") >= size):
                            break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            ready = time.monotonic() - started
            cpu = cpu_seconds(process.pid)
            time.sleep(2)  # let the first render's garbage go
            rss_ready = process_status(process.pid)["VmRSS"]
            plain = client.get(f"{base}/metrics", headers={"Accept-Encoding": "identity"}).content
            with client.stream("GET", f"{base}/metrics",
                               headers={"Accept-Encoding": "gzip"}) as response:
                gzip_body = b"".join(response.iter_raw())  # as sent, not decompressed
        run = ExporterRun(ready, rss_ready, 0, 0, cpu, plain, gzip_body)
        run.load = load_matrix(scrape, f"{base}/metrics", f"{base}/metrics", seconds, runs)
        status = process_status(process.pid)
        run.rss_after_kib, run.hwm_kib = status["VmRSS"], status["VmHWM"]
        return run
    finally:
        stop(process)


# -- scrapes during renders -------------------------------------------------------------------


@dataclass
class RenderLoad:
    idle: LoadResult
    rendering: LoadResult
    renders: int
    render_seconds: float


def scrape_during_renders(data: dict[str, Any], seconds: float, scrape: Scrape) -> RenderLoad:
    """The exporter's HTTP server in this process, with a worker thread encoding every
    collector's fragment and joining the whole data part back to back (nothing reused), as the
    polls and the daemon's render worker do after a change; a gzip scraper measures scrapes
    meanwhile."""
    prices = load_price_table()
    now = time.time()
    fresh = fresh_of(data, now)
    cache = ExpositionCache()
    cache.set_data(render_part(DataRenderer(COLLECTORS, (cost_families(prices),)), fresh,
                               now)[0])
    server = MetricsServer("127.0.0.1", 0, ServerApp(cache, "/metrics", lambda: (True, []),
                                                     __version__))
    server.start()
    url = f"http://127.0.0.1:{server.port}/metrics"
    stop_rendering = threading.Event()
    durations: list[float] = []

    def render_loop() -> None:
        while not stop_rendering.is_set():
            started = time.perf_counter()
            renderer = DataRenderer(COLLECTORS, (cost_families(prices),))
            cache.set_data(render_part(renderer, fresh_of(data, now), now)[0])
            durations.append(time.perf_counter() - started)

    try:
        idle = scrape(url, 1, seconds, True)
        worker = threading.Thread(target=render_loop, name="render")
        worker.start()
        try:
            rendering = scrape(url, 1, seconds, True)
        finally:
            stop_rendering.set()
            worker.join()
    finally:
        server.stop()
    return RenderLoad(idle, rendering, len(durations), statistics.median(durations))


# -- the run ----------------------------------------------------------------------------------


@dataclass
class SizeResult:
    size: int
    fleet: str
    polls: Polls
    renders: Renders
    exporter: ExporterRun
    python_static: Load | None
    nginx: Load | None
    during_renders: RenderLoad | None


def fleet_summary(url: str) -> str:
    state = httpx.get(f"{url}/_simulator/state", timeout=60).json()["accounts"][0]
    keys = ("droplets", "volumes", "snapshots", "reserved_ips", "load_balancers",
            "kubernetes_clusters", "databases", "apps", "projects")
    return ", ".join(f"{state[k]} {k}" for k in keys)


def run_size(size: int, args: argparse.Namespace, scrape: Scrape) -> SizeResult:
    with tempfile.TemporaryDirectory(prefix=f"bench-perf-{size}-") as tmp:
        workdir = Path(tmp)
        latency = [{"kind": "latency", "seconds": args.latency}]
        started = time.monotonic()
        simulator = SimulatorProcess(workdir, size, latency, volumes=size)
        try:
            fleet = fleet_summary(simulator.url)
            print(f"[{size}] simulator up in {time.monotonic() - started:.1f}s: {fleet}",
                  flush=True)
            token = simulator.token_file.read_text().strip()
            polls = asyncio.run(measure_polls(simulator.url, token, size,
                                              serial_20=size <= args.serial_20_max))
            print(f"[{size}] polls measured", flush=True)
            data = {r.collector: r.data for r in polls.results}
            renders = measure_renders(data)
            print(f"[{size}] renders measured", flush=True)
            during = (scrape_during_renders(data, args.seconds, scrape)
                      if size >= args.render_load_min else None)
            del data
            for result in polls.results:
                result.data = None
            gc.collect()
            exporter = run_exporter(workdir, simulator, size, args.seconds, scrape, runs=args.runs)
            print(f"[{size}] exporter measured (ready after {exporter.ready_seconds:.0f}s)",
                  flush=True)
        finally:
            simulator.stop()
        root = workdir / "static"
        root.mkdir()
        (root / "metrics").write_bytes(exporter.plain)
        (root / "metrics.gz").write_bytes(exporter.gzip)
        python_static: Load | None = None
        if args.python_floor:
            python_server, port = start_python_static(root)
            try:
                python_static = load_matrix(scrape, f"http://127.0.0.1:{port}/metrics",
                                            f"http://127.0.0.1:{port}/metrics.gz", args.seconds)
            finally:
                stop(python_server)
        nginx_result = None
        nginx = start_nginx(workdir, root)
        if nginx is not None:
            try:
                nginx_result = load_matrix(scrape, f"http://127.0.0.1:{nginx[1]}/metrics",
                                           f"http://127.0.0.1:{nginx[1]}/metrics.gz",
                                           args.seconds, args.runs)
            finally:
                stop(nginx[0])
        print(f"[{size}] static servers measured", flush=True)
    return SizeResult(size, fleet, polls, renders, exporter, python_static, nginx_result, during)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def report(results: Sequence[SizeResult], args: argparse.Namespace, client: str) -> None:
    print(f"\nmachine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end; "
          f"Python {sys.version.split()[0]}; client: {client}; API latency {args.latency:g}s "
          f"per request; {args.seconds:g}s per load run")
    for r in results:
        print(f"\n== {r.size} Droplets: {r.fleet}")
    # /metrics
    rows = []
    for r in results:
        for name, load in (("exporter", r.exporter.load), ("python http.server", r.python_static),
                           ("nginx", r.nginx)):
            if load is None:
                continue
            for (connections, gzip), runs in load.items():
                for number, result in enumerate(runs, 1):
                    scrapers = f"{connections}" + (f" (run {number})" if len(runs) > 1 else "")
                    rows.append((r.size, name, scrapers, "gzip" if gzip else "plain",
                                 ms(result.p50), ms(result.p99), f"{result.rate:.0f}",
                                 result.errors))
    print_table("/metrics: latency and throughput (keep-alive scrapers)",
                ("droplets", "server", "scrapers", "body", "p50 ms", "p99 ms", "scrapes/s",
                 "errors"), rows)
    rows = []
    for r in results:
        ratio = gzip_p99_ratio(r)
        if ratio is not None:
            rows.append((r.size, ", ".join(f"{x:.2f}" for x in ratio),
                         f"{statistics.median(ratio):.2f}", f"{max(ratio):.2f}"))
    if rows:
        print_table(f"20 gzip scrapers: exporter p99 / nginx p99, run by run ({args.seconds:g} s "
                    "each)", ("droplets", "ratios", "median", "worst"), rows)
    print_table("exposition and the exporter process",
                ("droplets", "plain KiB", "gzip KiB", "ready s", "CPU s to ready",
                 "RSS MiB ready", "RSS MiB after load", "peak RSS MiB"),
                [(r.size, len(r.exporter.plain) // 1024, len(r.exporter.gzip) // 1024,
                  f"{r.exporter.ready_seconds:.0f}", f"{r.exporter.cpu_to_ready:.1f}",
                  f"{r.exporter.rss_ready_kib / 1024:.0f}",
                  f"{r.exporter.rss_after_kib / 1024:.0f}", f"{r.exporter.hwm_kib / 1024:.0f}")
                 for r in results])
    report_polls(results)


def gzip_p99_ratio(r: SizeResult) -> list[float] | None:
    """The exporter's p99 over nginx's, run by run, at 20 gzip scrapers."""
    if r.nginx is None:
        return None
    key = (CONCURRENCY[-1], True)
    return [ours.p99 / theirs.p99 for ours, theirs in zip(r.exporter.load[key], r.nginx[key],
                                                          strict=True)]


def as_json(results: Sequence[SizeResult], args: argparse.Namespace, client: str
            ) -> dict[str, Any]:
    """The figures, for bench/report.py (docs/performance.md)."""
    sizes = []
    for r in results:
        loads = {}
        for name, load in (("exporter", r.exporter.load), ("python", r.python_static),
                           ("nginx", r.nginx)):
            for (connections, gzip), runs in (load or {}).items():
                loads[f"{name} {connections} {'gzip' if gzip else 'plain'}"] = [
                    {"p50_ms": x.p50 * 1000, "p99_ms": x.p99 * 1000, "rate": x.rate,
                     "errors": x.errors} for x in runs]
        droplets = next(p for p in r.polls.results if p.collector == "droplets")
        sizes.append({
            "size": r.size, "fleet": r.fleet,
            "polls": [{"collector": p.collector, "requests": p.requests, "minimum": p.minimum,
                       "wall_s": p.seconds, "cpu_s": p.cpu,
                       "round_trips": p.seconds / r.polls.single_page} for p in r.polls.results],
            "droplet_poll_round_trips": droplets.seconds / r.polls.single_page,
            "droplet_poll_cpu_s": droplets.cpu,
            "single_page_ms": r.polls.single_page * 1000,
            "renders": dict(vars(r.renders)),
            "exporter": {"ready_s": r.exporter.ready_seconds,
                         "cpu_to_ready_s": r.exporter.cpu_to_ready,
                         "rss_ready_mib": r.exporter.rss_ready_kib / 1024,
                         "rss_after_load_mib": r.exporter.rss_after_kib / 1024,
                         "peak_rss_mib": r.exporter.hwm_kib / 1024,
                         "plain_kib": len(r.exporter.plain) / 1024,
                         "gzip_kib": len(r.exporter.gzip) / 1024},
            "loads": loads,
            "gzip_p99_ratio_20": gzip_p99_ratio(r),
        })
    return {"machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
            "client": client, "latency_s": args.latency, "seconds": args.seconds,
            "runs": args.runs, "sizes": sizes}


def report_polls(results: Sequence[SizeResult]) -> None:
    rows = []
    for r in results:
        for p in r.polls.results:
            if p.requests > 1 or p.seconds > 0.5:
                rows.append((r.size, p.collector, p.requests, p.minimum,
                             f"{p.seconds:.2f}", f"{p.seconds / r.polls.single_page:.1f}",
                             f"{p.cpu:.2f}"))
        total = r.polls.results
        rows.append((r.size, f"all {len(total)}", sum(p.requests for p in total),
                     sum(p.minimum for p in total), f"{sum(p.seconds for p in total):.2f}", "",
                     f"{sum(p.cpu for p in total):.2f}"))
    print_table("polls (collectors with more than one request or over 0.5 s; the rest are one "
                "request each); round trips = wall time / one 200-item page",
                ("droplets", "collector", "requests", "minimum", "wall s", "round trips",
                 "CPU s"), rows)
    print_table("one request", ("droplets", "200-item page ms", "/v2/account ms"),
                [(r.size, ms(r.polls.single_page), ms(r.polls.api_bound)) for r in results])
    rows = []
    for r in results:
        for endpoint, per_page, requests, seconds in r.polls.serial:
            ours = next(p for p in r.polls.results
                        if p.collector == endpoint.removeprefix("/v2/"))
            rows.append((r.size, endpoint, f"serial, per_page {per_page}", requests,
                         f"{seconds:.2f}"))
            if per_page == 200:
                concurrent = ours.requests - (1 if ours.collector == "droplets" else 0)
                rows.append((r.size, endpoint, "this exporter (concurrent pages)",
                             concurrent, f"{ours.seconds:.2f}*"))
    print_table("reference: serial paging (* the Droplet poll also reads the GPU list, "
                "concurrently)", ("droplets", "list", "how", "requests", "wall s"), rows)
    print_table("renders (in process): encoding is the polls' work (fragments encoded and "
                "compressed), rendering the render worker's",
                ("droplets", "encode all s", "render all s", "encode Droplets s",
                 "render after a Droplet change s", "render, cost estimates only s"),
                [(r.size, f"{r.renders.full_encode:.3f}", f"{r.renders.full_render:.3f}",
                  f"{r.renders.droplets_encode:.3f}", f"{r.renders.droplets_render:.3f}",
                  f"{r.renders.costs_render:.3f}") for r in results])
    report_render_load(results)


def report_render_load(results: Sequence[SizeResult]) -> None:
    rows = []
    for r in results:
        if r.during_renders is None:
            continue
        d = r.during_renders
        for what, result in (("idle", d.idle), (f"{d.renders} whole renders", d.rendering)):
            rows.append((r.size, what, ms(result.p50), ms(result.p99), f"{result.rate:.0f}"))
        rows.append((r.size, "one whole render + gzip took", f"{d.render_seconds:.2f} s", "", ""))
    if rows:
        print_table("scrapes during renders (in process, 1 gzip scraper)",
                    ("droplets", "meanwhile", "p50 ms", "p99 ms", "scrapes/s"), rows)


def run_unpaced_exporter(argv: Sequence[str]) -> int:
    """The real exporter (`exporter.cli.main`) without the budget's per-minute pacing.

    Its first polls at 10,000 Droplets and more take several hundred requests; at 200 a minute
    the exporter needs minutes (at 50,000 Droplets about 15) before it serves everything. The
    benchmark does not wait for that: the hourly budget stays, only the per-minute pacing goes.
    """
    from exporter import cli, daemon  # noqa: PLC0415  # only in this mode

    daemon.RequestBudget = partial(RequestBudget, per_minute=10**9)  # type: ignore[misc]
    return cli.main(argv)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--static-server":
        serve_static(sys.argv[2], int(sys.argv[3]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--unpaced-exporter":
        sys.exit(run_unpaced_exporter(sys.argv[2:]))
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000",
                        help="Droplet counts, comma-separated (volumes: the same number)")
    parser.add_argument("--seconds", type=float, default=12.0, help="length of each load run")
    parser.add_argument("--latency", type=float, default=0.1, help="API latency per request")
    parser.add_argument("--serial-20-max", type=int, default=10_000,
                        help="largest size for which the per_page 20 serial reference runs")
    parser.add_argument("--render-load-min", type=int, default=50_000,
                        help="smallest size for which scrapes during renders are measured")
    parser.add_argument("--client", choices=("wrk", "python"), default=None)
    parser.add_argument("--python-floor", action="store_true",
                        help="also serve the same bytes with Python's http.server")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs of the 20-scraper gzip load, exporter and nginx each")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    client = args.client or ("wrk" if shutil.which("wrk") else "python")
    scrape: Scrape = wrk if client == "wrk" else python_load
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results = [run_size(size, args, scrape) for size in sizes]
    described = ("wrk (C, separate process)" if client == "wrk"
                 else "Python client processes, one per scraper")
    report(results, args, described)
    if args.json is not None:
        args.json.write_text(json.dumps(as_json(results, args, described), indent=1) + "\n")


if __name__ == "__main__":
    main()
