"""The exposition: golden output from the official examples, format validity, gzip, caching."""

from __future__ import annotations

import gzip
import os
import random
import subprocess
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text

from exporter.api import DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.cli import demo_settings
from exporter.clock import SystemClock
from exporter.collectors import COLLECTORS, actions
from exporter.collectors.base import Collector, DerivedFamilies, Family, PollContext, Sample
from exporter.collectors.databases import DatabaseRecord, parse_database
from exporter.collectors.load_balancers import LoadBalancerRecord, parse_load_balancers
from exporter.costs import FAMILIES as COST_FAMILIES
from exporter.costs import cost_families
from exporter.exposition import (
    PACK_BYTES,
    RUN_BYTES,
    STREAM_BYTES,
    DataPart,
    DataRenderer,
    Deflated,
    Exposition,
    ExpositionCache,
    PackedFragment,
    Run,
    SampleError,
    crc32_combine,
    crc32_combine_by_zeros,
    encode_collector,
    encode_fragment,
    escape_label_value,
    format_value,
    inflate_pieces,
)
from exporter.pricing import load_price_table
from exporter.simulator import SimAccount, Simulator, demo_config
from exporter.snapshot import Snapshot
from tests.conftest import example_reader, require_tool, spec_example

GOLDEN = Path(__file__).parent / "golden" / "examples.prom"
DEMO_GOLDEN = Path(__file__).parent / "golden" / "demo.prom"
DEMO_TIME = 1_795_000_000.0  # 2026-11-18T07:06:40Z, fixed so the demo fleet renders the same


def polled(account: str, collector: Collector[Any], data: Any, at: float = 1.0) -> Snapshot:
    """The snapshot a successful poll of `data` publishes: the data and its encoded fragment."""
    return Snapshot(data, at, None, at, 0.1, encode_collector(account, collector, data))


def first_token(account: SimAccount) -> Callable[[], str]:
    """The token getter for a simulated account (a lambda in the loop would bind late)."""
    token = account.tokens[0].token
    return lambda: token


async def demo_snapshots() -> list[tuple[str, str, Snapshot]]:
    """What `--demo` polls for both demo accounts (its settings: the collectors each account
    runs, with their filters and metric groups), fetched over HTTP from the simulator."""
    result = []
    with Simulator(demo_config(), clock=lambda: DEMO_TIME) as sim:
        settings = demo_settings(sim)
        client = DigitalOceanClient(api_url=sim.url, auth_url=sim.url, timeout=10, user_agent="t",
                                    observer=_Quiet(), clock=_Frozen(), rng=random.Random(1))
        try:
            for account, config in zip(sim.config.accounts, settings.accounts, strict=True):
                reader = client.account(account.name, first_token(account),
                                        RequestBudget(5000, _Frozen(), 5000))
                own = settings.collectors_of(config)
                found: dict[str, Any] = {}
                for collector in COLLECTORS:
                    if not own[collector.name].enabled:
                        continue
                    context = PollContext(
                        selection=own[collector.name].selection,
                        metrics=own[collector.name].metrics,
                        inputs={name: found[name] for name in collector.inputs},
                    )
                    data = found[collector.name] = await collector.collect(reader, context)
                    result.append((account.name, collector.name,
                                   polled(account.name, collector, data, DEMO_TIME)))
        finally:
            await client.aclose()
    return result


class _Quiet:
    def observe(self, *args: object) -> None:
        pass


class _Frozen(SystemClock):
    def time(self) -> float:
        return DEMO_TIME


async def poll_all(reader: Any, extra: Mapping[str, Sequence[Any]] | None = None) -> dict[str, Any]:
    """Every collector's data from one poll each, in table order: a collector that reads
    others' data (`inputs`) gets theirs, with `extra` records added to them, and a Monitoring
    API collector reads every metric group it has."""
    found: dict[str, Any] = {}
    for collector in COLLECTORS:
        inputs = {name: (*found[name], *(extra or {}).get(name, ()))
                  for name in collector.inputs if name in found}
        context = PollContext(inputs=inputs, metrics=collector.metric_groups)
        found[collector.name] = await collector.collect(reader, context)
    return found


