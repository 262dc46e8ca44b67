"""The example systemd unit in deploy/systemd: valid for systemd, hardened (its exposure score),
its command line accepted by the exporter, and its credentials where config.yml looks for them.

The unit is checked offline (`systemd-analyze verify`, `systemd-analyze security --offline`);
it is not started here (no systemd runs as init where these tests run).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from exporter.cli import build_parser
from tests.conftest import require_tool
from tests.deploy.catalog import config_check

ROOT = Path(__file__).resolve().parent.parent.parent
UNIT = ROOT / "deploy" / "systemd" / "digitalocean-exporter.service"
CONFIG = ROOT / "deploy" / "systemd" / "config.yml"
INSTALLED = "/opt/digitalocean-exporter/bin/digitalocean-exporter"
MAX_EXPOSURE = 2.0  # systemd-analyze security: 0 is fully locked down, 10 is unprotected


def directives() -> list[tuple[str, str]]:
    lines: list[str] = []
    for raw in UNIT.read_text().splitlines():
        if lines and lines[-1].endswith("\\"):
            lines[-1] = lines[-1][:-1] + " " + raw.strip()
        elif raw.strip() and not raw.startswith(("#", "[")):
            lines.append(raw.strip())
    return [(key, value) for key, _, value in (line.partition("=") for line in lines)]


def values(key: str) -> list[str]:
    return [value for k, value in directives() if k == key]


def unit_for_this_machine(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this virtualenv's entry point (verify wants it to exist)."""
    here = Path(sys.executable).parent / "digitalocean-exporter"
    assert here.exists()
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace(INSTALLED, str(here)))
    return unit


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    result = subprocess.run([require_tool("systemd-analyze"), "verify", str(unit_for_this_machine(tmp_path))],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""


def test_the_unit_is_hardened(tmp_path: Path) -> None:
    unit = unit_for_this_machine(tmp_path)
    result = subprocess.run(
        [require_tool("systemd-analyze"), "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [line] = [line for line in result.stdout.splitlines() if "Overall exposure level" in line]
    exposure = float(line.split(":")[1].split()[0])
    assert exposure <= MAX_EXPOSURE, result.stdout
    for key, value in {"DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
                       "CapabilityBoundingSet": "", "PrivateTmp": "yes"}.items():
        assert values(key) == [value], key


def test_the_command_line_is_one_the_exporter_accepts() -> None:
    [command] = values("ExecStart")
    program, *args = shlex.split(command)
    assert program == INSTALLED
    parsed = build_parser().parse_args(args)
    assert parsed.config_file == "/etc/digitalocean-exporter/config.yml"
    assert parsed.listen_address == ":9212"
    assert values("RestartPreventExitStatus") == ["2"]  # a refused token: restarting cannot help


def test_credentials_are_the_tokens_dir_and_pass_config_check(tmp_path: Path) -> None:
    config = yaml.safe_load(CONFIG.read_text())
    assert config["tokens_dir"] == f"/run/credentials/{UNIT.name}"
    accounts = [value.split(":", 1)[0] for value in values("LoadCredential")]
    assert accounts == ["production"]
    # as systemd makes credentials: read-only for the owner
    result = config_check(config, dict.fromkeys(accounts, "dop_v1_" + "0" * 64 + "\n"),
                          0o400, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "production" in result.stdout
