"""The `--web.config.file`: TLS, client certificates, basic auth and response headers.

The file has the Prometheus exporter-toolkit format (`tls_server_config`, `http_server_config`,
`basic_auth_users`), validated as strictly as the main config: unknown keys, wrong types, missing
or unusable files and malformed bcrypt hashes are all reported at once with their key paths. One
key is this exporter's own: `probes_without_auth: true` leaves `/healthz` and `/readyz` open
when basic auth protects everything else.

This module also owns the live objects the file describes, which the HTTP server uses: the TLS
context for new connections (rebuilt when the certificate, key or client CA file changes, so a
renewed certificate needs no restart) and the basic-auth checker (bcrypt, with the cost paid
once per user and password, and every failed check as slow as the slowest hash).

No password, hash or key ever appears in a message: problems name the key and the file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import ssl
import stat
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import structlog

from exporter.config import ConfigError
from exporter.strictyaml import StrictReader, describe_type, key_path, load_document

ClientAuthType = Literal[
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
]
CLIENT_AUTH_TYPES: tuple[ClientAuthType, ...] = (
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
)
_SUPPORTED_CLIENT_AUTH: tuple[ClientAuthType, ...] = (
    "NoClientCert", "RequestClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert",
)
_VERIFYING_CLIENT_AUTH = ("VerifyClientCertIfGiven", "RequireAndVerifyClientCert")
TLS_VERSIONS: Mapping[str, ssl.TLSVersion] = {
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
_OLD_TLS_VERSIONS = ("TLS10", "TLS11")

# The response headers the exporter-toolkit lets a web config set, with the values allowed
# (None: any value). Other headers could break the protocol (Content-Length, Connection).
ALLOWED_HEADERS: Mapping[str, tuple[str, ...] | None] = {
    "Content-Security-Policy": None,
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-Content-Type-Options": ("nosniff",),
    "X-XSS-Protection": None,
    "Strict-Transport-Security": None,
}

REALM = "digitalocean-exporter"
PROBE_PATHS = ("/healthz", "/readyz")

_TOP_KEYS = ("tls_server_config", "http_server_config", "basic_auth_users", "probes_without_auth")
_TLS_KEYS = ("cert_file", "key_file", "client_ca_file", "client_auth_type", "min_version",
             "max_version")
_HTTP_KEYS = ("headers", "http2")
# Keys of the exporter-toolkit format this exporter does not implement: named as such rather
# than as unknown, so a file copied from another exporter gets a clear answer.
_TOOLKIT_ONLY_PROBLEM = ("is part of the exporter-toolkit format but not supported by "
                         "digitalocean-exporter; remove it")
_TOOLKIT_ONLY_TOP = dict.fromkeys(("rate_limit",), _TOOLKIT_ONLY_PROBLEM)
_TOOLKIT_ONLY_TLS = dict.fromkeys(
    ("cert", "key", "client_ca", "client_allowed_sans", "cipher_suites",
     "prefer_server_cipher_suites", "curve_preferences"),
    _TOOLKIT_ONLY_PROBLEM,
)
_BCRYPT_HASH = re.compile(r"^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$")
BCRYPT_MAX_PASSWORD_BYTES = 72
_VERIFIED_CACHE_LIMIT = 1024

_log = structlog.stdlib.get_logger("exporter.web")


class WebConfigError(ConfigError):
    """Every problem found in the web config file, each prefixed with its key path."""

    kind = "web configuration"
    noun = "web config file"


@dataclass(frozen=True)
class TlsServerConfig:
    """`tls_server_config`: where the certificate and key are, and how clients are checked."""

    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None
    client_auth_type: ClientAuthType = "NoClientCert"
    min_version: str = "TLS12"
    max_version: str = "TLS13"

    def build_context(self) -> ssl.SSLContext:
        """A server context from the files as they are now; ssl.SSLError or OSError if unusable."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = TLS_VERSIONS[self.min_version]
        context.maximum_version = TLS_VERSIONS[self.max_version]
        # An encrypted key must fail here, not make OpenSSL prompt on the terminal.
        context.load_cert_chain(self.cert_file, self.key_file, password=_no_password)
        if self.client_ca_file is not None:
            context.load_verify_locations(cafile=self.client_ca_file)
        if self.client_auth_type == "RequireAndVerifyClientCert":
            context.verify_mode = ssl.CERT_REQUIRED
        elif self.client_auth_type == "VerifyClientCertIfGiven":
            context.verify_mode = ssl.CERT_OPTIONAL
        else:
            # RequestClientCert asks for a certificate nobody checks or uses: Python's ssl
            # cannot ask without verifying, and not asking changes nothing the exporter does.
            context.verify_mode = ssl.CERT_NONE
        context.set_alpn_protocols(["http/1.1"])
        return context

    def files(self) -> tuple[Path, ...]:
        return (self.cert_file, self.key_file) + (
            (self.client_ca_file,) if self.client_ca_file is not None else ()
        )


