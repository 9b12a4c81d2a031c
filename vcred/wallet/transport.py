"""How the wallet talks to issuers: a :class:`Transport` (tests hand in one over a Flask test
client), and :class:`HttpTransport`, the guarded HTTP(S) client the CLI uses.
:class:`TransportFetcher` lends a transport to the library's verifier, so the DID documents a
received credential is checked against come through the same guard and host map.

The URLs come from offers, that is from strangers: like :class:`vcred.net.GuardedFetcher`,
only https is used and non-public addresses are refused (the one address policy,
:func:`vcred.net.address_refusal`), redirects are not followed and answers are capped —
unless ``allow_private`` (a development issuer on loopback).
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol

from vcred.errors import FetchRefusedError, ResolutionError, UnreachableError
from vcred.net import (
    DEFAULT_MAX_BYTES,
    address_refusal,
    budget_left,
    check_host_map,
    mapped_origin,
)
from vcred.urls import http_url, parse_url

MAX_ANSWER_BYTES: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content_type: str
    body: bytes


class Transport(Protocol):
    """One HTTP exchange; raises ResolutionError / FetchRefusedError when there is none."""

    def request(
        self, method: str, url: str, *, body: bytes | None = None, headers: Mapping[str, str]
    ) -> Answer: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpTransport:
    """HTTP(S) with the SSRF guard; ``allow_private`` admits http and loopback issuers.
    ``timeout`` bounds a whole exchange (connecting, the handshake, the answer to its end).

    ``host_map`` sends an exact host to a local origin (``{"us.customs.example":
    "http://127.0.0.1:8001"}``), as :class:`vcred.net.GuardedFetcher` does: the explicit
    mapping of development and the demo; mapped origins may be http and loopback.
    """

    allow_private: bool = False
    host_map: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 10.0

    def __post_init__(self) -> None:
        check_host_map(self.host_map)

    def request(
        self, method: str, url: str, *, body: bytes | None = None, headers: Mapping[str, str]
    ) -> Answer:
        target = http_url(url)
        if target is None:
            raise FetchRefusedError(f"only http(s) URLs are followed, not {url[:200]!r}")
        if target.userinfo is not None:
            raise FetchRefusedError("URLs with credentials are refused")
        origin = mapped_origin(self.host_map, target)
        location = parse_url(origin) if origin is not None else target
        private = origin is not None or self.allow_private
        if location.scheme == "http" and not private:
            raise FetchRefusedError(f"only https URLs are followed, not {url[:200]!r}")
        host = location.host or ""
        port = location.effective_port or 443
        address = self._address(host, port, allow_private=private)
        connection: http.client.HTTPConnection
        if location.scheme == "https":
            connection = http.client.HTTPSConnection(host, port, timeout=self.timeout)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self.timeout)
        # the socket timeout bounds each read, not the answer: a host dripping a byte at a
        # time would hold the wallet for as long as it liked; at ``timeout`` the watchdog
        # shuts the socket, which ends whatever read is blocked
        watchdog = _Watchdog(self.timeout)
        too_slow = UnreachableError(f"{method} {url[:200]} took longer than {self.timeout:g} s")
        response: http.client.HTTPResponse | None = None
        try:
            # connect to the address that was checked, not to whatever DNS answers next; a
            # refused connection or a failed handshake is the host's failure, typed as such
            connection.sock = watchdog.watch(
                socket.create_connection((address, port), timeout=self.timeout)
            )
            if location.scheme == "https":
                connection.sock = ssl.create_default_context().wrap_socket(
                    connection.sock, server_hostname=host
                )
            connection.request(method, target.request_target, body=body, headers=dict(headers))
            response = connection.getresponse()
            data = response.read(MAX_ANSWER_BYTES + 1)
            if watchdog.fired:  # the end of the answer was the watchdog's, not the host's
                raise too_slow
            if len(data) > MAX_ANSWER_BYTES:
                raise FetchRefusedError(f"answer larger than {MAX_ANSWER_BYTES} bytes")
            content_type = response.getheader("Content-Type", "") or ""
            return Answer(status=response.status, content_type=content_type, body=data)
        except (OSError, http.client.HTTPException) as exc:
            if watchdog.fired:
                raise too_slow from exc
            raise UnreachableError(f"{method} {url[:200]} failed: {type(exc).__name__}") from exc
        finally:
            watchdog.cancel()
            # an unread response keeps the socket open past connection.close()
            if response is not None:
                response.close()
            connection.close()

    def _address(self, host: str, port: int, *, allow_private: bool) -> str:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise UnreachableError(f"cannot resolve host {host!r}") from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        if not addresses:
            raise UnreachableError(f"no address for host {host!r}")
        if not allow_private:
            for address in addresses:
                reason = address_refusal(address)
                if reason is not None:
                    raise FetchRefusedError(f"{host!r} is a non-public address ({reason})")
        return str(addresses[0])


@dataclass(frozen=True, slots=True)
class TransportFetcher:
    """A :class:`vcred.net.Fetcher` over a wallet :class:`Transport`: one network policy for
    the wallet, whether it talks OpenID4VCI or resolves an issuer's DID.

    Only a 200 answer is a document, as for :class:`vcred.net.GuardedFetcher`: a redirect is
    refused (not followed), a 5xx is the host's failure, anything else a resolution failure.
    """

    transport: Transport

    def fetch(self, url: str, *, accept: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        """The body of a 200 answer. Raises FetchRefusedError, UnreachableError,
        ResolutionError (and TimeBudgetError once the verification's time is spent)."""
        what = f"GET {url[:200]}"
        budget_left(f"{what} was not sent")
        answer = self.transport.request("GET", url, headers={"Accept": accept})
        if 300 <= answer.status < 400:
            raise FetchRefusedError(f"redirects are not followed ({what}: {answer.status})")
        if answer.status >= 500:
            raise UnreachableError(f"{what} answered {answer.status}")
        if answer.status != 200:
            raise ResolutionError(f"{what} answered {answer.status}")
        if len(answer.body) > max_bytes:
            raise FetchRefusedError(f"{what}: answer larger than {max_bytes} bytes")
        return answer.body


class _Watchdog:
    """Shuts the socket it watches once ``seconds`` have passed (started at once)."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._socket: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.name = "vcred-wallet-deadline"
        self._timer.start()

    def watch(self, sock: socket.socket) -> socket.socket:
        self._socket = sock
        if self.fired:  # the time ran out while connecting
            self._shut()
        return sock

    def cancel(self) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        self.fired = True
        self._shut()

    def _shut(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
