"""The HTTP server: cached bytes, content negotiation, gzip, health, readiness, landing, 404,
and what a web config adds without TLS (basic auth, open probes, headers); TLS is in
test_webconfig.py."""

from __future__ import annotations

import gzip
import random
import re
import socket
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import bcrypt
import httpx
import pytest

from exporter.exposition import DataPart, ExpositionCache
from exporter.server import MetricsServer, ServerApp, _Handler, accepts, parse_listen_address
from exporter.webconfig import WebConfig

DATA = b"# HELP d_info x\n# TYPE d_info gauge\nd_info{account=\"a\"} 1\n"


class Readiness:
    def __init__(self) -> None:
        self.ready = False

    def __call__(self) -> tuple[bool, Sequence[str]]:
        return self.ready, [] if self.ready else ["production/droplets"]


@pytest.fixture
def readiness() -> Readiness:
    return Readiness()


@pytest.fixture
def served(readiness: Readiness) -> Iterator[tuple[str, ExpositionCache]]:
    cache = ExpositionCache()
    cache.set_data(DataPart.build(DATA))
    cache.set_self(b"s 1\n", b"s 1\n# EOF\n")
    server = MetricsServer("127.0.0.1", 0, ServerApp(cache, "/metrics", readiness, "1.2.3"))
    server.start()
    yield f"http://127.0.0.1:{server.port}", cache
    server.stop()


