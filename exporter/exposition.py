"""Rendering: every family, once per change, into the cached bytes `/metrics` serves.

The exposition has two parts. The *data part* is made of fragments: each poll encodes its own
samples (`encode_collector`, inside the poll's error boundary, off the event loop), so a changed
account never re-renders the others and bad data never reaches the renderer, which only joins
the fresh snapshots' fragments and adds the derived families (costs) per account, each account
in a boundary of its own. The *self part* (the exporter's own metrics, from a prometheus_client
registry) is small and re-rendered about once a second.

Only what is served is kept. Prometheus always asks for gzip, and a deflate stream can be
made of pieces compressed separately: each piece ends on a byte boundary (a sync flush, no final
block) and uses no bytes before it, so pieces back to back, then a final block, decode as one
stream. A fragment keeps each family's lines, when they are long, only as such a piece,
compressed by the poll that encoded them (and only when they changed), with their length and
CRC-32; the renderer joins family headers and short pieces into small runs, kept plain and
compressed, and combines the CRCs. A gzip scrape writes one gzip member: the header, the pieces
back to back, the self part's own piece (with the final block) and the trailer. (Several
members back to back would be simpler, but clients that read only the first member, httpx
among them, would lose the rest.) A plain scrape writes the runs and decompresses each big
piece on the fly, a bounded piece at a time: no copy of the whole exposition is ever held.

Both formats share the data part: its lines are valid in the Prometheus text format and in
OpenMetrics alike, but for one thing: a counter's HELP and TYPE lines name the family with
`_total` in the text format and without it in OpenMetrics, so a data part holding counters has
an OpenMetrics twin whose runs holding those headers differ (the big pieces are shared).

A scrape therefore only picks a ready-made `Exposition` and writes its byte strings.
"""
from __future__ import annotations

import functools
import hashlib
import math
import re
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
_GZIP_TRAILER = 8  # CRC-32 and length, little-endian


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


def _family_header(family: Family) -> str:
    help_text = family.help.replace("\\", "\\\\").replace("\n", "\\n")
    return f"# HELP {family.name} {help_text}\n# TYPE {family.name} {family.kind}\n"


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


# -- keeping and joining: deflate pieces of one gzip member -----------------------------------

# A fragment's lines of one family at least this long are kept only compressed (a deflate piece
# of their own; bench/exposition.py measures the threshold: pieces much smaller compress worse
# alone); shorter ones stay plain and are joined with their neighbours and the headers at
# render time.
PACK_BYTES = 4 * 1024
# Headers and small pieces are joined into runs of about this length, each compressed alone.
RUN_BYTES = 64 * 1024
# A plain scrape decompresses a piece at most this much at a time: never a whole copy.
STREAM_BYTES = 256 * 1024
_STREAM_INPUT = 64 * 1024  # compressed bytes fed to the decompressor at a time
# A scrape writes pieces shorter than _SMALL_WRITE joined, in writes of about _BATCH_BYTES.
_SMALL_WRITE = 16 * 1024
_BATCH_BYTES = 64 * 1024
_COALESCE_BYTES = 256 * 1024  # a gzip body's small deflate pieces, joined at render time
_DIGEST_BYTES = 16
_RAW_WBITS = -15  # raw deflate: no header, no trailer
# RFC 1952: magic, deflate, no flags, no modification time, no extra flags, OS unknown
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_ZEROS = bytes(1 << 20)


def deflate_piece(plain: bytes) -> bytes:
    """`plain` as raw deflate blocks ending on a byte boundary (a sync flush) without a final
    block, from a fresh compressor: such pieces back to back, then a final block, are one
    valid deflate stream, so one gzip member (header, pieces, final piece, CRC-32 and length)
    is made of them without compressing anything again."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, _RAW_WBITS)
    return compressor.compress(plain) + compressor.flush(zlib.Z_SYNC_FLUSH)


def deflate_last(plain: bytes) -> bytes:
    """`plain` as the last deflate piece of a stream (it ends with the final block)."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, _RAW_WBITS)
    return compressor.compress(plain) + compressor.flush()