def network_twin() -> LoadBalancerRecord:
    """The spec's load balancer examples are not network load balancers; a twin of the first
    that is (another id) shows the metrics only they have."""
    example = spec_example("/v2/load_balancers", "All Load Balancers")["load_balancers"][0]
    twin = {**example, "type": "REGIONAL_NETWORK", "id": "4de7ac8b-495b-4884-9a69-1050c6793cd7"}
    [record] = parse_load_balancers([twin])
    return record


def mysql_twin() -> DatabaseRecord:
    """The spec's only database example is a PostgreSQL cluster; its MySQL twin (another id)
    is given to the MySQL metrics collector so the golden file shows them too."""
    [example] = spec_example("/v2/databases")["databases"]
    twin = {**example, "engine": "mysql", "id": "9cc10173-e9ea-4176-9dbc-a4cee4c4ff31"}
    return parse_database(twin, "mysql twin")


async def example_snapshots(accounts: tuple[str, ...] = ("production",)) -> list[tuple[str, str, Snapshot]]:
    result = []
    for account in accounts:
        data = await poll_all(example_reader(), {"databases": (mysql_twin(),),
                                                 "load_balancers": (network_twin(),)})
        for collector in COLLECTORS:
            result.append((account, collector.name, polled(account, collector,
                                                           data[collector.name])))
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
    once = {f.name for c in COLLECTORS for f in c.families if not f.per_account}
    # DigitalOcean's price lists and engine versions, not an account's
    catalogues = ("sizes", "app_instance_sizes", "database_versions")
    assert once == {f.name for c in COLLECTORS if c.name in catalogues for f in c.families}
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.split("{")[0] in once:
                assert "account=" not in line, line
            else:
                assert '{account="' in line, line
    families = {f.name: f for f in parse_text(text)}
    accounts = {s.labels["account"] for s in families["digitalocean_droplet_info"].samples}
    assert accounts == {"production", "staging"}


async def test_the_size_catalogue_is_written_once_without_account() -> None:
    """/v2/sizes is the same for every account: two accounts give one copy of each series,
    exactly as one account does, and no `account` label."""
    one = DataRenderer(COLLECTORS).render(await example_snapshots(("production",))).decode()
    two = DataRenderer(COLLECTORS).render(
        await example_snapshots(("production", "staging"))
    ).decode()
    sizes = [line for line in two.splitlines() if line.startswith("digitalocean_size_")]
    assert sizes == [line for line in one.splitlines() if line.startswith("digitalocean_size_")]
    assert sizes == [
        'digitalocean_size_info{size="s-1vcpu-1gb",plan="Basic",available="true"} 1',
        'digitalocean_size_price_monthly_usd{size="s-1vcpu-1gb"} 5.0',
        'digitalocean_size_price_hourly_usd{size="s-1vcpu-1gb"} 0.00743999984115362',
        'digitalocean_size_vcpus{size="s-1vcpu-1gb"} 1',
    ]


def test_a_family_not_per_account_comes_from_the_first_account_that_has_it() -> None:
    catalogue = Family("t_price_usd", "polled", ("size",), per_account=False)
    plain = Family("t_count", "polled", per_account=False)
    collector = Collector(
        name="cat", summary="s", endpoints=("/v2/cat",), scope="cat:read", interval=60.0,
        families=(catalogue, plain), fetch=_never, samples=iter,
        id_label="size",
    )

    def fragment(account: str, price: float) -> Snapshot:
        return polled(account, collector, [("t_price_usd", ("s-1",), price), ("t_count", (), 3)])

    assert encode_collector("b", collector, [("t_price_usd", ("s-1",), 5), ("t_count", (), 3)]) == {
        "t_price_usd": b't_price_usd{size="s-1"} 5\n', "t_count": b"t_count 3\n",
    }
    renderer = DataRenderer([collector])
    header = "# HELP t_price_usd polled\n# TYPE t_price_usd gauge\n"
    count = "# HELP t_count polled\n# TYPE t_count gauge\nt_count 3\n"
    both = [("b", "cat", fragment("b", 6.0)), ("a", "cat", fragment("a", 5.0))]
    assert renderer.render(both).decode() == header + 't_price_usd{size="s-1"} 5.0\n' + count
    # the first account by name has no data (its token failed): the next one's copy is shown
    only_b = [("a", "cat", Snapshot(None, None, "boom", 1, 0)), ("b", "cat", fragment("b", 6.0))]
    assert renderer.render(only_b).decode() == header + 't_price_usd{size="s-1"} 6.0\n' + count


