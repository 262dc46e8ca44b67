"""Rendering: every family, once per change, into the cached bytes `/metrics` serves.

The exposition has two parts. The *data part* is made of fragments: each poll encodes its own
samples (`encode_collector`, inside the poll's error boundary, off the event loop), so a changed
account never re-renders the others and bad data never reaches the renderer, which only joins
the fresh snapshots' fragments and adds the derived families (costs) per account, each account
in a boundary of its own. The *self part*
(the exporter's own metrics, from a prometheus_client registry) is small and re-rendered about once
a second. Both formats share the data part: its lines are valid in the Prometheus text format and
in OpenMetrics alike. Gzip is prepared ahead too: the data part is compressed once with a sync
flush, and each self part is appended from a copy of that compressor, giving one valid gzip stream
without recompressing megabytes every second.

A scrape therefore only picks a ready-made `Exposition` and writes its byte strings.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from exporter.collectors.base import Collector, DerivedFamilies, Family, Sample
from exporter.snapshot import Snapshot

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
GZIP_LEVEL = 6
_GZIP_WBITS = 31  # zlib with a gzip header and trailer


def escape_label_value(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value


class SampleError(ValueError):
    """A sample that cannot be written: a non-finite or unrepresentable value, or a wrong number
    of label values. Raised where samples are made, inside the poll that made them."""


# Integers beyond this are written as floats: Prometheus parses values as float64, and a
# 400-digit integer makes the whole page unparseable.
_EXACT_INT = 2**53


def format_value(value: float) -> str:
    """The sample value as Prometheus reads it; raises SampleError for NaN, infinities and numbers
    beyond float64 (a poll's data never means them, so they are bad data, not values)."""
    if isinstance(value, int):
        if -_EXACT_INT <= value <= _EXACT_INT:
            return str(int(value))  # int(): a bool would print as True
        try:
            return _finite(float(value))
        except OverflowError:
            raise SampleError(f"integer of {value.bit_length()} bits is beyond float64") from None
    return _finite(float(value))


def _finite(number: float) -> str:
    if not math.isfinite(number):
        raise SampleError(f"value {number} is not a finite number")
    return repr(number)


def _family_header(family: Family, openmetrics: bool = False) -> str:
    """HELP and TYPE of `family`. OpenMetrics names a counter family without its `_total`
    (its samples keep it); the text format names it with."""
    help_text = family.help.replace("\\", "\\\\").replace("\n", "\\n")
    name = family.name
    if openmetrics and family.kind == "counter":
        name = name.removesuffix("_total")
    return f"# HELP {name} {help_text}\n# TYPE {name} {family.kind}\n"


Fragment = Mapping[str, bytes]
"""One account's encoded sample lines of one collector (or derived set), by family name."""


def encode_fragment(
    account: str, source: str, families: Sequence[Family], samples: Iterable[Sample]
) -> dict[str, bytes]:
    """Samples encoded as exposition lines, grouped by family, `account` first on every line
    (a family that is not `per_account` has no `account` label).

    Every check happens here, where the samples are made: a wrong label count or a value that
    cannot be written raises SampleError naming the source, the family and the object (the first
    label value, the object's id). Text is UTF-8; a lone surrogate in an API string is replaced,
    never allowed to fail the whole page."""
    prefix = {f.name: (_line_start(f, account), f.labels, f.per_account) for f in families}
    chunks: dict[str, list[str]] = {f.name: [] for f in families}
    for name, values, value in samples:
        if name not in prefix:
            raise SampleError(f"{source}: {name} is not one of its families")
        start, labels, per_account = prefix[name]
        if len(values) != len(labels):
            raise SampleError(
                f"{source}: {name}{_which(labels, values)} got {len(values)} label values "
                f"for {labels}"
            )
        try:
            written = format_value(value)
        except SampleError as exc:
            raise SampleError(f"{source}: {name}{_which(labels, values)}: {exc}") from None
        pairs = "".join(
            f',{label}="{escape_label_value(v)}"' for label, v in zip(labels, values, strict=True)
        )
        if per_account:
            chunks[name].append(f"{start}{pairs}}} {written}\n")
        else:  # no account label: no comma before the first pair, no braces without one
            chunks[name].append(f"{start}{{{pairs[1:]}}} {written}\n" if pairs
                                else f"{start} {written}\n")
    return {name: "".join(lines).encode("utf-8", "replace")
            for name, lines in chunks.items() if lines}


def _line_start(family: Family, account: str) -> str:
    """What every line of `family` starts with: its name, then `{account="..."` unless the
    family is not per account."""
    if family.per_account:
        return family.name + '{account="' + escape_label_value(account) + '"'
    return family.name


def _which(labels: Sequence[str], values: Sequence[str]) -> str:
    """The object a bad sample belongs to, by its first (id) label, for error messages."""
    if labels and values:
        return f" of {labels[0]}={str(values[0])[:80]!r}"
    return ""


# Pieces of the data part at least this long are served as they are; shorter ones (headers,
# small collectors) are joined with their neighbours, so a scrape makes few writes.
COALESCE_BYTES = 64 * 1024


class _Chunks:
    """The data part as a few byte strings: the cached fragments themselves, by reference, with
    the small pieces between them joined. Never one joined copy of the whole exposition."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self._small: list[bytes] = []
        # the OpenMetrics twin: the same pieces but for counter headers (see _family_header)
        self.om_chunks: list[bytes] = []
        self._om_small: list[bytes] = []
        self.differ = False

    def add(self, piece: bytes, openmetrics: bytes | None = None) -> None:
        """A piece of both formats, or of the text format with its OpenMetrics twin."""
        om_piece = piece if openmetrics is None else openmetrics
        self.differ = self.differ or om_piece != piece
        if len(piece) >= COALESCE_BYTES:
            self._flush()
            self.chunks.append(piece)
            self.om_chunks.append(om_piece)
        else:
            self._small.append(piece)
            self._om_small.append(om_piece)

    def _flush(self) -> None:
        if self._small:
            self.chunks.append(b"".join(self._small))
            self.om_chunks.append(b"".join(self._om_small))
            self._small, self._om_small = [], []

    def done(self) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
        """(text chunks, OpenMetrics chunks): the same tuple when no counter made them differ."""
        self._flush()
        text = tuple(self.chunks)
        return text, tuple(self.om_chunks) if self.differ else text


def encode_collector(account: str, collector: Collector[Any], data: Any) -> dict[str, bytes]:
    """One poll's fragment: `collector.samples(data)` encoded for `account` (poll time, inside
    the poll's error boundary; see Poller.poll_once)."""
    return encode_fragment(account, collector.name, collector.families, collector.samples(data))


@dataclass(frozen=True)
class _DerivedFragment:
    """One account's derived lines, the clock's period and the inputs they were computed from
    (compared by identity) to know when to compute them again."""

    period: int
    inputs: tuple[Any, ...]
    lines: Fragment

    def made_from(self, period: int, inputs: tuple[Any, ...]) -> bool:
        return period == self.period and len(inputs) == len(self.inputs) and all(
            a is b for a, b in zip(inputs, self.inputs, strict=True)
        )


class DataRenderer:
    """Joins the data part from the fragments each poll encoded, and computes the derived
    families (costs) of each account inside a boundary of their own.

    Collector fragments are made at poll time (`encode_collector`), so joining them cannot fail
    on data. A derived set that fails for one account leaves out that account's derived series;
    `derived_errors` then says why (by (account, derived name)) until it succeeds again.

    Not thread-safe: one render at a time (the daemon runs renders on a single worker thread).
    """

    def __init__(
        self, collectors: Sequence[Collector[Any]], derived: Sequence[DerivedFamilies] = ()
    ) -> None:
        self._collectors = tuple(collectors)
        self._derived = tuple(derived)
        self._fragments: dict[tuple[str, str], _DerivedFragment] = {}
        self._headers: dict[str, bytes] = {}
        # (account, derived name) -> None when the last computation worked, else why it failed;
        # replaced whole by each render, so readers on other threads see one render's state
        self.derived_status: Mapping[tuple[str, str], str | None] = {}

    def time_bucket(self, now: float) -> int:
        """Changes when derived families are due again; 0 when there are none."""
        if not self._derived:
            return 0
        return int(now // min(d.period for d in self._derived))

    def render(self, fresh: Iterable[tuple[str, str, Snapshot]], now: float = 0.0) -> bytes:
        """`fresh` holds (account, collector, snapshot) for every snapshot to show."""
        return b"".join(self.render_chunks(fresh, now))

    def render_chunks(
        self, fresh: Iterable[tuple[str, str, Snapshot]], now: float = 0.0
    ) -> tuple[bytes, ...]:
        """The data part `render` returns, as the byte strings that make it up."""
        return self.render_parts(fresh, now)[0]

    def render_parts(
        self, fresh: Iterable[tuple[str, str, Snapshot]], now: float = 0.0
    ) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
        """The data part in the text format and in OpenMetrics, as the byte strings that make
        them up (the same tuple unless a counter family's header differs)."""
        snapshots = {(a, c): s for a, c, s in fresh}
        accounts = sorted({account for account, _ in snapshots})
        out = _Chunks()
        for collector in self._collectors:
            fragments = []
            for account in accounts:
                snapshot = snapshots.get((account, collector.name))
                if snapshot is not None and snapshot.fragment is not None:
                    fragments.append(snapshot.fragment)
            self._assemble(out, collector.families, fragments)
        used: set[tuple[str, str]] = set()
        status: dict[tuple[str, str], str | None] = {}
        for derived in self._derived:
            fragments = []
            for account in accounts:
                inputs = {
                    name: snapshots[(account, name)].data
                    for name in derived.inputs
                    if (account, name) in snapshots
                }
                if not inputs:
                    continue
                key = (account, derived.name)
                used.add(key)
                try:
                    fragments.append(self._derived_fragment(key, derived, inputs, now).lines)
                    status[key] = None
                except Exception as exc:  # the derived set's own boundary: bad data, or a bug
                    self._fragments.pop(key, None)
                    status[key] = f"{type(exc).__name__}: {exc}"
            self._assemble(out, derived.families, fragments)
        for key in set(self._fragments) - used:
            del self._fragments[key]
        self.derived_status = status
        return out.done()

    def _assemble(
        self, out: _Chunks, families: Sequence[Family], fragments: list[Fragment]
    ) -> None:
        """Each family once: its header, then every account's lines of it (only the first
        account's, in name order, for a family that is not per account: its lines carry no
        `account`, so a second copy would repeat every series)."""
        for family in families:
            parts = [f[family.name] for f in fragments if family.name in f]
            if not family.per_account:
                parts = parts[:1]
            if parts:
                header = self._headers.get(family.name)
                if header is None:
                    header = self._headers[family.name] = _family_header(family).encode()
                if family.kind == "counter":
                    out.add(header, _family_header(family, openmetrics=True).encode())
                else:
                    out.add(header)
                for part in parts:
                    out.add(part)

    def _derived_fragment(
        self,
        key: tuple[str, str],
        derived: DerivedFamilies,
        inputs: Mapping[str, Any],
        now: float,
    ) -> _DerivedFragment:
        period = int(now // derived.period)
        used = tuple(inputs.get(n) for n in derived.inputs)
        cached = self._fragments.get(key)
        if cached is not None and cached.made_from(period, used):
            return cached
        lines = encode_fragment(key[0], derived.name, derived.families, derived.samples(inputs, now))
        fragment = _DerivedFragment(period, used, lines)
        self._fragments[key] = fragment
        return fragment


def render_registry(registry: CollectorRegistry) -> tuple[bytes, bytes]:
    """The self part in both formats; the OpenMetrics one ends the exposition with `# EOF`."""
    openmetrics: bytes = generate_openmetrics(registry)  # type: ignore[no-untyped-call]  # untyped upstream
    return generate_latest(registry), openmetrics


@dataclass(frozen=True)
class DataPart:
    """The rendered data part, with a gzip compressor primed on it for appending a self part.

    `chunks` are written back to back; they are the renderer's cached fragments, not a copy."""

    chunks: tuple[bytes, ...]
    gzip_prefix: bytes
    _compressor: Any = field(repr=False)  # zlib.Compress after a sync flush; only ever copied
    # The OpenMetrics data part when it differs (a counter family's header); None: the same.
    openmetrics_part: DataPart | None = None

    @property
    def plain(self) -> bytes:
        """The whole data part as one byte string (a copy: for tests and tools, not scrapes)."""
        return b"".join(self.chunks)

    @property
    def openmetrics(self) -> DataPart:
        return self if self.openmetrics_part is None else self.openmetrics_part

    @classmethod
    def build(cls, plain: bytes) -> DataPart:
        return cls.from_chunks((plain,))

    @classmethod
    def from_chunks(
        cls, chunks: Sequence[bytes], openmetrics: Sequence[bytes] | None = None
    ) -> DataPart:
        """The data part of `chunks`, with its OpenMetrics twin where that differs."""
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
        compressed = [compressor.compress(chunk) for chunk in chunks]
        compressed.append(compressor.flush(zlib.Z_SYNC_FLUSH))
        twin = None
        if openmetrics is not None and tuple(openmetrics) != tuple(chunks):
            twin = cls.from_chunks(openmetrics)
        return cls(tuple(chunks), b"".join(compressed), compressor, twin)

    def gzip_tail(self, suffix: bytes) -> bytes:
        """The rest of a gzip stream that starts with `gzip_prefix` and ends after `suffix`."""
        compressor = self._compressor.copy()
        return bytes(compressor.compress(suffix) + compressor.flush())


@dataclass(frozen=True)
class Exposition:
    """What a scrape sends, already rendered: byte strings written back to back."""

    text: tuple[bytes, ...]
    openmetrics: tuple[bytes, ...]
    text_gzip: tuple[bytes, ...]
    openmetrics_gzip: tuple[bytes, ...]

    @classmethod
    def compose(cls, data: DataPart, self_text: bytes, self_openmetrics: bytes) -> Exposition:
        om = data.openmetrics
        return cls(
            text=(*data.chunks, self_text),
            openmetrics=(*om.chunks, self_openmetrics),
            text_gzip=(data.gzip_prefix, data.gzip_tail(self_text)),
            openmetrics_gzip=(om.gzip_prefix, om.gzip_tail(self_openmetrics)),
        )

    def body(self, openmetrics: bool, gzip: bool) -> tuple[bytes, ...]:
        if openmetrics:
            return self.openmetrics_gzip if gzip else self.openmetrics
        return self.text_gzip if gzip else self.text


class ExpositionCache:
    """The current Exposition. Written by the event loop, read by HTTP threads without locks:
    replacing one attribute is atomic, and an Exposition never changes once built."""

    def __init__(self) -> None:
        self._data = DataPart.build(b"")
        self._self_text = b""
        self._self_openmetrics = b"# EOF\n"
        self.current = Exposition.compose(self._data, self._self_text, self._self_openmetrics)

    def set_data(self, data: DataPart) -> None:
        self._data = data
        self.current = Exposition.compose(data, self._self_text, self._self_openmetrics)

    def set_self(self, text: bytes, openmetrics: bytes) -> bool:
        """Swap in a new self part; False (and nothing done) when it did not change."""
        if text == self._self_text and openmetrics == self._self_openmetrics:
            return False
        self._self_text, self._self_openmetrics = text, openmetrics
        self.current = Exposition.compose(self._data, text, openmetrics)
        return True
