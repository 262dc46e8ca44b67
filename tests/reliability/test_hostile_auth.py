"""Issue 18, point 9: with basic-auth users of different bcrypt costs, a failed check takes the
same time whoever the user is.

An unknown user was checked against a dummy hash of the highest cost while a known cheap user
with a wrong password answered at the cheap cost, so the cheap users could be enumerated.
"""

from __future__ import annotations

import base64
import statistics
import time
from pathlib import Path

import bcrypt

from exporter.webconfig import BasicAuth, load_web_config

CHEAP_COST, DEAR_COST = 4, 6  # 4x apart, and fast enough for a test
ROUNDS = 41


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def medians(auth: BasicAuth, attempts: dict[str, str]) -> dict[str, float]:
    """Median wall time in ms of each failed attempt, taken interleaved so load hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in attempts}
    for _ in range(ROUNDS):
        for name, header in attempts.items():
            start = time.perf_counter()
            assert auth.check(header) is False
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(found) * 1000 for name, found in times.items()}


def test_a_failed_check_takes_the_same_time_whatever_the_user_and_its_cost() -> None:
    auth = BasicAuth({
        "cheap": bcrypt.hashpw(b"right", bcrypt.gensalt(CHEAP_COST)).decode(),
        "dear": bcrypt.hashpw(b"right", bcrypt.gensalt(DEAR_COST)).decode(),
    })
    assert auth.check(basic("cheap", "right"))
    assert auth.check(basic("dear", "right"))
    found = medians(auth, {
        "unknown user": basic("nobody", "wrong"),
        "cheap user, wrong password": basic("cheap", "wrong"),
        "dear user, wrong password": basic("dear", "wrong"),
        "cheap user, password too long": basic("cheap", "x" * 100),
    })
    print("median ms of a failed check:", {k: round(v, 2) for k, v in found.items()})
    reference = found["unknown user"]
    for name, median in found.items():
        assert 0.75 < median / reference < 1.33, (name, found)


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