async def _never(reader: Any) -> Any:
    raise AssertionError("not fetched")


async def test_data_part_is_valid_openmetrics_too() -> None:
    part = DataRenderer(COLLECTORS).render_part(await example_snapshots())
    data = part.openmetrics_plain.decode()
    # prometheus_client's OpenMetrics parser has no annotations
    families = list(parse_openmetrics(data + "# EOF\n"))  # type: ignore[no-untyped-call]
    assert {f.name for f in families} >= {"digitalocean_droplet_info", "digitalocean_volume_info"}
    # a counter is named without _total in OpenMetrics, its samples with it
    [cpu] = [f for f in families if f.name == "digitalocean_droplet_cpu_seconds"]
    assert cpu.type == "counter"
    assert {s.name for s in cpu.samples} == {"digitalocean_droplet_cpu_seconds_total"}


COUNTERS = (b"# HELP a gauge\n# TYPE a gauge\na 1\n"
            b"# HELP c_seconds_total Seconds, polled from /v2/x.\n# TYPE c_seconds_total counter\n"
            b'c_seconds_total{mode="idle"} 5\n', b"# HELP b x\n# TYPE b gauge\nb 2\n")


def test_counters_have_an_openmetrics_twin_in_both_encodings() -> None:
    data = DataPart.from_chunks(COUNTERS)
    exposition = Exposition.compose(data, b"s 1\n", b"s 1\n# EOF\n")
    text = b"".join(exposition.text)
    openmetrics = b"".join(exposition.openmetrics)
    assert text == b"".join(COUNTERS) + b"s 1\n"
    assert openmetrics == (
        b"# HELP a gauge\n# TYPE a gauge\na 1\n"
        b"# HELP c_seconds Seconds, polled from /v2/x.\n# TYPE c_seconds counter\n"
        b'c_seconds_total{mode="idle"} 5\n# HELP b x\n# TYPE b gauge\nb 2\n'
        b"s 1\n# EOF\n")
    assert gzip.decompress(b"".join(exposition.text_gzip)) == text
    assert gzip.decompress(b"".join(exposition.openmetrics_gzip)) == openmetrics
    [counter] = [f for f in parse_openmetrics(openmetrics.decode())  # type: ignore[no-untyped-call]
                 if f.type == "counter"]
    assert counter.name == "c_seconds"
    [counter] = [f for f in parse_text(text.decode()) if f.type == "counter"]
    assert counter.name == "c_seconds"


def test_without_counters_both_formats_share_the_data_part() -> None:
    data = DataPart.from_chunks((b"# HELP a x\n# TYPE a gauge\na 1\n",))
    assert data.openmetrics is data.text
    exposition = Exposition.compose(data, b"", b"# EOF\n")
    assert exposition.body(openmetrics=True, gzip=True).segments is data.text


def test_gzip_parts_make_one_valid_stream() -> None:
    data = DataPart.build(b"# HELP a x\n# TYPE a gauge\na 1\n" * 1000)
    exposition = Exposition.compose(data, b"b 2\n", b"b 2\n# EOF\n")
    assert gzip.decompress(b"".join(exposition.text_gzip)) == data.plain + b"b 2\n"
    assert gzip.decompress(b"".join(exposition.openmetrics_gzip)) == data.plain + b"b 2\n# EOF\n"
    # one gzip member, so even clients that stop after the first member (httpx) get all
    assert gunzip_members(b"".join(exposition.text_gzip)) == [data.plain + b"b 2\n"]


