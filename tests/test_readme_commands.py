"""Every command in the README runs, as a new user would type it, in order.

The shell commands are taken from the README's `sh` code blocks; each must have a runner
below (and each runner a command), so a command added to the README without a test fails here.
The runners keep the machine safe: `make demo` on a free port with the test's own virtualenv
(nothing installed), the token prompt and the exporter in a copy of `config/` in a temporary
directory, and DigitalOcean played by the built-in simulator on 127.0.0.1 (the copy of
`config/minimal.yml` gets an `api:` section pointing there; the command itself is unchanged).
`make test` is the only command not run: it runs this very suite.

The example configurations are checked too: `config/minimal.yml` and `config/example.yml` pass
`--config.check --offline` as shipped.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from exporter.simulator import Simulator, demo_config
from tests.conftest import free_port, require_tool

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
VENV_BIN = Path(sys.executable).parent
# the one command no test runs, and why
NOT_RUN = {"make test": "it runs the whole test suite, this test included (CI runs it: .ci/run)"}


def readme_commands() -> list[str]:
    """The commands of the README's shell code blocks, without their trailing comments (a
    comment follows two spaces and a `#`), in order."""
    commands = []
    blocks = re.findall(r"^```(?:sh|bash|shell)\n(.*?)^```", README.read_text(), re.DOTALL | re.MULTILINE)
    for block in blocks:
        for line in block.splitlines():
            command = re.split(r"\s{2,}#", line, maxsplit=1)[0].strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any DigitalOcean token or config variable of the developer's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGITALOCEAN_", "DO_"))}
    return {**env, **extra}


def exporter_argv(command: str) -> list[str]:
    """A README command that starts `.venv/bin/digitalocean-exporter` (the virtualenv `make demo`
    makes), run with this test's virtualenv."""
    first, *args = shlex.split(command)
    assert first == ".venv/bin/digitalocean-exporter", command
    script = VENV_BIN / "digitalocean-exporter"
    if script.exists():
        return [str(script), *args]
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{script} is not installed")
    return [sys.executable, "-m", "exporter", *args]


