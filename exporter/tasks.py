"""Running awaitables side by side where one failure must stop the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

T = TypeVar("T")


async def all_or_nothing(awaitables: Sequence[Awaitable[T]]) -> list[T]:
    """Results in order, or the first exception with every other awaitable cancelled.

    `asyncio.gather` leaves the others running after a failure; a TaskGroup wraps the error in
    an ExceptionGroup. Callers here want neither: a failed page ends the whole list at once.
    """
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
