"""Where each account's token comes from, and noticing when it changes.

A token is read from a file, an environment variable or the config file itself. Files are re-read
on demand so a rotated Kubernetes secret (the `..data` symlink swap) is noticed without a restart.
No message, repr or exception produced here ever contains the token itself: errors name the
source (path or variable), never the content. Nothing that is not shaped like a DigitalOcean
token leaves this module, so a note or a placeholder is never sent as a Bearer token.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


class TokenSourceError(Exception):
    """A token source that cannot give a usable token. The message names the source, not the token."""


class NotATokenError(TokenSourceError):
    """The source holds something that is no token at all (prose, binary, a large file), as
    opposed to a token that is cut short, empty or of the wrong kind."""


@dataclass(frozen=True)
class FileToken:
    """A token stored in a file (one token, surrounding whitespace ignored)."""

    path: Path

    def describe(self) -> str:
        return f"token file {self.path}"


@dataclass(frozen=True)
class EnvToken:
    """A token taken from an environment variable."""

    variable: str

    def describe(self) -> str:
        return f"environment variable {self.variable}"


@dataclass(frozen=True)
class InlineToken:
    """A token written in the config file. `repr` never shows it."""

    value: str = field(repr=False)

    def describe(self) -> str:
        return "inline token in the config file"


TokenSpec = FileToken | EnvToken | InlineToken

_REFRESH_PREFIX = "dor_v1_"
TOKEN_FILE_MAX_BYTES = 4096  # a token is under 100 bytes; more is not a token file
# What DigitalOcean issues: a personal access token (dop_v1_) or an OAuth access token (doo_v1_),
# then 64 hex digits; tokens made before the prefixes (2021) are the 64 hex digits alone.
_TOKEN_SHAPE = re.compile(r"(?:do[po]_v1_)?[0-9a-fA-F]{64}")
_API_PREFIXES = ("dop_v1_", "doo_v1_")
# File names in a tokens directory that are notes, configs or editor leftovers, never a token.
_NOT_TOKEN_SUFFIXES = (
    ".md", ".txt", ".rst", ".adoc", ".html", ".pdf", ".yml", ".yaml", ".json", ".toml", ".ini",
    ".cfg", ".conf", ".env", ".sh", ".py", ".example", ".sample", ".template", ".bak", ".old",
    ".orig", ".tmp", ".swp", ".swo", ".pem", ".crt", ".key", ".pub", ".gpg", ".asc", "~",
)


def read_token(spec: TokenSpec, environ: Mapping[str, str]) -> str:
    """The token a source holds now, checked for shape; raises TokenSourceError naming the source."""
    if isinstance(spec, FileToken):
        text = _read_file(spec)
    elif isinstance(spec, EnvToken):
        if spec.variable not in environ:
            raise TokenSourceError(f"{spec.describe()} is not set")
        text = environ[spec.variable]
    else:
        text = spec.value
    return _checked(text, spec)


def _read_file(spec: FileToken) -> str:
    where = spec.describe()
    data = _read_regular_file(spec.path, where)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotATokenError(f"{where} is not UTF-8 text") from None


def _read_regular_file(path: Path, where: str) -> bytes:
    """The bytes of a regular file of at most TOKEN_FILE_MAX_BYTES, read without ever blocking.

    The token watcher reads from the event loop, so a FIFO (whose open waits for a writer and
    whose read waits for data), a device or a socket would stop every poll and SIGTERM with it.
    The file is opened non-blocking (following symlinks: Kubernetes mounts are symlinks) and
    checked on the open descriptor, so a swap between check and read cannot slip one in.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise TokenSourceError(f"{where} does not exist") from None
    except PermissionError:
        raise TokenSourceError(f"{where} is not readable (permission denied)") from None
    except OSError as exc:
        # ENXIO: a socket, or a FIFO some systems refuse to open without a writer
        raise TokenSourceError(f"{where} cannot be read: {exc.strerror or type(exc).__name__}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise TokenSourceError(f"{where} is a directory, not a file")
        if not stat.S_ISREG(mode):
            raise TokenSourceError(f"{where} is {_kind_of(mode)}, not a regular file")
        # One byte more than allowed tells a file at the cap from a larger one; the size from
        # fstat is not trusted (a file can grow, and /proc files report 0).
        data = b""
        while len(data) <= TOKEN_FILE_MAX_BYTES:
            chunk = os.read(fd, TOKEN_FILE_MAX_BYTES + 1 - len(data))
            if not chunk:
                break
            data += chunk
    except OSError as exc:
        raise TokenSourceError(f"{where} cannot be read: {exc.strerror or type(exc).__name__}") from None
    finally:
        os.close(fd)
    if len(data) > TOKEN_FILE_MAX_BYTES:
        raise NotATokenError(
            f"{where} is larger than {TOKEN_FILE_MAX_BYTES} bytes; a token file holds one token "
            "(under 100 bytes)"
        )
    return data


def _kind_of(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "a special file"


def _checked(text: str, spec: TokenSpec) -> str:
    token = text.strip()
    where = spec.describe()
    if not token:
        raise TokenSourceError(f"{where} is empty")
    if any(ch.isspace() for ch in token):
        raise NotATokenError(f"{where} holds more than one word; it must hold exactly one token")
    if not token.isascii() or not token.isprintable():
        raise NotATokenError(f"{where} holds non-printable or non-ASCII characters")
    if token.startswith(_REFRESH_PREFIX):
        raise TokenSourceError(
            f"{where} holds an OAuth refresh token ({_REFRESH_PREFIX}...), which cannot call the "
            "API; use a personal access token (dop_v1_...)"
        )
    if not looks_like_token(token):
        # never sent as a Bearer token: a stray note or a mangled paste is not a credential
        error = NotATokenError if not token.startswith(_API_PREFIXES) else TokenSourceError
        raise error(f"{where} {_shape_problem(token)}; it was not sent to DigitalOcean")
    return token


def looks_like_token(text: str) -> bool:
    """Whether `text` has the shape of a DigitalOcean API token (dop_v1_ or doo_v1_ and 64 hex
    digits, or the 64 hex digits of a token made before the prefixes)."""
    return _TOKEN_SHAPE.fullmatch(text) is not None


def _characters(count: int) -> str:
    return f"{count} character" if count == 1 else f"{count} characters"


def _shape_problem(token: str) -> str:
    """What is wrong with a token's shape, in words that never quote the token."""
    for prefix in _API_PREFIXES:
        if token.startswith(prefix):
            count = len(token) - len(prefix)
            found = "other characters" if count == 64 else _characters(count)
            return (f"holds a token cut short or mangled: {prefix} must be followed by exactly 64 "
                    f"hex digits (0-9, a-f), not {found}; copy the token again")
    return ("does not hold a DigitalOcean API token (dop_v1_ and 64 hex digits, from API > "
            "Tokens in the control panel)")


def source_name(spec: TokenSpec, origin: str) -> str:
    """Where a token lives, as messages name it: the file or the variable, never `accounts[0]`;
    an inline token by its key path (`origin`), since the config file holds the value itself."""
    if origin.startswith("--"):  # made by a flag (--demo): the flag says it all
        return origin
    if isinstance(spec, InlineToken):
        return f"{origin}.token in the config file"
    return spec.describe()


def fingerprint(token: str) -> str:
    """A short digest to tell tokens apart without keeping or showing them."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class TokenSource:
    """The token an account uses now, plus change detection for file-backed tokens.

    A changed file gives a *candidate*; the caller verifies it and then `accept`s or `reject`s
    it, so an invalid or write-capable replacement never replaces a working token. A rejected
    candidate is remembered by fingerprint and not offered again until the file changes again.
    """

    def __init__(self, spec: TokenSpec, environ: Mapping[str, str]) -> None:
        self.spec = spec
        self._environ = environ
        self._token = read_token(spec, environ)
        self._rejected: str | None = None

    def __repr__(self) -> str:
        return f"TokenSource({self.spec.describe()})"

    @property
    def token(self) -> str:
        return self._token

    def changed_candidate(self) -> str | None:
        """A new token if the source now holds one not yet accepted or rejected, else None.

        Raises TokenSourceError if the source became unreadable or malformed.
        """
        if not isinstance(self.spec, FileToken):
            return None
        candidate = read_token(self.spec, self._environ)
        if candidate == self._token:
            self._rejected = None
            return None
        if self._rejected == fingerprint(candidate):
            return None
        return candidate

    def accept(self, token: str) -> None:
        self._token = token
        self._rejected = None

    def reject(self, token: str) -> None:
        self._rejected = fingerprint(token)


@dataclass(frozen=True)
class TokensDir:
    """What a tokens directory holds: one (account name, token file) per token, and the entries
    left out, each with the reason (one warning per file: a stray README must not stop every
    account, and a note must never be sent to DigitalOcean as a token)."""

    tokens: list[tuple[str, FileToken]]
    skipped: list[str]


def discover_tokens_dir(directory: Path) -> TokensDir:
    """One (account name, token file) per entry of a mounted-secrets directory.

    Kubernetes mounts each secret key as `name -> ..data/name` and rotates by swapping `..data`,
    so symlinks are followed and entries whose names start with `.` are skipped. Entries named
    like documents (README.md, NOTES.txt, config.yaml, backups) are skipped, and so are files
    whose content does not look like a DigitalOcean token. A file that cannot be read, is empty
    or holds a token cut short is kept: it was meant as a token, and the account's error says so.
    """
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except FileNotFoundError:
        raise TokenSourceError(f"tokens directory {directory} does not exist") from None
    except NotADirectoryError:
        raise TokenSourceError(f"tokens directory {directory} is not a directory") from None
    except PermissionError:
        raise TokenSourceError(f"tokens directory {directory} is not readable") from None
    except OSError as exc:
        raise TokenSourceError(
            f"tokens directory {directory} cannot be read: {exc.strerror or type(exc).__name__}"
        ) from None
    found: list[tuple[str, FileToken]] = []
    skipped: list[str] = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            is_file = entry.is_file()  # follows symlinks
        except OSError:
            is_file = False
        if not is_file:
            continue
        spec = FileToken(Path(entry.path))
        if entry.name.lower().endswith(_NOT_TOKEN_SUFFIXES):
            skipped.append(f"{entry.path} is skipped: its name ends in "
                           f"{_suffix(entry.name)}, so it is not a token file (a token file is "
                           "named after its account, with no extension)")
            continue
        reason = _not_a_token(spec)
        if reason is not None:
            skipped.append(f"{entry.path} is skipped: {reason}")
            continue
        found.append((entry.name, spec))
    return TokensDir(found, skipped)


def _suffix(name: str) -> str:
    lowered = name.lower()
    return next(s for s in _NOT_TOKEN_SUFFIXES if lowered.endswith(s))


def _not_a_token(spec: FileToken) -> str | None:
    """Why a readable file holds no token (None when it holds one, or cannot be read: that error
    belongs to the account)."""
    try:
        read_token(spec, {})
    except NotATokenError:
        return "it does not hold a DigitalOcean API token"
    except TokenSourceError:
        pass  # empty, unreadable, cut short, a refresh token: meant as a token, the account says
    return None


def readable_by_others(path: Path) -> bool:
    """True when a file's permission bits let any user read it (a secret should not allow that)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & stat.S_IROTH)