def inflate_pieces(deflated: bytes, size: int, most: int = STREAM_BYTES) -> Iterator[bytes]:
    """The `size` plain bytes of one deflate piece, at most `most` bytes at a time (a bounded
    buffer, whatever the piece's length); ValueError if it does not make `size` bytes."""
    decompressor = zlib.decompressobj(_RAW_WBITS)
    view = memoryview(deflated)
    made = 0
    for start in range(0, len(view), _STREAM_INPUT):
        data: bytes | memoryview = view[start:start + _STREAM_INPUT]
        while data and not decompressor.eof:
            out = decompressor.decompress(data, most)
            made += len(out)
            if out:
                yield out
            data = decompressor.unconsumed_tail
    rest = decompressor.flush()
    made += len(rest)
    if rest:
        yield rest
    if made != size or decompressor.unused_data:
        raise ValueError(f"a deflate piece made {made} bytes instead of {size}")


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC-32 of A + B from crc1 = CRC(A), crc2 = CRC(B) and length2 = len(B), without B:
    zlib's own crc32_combine when the C library is at hand (a microsecond), else by zeros."""
    native = _native_combine()
    if native is not None:
        return int(native(crc1, crc2, length2))
    return crc32_combine_by_zeros(crc1, crc2, length2)


def crc32_combine_by_zeros(crc1: int, crc2: int, length2: int) -> int:
    """crc32_combine in Python: the CRC is affine in its start value, so CRC(B, start=c) =
    CRC(zeros, c) ^ CRC(zeros, 0) ^ CRC(B), `zeros` as long as B (about 1 ms per 2 MB)."""
    shifted, zero = crc1, 0
    while length2 > 0:
        block = memoryview(_ZEROS)[:min(length2, len(_ZEROS))]
        shifted, zero = zlib.crc32(block, shifted), zlib.crc32(block, zero)
        length2 -= len(block)
    return shifted ^ zero ^ crc2


@functools.cache
def _native_combine() -> Callable[[int, int, int], int] | None:
    """libz's crc32_combine64 (the library Python's zlib module uses on Linux), checked once
    against zlib.crc32; None where it cannot be loaded or disagrees."""
    try:
        import ctypes  # noqa: PLC0415  # only when a render first needs it

        function = ctypes.CDLL("libz.so.1").crc32_combine64
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_ulong, ctypes.c_ulong, ctypes.c_int64)
    function.restype = ctypes.c_ulong
    a, b = b"crc of a", b"and of b"
    if function(zlib.crc32(a), zlib.crc32(b), len(b)) != zlib.crc32(a + b):
        return None
    combine: Callable[[int, int, int], int] = function
    return combine


def _digest(plain: bytes) -> bytes:
    return hashlib.blake2b(plain, digest_size=_DIGEST_BYTES).digest()


@dataclass(frozen=True, slots=True)
class Deflated:
    """Lines kept only compressed: a deflate piece (see deflate_piece), with the length, CRC-32
    and a digest of its plain bytes (to know an unchanged piece without decompressing it)."""

    deflate: bytes = field(repr=False)
    size: int
    crc: int = field(repr=False)
    digest: bytes = field(repr=False)

    @classmethod
    def of(cls, plain: bytes, digest: bytes | None = None) -> Deflated:
        return cls(deflate_piece(plain), len(plain), zlib.crc32(plain), digest or _digest(plain))

    @property
    def plain(self) -> bytes:
        """The lines decompressed (a copy: for tests and tools, not scrapes)."""
        return b"".join(self.pieces())

    def pieces(self) -> Iterator[bytes]:
        return inflate_pieces(self.deflate, self.size)


@dataclass(frozen=True, slots=True)
class Run:
    """Headers and small pieces joined: kept plain (they are small) and as a deflate piece."""

    plain: bytes
    deflate: bytes = field(repr=False)
    crc: int = field(repr=False)

    @classmethod
    def of(cls, plain: bytes, last: bool = False) -> Run:
        """`last`: the self part, which ends every body, so its piece holds the final block."""
        deflated = deflate_last(plain) if last else deflate_piece(plain)
        return cls(plain, deflated, zlib.crc32(plain))

    @property
    def size(self) -> int:
        return len(self.plain)

    def pieces(self) -> Iterator[bytes]:
        if self.plain:
            yield self.plain


Segment = Deflated | Run
"""One piece of a served body: written as its deflate piece, or as its plain bytes."""
Piece = bytes | Deflated
"""A fragment's lines of one family: plain when short, else a deflate piece."""


