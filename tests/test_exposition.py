"""The exposition: golden output from the official examples, format validity, gzip, caching."""

from __future__ import annotations

import gzip
import os
import random
import subprocess
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text

from exporter.api import DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.clock import SystemClock
from exporter.collectors import COLLECTORS
from exporter.collectors.base import Collector, Family
from exporter.costs import FAMILIES as COST_FAMILIES
from exporter.costs import cost_families
from exporter.exposition import (
    DataPart,
    DataRenderer,
    Exposition,
    ExpositionCache,
    escape_label_value,
    format_value,
)
from exporter.pricing import load_price_table
from exporter.simulator import SimAccount, Simulator, demo_config
from exporter.snapshot import Snapshot
from tests.conftest import example_reader, require_tool

GOLDEN = Path(__file__).parent / "golden" / "examples.prom"
DEMO_GOLDEN = Path(__file__).parent / "golden" / "demo.prom"
DEMO_TIME = 1_795_000_000.0  # 2026-11-18T07:06:40Z, fixed so the demo fleet renders the same


def first_token(account: SimAccount) -> Callable[[], str]:
    """The token getter for a simulated account (a lambda in the loop would bind late)."""
    token = account.tokens[0].token
    return lambda: token


async def demo_snapshots() -> list[tuple[str, str, Snapshot]]:
    """Every collector's data for both demo accounts, fetched over HTTP from the simulator."""
    result = []
    with Simulator(demo_config(), clock=lambda: DEMO_TIME) as sim:
        client = DigitalOceanClient(api_url=sim.url, auth_url=sim.url, timeout=10, user_agent="t",
                                    observer=_Quiet(), clock=_Frozen(), rng=random.Random(1))
        try:
            for account in sim.config.accounts:
                reader = client.account(account.name, first_token(account),
                                        RequestBudget(5000, _Frozen(), 5000))
                for collector in COLLECTORS:
                    data = await collector.fetch(reader)
                    result.append((account.name, collector.name,
                                   Snapshot(data, DEMO_TIME, None, DEMO_TIME, 0.1)))
        finally:
            await client.aclose()
    return result


class _Quiet:
    def observe(self, *args: object) -> None:
        pass


class _Frozen(SystemClock):
    def time(self) -> float:
        return DEMO_TIME


async def example_snapshots(accounts: tuple[str, ...] = ("production",)) -> list[tuple[str, str, Snapshot]]:
    result = []
    for account in accounts:
        for collector in COLLECTORS:
            data = await collector.fetch(example_reader())
            result.append((account, collector.name, Snapshot(data, 1.0, None, 1.0, 0.1)))
    return result


async def test_golden_exposition_from_the_official_examples() -> None:
    rendered = DataRenderer(COLLECTORS).render(await example_snapshots()).decode()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(rendered)
    assert rendered == GOLDEN.read_text(), "run with UPDATE_GOLDEN=1 after an intended change"


async def test_golden_has_the_exact_values_the_issue_names() -> None:
    families = {f.name: f for f in parse_text(GOLDEN.read_text())}
    def value(name: str, **labels: str) -> float:
        for sample in families[name].samples:
            if all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
        raise AssertionError(f"no {name} {labels}")
    assert value("digitalocean_droplet_memory_bytes", droplet_id="3164444") == 1024 * 1048576
    assert value("digitalocean_volume_size_bytes",
                 volume_id="506f78a4-e098-11e5-ad9f-000f53306ae1") == 10 * 1073741824
    assert value("digitalocean_balance_month_to_date_usage_usd") == 11.21
    assert value("digitalocean_balance_account_usd") == 12.23
    assert value("digitalocean_invoice_preview_amount_usd", period="2020-02") == 34.56


async def test_golden_exposition_of_the_demo_fleet() -> None:
    """The demo fleet with every collector and the cost estimates, as /metrics would show it."""
    renderer = DataRenderer(COLLECTORS, (cost_families(load_price_table()),))
    rendered = renderer.render(await demo_snapshots(), DEMO_TIME).decode()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        DEMO_GOLDEN.write_text(rendered)
    assert rendered == DEMO_GOLDEN.read_text(), "run with UPDATE_GOLDEN=1 after an intended change"


def test_the_golden_files_cover_every_family() -> None:
    text = GOLDEN.read_text() + DEMO_GOLDEN.read_text()
    families = [f.name for c in COLLECTORS for f in c.families] + [f.name for f in COST_FAMILIES]
    missing = [name for name in families if f"# TYPE {name} " not in text]
    assert missing == []


