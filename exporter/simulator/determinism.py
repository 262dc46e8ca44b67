"""Every source of variety in the simulator, derived from names and seeds so runs repeat.

Ids, UUIDs, prices drift and fault probabilities must be identical from run to run (golden
files, exact request counts), so nothing here reads the clock or the OS's randomness.
"""

from __future__ import annotations

import hashlib
import random
import uuid


def seeded_random(*parts: object) -> random.Random:
    """A pseudo-random generator for simulation; never for secrets."""
    return random.Random(":".join(str(part) for part in parts))  # noqa: S311 -- not for secrets


def stable_digest(*parts: object) -> bytes:
    return hashlib.sha256(":".join(str(part) for part in parts).encode()).digest()


def stable_int(*parts: object) -> int:
    return int.from_bytes(stable_digest(*parts)[:8], "big")


def stable_fraction(*parts: object) -> float:
    """A number in [0, 1) that depends only on `parts`."""
    return stable_int(*parts) / 2**64


def stable_uuid(*parts: object) -> str:
    """A version-4-shaped UUID that depends only on `parts`."""
    return str(uuid.UUID(bytes=stable_digest(*parts)[:16], version=4))


def stable_hex(length: int, *parts: object) -> str:
    """`length` lowercase hex digits that depend only on `parts` (at most 64)."""
    return stable_digest(*parts).hex()[:length]
