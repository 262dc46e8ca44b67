"""Issue 18, point 6: a token file that is not a regular file, or is far too large.

A FIFO used to hang startup silently (the open waits for a writer) and, at runtime, block the
event loop from the token watcher (no polls, SIGTERM ignored); a device or an endless file was
read whole. Token files are now opened non-blocking, must be regular files (after following
symlinks) and at most TOKEN_FILE_MAX_BYTES long; the error names the account and the path and
never the content.
"""

from __future__ import annotations

import asyncio
import errno
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from exporter.tokens import TOKEN_FILE_MAX_BYTES, FileToken, TokenSourceError, read_token
from tests.conftest import READ_TOKEN, write_config, write_token
from tests.reliability.conftest import Harness, contains, eventually

DEADLINE_SECONDS = 5.0


class FifoRelease:
    """Opens a FIFO's write end now and then once `after` seconds have passed, so a reader stuck
    in open() or read() (the behaviour this file guards against) is released and the test fails
    instead of hanging forever. `needed` says whether a stuck reader was ever found."""

    def __init__(self, fifo: Path, after: float) -> None:
        self.fifo = fifo
        self.after = after
        self.needed = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fifo-release", daemon=True)

    def _run(self) -> None:
        start = time.monotonic()
        while not self._done.wait(0.1):
            if time.monotonic() - start < self.after:
                continue
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:  # ENXIO: nobody is reading, which is the point
                if exc.errno not in (errno.ENXIO, errno.ENOENT):
                    raise
                continue
            self.needed = True
            os.close(fd)  # the reader sees end of file

    def __enter__(self) -> FifoRelease:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(5)


def read_with_deadline(path: Path) -> str:
    """read_token in a thread; AssertionError if it is still blocked after the deadline."""
    outcome: list[BaseException | str] = []

    def target() -> None:
        try:
            outcome.append(read_token(FileToken(path), {}))
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    with FifoRelease(path, DEADLINE_SECONDS) as release:
        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        thread.join(DEADLINE_SECONDS + 2)
    assert not release.needed, f"reading {path} blocked for more than {DEADLINE_SECONDS}s"
    [result] = outcome
    if isinstance(result, BaseException):
        raise result
    return result


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "production"
    os.mkfifo(path, 0o600)
    return path


def test_a_fifo_is_refused_at_once(fifo: Path) -> None:
    with pytest.raises(TokenSourceError) as caught:
        read_with_deadline(fifo)
    assert str(caught.value) == f"token file {fifo} is a FIFO (named pipe), not a regular file"


def test_a_fifo_behind_kubernetes_symlinks_is_refused_at_once(tmp_path: Path) -> None:
    """`name -> ..data/name`, `..data -> ..2024_01_01`: the target is checked, not the link."""
    real = tmp_path / "..2024_01_01"
    real.mkdir()
    os.mkfifo(real / "production", 0o600)
    (tmp_path / "..data").symlink_to(real.name)
    link = tmp_path / "production"
    link.symlink_to("..data/production")
    with pytest.raises(TokenSourceError, match=r"is a FIFO \(named pipe\), not a regular file"):
        read_with_deadline(link)
    # and a regular file behind the same links is read as before
    (real / "production").unlink()
    write_token(real, "production", READ_TOKEN)
    assert read_with_deadline(link) == READ_TOKEN


def test_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "production"
    link.symlink_to("/dev/null")
    with pytest.raises(TokenSourceError) as caught:
        read_token(FileToken(link), {})
    assert str(caught.value) == f"token file {link} is a character device, not a regular file"


def test_a_file_larger_than_the_cap_is_refused_without_showing_it(tmp_path: Path) -> None:
    """One long word: the old reader took 1 MiB of it as the token."""
    path = tmp_path / "production"
    content = "dop_v1_" + "ab" * (512 * 1024)
    path.write_text(content)
    with pytest.raises(TokenSourceError) as caught:
        read_token(FileToken(path), {})
    message = str(caught.value)
    assert message == (f"token file {path} is larger than {TOKEN_FILE_MAX_BYTES} bytes; a token "
                       "file holds one token (under 100 bytes)")
    assert "abab" not in message
    # at the cap exactly, the file is read (and judged by its content)
    path.write_text(READ_TOKEN + " " * (TOKEN_FILE_MAX_BYTES - len(READ_TOKEN)))
    assert read_token(FileToken(path), {}) == READ_TOKEN


def test_config_check_with_a_fifo_token_file_exits_2_at_once(tmp_path: Path, fifo: Path) -> None:
    """Startup used to hang silently in open()."""
    config = write_config(tmp_path, f"accounts:\n  - name: production\n    token_file: {fifo}\n")
    with FifoRelease(fifo, DEADLINE_SECONDS) as release:
        done = subprocess.run(
            [sys.executable, "-m", "exporter", "--config.file", str(config), "--config.check"],
            capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
        )
    assert not release.needed, "--config.check blocked on the FIFO"
    assert done.returncode == 2, done.stderr
    assert f"accounts[0].token_file: token file {fifo} is a FIFO (named pipe), not a regular file" \
        in done.stderr


async def test_a_token_file_swapped_for_a_fifo_at_runtime_never_blocks_the_loop(
    harness: Harness, tmp_path: Path
) -> None:
    """The token watcher reads from the event loop every 5 s: a FIFO used to stop it there."""
    h = harness
    token_file = tmp_path / "production"
    token_file.unlink()
    os.mkfifo(token_file, 0o600)
    stalls: list[float] = []

    async def heartbeat() -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.05)
            stalls.append(loop.time() - before - 0.05)

    beat = asyncio.create_task(heartbeat())
    with FifoRelease(token_file, 8.0) as release:
        try:
            await eventually(
                lambda: bool(h.events(level="warning", account="production",
                                      error=contains("FIFO"))),
                timeout=12, what="the watcher's warning about the FIFO")
            assert (await h.poll("production", "droplets")).ok
            assert (await h.get("/metrics")).status_code == 200
        finally:
            token_file.unlink()
            write_token(tmp_path, "production", READ_TOKEN)
            beat.cancel()
    assert not release.needed, "the token watcher blocked the event loop on the FIFO"
    [warning] = h.events(level="warning", account="production", error=contains("FIFO"))
    assert warning["event"] == "token source unreadable; keeping the current token"
    assert warning["error"] == f"token file {token_file} is a FIFO (named pipe), not a regular file"
    assert max(stalls) < 1.0, f"the event loop stalled for {max(stalls):.2f}s"
    assert h.account("production").source.token == READ_TOKEN