@pytest.mark.parametrize("golden", [GOLDEN, DEMO_GOLDEN], ids=lambda p: p.name)
def test_promtool_check_metrics_is_clean_on_the_golden_files(golden: Path) -> None:
    promtool = require_tool("promtool")
    result = subprocess.run(
        [promtool, "check", "metrics"], input=golden.read_bytes(), capture_output=True, check=False
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert result.stdout.decode().strip() == ""


async def test_every_series_has_account_first_and_families_are_not_split() -> None:
    text = DataRenderer(COLLECTORS).render(
        await example_snapshots(("production", "staging"))
    ).decode()
    names = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert len(names) == len(set(names))
    for line in text.splitlines():
        if not line.startswith("#"):
            assert '{account="' in line, line
    families = {f.name: f for f in parse_text(text)}
    accounts = {s.labels["account"] for s in families["digitalocean_droplet_info"].samples}
    assert accounts == {"production", "staging"}


async def test_data_part_is_valid_openmetrics_too() -> None:
    data = DataRenderer(COLLECTORS).render(await example_snapshots()).decode()
    # prometheus_client's OpenMetrics parser has no annotations
    families = list(parse_openmetrics(data + "# EOF\n"))  # type: ignore[no-untyped-call]
    assert {f.name for f in families} >= {"digitalocean_droplet_info", "digitalocean_volume_info"}


def test_gzip_parts_make_one_valid_stream() -> None:
    data = DataPart.build(b"# HELP a x\n# TYPE a gauge\na 1\n" * 1000)
    exposition = Exposition.compose(data, b"b 2\n", b"b 2\n# EOF\n")
    assert gzip.decompress(b"".join(exposition.text_gzip)) == data.plain + b"b 2\n"
    assert gzip.decompress(b"".join(exposition.openmetrics_gzip)) == data.plain + b"b 2\n# EOF\n"
    # a single gzip member, so even clients that stop after one member get everything
    decompressor = zlib.decompressobj(31)
    assert decompressor.decompress(b"".join(exposition.text_gzip)) == data.plain + b"b 2\n"
    assert decompressor.unused_data == b""


def test_cache_swaps_self_part_only_when_it_changed() -> None:
    cache = ExpositionCache()
    first = cache.current
    assert not cache.set_self(b"", b"# EOF\n")
    assert cache.current is first
    assert cache.set_self(b"x 1\n", b"x 1\n# EOF\n")
    assert cache.current.text == (b"", b"x 1\n")


def test_label_escaping_and_value_formatting() -> None:
    assert escape_label_value('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    assert [format_value(v) for v in (1, 0.5, float("inf"), float("-inf"), 1e22, 2**40)] == [
        "1", "0.5", "+Inf", "-Inf", "1e+22", "1099511627776"
    ]
    assert format_value(float("nan")) == "NaN"


def tiny_collector(samples: Sequence[tuple[str, tuple[str, ...], float]]) -> Collector[Any]:
    async def fetch(reader: Any) -> Any:
        return None

    return Collector(
        name="tiny", summary="", endpoints=(), scope="x:read", interval=60,
        families=(Family("t_info", "polled", ("name",)),),
        fetch=fetch, samples=lambda data: iter(samples),
    )


def test_awkward_label_values_parse_back_exactly() -> None:
    nasty = 'web "prod"\\01\nline2 ✓'
    renderer = DataRenderer([tiny_collector([("t_info", (nasty,), 1)])])
    text = renderer.render([("acc\"ount", "tiny", Snapshot(object(), 1, None, 1, 0))]).decode()
    [family] = parse_text(text)
    assert family.samples[0].labels == {"account": 'acc"ount', "name": nasty}


def test_wrong_label_count_is_reported() -> None:
    renderer = DataRenderer([tiny_collector([("t_info", ("a", "b"), 1)])])
    with pytest.raises(ValueError, match=r"t_info got 2 label values"):
        renderer.render([("a", "tiny", Snapshot(object(), 1, None, 1, 0))])


async def test_unchanged_snapshots_are_not_rendered_again() -> None:
    calls: list[object] = []
    collector = tiny_collector([("t_info", ("n",), 1)])

    def samples(data: object) -> Iterator[tuple[str, tuple[str, ...], float]]:
        calls.append(data)
        return iter([("t_info", ("n",), 1)])

    counting = Collector(**{**collector.__dict__, "samples": samples})
    renderer = DataRenderer([counting])
    snap = Snapshot(object(), 1, None, 1, 0)
    other = Snapshot(object(), 1, None, 1, 0)
    renderer.render([("a", "tiny", snap), ("b", "tiny", other)])
    renderer.render([("a", "tiny", snap), ("b", "tiny", Snapshot(other.data, 2, None, 2, 0))])
    assert len(calls) == 2  # same data objects: both fragments reused
    renderer.render([("a", "tiny", Snapshot(object(), 3, None, 3, 0))])
    assert len(calls) == 3


def test_chunked_data_part_serves_the_cached_fragments_without_a_joined_copy() -> None:
    """The daemon serves `render_chunks`: the same bytes as `render`, made of the renderer's
    cached fragments themselves (no second copy of a big exposition), and few of them."""
    big = [("t_info", (f"name-{i:05d}",), 1) for i in range(5000)]  # ~190 KB of lines
    renderer = DataRenderer([tiny_collector(big)])
    fresh = [("a", "tiny", Snapshot(object(), 1, None, 1, 0)),
             ("b", "tiny", Snapshot(object(), 1, None, 1, 0))]
    chunks = renderer.render_chunks(fresh)
    assert b"".join(chunks) == renderer.render(fresh)
    assert b"".join(chunks).startswith(b"# HELP t_info polled\n# TYPE t_info gauge\n")
    cached = [lines["t_info"] for lines in (f.lines for f in renderer._fragments.values())]
    assert len(chunks) == 3  # the header, then each account's lines by reference
    assert all(any(chunk is fragment for chunk in chunks) for fragment in cached)
    again = renderer.render_chunks(fresh)
    assert all(a is b for a, b in zip(again[1:], chunks[1:], strict=True))  # reused, not re-rendered


def test_data_part_from_chunks_is_one_gzip_stream_of_their_concatenation() -> None:
    chunks = (b"# HELP a x\n# TYPE a gauge\n", b"a 1\n" * 50_000, b"a 2\n")
    data = DataPart.from_chunks(chunks)
    assert data.plain == b"".join(chunks)
    exposition = Exposition.compose(data, b"b 2\n", b"b 2\n# EOF\n")
    assert exposition.text == (*chunks, b"b 2\n")
    assert gzip.decompress(b"".join(exposition.text_gzip)) == b"".join(chunks) + b"b 2\n"
