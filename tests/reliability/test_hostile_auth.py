"""Issue 18, point 9: with basic-auth users of different bcrypt costs, a failed check takes the
same time whoever the user is.

An unknown user was checked against a dummy hash of the highest cost while a known cheap user
with a wrong password answered at the cheap cost, so the cheap users could be enumerated.
"""

from __future__ import annotations

import base64
from pathlib import Path

import bcrypt

from exporter.webconfig import BasicAuth, bcrypt_cost, load_web_config

CHEAP_COST, DEAR_COST = 4, 6  # 4x apart, and fast enough for a test


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


FAILURES = {
    "unknown user": basic("nobody", "wrong"),
    "cheap user, wrong password": basic("cheap", "wrong"),
    "dear user, wrong password": basic("dear", "wrong"),
    "cheap user, password too long": basic("cheap", "x" * 100),
}


class CountingCheck:
    """bcrypt.checkpw, adding up the work of each call: bcrypt's work is 2^cost."""

    def __init__(self) -> None:
        self.work = 0

    def __call__(self, password: bytes, hashed: bytes) -> bool:
        self.work += 2 ** bcrypt_cost(hashed.decode())
        return bcrypt.checkpw(password, hashed)


def test_a_failed_check_costs_the_same_bcrypt_work_whatever_the_user_and_its_cost() -> None:
    """Equal work, so equal time whatever the load (the medians are measured by
    `python -m bench.auth_timing`, not asserted here: timing assertions are flaky)."""
    counting = CountingCheck()
    auth = BasicAuth({
        "cheap": bcrypt.hashpw(b"right", bcrypt.gensalt(CHEAP_COST)).decode(),
        "dear": bcrypt.hashpw(b"right", bcrypt.gensalt(DEAR_COST)).decode(),
    }, checkpw=counting)
    assert auth.check(basic("cheap", "right"))
    assert auth.check(basic("dear", "right"))
    work = {}
    for name, header in FAILURES.items():
        counting.work = 0
        assert auth.check(header) is False
        work[name] = counting.work
    assert work == dict.fromkeys(FAILURES, 2 ** DEAR_COST)


def test_mixed_costs_are_warned_about_at_startup(tmp_path: Path) -> None:
    cheap = bcrypt.hashpw(b"a", bcrypt.gensalt(CHEAP_COST)).decode()
    dear = bcrypt.hashpw(b"b", bcrypt.gensalt(DEAR_COST)).decode()
    path = tmp_path / "web.yml"
    path.write_text(f"basic_auth_users:\n  cheap: '{cheap}'\n  dear: '{dear}'\n"
                    f"  also: '{cheap}'\n")
    config = load_web_config(path)
    assert (
        "basic_auth_users: the hashes have different bcrypt costs (4, 6); every failed check is "
        "made as slow as the highest (6) so that timing reveals no user; hash every password "
        "with the same cost"
    ) in config.warnings
    path.write_text(f"basic_auth_users:\n  cheap: '{cheap}'\n  also: '{cheap}'\n")
    assert not any("bcrypt costs" in w for w in load_web_config(path).warnings)