class PackedFragment(Mapping[str, bytes]):
    """A fragment as it is kept: each family's lines plain when short, else only as a deflate
    piece. As a mapping it reads like the plain fragment (decompressing on access: for tests
    and tools); the renderer reads `pieces`."""

    __slots__ = ("pieces",)

    def __init__(self, pieces: Mapping[str, Piece]) -> None:
        self.pieces = pieces

    def __getitem__(self, name: str) -> bytes:
        piece = self.pieces[name]
        return piece if isinstance(piece, bytes) else piece.plain

    def __iter__(self) -> Iterator[str]:
        return iter(self.pieces)

    def __len__(self) -> int:
        return len(self.pieces)

    def __repr__(self) -> str:
        return f"PackedFragment({self.pieces!r})"


def pack_fragment(
    lines: Mapping[str, bytes], previous: Mapping[str, bytes] | None = None
) -> PackedFragment:
    """`lines` as kept: a family's lines of PACK_BYTES or more compressed into a piece of their
    own, unless `previous` (the last fragment of the same poll) holds the very same lines
    already compressed: only what changed is compressed again."""
    before = previous.pieces if isinstance(previous, PackedFragment) else {}
    pieces: dict[str, Piece] = {}
    for name, plain in lines.items():
        if len(plain) < PACK_BYTES:
            pieces[name] = plain
            continue
        digest = _digest(plain)
        old = before.get(name)
        if isinstance(old, Deflated) and old.size == len(plain) and old.digest == digest:
            pieces[name] = old
        else:
            pieces[name] = Deflated.of(plain, digest)
    return PackedFragment(pieces)


def _pieces(fragment: Mapping[str, bytes]) -> Mapping[str, Piece]:
    """What the renderer joins of a fragment (a plain one too: tests and tools make those)."""
    return fragment.pieces if isinstance(fragment, PackedFragment) else fragment


class _Joiner:
    """Builds a data part: big pieces by reference, headers and small pieces joined into runs
    (each compressed once, or taken from the previous render when its bytes did not change),
    and the OpenMetrics twin's own runs where a counter header differs."""

    def __init__(self, previous: Mapping[bytes, Run]) -> None:
        self._previous = previous  # the last render's runs, by their plain bytes
        self.runs: dict[bytes, Run] = {}
        self._text: list[Segment] = []
        self._openmetrics: list[Segment] = []
        self._small: list[bytes] = []
        self._small_openmetrics: list[bytes] | None = None  # once a header differs
        self._length = 0
        self._twin = False

    def header(self, text: bytes, openmetrics: bytes) -> None:
        if text is not openmetrics and self._small_openmetrics is None:
            self._small_openmetrics = list(self._small)
        self._small.append(text)
        if self._small_openmetrics is not None:
            self._small_openmetrics.append(openmetrics)
        self._grow(len(text))

    def add(self, piece: Piece) -> None:
        if isinstance(piece, Deflated):
            self._flush()
            self._text.append(piece)
            self._openmetrics.append(piece)
        elif piece:
            self._small.append(piece)
            if self._small_openmetrics is not None:
                self._small_openmetrics.append(piece)
            self._grow(len(piece))

    def _grow(self, length: int) -> None:
        self._length += length
        if self._length >= RUN_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self._small:
            return
        run = self._run(b"".join(self._small))
        self._text.append(run)
        if self._small_openmetrics is None:
            self._openmetrics.append(run)
        else:
            self._openmetrics.append(self._run(b"".join(self._small_openmetrics)))
            self._twin = True
        self._small, self._small_openmetrics, self._length = [], None, 0

    def _run(self, plain: bytes) -> Run:
        run = self.runs.get(plain) or self._previous.get(plain) or Run.of(plain)
        self.runs[plain] = run
        return run

    def done(self) -> DataPart:
        self._flush()
        text = tuple(self._text)
        return DataPart.of(text, tuple(self._openmetrics) if self._twin else text)


def encode_collector(
    account: str, collector: Collector[Any], data: Any, previous: Mapping[str, bytes] | None = None
) -> PackedFragment:
    """One poll's fragment: `collector.samples(data)` encoded for `account` and packed (poll
    time, inside the poll's error boundary; see Poller.poll_once). `previous`, the fragment of
    the collector's last poll, lends its pieces to families whose lines did not change."""
    lines = encode_fragment(account, collector.name, collector.families, collector.samples(data))
    return pack_fragment(lines, previous)


