"""Serving the simulator with the standard library: wsgiref, one thread per connection.

wsgiref alone answers one request per connection over HTTP/1.0. The X-Road client keeps a
connection pool, as it would with a real Security Server, so the handler here speaks
HTTP/1.1 and keeps connections alive; otherwise every benchmark request would pay for a new
connection and a new thread, and the pool would never be exercised.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import IO, Any, cast
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server

from .app import TundukSimulator

IDLE_SECONDS = 30  # a kept-alive connection nobody uses is closed after this


class _ServerHandler(ServerHandler):
    http_version = "1.1"


class QuietKeepAliveHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    # wsgiref writes status, headers and body separately; with Nagle's algorithm and the
    # client's delayed ACK every kept-alive answer would wait ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """No access log: a benchmark sends thousands of requests."""

    def handle(self) -> None:
        self.close_connection = True
        self._handle_one()
        while not self.close_connection:
            self._handle_one()

    def _handle_one(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except OSError:  # idle timeout, reset by the client
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            self.close_connection = True
            return
        if not self.parse_request():  # an error was sent
            self.close_connection = True
            return
        if self.headers.get("Transfer-Encoding"):  # wsgiref cannot read chunked bodies
            self.close_connection = True
        handler = _ServerHandler(
            self.rfile,
            cast(IO[bytes], self.wfile),
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.request_handler = self  # type: ignore[attr-defined]  # wsgiref's back-pointer
        handler.run(self.server.get_app())  # type: ignore[attr-defined]


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a hanging request must not keep the process alive
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout, reset) is normal here: faults make them."""


def server_make(app: TundukSimulator, host: str = "127.0.0.1", port: int = 0) -> WSGIServer:
    """A bound server (port 0: any free port, read it from ``server.server_port``)."""
    return make_server(
        host, port, app, server_class=ThreadingWSGIServer, handler_class=QuietKeepAliveHandler
    )


def server_url(server: WSGIServer) -> str:
    host, port = server.server_address[:2]
    if isinstance(host, bytes):
        host = host.decode()
    return f"http://{host}:{port}"


@dataclass
class RunningSimulator:
    """A simulator serving from a background thread (tests, the demo, benchmarks)."""

    app: TundukSimulator
    server: WSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return server_url(self.server)

    def stop(self) -> None:
        self.app.close()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_in_thread(
    app: TundukSimulator, host: str = "127.0.0.1", port: int = 0
) -> RunningSimulator:
    server = server_make(app, host, port)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    return RunningSimulator(app=app, server=server, thread=thread)
