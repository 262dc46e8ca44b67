"""HTTP: `/metrics` from the cached exposition, `/healthz`, `/readyz`, the status page at `/`,
Prometheus HTTP service discovery under `/sd/` (exporter/discovery.py); TLS, basic auth and
extra headers when `--web.config.file` asks for them, for every route alike.

Python's own HTTP server (ThreadingHTTPServer, HTTP/1.1 keep-alive) runs in a thread of its own, so
a scrape never waits for the event loop, a poll or a render: it reads the current Exposition (one
attribute) and writes bytes that were rendered before it arrived.

With TLS the listening socket stays plain: each accepted connection does its handshake in its
own handler thread (with a deadline), so a client that connects and stalls holds only its own
thread. A plain HTTP request on the TLS port gets a short 400, not a hang.

Slow or idle clients cannot starve scrapes or the API polls of file descriptors: open
connections are capped (`--web.max-connections`, lowered to fit the process's `nofile` limit);
a connection must deliver its first request's headers within HEADER_TIMEOUT_SECONDS of being
accepted (TLS handshake included) and a kept-alive one its next request within
IDLE_TIMEOUT_SECONDS; and at the cap a new connection evicts the one that has waited longest
for a request (never-served ones first), so a scrape always gets in.
"""

from __future__ import annotations

import contextlib
import html
import resource
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import structlog

from exporter.discovery import PATHS as DISCOVERY_PATHS
from exporter.discovery import PREFIX as DISCOVERY_PREFIX
from exporter.discovery import ServiceDiscovery
from exporter.exposition import OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, ExpositionCache
from exporter.webconfig import REALM, WebConfig, WebGate

IDLE_TIMEOUT_SECONDS = 120.0  # keep-alive connections idle longer than this are closed
HANDSHAKE_TIMEOUT_SECONDS = 10.0  # a TLS client must finish its handshake within this
HEADER_TIMEOUT_SECONDS = 10.0  # a new connection must have sent its request headers by then
DEFAULT_MAX_CONNECTIONS = 512
FD_RESERVE = 256  # descriptors kept for API polls, logs and the rest when capping connections
EXPIRY_INTERVAL_SECONDS = 0.1  # how often deadlines are checked (at most)
NEAR_CAP_FRACTION = 0.9  # log once when this share of the cap is in use
_IOV_MAX = 1024  # buffers per sendmsg (Linux's IOV_MAX)
LISTEN_BACKLOG = 1024  # a burst of connects must not overflow the kernel's queue (the default is 5)
_BUSY_BODY = b"too many open connections; retry later\n"
SERVICE_UNAVAILABLE_ANSWER = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)
_TLS_HANDSHAKE_RECORD = 0x16  # the first byte of every TLS connection
PLAIN_HTTP_ON_TLS_ANSWER = (
    b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Connection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
)

_log = structlog.stdlib.get_logger("exporter.server")


def parse_listen_address(text: str) -> tuple[str, int]:
    """`:9212`, `127.0.0.1:9212`, `[::1]:9212` or `localhost:9212` → (host, port); host "" is all.

    The errors say what to give instead: a URL (`http://127.0.0.1:9212`) would otherwise be taken
    for a host named `http://127.0.0.1` and fail later as a name that does not resolve.
    """
    scheme, found, rest = text.partition("://")
    if found:
        address = rest.split("/", 1)[0]
        raise ValueError(f"{text!r} is a URL, not [host]:port; drop the scheme {scheme}:// "
                         f"(and any path) and give {address!r}")
    if text.isdigit():
        raise ValueError(f"{text!r} is not [host]:port; give ':{text}' for port {text} on every "
                         "address")
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or "/" in host or any(c.isspace() for c in host):
        raise ValueError(f"{text!r} is not [host]:port (for example :9212 or 127.0.0.1:9212)")
    port = int(port_text)
    if not 0 <= port <= 65535:
        raise ValueError(f"{text!r}: port {port} is out of range")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


def accepts(header: str | None, media: str) -> bool:
    """True when an Accept or Accept-Encoding header lists `media` with a non-zero quality."""
    if not header:
        return False
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() != media:
            continue
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


@dataclass(frozen=True)
class ServerApp:
    """What the handler needs; no other state is shared with the HTTP threads."""

    cache: ExpositionCache
    telemetry_path: str
    readiness: Callable[[], tuple[bool, Sequence[str]]]
    version: str
    status_page: Callable[[], str] | None = None  # the page at `/` (exporter.statuspage)
    discovery: ServiceDiscovery | None = None  # `/sd/<kind>` (exporter.discovery)


