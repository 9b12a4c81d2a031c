"""Running a service: the development server, or gunicorn for production.

``vcred serve`` uses the threaded Werkzeug server on loopback for local use and tests; the
documented production command is gunicorn with the app factory, e.g.::

    gunicorn -w 4 -b 0.0.0.0:8000 'issuer_app:create_app()'
"""

from __future__ import annotations

import errno
import gc
import logging
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from werkzeug.serving import BaseWSGIServer, get_sockaddr, make_server, select_address_family

from vcred.errors import UsageError

_LAST_PORT = 65535


def freeze_startup_heap() -> None:
    """Keep what a worker process built at start out of the cyclic garbage collector's full
    passes: the app, its schemas, contexts, keys and imported modules (about 110,000 objects
    for the verifier) are never garbage while it serves, yet every full pass walks them all —
    one every few batches of 100 verifications, some 80 ms each. Garbage made at start is
    collected first; what is frozen stays for the life of the process.

    https://docs.python.org/3/library/gc.html#gc.freeze
    """
    gc.collect()
    gc.freeze()


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening, for :func:`serve_forever`.

    ``vcred serve`` takes its port first, so that a busy port stops it before it writes
    anything (keys, a one-time admin token, the public URL it records). Raises UsageError.
    """
    if not 0 <= port <= _LAST_PORT:  # getaddrinfo would quietly take it modulo 65536
        raise UsageError(f"cannot listen on {host}:{port}: a port is 0–{_LAST_PORT}")
    family = select_address_family(host, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as socketserver does
        sock.bind(get_sockaddr(host, port, family))
        sock.listen(socket.SOMAXCONN)
    except OSError as exc:
        sock.close()
        reason = "it is in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
        raise UsageError(f"cannot listen on {host}:{port}: {reason}") from exc
    return sock


def writable_folder(path: Path) -> Path:
    """``path``, created if needed, after proving a file can be written there.

    Raises UsageError (not a traceback at the first database write) when it cannot.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(f"the data folder {path} cannot be written: {reason}") from exc
    return path


def serve_forever(
    app: Flask, *, host: str = "127.0.0.1", port: int = 8000, sock: socket.socket | None = None
) -> None:
    """Serve ``app`` until interrupted (threaded development server), on ``sock`` if given
    (from :func:`listen`)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if sock is None:
        make_server(host, port, app, threaded=True).serve_forever()
        return
    server = make_server(host, port, app, threaded=True, fd=sock.fileno())
    sock.close()  # the server holds its own duplicate of the descriptor
    server.serve_forever()


@contextmanager
def serving(app: Flask, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[BaseWSGIServer]:
    """Serve ``app`` in a background thread for the duration of the block (port 0: any)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="vcred-serve", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join()  # shutdown() returns as serve_forever does: the thread is ending
        server.server_close()
