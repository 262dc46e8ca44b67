"""What the benchmarks share: a simulated DigitalOcean in its own process (so its work does not
share an interpreter with what is measured), a read-only token for it, process statistics and
table printing. Everything listens on 127.0.0.1 only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from exporter.collectors import COLLECTORS

TOKEN_NAME = "bench-read-only"


def start_simulator(workdir: Path, scenario: dict[str, Any], timeout: float
                    ) -> tuple[subprocess.Popen[bytes], str, Path, Path]:
    """`python -m exporter.simulator` serving `scenario` on a free loopback port: (the process,
    its URL, the directory its tokens are written to, its log), once it listens."""
    scenario_path = workdir / "scenario.yml"
    scenario_path.write_text(yaml.safe_dump(scenario))
    url_file = workdir / "simulator.url"
    tokens_dir = workdir / "tokens"
    log_path = workdir / "simulator.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "exporter.simulator", "--host", "127.0.0.1", "--port", "0",
         "--scenario", str(scenario_path), "--url-file", str(url_file),
         "--tokens-dir", str(tokens_dir)],
        stdout=subprocess.DEVNULL, stderr=log_path.open("wb"),
    )
    deadline = time.monotonic() + timeout
    while not (url_file.exists() and url_file.read_text().strip()):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"simulator did not start: {log_path.read_text()}")
        time.sleep(0.1)
    return process, url_file.read_text().strip(), tokens_dir, log_path


def stop(process: subprocess.Popen[bytes], wait: float = 30) -> None:
    """SIGTERM, then SIGKILL after `wait` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class SimulatorProcess:
    """`python -m exporter.simulator` with a generated scenario, on a free loopback port."""

    def __init__(self, workdir: Path, droplets: int, faults: Sequence[dict[str, Any]] = (),
                 seed: int = 7, volumes: int | None = None) -> None:
        scenario = {
            "seed": seed,
            # the benchmark measures the exporter, not the API's limits
            "rate_limits": {"requests_per_hour": 100_000_000, "requests_per_minute": 10_000_000},
            "request_log_limit": 1000,  # so the simulator itself does not grow over a soak
            "accounts": [{
                "name": "production",
                "tokens": [{"name": TOKEN_NAME, "scopes": "read-only"}],
                "fleet": {"seed": seed, "droplets": droplets,
                          "volumes": droplets // 10 if volumes is None else volumes},
            }],
            "faults": list(faults),
        }
        self.workdir = workdir
        self.process, self.url, self.tokens_dir, self.log_path = start_simulator(
            workdir, scenario, timeout=120)
        self.token_file = self.tokens_dir / TOKEN_NAME

    def stop(self) -> None:
        stop(self.process, wait=10)


def exporter_config(workdir: Path, simulator: SimulatorProcess, collectors: str = "",
                    requests_per_hour: int = 5000) -> Path:
    path = workdir / "config.yml"
    path.write_text(
        f"accounts:\n  - name: production\n    token_file: {simulator.token_file}\n"
        f"api: {{url: '{simulator.url}', auth_url: '{simulator.url}', timeout: 30s, "
        f"requests_per_hour: {requests_per_hour}}}\n{collectors}"
    )
    path.chmod(0o600)
    return path


def collectors_section(enabled: Sequence[str], interval: str) -> str:
    """The config's `collectors:` with only `enabled` on, each polling every `interval`."""
    lines = ["collectors:"]
    for collector in COLLECTORS:
        lines.append(f"  {collector.name}: " + (
            f"{{interval: {interval}}}" if collector.name in enabled else "{enabled: false}"))
    return "\n".join(lines) + "\n"


def process_status(pid: int | str = "self") -> dict[str, int]:
    """Resident memory (KiB), threads and open file descriptors of a process, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM", "Threads"):
            fields[name] = int(value.split()[0])
    fields["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return fields


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |")
