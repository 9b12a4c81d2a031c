"""Running a service: the development server, or gunicorn for production.

``vcred serve`` uses the threaded Werkzeug server on loopback for local use and tests; the
documented production command is gunicorn with the app factory, e.g.::

    gunicorn -w 4 -b 0.0.0.0:8000 'issuer_app:create_app()'
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server


def serve_forever(app: Flask, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve ``app`` until interrupted (threaded development server)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    make_server(host, port, app, threaded=True).serve_forever()


@contextmanager
def serving(app: Flask, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[BaseWSGIServer]:
    """Serve ``app`` in a background thread for the duration of the block (port 0: any)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
