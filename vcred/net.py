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
import urllib.parse
from collections.abc import Collection, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Final, NamedTuple, Protocol, runtime_checkable

from vcred.errors import (
    ErrorResponseError,
    FetchRefusedError,
    MalformedError,
    ResolutionError,
    TimeBudgetError,
    UnreachableError,
    UsageError,
)
from vcred.urls import IPAddress, Url, http_url, parse_url

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


#: IPv6 ranges no fetch may reach, named. ``ipaddress``'s own tables differ between Python
#: versions (3.11 calls 6to4, local-use NAT64, site-local and 3fff::/20 global), so the ranges
#: the special-purpose registries list are spelled out here; ``is_global`` is checked too.
_REFUSED_V6: Final = tuple(
    (ipaddress.IPv6Network(network), name)
    for network, name in (
        ("::/128", "the unspecified address"),
        ("::1/128", "loopback"),
        ("::/96", "an IPv4-compatible address (deprecated, RFC 4291)"),
        ("::ffff:0:0:0/96", "an IPv4-translated address (RFC 2765)"),
        ("64:ff9b:1::/48", "local-use NAT64 (RFC 8215)"),
        ("100::/64", "discard-only (RFC 6666)"),
        ("2001::/32", "Teredo (RFC 4380)"),
        ("2001:2::/48", "benchmarking (RFC 5180)"),
        ("2001:db8::/32", "documentation (RFC 3849)"),
        ("2002::/16", "6to4 (RFC 3056, deprecated by RFC 7526)"),
        ("3fff::/20", "documentation (RFC 9637)"),
        ("5f00::/16", "SRv6 SIDs (RFC 9602)"),
        ("fc00::/7", "unique local (RFC 4193)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (deprecated, RFC 3879)"),
        ("ff00::/8", "multicast"),
    )
)
_REFUSED_V4: Final = tuple(
    (ipaddress.IPv4Network(network), name)
    for network, name in (
        ("0.0.0.0/8", "this network (RFC 791)"),
        ("127.0.0.0/8", "loopback"),
        ("100.64.0.0/10", "shared address space (RFC 6598)"),
        ("169.254.0.0/16", "link-local (cloud metadata)"),
        ("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
        ("192.88.99.0/24", "6to4 relay anycast (deprecated, RFC 7526)"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
    )
)
#: NAT64's well-known prefix (RFC 6052): the last 32 bits are the IPv4 host reached.
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")


def address_refusal(address: IPAddress) -> str | None:
    """Why no fetch may connect to ``address``, or None when it may: the one address policy.

    Used for DNS answers and for literal hosts alike. An IPv6 address that carries an IPv4
    one (IPv4-mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::a.b.c.d``) is judged by the IPv4
    address it reaches; the other IPv6 forms that embed IPv4 (IPv4-compatible,
    IPv4-translated, 6to4, Teredo, local-use NAT64) are refused outright.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            return "a scoped IPv6 address"
        embedded = address.ipv4_mapped
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            reason = address_refusal(embedded)
            return None if reason is None else f"it reaches {embedded}: {reason}"
    refused = _REFUSED_V6 if isinstance(address, ipaddress.IPv6Address) else _REFUSED_V4
    for network, name in refused:
        if address in network:
            return name
    if address.is_private or not address.is_global:
        return "not a globally reachable address"
    if address.is_reserved or address.is_multicast or address.is_link_local:
        return "a reserved address"
    return None


def address_is_public(address: str) -> bool:
    """Whether an IP address (text) may be contacted from a service exposed to the internet."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return address_refusal(ip) is None


class TimeBudget(NamedTuple):
    """One overall deadline that every fetch of a verification shares (monotonic seconds).

    Immutable; a named tuple, not a frozen dataclass: every verify() makes one, and a frozen
    dataclass's __init__ costs several times more."""

    seconds: float
    deadline: float

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def spent(self, what: str) -> TimeBudgetError:
        return TimeBudgetError(
            f"the verification's time budget of {self.seconds:g} s is spent: {what}"
        )


_BUDGET: ContextVar[TimeBudget | None] = ContextVar("vcred_time_budget", default=None)


def time_budget(seconds: float) -> _BudgetScope:
    """Share one time budget among every fetch made inside (in this thread or task):
    ``with time_budget(seconds) as budget: ...``.

    A nested budget never outlasts the one around it: a credential inside a presentation, or
    a status list being verified, spends what its presentation or credential has left.
    """
    return _BudgetScope(seconds)


class _BudgetScope:
    """The context manager of :func:`time_budget` (a class: every verify() enters one, and a
    generator-based one costs several times more)."""

    __slots__ = ("_seconds", "_token")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._token: Token[TimeBudget | None] | None = None

    def __enter__(self) -> TimeBudget:
        started = time.monotonic()
        outer = _BUDGET.get()
        if outer is not None and outer.deadline <= started + self._seconds:
            return outer
        budget = TimeBudget(seconds=self._seconds, deadline=started + self._seconds)
        self._token = _BUDGET.set(budget)
        return budget

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _BUDGET.reset(self._token)
            self._token = None


def budget_left(what: str) -> float | None:
    """Seconds left in the current time budget (None: there is none).

    Raises TimeBudgetError, naming the budget and ``what``, once it is spent: every fetch path
    (GuardedFetcher, did:web resolution, status lists) calls this before fetching.
    """
    budget = _BUDGET.get()
    if budget is None:
        return None
    left = budget.remaining()
    if left <= 0:
        raise budget.spent(what)
    return left


def mapped_origin(host_map: Mapping[str, str], url: str | Url) -> str | None:
    """The local origin ``host_map`` sends ``url``'s host (``host`` or ``host:port``) to."""
    target = _fetched_url(url) if isinstance(url, str) else url
    return host_map.get(target.authority if target.port else target.host or "")


def check_host_map(host_map: Mapping[str, str]) -> None:
    """Raises UsageError unless every origin of ``host_map`` is an http(s) URL: a mapping is
    checked when a client is made, not at its first fetch."""
    for host, origin in host_map.items():
        if http_url(origin) is None:
            raise UsageError(f"host_map: the origin for {host!r} must be an http(s) URL")


def host_map_of(entries: str | Collection[str]) -> dict[str, str]:
    """``HOST=ORIGIN`` pairs (``--host-map`` options, or one comma-separated string from the
    environment) as a host map, checked by :func:`check_host_map`.

    Raises UsageError for an entry without ``=`` or an origin that is not http(s).
    """
    items = entries.split(",") if isinstance(entries, str) else list(entries)
    mapping: dict[str, str] = {}
    for raw in items:
        entry = raw.strip()
        if not entry:
            continue
        host, sep, origin = entry.partition("=")
        if not sep or not host.strip() or not origin.startswith(("http://", "https://")):
            raise UsageError(f"a host map entry is HOST=http(s)://ORIGIN, not {entry!r}")
        mapping[host.strip()] = origin.strip().rstrip("/")
    check_host_map(mapping)
    return mapping


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer as :meth:`GuardedFetcher.exchange` read it (at most its cap)."""

    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardedFetcher:
    """An SSRF-guarded HTTP(S) client for DID documents and status lists (and, with
    :meth:`post_form`, a service's requests to an authorization server's token endpoint;
    with :meth:`exchange`, the wallet's requests, :class:`vcred.wallet.transport.HttpTransport`).

    ``host_map`` sends an exact host to a local origin (``{"us.customs.example":
    "http://127.0.0.1:8001"}``) — the explicit mapping that development and the demo use;
    mapped origins may be http and loopback. ``allow_private`` (development only) lets
    unmapped hosts resolve to loopback/private addresses and allows http.
    ``deadline`` bounds one fetch; inside a :func:`time_budget` a fetch also gets no more
    than what is left of it.
    """

    host_map: Mapping[str, str] = field(default_factory=dict)
    allow_private: bool = False
    connect_timeout: float = 3.0
    deadline: float = 5.0
    user_agent: str = "vcred"

    def __post_init__(self) -> None:
        check_host_map(self.host_map)

    def fetch(self, url: str, *, accept: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        return self._send("GET", url, headers=self._headers(accept), cap=max_bytes).body

    def _headers(self, accept: str, headers: Mapping[str, str] | None = None) -> dict[str, str]:
        return {**(headers or {}), "Accept": accept, "User-Agent": self.user_agent}

    def post_form(
        self,
        url: str,
        form: Mapping[str, str],
        *,
        accept: str,
        headers: Mapping[str, str] | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        error_statuses: Collection[int] = (),
    ) -> bytes:
        """The body of a 200 answer to ``form`` POSTed (application/x-www-form-urlencoded),
        under the rules of :meth:`fetch`: the same address checks, no redirects, the size cap
        and the deadline. Raises as :meth:`fetch`; for an answer of one of ``error_statuses``
        (a token endpoint's 400 and 401, RFC 6749 §5.2), ErrorResponseError holding its body,
        read by the same capped reader."""
        body = urllib.parse.urlencode(form).encode("ascii")
        sent = {**(headers or {}), "Content-Type": "application/x-www-form-urlencoded"}
        return self._send(
            "POST",
            url,
            headers=self._headers(accept, sent),
            cap=max_bytes,
            body=body,
            error_statuses=frozenset(error_statuses),
        ).body

    def exchange(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Answer:
        """One request under the rules of :meth:`fetch` (the address checks, the size cap,
        the deadline and the verification's time budget), answered whatever its status: a
        redirect is handed back, not followed. ``headers`` are sent as given (with a
        User-Agent unless they name one). Raises FetchRefusedError / UnreachableError /
        TimeBudgetError when there is no answer to hand back."""
        sent = {"User-Agent": self.user_agent, **headers}
        return self._send(method, url, headers=sent, body=body, cap=max_bytes, any_status=True)

    def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        cap: int,
        body: bytes | None = None,
        error_statuses: frozenset[int] = frozenset(),
        any_status: bool = False,
    ) -> Answer:
        """The checked exchange; unless ``any_status``, an answer other than 200 (or one of
        ``error_statuses``, read and raised in an ErrorResponseError) is refused unread."""
        target = _fetched_url(url)
        if target.userinfo is not None:
            raise FetchRefusedError("URLs with credentials are refused")
        origin = mapped_origin(self.host_map, target)
        mapped = origin is not None
        location = _fetched_url(origin) if origin is not None else target
        scheme = location.scheme
        if scheme != "https" and not (scheme == "http" and (mapped or self.allow_private)):
            raise FetchRefusedError(f"only https URLs are fetched, not {url[:200]!r}")
        host, port = location.host or "", location.effective_port or 443
        address = self._checked_address(location, allow_private=mapped or self.allow_private)
        request = _Request(method, target.request_target, headers, body)
        answer = self._exchange(
            scheme, host, address, port, request, cap, error_statuses, any_status=any_status
        )
        if answer.status != 200 and not any_status:
            raise ErrorResponseError(
                f"{method} {host}{request.path} answered {answer.status}",
                status=answer.status,
                body=answer.body,
            )
        return answer

    def _checked_address(self, location: Url, *, allow_private: bool) -> str:
        """The address to connect to: the literal host, or the first DNS answer; every one
        must pass :func:`address_refusal` (unless private addresses are allowed)."""
        host = location.host or ""
        literal = location.ip
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        else:
            budget_left(f"{host!r} was not resolved")
            try:
                infos = socket.getaddrinfo(host, location.effective_port, type=socket.SOCK_STREAM)
            except (socket.gaierror, UnicodeError) as exc:
                raise UnreachableError(f"cannot resolve host {host!r}") from exc
            addresses = [_answer(host, info[4][0]) for info in infos]
        if not addresses:
            raise ResolutionError(f"no address for host {host!r}")
        if not allow_private:
            for address in addresses:
                reason = address_refusal(address)
                if reason is not None:
                    raise FetchRefusedError(
                        f"{host!r} is a non-public address ({address}, {reason}); refused"
                        if literal is not None
                        else f"{host!r} resolves to a non-public address ({address}, {reason}); "
                        "refused"
                    )
        chosen = addresses[0]
        # an IPv4-mapped answer is connected to as the IPv4 address it was judged as
        if isinstance(chosen, ipaddress.IPv6Address) and chosen.ipv4_mapped is not None:
            return str(chosen.ipv4_mapped)
        return str(chosen)

    def _exchange(
        self,
        scheme: str,
        host: str,
        address: str,
        port: int,
        request: _Request,
        cap: int,
        error_statuses: frozenset[int] = frozenset(),
        *,
        any_status: bool = False,
    ) -> Answer:
        """The one capped read: a 200 answer (or one of ``error_statuses``, or with
        ``any_status`` any answer), its body at most ``cap`` bytes, within the deadline for
        the whole exchange; another answer is refused before its body is read."""
        started = time.monotonic()
        what = f"{request.method} {host}{request.path}"
        left = budget_left(f"{what} was not sent")
        deadline = self.deadline if left is None else min(self.deadline, left)
        timeout = min(self.connect_timeout, deadline)
        connection: _PinnedHTTPConnection | _PinnedHTTPSConnection
        if scheme == "https":
            connection = _PinnedHTTPSConnection(host, address, port, timeout=timeout)
        else:
            connection = _PinnedHTTPConnection(host, address, port, timeout=timeout)
        # The socket timeout bounds each recv, not the whole answer: a host that sends one
        # byte every few seconds (slow loris) would hold this worker for hours. At the
        # deadline a watchdog shuts the socket, which ends whatever read is blocked.
        watchdog = threading.Timer(deadline, connection.abort)
        watchdog.daemon = True
        watchdog.name = "vcred-fetch-deadline"
        watchdog.start()
        too_slow: ResolutionError = UnreachableError(f"{what} took longer than {self.deadline}s")
        budget = _BUDGET.get()
        if budget is not None and deadline < self.deadline:
            # cut short by the verification's budget, not by the host: no stale copy stands in
            too_slow = budget.spent(f"{what} was cut short")
        response: http.client.HTTPResponse | None = None
        try:
            connection.request(
                request.method, request.path, body=request.body, headers=dict(request.headers)
            )
            response = connection.getresponse()
            status = response.status
            if not any_status and status != 200 and status not in error_statuses:
                if 300 <= status < 400:
                    raise FetchRefusedError(f"redirects are not followed ({status})")
                if status >= 500:
                    raise UnreachableError(f"{what} answered {status}")
                raise ResolutionError(f"{what} answered {status}")
            declared = response.getheader("Content-Length")
            # ASCII first: str.isdigit takes "²" (a Latin-1 header byte), which int() refuses
            if declared and declared.isascii() and declared.isdigit() and int(declared) > cap:
                raise FetchRefusedError(f"response larger than {cap} bytes")
            body = bytearray()
            while chunk := response.read1(min(65536, cap + 1 - len(body))):
                body += chunk
                if len(body) > cap:
                    raise FetchRefusedError(f"response larger than {cap} bytes")
                if time.monotonic() - started > deadline:
                    raise too_slow
            if connection.aborted:  # the end of the body was the watchdog's, not the host's
                raise too_slow
            content_type = response.getheader("Content-Type", "") or ""
            return Answer(status=status, content_type=content_type, body=bytes(body))
        except (OSError, http.client.HTTPException) as exc:
            # the socket's own timeout may fire at the deadline before the watchdog does
            if connection.aborted or (
                isinstance(exc, TimeoutError) and time.monotonic() - started >= deadline
            ):
                raise too_slow from exc
            raise UnreachableError(f"{what} failed: {exc.__class__.__name__}") from exc
        finally:
            watchdog.cancel()
            # an unread response keeps the socket open past connection.close()
            if response is not None:
                response.close()
            connection.close()


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes | None


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


def _fetched_url(url: str) -> Url:
    """``url`` read by :func:`vcred.urls.parse_url`; a URL it cannot read is not fetched."""
    try:
        parsed = parse_url(url)
    except MalformedError as exc:
        raise FetchRefusedError(f"not fetched: {exc.message}") from exc
    if parsed.host is None:  # ``https:x``: no host to check, nothing to connect to
        raise FetchRefusedError(f"not fetched: {url[:200]!r} names no host")
    return parsed


def _answer(host: str, address: object) -> IPAddress:
    """One DNS answer as an address (a resolver's garbage is refused, not connected to)."""
    try:
        return ipaddress.ip_address(str(address))
    except ValueError as exc:
        raise FetchRefusedError(f"{host!r} resolved to {str(address)[:60]!r}; refused") from exc
