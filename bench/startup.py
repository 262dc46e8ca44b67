"""Startup: from process spawn to the first complete /metrics, and the memory a small fleet holds.

    python -m bench.startup [--droplets 1000] [--volumes 500] [--runs 3] [--rest-seconds 20]
                            [--checkout PATH] [--before PATH] [--json PATH]

A simulator process serves one account of `--droplets` Droplets and `--volumes` volumes, the
rest in proportion, and answers at once (no latency fault: what is measured is the exporter).
Then, `--runs` times, the real exporter (`python -m exporter --config.file ...`: the default
collectors, the default request budget, JSON logs) is spawned with PYTHONPATH set to the
checkout measured, and asked every 10 ms for a TCP connection, then every 20 ms for /metrics
(gzip) until every Droplet and volume is served (the first data), then every 10 ms for
/readyz. /readyz
answers 200 once every enabled collector's first poll (Monitoring API collectors excepted) has
ended AND its data is in the served exposition; the bench then reads /metrics once and checks
it is complete: every Droplet and volume served, and `digitalocean_collector_success` 1 for
every collector (else the run is reported as incomplete). It prints:

- spawn -> listening: the first accepted TCP connection on the metrics port;
- spawn -> first data: every Droplet and volume in /metrics;
- spawn -> ready: the first /readyz 200 (the first complete /metrics);
- CPU seconds until ready (utime + stime of the process, from /proc/<pid>/stat);
- resident memory (VmRSS) when ready, and at rest: after `--rest-seconds` more seconds with a
  gzip scrape every 5 s (as Prometheus does) and a last one before reading; VmHWM (the peak)
  and the number of threads at rest; the CPU used meanwhile, in ms per second (the polls that
  fall due, the scrapes and the self-metrics refresh each second).

Medians of the runs are printed; with `--before PATH` the same runs are made with that
checkout's exporter (e.g. the untouched baseline), interleaved with this one's (before, after,
before, ...: a change in the machine's load falls on both), and a before/after table is printed. The
simulator's process runs from this checkout in both cases, so both exporters read the same
fleet.

Each checkout's modules are compiled first (`compileall`, into a PYTHONPYCACHEPREFIX under the
bench's temporary directory, never into the checkout), and one untimed start (until the first
data) caches the rest, as an installed package has its bytecode: without it every start
compiles ~80 modules (PYTHONDONTWRITEBYTECODE), a few hundred ms.

The import profile: `python -X importtime -c "import exporter.cli"` (what `python -m exporter`
imports before main() runs) for each checkout: the top modules by cumulative import time (µs,
one run; noisy on a loaded machine), the number of modules imported, and VmRSS after the
imports (medians of `--runs` runs).

With `--json PATH` the figures are also written there (keys carry their units).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from bench.common import SimulatorProcess, exporter_config, print_table, process_status

HERE = Path(__file__).resolve().parent.parent
POLL_EVERY = 0.01
FIRST_DATA_EVERY = 0.02
SCRAPE_EVERY = 5.0
_SUCCESS = re.compile(r"^digitalocean_collector_success\{[^}]*\} (\S+)$", re.MULTILINE)


@dataclass
class Run:
    listening_s: float
    first_data_s: float
    cpu_to_first_data_s: float
    ready_s: float
    cpu_to_ready_s: float
    rss_ready_mib: float
    rss_rest_mib: float
    cpu_rest_ms_per_s: float
    hwm_mib: float
    threads_rest: int
    complete: bool


@dataclass
class ImportProfile:
    modules: int
    rss_after_imports_mib: float
    top: list[tuple[str, int]]  # (module, cumulative µs)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def checkout_env(checkout: Path, pycache: Path) -> dict[str, str]:
    """The checkout's exporter, with its bytecode cached under `pycache` (never written into
    the checkout, which may be read-only), as an installed package has it (the Dockerfile
    runs compileall): with PYTHONDONTWRITEBYTECODE every start would compile every module."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(checkout)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("DIGITALOCEAN_TOKEN", None)
    return env


