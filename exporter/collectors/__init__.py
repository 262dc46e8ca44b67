"""The collector table: every resource the exporter knows, in exposition order.

Flags, config defaults, docs and tests are all derived from this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exporter.collectors import account, billing, droplets, volumes
from exporter.collectors.base import Collector

COLLECTORS: tuple[Collector[Any], ...] = (
    account.COLLECTOR,
    droplets.COLLECTOR,
    volumes.COLLECTOR,
    billing.COLLECTOR,
)


def collector_table() -> Mapping[str, Collector[Any]]:
    return {c.name: c for c in COLLECTORS}