def wait_for(url: str, process: subprocess.Popen[bytes], output: Callable[[], str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited {process.returncode} before {url} answered:\n{output()}")
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return response.text
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer 200 within {timeout}s:\n{output()}")


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM to the command's whole process group (make and the exporter it started)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
        raise


@dataclass
class Workspace:
    """A user's checkout as far as the README's commands touch it: a copy of `config/`, and
    the simulator standing in for DigitalOcean."""

    directory: Path
    simulator: Simulator

    @property
    def token(self) -> str:
        """The read-only token of the simulator's first account: what the user pastes."""
        return self.simulator.config.accounts[0].tokens[0].token


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    with Simulator(demo_config()) as simulator:
        minimal = tmp_path / "config" / "minimal.yml"
        minimal.write_text(minimal.read_text()
                           + f"api: {{url: '{simulator.url}', auth_url: '{simulator.url}'}}\n")
        yield Workspace(tmp_path, simulator)


def run_make_demo(command: str, workspace: Workspace) -> None:
    port = free_port()
    venv = VENV_BIN.parent
    argv = [*shlex.split(command), f"VENV={venv}", f"DEMO_ADDRESS=127.0.0.1:{port}",
            # the virtualenv is this test's own: install nothing into it
            "-o", f"{venv}/.installed"]
    argv[0] = require_tool("make")
    log = workspace.directory / "make-demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                   env=clean_env(), start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/readyz", process, log.read_text, timeout=60)
        metrics = wait_for(f"http://127.0.0.1:{port}/metrics", process, log.read_text, timeout=10)
        assert 'digitalocean_droplet_info{account="production"' in metrics
        assert 'digitalocean_droplet_info{account="staging"' in metrics
    finally:
        stop(process)


def run_token_prompt(command: str, workspace: Workspace) -> None:
    result = subprocess.run([require_tool("bash"), "-c", command], cwd=workspace.directory,
                            input=workspace.token + "\n", capture_output=True, text=True,
                            check=False, timeout=30, env=clean_env())
    assert result.returncode == 0, result.stderr
    token_file = workspace.directory / "config" / "production.token"
    assert token_file.read_text() == workspace.token + "\n"
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert workspace.token not in result.stdout + result.stderr  # not echoed


def run_config_check(command: str, workspace: Workspace) -> None:
    result = subprocess.run(exporter_argv(command), cwd=workspace.directory, capture_output=True,
                            text=True, check=False, timeout=60, env=clean_env())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "production" in result.stdout
    assert workspace.token not in output


def run_exporter(command: str, workspace: Workspace) -> None:
    port = free_port()
    argv = [*exporter_argv(command), "--web.listen-address", f"127.0.0.1:{port}"]
    log = workspace.directory / "exporter.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=workspace.directory, stdout=out,
                                   stderr=subprocess.STDOUT, env=clean_env(), start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/readyz", process, log.read_text, timeout=60)
        wanted = [re.compile(rf"^{re.escape(series)} 1(\.0)?$", re.MULTILINE) for series in (
            'digitalocean_collector_success{account="production",collector="droplets"}',
            'digitalocean_token_read_only{account="production"}')]
        deadline = time.monotonic() + 10  # the exporter's own metrics are refreshed every second
        while True:
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            if all(w.search(metrics) for w in wanted) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert [w.pattern for w in wanted if not w.search(metrics)] == []
    finally:
        assert stop(process) == 0, log.read_text()
    assert workspace.token not in log.read_text()


RUNNERS: dict[str, Callable[[str, Workspace], None]] = {
    "make demo": run_make_demo,
    ("(umask 077; read -rs -p 'DigitalOcean token: ' token; echo; "
     "printf '%s\\n' \"$token\" > config/production.token)"): run_token_prompt,
    ".venv/bin/digitalocean-exporter --config.file config/minimal.yml --config.check": run_config_check,
    ".venv/bin/digitalocean-exporter --config.file config/minimal.yml": run_exporter,
}


def test_every_readme_command_has_a_runner_or_a_reason() -> None:
    commands = readme_commands()
    assert len(commands) == len(set(commands))
    assert set(commands) == set(RUNNERS) | set(NOT_RUN)
    assert not set(RUNNERS) & set(NOT_RUN)


def test_the_readme_commands_run_in_order(workspace: Workspace) -> None:
    """The way from a fresh checkout to a running exporter: the demo, the token saved, the
    check, the exporter serving the account's metrics."""
    ran = []
    for command in readme_commands():
        if command in NOT_RUN:
            continue
        RUNNERS[command](command, workspace)
        ran.append(command)
    assert ran == list(RUNNERS)


def readme_yaml_blocks() -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```", README.read_text(), re.DOTALL | re.MULTILINE)


def test_the_readme_shows_config_minimal_yml_as_it_is() -> None:
    [block] = [b for b in readme_yaml_blocks() if b.startswith("# config/minimal.yml\n")]
    shown = block.removeprefix("# config/minimal.yml\n")
    assert (ROOT / "config" / "minimal.yml").read_text().endswith(shown)


def offline_check(config: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "exporter", "--config.check", "--offline",
                           "--config.file", str(config)], cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=60, env=clean_env(**env))


def test_config_minimal_yml_passes_the_offline_check_with_its_token_file(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    missing = offline_check(tmp_path / "config" / "minimal.yml", tmp_path)
    assert missing.returncode == 2
    assert "accounts[0].token_file: token file" in missing.stdout + missing.stderr
    token = tmp_path / "config" / "production.token"
    token.write_text("dop_v1_" + "7" * 64 + "\n")
    token.chmod(0o600)
    result = offline_check(tmp_path / "config" / "minimal.yml", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "production" in result.stdout


def test_config_example_yml_passes_the_offline_check_as_shipped(tmp_path: Path) -> None:
    """`make run ARGS='--config.file config/example.yml'` used to fail with three errors: the
    example now takes both tokens from the variables its header names."""
    result = offline_check(ROOT / "config" / "example.yml", ROOT,
                           DO_TOKEN_PRODUCTION="dop_v1_" + "8" * 64, DO_TOKEN_STAGING="dop_v1_" + "9" * 64)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "production" in result.stdout
    assert "staging" in result.stdout
    header = (ROOT / "config" / "example.yml").read_text().split("\naccounts:", 1)[0]
    assert "DO_TOKEN_PRODUCTION" in header
    assert "DO_TOKEN_STAGING" in header
