"""Times as the API writes them: ISO 8601 in UTC with a `Z`, whole seconds."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(timestamp: float) -> str:
    return datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