def test_metrics_plain_text(served: tuple[str, ExpositionCache]) -> None:
    url, _ = served
    response = httpx.get(f"{url}/metrics", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response.content == DATA + b"s 1\n"
    assert response.headers["content-length"] == str(len(DATA) + 4)


def test_metrics_openmetrics_when_asked(served: tuple[str, ExpositionCache]) -> None:
    url, _ = served
    prometheus_accept = (
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
        "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    )
    response = httpx.get(f"{url}/metrics", headers={"Accept": prometheus_accept,
                                                     "Accept-Encoding": "identity"})
    assert response.headers["content-type"].startswith("application/openmetrics-text; version=1.0.0")
    assert response.content.endswith(b"# EOF\n")


def test_metrics_gzip_when_asked(served: tuple[str, ExpositionCache]) -> None:
    url, _ = served
    with httpx.Client() as client:
        raw = client.get(f"{url}/metrics", headers={"Accept-Encoding": "gzip"})
        assert raw.headers["content-encoding"] == "gzip"
        assert raw.content == DATA + b"s 1\n"  # httpx decodes
        assert int(raw.headers["content-length"]) < len(DATA) + 4 + 40


def test_scrape_sees_new_bytes_after_swap(served: tuple[str, ExpositionCache]) -> None:
    url, cache = served
    cache.set_data(DataPart.build(b"new 2\n"))
    response = httpx.get(f"{url}/metrics", headers={"Accept-Encoding": "gzip"})
    assert response.content == b"new 2\ns 1\n"
    assert gzip.decompress(b"".join(cache.current.text_gzip)) == b"new 2\ns 1\n"


def test_a_big_exposition_is_served_whole_in_every_encoding_and_head_has_its_length(
    served: tuple[str, ExpositionCache],
) -> None:
    """Kept compressed in pieces: plain scrapes decompress them on the fly, gzip scrapes get
    them as one gzip member; both bodies have the length Content-Length announced."""
    url, cache = served
    chunks = (b"# HELP big_info x\n# TYPE big_info gauge\n",
              *(b"".join(b'big_info{account="a%d",id="%d"} 1\n' % (a, i) for i in range(40_000))
                for a in range(3)),
              b"# HELP c_total x\n# TYPE c_total counter\nc_total 3\n")
    cache.set_data(DataPart.from_chunks(chunks))
    want = b"".join(chunks) + b"s 1\n"
    with httpx.Client() as client:
        plain = client.get(f"{url}/metrics", headers={"Accept-Encoding": "identity"})
        assert plain.content == want
        assert plain.headers["content-length"] == str(len(want))
        with client.stream("GET", f"{url}/metrics", headers={"Accept-Encoding": "gzip"}) as raw:
            body = b"".join(raw.iter_raw())
        assert raw.headers["content-length"] == str(len(body))
        assert gzip.decompress(body) == want
        decompressor = zlib.decompressobj(31)  # a reader that stops after the first member
        assert decompressor.decompress(body) == want
        assert decompressor.eof
        assert decompressor.unused_data == b""
        assert client.get(f"{url}/metrics", headers={"Accept-Encoding": "gzip"}).content == want
        for encoding, length in (("identity", len(want)), ("gzip", len(body))):
            head = client.head(f"{url}/metrics", headers={"Accept-Encoding": encoding})
            assert head.headers["content-length"] == str(length)
            assert head.content == b""
        assert client.get(f"{url}/healthz").text == "ok\n"  # the connection is still good


def test_keep_alive_serves_many_requests_on_one_connection(
    served: tuple[str, ExpositionCache],
) -> None:
    url, _ = served
    with httpx.Client() as client:
        for _ in range(20):
            assert client.get(f"{url}/metrics").status_code == 200
        assert client.get(f"{url}/healthz").text == "ok\n"


def test_health_readiness_landing_and_404(
    served: tuple[str, ExpositionCache], readiness: Readiness
) -> None:
    url, _ = served
    assert httpx.get(f"{url}/healthz").status_code == 200
    not_ready = httpx.get(f"{url}/readyz")
    assert (not_ready.status_code, not_ready.text) == (
        503, "not ready: waiting for the first poll of production/droplets\n"
    )
    readiness.ready = True
    assert httpx.get(f"{url}/readyz").status_code == 200
    landing = httpx.get(f"{url}/")
    assert landing.headers["content-type"] == "text/html; charset=utf-8"
    assert "Version 1.2.3" in landing.text
    assert 'href="/metrics"' in landing.text
    assert httpx.get(f"{url}/metrics/extra").status_code == 404
    assert httpx.get(f"{url}/favicon.ico").status_code == 404
    post = httpx.post(f"{url}/metrics")
    assert (post.status_code, post.headers["allow"]) == (405, "GET, HEAD")
    head = httpx.head(f"{url}/metrics")
    assert head.status_code == 200
    assert head.content == b""


@pytest.mark.parametrize(
    ("text", "expected"),
    [(":9212", ("", 9212)), ("127.0.0.1:9100", ("127.0.0.1", 9100)), ("[::1]:80", ("::1", 80)),
     ("localhost:0", ("localhost", 0))],
)
def test_parse_listen_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen_address(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9212", "'9212' is not [host]:port; give ':9212' for port 9212 on every address"),
        ("host:", "'host:' is not [host]:port (for example :9212 or 127.0.0.1:9212)"),
        (":99999", "':99999': port 99999 is out of range"),
        ("a:b", "'a:b' is not [host]:port (for example :9212 or 127.0.0.1:9212)"),
        # issue 16 point 3: a URL was taken for a host named "http://127.0.0.1"
        ("http://127.0.0.1:9212", "'http://127.0.0.1:9212' is a URL, not [host]:port; drop the "
         "scheme http:// (and any path) and give '127.0.0.1:9212'"),
        ("https://[::1]:9212/metrics", "'https://[::1]:9212/metrics' is a URL, not [host]:port; "
         "drop the scheme https:// (and any path) and give '[::1]:9212'"),
        ("local host:9212", "'local host:9212' is not [host]:port (for example :9212 or "
         "127.0.0.1:9212)"),
    ],
)
def test_parse_listen_address_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_listen_address(text)


def test_accepts() -> None:
    assert accepts("gzip, deflate", "gzip")
    assert accepts("GZIP;q=0.5", "gzip")
    assert not accepts("gzip;q=0", "gzip")
    assert not accepts("identity", "gzip")
    assert not accepts(None, "gzip")


# -- --web.config.file without TLS: basic auth, open probes, extra headers ----------------------

PASSWORD = "s3cret-scrape-password"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()


@contextmanager
def serving_with(web: WebConfig) -> Iterator[str]:
    cache = ExpositionCache()
    cache.set_data(DataPart.build(DATA))
    server = MetricsServer("127.0.0.1", 0, ServerApp(cache, "/metrics", lambda: (True, []), "1.2.3"),
                           web=web)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


@pytest.mark.parametrize("probes_without_auth", [False, True])
def test_basic_auth_guards_every_path_and_probes_only_when_configured(
    probes_without_auth: bool,
) -> None:
    web = WebConfig(source="test", basic_auth_users={"prometheus": HASH},
                    probes_without_auth=probes_without_auth)
    with serving_with(web) as url, httpx.Client() as client:
        for path in ("/metrics", "/", "/nope"):
            response = client.get(f"{url}{path}")
            assert (response.status_code, response.text) == (401, "Unauthorized\n"), path
            assert response.headers["www-authenticate"] == 'Basic realm="digitalocean-exporter"'
        head = client.head(f"{url}/metrics")
        assert (head.status_code, head.content) == (401, b"")
        assert client.post(f"{url}/metrics").status_code == 401  # auth before method checks
        for path in ("/healthz", "/readyz"):
            expected = 200 if probes_without_auth else 401
            assert client.get(f"{url}{path}").status_code == expected, path
        authed = client.get(f"{url}/metrics", auth=("prometheus", PASSWORD))
        assert (authed.status_code, authed.content) == (200, DATA)
        assert client.get(f"{url}/metrics", auth=("prometheus", "nope")).status_code == 401
        assert client.post(f"{url}/metrics", auth=("prometheus", PASSWORD)).status_code == 405


def test_configured_headers_are_on_every_response() -> None:
    headers = (("X-Frame-Options", "deny"), ("Content-Security-Policy", "default-src 'none'"))
    web = WebConfig(source="test", headers=headers, basic_auth_users={"prometheus": HASH})
    with serving_with(web) as url, httpx.Client() as client:
        for response in (client.get(f"{url}/metrics", auth=("prometheus", PASSWORD)),
                         client.get(f"{url}/metrics"),
                         client.get(f"{url}/nope", auth=("prometheus", PASSWORD))):
            assert response.headers["x-frame-options"] == "deny"
            assert response.headers["content-security-policy"] == "default-src 'none'"


def test_without_a_web_config_nothing_is_asked() -> None:
    with serving_with(WebConfig(source="empty")) as url:
        response = httpx.get(f"{url}/metrics")
        assert (response.status_code, response.content) == (200, DATA)
        assert "www-authenticate" not in response.headers


def test_scatter_gather_write_sends_every_byte_in_order_across_partial_sends() -> None:
    """A gzip body goes out by sendmsg; a small send buffer makes the kernel take it in parts."""
    rng = random.Random(3)
    buffers = [rng.randbytes(rng.choice([0, 1, 100, 5000, 70_000])) for _ in range(1500)]
    writer, reader = socket.socketpair()
    writer.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    received = bytearray()

    def read() -> None:
        while chunk := reader.recv(8192):
            received.extend(chunk)

    thread = threading.Thread(target=read)
    thread.start()
    _Handler._send_all(writer, buffers)  # the write itself, without a server
    writer.close()
    thread.join()
    reader.close()
    assert bytes(received) == b"".join(buffers)
