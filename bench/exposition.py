"""Exposition: what keeping fragments as gzip members costs and saves, in this process.

    python -m bench.exposition [--size 10000] [--repeat 5] [--json PATH] [--checkout PATH]

The simulator (its own process, no added latency) serves `--size` Droplets and as many volumes,
with every other resource in proportion, as bench/performance.py's fleet; every collector that
is on by default polls it once, in this process, as the poller does. Then, with the exporter of
this checkout (or of `--checkout PATH`: its `exporter` package is imported instead, so the same
bench measures the code before a change):

- **Encode**: CPU seconds to encode (and, where fragments are kept as gzip members, compress)
  every collector's fragment from nothing, and the Droplet collector's alone; then the Droplet
  fragment again after one Droplet changed its status, given the previous fragment when the
  code takes one (only the families that changed are compressed again).
- **Render**: CPU seconds of the render worker's whole job (joining and every compression the
  data part needs) from nothing, after a Droplet change (Droplet fragment and costs new, the
  rest reused), and for costs only (5 minutes later).
- **Memory**: bytes held (tracemalloc, Python and raw allocations, so zlib's too) by all the
  fragments, and in addition by the rendered data part (the served bytes in both formats).
- **Scrapes**: CPU seconds to produce one whole body, as the HTTP handler iterates it, written
  into a sink that drops it: gzip and plain, text format; plus the largest piece a plain
  scrape holds at a time, and the body sizes (gzip: several members, or one stream before).
- **Served**: p50 and p99 of /metrics from the exporter's HTTP server in this process serving
  that data part, scraped by wrk (1 and 20 keep-alive connections, plain and gzip, `--seconds`
  each; Python client processes when wrk is missing).
- **Threshold** (only for the members code): for a few values of PACK_BYTES, the gzip body
  size and the CPU of a whole encode + render, to choose the length below which a family's
  lines stay plain.

Times are CPU seconds (time.process_time) medians of `--repeat` runs: other work on the machine
disturbs them much less than wall time.
"""

from __future__ import annotations

import sys


def _checkout_first() -> str | None:
    """With --checkout PATH, import that checkout's `exporter` before anything else does."""
    if "--checkout" not in sys.argv:
        return None
    path = sys.argv[sys.argv.index("--checkout") + 1]
    sys.path.insert(0, path)
    import exporter  # noqa: PLC0415  # the checkout's, before anything imports this one's

    sys.path.remove(path)
    if not str(exporter.__file__).startswith(path):
        raise SystemExit(f"--checkout {path}: imported exporter from {exporter.__file__} instead")
    return path


CHECKOUT = _checkout_first()

import argparse  # noqa: E402  # after the checkout's exporter is chosen
import asyncio  # noqa: E402
import dataclasses  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import zlib  # noqa: E402
from collections.abc import Callable, Iterable  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from bench.common import SimulatorProcess, print_table  # noqa: E402
from bench.performance import ACCOUNT, load_matrix, poll_collector, python_load, wrk  # noqa: E402
from exporter import __version__, exposition  # noqa: E402
from exporter.api import DigitalOceanClient  # noqa: E402
from exporter.budget import RequestBudget  # noqa: E402
from exporter.clock import SystemClock  # noqa: E402
from exporter.collectors import COLLECTORS, collector_table  # noqa: E402
from exporter.costs import cost_families  # noqa: E402
from exporter.pricing import load_price_table  # noqa: E402
from exporter.server import MetricsServer, ServerApp  # noqa: E402
from exporter.snapshot import Snapshot  # noqa: E402

MEMBERS = hasattr(exposition, "PackedFragment")  # the code that keeps compressed pieces
MIB = 1024 * 1024


class _Quiet:
    def observe(self, account: str, endpoint: str, code: str, seconds: float) -> None:
        pass


async def poll_fleet(url: str, token: str) -> dict[str, Any]:
    """Every collector on by default, polled once as the poller does (inputs included)."""
    clock = SystemClock()
    client = DigitalOceanClient(api_url=url, auth_url=url, timeout=120, user_agent="bench",
                                observer=_Quiet(), clock=clock)
    api = client.account(ACCOUNT, lambda: token, RequestBudget(10**6, clock, per_minute=10**9))
    data: dict[str, Any] = {}
    try:
        for collector in COLLECTORS:
            if collector.enabled_by_default:
                data[collector.name] = (await poll_collector(api, collector, data)).data
    finally:
        await client.aclose()
    return data


def encode(name: str, value: Any, previous: Any = None) -> Any:
    collector = collector_table()[name]
    if MEMBERS and previous is not None:
        return exposition.encode_collector(ACCOUNT, collector, value, previous)
    return exposition.encode_collector(ACCOUNT, collector, value)


