"""Many accounts in one process: what 200 accounts of 500 Droplets cost the exporter.

    python -m bench.accounts [--accounts 200] [--droplets 500] [--latency 0] [--rest 60]
                             [--seconds 10] [--checkout PATH] [--profile PATH] [--json PATH]

One simulator process serves `--accounts` accounts, each with its own read-only token and
`--droplets` Droplets (volumes a tenth of that, every other resource derived in proportion by
the simulator), every request delayed by `--latency` seconds. Then the real exporter process
(`python -m exporter`, every default collector at its default interval, the default request
budget per token, accounts from `tokens_dir`) polls all of them, and this measures:

- **ready**: seconds from the process start to `/readyz` answering 200 (every account's first
  polls served and rendered), and the exporter's CPU seconds (user + system, /proc) until then;
- **memory**: resident memory (VmRSS) 2 s after ready, and the peak (VmHWM) over the run;
- **CPU per hour at rest**: the exporter's CPU seconds over `--rest` seconds after ready (the
  collectors keep polling at their intervals: that is the steady state), scaled to an hour;
- **scrapes**: /metrics p50 and p99 under 1 and 20 keep-alive gzip scrapers (`wrk`, as
  bench/performance.py drives it), `--seconds` each, and the exposition's size, plain and gzip.

`--accounts 25,50,100,200` runs each count in turn and adds a table per account, to see which
figure grows worse than linearly. `--checkout PATH` runs the exporter of another checkout
(PYTHONPATH=PATH for the exporter only; the simulator is this checkout's), for before/after
figures. `--profile PATH` runs the exporter under cProfile and writes its statistics there when
the exporter stops (after the scrapes). Wall-clock figures depend on the machine's load;
CPU seconds and memory much less.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from bench.common import print_table, process_status, start_simulator, stop
from bench.performance import LoadResult, cpu_seconds, free_port, python_load, wrk

TOKEN_PREFIX = "team-"

# `python -c PROFILED OUT ARGS...`: the exporter with a cProfile profiler in every thread (the
# render worker and the HTTP threads too, which `python -m cProfile` leaves out), their
# statistics merged into OUT when it stops. Code, not a module, so it runs with any checkout.
PROFILED = """
import cProfile, pstats, runpy, sys, threading
profiles = [cProfile.Profile()]
thread_run = threading.Thread.run
def run(self):
    profile = cProfile.Profile()
    profiles.append(profile)
    profile.enable()
    try:
        thread_run(self)
    finally:
        profile.disable()
threading.Thread.run = run
out, sys.argv = sys.argv[1], ["exporter", *sys.argv[2:]]
profiles[0].enable()
try:
    runpy.run_module("exporter", run_name="__main__")
finally:
    profiles[0].disable()
    stats = pstats.Stats(profiles[0])
    for profile in profiles[1:]:
        profile.disable()
        try:
            stats.add(profile)
        except TypeError:  # a thread that never ran a profiled call
            pass
    stats.dump_stats(out)
"""


class ManyAccountsSimulator:
    """`python -m exporter.simulator` with `accounts` accounts of `droplets` Droplets each, one
    token per account (written to `tokens_dir/<account>`, the layout of the exporter's
    tokens_dir), every request delayed by `latency` seconds."""

    def __init__(self, workdir: Path, accounts: int, droplets: int, latency: float) -> None:
        self.names = [f"{TOKEN_PREFIX}{n:03d}" for n in range(accounts)]
        scenario = {
            "seed": 7,
            # the benchmark measures the exporter, not the API's limits: the exporter's own
            # budget per token (200 a minute, 5,000 an hour) stays below these
            "rate_limits": {"requests_per_hour": 100_000_000, "requests_per_minute": 10_000_000},
            "request_log_limit": 1000,
            "accounts": [{
                "name": name,
                "tokens": [{"name": name, "scopes": "read-only"}],
                "fleet": {"seed": 7 + n, "droplets": droplets, "volumes": droplets // 10},
            } for n, name in enumerate(self.names)],
            "faults": [{"kind": "latency", "seconds": latency}] if latency > 0 else [],
        }
        self.process, self.url, self.tokens_dir, self.log_path = start_simulator(
            workdir, scenario, timeout=300)

    def stop(self) -> None:
        stop(self.process, wait=60)


def exporter_config(workdir: Path, simulator: ManyAccountsSimulator) -> Path:
    """Every account from the simulator's token files; default collectors and budget."""
    path = workdir / "config.yml"
    path.write_text(
        f"tokens_dir: {simulator.tokens_dir}\n"
        f"api: {{url: '{simulator.url}', auth_url: '{simulator.url}', timeout: 30s}}\n"
    )
    path.chmod(0o600)
    return path