@dataclass(frozen=True)
class WebConfig:
    """What `--web.config.file` asks for. An empty file means plain HTTP without auth."""

    source: str
    tls: TlsServerConfig | None = None
    headers: tuple[tuple[str, str], ...] = ()
    basic_auth_users: Mapping[str, str] = field(default_factory=dict, repr=False)
    probes_without_auth: bool = False
    notes: tuple[str, ...] = ()  # settings accepted but without effect, said once at startup
    warnings: tuple[str, ...] = ()

    def describe(self) -> str:
        """The lines `--config.check` prints about the web config."""
        lines = [f"web configuration OK ({self.source})"]
        if self.tls is None:
            lines.append("  tls: off (plain HTTP)")
        else:
            tls = self.tls
            client = tls.client_auth_type + (
                f" (client CA {tls.client_ca_file})" if tls.client_ca_file else ""
            )
            lines.append(f"  tls: {tls.cert_file}, {tls.min_version}..{tls.max_version}, "
                         f"client certificates: {client}")
        if self.basic_auth_users:
            users = ", ".join(sorted(self.basic_auth_users))
            probes = ("; /healthz and /readyz open" if self.probes_without_auth
                      else "; every path, probes included")
            lines.append(f"  basic auth: {len(self.basic_auth_users)} user(s) ({users}){probes}")
        else:
            lines.append("  basic auth: off")
        if self.headers:
            lines.append("  headers: " + ", ".join(name for name, _ in self.headers))
        lines += [f"  note: {n}" for n in self.notes]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _no_password() -> bytes:
    return b""


