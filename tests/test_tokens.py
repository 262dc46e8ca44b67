"""Token sources: reading, checking, change detection, and never showing the token."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from exporter.simulator.config import generated_token
from exporter.tokens import (
    EnvToken,
    FileToken,
    InlineToken,
    TokenSource,
    TokenSourceError,
    discover_tokens_dir,
    looks_like_token,
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
        # issue 16 point 6: nothing that is not token-shaped is ever sent as a Bearer token
        (b"hello\n", "token file {p} does not hold a DigitalOcean API token (dop_v1_ and 64 hex "
         "digits, from API > Tokens in the control panel); it was not sent to DigitalOcean"),
        (b"dop_v1_" + b"ab" * 20, "token file {p} holds a token cut short or mangled: dop_v1_ must "
         "be followed by exactly 64 hex digits (0-9, a-f), not 40 characters; copy the token "
         "again; it was not sent to DigitalOcean"),
        (b"doo_v1_" + b"z" * 64, "token file {p} holds a token cut short or mangled: doo_v1_ must "
         "be followed by exactly 64 hex digits (0-9, a-f), not other characters; copy the token "
         "again; it was not sent to DigitalOcean"),
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
    third = "dop_v1_" + "7" * 64
    path.write_text(third)
    assert source.changed_candidate() == third
    source.accept(third)
    assert source.token == third
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
    [(name, spec)] = discover_tokens_dir(tmp_path).tokens
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
    assert [n for n, _ in discover_tokens_dir(tmp_path).tokens] == ["ok"]


def test_messages_name_the_file_or_variable_never_the_key_path(tmp_path: Path) -> None:
    """Issue 16 point 1: `update token file /x`, not `update accounts[0].token_file`."""
    path = tmp_path / "production"
    assert source_name(FileToken(path), "accounts[0].token_file") == f"token file {path}"
    assert source_name(EnvToken("DO_PROD"), "accounts[1].token_env") == "environment variable DO_PROD"
    assert source_name(InlineToken(READ_TOKEN), "accounts[2]") == "accounts[2].token in the config file"
    assert source_name(InlineToken(READ_TOKEN), "--demo account production") == (
        "--demo account production"
    )


@pytest.mark.parametrize(
    "token",
    [READ_TOKEN, OTHER_TOKEN, "doo_v1_" + "0123456789abcdef" * 4, "A1B2" * 16,
     generated_token(7, "production", "production-ro")],
)
def test_token_shapes_digitalocean_issues_are_accepted(token: str) -> None:
    assert looks_like_token(token)
    assert read_token(EnvToken("T"), {"T": token}) == token


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (EnvToken("DO_PROD"), "environment variable DO_PROD does not hold a DigitalOcean API token "
         "(dop_v1_ and 64 hex digits, from API > Tokens in the control panel); it was not sent "
         "to DigitalOcean"),
        (InlineToken("changeme"), "inline token in the config file does not hold a DigitalOcean "
         "API token (dop_v1_ and 64 hex digits, from API > Tokens in the control panel); it was "
         "not sent to DigitalOcean"),
    ],
)
def test_a_non_token_from_any_source_is_refused_naming_the_source_not_the_value(
    spec: EnvToken | InlineToken, message: str
) -> None:
    with pytest.raises(TokenSourceError) as caught:
        read_token(spec, {"DO_PROD": "changeme"})
    assert str(caught.value) == message
    assert "changeme" not in str(caught.value)


def test_tokens_dir_skips_notes_and_non_tokens_with_one_reason_each(tmp_path: Path) -> None:
    """Issue 16 point 6: a README.md no longer stops every account, and a one-word NOTES.txt is
    no longer an account whose text is sent to DigitalOcean."""
    (tmp_path / "production").write_text(READ_TOKEN + "\n")
    (tmp_path / "README.md").write_text("# Tokens\nOne file per account.\n")
    (tmp_path / "NOTES.txt").write_text("rotate-monthly")
    (tmp_path / "notes").write_text("rotate-monthly")
    (tmp_path / "staging.yaml").write_text(OTHER_TOKEN)  # a token, but named like a config file
    (tmp_path / "staging").write_text("dop_v1_" + "ab" * 20)  # cut short: the account's error
    (tmp_path / "empty").write_text("")  # meant as a token: the account's error
    scan = discover_tokens_dir(tmp_path)
    assert [name for name, _ in scan.tokens] == ["empty", "production", "staging"]
    assert scan.skipped == [
        f"{tmp_path / 'NOTES.txt'} is skipped: its name ends in .txt, so it is not a token file "
        "(a token file is named after its account, with no extension)",
        f"{tmp_path / 'README.md'} is skipped: its name ends in .md, so it is not a token file "
        "(a token file is named after its account, with no extension)",
        f"{tmp_path / 'notes'} is skipped: it does not hold a DigitalOcean API token",
        f"{tmp_path / 'staging.yaml'} is skipped: its name ends in .yaml, so it is not a token "
        "file (a token file is named after its account, with no extension)",
    ]
    assert not any(OTHER_TOKEN in note or "rotate-monthly" in note for note in scan.skipped)