@dataclass(frozen=True)
class _DerivedFragment:
    """One account's derived lines, the clock's period and the inputs they were computed from
    (compared by identity) to know when to compute them again."""

    period: int
    inputs: tuple[Any, ...]
    lines: PackedFragment

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
        self._headers: dict[str, tuple[bytes, bytes]] = {}  # family -> (text, OpenMetrics)
        self._runs: Mapping[bytes, Run] = {}  # the last render's runs, by their plain bytes
        # (account, derived name) -> None when the last computation worked, else why it failed;
        # replaced whole by each render, so readers on other threads see one render's state
        self.derived_status: Mapping[tuple[str, str], str | None] = {}

    def time_bucket(self, now: float) -> int:
        """Changes when derived families are due again; 0 when there are none."""
        if not self._derived:
            return 0
        return int(now // min(d.period for d in self._derived))

    def render(self, fresh: Iterable[tuple[str, str, Snapshot]], now: float = 0.0) -> bytes:
        """`fresh` holds (account, collector, snapshot) for every snapshot to show. The plain
        text as one byte string: for tests and tools (the daemon serves `render_part`)."""
        return self.render_part(fresh, now).plain

    def render_part(
        self, fresh: Iterable[tuple[str, str, Snapshot]], now: float = 0.0
    ) -> DataPart:
        """The data part: the fragments' big pieces by reference, headers and small pieces joined
        into runs and compressed (unless the last render had the same run)."""
        snapshots = {(a, c): s for a, c, s in fresh}
        accounts = sorted({account for account, _ in snapshots})
        out = _Joiner(self._runs)
        for collector in self._collectors:
            fragments = []
            for account in accounts:
                snapshot = snapshots.get((account, collector.name))
                if snapshot is not None and snapshot.fragment is not None:
                    fragments.append(_pieces(snapshot.fragment))
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
                    fragments.append(self._derived_fragment(key, derived, inputs, now).lines.pieces)
                    status[key] = None
                except Exception as exc:  # the derived set's own boundary: bad data, or a bug
                    self._fragments.pop(key, None)
                    status[key] = f"{type(exc).__name__}: {exc}"
            self._assemble(out, derived.families, fragments)
        for key in set(self._fragments) - used:
            del self._fragments[key]
        self.derived_status = status
        part = out.done()
        self._runs = out.runs
        return part

    def _assemble(
        self, out: _Joiner, families: Sequence[Family], fragments: list[Mapping[str, Piece]]
    ) -> None:
        """Each family once: its header, then every account's lines of it (only the first
        account's, in name order, for a family that is not per account: its lines carry no
        `account`, so a second copy would repeat every series)."""
        for family in families:
            parts = [f[family.name] for f in fragments if family.name in f]
            if not family.per_account:
                parts = parts[:1]
            if parts:
                headers = self._headers.get(family.name)
                if headers is None:
                    text = _family_header(family).encode()
                    headers = self._headers[family.name] = (text, openmetrics_header(text))
                out.header(*headers)
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
        fragment = _DerivedFragment(
            period, used, pack_fragment(lines, cached.lines if cached is not None else None))
        self._fragments[key] = fragment
        return fragment


def render_registry(registry: CollectorRegistry) -> tuple[bytes, bytes]:
    """The self part in both formats; the OpenMetrics one ends the exposition with `# EOF`."""
    openmetrics: bytes = generate_openmetrics(registry)  # type: ignore[no-untyped-call]  # untyped upstream
    return generate_latest(registry), openmetrics


# A counter's header as the text format writes it, for its OpenMetrics twin
_COUNTER_HEADER = re.compile(rb"^# HELP (\S+)_total (.*)\n# TYPE \1_total counter$", re.MULTILINE)
_COUNTER_MARK = b"_total counter\n"


def openmetrics_chunks(chunks: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """The chunks with every counter's HELP and TYPE lines naming the family without `_total`,
    as OpenMetrics wants; the same tuple when no chunk holds a counter."""
    if not any(_COUNTER_MARK in chunk for chunk in chunks):
        return chunks
    return tuple(_COUNTER_HEADER.sub(rb"# HELP \1 \2\n# TYPE \1 counter", chunk)
                 if _COUNTER_MARK in chunk else chunk for chunk in chunks)


def openmetrics_header(header: bytes) -> bytes:
    """A family header as OpenMetrics wants it: the same object unless it is a counter's."""
    return openmetrics_chunks((header,))[0]


@dataclass(frozen=True)
class DataPart:
    """The rendered data part: segments written back to back, each a big fragment piece by
    reference or a run of headers and small pieces. `openmetrics` is the same tuple unless
    counters make the OpenMetrics twin differ (then only its runs differ: big pieces are
    shared). Plain and compressed lengths and the plain bytes' CRC-32 (for the gzip trailer)
    are computed once here, not at every scrape."""

    text: tuple[Segment, ...]
    openmetrics: tuple[Segment, ...]
    size: int
    deflate_size: int
    crc: int
    openmetrics_size: int
    openmetrics_deflate_size: int
    openmetrics_crc: int
    # the segments' deflate pieces as a gzip scrape writes them: big ones by reference, runs of
    # small ones joined (a few hundred small buffers per scrape, each handed to the kernel by
    # Python, put 20 concurrent scrapers' p99 at twice that of a few joined ones: bench/report.py)
    text_deflate: tuple[bytes, ...] = ()
    openmetrics_deflate: tuple[bytes, ...] = ()

    @classmethod
    def of(cls, text: tuple[Segment, ...], openmetrics: tuple[Segment, ...] | None = None
           ) -> DataPart:
        twin = text if openmetrics is None else openmetrics
        crc = _crc(text)
        joined = _coalesced(text)
        return cls(text, twin, sum(s.size for s in text), sum(len(s.deflate) for s in text), crc,
                   sum(s.size for s in twin), sum(len(s.deflate) for s in twin),
                   crc if twin is text else _crc(twin), joined,
                   joined if twin is text else _coalesced(twin))

    def pieces(self, openmetrics: bool = False) -> Iterator[bytes]:
        """The plain bytes, big pieces decompressed a bounded piece at a time."""
        for segment in self.openmetrics if openmetrics else self.text:
            yield from segment.pieces()

    @property
    def plain(self) -> bytes:
        """The whole data part as one byte string (a copy: for tests and tools, not scrapes)."""
        return b"".join(self.pieces())

    @property
    def openmetrics_plain(self) -> bytes:
        """The whole OpenMetrics twin as one byte string (a copy: for tests and tools)."""
        return b"".join(self.pieces(openmetrics=True))

    @classmethod
    def build(cls, plain: bytes) -> DataPart:
        return cls.from_chunks((plain,))

    @classmethod
    def from_chunks(cls, chunks: Sequence[bytes]) -> DataPart:
        """Plain chunks as a data part (tests and tools; the renderer joins packed fragments):
        a chunk of PACK_BYTES or more is compressed alone, the rest joined into runs; the OpenMetrics twin
        has its counter headers rewritten."""
        chunks = tuple(chunks)
        joiner = _Joiner({})
        for chunk, twin in zip(chunks, openmetrics_chunks(chunks), strict=True):
            if chunk is not twin:
                joiner.header(chunk, twin)
            else:
                joiner.add(Deflated.of(chunk) if len(chunk) >= PACK_BYTES else chunk)
        return joiner.done()


def _coalesced(segments: Sequence[Segment]) -> tuple[bytes, ...]:
    """The segments' deflate pieces, those shorter than _SMALL_WRITE joined in runs of about
    _COALESCE_BYTES; longer ones by reference (no copy)."""
    out: list[bytes] = []
    run: list[bytes] = []
    size = 0
    for segment in segments:
        piece = segment.deflate
        if len(piece) >= _SMALL_WRITE:
            if run:
                out.append(b"".join(run))
                run, size = [], 0
            out.append(piece)
            continue
        run.append(piece)
        size += len(piece)
        if size >= _COALESCE_BYTES:
            out.append(b"".join(run))
            run, size = [], 0
    if run:
        out.append(b"".join(run))
    return tuple(out)


def _crc(segments: Sequence[Segment]) -> int:
    crc = 0
    for segment in segments:
        if isinstance(segment, Run):
            crc = zlib.crc32(segment.plain, crc)
        else:
            crc = crc32_combine(crc, segment.crc, segment.size)
    return crc


@dataclass(frozen=True)
class Body:
    """One scrape's body: the data part's segments, then the self part, either as one gzip
    member (its header, the segments' deflate pieces back to back, the self part's piece with
    the final block, the CRC-32 and length) or as plain bytes, pieces decompressed on the fly.
    Iterating gives the byte strings to write, small ones joined."""

    segments: tuple[Segment, ...]
    tail: Run
    gzip: bool
    length: int  # of what is written: Content-Length
    size: int  # plain bytes
    crc: int  # of the plain bytes
    deflated: tuple[bytes, ...] = ()  # the segments' deflate pieces, small ones joined (gzip)

    def __iter__(self) -> Iterator[bytes]:
        batch: list[bytes] = []
        batched = 0
        for piece in self._pieces():
            if len(piece) >= _SMALL_WRITE:
                if batch:
                    yield b"".join(batch)
                    batch, batched = [], 0
                yield piece
                continue
            batch.append(piece)
            batched += len(piece)
            if batched >= _BATCH_BYTES:
                yield b"".join(batch)
                batch, batched = [], 0
        if batch:
            yield b"".join(batch)

    def buffers(self) -> list[bytes]:
        """A gzip body's byte strings as kept, none joined (for a scatter-gather write)."""
        return list(self._pieces()) if self.gzip else list(self)

    def _pieces(self) -> Iterator[bytes]:
        if self.gzip:
            yield GZIP_HEADER
            yield from self.deflated
            yield self.tail.deflate
            yield struct.pack("<II", self.crc, self.size & 0xFFFFFFFF)
        else:
            for segment in self.segments:
                yield from segment.pieces()
            yield from self.tail.pieces()


@dataclass(frozen=True)
class Exposition:
    """What a scrape sends, already rendered: the data part and the self part in both formats,
    each self part with its own last deflate piece (compressed when it changes)."""

    data: DataPart
    self_text: Run
    self_openmetrics: Run
    # the CRC-32 of each whole body (the gzip trailer's), once here rather than at every scrape
    text_crc: int = field(init=False, repr=False)
    openmetrics_crc: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "text_crc", zlib.crc32(self.self_text.plain, self.data.crc))
        object.__setattr__(self, "openmetrics_crc",
                           zlib.crc32(self.self_openmetrics.plain, self.data.openmetrics_crc))

    @classmethod
    def compose(cls, data: DataPart, self_text: bytes, self_openmetrics: bytes) -> Exposition:
        return cls(data, Run.of(self_text, last=True), Run.of(self_openmetrics, last=True))

    def body(self, openmetrics: bool, gzip: bool) -> Body:
        data = self.data
        if openmetrics:
            segments, tail = data.openmetrics, self.self_openmetrics
            size, deflated, crc = (data.openmetrics_size, data.openmetrics_deflate_size,
                                   self.openmetrics_crc)
            pieces = data.openmetrics_deflate
        else:
            segments, tail = data.text, self.self_text
            size, deflated, crc = data.size, data.deflate_size, self.text_crc
            pieces = data.text_deflate
        size += tail.size
        if not gzip:
            return Body(segments, tail, gzip, size, size, 0)
        length = len(GZIP_HEADER) + deflated + len(tail.deflate) + _GZIP_TRAILER
        return Body(segments, tail, gzip, length, size, crc, pieces)

    # Whole bodies as byte strings, for tests and tools (a scrape iterates `body`)
    @property
    def text(self) -> tuple[bytes, ...]:
        return tuple(self.body(openmetrics=False, gzip=False))

    @property
    def openmetrics(self) -> tuple[bytes, ...]:
        return tuple(self.body(openmetrics=True, gzip=False))

    @property
    def text_gzip(self) -> tuple[bytes, ...]:
        return tuple(self.body(openmetrics=False, gzip=True))

    @property
    def openmetrics_gzip(self) -> tuple[bytes, ...]:
        return tuple(self.body(openmetrics=True, gzip=True))


class ExpositionCache:
    """The current Exposition. Written by the event loop, read by HTTP threads without locks:
    replacing one attribute is atomic, and an Exposition never changes once built."""

    def __init__(self) -> None:
        self._data = DataPart.build(b"")
        self._self_text = Run.of(b"", last=True)
        self._self_openmetrics = Run.of(b"# EOF\n", last=True)
        self.current = Exposition(self._data, self._self_text, self._self_openmetrics)

    def set_data(self, data: DataPart) -> None:
        self._data = data
        self.current = Exposition(data, self._self_text, self._self_openmetrics)

    def set_self(self, text: bytes, openmetrics: bytes) -> bool:
        """Swap in a new self part (each format compressed alone); False (and nothing done)
        when it did not change."""
        same_text = text == self._self_text.plain
        same_openmetrics = openmetrics == self._self_openmetrics.plain
        if same_text and same_openmetrics:
            return False
        if not same_text:
            self._self_text = Run.of(text, last=True)
        if not same_openmetrics:
            self._self_openmetrics = Run.of(openmetrics, last=True)
        self.current = Exposition(self._data, self._self_text, self._self_openmetrics)
        return True