def snapshots(fragments: dict[str, Any], data: dict[str, Any], now: float
              ) -> list[tuple[str, str, Snapshot]]:
    return [(ACCOUNT, name, Snapshot(data[name], now, None, now, 0.0, fragment))
            for name, fragment in fragments.items()]


def render(renderer: Any, fresh: list[tuple[str, str, Snapshot]], now: float) -> Any:
    """What the daemon's render worker does, for either code."""
    if MEMBERS:
        return renderer.render_part(fresh, now)
    return exposition.DataPart.from_chunks(renderer.render_chunks(fresh, now))


def body(part: Any, gzip: bool) -> Iterable[bytes]:
    """The text-format body a scrape writes, for either code."""
    cache = exposition.ExpositionCache()
    cache.set_data(part)
    cache.set_self(b"# self part\n" * 400, b"# self part\n" * 400 + b"# EOF\n")
    parts: Iterable[bytes] = cache.current.body(False, gzip)
    return parts


def cpu(work: Callable[[], object], repeat: int) -> tuple[float, Any]:
    """Median CPU seconds of `work` and its last result."""
    times, result = [], None
    for _ in range(repeat):
        result = None
        gc.collect()
        started = time.process_time()
        result = work()
        times.append(time.process_time() - started)
    return statistics.median(times), result


def held(make: Callable[[], object]) -> tuple[int, Any]:
    """Bytes still allocated after `make()` (what its result holds), traced by tracemalloc."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    result = make()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before, result


def scrape(part: Any, gzip: bool) -> tuple[int, int]:
    """(body bytes, largest piece) of one scrape written into a sink."""
    length = largest = 0
    for piece in body(part, gzip):
        length += len(piece)
        largest = max(largest, len(piece))
    return length, largest


def changed_droplets(droplets: tuple[Any, ...]) -> tuple[Any, ...]:
    """The Droplet records with one Droplet's status changed (a new records object)."""
    first = droplets[0]
    status = "off" if getattr(first, "status", "active") == "active" else "active"
    try:
        changed = dataclasses.replace(first, status=status)
    except (TypeError, ValueError):
        changed = first  # a record type without `status`: the same data again
    return (changed, *droplets[1:])


def measure(data: dict[str, Any], repeat: int) -> dict[str, Any]:
    now = time.time()
    derived = (cost_families(load_price_table()),)
    out: dict[str, Any] = {"code": "deflate pieces" if MEMBERS else "plain + one gzip stream"}

    out["encode_all_cpu_s"], fragments = cpu(
        lambda: {n: encode(n, v) for n, v in data.items()}, repeat)
    out["encode_droplets_cpu_s"], _ = cpu(lambda: encode("droplets", data["droplets"]), repeat)
    changed = changed_droplets(data["droplets"])
    out["encode_droplets_changed_cpu_s"], changed_fragment = cpu(
        lambda: encode("droplets", changed, fragments["droplets"]), repeat)

    out["fragments_held_mib"] = held(
        lambda: {n: encode(n, v) for n, v in data.items()})[0] / MIB
    fresh = snapshots(fragments, data, now)

    def whole() -> Any:
        return render(exposition.DataRenderer(COLLECTORS, derived), fresh, now)

    out["render_whole_cpu_s"], part = cpu(whole, repeat)
    out["data_part_held_mib"] = held(whole)[0] / MIB

    after = snapshots({**fragments, "droplets": changed_fragment},
                      {**data, "droplets": changed}, now)
    droplet_times, cost_times = [], []
    for _ in range(repeat):
        renderer = exposition.DataRenderer(COLLECTORS, derived)
        render(renderer, fresh, now)
        gc.collect()
        started = time.process_time()
        render(renderer, after, now)
        droplet_times.append(time.process_time() - started)
        gc.collect()
        started = time.process_time()
        render(renderer, after, now + 300)
        cost_times.append(time.process_time() - started)
    out["render_droplet_change_cpu_s"] = statistics.median(droplet_times)
    out["render_costs_only_cpu_s"] = statistics.median(cost_times)

    for gzip in (True, False):
        kind = "gzip" if gzip else "plain"
        out[f"scrape_{kind}_cpu_s"], (length, largest) = cpu(partial(scrape, part, gzip), repeat)
        out[f"scrape_{kind}_bytes"] = length
        out[f"scrape_{kind}_largest_piece_bytes"] = largest
    out["part"] = part
    plain_body = b"".join(body(part, False))
    one_stream = zlib.compress(plain_body, 6, 31)
    out["one_gzip_stream_bytes"] = len(one_stream)
    return out


