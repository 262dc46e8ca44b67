"""Logging: JSON and console output, and tokens scrubbed from every kind of log record."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from exporter.logs import QUIET_LIBRARIES, REDACTED, Redactor, configure_logging, get_logger
from tests.conftest import READ_TOKEN, captured_logs


@pytest.fixture
def output() -> Iterator[tuple[io.StringIO, Redactor]]:
    with captured_logs("debug") as captured:
        yield captured


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_level_time_and_context(output: tuple[io.StringIO, Redactor]) -> None:
    stream, _ = output
    get_logger("exporter", account="production").info("poll failed", collector="droplets")
    [line] = lines(stream)
    assert line["event"] == "poll failed"
    assert line["level"] == "info"
    assert line["account"] == "production"
    assert line["collector"] == "droplets"
    assert str(line["timestamp"]).endswith("Z")


def test_known_token_is_scrubbed_everywhere(output: tuple[io.StringIO, Redactor]) -> None:
    stream, redactor = output
    redactor.add("sekrit-token-value")
    log = get_logger("exporter")
    log.info("token is sekrit-token-value", extra={"nested": ["x sekrit-token-value"]})
    try:
        raise RuntimeError("failed with sekrit-token-value")
    except RuntimeError:
        log.exception("boom")
    # libraries log at warning and above only (even at debug), and those records are scrubbed too
    logging.getLogger("httpcore.http11").warning(
        "send_request_headers.complete headers=[(b'Authorization', b'Bearer %s')]", READ_TOKEN
    )
    logging.getLogger("httpx").warning("Authorization: Bearer abc.def-ghi")
    text = stream.getvalue()
    assert "sekrit-token-value" not in text
    assert READ_TOKEN not in text
    assert "abc.def-ghi" not in text
    assert text.count(REDACTED) >= 5
    assert "Traceback" in text  # the traceback is kept, only the secret is removed


def test_token_shaped_strings_are_scrubbed_without_being_registered() -> None:
    redactor = Redactor()
    assert redactor.redact(f"x {READ_TOKEN} y doo_v1_abc") == f"x {REDACTED} y {REDACTED}"


def test_console_format_renders_plain_tracebacks() -> None:
    stream = io.StringIO()
    redactor = Redactor()
    redactor.add("hidden-value")
    configure_logging("info", "console", redactor, stream)
    try:
        try:
            secret = "hidden-value"  # noqa: F841  # a local that a fancy traceback would show
            raise ValueError("bad")
        except ValueError:
            get_logger("exporter").exception("failed")
        text = stream.getvalue()
        assert "failed" in text
        assert "ValueError: bad" in text
        assert "hidden-value" not in text
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()


@pytest.mark.parametrize("level", ["debug", "info"])
def test_library_chatter_stays_out_even_at_debug(level: str) -> None:
    """Issue 16 point 4: `--log.level debug` was 800 lines of httpcore for 11 of the exporter's
    own; the exporter's debug lines show, the libraries' only from warning up."""
    with captured_logs(level) as (stream, _):
        get_logger("exporter").debug("exposition rendered", snapshots=2)
        logging.getLogger("httpx").info("HTTP Request: GET https://api.digitalocean.com/v2/droplets")
        logging.getLogger("httpcore.http11").debug("send_request_headers.started")
        logging.getLogger("anyio").debug("connect_tcp")
        logging.getLogger("httpcore.connection").warning("connection lost")
        for name in QUIET_LIBRARIES:
            assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING
        events = [(e["logger"], e["event"]) for e in lines(stream)]
    expected = [("httpcore.connection", "connection lost")]
    if level == "debug":
        expected.insert(0, ("exporter", "exposition rendered"))
    assert events == expected
