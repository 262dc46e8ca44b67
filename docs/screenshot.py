"""Regenerate docs/status-page.png: the status page of `--demo`, as headless Chromium renders it.

    make screenshot                      # or: python docs/screenshot.py [--output PATH]

Starts the exporter with `--demo` on a free loopback port, waits for /readyz, lets Debian's
`chromium` take the screenshot, and stops the exporter. Standard library only.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "docs" / "status-page.png"
# headless, and nothing that reaches the network or a desktop session on its own
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
)
READY_TIMEOUT_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the exporter exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1) as answer:  # noqa: S310  # loopback
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the exporter was not ready within {READY_TIMEOUT_SECONDS:.0f} s")


def screenshot(chromium: str, url: str, output: Path, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        subprocess.run(  # noqa: S603  # our own argv: chromium, flags, a loopback URL
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             f"--window-size={width},{height}", f"--screenshot={output}", url],
            check=True, capture_output=True, timeout=60,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1210, help="the demo's first account fits")
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        print("chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    exporter = subprocess.Popen(  # noqa: S603  # our own argv: this Python, --demo
        [sys.executable, "-m", "exporter", "--demo", "--web.listen-address", f"127.0.0.1:{port}",
         "--log.format", "json", "--log.level", "error"],
        cwd=ROOT, stdout=subprocess.DEVNULL,
    )
    try:
        wait_ready(url, exporter)
        screenshot(chromium, f"{url}/", args.output.resolve(), args.width, args.height)
    finally:
        exporter.send_signal(signal.SIGTERM)
        exporter.wait(timeout=10)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
