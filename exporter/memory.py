"""The C heap under glibc: fewer malloc arenas, and free pages handed back after a render.

Both are measured, not folklore (bench/performance.py, 10,000 Droplets and 10,000 volumes):
each thread that allocates (the render worker, the HTTP server's connection threads) gets its
own glibc arena by default, up to eight per core, and freed memory stays mapped in each;
two arenas lower the resident memory by about 6 MiB, and `malloc_trim(0)` after a render by
about 16 MiB more (145 to 129 MiB when ready). On other C libraries (musl, macOS) both are skipped.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable

M_ARENA_MAX = -8  # glibc <malloc.h>
ARENAS = 2


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt  # noqa: B018  # glibc has both; musl and macOS do not
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()
_TRIM: Callable[[int], int] | None = _LIBC.malloc_trim if _LIBC is not None else None


def limit_arenas() -> bool:
    """Cap glibc's malloc arenas at ARENAS; call it before starting threads. True if applied.
    MALLOC_ARENA_MAX in the environment, when set, is glibc's to apply and wins."""
    if _LIBC is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(_LIBC.mallopt(M_ARENA_MAX, ARENAS))


def release_free_memory() -> None:
    """Hand the C heap's free pages back to the system (after a render: the polls and the
    render before it free tens of megabytes that glibc would otherwise keep mapped)."""
    if _TRIM is not None:
        _TRIM(0)
