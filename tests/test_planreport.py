"""The request plan `--config.check` prints: measured inventory polls, counted monitoring
selections, stretched intervals, and a selection that cannot fit refused with what would."""

from __future__ import annotations

from exporter.collectors.base import Selection
from exporter.config import CollectorSettings
from exporter.planner import PLANNING_SHARE
from exporter.planreport import describe, measure
from exporter.strictyaml import format_duration
from tests.collectors.fakes import FakeReader
from tests.test_poller_context import INVENTORY, PER_OBJECT, WATCH


async def test_monitoring_is_counted_not_polled_and_stretched_first() -> None:
    reader = FakeReader({})
    settings = {"inventory": CollectorSettings(True, 60, 180),
                "watch": CollectorSettings(True, 60, 180, Selection(tags=("monitored",)), ("cpu",))}
    result, rows = await measure(reader, (INVENTORY, WATCH), settings, 5000)
    assert not reader.requests  # the fakes read nothing; the watch collector was not polled
    inventory, watch = rows
    assert watch.requests_per_poll == 150 * PER_OBJECT
    room = 5000 * PLANNING_SHARE - inventory.per_hour
    assert watch.planned == 150 * PER_OBJECT * 3600 / room
    lines = describe("production", 5000, result, rows)
    assert lines[0] == ('request plan of account "production" (budget 5000 requests/hour, '
                        "planned to 4500):")
    every = format_duration(round(150 * PER_OBJECT * 3600 / room))
    assert lines[2] == (f"  watch      {150 * PER_OBJECT} per poll, {room:.0f}/hour, every "
                        f"{every} (configured 1m, stretched)")


async def test_a_selection_that_cannot_fit_is_refused_with_the_most_that_would() -> None:
    settings = {"inventory": CollectorSettings(True, 60, 180),
                "watch": CollectorSettings(True, 60, 180, metrics=("cpu",))}
    result, rows = await measure(FakeReader({}), (INVENTORY, WATCH), settings, 1000)
    overflow = result.overflow["watch"]
    assert overflow.fits == int((1000 * PLANNING_SHARE - 1 * 60) * 3 // PER_OBJECT)
    assert describe("p", 1000, result, rows)[2].endswith(
        "0/hour, refused: it does not fit the budget even at the longest interval")
