"""Sharding: the stable hash, the pod ordinal, the flags' checks, and the settings a shard sees."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from exporter.config import AccountSettings, Settings
from exporter.sharding import (
    ENV_POD_NAME,
    ENV_TOTAL_SHARDS,
    NO_SHARD,
    Shard,
    ShardError,
    pod_ordinal,
    resolve_shard,
    shard_of,
)
from exporter.tokens import InlineToken

NAMES = [f"team-{i}" for i in range(40)] + ["production", "staging", "a", "Ω-unicode"]


def documented(name: str, total: int) -> int:
    """The formula docs/deploy.md gives: the first 8 bytes of SHA-256(name), big-endian, mod M."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big") % total


@pytest.mark.parametrize("total", [1, 2, 3, 7])
def test_shard_of_is_the_documented_formula(total: int) -> None:
    assert [shard_of(n, total) for n in NAMES] == [documented(n, total) for n in NAMES]


def test_every_account_has_exactly_one_shard() -> None:
    shards = [Shard(i, 3) for i in range(3)]
    for name in NAMES:
        assert sum(s.owns(name) for s in shards) == 1
    # and the hash spreads them: 44 names over 3 shards leave none empty
    assert all(any(s.owns(n) for n in NAMES) for s in shards)


def test_shard_of_is_the_same_in_another_interpreter() -> None:
    """Not Python's hash(): a new process (another PYTHONHASHSEED) picks the same shards."""
    code = ("import sys; from exporter.sharding import shard_of; "
            "print(','.join(str(shard_of(n, 5)) for n in sys.argv[1:]))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code, *NAMES], capture_output=True, text=True,
                         env=env, check=True).stdout.strip()
    assert out == ",".join(str(shard_of(n, 5)) for n in NAMES)


@pytest.mark.parametrize(("pod", "ordinal"), [
    ("digitalocean-exporter-0", 0), ("digitalocean-exporter-2", 2), ("exporter-12", 12),
    ("a.b-3", 3),
])
def test_pod_ordinal(pod: str, ordinal: int) -> None:
    assert pod_ordinal(pod) == ordinal


@pytest.mark.parametrize("pod", ["digitalocean-exporter", "exporter-", "exporter-01", "exporter-x1",
                                 "Exporter-1", "-1", "exporter-abc12-x"])
def test_a_pod_name_without_an_ordinal_is_refused(pod: str) -> None:
    with pytest.raises(ShardError) as error:
        pod_ordinal(pod)
    assert str(error.value) == (
        f"--shard.auto: the pod name {pod!r} (env POD_NAME) does not end in -<ordinal> as a "
        "StatefulSet pod's does (e.g. digitalocean-exporter-2); set POD_NAME from the downward "
        "API (fieldRef metadata.name) in a StatefulSet, or give --shard N instead"
    )


def test_resolve_defaults_to_no_sharding() -> None:
    assert resolve_shard(None, None, False, {}) == NO_SHARD == Shard(0, 1)
    assert resolve_shard(2, 3, False, {}) == Shard(2, 3)


def test_resolve_auto_reads_the_pod_name_and_the_total() -> None:
    env = {ENV_POD_NAME: "digitalocean-exporter-1", ENV_TOTAL_SHARDS: "3"}
    assert resolve_shard(None, None, True, env) == Shard(1, 3)
    assert resolve_shard(None, 4, True, env) == Shard(1, 4)  # the flag wins over the variable


@pytest.mark.parametrize(("shard", "total", "auto", "env", "message"), [
    (3, 3, False, {}, "--shard: shard 3 is outside 0..2 for --total-shards 3; shards are "
     "numbered from 0 to the number of shards minus 1"),
    (-1, 2, False, {}, "--shard: shard -1 is outside 0..1 for --total-shards 2; shards are "
     "numbered from 0 to the number of shards minus 1"),
    (1, None, False, {}, "--shard: shard 1 is outside 0..0 for --total-shards 1; shards are "
     "numbered from 0 to the number of shards minus 1"),
    (None, 0, False, {}, "--total-shards: 0 is outside 1..1000; give the number of exporter "
     "processes that share the configuration (1: no sharding)"),
    (1, 2, True, {}, "--shard.auto takes the shard from the pod name; give either --shard.auto "
     "or --shard N, not both"),
    (None, None, True, {ENV_POD_NAME: "x-1"}, "--shard.auto needs the number of shards: give "
     "--total-shards M or set DO_EXPORTER_TOTAL_SHARDS (the StatefulSet's replicas)"),
    (None, None, True, {ENV_TOTAL_SHARDS: "three"}, "DO_EXPORTER_TOTAL_SHARDS: 'three' is not a "
     "whole number; set it to the StatefulSet's replicas"),
    (None, 3, True, {}, "--shard.auto: POD_NAME is not set; set it from the downward API (env "
     "valueFrom fieldRef metadata.name) in the StatefulSet"),
    (None, None, True, {ENV_POD_NAME: "exporter-3", ENV_TOTAL_SHARDS: "3"},
     "the ordinal of pod exporter-3 (POD_NAME): shard 3 is outside 0..2 for "
     "DO_EXPORTER_TOTAL_SHARDS 3; shards are numbered from 0 to the number of shards minus 1"),
])
def test_resolve_refuses_with_the_flag_named(
    shard: int | None, total: int | None, auto: bool, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ShardError) as error:
        resolve_shard(shard, total, auto, env)
    assert str(error.value) == message


def _settings(names: list[str]) -> Settings:
    accounts = tuple(AccountSettings(name=n, token=InlineToken("dop_v1_" + "0" * 64), origin=n)
                     for n in names)
    return Settings(accounts=accounts, collectors={})


def test_own_keeps_only_the_shards_accounts_in_order() -> None:
    settings = _settings(NAMES)
    parts = [Shard(i, 3).own(settings) for i in range(3)]
    for i, part in enumerate(parts):
        assert [a.name for a in part.accounts] == [n for n in NAMES if documented(n, 3) == i]
    assert sorted(a.name for p in parts for a in p.accounts) == sorted(NAMES)
    assert NO_SHARD.own(settings) is settings


def test_describe_says_what_other_shards_own() -> None:
    assert Shard(1, 3).describe(2, 7) == (
        "shard 1 of 3: 2 of 7 accounts (the other 5 are polled by the other shards)")
    assert Shard(2, 3).describe(0, 1) == (
        "shard 2 of 3: 0 of 1 account (the other 1 is polled by the other shards); this shard "
        "owns no account and serves only the exporter's own metrics")


def test_docs_give_the_formula() -> None:
    deploy = (Path(__file__).parent.parent / "docs" / "deploy.md").read_text()
    assert "sha256(name.encode()).digest()[:8]" in deploy
