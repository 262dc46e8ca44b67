"""Load: many concurrent scrapers against a large fleet while polls run.

    python -m bench.load [--droplets 10000] [--scrapers 50] [--seconds 30] [--reload-every 10]

The exporter runs as its own process (`python -m exporter`, the droplets and volumes collectors)
against a simulator process with a fleet that changes on every poll (a churn fault), so the
exposition is re-rendered while it is being scraped. A SIGHUP every `--reload-every` seconds
restarts the poller, which polls every collector at once (inside the exporter's own request
budget). The scrapers are threads with keep-alive connections asking for gzip, as Prometheus
does; each body is read whole and checked against its Content-Length, and every 25th is
decompressed and checked to end with the self part. Prints the scrape count, failures and
latency percentiles.
"""

from __future__ import annotations

import argparse
import gzip
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.common import (
    SimulatorProcess,
    collectors_section,
    exporter_config,
    percentile,
    print_table,
    process_status,
)


@dataclass
class ScrapeLog:
    latencies: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def scraper(url: str, stop_at: float, log: ScrapeLog, check_every: int) -> None:
    count = 0
    with httpx.Client(timeout=30, headers={"Accept-Encoding": "gzip"}) as client:
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                with client.stream("GET", url) as response:
                    raw = b"".join(response.iter_raw())
                elapsed = time.perf_counter() - started
                problem = None
                if response.status_code != 200:
                    problem = f"HTTP {response.status_code}"
                elif len(raw) != int(response.headers["content-length"]):
                    problem = f"short body {len(raw)} of {response.headers['content-length']}"
                elif count % check_every == 0:
                    text = gzip.decompress(raw)
                    if b"digitalocean_exporter_build_info" not in text:
                        problem = "exposition without its self part"
            except httpx.HTTPError as exc:
                elapsed, problem = time.perf_counter() - started, repr(exc)
            count += 1
            with log.lock:
                if problem is None:
                    log.latencies.append(elapsed)
                    log.sizes.append(len(raw))
                else:
                    log.failures.append(problem)


def counter(metrics: str, prefix: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith(prefix))


@dataclass
class Run:
    log: ScrapeLog
    reloads: int
    droplet_requests: float
    plain_size: int
    before: dict[str, int]
    after: dict[str, int]
    exit_code: int = 0


def start_exporter(workdir: Path, config: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_path = workdir / "exporter.log"
    exporter = subprocess.Popen(
        [sys.executable, "-m", "exporter", "--config.file", str(config),
         "--web.listen-address", f"127.0.0.1:{port}", "--log.format", "json"],
        stdout=subprocess.DEVNULL, stderr=log_path.open("wb"),
    )
    return exporter, f"http://127.0.0.1:{port}", log_path


def wait_serving(exporter: subprocess.Popen[bytes], base: str, log_path: Path,
                 droplets: int) -> str:
    """The first exposition that holds (nearly) the whole fleet."""
    deadline = time.monotonic() + 300
    while True:
        if exporter.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"exporter not ready:\n{log_path.read_text()[-3000:]}")
        try:
            metrics = httpx.get(f"{base}/metrics", timeout=10).text
            if metrics.count("digitalocean_droplet_info{") >= droplets * 0.99:
                return metrics
        except httpx.HTTPError:
            pass
        time.sleep(0.5)


# Only the two biggest lists poll, so the exporter's own budget (200 requests a minute) goes
# to Droplet polls during the run rather than to the first polls of every other collector.
ENABLED = ("droplets", "volumes")


DROPLET_REQUESTS = 'digitalocean_api_requests_total{account="production",code="200",endpoint="/v2/droplets"}'


def load(exporter: subprocess.Popen[bytes], base: str, args: argparse.Namespace,
         metrics: str) -> Run:
    plain = httpx.get(f"{base}/metrics", headers={"Accept-Encoding": "identity"}).content
    before_polls = counter(metrics, DROPLET_REQUESTS)
    before = process_status(exporter.pid)
    log = ScrapeLog()
    stop_at = time.monotonic() + args.seconds
    threads = [threading.Thread(target=scraper, args=(f"{base}/metrics", stop_at, log, 25))
               for _ in range(args.scrapers)]
    for thread in threads:
        thread.start()
    reloads = 0
    while time.monotonic() < stop_at:
        time.sleep(min(args.reload_every, max(0.0, stop_at - time.monotonic())))
        if time.monotonic() < stop_at:
            exporter.send_signal(signal.SIGHUP)  # every collector polls again at once
            reloads += 1
    for thread in threads:
        thread.join()
    after = process_status(exporter.pid)
    metrics = httpx.get(f"{base}/metrics", timeout=30).text
    return Run(log, reloads, counter(metrics, DROPLET_REQUESTS) - before_polls, len(plain),
               before, after)


def report(args: argparse.Namespace, run: Run) -> None:
    latencies = sorted(run.log.latencies)
    failures = run.log.failures
    scrapes = len(latencies) + len(failures)
    pages = -(-args.droplets // 200) + 1  # the regular list's pages and the GPU list
    sizes = run.log.sizes
    print_table(
        f"load: {args.scrapers} scrapers x {args.seconds:g}s, {args.droplets} droplets, gzip",
        ("scrapes", "failed", "scrapes/s", "p50 ms", "p90 ms", "p99 ms", "max ms",
         "gzip body KiB", "plain body KiB"),
        [(scrapes, len(failures), f"{scrapes / args.seconds:.1f}",
          f"{percentile(latencies, 0.5) * 1000:.1f}", f"{percentile(latencies, 0.9) * 1000:.1f}",
          f"{percentile(latencies, 0.99) * 1000:.1f}",
          f"{(latencies[-1] if latencies else 0) * 1000:.1f}",
          f"{sum(sizes) / max(1, len(sizes)) / 1024:.0f}", f"{run.plain_size / 1024:.0f}")],
    )
    print_table(
        "the exporter process",
        ("SIGHUPs", "droplet polls", "RSS MiB before", "RSS MiB after", "peak RSS MiB",
         "threads after", "exit code"),
        [(run.reloads, f"{run.droplet_requests / pages:.1f}", f"{run.before['VmRSS'] / 1024:.0f}",
          f"{run.after['VmRSS'] / 1024:.0f}", f"{run.after['VmHWM'] / 1024:.0f}",
          run.after["Threads"], run.exit_code)],
    )
    for failure in sorted(set(failures))[:10]:
        print("failure:", failure)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--droplets", type=int, default=10_000)
    parser.add_argument("--scrapers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--reload-every", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        workdir = Path(tmp)
        churn = [{"kind": "churn", "endpoint": "/v2/droplets", "page": 1, "every": 1,
                  "create": 5, "destroy": 5}]  # each poll sees a changed fleet: a new render
        started = time.monotonic()
        simulator = SimulatorProcess(workdir, args.droplets, churn)
        print(f"simulator with {args.droplets} droplets up in {time.monotonic() - started:.1f}s")
        config = exporter_config(workdir, simulator, collectors_section(ENABLED, "5s"))
        exporter, base, log_path = start_exporter(workdir, config)
        try:
            metrics = wait_serving(exporter, base, log_path, args.droplets)
            print(f"exporter serving the whole fleet {time.monotonic() - started:.1f}s after start")
            run = load(exporter, base, args, metrics)
        finally:
            exporter.send_signal(signal.SIGTERM)
            code = exporter.wait(30)
            simulator.stop()
        run.exit_code = code
    report(args, run)


if __name__ == "__main__":
    main()