class _Parser(StrictReader):
    def __init__(self, source: Path) -> None:
        super().__init__()
        self.source = source
        self.notes: list[str] = []
        self.warnings: list[str] = []

    def resolve(self, value: object, path: str) -> Path | None:
        """A readable file, relative paths taken from the web config file's directory."""
        name = self.string(value, path, "a file name")
        if name is None:
            return None
        file = Path(name).expanduser()
        if not file.is_absolute():
            file = self.source.parent / file
        try:
            mode = file.stat().st_mode
        except FileNotFoundError:
            self.problems.add(path, f"{file} does not exist")
            return None
        except OSError as exc:
            self.problems.add(path, f"{file} cannot be read: {exc.strerror or type(exc).__name__}")
            return None
        if not stat.S_ISREG(mode):
            self.problems.add(path, f"{file} is not a file")
            return None
        if not os.access(file, os.R_OK):
            self.problems.add(path, f"{file} is not readable (permission denied)")
            return None
        return file

    def document(self, doc: object) -> WebConfig | None:
        top = self.mapping({} if doc is None else doc, "", _TOP_KEYS, _TOOLKIT_ONLY_TOP)
        if top is None:
            return None
        tls = self.tls(top["tls_server_config"]) if top.get("tls_server_config") is not None else None
        headers = self.http(top.get("http_server_config"))
        users = self.users(top.get("basic_auth_users"))
        probes_open = False
        if "probes_without_auth" in top:
            probes_open = bool(self.boolean(top["probes_without_auth"], "probes_without_auth"))
        if probes_open and not users:
            self.notes.append("probes_without_auth has no effect without basic_auth_users")
        if users and tls is None:
            self.warnings.append(
                "basic_auth_users without tls_server_config: passwords cross the network in "
                "clear text; add tls_server_config"
            )
        if self.problems.items:
            return None
        return WebConfig(
            source=str(self.source),
            tls=tls,
            headers=headers,
            basic_auth_users=users,
            probes_without_auth=probes_open,
            notes=tuple(self.notes),
            warnings=tuple(self.warnings),
        )

    def tls(self, value: object) -> TlsServerConfig | None:
        path = "tls_server_config"
        entry = self.mapping(value, path, _TLS_KEYS, _TOOLKIT_ONLY_TLS)
        if entry is None:
            return None
        before = len(self.problems.items)
        files = {name: self.resolve(entry[name], f"{path}.{name}")
                 if self.require(entry, path, name) else None
                 for name in ("cert_file", "key_file")}
        client_ca = None
        if entry.get("client_ca_file") is not None:
            client_ca = self.resolve(entry["client_ca_file"], f"{path}.client_ca_file")
        auth = self.client_auth(entry, path)
        versions = self.versions(entry, path)
        cert, key = files["cert_file"], files["key_file"]
        if len(self.problems.items) > before or cert is None or key is None or auth is None:
            return None
        if _readable_by_others(key):
            self.warnings.append(f"{path}.key_file: {key} is readable by other users; chmod 600 it")
        config = TlsServerConfig(
            cert_file=cert,
            key_file=key,
            client_ca_file=client_ca,
            client_auth_type=auth,
            min_version=versions[0],
            max_version=versions[1],
        )
        self.check_files_load(config, path)
        return config

    def client_auth(self, entry: Mapping[str, Any], path: str) -> ClientAuthType | None:
        auth = entry.get("client_auth_type", "NoClientCert")
        where = f"{path}.client_auth_type"
        has_ca = entry.get("client_ca_file") is not None
        if self.choice(auth, where, CLIENT_AUTH_TYPES) is None:
            return None
        if auth not in _SUPPORTED_CLIENT_AUTH:
            self.problems.add(where, f"{auth} is not supported: Python's ssl module cannot demand a client "
                            "certificate without verifying it; use RequireAndVerifyClientCert with "
                            "client_ca_file (the value that authenticates clients)")
            return None
        if auth in _VERIFYING_CLIENT_AUTH and not has_ca:
            self.problems.add(f"{path}.client_ca_file",
                     f"required with client_auth_type {auth}: the CA that signs client certificates")
            return None
        if auth == "NoClientCert" and has_ca:
            self.problems.add(f"{path}.client_ca_file",
                     "set, but client_auth_type is NoClientCert, so no client certificate is "
                     "checked; set client_auth_type: RequireAndVerifyClientCert")
            return None
        if auth == "RequestClientCert":
            self.notes.append("client_auth_type RequestClientCert: client certificates are not "
                              "asked for; nothing would check or use them")
        found: ClientAuthType = auth
        return found

    def versions(self, entry: Mapping[str, Any], path: str) -> tuple[str, str]:
        found: list[str] = []
        for key, default in (("min_version", "TLS12"), ("max_version", "TLS13")):
            version = entry.get(key, default)
            if isinstance(version, str) and version in TLS_VERSIONS:
                found.append(str(version))
                continue
            found.append(default)
            if version in _OLD_TLS_VERSIONS:
                self.problems.add(f"{path}.{key}", f"{version} is not allowed (insecure); use TLS12 or TLS13")
            else:
                self.choice(version, f"{path}.{key}", TLS_VERSIONS)
        low, high = found
        if TLS_VERSIONS[low] > TLS_VERSIONS[high]:
            self.problems.add(f"{path}.min_version", f"{low} is above max_version {high}")
        return low, high

    def check_files_load(self, config: TlsServerConfig, path: str) -> None:
        """Load the files once now, so a bad certificate fails `--config.check` and startup."""
        try:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(config.cert_file, config.key_file, password=_no_password)
        except (ssl.SSLError, OSError) as exc:
            self.problems.add(
                f"{path}.cert_file",
                f"{config.cert_file} and key_file {config.key_file} cannot be loaded as a PEM "
                f"certificate chain and its unencrypted private key ({_ssl_reason(exc)})",
            )
            return
        if config.client_ca_file is not None:
            try:
                context.load_verify_locations(cafile=config.client_ca_file)
            except (ssl.SSLError, OSError) as exc:
                self.problems.add(f"{path}.client_ca_file",
                         f"{config.client_ca_file} holds no usable PEM CA certificate "
                         f"({_ssl_reason(exc)})")

    def http(self, value: object) -> tuple[tuple[str, str], ...]:
        path = "http_server_config"
        if value is None:
            return ()
        entry = self.mapping(value, path, _HTTP_KEYS)
        if entry is None:
            return ()
        if "http2" in entry and self.boolean(entry["http2"], f"{path}.http2") is not None:
            self.notes.append("http_server_config.http2 is ignored: this exporter serves "
                              "HTTP/1.1 (with keep-alive)")
        raw = entry.get("headers")
        if raw is None:
            return ()
        given = self.mapping_of(raw, f"{path}.headers")
        if given is None:
            return ()
        headers = (self.header(name, value, key_path(f"{path}.headers", name))
                   for name, value in given.items())
        return tuple(h for h in headers if h is not None)

    def header(self, name: object, value: object, where: str) -> tuple[str, str] | None:
        canonical = {known.lower(): known for known in ALLOWED_HEADERS}
        known = canonical.get(name.lower()) if isinstance(name, str) else None
        if known is None:
            self.problems.add(where, f"this header cannot be set; allowed are {', '.join(ALLOWED_HEADERS)}")
            return None
        if not isinstance(value, str):
            self.problems.add(where, f"expected a string, got {describe_type(value)}")
            return None
        if not value:
            return None  # blank means unset, as in the exporter-toolkit
        if not value.isprintable() or not value.isascii():
            self.problems.add(where, "must be printable ASCII on one line")
            return None
        allowed = ALLOWED_HEADERS[known]
        if allowed is not None and value.lower() not in allowed:
            self.problems.add(where, f"{value!r} is not one of {', '.join(allowed)}")
            return None
        return known, value

    def users(self, value: object) -> dict[str, str]:
        path = "basic_auth_users"
        given = {} if value is None else self.mapping_of(
            value, path, "a mapping of user names to bcrypt hashes"
        )
        users: dict[str, str] = {}
        for user, hashed in (given or {}).items():
            if not isinstance(user, str) or not user:
                self.problems.add(path, f"user name {user!r} is not a non-empty string")
                continue
            where = key_path(path, user)
            if ":" in user or not user.isprintable():
                self.problems.add(where, "a user name cannot contain ':' or control characters")
                continue
            # The value is never shown: it could be a password typed where its hash belongs.
            if not isinstance(hashed, str) or not _BCRYPT_HASH.match(hashed):
                self.problems.add(where, "is not a bcrypt hash such as $2y$10$...; make one with "
                                "htpasswd -nBC 10 \"\" | tr -d ':\\n'")
                continue
            users[user] = hashed
        costs = sorted({bcrypt_cost(hashed) for hashed in users.values()})
        if len(costs) > 1:
            self.warnings.append(
                f"{path}: the hashes have different bcrypt costs ({', '.join(map(str, costs))}); "
                f"every failed check is made as slow as the highest ({costs[-1]}) so that timing "
                "reveals no user; hash every password with the same cost"
            )
        if users:
            try:
                import bcrypt  # noqa: F401, PLC0415  # only needed when basic auth is configured
            except ImportError:
                self.problems.add(path, "needs the Python package bcrypt (pip install bcrypt)")
        return users