def test_cache_swaps_self_part_only_when_it_changed() -> None:
    cache = ExpositionCache()
    first = cache.current
    assert not cache.set_self(b"", b"# EOF\n")
    assert cache.current is first
    assert cache.set_self(b"x 1\n", b"x 1\n# EOF\n")
    assert b"".join(cache.current.text) == b"x 1\n"
    assert gzip.decompress(b"".join(cache.current.openmetrics_gzip)) == b"x 1\n# EOF\n"


def test_label_escaping_and_value_formatting() -> None:
    assert escape_label_value('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    assert [format_value(v) for v in (1, 0.5, 1e22, 2**40, True, 10**20)] == [
        "1", "0.5", "1e+22", "1099511627776", "1", "1e+20"
    ]


@pytest.mark.parametrize(("value", "message"), [
    (float("nan"), "value nan is not a finite number"),
    (float("inf"), "value inf is not a finite number"),
    (float("-inf"), "value -inf is not a finite number"),
    (10**400, "integer of 1329 bits is beyond float64"),
])
def test_values_prometheus_cannot_read_are_refused(value: float, message: str) -> None:
    """A NaN price or a 400-digit size is bad data: refused where it is made, never written
    (a 406-digit integer makes Prometheus reject the whole page)."""
    with pytest.raises(SampleError, match=f"^{message}$"):
        format_value(value)


def tiny_collector(samples: Sequence[tuple[str, tuple[str, ...], float]]) -> Collector[Any]:
    async def fetch(reader: Any) -> Any:
        return None

    return Collector(
        name="tiny", summary="", endpoints=(), scope="x:read", interval=60, id_label="name",
        families=(Family("t_info", "polled", ("name",)),),
        fetch=fetch, samples=lambda data: iter(samples),
    )


def test_awkward_label_values_parse_back_exactly() -> None:
    nasty = 'web "prod"\\01\nline2 ✓'
    collector = tiny_collector([("t_info", (nasty,), 1)])
    text = DataRenderer([collector]).render([("acc\"ount", "tiny", polled('acc"ount', collector, 0))])
    [family] = parse_text(text.decode())
    assert family.samples[0].labels == {"account": 'acc"ount', "name": nasty}


def test_a_lone_surrogate_in_a_label_is_replaced_not_fatal() -> None:
    """JSON can spell "\\ud800"; it decodes to a str that UTF-8 cannot encode."""
    collector = tiny_collector([("t_info", ("web\ud800",), 1)])
    text = DataRenderer([collector]).render([("a", "tiny", polled("a", collector, 0))]).decode()
    [family] = parse_text(text)
    assert family.samples[0].labels["name"] == "web?"


@pytest.mark.parametrize(("samples", "message"), [
    ([("t_info", ("a", "b"), 1)],
     "tiny: t_info of name='a' got 2 label values for ('name',)"),
    ([("t_info", ("web-1",), 1), ("t_info", ("web-2",), float("nan"))],
     "tiny: t_info of name='web-2': value nan is not a finite number"),
    ([("t_other", ("a",), 1)], "tiny: t_other is not one of its families"),
])
def test_a_bad_sample_is_refused_naming_collector_family_and_object(
    samples: list[Sample], message: str
) -> None:
    with pytest.raises(SampleError) as raised:
        encode_collector("a", tiny_collector(samples), None)
    assert str(raised.value) == message


def test_the_renderer_only_joins_what_the_polls_encoded() -> None:
    """The renderer never calls a collector: a snapshot's fragment is what gets served, and a
    snapshot without one (never polled successfully) adds nothing."""
    def explode(data: Any) -> Any:
        raise AssertionError("samples() called at render time")

    collector = tiny_collector([])
    renderer = DataRenderer([Collector(**{**collector.__dict__, "samples": explode})])
    fragment = {"t_info": b't_info{account="a",name="n"} 1\n'}
    text = renderer.render([("a", "tiny", Snapshot(0, 1, None, 1, 0, fragment)),
                            ("b", "tiny", Snapshot(None, None, "boom", 1, 0))]).decode()
    assert text == '# HELP t_info polled\n# TYPE t_info gauge\nt_info{account="a",name="n"} 1\n'