def compile_checkout(checkout: Path, env: dict[str, str]) -> None:
    """The checkout's modules into the bytecode cache; the standard library's and the
    dependencies' (the cache prefix holds them all) are cached by a warm-up start."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(checkout / "exporter")],
                   env=env, check=True, stdout=subprocess.DEVNULL)


def _connects(port: int) -> bool:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def served(text: str, droplets: int, volumes: int) -> bool:
    """Every Droplet and every volume is in the exposition."""
    return (text.count("\ndigitalocean_droplet_info{") >= droplets
            and text.count("\ndigitalocean_volume_info{") >= volumes)


def complete(text: str, droplets: int, volumes: int) -> bool:
    successes = _SUCCESS.findall(text)
    return (served(text, droplets, volumes)
            and bool(successes) and all(float(s) == 1 for s in successes))


def run_once(checkout: Path, env: dict[str, str], config: Path, workdir: Path,
             args: argparse.Namespace, *, warm_up: bool = False) -> Run | None:
    """One start, measured; with `warm_up`, only until the first data, and None."""
    port = free_port()
    log_path = workdir / "exporter.log"
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "exporter", "--config.file", str(config),
         "--web.listen-address", f"127.0.0.1:{port}", "--log.format", "json"],
        stdout=subprocess.DEVNULL, stderr=log_path.open("wb"), env=env,
        cwd=workdir,
    )
    try:
        deadline = started + 120

        def wait(what: str, every: float, done: Callable[[], bool]) -> float:
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"exporter: no {what}:\n{log_path.read_text()[-3000:]}")
                try:
                    if done():
                        return time.monotonic() - started
                except httpx.HTTPError:
                    pass
                time.sleep(every)

        listening = wait("listening socket", POLL_EVERY, lambda: _connects(port))
        with httpx.Client(timeout=30) as client:
            # gzip, as Prometheus asks: the exporter serves it from its cache
            first_data = wait("data", FIRST_DATA_EVERY, lambda: served(
                client.get(f"{base}/metrics", headers={"Accept-Encoding": "gzip"}).text,
                args.droplets, args.volumes))
            cpu_first_data = cpu_seconds(process.pid)
            if warm_up:
                return None
            ready = wait("/readyz 200", POLL_EVERY,
                         lambda: client.get(f"{base}/readyz").status_code == 200)
            cpu = cpu_seconds(process.pid)
            rss_ready = process_status(process.pid)["VmRSS"]
            done = complete(client.get(f"{base}/metrics").text, args.droplets, args.volumes)
            rest_from, cpu_from = time.monotonic(), cpu_seconds(process.pid)
            rest_until = rest_from + args.rest_seconds
            while time.monotonic() < rest_until:
                time.sleep(min(SCRAPE_EVERY, max(0.0, rest_until - time.monotonic())))
                client.get(f"{base}/metrics", headers={"Accept-Encoding": "gzip"})
            time.sleep(0.5)
            status = process_status(process.pid)
            cpu_rest = (cpu_seconds(process.pid) - cpu_from) / (time.monotonic() - rest_from)
        return Run(
            listening_s=listening, first_data_s=first_data,
            cpu_to_first_data_s=cpu_first_data, ready_s=ready, cpu_to_ready_s=cpu,
            rss_ready_mib=rss_ready / 1024, rss_rest_mib=status["VmRSS"] / 1024,
            cpu_rest_ms_per_s=cpu_rest * 1000,
            hwm_mib=status["VmHWM"] / 1024, threads_rest=status["Threads"], complete=done,
        )
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


def import_profile(env: dict[str, str], runs: int) -> ImportProfile:
    """`import exporter.cli` with -X importtime, `runs` times: the median cumulative time of
    each module, the number of modules and the median VmRSS after the imports."""
    probe = ("import exporter.cli, sys, pathlib; print(len(sys.modules), [line for line in "
             "pathlib.Path('/proc/self/status').read_text().splitlines() "
             "if line.startswith('VmRSS')][0].split()[1])")
    times: dict[str, list[int]] = {}
    rss: list[float] = []
    modules = 0
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-X", "importtime", "-c", probe],
                             capture_output=True, text=True, env=env, check=True,
                             cwd=tempfile.gettempdir())
        for line in out.stderr.splitlines():
            if line.startswith("import time:") and "cumulative" not in line:
                _self, cumulative, name = line.split("|")
                times.setdefault(name.strip(), []).append(int(cumulative))
        count, kib = out.stdout.split()
        modules = int(count)
        rss.append(int(kib) / 1024)
    medians = {name: int(statistics.median(values)) for name, values in times.items()}
    top = sorted(medians.items(), key=lambda item: -item[1])[:15]
    return ImportProfile(modules=modules, rss_after_imports_mib=statistics.median(rss), top=top)


def measure(checkouts: dict[str, Path], config: Path, workdir: Path,
            args: argparse.Namespace) -> dict[str, list[Run]]:
    """`args.runs` starts of each checkout, interleaved (before, after, before, ...) so a
    change in the machine's load falls on both alike; one untimed warm-up start each first."""
    envs = {label: checkout_env(checkout, workdir / f"pycache-{label}")
            for label, checkout in checkouts.items()}
    for label, checkout in checkouts.items():
        compile_checkout(checkout, envs[label])
        run_once(checkout, envs[label], config, workdir, args, warm_up=True)
    runs: dict[str, list[Run]] = {label: [] for label in checkouts}
    for i in range(args.runs):
        for label, checkout in checkouts.items():
            run = run_once(checkout, envs[label], config, workdir, args)
            assert run is not None
            print(f"  {label} run {i + 1}: first data {run.first_data_s:.2f} s, ready "
                  f"{run.ready_s:.2f} s, rss rest {run.rss_rest_mib:.1f} MiB"
                  f"{'' if run.complete else ' (INCOMPLETE)'}", flush=True)
            runs[label].append(run)
    return runs