def raise_open_files_limit() -> tuple[int, int]:
    """Raise the soft `nofile` limit to the hard limit, as Go programs do at startup.

    The soft limit is often 1,024 while the hard one allows far more; every scrape connection
    and every API connection needs a descriptor. Returns (before, after).
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard in (resource.RLIM_INFINITY, soft):
        return soft, soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        return soft, soft
    return soft, hard


def connection_cap(wanted: int) -> int:
    """`wanted`, lowered so that the connections leave FD_RESERVE descriptors of the soft
    `nofile` limit for the API polls and everything else."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - FD_RESERVE))


class _Connection:
    """One accepted connection, as the accepting thread sees it."""

    __slots__ = ("deadline", "served", "sock", "waiting_since")

    def __init__(self, sock: socket.socket, now: float) -> None:
        self.sock = sock  # replaced by the TLS socket after the handshake
        self.served = 0
        self.waiting_since: float | None = now  # None while a request is being answered
        self.deadline = now + HEADER_TIMEOUT_SECONDS

    def close_now(self) -> None:
        """Wake the handler thread out of its read: it sees end of file and closes."""
        with contextlib.suppress(OSError):
            # the base class's shutdown: SSLSocket.shutdown would drop its TLS state under
            # the reading thread's feet
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)


class ConnectionLimiter:
    """Open connections: the cap, the header and idle deadlines, eviction, and one log line
    when the count nears the cap. Used by the accepting thread and the handler threads."""

    def __init__(self, cap: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.cap = cap
        self.clock = clock
        self._open: dict[int, _Connection] = {}
        self._lock = threading.Lock()
        self._near = False
        self.evicted = 0
        self.refused = 0
        self.expired = 0
        self._next_expiry = 0.0

    def __len__(self) -> int:
        return len(self._open)

    def admit(self, sock: socket.socket) -> _Connection | None:
        """Register a new connection, evicting the one waiting longest for a request when at
        the cap; None (the caller refuses it) when every connection is answering a request."""
        now = self.clock()
        with self._lock:
            if len(self._open) >= self.cap:
                waiting = [c for c in self._open.values() if c.waiting_since is not None]
                if not waiting:
                    self.refused += 1
                    return None
                # a connection that never completed a request goes before an idle keep-alive one
                oldest = min(waiting, key=lambda c: (c.served > 0, c.waiting_since or now))
                del self._open[id(oldest)]
                oldest.close_now()
                self.evicted += 1
            connection = _Connection(sock, now)
            self._open[id(connection)] = connection
            count = len(self._open)
            log_near = not self._near and count >= NEAR_CAP_FRACTION * self.cap
            if log_near:
                self._near = True
            elif self._near and count < self.cap / 2:
                self._near = False
        if log_near:
            soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
            _log.warning(
                "open HTTP connections near the cap; slow or idle clients are being evicted and "
                "refused (raise --web.max-connections, or find the clients)",
                open_connections=count, max_connections=self.cap, nofile_limit=soft,
            )
        return connection

    def release(self, connection: _Connection) -> None:
        with self._lock:
            self._open.pop(id(connection), None)

    def expire(self) -> None:
        """Close connections past their header or idle deadline (the accepting thread calls
        this a few times a second)."""
        now = self.clock()
        if now < self._next_expiry:
            return
        self._next_expiry = now + EXPIRY_INTERVAL_SECONDS
        with self._lock:
            late = [c for c in self._open.values()
                    if c.waiting_since is not None and c.deadline <= now]
            for connection in late:
                del self._open[id(connection)]
        for connection in late:
            connection.close_now()
        self.expired += len(late)

    def busy(self, connection: _Connection) -> None:
        with self._lock:
            connection.waiting_since = None

    def waiting(self, connection: _Connection) -> None:
        now = self.clock()
        with self._lock:
            connection.served += 1
            connection.waiting_since = now
            connection.deadline = now + IDLE_TIMEOUT_SECONDS


class _ConnectionRefused(Exception):
    """A connection closed before any request was read (failed TLS handshake, plain HTTP)."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = LISTEN_BACKLOG
    app: ServerApp
    gate: WebGate
    limiter: ConnectionLimiter

    def process_request(self, request: Any, client_address: Any) -> None:
        connection = self.limiter.admit(request)
        if connection is None:
            with contextlib.suppress(OSError):
                request.setblocking(False)  # a full send buffer must not stall the accept loop
                request.send(SERVICE_UNAVAILABLE_ANSWER)
            self.shutdown_request(request)
            return
        thread = threading.Thread(
            target=self._serve_connection, args=(request, client_address, connection),
            daemon=True,
        )
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any, connection: _Connection) -> None:
        try:
            self.finish_request_on(request, client_address, connection)
        except Exception:  # as socketserver does: one connection's problem
            self.handle_error(request, client_address)
        finally:
            self.limiter.release(connection)
            self.shutdown_request(request)

    def finish_request_on(self, request: Any, client_address: Any, connection: _Connection) -> None:
        _Handler(request, client_address, self, connection)

    def service_actions(self) -> None:
        """Between accepts (at least every poll interval): close connections past a deadline."""
        self.limiter.expire()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that broke mid-request is the client's business; never print a traceback."""
        _log.debug("connection error", client=str(client_address[0]), error=repr(sys.exc_info()[1]))

    def server_bind(self) -> None:
        if self.address_family == socket.AF_INET6:
            # `:9212` listens on IPv4 and IPv6 alike
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "digitalocean-exporter"
    sys_version = ""
    timeout = IDLE_TIMEOUT_SECONDS
    # headers and body go out as separate writes; Nagle plus delayed ACKs would add ~40 ms
    disable_nagle_algorithm = True
    server: _Server

    def __init__(self, request: Any, client_address: Any, server: _Server,
                 connection: _Connection) -> None:
        self.connection_state = connection
        super().__init__(request, client_address, server)

    def setup(self) -> None:
        tls = self.server.gate.tls
        if tls is not None:
            # Runs in this connection's thread: a slow handshake holds nobody else.
            self.request = self._handshake(self.request, tls.context())
            self.connection_state.sock = self.request
        super().setup()

    def parse_request(self) -> bool:
        parsed = super().parse_request()  # reads the headers
        # the headers are in: from here the request is answered, not waited for
        self.server.limiter.busy(self.connection_state)
        return parsed

    @staticmethod
    def _handshake(raw: socket.socket, context: ssl.SSLContext) -> ssl.SSLSocket:
        raw.settimeout(HANDSHAKE_TIMEOUT_SECONDS)
        first = raw.recv(1, socket.MSG_PEEK)
        if not first:
            raise _ConnectionRefused("closed before the TLS handshake")
        if first[0] != _TLS_HANDSHAKE_RECORD:
            raw.recv(65536)  # read what was sent, so closing does not reset the connection
            raw.sendall(PLAIN_HTTP_ON_TLS_ANSWER)
            raise _ConnectionRefused("plain HTTP on the TLS port")
        return context.wrap_socket(raw, server_side=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            # The server closes the socket it accepted, which the TLS wrapper took over.
            if isinstance(self.request, ssl.SSLSocket):
                with contextlib.suppress(OSError):
                    self.request.shutdown(socket.SHUT_WR)
                self.request.close()

    def end_headers(self) -> None:
        for name, value in self.server.gate.headers:
            self.send_header(name, value)
        super().end_headers()

    def do_GET(self) -> None:
        self._route(head=False)

    def do_HEAD(self) -> None:
        self._route(head=True)

    def _not_allowed(self) -> None:
        if not self._authorized():
            return
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"method not allowed\n", head=False,
                   extra={"Allow": "GET, HEAD"})

    def _authorized(self, head: bool = False) -> bool:
        """True if the request may go on; otherwise a 401 has been sent."""
        path = urlsplit(self.path).path
        if self.server.gate.allows(path, self.headers.get("Authorization")):
            return True
        self._send(HTTPStatus.UNAUTHORIZED, b"Unauthorized\n", head,
                   extra={"WWW-Authenticate": f'Basic realm="{REALM}"'})
        return False

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

    def log_message(self, format: str, *args: Any) -> None:  # stdlib signature
        """Access logs are not written: a scrape every 15 s would drown the useful lines."""

    def _route(self, head: bool) -> None:
        if not self._authorized(head):
            return
        app = self.server.app
        url = urlsplit(self.path)
        path = url.path
        if path == app.telemetry_path:
            self._metrics(head)
        elif path == "/healthz":
            self._send(HTTPStatus.OK, b"ok\n", head)
        elif path == "/readyz":
            ready, pending = app.readiness()
            if ready:
                self._send(HTTPStatus.OK, b"ready\n", head)
            else:
                body = "not ready: waiting for the first poll of " + ", ".join(pending) + "\n"
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, body.encode(), head)
        elif path == "/":
            page = app.status_page() if app.status_page is not None else self._landing(app)
            self._send(HTTPStatus.OK, page.encode(), head, content_type="text/html; charset=utf-8",
                       extra={"Cache-Control": "no-store"})
        elif path.startswith(DISCOVERY_PREFIX) and app.discovery is not None:
            answer = app.discovery.answer(path, url.query)
            if answer is None:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", head)
            else:
                self._send(answer.status, answer.body, head, content_type=answer.content_type,
                           extra={"Cache-Control": "no-store"})
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", head)

    def _metrics(self, head: bool) -> None:
        openmetrics = accepts(self.headers.get("Accept"), "application/openmetrics-text")
        gzip = accepts(self.headers.get("Accept-Encoding"), "gzip")
        body = self.server.app.cache.current.body(openmetrics, gzip)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", OPENMETRICS_CONTENT_TYPE if openmetrics else TEXT_CONTENT_TYPE)
        if gzip:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept, Accept-Encoding")
        self.send_header("Content-Length", str(body.length))
        self.end_headers()
        if head:
            return
        if body.gzip and type(self.connection) is socket.socket:
            # the compressed pieces as kept, handed to the kernel together: no joined copy
            self._send_all(self.connection, body.buffers())
            return
        # plain: decompressed on the fly, a bounded piece at a time (TLS: written in batches)
        for piece in body:
            self.wfile.write(piece)

    @staticmethod
    def _send_all(sock: socket.socket, buffers: list[bytes]) -> None:
        """sendall for many buffers: sendmsg (scatter-gather) until every byte is sent."""
        views = [memoryview(b) for b in buffers if b]
        first = 0
        while first < len(views):
            sent = sock.sendmsg(views[first:first + _IOV_MAX])
            while sent and sent >= len(views[first]):
                sent -= len(views[first])
                first += 1
            if sent:
                views[first] = views[first][sent:]

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        head: bool,
        content_type: str = "text/plain; charset=utf-8",
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    @staticmethod
    def _landing(app: ServerApp) -> str:
        path = html.escape(app.telemetry_path)
        return (
            "<!doctype html><html><head><title>DigitalOcean Exporter</title></head><body>"
            f"<h1>DigitalOcean Exporter</h1><p>Version {html.escape(app.version)}</p><ul>"
            f'<li><a href="{path}">Metrics</a></li>'
            '<li><a href="/healthz">Health</a></li>'
            '<li><a href="/readyz">Readiness</a></li>'
            + ("".join(f'<li><a href="{p}">Service discovery ({p})</a></li>'
                       for p in DISCOVERY_PATHS) if app.discovery is not None else "")
            + "</ul></body></html>\n"
        )

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the scraper went away; nothing to report
        if not self.close_connection:
            self.server.limiter.waiting(self.connection_state)