def counting_costs(calls: list[str], fail_for: str = "") -> DerivedFamilies:
    def samples(inputs: Any, now: float) -> Any:
        calls.append(inputs["tiny"])
        if inputs["tiny"] == fail_for:
            raise ArithmeticError(f"bad price in {fail_for}")
        return iter([("t_cost_usd", (), 1.5)])

    return DerivedFamilies("costs", (Family("t_cost_usd", "estimated"),), ("tiny",), samples, 60)


def test_derived_families_are_computed_again_only_when_inputs_or_period_change() -> None:
    calls: list[str] = []
    collector = tiny_collector([("t_info", ("n",), 1)])
    renderer = DataRenderer([collector], (counting_costs(calls),))
    a, b = polled("a", collector, "fleet-a"), polled("b", collector, "fleet-b")
    renderer.render([("a", "tiny", a), ("b", "tiny", b)], now=10)
    renderer.render([("a", "tiny", a), ("b", "tiny", Snapshot(b.data, 2, None, 2, 0, b.fragment))],
                    now=20)
    assert calls == ["fleet-a", "fleet-b"]  # same data objects, same period: both reused
    renderer.render([("a", "tiny", a), ("b", "tiny", polled("b", collector, "fleet-b2"))], now=30)
    assert calls == ["fleet-a", "fleet-b", "fleet-b2"]
    renderer.render([("a", "tiny", a)], now=70)  # next period: computed again
    assert calls[-1] == "fleet-a"


def test_a_derived_failure_leaves_out_that_account_only_and_says_why() -> None:
    calls: list[str] = []
    collector = tiny_collector([("t_info", ("n",), 1)])
    renderer = DataRenderer([collector], (counting_costs(calls, fail_for="fleet-b"),))
    fresh = [("a", "tiny", polled("a", collector, "fleet-a")),
             ("b", "tiny", polled("b", collector, "fleet-b"))]
    families = {f.name: f for f in parse_text(renderer.render(fresh, now=10).decode())}
    assert [s.labels["account"] for s in families["t_cost_usd"].samples] == ["a"]
    assert [s.labels["account"] for s in families["t_info"].samples] == ["a", "b"]
    assert renderer.derived_status == {
        ("a", "costs"): None, ("b", "costs"): "ArithmeticError: bad price in fleet-b",
    }
    fresh[1] = ("b", "tiny", polled("b", collector, "fleet-b fixed"))
    renderer.render(fresh, now=10)
    assert renderer.derived_status == {("a", "costs"): None, ("b", "costs"): None}


def test_rendered_data_part_serves_the_polled_members_without_a_joined_copy() -> None:
    """The daemon serves `render_part`: the same bytes as `render`, made of the members the
    polls compressed themselves (no second copy, plain or compressed), and few of them."""
    big = [("t_info", (f"name-{i:05d}",), 1) for i in range(5000)]  # ~190 KB of lines
    collector = tiny_collector(big)
    renderer = DataRenderer([collector])
    fresh = [("a", "tiny", polled("a", collector, 0)), ("b", "tiny", polled("b", collector, 0))]
    part = renderer.render_part(fresh)
    assert part.plain == renderer.render(fresh)
    assert part.plain.startswith(b"# HELP t_info polled\n# TYPE t_info gauge\n")
    assert len(part.text) == 3  # the header's run, then each account's member by reference
    assert isinstance(part.text[0], Run)
    for _, _, snapshot in fresh:
        assert isinstance(snapshot.fragment, PackedFragment)
        assert any(segment is snapshot.fragment.pieces["t_info"] for segment in part.text)


def test_data_part_from_chunks_is_one_gzip_stream_of_their_concatenation() -> None:
    chunks = (b"# HELP a x\n# TYPE a gauge\n", b"a 1\n" * 50_000, b"a 2\n")
    data = DataPart.from_chunks(chunks)
    assert data.plain == b"".join(chunks)
    assert (data.size, data.openmetrics_size) == (len(data.plain), len(data.plain))
    exposition = Exposition.compose(data, b"b 2\n", b"b 2\n# EOF\n")
    assert b"".join(exposition.text) == b"".join(chunks) + b"b 2\n"
    assert gzip.decompress(b"".join(exposition.text_gzip)) == b"".join(chunks) + b"b 2\n"


