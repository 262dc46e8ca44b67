"""docs/performance.md is what `python -m bench.report` writes from the recorded figures."""

from __future__ import annotations

from typing import Any

from bench import report


def test_the_page_is_written_from_the_recorded_figures() -> None:
    page = report.page(report.load("before"), report.load("after"), report.load("meta"))
    assert report.PAGE.read_text() == page, (
        "docs/performance.md differs from the figures in bench/results/: run "
        "`python -m bench.report --page-only` (or measure again: `python -m bench.report`)"
    )


def _figures(rss: float, round_trips: float, ready: float, ratios: list[float]) -> dict[str, Any]:
    size = {"size": 10_000, "droplet_poll_round_trips": round_trips, "gzip_p99_ratio_20": ratios,
            "exporter": {"rss_ready_mib": rss, "ready_s": ready}}
    return {"performance": {"figures": {"sizes": [size]}, "printed": ""}}


def test_targets_are_judged_on_the_after_figures_and_the_worst_run() -> None:
    table = report.target_table(_figures(136, 6.6, 8, [2.4, 1.2, 1.0]),
                                _figures(90, 3.4, 3.5, [1.1, 2.5, 1.3]))
    rows = {line.split(" | ")[0].lstrip("| "): line for line in table.splitlines()[2:]}
    assert rows["item 4: resident memory when ready, 10k + 10k"].endswith("| 136 MiB | 90 MiB | yes |")
    assert rows["item 4: Droplet poll at 100 ms latency, 10k"].endswith(
        "| 6.6 round trips | 3.4 round trips | no |")
    assert rows["item 4: start to ready, 10k + 10k"].endswith("| 8.0 s | 3.5 s | yes |")
    assert rows["item 4: gzip p99 / nginx's, 20 scrapers, worst of 3 runs"].endswith(
        "| 2.40 x | 2.50 x | no |")


def test_a_suite_not_measured_says_so() -> None:
    table = report.target_table({}, _figures(90, 3, 3, [1.0]))
    assert "| not measured | 90 MiB | yes |" in table
    assert "| item 3: resident memory at rest, 1k Droplets | <= 34 MiB (1.5x a Go exporter's) | " \
           "not measured | not measured | not measured |" in table


def test_msgspec_is_judged_by_the_stdlib_variant_of_the_same_run() -> None:
    def decoding(stdlib: float, typed: float) -> dict[str, Any]:
        variants = [{"variant": "stdlib", "droplets_cpu_s": stdlib},
                    {"variant": "typed", "droplets_cpu_s": typed}]
        return {"decoding": {"figures": {"variants": variants}, "printed": ""}}

    row = next(line for line in report.target_table({}, decoding(0.6, 0.25)).splitlines()
               if "msgspec" in line)
    assert row.endswith("| 0.600 s | 0.250 s | yes |")
    row = next(line for line in report.target_table({}, decoding(0.6, 0.35)).splitlines()
               if "msgspec" in line)
    assert row.endswith("| 0.600 s | 0.350 s | no |")
