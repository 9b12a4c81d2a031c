"""A lean dispatch of ``POST /credentials/verify`` in front of Flask (issue 21).

The VC API's hot call spent about as much in Flask's request machinery (request and app
contexts, routing, hooks, session, Response objects) as in everything of ours but the
signature check. This WSGI layer answers exactly that call itself in its plain case — no
cookie, ``Content-Type: application/json``, a declared ``Content-Length`` within the limit, no
OAuth, no receipt asked for — and hands everything else to Flask.

With a rate limiter (the verifier's default) the plain case is charged here, before its body
is read, by the key Flask's hook uses (:func:`vcred_service.ratelimit.client_key`: the client
address after any ProxyFix, which is why ProxyFix is in front of the fast path, not behind).
A refusal is handed over with its 429 problem for Flask's error handler to answer.

Its answers are the Flask path's byte for byte (status, every header, body): the view's own
functions read the request and build the body (:func:`verifier_app.api.credential_request`),
the app's own security-header hook adds the headers, and tests/verifier/test_fast_path.py
sends a corpus through both paths and compares. Nothing with a side effect happens before
the request is known to be the plain case, so a hand-over to Flask repeats nothing anyone can
see: a body already read is replayed to Flask, and a request already charged carries
:data:`CHARGED` in its environ (a key no client can set) for the rate-limit hook to charge it
no more. An exception from verifying is re-raised inside Flask (:func:`_raise_handed_over`)
for its one error handler to answer.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final

from flask import Flask, Response, request

from vcred_service.oauth_http import EXTENSION as OAUTH
from vcred_service.ratelimit import Limiter, client_key
from vcred_service.requests import dumps, parse_json_body
from verifier_app.api import credential_request
from verifier_app.service import LIMITER, VerifierService

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PATH: Final = "/credentials/verify"
#: The environ key of an exception the fast path hands to Flask to answer.
HANDED_OVER: Final = "vcred.fast_path.error"
#: The environ key of a request the fast path has charged to its client's rate.
CHARGED: Final = "vcred.fast_path.charged"
_JSON: Final = "application/json"
#: JSON's whitespace (RFC 8259 §2), and no other: ``bytes.strip()`` would take more
_SPACE: Final = b" \t\n\r"
_MEMBER: Final = b'"verifiableCredential"'
#: base64url, the compact JWS's dots and the SD-JWT's tildes: no quote, backslash or control
_TOKEN_BYTES: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"


class _Replay(io.RawIOBase):
    """The request body again: the bytes already read, then the rest of the stream."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        if self._head:
            taken = self._head[:size]
            self._head = self._head[len(taken) :]
        else:
            taken = memoryview(self._rest.read(size))
        buffer[: len(taken)] = taken
        return len(taken)


def _declared_length(environ: WSGIEnvironment, limit: int | None) -> int | None:
    """The body's declared length when it is plain ASCII digits within ``limit``, else None."""
    value = environ.get("CONTENT_LENGTH")
    if limit is None or not isinstance(value, str) or not (value.isascii() and value.isdigit()):
        return None
    length = int(value)
    return length if length <= limit else None


def token_body(raw: bytes) -> dict[str, str] | None:
    """``raw`` as JSON when it is the plain body ``{"verifiableCredential": "<token>"}`` (JSON
    whitespace anywhere between tokens), the token made of base64url, dots and tildes alone;
    None for any other body, for the strict parser.

    Such a text holds one object, one member and one string without escapes, all ASCII: the
    strict parser's checks (duplicates, numbers, lone surrogates, depth past 1) have nothing
    to find, and it would read the same value — in a few C passes over the bytes instead of
    the decoder's (22k instructions less a request for the bench's vc+jwt:
    docs/performance.md).
    """
    text = raw.strip(_SPACE)
    if text[:1] != b"{" or text[-1:] != b"}":
        return None
    inner = text[1:-1].strip(_SPACE)
    if not inner.startswith(_MEMBER):
        return None
    rest = inner[len(_MEMBER) :].lstrip(_SPACE)
    if rest[:1] != b":":
        return None
    value = rest[1:].lstrip(_SPACE)
    if len(value) < 2 or value[:1] != b'"' or value[-1:] != b'"':
        return None
    token = value[1:-1]
    if token.translate(None, _TOKEN_BYTES):  # anything else: a quote, an escape, a space …
        return None
    return {"verifiableCredential": token.decode("ascii")}


