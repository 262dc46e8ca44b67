"""Decoding: the standard library's json against orjson and msgspec, on the real collector path.

    python -m bench.decoding [--droplets 10000] [--volumes 10000] [--repeats 5] [--json PATH]

The simulator (its own process) serves N Droplets and N volumes with no added latency. In this
process, the exporter's own client (`DigitalOceanClient.account`, the request budget's pacing
lifted) polls the droplets and volumes collectors as the poller does
(`collector.collect(reader, PollContext(...))`), once per variant per round, the variants
interleaved round by round so that a busy moment of the (shared) machine hits them all:

- `stdlib`: before typed decoding: `json.loads` in `exporter.api._loads`, every page a dict
  parsed by the collectors' dict parsers (the typed decoding below switched off);
- `orjson`: as `stdlib`, with `orjson.loads` in `_loads` (skipped when orjson is not installed);
- `msgspec`: as `stdlib`, with `msgspec.json.decode` (untyped: the same dicts) in `_loads`;
- `typed`: the exporter as it is (exporter/collectors/typed.py): each Droplet and volume page
  decoded by msgspec straight into Structs holding only the fields the collectors read, then
  made into the same `DropletRecord`/`VolumeRecord` dataclasses (skipped for a checkout
  without it);
- `typed+struct`: the Droplet records as frozen `gc=False` msgspec Structs instead of
  dataclasses (bench/typed_droplets.py, a prototype; volumes as in `typed`).

Measured per variant: **CPU seconds per poll** (`time.process_time()` of this process only, so
the simulator's work is not counted; median of `--repeats` rounds, after one warm-up round),
**bytes per record** (tracemalloc: what the records of one poll hold, i.e. the traced memory
freed when the poll's result is dropped, over the number of records; interned strings shared
with nothing else count with the record), the **transient peak** of one poll (tracemalloc's
peak over the memory before it: pages in flight, decoded JSON), and a **cProfile breakdown**
of one Droplet poll by where the time goes (decoding, record parsing, HTTP, asyncio, other;
profiled seconds are inflated by the profiler, the shares are what matters). Every variant's
records are checked equal, field by field, to the stdlib variant's.

With `--latency SECONDS` every API request waits that long first (the simulator's latency
fault), and the wall time of each poll is reported in round trips: over the median time of one
200-Droplet page alone (issue 15 asks for a Droplet poll within 3 round trips at 100 ms).

`--checkout PATH` runs the exporter package of another checkout (this bench and its prototype
stay this checkout's).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import gc
import importlib
import importlib.util
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

import exporter
from bench import typed_droplets
from bench.common import SimulatorProcess, print_table
from exporter import api as api_module
from exporter.api import DigitalOceanClient
from exporter.budget import RequestBudget
from exporter.clock import SystemClock
from exporter.collectors import collector_table
from exporter.collectors.base import PollContext

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "production"
VARIANTS = ("stdlib", "orjson", "msgspec", "typed", "typed+struct")


class _Quiet:
    def observe(self, account: str, endpoint: str, code: str, seconds: float) -> None:
        pass


def typed_pages() -> Any:
    """exporter.collectors.typed.TypedPages, or None in a checkout without typed decoding."""
    if importlib.util.find_spec("exporter.collectors.typed") is None:
        return None
    return importlib.import_module("exporter.collectors.typed").TypedPages


def available(name: str) -> bool:
    if name == "orjson":
        return importlib.util.find_spec("orjson") is not None
    return not name.startswith("typed") or typed_pages() is not None


def _not_typed(self: Any, content: bytes) -> None:
    return None


@contextmanager
def variant(name: str) -> Iterator[dict[str, Any]]:
    """Patches the client for one variant; yields the collectors to poll, by name."""
    table = collector_table()
    collectors: dict[str, Any] = {"droplets": table["droplets"], "volumes": table["volumes"]}
    pages = typed_pages()
    loads, json_object = api_module._loads, api_module._json_object
    decode = pages.decode if pages is not None else None
    try:
        if name == "orjson":
            api_module._loads = importlib.import_module("orjson").loads
        elif name == "msgspec":
            api_module._loads = msgspec.json.decode  # type: ignore[assignment]
        if not name.startswith("typed") and pages is not None:
            pages.decode = _not_typed  # every page decoded as plain JSON, as before
        if name == "typed+struct":
            api_module._json_object = typed_droplets.typed_json_object  # type: ignore[assignment]
            collectors["droplets"] = dataclasses.replace(
                table["droplets"],
                fetch_with=typed_droplets.fetch_selected(typed_droplets.DropletStruct))
        yield collectors
    finally:
        api_module._loads, api_module._json_object = loads, json_object
        if pages is not None:
            pages.decode = decode


async def poll(api: Any, collector: Any) -> tuple[float, float, Any]:
    """(CPU seconds of this process, wall seconds, data) of one poll as the poller makes it."""
    context = PollContext(metrics=collector.chosen_metrics)
    gc.collect()
    cpu, started = time.process_time(), time.perf_counter()
    data = await collector.collect(api, context)
    return time.process_time() - cpu, time.perf_counter() - started, data


async def settle() -> None:
    """Lets the loop run the callbacks the poll left (a finished gather's done-callbacks hold
    its results until they run; with latency, pages still close), then collects garbage."""
    for _ in range(3):
        await asyncio.sleep(0)
    await asyncio.sleep(0.5)  # longer than any latency: responses closed, connections pooled
    gc.collect()


async def held_bytes(api: Any, collector: Any) -> tuple[int, int, int]:
    """(bytes the records of one poll hold, the poll's transient peak in bytes, records)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        _, _, data = await poll(api, collector)
        await settle()
        held, peak = tracemalloc.get_traced_memory()
        count = len(data)
        del data
        await settle()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return held - after, peak - before, count


CATEGORIES = (  # first match wins: (category, substrings of "file:function")
    ("decode", ("json", "msgspec", "orjson", "scan_once", "typed_json_object")),
    ("parse records", ("exporter/collectors", "typed_droplets", "fromisoformat", "intern",
                       "timestamp", "RepeatFilter", "__init__", "<genexpr>", "isinstance")),
    ("http", ("httpx", "httpcore", "h11", "anyio", "ssl", "socket", "zlib", "decompress")),
    ("asyncio", ("asyncio", "selectors", "select", "epoll")),
)


def profile_breakdown(profiler: cProfile.Profile) -> tuple[dict[str, float], list[str]]:
    stats = pstats.Stats(profiler)
    by_category: dict[str, float] = {}
    rows = []
    for (filename, _, function), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{filename}:{function}"
        category = next((name for name, marks in CATEGORIES if any(m in where for m in marks)),
                        "other")
        by_category[category] = by_category.get(category, 0.0) + tottime
        rows.append((tottime, f"{Path(filename).name}:{function}" if filename != "~" else function))
    rows.sort(reverse=True)
    return by_category, [f"{seconds:.3f} s {what}" for seconds, what in rows[:6]]


async def profiled(api: Any, collector: Any) -> dict[str, Any]:
    """One Droplet poll under cProfile: the profiled seconds, the share of each category, and
    the top functions by own time."""
    profiler = cProfile.Profile()
    gc.collect()
    profiler.enable()
    await collector.collect(api, PollContext())
    profiler.disable()
    categories, top = profile_breakdown(profiler)
    total = sum(categories.values())
    row: dict[str, Any] = {"droplets_profiled_s": round(total, 3), "droplets_profile_top": top}
    for category, seconds in categories.items():
        row[f"droplets_profile_{category.replace(' ', '_')}_share"] = round(seconds / total, 3)
    return row


def record_rows(records: Any) -> list[tuple[Any, ...]]:
    return [msgspec.structs.astuple(r) if isinstance(r, msgspec.Struct) else dataclasses.astuple(r)
            for r in records]


async def timed_rounds(api: Any, variants: list[str], repeats: int
                       ) -> tuple[dict[str, list[tuple[float, float]]], dict[str, bool]]:
    """(CPU and wall seconds of each poll after the warm-up round, by "variant collector";
    whether the warm-up round's records equal the stdlib variant's, by the same key)."""
    timed: dict[str, list[tuple[float, float]]] = {}
    reference: dict[str, list[tuple[Any, ...]]] = {}
    same: dict[str, bool] = {}
    for round_number in range(repeats + 1):  # round 0 warms up (connections, caches)
        for name in variants:
            with variant(name) as collectors:
                for what, collector in collectors.items():
                    cpu, wall, data = await poll(api, collector)
                    if round_number == 0:
                        rows = record_rows(data)
                        reference.setdefault(what, rows)  # stdlib comes first
                        same[f"{name} {what}"] = rows == reference[what]
                    else:
                        timed.setdefault(f"{name} {what}", []).append((cpu, wall))
                    del data
    return timed, same


async def single_page(api: Any) -> float:
    """Median seconds of one 200-Droplet page alone: one round trip."""
    single = []
    for _ in range(5):
        started = time.perf_counter()
        await api.get("/v2/droplets", params={"per_page": "200", "page": "1"})
        single.append(time.perf_counter() - started)
    return statistics.median(single)


async def measure(url: str, token: str, repeats: int, profile: bool) -> dict[str, Any]:
    variants = [name for name in VARIANTS if available(name)]
    clock = SystemClock()
    client = DigitalOceanClient(api_url=url, auth_url=url, timeout=120, user_agent="bench",
                                observer=_Quiet(), clock=clock)
    api = client.account(ACCOUNT, lambda: token, RequestBudget(10**9, clock, per_minute=10**9))
    results: dict[str, Any] = {"variants": []}
    try:
        timed, same = await timed_rounds(api, variants, repeats)
        results["single_page_s"] = await single_page(api)
        for name in variants:
            row: dict[str, Any] = {"variant": name}
            with variant(name) as collectors:
                for what, collector in collectors.items():
                    cpu = [c for c, _ in timed[f"{name} {what}"]]
                    row[f"{what}_cpu_s"] = statistics.median(cpu)
                    row[f"{what}_cpu_min_s"] = min(cpu)
                    row[f"{what}_wall_s"] = statistics.median(w for _, w in timed[f"{name} {what}"])
                    row[f"{what}_round_trips"] = round(
                        row[f"{what}_wall_s"] / results["single_page_s"], 1)
                    held, peak, count = await held_bytes(api, collector)
                    row[f"{what}_records"] = count
                    row[f"{what}_bytes_per_record"] = round(held / count)
                    row[f"{what}_peak_mib"] = round(peak / 2**20, 1)
                    row[f"{what}_same_records"] = same[f"{name} {what}"]
                if profile:
                    row.update(await profiled(api, collectors["droplets"]))
            results["variants"].append(row)
    finally:
        await client.aclose()
    return results


def report(results: dict[str, Any]) -> None:
    rows = results["variants"]
    base = rows[0]
    print_table(
        f"CPU seconds per poll (median of {results['repeats']}), this process only; "
        f"{results['droplets']} Droplets, {results['volumes']} volumes",
        ("variant", "droplets CPU s", "x stdlib", "volumes CPU s", "x stdlib", "same records"),
        [(r["variant"], f"{r['droplets_cpu_s']:.3f}",
          f"{base['droplets_cpu_s'] / r['droplets_cpu_s']:.2f}", f"{r['volumes_cpu_s']:.3f}",
          f"{base['volumes_cpu_s'] / r['volumes_cpu_s']:.2f}",
          "yes" if r["droplets_same_records"] and r["volumes_same_records"] else "NO")
         for r in rows])
    print_table(
        f"Wall time per poll (median), in round trips of one 200-Droplet page "
        f"({results['single_page_s'] * 1000:.0f} ms; API latency {results['latency_s']:g} s)",
        ("variant", "droplets wall s", "round trips", "volumes wall s", "round trips"),
        [(r["variant"], f"{r['droplets_wall_s']:.3f}", r["droplets_round_trips"],
          f"{r['volumes_wall_s']:.3f}", r["volumes_round_trips"]) for r in rows])
    print_table(
        "Memory (tracemalloc): bytes the kept records hold per record, and one poll's peak",
        ("variant", "droplet B/record", "vs stdlib", "volume B/record", "droplets peak MiB",
         "volumes peak MiB"),
        [(r["variant"], r["droplets_bytes_per_record"],
          f"{r['droplets_bytes_per_record'] / base['droplets_bytes_per_record'] - 1:+.0%}",
          r["volumes_bytes_per_record"], r["droplets_peak_mib"], r["volumes_peak_mib"])
         for r in rows])
    if "droplets_profiled_s" in base:
        categories = ("decode", "parse_records", "http", "asyncio", "other")
        print_table(
            "cProfile of one Droplet poll: share of the profiled time (tottime) by where it goes",
            ("variant", "profiled s", *categories),
            [(r["variant"], r["droplets_profiled_s"],
              *(f"{r.get(f'droplets_profile_{c}_share', 0):.0%}" for c in categories))
             for r in rows])
        for r in rows:
            print(f"\n{r['variant']}: top functions by own time")
            for line in r["droplets_profile_top"]:
                print(f"  {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--droplets", type=int, default=10_000)
    parser.add_argument("--volumes", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--latency", type=float, default=0.0, help="API latency per request, s")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--checkout", type=Path, help="run the exporter package of this checkout")
    args = parser.parse_args()
    if args.checkout is not None:
        # This process imports that checkout's exporter first, then this checkout's bench.
        argv = list(sys.argv[1:])
        index = argv.index("--checkout")
        del argv[index:index + 2]
        code = (f"import sys, runpy; sys.path.insert(0, {str(args.checkout)!r}); import exporter; "
                f"sys.path[0] = {str(ROOT)!r}; sys.argv = ['bench.decoding', *{argv!r}]; "
                "runpy.run_module('bench.decoding', run_name='__main__')")
        env = {**os.environ, "PYTHONPATH": str(args.checkout)}
        raise SystemExit(subprocess.call([sys.executable, "-c", code], env=env))

    with tempfile.TemporaryDirectory() as tmp:
        faults = [{"kind": "latency", "seconds": args.latency}] if args.latency else []
        simulator = SimulatorProcess(Path(tmp), args.droplets, faults, volumes=args.volumes)
        try:
            token = simulator.token_file.read_text().strip()
            results = asyncio.run(measure(simulator.url, token, args.repeats, not args.no_profile))
        finally:
            simulator.stop()
    results.update(droplets=args.droplets, volumes=args.volumes, repeats=args.repeats,
                   latency_s=args.latency,
                   exporter_from=str(Path(exporter.__file__).parent.parent))
    report(results)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