async def test_a_counter_family_is_named_as_each_format_wants() -> None:
    """Text names a counter family with `_total`, OpenMetrics without (its samples keep it);
    both bodies parse, and without a counter the two formats share the same bytes."""
    data = await actions.fetch(example_reader())
    renderer = DataRenderer(COLLECTORS)
    snapshot = polled("production", actions.COLLECTOR, data)
    part = renderer.render_part([("production", "actions", snapshot)])
    assert b"# TYPE digitalocean_actions_total counter\n" in part.plain
    assert b"# TYPE digitalocean_actions counter\n" in part.openmetrics_plain
    exposition = Exposition.compose(part, b"", b"# EOF\n")
    om_body = b"".join(exposition.openmetrics).decode()
    [family] = [f for f in parse_openmetrics(om_body) if f.name == "digitalocean_actions"]  # type: ignore[no-untyped-call]
    assert family.type == "counter"
    assert {s.name for s in family.samples} == {"digitalocean_actions_total"}
    assert gzip.decompress(b"".join(exposition.openmetrics_gzip)).decode() == om_body
    [text_family] = [f for f in parse_text(b"".join(exposition.text).decode())
                     if f.name == "digitalocean_actions"]
    assert text_family.type == "counter"
    # without a counter the two formats share one data part
    counting = {c.name for c in COLLECTORS if any(f.kind == "counter" for f in c.families)}
    gauges = [s for s in await example_snapshots() if s[1] not in counting]
    only_gauges = renderer.render_part(gauges)
    assert only_gauges.openmetrics is only_gauges.text
    assert b" counter\n" not in only_gauges.openmetrics_plain


# -- kept compressed: every body equals a straightforward join of the plain lines -------------


def gunzip_members(body: bytes) -> list[bytes]:
    """A strict single pass over a gzip stream of several members (as Go's multistream reader
    does): each member's plain bytes; fails on anything left over or cut short."""
    members = []
    while body:
        decompressor = zlib.decompressobj(31)
        members.append(decompressor.decompress(body) + decompressor.flush())
        assert decompressor.eof, "a member cut short"
        body = decompressor.unused_data
    return members


def reference_join(collectors: Sequence[Collector[Any]], derived: Sequence[DerivedFamilies],
                   fresh: Sequence[tuple[str, str, Snapshot]], now: float,
                   openmetrics: bool = False) -> bytes:
    """The data part as the renderer joined it before it kept pieces compressed: family by family,
    its header then each account's plain lines (the first account's only when the family is
    not per account); a counter named without `_total` in OpenMetrics headers."""
    snapshots = {(a, c): s for a, c, s in fresh}
    accounts = sorted({a for a, _ in snapshots})
    out: list[bytes] = []

    def join(families: Sequence[Family], fragments: list[Mapping[str, bytes]]) -> None:
        for family in families:
            parts = [f[family.name] for f in fragments if family.name in f]
            if not family.per_account:
                parts = parts[:1]
            if parts:
                name = family.name
                if openmetrics and family.kind == "counter":
                    name = name.removesuffix("_total")
                help_text = family.help.replace("\\", "\\\\").replace("\n", "\\n")
                out.append(f"# HELP {name} {help_text}\n# TYPE {name} {family.kind}\n".encode())
                out.extend(parts)

    for collector in collectors:
        join(collector.families, [s.fragment for a in accounts
                                  if (s := snapshots.get((a, collector.name))) is not None
                                  and s.fragment is not None])
    for d in derived:
        fragments: list[Mapping[str, bytes]] = []
        for account in accounts:
            inputs = {n: snapshots[(account, n)].data for n in d.inputs if (account, n) in snapshots}
            if inputs:
                fragments.append(encode_fragment(account, d.name, d.families,
                                                 d.samples(inputs, now)))
        join(d.families, fragments)
    return b"".join(out)


