"""all_or_nothing: ordered results, bounded concurrency, and no stragglers after a failure."""

from __future__ import annotations

import asyncio

import pytest

from exporter.tasks import all_or_nothing


async def test_results_in_order_with_bounded_concurrency() -> None:
    running = 0
    peak = 0

    async def work(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001 * (10 - n))
        running -= 1
        return n

    assert await all_or_nothing([work(n) for n in range(10)], limit=3) == list(range(10))
    assert peak == 3


async def test_first_failure_cancels_the_rest() -> None:
    cancelled = []

    async def slow() -> int:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return 1

    async def fail() -> int:
        raise ValueError("page 3 failed")

    with pytest.raises(ValueError, match="page 3 failed"):
        await all_or_nothing([slow(), fail(), slow()])
    assert cancelled == [True, True]
