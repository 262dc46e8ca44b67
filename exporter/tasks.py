"""Running awaitables side by side where one failure must stop the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

T = TypeVar("T")


async def all_or_nothing(awaitables: Sequence[Awaitable[T]], limit: int | None = None) -> list[T]:
    """Results in order, or the first exception with every other awaitable cancelled.

    `asyncio.gather` leaves the others running after a failure; a TaskGroup wraps the error in
    an ExceptionGroup. Callers here want neither: a failed page ends the whole list at once.
    `limit` bounds how many run at the same time (per-object follow-up requests).
    """
    gate = asyncio.Semaphore(limit) if limit else None

    async def bounded(awaitable: Awaitable[T]) -> T:
        if gate is None:
            return await awaitable
        async with gate:
            return await awaitable

    tasks = [asyncio.ensure_future(bounded(a)) for a in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