def medians(runs: Sequence[Run]) -> dict[str, float]:
    keys = [k for k in asdict(runs[0]) if k != "complete"]
    return {k: statistics.median(getattr(r, k) for r in runs) for k in keys}


ROWS = (
    ("spawn -> listening (s)", "listening_s", "{:.2f}"),
    ("spawn -> every Droplet and volume in /metrics (s)", "first_data_s", "{:.2f}"),
    ("CPU seconds until the first data", "cpu_to_first_data_s", "{:.2f}"),
    ("spawn -> /readyz 200 = first complete /metrics (s)", "ready_s", "{:.2f}"),
    ("CPU seconds until ready", "cpu_to_ready_s", "{:.2f}"),
    ("VmRSS when ready (MiB)", "rss_ready_mib", "{:.1f}"),
    ("VmRSS at rest (MiB)", "rss_rest_mib", "{:.1f}"),
    ("CPU ms per second at rest (polls due, scrapes)", "cpu_rest_ms_per_s", "{:.1f}"),
    ("VmHWM, peak (MiB)", "hwm_mib", "{:.1f}"),
    ("threads at rest", "threads_rest", "{:.0f}"),
)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--droplets", type=int, default=1000)
    parser.add_argument("--volumes", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rest-seconds", type=float, default=20.0,
                        help="seconds after ready (gzip scrapes every 5 s) before RSS at rest")
    parser.add_argument("--checkout", type=Path, default=HERE,
                        help="checkout whose exporter is measured (default: this one)")
    parser.add_argument("--before", type=Path, default=None,
                        help="another checkout measured the same way, for a before/after table")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    checkouts = {"after": args.checkout.resolve()}
    if args.before is not None:
        checkouts = {"before": args.before.resolve(), **checkouts}

    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        workdir = Path(tmp)
        simulator = SimulatorProcess(workdir, args.droplets, volumes=args.volumes)
        try:
            config = exporter_config(workdir, simulator)
            measured = measure(checkouts, config, workdir, args)
            for label, checkout in checkouts.items():
                runs = measured[label]
                profile = import_profile(checkout_env(checkout, workdir / f"pycache-{label}"),
                                         args.runs)
                results[label] = {
                    "checkout": str(checkout), **medians(runs),
                    "complete_runs": sum(r.complete for r in runs), "runs": len(runs),
                    "import_modules": profile.modules,
                    "rss_after_imports_mib": profile.rss_after_imports_mib,
                    "import_top_cumulative_us": profile.top,
                }
        finally:
            simulator.stop()

    labels = list(results)
    print(f"\nmachine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
          f"{args.droplets} Droplets + {args.volumes} volumes, instant API; medians of "
          f"{args.runs} runs")
    rows: list[list[object]] = []
    for title, key, fmt in ROWS:
        rows.append([title, *(fmt.format(results[lb][key]) for lb in labels)])
    rows.append(["complete /metrics at ready (runs)",
                 *(f"{results[lb]['complete_runs']}/{results[lb]['runs']}" for lb in labels)])
    rows.append(["modules after `import exporter.cli`",
                 *(str(results[lb]["import_modules"]) for lb in labels)])
    rows.append(["VmRSS after `import exporter.cli` (MiB)",
                 *(f"{results[lb]['rss_after_imports_mib']:.1f}" for lb in labels)])
    print_table("startup and memory at rest", ("", *labels), rows)
    for label in labels:
        top = results[label]["import_top_cumulative_us"]
        assert isinstance(top, list)
        print_table(f"top imports by cumulative time ({label}: {results[label]['checkout']})",
                    ("module", "cumulative µs"), [(name, us) for name, us in top])
    if args.json is not None:
        figures: dict[str, object] = {"droplets": args.droplets, "volumes": args.volumes,
                                      "runs": args.runs}
        for label in labels:
            for key, value in results[label].items():
                figures[f"{label}_{key}"] = value
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
