"""A tiny local HTTP server for tests: routes map a path to (status, headers, body), for GET
and POST alike."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up early (size caps, deadlines) are what the tests want: no traceback."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LocalServer:
    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.slow: dict[str, float] = {}
        # path -> (where, until): a slow loris that sends one byte every 20 ms, in the
        # headers or in the body, until the event is set (then the connection closes)
        self.trickle: dict[str, tuple[str, threading.Event]] = {}
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits.append(self.path)
                if self.path in server.trickle:
                    self._trickle(*server.trickle[self.path])
                    return
                status, headers, body = server.routes.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers and self.path not in server.slow:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                delay = server.slow.get(self.path)
                if delay is None:
                    self.wfile.write(body)
                    return
                for i in range(0, len(body), 16):
                    self.wfile.write(body[i : i + 16])
                    self.wfile.flush()
                    time.sleep(delay)

            def do_POST(self) -> None:
                # the request body is read and dropped: a POST is answered as a GET would be
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.do_GET()

            def _trickle(self, where: str, until: threading.Event) -> None:
                self.close_connection = True
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                if where == "body":
                    self.wfile.write(b"Content-Type: application/json\r\n\r\n")
                else:
                    self.wfile.write(b"X-Slow: ")
                while not until.wait(0.02):
                    try:
                        self.wfile.write(b"x")
                        self.wfile.flush()
                    except OSError:  # the client gave up
                        return

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"

    def serve(self, path: str, body: bytes, *, status: int = 200, **headers: str) -> None:
        self.routes[path] = (status, {k.replace("_", "-"): v for k, v in headers.items()}, body)

    def start(self) -> None:
        threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="vcred-test-http",
            daemon=True,
        ).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def local_server() -> Iterator[LocalServer]:
    server = LocalServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def free_port() -> int:
    """A loopback port free now (the OS's pick), for a server a test starts as a process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
