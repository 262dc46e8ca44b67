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
    assert rows["resident memory when ready, 10k + 10k"].endswith("| 136 MiB | 90 MiB | yes |")
    assert rows["Droplet poll at 100 ms latency, 10k"].endswith(
        "| 6.6 round trips | 3.4 round trips | no |")
    assert rows["start to ready, 10k + 10k"].endswith("| 8.0 s | 3.5 s | yes |")
    assert rows["gzip p99 / nginx's, 20 scrapers, worst of the runs"].endswith(
        "| 2.40 x | 2.50 x | no |")


def test_a_suite_not_measured_says_so() -> None:
    table = report.target_table({}, _figures(90, 3, 3, [1.0]))
    assert "| not measured | 90 MiB | yes |" in table
