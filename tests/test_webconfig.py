"""`--web.config.file`: the exporter-toolkit format validated strictly, and the HTTP server with
real TLS clients (a test CA from trustme), client certificates, basic auth and probes."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import httpx
import pytest
import structlog
import structlog.testing
import trustme
from cryptography.hazmat.primitives import serialization

from exporter.exposition import DataPart, ExpositionCache
from exporter.server import HANDSHAKE_TIMEOUT_SECONDS, MetricsServer, ServerApp
from exporter.simulator import FleetSpec, SimAccount, SimToken, Simulator, SimulatorConfig
from exporter.webconfig import BasicAuth, WebConfig, WebConfigError, load_web_config
from tests.conftest import READ_TOKEN, ExporterProcess, write_config, write_token

DATA = b"# HELP d_info x\n# TYPE d_info gauge\nd_info{account=\"a\"} 1\n"
PASSWORD = "correct horse battery staple"
# cost 4: the lowest bcrypt allows, so tests stay fast; the server treats every cost alike
ALICE_HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
# what `htpasswd -nBC 4 "" | tr -d ':\n'` writes: the $2y$ prefix
BOB_HASH = "$2y$" + bcrypt.hashpw(b"bob's password", bcrypt.gensalt(4)).decode()[4:]


@dataclass(frozen=True)
class Pki:
    """A server certificate from one CA, client certificates from another, and a rogue CA."""

    ca: Path
    cert: Path
    key: Path
    client_ca: Path
    client_cert: Path
    client_key: Path
    rogue_cert: Path
    rogue_key: Path
    other_ca: trustme.CA
    other_ca_file: Path
    encrypted_key: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    server_ca, client_ca, rogue_ca, other_ca = trustme.CA(), trustme.CA(), trustme.CA(), trustme.CA()
    files = {name: directory / name for name in (
        "ca.pem", "server.pem", "server.key", "client-ca.pem", "client.pem", "client.key",
        "rogue.pem", "rogue.key", "other-ca.pem",
    )}
    server_ca.cert_pem.write_to_path(files["ca.pem"])
    client_ca.cert_pem.write_to_path(files["client-ca.pem"])
    other_ca.cert_pem.write_to_path(files["other-ca.pem"])
    leaf = server_ca.issue_cert("127.0.0.1", "localhost")
    leaf.cert_chain_pems[0].write_to_path(files["server.pem"])
    leaf.private_key_pem.write_to_path(files["server.key"])
    client = client_ca.issue_cert("prometheus@example.com")
    client.cert_chain_pems[0].write_to_path(files["client.pem"])
    client.private_key_pem.write_to_path(files["client.key"])
    rogue = rogue_ca.issue_cert("prometheus@example.com")
    rogue.cert_chain_pems[0].write_to_path(files["rogue.pem"])
    rogue.private_key_pem.write_to_path(files["rogue.key"])
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), None)
    files["encrypted.key"] = directory / "encrypted.key"
    files["encrypted.key"].write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ))
    for path in files.values():
        path.chmod(0o600)
    return Pki(files["ca.pem"], files["server.pem"], files["server.key"], files["client-ca.pem"],
               files["client.pem"], files["client.key"], files["rogue.pem"], files["rogue.key"],
               other_ca, files["other-ca.pem"], files["encrypted.key"])


def write_web(directory: Path, text: str, name: str = "web.yml") -> Path:
    path = directory / name
    path.write_text(text)
    path.chmod(0o600)
    return path


def tls_section(pki: Pki, extra: str = "") -> str:
    return f"tls_server_config:\n  cert_file: {pki.cert}\n  key_file: {pki.key}\n{extra}"


def client_context(ca: Path, cert: Path | None = None, key: Path | None = None,
                   max_version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    if cert is not None and key is not None:
        context.load_cert_chain(cert, key)
    if max_version is not None:
        context.maximum_version = max_version
    return context


class Readiness:
    def __call__(self) -> tuple[bool, list[str]]:
        return True, []


@contextmanager
def serving(web: WebConfig | None) -> Iterator[MetricsServer]:
    cache = ExpositionCache()
    cache.set_data(DataPart.build(DATA))
    server = MetricsServer("127.0.0.1", 0, ServerApp(cache, "/metrics", Readiness(), "1.2.3"), web=web)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def https(server: MetricsServer, path: str = "/metrics") -> str:
    return f"https://127.0.0.1:{server.port}{path}"


# -- loading and validation -----------------------------------------------------------------


def test_a_full_config_is_read(tmp_path: Path, pki: Pki) -> None:
    path = write_web(tmp_path, tls_section(pki, (
        f"  client_ca_file: {pki.client_ca}\n"
        "  client_auth_type: RequireAndVerifyClientCert\n"
        "  min_version: TLS13\n"
    )) + (
        "http_server_config:\n"
        "  http2: true\n"
        "  headers:\n"
        "    X-Frame-Options: deny\n"
        "    Strict-Transport-Security: max-age=31536000\n"
        "    X-XSS-Protection: ''\n"
        f"basic_auth_users:\n  alice: {ALICE_HASH}\n  bob: {BOB_HASH}\n"
        "probes_without_auth: true\n"
    ))
    web = load_web_config(path)
    assert web.tls is not None
    assert (web.tls.cert_file, web.tls.key_file, web.tls.client_ca_file) == (
        pki.cert, pki.key, pki.client_ca
    )
    assert (web.tls.client_auth_type, web.tls.min_version, web.tls.max_version) == (
        "RequireAndVerifyClientCert", "TLS13", "TLS13"
    )
    # a blank header value means unset, as in the exporter-toolkit
    assert web.headers == (("X-Frame-Options", "deny"),
                           ("Strict-Transport-Security", "max-age=31536000"))
    assert dict(web.basic_auth_users) == {"alice": ALICE_HASH, "bob": BOB_HASH}
    assert web.probes_without_auth
    assert web.notes == ("http_server_config.http2 is ignored: this exporter serves HTTP/1.1 "
                         "(with keep-alive)",)
    assert web.warnings == ()
    assert ALICE_HASH not in repr(web)
    assert web.describe().splitlines() == [
        f"web configuration OK ({path})",
        f"  tls: {pki.cert}, TLS13..TLS13, client certificates: RequireAndVerifyClientCert "
        f"(client CA {pki.client_ca})",
        "  basic auth: 2 user(s) (alice, bob); /healthz and /readyz open",
        "  headers: X-Frame-Options, Strict-Transport-Security",
        "  note: http_server_config.http2 is ignored: this exporter serves HTTP/1.1 (with keep-alive)",
    ]


def test_relative_paths_are_relative_to_the_web_config_file(tmp_path: Path, pki: Pki) -> None:
    directory = tmp_path / "conf"
    directory.mkdir()
    shutil.copy(pki.cert, directory / "tls.crt")
    shutil.copy(pki.key, directory / "tls.key")
    web = load_web_config(write_web(directory, "tls_server_config: {cert_file: tls.crt, "
                                               "key_file: tls.key}\n"))
    assert web.tls is not None
    assert web.tls.cert_file == directory / "tls.crt"


def test_an_empty_file_means_plain_http_without_auth(tmp_path: Path) -> None:
    web = load_web_config(write_web(tmp_path, ""))
    assert (web.tls, web.basic_auth_users, web.headers, web.probes_without_auth) == (None, {}, (), False)


def test_warnings_key_readable_by_others_and_passwords_in_clear_text(
    tmp_path: Path, pki: Pki
) -> None:
    key = tmp_path / "open.key"
    shutil.copy(pki.key, key)
    key.chmod(0o644)
    tls = load_web_config(write_web(
        tmp_path, f"tls_server_config: {{cert_file: {pki.cert}, key_file: {key}}}\n"
    ))
    assert tls.warnings == (
        f"tls_server_config.key_file: {key} is readable by other users; chmod 600 it",
    )
    plain = load_web_config(write_web(tmp_path, f"basic_auth_users: {{alice: '{ALICE_HASH}'}}\n"))
    assert plain.warnings == (
        "basic_auth_users without tls_server_config: passwords cross the network in clear text; "
        "add tls_server_config",
    )


INVALID: dict[str, tuple[str, list[str]]] = {
    "every problem at once": (
        "tls_server_config:\n  cert_file: {dir}/missing.pem\n  ciphers: [x]\n"
        "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n"
        "rate_limit: {{interval: 1s}}\nbogus: 1\nprobes_without_auth: 'yes'\n",
        [
            "rate_limit: is part of the exporter-toolkit format but not supported by "
            "digitalocean-exporter; remove it",
            "bogus: unknown key; known keys are tls_server_config, http_server_config, "
            "basic_auth_users, probes_without_auth",
            "tls_server_config.ciphers: unknown key; known keys are cert_file, key_file, "
            "client_ca_file, client_auth_type, min_version, max_version",
            "tls_server_config.cipher_suites: is part of the exporter-toolkit format but not "
            "supported by digitalocean-exporter; remove it",
            "tls_server_config.cert_file: {dir}/missing.pem does not exist",
            "tls_server_config: missing required key key_file",
            "probes_without_auth: expected true or false, got a string",
        ],
    ),
    "near misses of known keys": (
        "basic_auth_user: {{}}\ntls_server_config: {{cert_fle: {cert}, key_file: {key}}}\n",
        [
            "basic_auth_user: unknown key (did you mean basic_auth_users?); known keys are "
            "tls_server_config, http_server_config, basic_auth_users, probes_without_auth",
            "tls_server_config.cert_fle: unknown key (did you mean cert_file?); known keys are "
            "cert_file, key_file, client_ca_file, client_auth_type, min_version, max_version",
            "tls_server_config: missing required key cert_file",
        ],
    ),
    "a control character": ("probes_without_auth: tr\x07ue\n", [
        "(yaml) line 1, column 24: unacceptable character #x0007: special characters are not "
        "allowed"
    ]),
    "top level not a mapping": ("- a\n", ["(top level): expected a mapping, got a list"]),
    "yaml syntax": ("tls_server_config: [\n", [
        "(yaml) line 2, column 1: expected the node content, but found '<stream end>'"
    ]),
    "a user twice": (f"basic_auth_users:\n  alice: '{ALICE_HASH}'\n  alice: '{ALICE_HASH}'\n", [
        "(yaml) line 3, column 3: key 'alice' appears twice in one mapping"
    ]),
    "unknown client auth type": (
        "tls_server_config: {{cert_file: {cert}, key_file: {key}, client_auth_type: Maybe}}\n",
        ["tls_server_config.client_auth_type: 'Maybe' is not one of NoClientCert, RequestClientCert, "
         "RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert"],
    ),
    "RequireAnyClientCert": (
        "tls_server_config: {{cert_file: {cert}, key_file: {key}, "
        "client_auth_type: RequireAnyClientCert}}\n",
        ["tls_server_config.client_auth_type: RequireAnyClientCert is not supported: Python's ssl "
         "module cannot demand a client certificate without verifying it; use "
         "RequireAndVerifyClientCert with client_ca_file (the value that authenticates clients)"],
    ),
    "verifying without a client CA": (
        "tls_server_config: {{cert_file: {cert}, key_file: {key}, "
        "client_auth_type: RequireAndVerifyClientCert}}\n",
        ["tls_server_config.client_ca_file: required with client_auth_type "
         "RequireAndVerifyClientCert: the CA that signs client certificates"],
    ),
    "a client CA nobody uses": (
        "tls_server_config: {{cert_file: {cert}, key_file: {key}, client_ca_file: {ca}}}\n",
        ["tls_server_config.client_ca_file: set, but client_auth_type is NoClientCert, so no "
         "client certificate is checked; set client_auth_type: RequireAndVerifyClientCert"],
    ),
    "old and unknown TLS versions": (
        "tls_server_config: {{cert_file: {cert}, key_file: {key}, min_version: TLS10, "
        "max_version: 1.3}}\n",
        ["tls_server_config.min_version: TLS10 is not allowed (insecure); use TLS12 or TLS13",
         "tls_server_config.max_version: a number is not one of TLS12, TLS13"],
    ),
    "min above max": (
        "tls_server_config: {{cert_file: {cert}, key_file: {key}, min_version: TLS13, "
        "max_version: TLS12}}\n",
        ["tls_server_config.min_version: TLS13 is above max_version TLS12"],
    ),
    "key of another certificate": (
        "tls_server_config: {{cert_file: {cert}, key_file: {client_key}}}\n",
        ["tls_server_config.cert_file: {cert} and key_file {client_key} cannot be loaded as a "
         "PEM certificate chain and its unencrypted private key (key values mismatch)"],
    ),
    "a certificate that is not PEM": (
        "tls_server_config: {{cert_file: {dir}/web.yml, key_file: {key}}}\n",
        ["tls_server_config.cert_file: {dir}/web.yml and key_file {key} cannot be loaded as a "
         "PEM certificate chain and its unencrypted private key (no PEM data, or an encrypted key)"],
    ),
    "an encrypted key (never a passphrase prompt)": (
        "tls_server_config: {{cert_file: {cert}, key_file: {encrypted_key}}}\n",
        ["tls_server_config.cert_file: {cert} and key_file {encrypted_key} cannot be loaded as a "
         "PEM certificate chain and its unencrypted private key (no PEM data, or an encrypted key)"],
    ),
    "a directory as a file": (
        "tls_server_config: {{cert_file: {dir}, key_file: ''}}\n",
        ["tls_server_config.cert_file: {dir} is not a file",
         "tls_server_config.key_file: must not be empty"],
    ),
    "headers": (
        "http_server_config:\n  http2: 1\n  headers:\n    Content-Length: '0'\n"
        "    X-Frame-Options: allow\n    X-Content-Type-Options: [nosniff]\n"
        "    Content-Security-Policy: \"a\\nb\"\n",
        ["http_server_config.http2: expected true or false, got an integer",
         "http_server_config.headers.Content-Length: this header cannot be set; allowed are "
         "Content-Security-Policy, X-Frame-Options, X-Content-Type-Options, X-XSS-Protection, "
         "Strict-Transport-Security",
         "http_server_config.headers.X-Frame-Options: 'allow' is not one of deny, sameorigin",
         "http_server_config.headers.X-Content-Type-Options: expected a string, got a list",
         "http_server_config.headers.Content-Security-Policy: must be printable ASCII on one line"],
    ),
    "users": (
        "basic_auth_users:\n  alice: hunter2-plain-password\n  'bob:x': '{alice_hash}'\n"
        "  carol: 12\n",
        ["basic_auth_users.alice: is not a bcrypt hash such as $2y$10$...; make one with "
         "htpasswd -nBC 10 \"\" | tr -d ':\\n'",
         "basic_auth_users.bob:x: a user name cannot contain ':' or control characters",
         "basic_auth_users.carol: is not a bcrypt hash such as $2y$10$...; make one with "
         "htpasswd -nBC 10 \"\" | tr -d ':\\n'"],
    ),
    "users not a mapping": ("basic_auth_users: [alice]\n", [
        "basic_auth_users: expected a mapping of user names to bcrypt hashes, got a list"
    ]),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_web_configs_report_every_problem_with_its_key_path(
    case: str, tmp_path: Path, pki: Pki
) -> None:
    text, expected = INVALID[case]
    places = {"dir": tmp_path, "cert": pki.cert, "key": pki.key, "ca": pki.client_ca,
              "client_key": pki.client_key, "alice_hash": ALICE_HASH,
              "encrypted_key": pki.encrypted_key}
    path = write_web(tmp_path, text.format(**places))
    with pytest.raises(WebConfigError) as caught:
        load_web_config(path)
    assert caught.value.problems == [line.format(**places) for line in expected]
    assert str(caught.value).splitlines()[0] == f"invalid web configuration ({path}):"
    assert "hunter2" not in str(caught.value)  # a password typed where its hash belongs


def test_a_missing_web_config_file(tmp_path: Path) -> None:
    with pytest.raises(WebConfigError) as caught:
        load_web_config(tmp_path / "nope.yml")
    assert caught.value.problems == [f"web config file {tmp_path / 'nope.yml'} does not exist"]


# -- TLS with real clients --------------------------------------------------------------------


def test_https_scrape_with_the_ca(tmp_path: Path, pki: Pki) -> None:
    with serving(load_web_config(write_web(tmp_path, tls_section(pki)))) as server:
        assert server.scheme == "https"
        with httpx.Client(verify=client_context(pki.ca)) as client:
            for _ in range(3):  # keep-alive over one TLS connection
                response = client.get(https(server), headers={"Accept-Encoding": "identity"})
                assert response.status_code == 200
                assert response.content == DATA
        # a client that does not trust the CA refuses the server
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(https(server), verify=client_context(pki.other_ca_file))


def test_plain_http_on_the_tls_port_is_refused(tmp_path: Path, pki: Pki) -> None:
    with serving(load_web_config(write_web(tmp_path, tls_section(pki)))) as server:
        response = httpx.get(f"http://127.0.0.1:{server.port}/metrics")
        assert response.status_code == 400
        assert response.text == "Client sent an HTTP request to an HTTPS server.\n"
        assert b"d_info" not in response.content
        # and the server still serves TLS afterwards
        assert httpx.get(https(server), verify=client_context(pki.ca)).status_code == 200


def test_min_version_tls13_refuses_a_tls12_client(tmp_path: Path, pki: Pki) -> None:
    web = load_web_config(write_web(tmp_path, tls_section(pki, "  min_version: TLS13\n")))
    with serving(web) as server:
        old = client_context(pki.ca, max_version=ssl.TLSVersion.TLSv1_2)
        with pytest.raises(httpx.ConnectError):
            httpx.get(https(server), verify=old)
        assert httpx.get(https(server), verify=client_context(pki.ca)).status_code == 200


def refused(server: MetricsServer, context: ssl.SSLContext) -> bool:
    """True when the TLS connection is refused (TLS 1.3 may fail at the first read instead)."""
    try:
        httpx.get(https(server), verify=context, timeout=5)
    except httpx.TransportError:
        return True
    return False


def test_require_and_verify_client_cert(tmp_path: Path, pki: Pki) -> None:
    web = load_web_config(write_web(tmp_path, tls_section(pki, (
        f"  client_ca_file: {pki.client_ca}\n  client_auth_type: RequireAndVerifyClientCert\n"
    ))))
    with serving(web) as server:
        good = client_context(pki.ca, pki.client_cert, pki.client_key)
        assert httpx.get(https(server), verify=good).status_code == 200
        assert refused(server, client_context(pki.ca, pki.rogue_cert, pki.rogue_key))
        assert refused(server, client_context(pki.ca))  # no certificate at all
        assert httpx.get(https(server), verify=good).status_code == 200  # still serving


def test_verify_client_cert_if_given(tmp_path: Path, pki: Pki) -> None:
    web = load_web_config(write_web(tmp_path, tls_section(pki, (
        f"  client_ca_file: {pki.client_ca}\n  client_auth_type: VerifyClientCertIfGiven\n"
    ))))
    with serving(web) as server:
        assert httpx.get(https(server), verify=client_context(pki.ca)).status_code == 200
        good = client_context(pki.ca, pki.client_cert, pki.client_key)
        assert httpx.get(https(server), verify=good).status_code == 200
        assert refused(server, client_context(pki.ca, pki.rogue_cert, pki.rogue_key))


def test_a_stalled_handshake_does_not_block_other_clients(tmp_path: Path, pki: Pki) -> None:
    with serving(load_web_config(write_web(tmp_path, tls_section(pki)))) as server:
        stalled = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(3)]
        try:
            started = time.monotonic()
            response = httpx.get(https(server), verify=client_context(pki.ca), timeout=3)
            assert response.status_code == 200
            assert time.monotonic() - started < HANDSHAKE_TIMEOUT_SECONDS
        finally:
            for sock in stalled:
                sock.close()


def test_a_renewed_certificate_is_used_by_the_next_connection(tmp_path: Path, pki: Pki) -> None:
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    shutil.copy(pki.cert, cert)
    shutil.copy(pki.key, key)
    web = load_web_config(write_web(tmp_path, f"tls_server_config: {{cert_file: {cert}, "
                                              f"key_file: {key}}}\n"))
    with serving(web) as server:
        trusts_new = client_context(pki.other_ca_file)
        assert refused(server, trusts_new)
        renewed = pki.other_ca.issue_cert("127.0.0.1")
        renewed.private_key_pem.write_to_path(key)
        renewed.cert_chain_pems[0].write_to_path(cert)
        assert httpx.get(https(server), verify=trusts_new).status_code == 200
        assert refused(server, client_context(pki.ca))
        # a half-written renewal (no key) keeps the current certificate, said once
        key.write_text("")
        with structlog.testing.capture_logs() as logged:
            for _ in range(3):
                assert httpx.get(https(server), verify=trusts_new).status_code == 200
        assert [e["event"] for e in logged if e["log_level"] == "error"] == [
            "TLS certificate files changed but cannot be loaded; still using the previous "
            "certificate"
        ]


# -- basic auth -------------------------------------------------------------------------------


def test_basic_auth_over_tls(tmp_path: Path, pki: Pki) -> None:
    web = load_web_config(write_web(tmp_path, tls_section(pki) + (
        f"basic_auth_users:\n  alice: '{ALICE_HASH}'\n  bob: '{BOB_HASH}'\n"
    )))
    with serving(web) as server, httpx.Client(verify=client_context(pki.ca)) as client:
        assert client.get(https(server), auth=("alice", PASSWORD)).status_code == 200
        assert client.get(https(server), auth=("bob", "bob's password")).status_code == 200
        for auth in (("alice", "wrong"), ("mallory", PASSWORD), None):
            response = client.get(https(server), auth=auth)
            assert response.status_code == 401, auth
            assert response.headers["www-authenticate"] == 'Basic realm="digitalocean-exporter"'
            assert b"d_info" not in response.content
        # probes and the landing page need auth too unless probes_without_auth says otherwise
        for path in ("/healthz", "/readyz", "/", "/nope"):
            assert client.get(https(server, path)).status_code == 401, path


def test_unknown_users_cost_as_much_as_wrong_passwords() -> None:
    """No timing shortcut tells which users exist: an unknown user is checked against a dummy
    hash of the same cost."""
    slow_hash = bcrypt.hashpw(b"x", bcrypt.gensalt(8)).decode()
    auth = BasicAuth({"alice": slow_hash})

    def cost(user: str) -> float:
        header = httpx.BasicAuth(user, "guess")._auth_header  # the exact header httpx sends
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            assert not auth.check(header)
            best = min(best, time.perf_counter() - started)
        return best

    assert cost("nobody") > 0.5 * cost("alice")


def test_basic_auth_edge_cases() -> None:
    auth = BasicAuth({"alice": ALICE_HASH})
    good = httpx.BasicAuth("alice", PASSWORD)._auth_header
    assert auth.check(good)
    assert auth.check(good)  # remembered, and still right
    assert auth.check("basic " + good.split(" ", 1)[1])  # the scheme is case-insensitive
    for header in (None, "", "Bearer x", "Basic !!!", "Basic " + "YWxpY2U=",  # no colon
                   httpx.BasicAuth("alice", PASSWORD + "x")._auth_header,
                   httpx.BasicAuth("alice", PASSWORD + "x" * 100)._auth_header):
        assert not auth.check(header), header


# -- the exporter itself with --web.config.file -------------------------------------------------


def run_cli(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "exporter", *args], capture_output=True,
                          text=True, timeout=20, check=False)


def test_config_check_validates_the_web_config(tmp_path: Path, pki: Pki) -> None:
    token = write_token(tmp_path, "token", READ_TOKEN)
    config = write_config(tmp_path, f"accounts: [{{name: a, token_file: {token}}}]\n")
    good = write_web(tmp_path, tls_section(pki) + f"basic_auth_users: {{alice: '{ALICE_HASH}'}}\n")
    result = run_cli(["--config.file", str(config), "--config.check", "--offline",
                      "--web.config.file", str(good)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-3:] == [
        f"web configuration OK ({good})",
        f"  tls: {pki.cert}, TLS12..TLS13, client certificates: NoClientCert",
        "  basic auth: 1 user(s) (alice); every path, probes included",
    ]
    assert ALICE_HASH not in result.stdout
    bad = write_web(tmp_path, "basic_auth_users: {alice: hunter2}\ntls_server_config: {}\n", "bad.yml")
    result = run_cli(["--config.file", str(config), "--config.check", "--web.config.file", str(bad)])
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"invalid web configuration ({bad}):",
        "  tls_server_config: missing required key cert_file",
        "  tls_server_config: missing required key key_file",
        "  basic_auth_users.alice: is not a bcrypt hash such as $2y$10$...; make one with "
        "htpasswd -nBC 10 \"\" | tr -d ':\\n'",
    ]
    assert "hunter2" not in result.stdout + result.stderr


def test_the_exporter_serves_tls_and_basic_auth(tmp_path: Path, pki: Pki) -> None:
    sim_config = SimulatorConfig(accounts=(
        SimAccount("production", tokens=(SimToken("production-ro", READ_TOKEN),),
                   fleet=FleetSpec(seed=1, droplets=3)),
    ))
    with Simulator(sim_config) as sim:
        token = write_token(tmp_path, "token", READ_TOKEN)
        config = write_config(tmp_path, f"accounts: [{{name: production, token_file: {token}}}]\n"
                                        f"api: {{url: '{sim.url}', auth_url: '{sim.url}'}}\n")
        web = write_web(tmp_path, tls_section(pki) + (
            f"basic_auth_users: {{alice: '{ALICE_HASH}'}}\nprobes_without_auth: true\n"
            "http_server_config: {headers: {X-Content-Type-Options: nosniff}}\n"
        ))
        exporter = ExporterProcess(["--config.file", str(config), "--web.config.file", str(web)],
                                   tmp_path)
        base = f"https://127.0.0.1:{exporter.port}"
        try:
            with httpx.Client(verify=client_context(pki.ca), timeout=5) as client:
                deadline = time.monotonic() + 20
                while True:
                    assert exporter.process.poll() is None, exporter.output()
                    assert time.monotonic() < deadline, exporter.output()
                    try:
                        if client.get(f"{base}/readyz").status_code == 200:  # open: probes key
                            break
                    except httpx.TransportError:
                        pass
                    time.sleep(0.1)
                assert client.get(f"{base}/metrics").status_code == 401
                metrics = client.get(f"{base}/metrics", auth=("alice", PASSWORD))
                assert metrics.status_code == 200
                assert metrics.headers["x-content-type-options"] == "nosniff"
                assert metrics.text.count('digitalocean_droplet_info{account="production"') == 3
            assert httpx.get(f"http://127.0.0.1:{exporter.port}/metrics").status_code == 400
        finally:
            assert exporter.stop() == 0
        [loaded] = [e for e in exporter.log_events() if e.get("event") == "web configuration loaded"]
        assert (loaded["tls"], loaded["basic_auth_users"], loaded["probes_without_auth"]) == (
            True, 1, True
        )
        assert ALICE_HASH not in exporter.output()
