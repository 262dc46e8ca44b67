"""A real Prometheus server (Debian's `prometheus` package) on 127.0.0.1 for end-to-end tests."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import free_port, require_tool


class Prometheus:
    """A Prometheus server scraping given targets every second; queried through its HTTP API."""

    def __init__(self, workdir: Path, targets: list[str], rule_files: list[Path] | None = None,
                 extra_jobs: list[dict[str, Any]] | None = None) -> None:
        binary = require_tool("prometheus")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p) for p in rule_files or []],
            "scrape_configs": [{
                "job_name": "digitalocean",
                "scrape_interval": "1s",
                "scrape_timeout": "1s",
                "static_configs": [{"targets": targets}],
            }, *(extra_jobs or [])],
        }
        config_path = workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config))
        self.log_path = workdir / "prometheus.log"
        self.process = subprocess.Popen(
            [binary, f"--config.file={config_path}", f"--storage.tsdb.path={workdir / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=self.log_path.open("wb"),
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"prometheus exited: {self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("prometheus did not become ready")

    def query(self, expr: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=5)
        body = response.json()
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def value(self, expr: str) -> float | None:
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, expr: str, timeout: float = 30) -> list[dict[str, Any]]:
        """The result of `expr` once it is non-empty (a filter expression becoming true)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self.query(expr)
            if result:
                return result
            time.sleep(0.2)
        raise AssertionError(f"no result for {expr} within {timeout}s")

    def targets(self, job: str) -> list[dict[str, Any]]:
        """The active targets of `job` (`/api/v1/targets`), with discoveredLabels and labels."""
        response = httpx.get(f"{self.url}/api/v1/targets", params={"state": "active"}, timeout=5)
        body = response.json()
        assert body["status"] == "success", body
        return [t for t in body["data"]["activeTargets"] if t["scrapePool"] == job]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def prometheus_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[Prometheus] = []

    def start(targets: list[str], rule_files: list[Path] | None = None,
              extra_jobs: list[dict[str, Any]] | None = None) -> Prometheus:
        server = Prometheus(tmp_path, targets, rule_files, extra_jobs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