class VerifyFastPath:
    """The WSGI application in front of ``app``'s own: the plain verify call answered here,
    every other request by ``inner`` (Flask); any ProxyFix is in front of both."""

    def __init__(
        self, app: Flask, inner: WSGIApplication, *, secure: Callable[[Response], Response]
    ) -> None:
        self.app = app
        self.inner = inner
        # the status lines and headers Flask's Response and the app's hook give a JSON answer
        self._status = {code: Response(status=code).status for code in (200, 400)}
        self._headers = secure(Response(b"", mimetype=_JSON)).headers.to_wsgi_list()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        length = self._plain(environ)
        if length is None:
            return self.inner(environ, start_response)
        refused = self._charge(environ)
        if refused is not None:
            environ[HANDED_OVER] = refused
            return self.inner(environ, start_response)
        stream = environ["wsgi.input"]
        raw = stream.read(length)
        # a server-terminated stream (gunicorn) is read to its end by Flask: is this all?
        extra = stream.read(1) if "wsgi.input_terminated" in environ else b""
        if len(raw) != length or extra:
            return self._hand_over(environ, start_response, _Replay(raw + extra, stream))
        service: VerifierService = self.app.extensions["vcred_verifier"]
        try:
            depth = service.config.max_json_depth
            body = (token_body(raw) if depth >= 1 else None) or parse_json_body(
                raw, max_depth=depth
            )
            asked = credential_request(body, service)
        except Exception:
            return self._hand_over(environ, start_response, io.BytesIO(raw))
        if asked.receipt:  # recorded and sealed at once: Flask's path only
            return self._hand_over(environ, start_response, io.BytesIO(raw))
        try:
            outcome = service.verify_credential(asked.credential, checks=asked.checks, at=asked.at)
        except Exception as error:
            environ[HANDED_OVER] = error
            return self._hand_over(environ, start_response, io.BytesIO(raw))
        data = dumps(outcome.body).encode("utf-8")
        headers = [
            (name, str(len(data))) if name == "Content-Length" else (name, value)
            for name, value in self._headers
        ]
        start_response(self._status[outcome.http_status], headers)
        return [data]

    def _plain(self, environ: WSGIEnvironment) -> int | None:
        """The declared body length of a request this layer answers; None for Flask's."""
        if (
            environ.get("PATH_INFO") != PATH
            or environ.get("REQUEST_METHOD") != "POST"
            or environ.get("CONTENT_TYPE") != _JSON
            or environ.get("HTTP_COOKIE")  # a session is opened and may be saved
            or "HTTP_TRANSFER_ENCODING" in environ
            or OAUTH in self.app.extensions
        ):
            return None
        return _declared_length(environ, self.app.config["MAX_CONTENT_LENGTH"])

    def _charge(self, environ: WSGIEnvironment) -> Exception | None:
        """Charge the request to its client's rate as Flask's hook would, and mark it charged;
        what refused it (the 429 problem, or the limiter's own failure), else None."""
        limiter: Limiter | None = self.app.extensions.get(LIMITER)
        if limiter is None:
            return None
        environ[CHARGED] = True  # tried once, whatever comes of it
        try:
            limiter.check(client_key(environ))
        except Exception as error:
            return error
        return None

    def _hand_over(
        self, environ: WSGIEnvironment, start_response: StartResponse, body: io.IOBase
    ) -> Iterable[bytes]:
        environ["wsgi.input"] = body
        return self.inner(environ, start_response)


def _raise_handed_over() -> None:
    """Flask's side of a hand-over: the fast path's exception, raised where the view's
    would be, for the app's error handling and hooks to answer."""
    error = request.environ.pop(HANDED_OVER, None)
    if error is not None:
        raise error


def install(app: Flask, *, secure: Callable[[Response], Response]) -> None:
    """Put the fast path in front of ``app`` (before any ProxyFix is put in front of both, so
    that the fast path sees the client address Flask sees).

    ``secure``: the app's security-header hook (:func:`vcred_service.app.add_security_headers`).
    """
    if app.config.get("SERVER_NAME") or app.config.get("APPLICATION_ROOT", "/") != "/":
        return  # routing that depends on the host or a prefix: Flask's alone
    app.before_request(_raise_handed_over)
    app.wsgi_app = VerifyFastPath(app, app.wsgi_app, secure=secure)  # type: ignore[method-assign]
