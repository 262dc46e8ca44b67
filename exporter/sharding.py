"""Sharding: which accounts this process polls when several exporters share one configuration.

Like kube-state-metrics: `--shard N --total-shards M` runs shard N (0..M-1) of M, and every
account belongs to exactly one shard, chosen by a stable hash of its name (SHA-256, never
Python's per-process `hash()`), so every shard reading the same config agrees without talking to
the others. `--shard.auto` takes N from a StatefulSet pod's name (`exporter-2` is shard 2), read
from the environment variable POD_NAME (the downward API), and M from `--total-shards` or
DO_EXPORTER_TOTAL_SHARDS (we do not ask the Kubernetes API for the StatefulSet's replicas).

Everything downstream (the planner, the poller, /readyz, the status page, discovery) only ever sees
the settings `Shard.own` returns: this shard's accounts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from exporter.config import Settings

ENV_POD_NAME = "POD_NAME"
ENV_TOTAL_SHARDS = "DO_EXPORTER_TOTAL_SHARDS"
MAX_TOTAL_SHARDS = 1000
_ORDINAL = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?-(0|[1-9][0-9]*)$")


class ShardError(ValueError):
    """A sharding flag or variable that cannot be used; the message names it and the fix."""


def shard_of(account: str, total: int) -> int:
    """The shard (0..total-1) that polls `account`: the first 8 bytes of the SHA-256 of its name,
    big-endian, modulo `total`. The same in every process, Python version and machine."""
    digest = hashlib.sha256(account.encode()).digest()
    return int.from_bytes(digest[:8], "big") % total


@dataclass(frozen=True)
class Shard:
    index: int = 0
    total: int = 1

    @property
    def sharded(self) -> bool:
        return self.total > 1

    def owns(self, account: str) -> bool:
        return shard_of(account, self.total) == self.index

    def own(self, settings: Settings) -> Settings:
        """`settings` with only this shard's accounts (the same object when not sharded)."""
        if not self.sharded:
            return settings
        return replace(settings, accounts=tuple(a for a in settings.accounts if self.owns(a.name)))

    def __str__(self) -> str:
        return f"shard {self.index} of {self.total}"

    def describe(self, owned: int, configured: int) -> str:
        """`shard 1 of 3: 2 of 7 accounts (the other 5 are polled by the other shards)`."""
        if not self.sharded:
            return f"not sharded: all {configured} {_accounts(configured)}"
        others = configured - owned
        text = f"{self}: {owned} of {configured} {_accounts(configured)}"
        if others:
            text += f" (the other {others} {'is' if others == 1 else 'are'} polled by the other shards)"
        if owned == 0:
            text += "; this shard owns no account and serves only the exporter's own metrics"
        return text


NO_SHARD = Shard()


def _accounts(n: int) -> str:
    return "account" if n == 1 else "accounts"


def pod_ordinal(pod_name: str) -> int:
    """The ordinal of a StatefulSet pod from its name: `digitalocean-exporter-2` -> 2."""
    match = _ORDINAL.match(pod_name)
    if match is None:
        raise ShardError(
            f"--shard.auto: the pod name {pod_name!r} (env {ENV_POD_NAME}) does not end in "
            "-<ordinal> as a StatefulSet pod's does (e.g. digitalocean-exporter-2); set "
            f"{ENV_POD_NAME} from the downward API (fieldRef metadata.name) in a StatefulSet, or "
            "give --shard N instead"
        )
    return int(match.group(2))


def resolve_shard(
    shard: int | None, total: int | None, auto: bool, environ: Mapping[str, str]
) -> Shard:
    """The shard from `--shard`, `--total-shards` and `--shard.auto` (with its environment)."""
    if auto and shard is not None:
        raise ShardError("--shard.auto takes the shard from the pod name; give either --shard.auto "
                         "or --shard N, not both")
    if total is None and auto:
        text = environ.get(ENV_TOTAL_SHARDS, "").strip()
        if not text:
            raise ShardError(f"--shard.auto needs the number of shards: give --total-shards M or "
                             f"set {ENV_TOTAL_SHARDS} (the StatefulSet's replicas)")
        if not text.isdigit():
            raise ShardError(f"{ENV_TOTAL_SHARDS}: {text!r} is not a whole number; set it to the "
                             "StatefulSet's replicas")
        total = int(text)
        total_name = ENV_TOTAL_SHARDS
    else:
        total_name = "--total-shards"
    total = 1 if total is None else total
    if not 1 <= total <= MAX_TOTAL_SHARDS:
        raise ShardError(f"{total_name}: {total} is outside 1..{MAX_TOTAL_SHARDS}; give the number "
                         "of exporter processes that share the configuration (1: no sharding)")
    if auto:
        pod = environ.get(ENV_POD_NAME, "").strip()
        if not pod:
            raise ShardError(f"--shard.auto: {ENV_POD_NAME} is not set; set it from the downward "
                             "API (env valueFrom fieldRef metadata.name) in the StatefulSet")
        index = pod_ordinal(pod)
        where = f"the ordinal of pod {pod} ({ENV_POD_NAME})"
    else:
        index = 0 if shard is None else shard
        where = "--shard"
    if not 0 <= index < total:
        raise ShardError(f"{where}: shard {index} is outside 0..{total - 1} for {total_name} "
                         f"{total}; shards are numbered from 0 to the number of shards minus 1")
    return Shard(index, total)
