"""Median time of a failed basic-auth check, by kind of failure, with users of two bcrypt costs.

    python -m bench.auth_timing [--rounds 41]

Every failed check should take the same time (issue 18, point 9): an unknown user, a cheap
user's wrong password and a dear user's wrong password. The attempts are interleaved, so load
on the machine hits all of them alike. tests/reliability/test_hostile_auth.py proves the equal
bcrypt work; this prints what it means in milliseconds.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import time

import bcrypt

from exporter.webconfig import BasicAuth

CHEAP_COST, DEAR_COST = 4, 6


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    rounds = parser.parse_args().rounds
    auth = BasicAuth({
        "cheap": bcrypt.hashpw(b"right", bcrypt.gensalt(CHEAP_COST)).decode(),
        "dear": bcrypt.hashpw(b"right", bcrypt.gensalt(DEAR_COST)).decode(),
    })
    attempts = {
        "unknown user": basic("nobody", "wrong"),
        f"cost-{CHEAP_COST} user, wrong password": basic("cheap", "wrong"),
        f"cost-{DEAR_COST} user, wrong password": basic("dear", "wrong"),
    }
    times: dict[str, list[float]] = {name: [] for name in attempts}
    for _ in range(rounds):
        for name, header in attempts.items():
            start = time.perf_counter()
            auth.check(header)
            times[name].append(time.perf_counter() - start)
    for name, found in times.items():
        print(f"{name:32} median {statistics.median(found) * 1000:6.2f} ms")


if __name__ == "__main__":
    main()
