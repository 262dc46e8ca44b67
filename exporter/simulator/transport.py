"""HTTP/1.1 on the standard library: the listening server and the per-connection handler.

This module only moves bytes. It asks an `AnswerSource` (the `Simulator`) what to answer and
writes it: keep-alive with Content-Length, nothing logged to stderr, and the two ways a fault
can break a connection (close without answering; promise a body, send half, close). Open
connections are tracked so `stop()` can end idle keep-alive connections at once.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import socketserver
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, cast

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
CONTROL_PREFIX = "/_simulator/"


@dataclass(frozen=True)
class Answer:
    """What to send back for one request."""

    status: int | None
    """None: close the connection without sending anything."""
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = JSON_CONTENT_TYPE
    cut_at: int | None = None
    """Send only this many body bytes (Content-Length still promises all), then close."""


class AnswerSource(Protocol):
    def answer(self, method: str, target: str, headers: Mapping[str, str]) -> Answer: ...

    def control(self, method: str, target: str, body: bytes) -> Answer: ...


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], source: AnswerSource) -> None:
        self.source = source
        self._connections_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        super().__init__(address, SimulatorRequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall for seconds on a
        # machine without DNS; the name is never used here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-request (a timeout under test, a stopped exporter) is
        # normal here; socketserver would print a traceback to stderr for it.
        logging.getLogger("exporter.simulator").debug(
            "connection from %s ended with an error", client_address, exc_info=True
        )

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def wake(self) -> None:
        """Connect to the listening socket once, so a waiting select() returns."""
        address = self.server_address
        with (
            contextlib.suppress(OSError),
            socket.create_connection((str(address[0]), int(address[1])), timeout=1),
        ):
            pass

    def close_connections(self) -> None:
        """Wake every handler thread blocked on an idle keep-alive connection."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class SimulatorIPv6HTTPServer(SimulatorHTTPServer):
    address_family = socket.AF_INET6


class SimulatorRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are two writes; without this, Nagle plus delayed ACKs would add 40 ms
    # to keep-alive requests.
    disable_nagle_algorithm = True
    timeout = 300
    server_version = "simulated-digitalocean"
    sys_version = ""

    def _source(self) -> AnswerSource:
        return cast(SimulatorHTTPServer, self.server).source

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length and length.isdigit():
            return self.rfile.read(int(length))
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            # The body is not read, so the connection cannot carry another request.
            self.close_connection = True
        return b""

    def _from_loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.client_address[0]).is_loopback
        except ValueError:
            return False

    def _dispatch(self, method: str) -> None:
        body = self._read_body()
        if self.path.startswith(CONTROL_PREFIX):
            if self._from_loopback():
                answer = self._source().control(method, self.path, body)
            else:
                answer = Answer(
                    403, b'{"id":"forbidden","message":"The control API answers loopback only."}'
                )
        else:
            try:
                answer = self._source().answer(method, self.path, dict(self.headers.items()))
            except Exception:
                # A bug in the simulator must look like a server error to the client under
                # test, not like a network failure; the traceback goes to the log.
                logging.getLogger("exporter.simulator").exception("simulator failed: %s", method)
                answer = Answer(
                    500, b'{"id":"server_error","message":"Unexpected server-side error"}'
                )
        self._write(answer, send_body=method != "HEAD")

    def _write(self, answer: Answer, *, send_body: bool) -> None:
        if answer.status is None:
            self.close_connection = True
            return
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if not send_body:
            return
        if answer.cut_at is None:
            self.wfile.write(answer.body)
            return
        self.wfile.write(answer.body[: answer.cut_at])
        self.close_connection = True

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_OPTIONS(self) -> None:
        self._dispatch("OPTIONS")

    def log_message(self, format: str, *args: Any) -> None:
        # Silence the default per-request stderr line; the request log records every call.
        return
