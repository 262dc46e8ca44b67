"""Soak: thousands of poll cycles against a changing fleet; does anything grow?

    python -m bench.soak [--cycles 2000] [--droplets 300] [--warmup 200]

The real Daemon runs in this process (its poller, render loop, self-metrics loop and HTTP
server) against a simulator process whose fleet changes on every Droplet poll (a churn fault).
Poll cycles are driven directly with `poller.poll_once` for every enabled collector, back to
back, so thousands of cycles take minutes instead of the hours real intervals would need; the
exporter's own request budget is lifted for the run (DigitalOcean's limits are not in play:
this is the simulator). A thread scrapes /metrics all along. Resident memory, asyncio tasks,
threads and open file descriptors are sampled after start, after warm-up and at the end;
growth after warm-up under 10 % is the target.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.common import (
    SimulatorProcess,
    collectors_section,
    exporter_config,
    print_table,
    process_status,
)
from exporter.cli import collector_defaults
from exporter.collectors import COLLECTORS
from exporter.config import load_settings
from exporter.daemon import Daemon, ServeOptions
from exporter.logs import Redactor, configure_logging

ENABLED = ("account", "droplets", "volumes", "snapshots", "tags")
UNLIMITED = 1_000_000_000


def sample(label: str, cycle: int) -> dict[str, object]:
    gc.collect()
    status = process_status()
    return {"when": label, "cycle": cycle, "rss_kib": status["VmRSS"],
            "tasks": len(asyncio.all_tasks()), "threads": threading.active_count(),
            "fds": status["fds"]}


def scrape_forever(url: str, stop: threading.Event, counts: dict[str, int]) -> None:
    with httpx.Client(timeout=30) as client:
        while not stop.is_set():
            try:
                ok = client.get(url).status_code == 200
            except httpx.HTTPError:
                ok = False
            counts["ok" if ok else "failed"] += 1
            stop.wait(0.05)


async def soak(config: Path, cycles: int, warmup: int) -> tuple[list[dict[str, object]], dict[str, int]]:
    settings = load_settings(config, {}, collector_defaults())
    daemon = Daemon(settings, ServeOptions("127.0.0.1", 0, "/metrics"), collectors=COLLECTORS,
                    reload_settings=lambda: settings, redactor=Redactor(), environ={},
                    handle_signals=False)
    task = asyncio.create_task(daemon.run())
    while not (daemon.server is not None and daemon.readiness()[0]):
        if task.done():
            raise RuntimeError(f"daemon stopped with {task.result()}")
        await asyncio.sleep(0.05)
    poller = daemon.poller
    assert poller is not None
    [account] = poller.accounts
    account.budget.per_hour = account.budget.per_minute = UNLIMITED  # see the module docstring
    stop = threading.Event()
    counts = {"ok": 0, "failed": 0}
    scraper = threading.Thread(target=scrape_forever, daemon=True, args=(
        f"http://127.0.0.1:{daemon.server.port}/metrics", stop, counts))
    scraper.start()
    samples = [sample("start", 0)]
    failures = 0
    started = time.monotonic()
    for cycle in range(1, cycles + 1):
        for collector in poller.collectors:
            snapshot = await poller.poll_once(account, collector)
            failures += 0 if snapshot.ok else 1
        await asyncio.sleep(0)  # let the render loop and the self-metrics loop run
        if cycle in (warmup, cycles) or cycle % max(1, cycles // 5) == 0:
            samples.append(sample("after warm-up" if cycle == warmup else
                                  "end" if cycle == cycles else "", cycle))
            rate = cycle / (time.monotonic() - started)
            print(f"cycle {cycle}: {rate:.1f} cycles/s, {failures} failed polls", flush=True)
    stop.set()
    scraper.join()
    daemon.request_stop()
    assert await task == 0
    counts["failed_polls"] = failures
    return samples, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=2000)
    parser.add_argument("--droplets", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    configure_logging("warning", "json", Redactor())
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        workdir = Path(tmp)
        churn = [{"kind": "churn", "endpoint": "/v2/droplets", "page": 1, "every": 1,
                  "create": 3, "destroy": 3}]
        simulator = SimulatorProcess(workdir, args.droplets, churn)
        try:
            config = exporter_config(workdir, simulator, collectors_section(ENABLED, "1h"))
            started = time.monotonic()
            samples, counts = asyncio.run(soak(config, args.cycles, args.warmup))
            elapsed = time.monotonic() - started
        finally:
            simulator.stop()
    warm = next(s for s in samples if s["when"] == "after warm-up")
    end = samples[-1]
    print_table(
        f"soak: {args.cycles} poll cycles of {', '.join(ENABLED)} ({args.droplets} droplets, "
        f"churning) in {elapsed:.0f}s; {counts['ok']} scrapes, {counts['failed']} failed",
        ("when", "cycle", "RSS MiB", "asyncio tasks", "threads", "open fds"),
        [(s["when"], s["cycle"], f"{int(str(s['rss_kib'])) / 1024:.1f}", s["tasks"], s["threads"],
          s["fds"]) for s in samples],
    )
    growth = {key: (int(str(end[key])) - int(str(warm[key]))) / max(1, int(str(warm[key])))
              for key in ("rss_kib", "tasks", "threads", "fds")}
    print_table("growth from warm-up to end (target: under 10 %)",
                ("RSS", "asyncio tasks", "threads", "open fds", "failed polls"),
                [(f"{growth['rss_kib']:+.1%}", f"{growth['tasks']:+.1%}",
                  f"{growth['threads']:+.1%}", f"{growth['fds']:+.1%}", counts["failed_polls"])])


if __name__ == "__main__":
    main()
