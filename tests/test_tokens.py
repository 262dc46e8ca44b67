"""Token sources: reading, checking, change detection, and never showing the token."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from exporter.tokens import (
    EnvToken,
    FileToken,
    InlineToken,
    TokenSource,
    TokenSourceError,
    discover_tokens_dir,
    read_token,
    source_name,
)
from tests.conftest import OTHER_TOKEN, READ_TOKEN


def test_file_token_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "t"
    path.write_text(f"\n  {READ_TOKEN}\n")
    assert read_token(FileToken(path), {}) == READ_TOKEN


def test_env_and_inline(tmp_path: Path) -> None:
    assert read_token(EnvToken("X"), {"X": READ_TOKEN}) == READ_TOKEN
    assert read_token(InlineToken(READ_TOKEN), {}) == READ_TOKEN


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "token file {p} is empty"),
        (b"  \n", "token file {p} is empty"),
        (b"\xff\xfe", "token file {p} is not UTF-8 text"),
        ("dop_v1_\u00e9".encode(), "token file {p} holds non-printable or non-ASCII characters"),
    ],
)
def test_bad_token_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "t"
    path.write_bytes(content)
    with pytest.raises(TokenSourceError) as caught:
        read_token(FileToken(path), {})
    assert str(caught.value) == message.format(p=path)


def test_directory_is_not_a_token_file(tmp_path: Path) -> None:
    with pytest.raises(TokenSourceError, match="is a directory, not a file"):
        read_token(FileToken(tmp_path), {})


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked"
    path.write_text(READ_TOKEN)
    path.chmod(0)
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    with pytest.raises(TokenSourceError, match="is not readable"):
        read_token(FileToken(path), {})


def test_error_messages_never_contain_the_token(tmp_path: Path) -> None:
    path = tmp_path / "t"
    path.write_text(f"{READ_TOKEN} {OTHER_TOKEN}")
    with pytest.raises(TokenSourceError) as caught:
        read_token(FileToken(path), {})
    assert READ_TOKEN not in str(caught.value)
    assert OTHER_TOKEN not in str(caught.value)


def test_changed_file_gives_a_candidate_until_accepted_or_rejected(tmp_path: Path) -> None:
    path = tmp_path / "t"
    path.write_text(READ_TOKEN)
    source = TokenSource(FileToken(path), {})
    assert source.changed_candidate() is None
    path.write_text(OTHER_TOKEN)
    assert source.changed_candidate() == OTHER_TOKEN
    source.reject(OTHER_TOKEN)
    assert source.changed_candidate() is None  # not offered again
    assert source.token == READ_TOKEN
    path.write_text("dop_v1_third")
    assert source.changed_candidate() == "dop_v1_third"
    source.accept("dop_v1_third")
    assert source.token == "dop_v1_third"
    assert source.changed_candidate() is None
    assert READ_TOKEN not in repr(source)


def test_kubernetes_symlink_swap_is_seen(tmp_path: Path) -> None:
    old = tmp_path / "..2026_01"
    new = tmp_path / "..2026_02"
    old.mkdir()
    new.mkdir()
    (old / "production").write_text(READ_TOKEN)
    (new / "production").write_text(OTHER_TOKEN)
    (tmp_path / "..data").symlink_to(old.name)
    (tmp_path / "production").symlink_to("..data/production")
    [(name, spec)] = discover_tokens_dir(tmp_path)
    source = TokenSource(spec, {})
    assert name == "production"
    assert source.token == READ_TOKEN
    # what the kubelet does: a new ..data symlink renamed over the old one
    (tmp_path / "..data_tmp").symlink_to(new.name)
    os.replace(tmp_path / "..data_tmp", tmp_path / "..data")
    assert source.changed_candidate() == OTHER_TOKEN


def test_env_sources_never_change() -> None:
    environ = {"X": READ_TOKEN}
    source = TokenSource(EnvToken("X"), environ)
    environ["X"] = OTHER_TOKEN
    assert source.changed_candidate() is None


def test_discover_skips_dangling_links(tmp_path: Path) -> None:
    (tmp_path / "gone").symlink_to("nowhere")
    (tmp_path / "ok").write_text(READ_TOKEN)
    assert [n for n, _ in discover_tokens_dir(tmp_path)] == ["ok"]


def test_messages_name_the_file_or_variable_never_the_key_path(tmp_path: Path) -> None:
    """Issue 16 point 1: `update token file /x`, not `update accounts[0].token_file`."""
    path = tmp_path / "production"
    assert source_name(FileToken(path), "accounts[0].token_file") == f"token file {path}"
    assert source_name(EnvToken("DO_PROD"), "accounts[1].token_env") == "environment variable DO_PROD"
    assert source_name(InlineToken(READ_TOKEN), "accounts[2]") == "accounts[2].token in the config file"
    assert source_name(InlineToken(READ_TOKEN), "--demo account production") == (
        "--demo account production"
    )
