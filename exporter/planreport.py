"""The request plan `--config.check` prints for one account: how many requests an hour each
collector will spend, and the interval it will actually get.

Costs are measured the way the daemon measures them: one real poll of each inventory collector
(a few requests: a list of 10,000 Droplets is 50). A Monitoring API collector is never polled
here (its poll is hundreds of requests); its cost is known from its selection instead, counted
over the inventory just read. A selection that cannot fit the budget even at the longest interval
makes the check fail, naming the most objects that would fit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from exporter.api import ApiError, request_counter
from exporter.collectors.base import Collector, PollContext, ResourceReader
from exporter.config import CollectorSettings
from exporter.planner import Plan, plan
from exporter.sharding import NO_SHARD, Shard
from exporter.strictyaml import format_duration


@dataclass(frozen=True)
class PlanRow:
    collector: str
    requests_per_poll: int | None  # None: the poll failed (the error says why)
    configured: float
    planned: float
    per_hour: float
    error: str | None = None


async def measure(
    reader: ResourceReader,
    collectors: Sequence[Collector[Any]],
    settings: Mapping[str, CollectorSettings],
    requests_per_hour: int,
) -> tuple[Plan, list[PlanRow]]:
    """Poll each enabled inventory collector once, count each monitoring selection, and plan."""
    enabled = [c for c in collectors if settings[c.name].enabled]
    data: dict[str, Any] = {}
    costs: dict[str, int] = {}
    per_object: dict[str, int] = {}
    errors: dict[str, str] = {}
    for collector in enabled:
        own = settings[collector.name]
        context = PollContext(
            selection=own.selection,
            metrics=own.metrics or collector.chosen_metrics,
            inputs={name: data[name] for name in collector.inputs if name in data},
            interval=own.interval,
        )
        if collector.requests_for is not None:
            missing = [name for name in collector.inputs if name not in data]
            if missing:
                errors[collector.name] = f"no data from {', '.join(missing)} to count from"
                continue
            costs[collector.name] = collector.requests_for(context)
            if collector.requests_per_object is not None:
                per_object[collector.name] = collector.requests_per_object(context)
            continue
        counter = [0]
        token = request_counter.set(counter)
        try:
            data[collector.name] = await collector.collect(reader, context)
        except ApiError as exc:  # one collector's failure is reported, the rest still count
            errors[collector.name] = str(exc)
        except Exception as exc:
            errors[collector.name] = f"{type(exc).__name__}: {exc}"
        finally:
            request_counter.reset(token)
        costs[collector.name] = counter[0]
    intervals = {c.name: settings[c.name].interval for c in enabled}
    result = plan(costs, intervals, requests_per_hour,
                  monitoring={c.name for c in enabled if c.monitoring}, per_object=per_object)
    rows = [
        PlanRow(
            collector=c.name,
            requests_per_poll=None if c.name in errors else costs.get(c.name),
            configured=intervals[c.name],
            planned=result.intervals[c.name],
            per_hour=result.per_hour[c.name],
            error=errors.get(c.name),
        )
        for c in enabled
    ]
    return result, rows


def describe(
    account: str, budget: int, result: Plan, rows: Sequence[PlanRow], *, replicas: int = 1,
    shard: Shard = NO_SHARD,
) -> list[str]:
    """The table `--config.check` prints for one account: the budget is this process's (with
    `api.replicas: N`, 1/N of the token's), and the shard that polls the account, when sharded."""
    whose = f", polled by {shard}" if shard.sharded else ""
    share = (f", 1/{replicas} of the token's: api.replicas {replicas} processes poll it"
             if replicas > 1 else "")
    lines = [f'request plan of account "{account}"{whose} (budget {budget} requests/hour{share}, '
             f"planned to {result.effective_per_hour:.0f}):"]
    width = max(len(r.collector) for r in rows) if rows else 0
    for row in rows:
        if row.error is not None:
            lines.append(f"  {row.collector:<{width}}  not measured: {row.error}")
            continue
        when = f"every {format_duration(round(row.planned))}"
        if row.collector in result.overflow:
            when = "refused: it does not fit the budget even at the longest interval"
        elif row.planned > row.configured * 1.001:
            when += f" (configured {format_duration(row.configured)}, stretched)"
        lines.append(f"  {row.collector:<{width}}  {row.requests_per_poll} per poll, "
                     f"{row.per_hour:.0f}/hour, {when}")
    return lines
