"""Footprint: the exporter's memory and CPU, read from /proc, to size Kubernetes requests and limits.

    python -m bench.footprint --demo [--seconds 300]
    python -m bench.footprint --droplets 10000 [--seconds 300]

Runs the real exporter (`python -m exporter`, every collector at its default interval and the
default request budget) as its own process, either with `--demo` (its built-in simulator and
two sample accounts run inside the exporter's process, so they are counted too) or against a
simulator process holding one account of `--droplets` Droplets with everything else in
proportion (the shipped `large.yml` shapes, scaled). A scraper asks for `/metrics` with gzip
every `--scrape-every` seconds, as Prometheus does. Every second it reads the exporter's
VmRSS, VmHWM and CPU time (utime + stime) from /proc/<pid>/; it prints the resident memory once
ready and at the end, the peak (VmHWM), CPU seconds spent until ready, and the average and the
busiest 10-second CPU use after that, in cores. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

TOKEN_NAME = "footprint-read-only"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def scenario(droplets: int) -> dict[str, Any]:
    # Proportions of scenarios/large.yml (50,000 Droplets, 5,000 volumes, 20 GPU Droplets)
    return {
        "seed": 0,
        "accounts": [{
            "name": "large",
            "tokens": [{"name": TOKEN_NAME, "scopes": "read-only"}],
            "fleet": {"seed": 7, "droplets": droplets, "gpu_droplets": max(1, droplets // 2500),
                      "volumes": droplets // 10},
        }],
    }


def start_simulator(workdir: Path, droplets: int) -> tuple[subprocess.Popen[bytes], str]:
    scenario_path = workdir / "scenario.yml"
    scenario_path.write_text(yaml.safe_dump(scenario(droplets)))
    url_file = workdir / "simulator.url"
    process = subprocess.Popen(
        [sys.executable, "-m", "exporter.simulator", "--host", "127.0.0.1", "--port", "0",
         "--scenario", str(scenario_path), "--url-file", str(url_file),
         "--tokens-dir", str(workdir / "tokens")],
        stdout=subprocess.DEVNULL, stderr=(workdir / "simulator.log").open("wb"),
    )
    deadline = time.monotonic() + 180
    while not (url_file.exists() and url_file.read_text().strip()):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"simulator did not start: {(workdir / 'simulator.log').read_text()}")
        time.sleep(0.1)
    return process, url_file.read_text().strip()


def exporter_config(workdir: Path, url: str) -> Path:
    path = workdir / "config.yml"
    path.write_text(f"tokens_dir: {workdir / 'tokens'}\napi: {{url: '{url}', auth_url: '{url}'}}\n")
    path.chmod(0o600)
    return path


def cpu_seconds(pid: int) -> float:
    # fields after the command name, which is in parentheses and may contain spaces
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def memory_kib(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


@dataclass
class Run:
    ready_after: float = 0.0
    cpu_at_ready: float = 0.0
    rss_at_ready: int = 0
    final: dict[str, int] = field(default_factory=dict)
    samples: list[tuple[float, float, int]] = field(default_factory=list)  # (time, CPU s, RSS KiB)
    body_bytes: int = 0


def wait_ready(client: httpx.Client, base: str, exporter: subprocess.Popen[bytes], log: Path) -> None:
    while True:
        if exporter.poll() is not None:
            raise RuntimeError(f"exporter exited: {log.read_text()[-2000:]}")
        try:
            if client.get(f"{base}/readyz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)


def sample(args: argparse.Namespace, exporter: subprocess.Popen[bytes], log: Path, port: int) -> Run:
    run = Run()
    started = time.monotonic()
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(timeout=30, headers={"Accept-Encoding": "gzip"}) as client:
        wait_ready(client, base, exporter, log)
        run.ready_after = time.monotonic() - started
        run.cpu_at_ready = cpu_seconds(exporter.pid)
        run.rss_at_ready = memory_kib(exporter.pid)["VmRSS"]
        next_scrape = time.monotonic()
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_scrape:
                run.body_bytes = len(client.get(f"{base}/metrics").content)
                next_scrape = now + args.scrape_every
            run.samples.append((now, cpu_seconds(exporter.pid), memory_kib(exporter.pid)["VmRSS"]))
            time.sleep(1.0)
        run.final = memory_kib(exporter.pid)
    return run


def report(args: argparse.Namespace, run: Run) -> None:
    samples = run.samples
    window = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(samples, samples[10:], strict=False)]
    average = (samples[-1][1] - samples[0][1]) / (samples[-1][0] - samples[0][0])
    what = "--demo (simulator in-process)" if args.demo else f"{args.droplets} Droplets"
    print(f"exporter footprint, {what}, {args.seconds} s after ready, scraped every "
          f"{args.scrape_every} s (gzip)")
    print(f"ready after                 {run.ready_after:8.1f} s")
    print(f"CPU until ready             {run.cpu_at_ready:8.1f} s")
    print(f"RSS at ready                {run.rss_at_ready / 1024:8.1f} MiB")
    print(f"RSS at end                  {run.final['VmRSS'] / 1024:8.1f} MiB")
    print(f"RSS peak (VmHWM)            {run.final['VmHWM'] / 1024:8.1f} MiB")
    print(f"RSS max sampled after ready {max(s[2] for s in samples) / 1024:8.1f} MiB")
    print(f"CPU average after ready     {average:8.3f} cores")
    print(f"CPU busiest 10 s            {max(window, default=0.0):8.3f} cores")
    print(f"/metrics body, decompressed {run.body_bytes / 1024:7.1f} KiB")
    by_minute = " ".join(f"{rss / 1024:.0f}" for _, _, rss in samples[::60])
    print(f"RSS every 60 s after ready  {by_minute} MiB")


def measure(args: argparse.Namespace, workdir: Path) -> None:
    simulator: subprocess.Popen[bytes] | None = None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    command = [sys.executable, "-m", "exporter", "--web.listen-address", f"127.0.0.1:{port}",
               "--log.format", "json"]
    if args.demo:
        command.append("--demo")
    else:
        simulator, url = start_simulator(workdir, args.droplets)
        command += ["--config.file", str(exporter_config(workdir, url))]
    log = workdir / "exporter.log"
    exporter = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    try:
        run = sample(args, exporter, log, port)
    finally:
        exporter.send_signal(signal.SIGTERM)
        exporter.wait(30)
        if simulator is not None:
            simulator.send_signal(signal.SIGTERM)
            simulator.wait(30)
    report(args, run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--demo", action="store_true")
    group.add_argument("--droplets", type=int)
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--scrape-every", type=float, default=15.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        measure(args, Path(workdir))


if __name__ == "__main__":
    main()
