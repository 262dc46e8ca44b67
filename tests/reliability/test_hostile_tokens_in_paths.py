"""Issue 18 point 5: a token put where a path or a variable's name belongs is never printed.

A templated config gone wrong puts the token itself into `DIGITALOCEAN_TOKEN_FILE`, `token_env:`
or `token_file:`. Both the startup error and `--config.check` used to echo the value ("token
file /etc/dop_v1_... does not exist"), outside the redacting logger. Now the value is refused
without being quoted, whatever its shape (a DigitalOcean token, or a bare hex secret).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from exporter.logs import looks_like_secret
from tests.conftest import READ_TOKEN, write_config

BARE_SECRET = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # no prefix
SECRETS = (READ_TOKEN, BARE_SECRET)
MODES = (["--config.check"], ["--config.check", "--offline"], ["--web.listen-address", "127.0.0.1:0"])


def run(args: list[str], workdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DIGITALOCEAN_", "DO_"))}
    return subprocess.run([sys.executable, "-m", "exporter", *args], capture_output=True,
                          text=True, timeout=20, check=False, cwd=workdir, env={**base, **env})


def assert_refused_unquoted(result: subprocess.CompletedProcess[str], secret: str,
                            expected: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert secret not in output
    assert secret.removeprefix("dop_v1_") not in output
    assert secret[:16] not in output  # not even a part of it
    assert expected in result.stderr.splitlines()


@pytest.mark.parametrize("mode", MODES, ids=["check", "check-offline", "startup"])
@pytest.mark.parametrize("secret", SECRETS, ids=["token", "bare-hex"])
def test_token_in_digitalocean_token_file_is_not_echoed(
    tmp_path: Path, secret: str, mode: list[str]
) -> None:
    result = run(mode, tmp_path, {"DIGITALOCEAN_TOKEN_FILE": secret})
    assert_refused_unquoted(
        result, secret,
        "  DIGITALOCEAN_TOKEN_FILE: the value of DIGITALOCEAN_TOKEN_FILE looks like a token, not a "
        "path; set DIGITALOCEAN_TOKEN to the token instead, or write it to a file (chmod 600) and "
        "give that path",
    )


@pytest.mark.parametrize("mode", MODES, ids=["check", "check-offline", "startup"])
@pytest.mark.parametrize("secret", SECRETS, ids=["token", "bare-hex"])
def test_token_in_token_env_is_not_echoed(tmp_path: Path, secret: str, mode: list[str]) -> None:
    config = write_config(tmp_path, f"accounts:\n  - name: production\n    token_env: {secret}\n")
    result = run(["--config.file", str(config), *mode], tmp_path, {})
    assert_refused_unquoted(
        result, secret,
        "  accounts[0].token_env: the value of token_env looks like a token, not the name of an "
        "environment variable; put the token in a variable and give the variable's name here",
    )


@pytest.mark.parametrize("mode", MODES, ids=["check", "check-offline", "startup"])
@pytest.mark.parametrize("secret", SECRETS, ids=["token", "bare-hex"])
def test_token_in_token_file_is_not_echoed(tmp_path: Path, secret: str, mode: list[str]) -> None:
    config = write_config(tmp_path, f"accounts:\n  - name: production\n    token_file: {secret}\n")
    result = run(["--config.file", str(config), *mode], tmp_path, {})
    assert_refused_unquoted(
        result, secret,
        "  accounts[0].token_file: the value of token_file looks like a token, not a path; write "
        "the token to a file (chmod 600) and give that file's path here",
    )


@pytest.mark.parametrize("secret", SECRETS, ids=["token", "bare-hex"])
def test_token_in_tokens_dir_and_config_file_is_not_echoed(tmp_path: Path, secret: str) -> None:
    config = write_config(tmp_path, f"tokens_dir: {secret}\n")
    result = run(["--config.file", str(config), "--config.check", "--offline"], tmp_path, {})
    assert_refused_unquoted(
        result, secret,
        "  tokens_dir: the value of tokens_dir looks like a token, not a path; give the directory "
        "that holds one token file per account",
    )
    result = run(["--config.check", "--offline"], tmp_path, {"DO_EXPORTER_CONFIG": secret})
    assert_refused_unquoted(
        result, secret,
        "the value of DO_EXPORTER_CONFIG looks like a token, not a path; give the config "
        "file's path",
    )


@pytest.mark.parametrize("value", ["/var/run/secrets/digitalocean/production", "DO_TOKEN_STAGING",
                                   "DIGITALOCEAN_TOKEN_PRODUCTION_EU_WEST_1", "token.txt",
                                   "/run/credentials/x/..2024_01_01_12_00_00.123456789/prod"])
def test_ordinary_paths_and_names_do_not_look_like_tokens(value: str) -> None:
    assert not looks_like_secret(value)
    assert looks_like_secret(value + "/" + BARE_SECRET)
