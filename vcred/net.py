"""Network access for DID documents and status lists: the :class:`Fetcher` plug point.

vcred never opens a connection by itself. A verifier hands in a Fetcher; without one,
did:web resolution and status-list retrieval fail closed. :class:`GuardedFetcher` is the
production implementation: HTTPS only, every resolved address must be public (no loopback,
private, link-local, cloud-metadata or reserved ranges), the connection goes to the address
that was checked (no DNS rebinding), no redirects, a size cap and a deadline.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from vcred.errors import FetchRefusedError, ResolutionError, UnreachableError

DEFAULT_MAX_BYTES = 100 * 1024


@runtime_checkable
class Fetcher(Protocol):
    """Fetch a document by URL, refusing what policy forbids."""

    def fetch(self, url: str, *, accept: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        """The body of a 200 response.

        Raises FetchRefusedError (policy), UnreachableError (network, timeout, 5xx) or
        ResolutionError (any other answer).
        """
        ...


def address_is_public(address: str) -> bool:
    """Whether an IP address may be contacted from a service exposed to the internet."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local)


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardedFetcher:
    """An SSRF-guarded HTTP(S) client for DID documents and status lists.

    ``host_map`` sends an exact host to a local origin (``{"us.customs.example":
    "http://127.0.0.1:8001"}``) — the explicit mapping that development and the demo use;
    mapped origins may be http and loopback. ``allow_private`` (development only) lets
    unmapped hosts resolve to loopback/private addresses and allows http.
    """

    host_map: Mapping[str, str] = field(default_factory=dict)
    allow_private: bool = False
    connect_timeout: float = 3.0
    deadline: float = 5.0
    user_agent: str = "vcred"

    def fetch(self, url: str, *, accept: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        parts = urlsplit(url)
        if parts.username or parts.password:
            raise FetchRefusedError("URLs with credentials are refused")
        host = parts.hostname or ""
        origin = self.host_map.get(host if parts.port is None else f"{host}:{parts.port}")
        mapped = origin is not None
        if origin is not None:
            target = urlsplit(origin)
            scheme, host, port = target.scheme, target.hostname or "", target.port
        else:
            scheme, port = parts.scheme, parts.port
        if scheme != "https" and not (scheme == "http" and (mapped or self.allow_private)):
            raise FetchRefusedError(f"only https URLs are fetched, not {url[:200]!r}")
        port = port or (443 if scheme == "https" else 80)
        address = self._checked_address(host, port, allow_private=mapped or self.allow_private)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return self._get(scheme, host, address, port, path, accept, max_bytes)

    def _checked_address(self, host: str, port: int, *, allow_private: bool) -> str:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise UnreachableError(f"cannot resolve host {host!r}") from exc
        addresses = [str(info[4][0]) for info in infos]
        if not addresses:
            raise ResolutionError(f"no address for host {host!r}")
        if not allow_private:
            for address in addresses:
                if not address_is_public(address):
                    raise FetchRefusedError(
                        f"{host!r} resolves to a non-public address ({address}); refused"
                    )
        return addresses[0]

    def _get(
        self, scheme: str, host: str, address: str, port: int, path: str, accept: str, cap: int
    ) -> bytes:
        started = time.monotonic()
        connection: _PinnedHTTPConnection | _PinnedHTTPSConnection
        if scheme == "https":
            connection = _PinnedHTTPSConnection(host, address, port, timeout=self.connect_timeout)
        else:
            connection = _PinnedHTTPConnection(host, address, port, timeout=self.connect_timeout)
        # The socket timeout bounds each recv, not the whole answer: a host that sends one
        # byte every few seconds (slow loris) would hold this worker for hours. At the
        # deadline a watchdog shuts the socket, which ends whatever read is blocked.
        watchdog = threading.Timer(self.deadline, connection.abort)
        watchdog.daemon = True
        watchdog.start()
        too_slow = UnreachableError(f"GET {host}{path} took longer than {self.deadline}s")
        response: http.client.HTTPResponse | None = None
        try:
            connection.request(
                "GET", path, headers={"Accept": accept, "User-Agent": self.user_agent}
            )
            response = connection.getresponse()
            if 300 <= response.status < 400:
                raise FetchRefusedError(f"redirects are not followed ({response.status})")
            if response.status >= 500:
                raise UnreachableError(f"GET {host}{path} answered {response.status}")
            if response.status != 200:
                raise ResolutionError(f"GET {host}{path} answered {response.status}")
            declared = response.getheader("Content-Length")
            if declared and declared.isdigit() and int(declared) > cap:
                raise FetchRefusedError(f"response larger than {cap} bytes")
            body = bytearray()
            while chunk := response.read1(min(65536, cap + 1 - len(body))):
                body += chunk
                if len(body) > cap:
                    raise FetchRefusedError(f"response larger than {cap} bytes")
                if time.monotonic() - started > self.deadline:
                    raise too_slow
            if connection.aborted:  # the end of the body was the watchdog's, not the host's
                raise too_slow
            return bytes(body)
        except (OSError, http.client.HTTPException) as exc:
            if connection.aborted:
                raise too_slow from exc
            raise UnreachableError(f"GET {host}{path} failed: {exc.__class__.__name__}") from exc
        finally:
            watchdog.cancel()
            # an unread response keeps the socket open past connection.close()
            if response is not None:
                response.close()
            connection.close()


class _Abortable:
    """A connection a watchdog thread can cut: shutting the socket ends a blocked read."""

    aborted: bool = False
    _raw: socket.socket | None = None

    def abort(self) -> None:
        self.aborted = True
        raw = self._raw
        if raw is not None:
            with contextlib.suppress(OSError):
                raw.shutdown(socket.SHUT_RDWR)


class _PinnedHTTPConnection(_Abortable, http.client.HTTPConnection):
    """Connects to the address that was checked, whatever DNS says now."""

    def __init__(self, host: str, address: str, port: int, *, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = self._raw = socket.create_connection((self._address, self.port), self.timeout)
        if self.aborted:  # the deadline passed while connecting
            self.abort()


class _PinnedHTTPSConnection(_Abortable, http.client.HTTPSConnection):
    def __init__(self, host: str, address: str, port: int, *, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        # kept before the handshake, so that a handshake sent byte by byte can be cut too
        sock = self._raw = socket.create_connection((self._address, self.port), self.timeout)
        if self.aborted:
            self.abort()
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]