def _ssl_reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        text = exc.reason or re.sub(r"^\[\w+\]\s*|\s*\(_ssl\.c:\d+\)$", "", str(exc))
        if text == "PEM lib":  # OpenSSL's word for "could not read PEM here"
            return "no PEM data, or an encrypted key"
        return str(text).lower().replace("_", " ")
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


def _readable_by_others(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & stat.S_IROTH)
    except OSError:
        return False


def load_web_config(path: Path) -> WebConfig:
    """The web config at `path`; WebConfigError lists every problem with its key path."""
    parser = _Parser(path)
    config = parser.document(load_document(path, WebConfigError))
    if config is None:
        raise WebConfigError(str(path), parser.problems.items)
    return config


# -- the live objects the HTTP server uses ------------------------------------------------


class TlsContextSource:
    """The SSLContext for each new connection, rebuilt when a certificate file changes.

    A renewed certificate (cert-manager, certbot) is picked up by the next connection; no
    restart or signal is needed. If the new files cannot be loaded (say the key was written
    before the certificate), the previous context stays and the problem is logged once.
    """

    def __init__(self, config: TlsServerConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._signature = self._files_signature()
        self._context = config.build_context()
        self._failed_signature: tuple[object, ...] | None = None

    def _files_signature(self) -> tuple[object, ...]:
        signature: list[object] = []
        for file in self.config.files():
            try:
                info = file.stat()
            except OSError:
                signature.append(None)
            else:
                signature.append((info.st_ino, info.st_size, info.st_mtime_ns))
        return tuple(signature)

    def context(self) -> ssl.SSLContext:
        with self._lock:
            signature = self._files_signature()
            if signature not in (self._signature, self._failed_signature):
                try:
                    context = self.config.build_context()
                except (ssl.SSLError, OSError) as exc:
                    self._failed_signature = signature
                    _log.error(
                        "TLS certificate files changed but cannot be loaded; still using the "
                        "previous certificate",
                        cert_file=str(self.config.cert_file),
                        key_file=str(self.config.key_file),
                        error=_ssl_reason(exc),
                    )
                else:
                    self._context, self._signature = context, signature
                    self._failed_signature = None
                    _log.info("TLS certificate files changed; new connections use them",
                              cert_file=str(self.config.cert_file))
            return self._context


class BasicAuth:
    """Checks `Authorization: Basic` headers against bcrypt hashes.

    bcrypt is slow on purpose (~70 ms at cost 10), and Prometheus sends the same credentials on
    every scrape, so a verified (user, password, hash) is remembered as a SHA-256 digest, as the
    exporter-toolkit does; the password itself is never kept.

    Every failed check costs the same bcrypt work whoever the user is, so timing tells neither
    which users exist nor which have cheap hashes: an unknown user is checked against a dummy
    hash of the highest cost in the file, and a wrong password for a user whose hash is cheaper
    (cost c, below the highest cost C) is followed by checks against dummy hashes of costs
    c, c+1, ..., C-1. bcrypt's work is 2^cost, so 2^c + (2^c + ... + 2^(C-1)) = 2^C: the same
    work as one check at the highest cost, whatever the machine's load.
    """

    def __init__(
        self, users: Mapping[str, str], checkpw: Callable[[bytes, bytes], bool] | None = None
    ) -> None:
        import bcrypt  # noqa: PLC0415  # optional dependency, only with basic_auth_users

        self._bcrypt = bcrypt
        self._checkpw = checkpw or bcrypt.checkpw  # tests count the bcrypt work through it
        self._users = {user: hashed.encode() for user, hashed in users.items()}
        costs = {user: bcrypt_cost(hashed) for user, hashed in users.items()}
        self._costs = costs
        self.cost = max(costs.values(), default=10)
        lowest = min(costs.values(), default=self.cost)
        # dummies for the costs a failure may need padding with, and the highest for unknown users
        self._dummies = {
            cost: bcrypt.hashpw(b"digitalocean-exporter: no such user", bcrypt.gensalt(cost))
            for cost in range(lowest, self.cost + 1)
        }
        self._verified: set[bytes] = set()
        self._lock = threading.Lock()

    def check(self, authorization: str | None) -> bool:
        credentials = parse_basic(authorization)
        if credentials is None:
            return False
        user, password = credentials
        hashed = self._users.get(user)
        target = hashed if hashed is not None else self._dummies[self.cost]
        digest = hashlib.sha256(
            b"\0".join((user.encode(), password, target))
        ).digest()
        with self._lock:
            if hashed is not None and digest in self._verified:
                return True
        # bcrypt refuses passwords longer than it can use; check the usable part anyway so a
        # long password costs the same time, then refuse it.
        too_long = len(password) > BCRYPT_MAX_PASSWORD_BYTES
        usable = password[:BCRYPT_MAX_PASSWORD_BYTES]
        matches = self._checkpw(usable, target)
        if not matches or hashed is None or too_long:
            for cost in range(self._costs.get(user, self.cost), self.cost):
                self._checkpw(usable, self._dummies[cost])
            return False
        with self._lock:
            if len(self._verified) >= _VERIFIED_CACHE_LIMIT:
                self._verified.clear()
            self._verified.add(digest)
        return True


def bcrypt_cost(hashed: str) -> int:
    """The cost (log2 of the rounds) of a `$2y$10$...` hash."""
    return int(hashed.split("$")[2])


def parse_basic(authorization: str | None) -> tuple[str, bytes] | None:
    """(user, password) from an `Authorization: Basic ...` value; None if it is not one."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(b":")
    if not sep:
        return None
    try:
        return user.decode("utf-8"), password
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class WebGate:
    """What the HTTP server enforces: TLS per connection, auth and headers per request."""

    tls: TlsContextSource | None = None
    auth: BasicAuth | None = None
    probes_without_auth: bool = False
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_config(cls, config: WebConfig | None) -> WebGate:
        if config is None:
            return cls()
        return cls(
            tls=TlsContextSource(config.tls) if config.tls is not None else None,
            auth=BasicAuth(config.basic_auth_users) if config.basic_auth_users else None,
            probes_without_auth=config.probes_without_auth,
            headers=config.headers,
        )

    def allows(self, path: str, authorization: str | None) -> bool:
        if self.auth is None:
            return True
        if self.probes_without_auth and path in PROBE_PATHS:
            return True
        return self.auth.check(authorization)