@dataclass
class AccountsRun:
    accounts: int
    droplets: int
    ready_s: float = 0.0
    ready: bool = True  # False: not ready within --timeout (ready_s and CPU are then up to it)
    cpu_to_ready_s: float = 0.0
    rss_ready_mib: float = 0.0
    rss_peak_mib: float = 0.0
    rest_window_s: float = 0.0
    cpu_rest_s: float = 0.0
    cpu_per_hour_s: float = 0.0
    plain_bytes: int = 0
    gzip_bytes: int = 0
    series: int = 0
    scrapes: dict[str, dict[str, float]] = field(default_factory=dict)

    def per_account(self) -> dict[str, float]:
        n = self.accounts
        return {"cpu_to_ready_ms": 1000 * self.cpu_to_ready_s / n,
                "rss_ready_kib": 1024 * self.rss_ready_mib / n,
                "cpu_per_hour_ms": 1000 * self.cpu_per_hour_s / n,
                "plain_kib": self.plain_bytes / 1024 / n}


def run_accounts(accounts: int, args: argparse.Namespace) -> AccountsRun:
    run = AccountsRun(accounts, args.droplets)
    with tempfile.TemporaryDirectory(prefix=f"bench-accounts-{accounts}-") as tmp:
        workdir = Path(tmp)
        started = time.monotonic()
        simulator = ManyAccountsSimulator(workdir, accounts, args.droplets, args.latency)
        print(f"[{accounts} x {args.droplets}] simulator up in "
              f"{time.monotonic() - started:.1f} s", flush=True)
        try:
            run_exporter(run, workdir, simulator, args)
        finally:
            simulator.stop()
    return run


def run_exporter(run: AccountsRun, workdir: Path, simulator: ManyAccountsSimulator,
                 args: argparse.Namespace) -> None:
    config = exporter_config(workdir, simulator)
    port = free_port()
    log_path = workdir / "exporter.log"
    env = dict(os.environ)
    if args.checkout:
        env["PYTHONPATH"] = str(Path(args.checkout).resolve())
    profile = (["-c", PROFILED, str(Path(args.profile).resolve())] if args.profile
               else ["-m", "exporter"])
    command = [sys.executable, *profile, "--config.file", str(config),
               "--web.listen-address", f"127.0.0.1:{port}", "--log.format", "json"]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log_path.open("wb"),
                               env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=120) as client:
            if not wait_ready(client, base, process, started + args.timeout, log_path):
                run.ready = False  # the figures say so; the other runs go on
                run.ready_s = time.monotonic() - started
                run.cpu_to_ready_s = cpu_seconds(process.pid)
                status = process_status(process.pid)
                run.rss_ready_mib, run.rss_peak_mib = status["VmRSS"] / 1024, status["VmHWM"] / 1024
                print(f"[{run.accounts} x {run.droplets}] NOT ready after {run.ready_s:.0f} s "
                      f"({run.cpu_to_ready_s:.1f} CPU s)", flush=True)
                return
            run.ready_s = time.monotonic() - started
            run.cpu_to_ready_s = cpu_seconds(process.pid)
            print(f"[{run.accounts} x {run.droplets}] ready after {run.ready_s:.1f} s, "
                  f"{run.cpu_to_ready_s:.1f} CPU s", flush=True)
            time.sleep(2)  # let the last render's garbage go
            run.rss_ready_mib = process_status(process.pid)["VmRSS"] / 1024
            plain = client.get(f"{base}/metrics", headers={"Accept-Encoding": "identity"}).content
            with client.stream("GET", f"{base}/metrics",
                               headers={"Accept-Encoding": "gzip"}) as response:
                run.gzip_bytes = sum(len(b) for b in response.iter_raw())
            run.plain_bytes = len(plain)
            run.series = sum(1 for line in plain.split(b"\n") if line and line[:1] != b"#")
            del plain
        cpu = cpu_seconds(process.pid)
        rest_started = time.monotonic()
        time.sleep(args.rest)
        run.rest_window_s = time.monotonic() - rest_started
        run.cpu_rest_s = cpu_seconds(process.pid) - cpu
        run.cpu_per_hour_s = run.cpu_rest_s * 3600 / run.rest_window_s
        print(f"[{run.accounts} x {run.droplets}] at rest: {run.cpu_rest_s:.2f} CPU s in "
              f"{run.rest_window_s:.0f} s", flush=True)
        scrape = wrk if shutil.which("wrk") else python_load
        for connections in (1, 20):
            result: LoadResult = scrape(f"{base}/metrics", connections, args.seconds, True)
            run.scrapes[f"gzip_{connections}"] = {
                "p50_ms": 1000 * result.p50, "p99_ms": 1000 * result.p99,
                "scrapes_per_s": result.rate, "errors": result.errors}
        run.rss_peak_mib = process_status(process.pid)["VmHWM"] / 1024
    finally:
        stop(process)