class MetricsServer:
    """The HTTP server in a background thread; `web` adds TLS, basic auth and headers."""

    def __init__(
        self,
        host: str,
        port: int,
        app: ServerApp,
        web: WebConfig | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        gate = WebGate.from_config(web)  # before binding: a certificate that fails leaks no socket
        cap = connection_cap(max_connections)
        if cap < max_connections:
            _log.warning(
                "--web.max-connections lowered to fit the open files limit (ulimit -n)",
                wanted=max_connections, max_connections=cap,
                nofile_limit=resource.getrlimit(resource.RLIMIT_NOFILE)[0],
            )
        family = socket.AF_INET6 if (host == "" and socket.has_ipv6) or ":" in host else socket.AF_INET
        server_class = type("_BoundServer", (_Server,), {"address_family": family})
        bind_host = host or ("::" if family == socket.AF_INET6 else "0.0.0.0")  # noqa: S104  # ":port" means all
        self._server: _Server = server_class((bind_host, port), _Handler)
        self._server.app = app
        self._server.gate = gate
        self._server.limiter = ConnectionLimiter(cap)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="http", kwargs={"poll_interval": 0.2}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def limiter(self) -> ConnectionLimiter:
        return self._server.limiter

    @property
    def scheme(self) -> str:
        return "https" if self._server.gate.tls is not None else "http"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