def served(part: Any, seconds: float) -> list[dict[str, Any]]:
    """Scrape latency of the exporter's HTTP server in this process serving `part` (wrk, its
    own process, when installed; else Python client processes), 1 and 20 keep-alive
    connections, plain and gzip."""
    cache = exposition.ExpositionCache()
    cache.set_data(part)
    cache.set_self(b"# self part\n" * 400, b"# self part\n" * 400 + b"# EOF\n")
    server = MetricsServer("127.0.0.1", 0, ServerApp(cache, "/metrics", lambda: (True, []),
                                                     __version__))
    server.start()
    url = f"http://127.0.0.1:{server.port}/metrics"
    try:
        results = load_matrix(wrk if shutil.which("wrk") else python_load, url, url, seconds)
    finally:
        server.stop()
    return [{"connections": c, "gzip": g, "p50_ms": r.p50 * 1000, "p99_ms": r.p99 * 1000,
             "scrapes_per_s": r.rate, "errors": r.errors} for (c, g), r in results.items()]


def threshold_rows(data: dict[str, Any], thresholds: list[int]) -> list[dict[str, Any]]:
    """Gzip body size and CPU of a whole encode + render for each PACK_BYTES."""
    now = time.time()
    derived = (cost_families(load_price_table()),)
    rows = []
    default = exposition.PACK_BYTES
    try:
        for threshold in thresholds:
            exposition.PACK_BYTES = threshold

            def everything() -> Any:
                fragments = {n: encode(n, v) for n, v in data.items()}
                renderer = exposition.DataRenderer(COLLECTORS, derived)
                return render(renderer, snapshots(fragments, data, now), now)

            seconds, part = cpu(everything, 1)
            members = sum(isinstance(s, exposition.Deflated) for s in part.text)
            rows.append({"pack_bytes": threshold, "gzip_body_bytes": scrape(part, True)[0],
                         "members": members, "runs": len(part.text) - members,
                         "encode_render_cpu_s": seconds})
    finally:
        exposition.PACK_BYTES = default
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--checkout", help="measure the exporter package of this checkout")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="of each scrape load (0: none)")
    parser.add_argument("--thresholds", default="1024,2048,4096,8192,16384,65536")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-exposition-") as tmp:
        simulator = SimulatorProcess(Path(tmp), args.size, volumes=args.size)
        try:
            token = simulator.token_file.read_text().strip()
            data = asyncio.run(poll_fleet(simulator.url, token))
        finally:
            simulator.stop()
    print(f"{args.size} Droplets + {args.size} volumes polled; exporter from "
          f"{CHECKOUT or 'this checkout'} ({'members' if MEMBERS else 'before members'})",
          flush=True)
    result = measure(data, args.repeat)
    part = result.pop("part")
    if args.seconds > 0:
        result["scrapes"] = served(part, args.seconds)
    result["size"] = args.size
    result["checkout"] = CHECKOUT or str(Path(__file__).resolve().parents[1])
    ms = {k: f"{v * 1000:.1f} ms" for k, v in result.items() if k.endswith("_cpu_s")}
    print_table(f"CPU (median of {args.repeat})", ("what", "CPU"), sorted(ms.items()))
    print_table("Memory and sizes", ("what", "value"), [
        ("fragments held", f"{result['fragments_held_mib']:.1f} MiB"),
        ("data part held beyond the fragments", f"{result['data_part_held_mib']:.1f} MiB"),
        ("plain body", f"{result['scrape_plain_bytes'] / MIB:.2f} MiB"),
        ("gzip body as served", f"{result['scrape_gzip_bytes'] / MIB:.3f} MiB"),
        ("the plain body as one gzip stream", f"{result['one_gzip_stream_bytes'] / MIB:.3f} MiB"),
        ("largest piece of a plain scrape", f"{result['scrape_plain_largest_piece_bytes']} B"),
    ])
    if "scrapes" in result:
        print_table("Scrapes of the server in this process", (
            "connections", "encoding", "p50", "p99", "scrapes/s", "errors"), [
            (r["connections"], "gzip" if r["gzip"] else "plain", f"{r['p50_ms']:.1f} ms",
             f"{r['p99_ms']:.1f} ms", f"{r['scrapes_per_s']:.0f}", r["errors"])
            for r in result["scrapes"]])
    if MEMBERS:
        rows = threshold_rows(data, [int(t) for t in args.thresholds.split(",")])
        result["thresholds"] = rows
        print_table("PACK_BYTES: below it a family's lines stay plain", (
            "PACK_BYTES", "gzip body", "members", "runs", "encode + render CPU"), [
            (r["pack_bytes"], f"{r['gzip_body_bytes'] / MIB:.3f} MiB", r["members"], r["runs"],
             f"{r['encode_render_cpu_s'] * 1000:.0f} ms") for r in rows])
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