def wait_ready(client: httpx.Client, base: str, process: subprocess.Popen[bytes],
               deadline: float, log_path: Path) -> bool:
    """Whether /readyz answered 200 before `deadline` (monotonic)."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exporter exited:\n{log_path.read_text()[-3000:]}")
        try:
            if client.get(f"{base}/readyz").status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)  # /readyz lists what is pending: not free with 8,400 pairs
    return False


def report(runs: list[AccountsRun], args: argparse.Namespace) -> None:
    print(f"\nmachine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end; "
          f"Python {sys.version.split()[0]}; exporter from {args.checkout or 'this checkout'}; "
          f"API latency {args.latency:g} s; CPU at rest over {args.rest:g} s after ready")
    print_table("the exporter process with many accounts",
                ("accounts", "droplets each", "ready s", "CPU s to ready", "RSS MiB ready",
                 "peak RSS MiB", "CPU s/hour at rest", "plain KiB", "gzip KiB", "series"),
                [(r.accounts, r.droplets, f"{r.ready_s:.1f}" + ("" if r.ready else " (not ready)"),
                  f"{r.cpu_to_ready_s:.1f}",
                  f"{r.rss_ready_mib:.0f}", f"{r.rss_peak_mib:.0f}", f"{r.cpu_per_hour_s:.0f}",
                  r.plain_bytes // 1024, r.gzip_bytes // 1024, r.series) for r in runs])
    rows = []
    for r in runs:
        for name, s in r.scrapes.items():
            rows.append((r.accounts, name.replace("_", ", ") + " scrapers", f"{s['p50_ms']:.1f}",
                         f"{s['p99_ms']:.1f}", f"{s['scrapes_per_s']:.1f}", int(s["errors"])))
    print_table(f"/metrics under gzip scrapers ({args.seconds:g} s each)",
                ("accounts", "scrapers", "p50 ms", "p99 ms", "scrapes/s", "errors"), rows)
    print_table("per account (linear growth keeps these flat)",
                ("accounts", "CPU ms to ready", "RSS KiB ready", "CPU ms/hour at rest",
                 "plain KiB"),
                [(r.accounts, *(f"{v:.0f}" for v in r.per_account().values())) for r in runs])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--accounts", default="200",
                        help="account counts, comma-separated (each its own run)")
    parser.add_argument("--droplets", type=int, default=500, help="Droplets per account")
    parser.add_argument("--latency", type=float, default=0.0, help="API latency per request, s")
    parser.add_argument("--rest", type=float, default=60.0,
                        help="seconds after ready over which CPU at rest is measured")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each scrape run")
    parser.add_argument("--timeout", type=float, default=900.0, help="longest wait for ready, s")
    parser.add_argument("--checkout", default=None, help="run the exporter of this checkout")
    parser.add_argument("--profile", default=None,
                        help="run the exporter under cProfile, its statistics to this file")
    parser.add_argument("--json", default=None, help="write the figures to this file as JSON")
    args = parser.parse_args()
    counts = [int(n) for n in args.accounts.split(",") if n.strip()]
    runs = [run_accounts(n, args) for n in counts]
    report(runs, args)
    if args.json:
        Path(args.json).write_text(json.dumps({
            "latency_s": args.latency, "rest_window_s": args.rest, "scrape_seconds": args.seconds,
            "checkout": args.checkout or "",
            "runs": [{**asdict(r), "per_account": r.per_account()} for r in runs],
        }, indent=2) + "\n")


if __name__ == "__main__":
    main()
