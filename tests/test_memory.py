"""memory: the glibc arena cap and the trim after a render (skipped where there is no glibc)."""

from __future__ import annotations

import ctypes

import pytest

from exporter import memory


def glibc() -> ctypes.CDLL:
    try:
        libc = ctypes.CDLL(None)
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        pytest.skip("not glibc")
    return libc


def test_limit_arenas_applies_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    glibc()
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert memory.limit_arenas() is True


def test_the_environment_variable_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []

    class FakeLibc:
        def mallopt(self, option: int, value: int) -> int:
            calls.append((option, value))
            return 1

    monkeypatch.setattr(memory, "_LIBC", FakeLibc())
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert memory.limit_arenas() is False
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    assert memory.limit_arenas() is True
    assert calls == [(memory.M_ARENA_MAX, memory.ARENAS)]


def test_without_glibc_nothing_is_called(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_LIBC", None)
    monkeypatch.setattr(memory, "_TRIM", None)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert memory.limit_arenas() is False
    memory.release_free_memory()  # a no-op, not an error


def test_release_free_memory_trims(monkeypatch: pytest.MonkeyPatch) -> None:
    trims: list[int] = []

    def trim(pad: int) -> int:
        trims.append(pad)
        return 1

    monkeypatch.setattr(memory, "_TRIM", trim)
    memory.release_free_memory()
    assert trims == [0]
