"""`python -m exporter.simulator`: run a simulated DigitalOcean API until SIGTERM or SIGINT.

Prints the URL and the account and token names, never a token. `--tokens-dir DIR` writes each
token to `DIR/<token name>` (mode 0600), the layout the exporter's `tokens_dir` reads, so a
test or a person can use generated tokens without them ever being printed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from exporter.simulator.config import SimulatorConfig
from exporter.simulator.demo import demo_config
from exporter.simulator.scenario import ScenarioError, load_scenario
from exporter.simulator.server import Simulator


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m exporter.simulator",
        description="Serve a simulated DigitalOcean API (and /v1/oauth/token/info).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    parser.add_argument("--scenario", type=Path, help="scenario YAML; default: the demo fleet")
    parser.add_argument("--seed", type=int, default=0, help="seed of the demo fleet")
    parser.add_argument("--url-file", type=Path, help="write the URL here once listening")
    parser.add_argument("--tokens-dir", type=Path, help="write each token to DIR/<token name>")
    return parser.parse_args(argv)


def write_tokens(config: SimulatorConfig, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for account in config.accounts:
        for token in account.tokens:
            path = directory / token.name
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(token.token + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        config = (
            load_scenario(arguments.scenario)
            if arguments.scenario
            else demo_config(seed=arguments.seed)
        )
    except (ScenarioError, OSError) as error:
        print(f"simulator: {error}", file=sys.stderr)
        return 2
    if arguments.tokens_dir:
        write_tokens(config, arguments.tokens_dir)
    simulator = Simulator(config)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        simulator.start(host=arguments.host, port=arguments.port)
    except OSError as error:
        print(
            f"simulator: cannot listen on {arguments.host}:{arguments.port}: {error}",
            file=sys.stderr,
        )
        return 2
    print(f"simulated DigitalOcean API listening on {simulator.url}", flush=True)
    for account, token_names in simulator.token_names().items():
        fleet = simulator.fleet(account)
        resources = fleet.resources
        print(
            f"  account {account}: {len(fleet.droplets)} droplets, "
            f"{len(fleet.gpu_droplets)} GPU droplets, {len(fleet.volumes)} volumes, "
            f"{len(resources.objects('snapshots'))} snapshots, "
            f"{len(resources.objects('load_balancers'))} load balancers, "
            f"{len(resources.objects('kubernetes_clusters'))} Kubernetes clusters, "
            f"{len(resources.objects('databases'))} databases, "
            f"{len(resources.objects('apps'))} apps; "
            f"tokens: {', '.join(token_names) or '(none)'}",
            flush=True,
        )
    if arguments.url_file:
        # Written whole, then renamed: a test polling for the file never reads half a URL.
        partial = arguments.url_file.with_name(arguments.url_file.name + ".partial")
        partial.write_text(simulator.url + "\n", encoding="utf-8")
        partial.replace(arguments.url_file)
    while not stop.wait(1.0):
        pass
    simulator.stop()
    print("simulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
