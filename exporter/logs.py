"""Logging: structlog to stderr, JSON or console, with tokens redacted as a second line of defence.

The first line of defence is that no module puts a token into a message. The Redactor then scrubs
every rendered event (ours, and records from httpx, httpcore and asyncio through the stdlib
bridge): the exact tokens in use, anything shaped like a DigitalOcean token, and Bearer
credentials. Tracebacks are rendered plainly (never with local variables) and scrubbed too.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from typing import Any, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[REDACTED]"
_TOKEN_SHAPE = re.compile(r"\bdo[opr]_v1_[A-Za-z0-9]+")
# A run of 32 or more letters and digits with no separator, holding both: a hex or base62
# secret, never a file name or an environment variable's name (those have `_`, `.`, `/`, `-`).
_SECRET_RUN = re.compile(r"[A-Za-z0-9]{32,}")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
# Third-party loggers stay at WARNING whatever --log.level says: at debug, httpcore alone wrote
# ~800 lines for the exporter's 11, burying them. Their warnings and errors still come through.
QUIET_LIBRARIES = ("httpx", "httpcore", "hpack", "anyio", "asyncio", "h11", "h2")

LogFormat = Literal["json", "console"]


def looks_like_secret(text: str) -> bool:
    """Whether a value given where a path or a variable name belongs looks like a token instead
    (a templated config gone wrong): a DigitalOcean token's prefix, or a long secret-looking run.
    Such a value is never echoed, not even in the error that refuses it."""
    if re.search(r"do[opr]_v1_", text):
        return True
    return any(
        any(c.isdigit() for c in run) and any(c.isalpha() for c in run)
        for run in _SECRET_RUN.findall(text)
    )


class Redactor:
    """Removes known secrets and token-shaped strings from log events."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        if secret:
            with self._lock:
                self._secrets = self._secrets | {secret}

    def redact(self, text: str) -> str:
        for secret in self._secrets:  # a set replaced whole on add, so iteration is safe
            if secret in text:
                text = text.replace(secret, REDACTED)
        text = _TOKEN_SHAPE.sub(REDACTED, text)
        return _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)

    def _scrub(self, value: object) -> object:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._scrub(v) for v in value)
        if isinstance(value, BaseException):
            return self.redact(f"{type(value).__name__}: {value}")
        return value

    def __call__(self, logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
        for key, value in list(event.items()):
            if key.startswith("_"):
                continue  # structlog's own bookkeeping (the stdlib record and so on)
            event[key] = self._scrub(value)
        return event


def configure_logging(
    level: str, fmt: LogFormat, redactor: Redactor, stream: TextIO | None = None
) -> None:
    """Route structlog and stdlib logging through one handler that redacts, then renders."""
    pre_chain: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,  # tracebacks become text, then get scrubbed
            redactor,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    numeric = logging.getLevelName(level.upper())
    root.setLevel(numeric)
    for name in QUIET_LIBRARIES:  # httpx logs every request at INFO, httpcore every step at DEBUG
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *pre_chain,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str = "exporter", **bound: Any) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger.bind(**bound) if bound else logger