def assert_served_bodies(part: DataPart, text: bytes, openmetrics: bytes) -> None:
    """Every body of `part` (plain streamed, gzip, both formats) equals the reference,
    and each segment's deflate piece decodes alone (none depends on another's bytes)."""
    assert part.plain == text
    assert part.openmetrics_plain == openmetrics
    cache = ExpositionCache()
    cache.set_data(part)
    cache.set_self(b"self 1\n", b"self 1\n# EOF\n")
    for om, want in ((False, text + b"self 1\n"), (True, openmetrics + b"self 1\n# EOF\n")):
        plain = cache.current.body(om, gzip=False)
        pieces = list(plain)
        assert b"".join(pieces) == want
        assert plain.length == len(want)
        assert max(map(len, pieces), default=0) <= max(STREAM_BYTES, 2 * RUN_BYTES)
        zipped = cache.current.body(om, gzip=True)
        body = b"".join(zipped)
        assert zipped.length == len(body)
        assert gzip.decompress(body) == want
        assert gunzip_members(body) == [want]  # one member: httpx reads no further
        for segment in zipped.segments:
            assert zlib.decompressobj(-15).decompress(segment.deflate) == b"".join(
                segment.pieces())


def counting_collector(per_account: dict[str, int], seed: int) -> Collector[Any]:
    """Three families (a gauge, a counter, one not per account) with `per_account[account]`
    samples each, so pieces fall below, around and far above PACK_BYTES."""
    async def fetch(reader: Any) -> Any:
        return None

    def samples(data: tuple[str, int]) -> Any:
        account, count = data
        rng = random.Random(f"{seed}-{account}")
        for i in range(count):
            yield ("t_info", (f"{account}-{i:06d}", rng.choice(["on", "off", 'q"x'])), 1)
            yield ("t_events_total", (f"{account}-{i:06d}",), rng.randrange(10**6))
            yield ("t_sizes", (f"s-{i}",), i / 7)

    return Collector(
        name="counting", summary="", endpoints=(), scope="x:read", interval=60, id_label="name",
        families=(Family("t_info", "polled\nhelp", ("name", "state")),
                  Family("t_events_total", "events", ("name",), kind="counter"),
                  Family("t_sizes", "sizes", ("size",), per_account=False)),
        fetch=fetch, samples=samples,
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_fleets_serve_the_reference_join_in_every_body(seed: int) -> None:
    rng = random.Random(seed)
    sizes = [0, 1, 20, PACK_BYTES // 40, PACK_BYTES // 20, 2000, 12000]
    counts = {f"acc-{i}": rng.choice(sizes) for i in range(rng.randrange(2, 8))}
    collector = counting_collector(counts, seed)
    fresh = [(a, "counting", polled(a, collector, (a, n))) for a, n in counts.items()]
    part = DataRenderer([collector]).render_part(fresh)
    # a fragment keeps exactly its long pieces as members; the render compresses none again
    pieces = [p for _, _, s in fresh for p in s.fragment.pieces.values()]  # type: ignore[union-attr]
    assert all(isinstance(p, Deflated) == (p.size >= PACK_BYTES if isinstance(p, Deflated) else
                                         len(p) >= PACK_BYTES) for p in pieces)
    assert all(any(s is p for p in pieces) for s in part.text if isinstance(s, Deflated))
    assert_served_bodies(part, reference_join([collector], (), fresh, 0.0),
                         reference_join([collector], (), fresh, 0.0, openmetrics=True))
    assert b"# TYPE t_events counter\n" in part.openmetrics_plain or not any(counts.values())


async def test_demo_and_examples_serve_the_reference_join_in_every_body() -> None:
    derived = (cost_families(load_price_table()),)
    for fresh, now in ((await demo_snapshots(), DEMO_TIME),
                       (await example_snapshots(("production", "staging")), 0.0)):
        part = DataRenderer(COLLECTORS, derived).render_part(fresh, now)
        assert_served_bodies(part, reference_join(COLLECTORS, derived, fresh, now),
                             reference_join(COLLECTORS, derived, fresh, now, openmetrics=True))


def test_only_changed_families_are_compressed_again_and_others_keep_their_members() -> None:
    counts = {"a": 3000, "b": 3000}
    collector = counting_collector(counts, 1)
    first = {a: encode_collector(a, collector, (a, n)) for a, n in counts.items()}
    assert all(isinstance(f.pieces["t_info"], Deflated) for f in first.values())
    # account a's poll sees other states (t_info and t_events change), t_sizes does not
    changed = counting_collector(counts, 2)
    again = encode_collector("a", changed, ("a", 3000), previous=first["a"])
    assert again.pieces["t_sizes"] is first["a"].pieces["t_sizes"]
    assert again.pieces["t_info"] is not first["a"].pieces["t_info"]
    assert again == encode_fragment("a", "counting", changed.families, changed.samples(("a", 3000)))
    renderer = DataRenderer([collector])
    before = renderer.render_part([(a, "counting", Snapshot(0, 1, None, 1, 0, f))
                                   for a, f in first.items()])
    fresh = [("a", "counting", Snapshot(1, 1, None, 1, 0, again)),
             ("b", "counting", Snapshot(0, 1, None, 1, 0, first["b"]))]
    after = renderer.render_part(fresh)
    b_members = [s for s in before.text if isinstance(s, Deflated)
                 and s in first["b"].pieces.values()]
    assert b_members
    assert all(any(m is s for s in after.text) for m in b_members)
    # the runs (headers) did not change either: taken from the last render, not compressed
    runs = [s for s in after.text if isinstance(s, Run)]
    assert runs
    assert all(any(r is old for old in before.text) for r in runs)
    assert_served_bodies(after, reference_join([collector], (), fresh, 0.0),
                         reference_join([collector], (), fresh, 0.0, openmetrics=True))


def test_a_plain_scrape_decompresses_a_big_member_in_bounded_pieces() -> None:
    plain = b"".join(b'x_info{id="%d"} 1\n' % i for i in range(200_000))  # ~3.6 MB
    piece = Deflated.of(plain)
    pieces = list(piece.pieces())
    assert b"".join(pieces) == plain
    assert len(pieces) > 1
    assert max(map(len, pieces)) <= STREAM_BYTES
    with pytest.raises(ValueError, match=f"made .* bytes instead of {len(plain)}"):
        list(inflate_pieces(piece.deflate[:-2000], piece.size))


@pytest.mark.parametrize("combine", [crc32_combine, crc32_combine_by_zeros])
def test_crc32_combine_is_the_crc_of_the_concatenation(combine: Callable[[int, int, int], int]
                                                       ) -> None:
    rng = random.Random(5)
    for a_length, b_length in ((0, 0), (1, 0), (0, 7), (100, 3), (5000, 3 << 20)):
        a, b = rng.randbytes(a_length), rng.randbytes(b_length)
        assert combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_a_packed_fragment_reads_as_its_plain_lines() -> None:
    lines = {"small": b"s 1\n", "big": b"b 1\n" * PACK_BYTES}
    packed = PackedFragment({"small": b"s 1\n", "big": Deflated.of(lines["big"])})
    assert packed == lines
    assert dict(packed) == lines
    assert len(packed) == 2
    assert isinstance(encode_collector("a", tiny_collector([("t_info", ("x",), 1)]), None),
                      PackedFragment)


def test_a_gzip_body_writes_small_pieces_joined_and_big_ones_as_kept() -> None:
    # 200 pieces kept compressed whose deflate pieces are small, and one that is not
    small = [(f"piece_{n} ".encode() * (PACK_BYTES // 8))[:PACK_BYTES] + b"\n" for n in range(200)]
    big = os.urandom(40_000)  # incompressible: its deflate piece is longer than a small write
    part = DataPart.from_chunks([*small[:100], big, *small[100:]])
    assert len(part.text) == 201
    big_piece = next(s.deflate for s in part.text if s.size == len(big))
    cache = ExpositionCache()
    cache.set_data(part)
    buffers = cache.current.body(openmetrics=False, gzip=True).buffers()
    assert len(buffers) <= 6  # header, two runs of small pieces, the big one, self part, trailer
    assert any(b is big_piece for b in buffers)  # by reference, not copied
    assert gzip.decompress(b"".join(buffers)) == b"".join(small[:100]) + big + b"".join(small[100:])
