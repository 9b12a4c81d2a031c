"""One strict reading of every URL vcred meets, as a typed value.

RFC 3986 (https://www.rfc-editor.org/rfc/rfc3986) with the choices that leave no room for two
parsers to disagree about a URL a credential names: no whitespace, control or bidi characters;
no backslash; percent-escapes well formed and never ``%00``; a host is an ASCII DNS name
(internationalised names as A-labels, ``xn--…``), a dotted-quad IPv4 address or a bracketed
IPv6 address — a number that browsers would read as IPv4 (``2130706433``, ``0x7f.1``,
``0177.0.0.1``, ``127.1``) is refused, not guessed; a port is 1–65535.

:func:`parse_url` raises :class:`~vcred.errors.MalformedError` (a value in a document);
the fetcher turns that into :class:`~vcred.errors.FetchRefusedError`. Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Final

from vcred.errors import MalformedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
# RFC 3986 §2: what may appear outside the host; non-ASCII is allowed (RFC 3987 IRIs) when it
# is printable. Brackets belong to the host; backslash is a slash to WHATWG parsers.
_FORBIDDEN_ASCII: Final = re.compile(r'[\x00-\x20"<>\\^`{|}\x7f]')
_BRACKETS: Final = frozenset("[]")
_PCT: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")
_USERINFO: Final = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=:-]|%[0-9A-Fa-f]{2})*")
_LABEL: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# WHATWG URL §3.5 "ends in a number": such a host is an IPv4 address to browsers and libc
_NUMERIC_LABEL: Final = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")
_DOTTED_QUAD: Final = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}"
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
)
_PORT: Final = re.compile(r"[0-9]{1,5}")
_MEDIA_TYPE: Final = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+")
_PARAMETER: Final = re.compile(r"[A-Za-z0-9!#$&^_.+-]+=[A-Za-z0-9!#$&^_.+%-]*")
MAX_HOST_LENGTH: Final = 253
DEFAULT_PORTS: Final = {"https": 443, "http": 80}


@dataclass(frozen=True, slots=True, kw_only=True)
class Url:
    """An absolute URL, parsed once. ``host`` is None when there is no authority (``urn:``,
    ``did:``); otherwise lower-case ASCII, an IPv6 address without its brackets."""

    text: str
    scheme: str
    host: str | None = None
    port: int | None = None
    userinfo: str | None = None
    path: str = ""
    query: str | None = None
    fragment: str | None = None

    @property
    def ip(self) -> IPAddress | None:
        """The host as an IP address when it is one (a literal), else None."""
        if self.host is None or not (":" in self.host or _DOTTED_QUAD.fullmatch(self.host)):
            return None
        return ipaddress.ip_address(self.host)

    @property
    def effective_port(self) -> int | None:
        """The port, or the scheme's default (None for schemes without one)."""
        return self.port if self.port is not None else DEFAULT_PORTS.get(self.scheme)

    @property
    def authority(self) -> str:
        """``host[:port]`` as written in a URL (brackets around IPv6)."""
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host or ""
        return host if self.port is None else f"{host}:{self.port}"

    @property
    def request_target(self) -> str:
        """The path and query an HTTP request names (RFC 9112 §3.2.1 origin-form)."""
        return (self.path or "/") + (f"?{self.query}" if self.query is not None else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class DataUrl:
    """A ``data:`` URL (RFC 2397): its media type, parameters and decoded bytes."""

    media_type: str
    parameters: tuple[str, ...]
    data: bytes


def parse_url(value: object, *, pointer: str | None = None, what: str = "URL") -> Url:
    """``value`` as a :class:`Url`. Raises MalformedError (with ``pointer``) saying why not."""
    if not isinstance(value, str):
        raise MalformedError(f"{what} must be a string", pointer=pointer)
    parsed = _parse(value)
    if isinstance(parsed, str):
        raise MalformedError(f"{what} is not a valid URL: {parsed}", pointer=pointer)
    return parsed


def is_url(value: object) -> bool:
    """Whether ``value`` is an absolute URL :func:`parse_url` accepts (every verification
    asks this of a few URLs: the answer for one up to CACHED_LENGTH is remembered)."""
    if not isinstance(value, str):
        return False
    return _is_url_cached(value) if len(value) <= CACHED_LENGTH else isinstance(_read(value), Url)


def http_url(value: object) -> Url | None:
    """``value`` as an absolute http(s) URL with a host (the reading of :func:`parse_url`),
    else None: what a configured origin, endpoint or address to fetch must be."""
    if not is_url(value):
        return None
    parsed = parse_url(value)
    return parsed if parsed.scheme in ("http", "https") and parsed.host is not None else None


@lru_cache(maxsize=4096)
def _is_url_cached(text: str) -> bool:
    return isinstance(_parse_cached(text), Url)


def parse_data_url(value: object, *, pointer: str | None = None) -> DataUrl:
    """A ``data:`` URL's media type, parameters and bytes (base64 or percent-decoded).

    https://www.rfc-editor.org/rfc/rfc2397 — raises MalformedError.
    """
    if not isinstance(value, str) or not value.startswith("data:") or "," not in value:
        raise MalformedError("must be a data: URL", pointer=pointer)
    header, _, payload = value[5:].partition(",")
    media_type, *parameters = header.split(";")
    if not _MEDIA_TYPE.fullmatch(media_type):
        raise MalformedError(
            f"data: URL media type {media_type[:80]!r} is invalid", pointer=pointer
        )
    encoded = parameters[-1:] == ["base64"]
    if any(not _PARAMETER.fullmatch(p) for p in parameters[: -1 if encoded else None]):
        raise MalformedError("data: URL parameters must be name=value", pointer=pointer)
    if encoded:
        try:
            data = base64.b64decode(payload, validate=True)
        except binascii.Error as exc:
            raise MalformedError("invalid base64 in data: URL", pointer=pointer) from exc
        return DataUrl(media_type=media_type.lower(), parameters=tuple(parameters), data=data)
    reason = _escapes_problem(payload)
    if reason is not None:
        raise MalformedError(f"data: URL {reason}", pointer=pointer)
    return DataUrl(
        media_type=media_type.lower(), parameters=tuple(parameters), data=_unescape(payload)
    )


#: URLs up to this length are cached (documents repeat their URLs); longer ones, which only
#: a hostile document holds, are read every time rather than held in memory.
CACHED_LENGTH: Final = 2048


def _parse(text: str) -> Url | str:
    """The URL, or why it is not one."""
    return _parse_cached(text) if len(text) <= CACHED_LENGTH else _read(text)


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Url | str:
    return _read(text)


def _read(text: str) -> Url | str:
    scheme, colon, rest = text.partition(":")
    if not colon or not _SCHEME.fullmatch(scheme):
        return "it has no scheme"
    bad = _characters_problem(rest)
    if bad is not None:
        return bad
    rest, hash_sign, fragment = rest.partition("#")
    if "#" in fragment:
        return "'#' appears twice"
    rest, question, query = rest.partition("?")
    base = Url(
        text=text,
        scheme=scheme.lower(),
        query=query if question else None,
        fragment=fragment if hash_sign else None,
    )
    if not rest.startswith("//"):
        if not rest and not question:
            return "nothing follows the scheme"
        if _BRACKETS.intersection(rest + query + fragment):
            return "brackets outside an IPv6 host"
        return replace(base, path=rest)
    authority, slash, path = rest[2:].partition("/")
    userinfo, at, hostport = authority.rpartition("@")
    if _BRACKETS.intersection(userinfo + path + query + fragment):
        return "brackets outside an IPv6 host"
    if at and not _USERINFO.fullmatch(userinfo):
        return "the user information is invalid"
    host = _host(hostport, scheme=base.scheme)
    if isinstance(host, str):
        return host
    name, port = host
    return replace(base, host=name, port=port, userinfo=userinfo if at else None, path=slash + path)


def _characters_problem(text: str) -> str | None:
    forbidden = _FORBIDDEN_ASCII.search(text)
    if forbidden is not None:
        return f"it contains {forbidden.group()!r}"
    if not text.isprintable():  # format (bidi), separator, private-use, unassigned characters
        return f"it contains {next(c for c in text if not c.isprintable())!r}"
    return _escapes_problem(text)


def _escapes_problem(text: str) -> str | None:
    if _PCT.search(text):
        return "a '%' is not followed by two hexadecimal digits"
    if "%00" in text:
        return "it contains %00"
    return None


def _unescape(text: str) -> bytes:
    out = bytearray()
    i = 0
    raw = text.encode("utf-8")
    while i < len(raw):
        if raw[i] == 0x25:  # '%', followed by two hex digits (checked before)
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


def _host(hostport: str, *, scheme: str) -> tuple[str, int | None] | str:
    """(host, port) of an authority's ``host[:port]``, or why it is not one."""
    if hostport.startswith("["):
        literal, bracket, after = hostport[1:].partition("]")
        if not bracket:
            return "an IPv6 address is missing its ']'"
        if after and not after.startswith(":"):
            return "only a port may follow an IPv6 address"
        try:
            address = ipaddress.IPv6Address(literal)
        except ValueError:
            return f"{literal[:60]!r} is not an IPv6 address"
        if address.scope_id is not None:
            return "an IPv6 zone identifier is not allowed"
        host, port_text = str(address), after[1:] if after else None
    else:
        host, colon, port_text_raw = hostport.partition(":")
        port_text = port_text_raw if colon else None
        problem = _reg_name_problem(host, scheme=scheme)
        if problem is not None:
            return problem
        host = host.lower()
    if port_text is None:
        return host, None
    if not _PORT.fullmatch(port_text):
        return f"the port {port_text[:20]!r} is not a number"
    port = int(port_text)
    if not 1 <= port <= 65535:
        return f"the port {port} is out of range (1-65535)"
    return host, port


def _reg_name_problem(host: str, *, scheme: str) -> str | None:
    """Why ``host`` is not a DNS name or dotted-quad IPv4 address (None: it is one)."""
    if not host:
        return None if scheme == "file" else "the host is empty"
    if not host.isascii():
        return "the host is not ASCII (write internationalised names as A-labels, xn--…)"
    if len(host) > MAX_HOST_LENGTH:
        return "the host is too long"
    labels = host.lower().split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        if _DOTTED_QUAD.fullmatch(host):
            return None
        return f"{host[:60]!r} is an IPv4 address not written as a dotted quad"
    for label in labels:
        if not _LABEL.fullmatch(label):
            return f"{host[:60]!r} is not a host name"
        if label.startswith("xn--") and not _is_a_label(label):
            return f"{label!r} is not a valid A-label"
    return None


def _is_a_label(label: str) -> bool:
    """Whether an ``xn--`` label decodes (IDNA ToUnicode: nameprep, and it round-trips) to
    printable non-ASCII text."""
    try:
        decoded = label.encode("ascii").decode("idna")
    except UnicodeError:
        return False
    return not decoded.isascii() and decoded.isprintable()
