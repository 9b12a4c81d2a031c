"""The base Flask application both services start from."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from flask import Blueprint, Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import URLSafeTimedSerializer
from werkzeug.routing import BaseConverter, PathConverter

from vcred_service import i18n
from vcred_service.problems import register_problem_handlers
from vcred_service.requests import read_body

DEFAULT_MAX_BODY = 512 * 1024


def create_base_app(
    import_name: str,
    *,
    data_dir: str | Path | None = None,
    settings: Mapping[str, Any] | None = None,
) -> Flask:
    """A Flask app with problem-details errors, a body-size cap, the shared templates and
    the officer pages' languages (:mod:`vcred_service.i18n`).

    ``data_dir`` is the service's instance folder (SQLite database, keys, secrets).
    """
    kwargs: dict[str, Any] = {}
    if data_dir is not None:
        kwargs["instance_path"] = str(Path(data_dir).resolve())
    app = Flask(import_name, **kwargs)
    app.request_class = _Request
    # before any route is added: a rule takes its converters when it is added
    app.url_map.converters.update(default=_Segment, string=_Segment, path=_Path)
    app.config.update(
        MAX_CONTENT_LENGTH=DEFAULT_MAX_BODY,
        SECRET_KEY=secrets.token_hex(32),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    if settings:
        app.config.update(settings)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    # answers keep the order the code builds them in (verified, checks, …), and unsorted
    # dumping is cheaper on every response
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.session_interface = _CachedSerializerSessions()
    register_problem_handlers(app)
    app.register_blueprint(shared)
    i18n.install(app)
    return app


class _Request(Request):
    """Flask's request, a form sent without Content-Length (chunked) past the cap refused
    with 413 as one of a declared length is: Werkzeug read such a body only to the cap and
    parsed the form in what it read (:func:`vcred_service.requests.read_body`)."""

    def _load_form_data(self) -> None:
        if self.content_length is None and self.mimetype in _FORMS and "form" not in self.__dict__:
            read_body(self)  # the form is then parsed from the body read (cached)
        super()._load_form_data()


#: The bodies Werkzeug parses as a form (any other is left to the view: a JSON body is read
#: by read_json, under the cap its route sets).
_FORMS: Final = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class _Segment(BaseConverter):
    """A path segment (the default converter) without NUL: no identifier has one, and
    PostgreSQL text cannot hold it (a lookup by one raised DataError, a 500); such a path is
    not found (404)."""

    regex = "[^/\x00]+"


class _Path(PathConverter):
    """A ``path`` value without NUL (see :class:`_Segment`)."""

    regex = "[^/\x00][^\x00]*?"


def add_security_headers(
    app: Flask, *, csp: str, referrer_policy: str
) -> Callable[[Response], Response]:
    """Every answer: ``nosniff`` and ``referrer_policy``; an HTML page also its Content
    Security Policy ``csp``, no framing (X-Frame-Options) and no caching (officer data).

    A header a view set itself is kept. Returns the hook (an answer made outside Flask
    passes through it too: :mod:`verifier_app.fast_path`).
    """

    def headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", referrer_policy)
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", csp)
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.after_request(headers)
    return headers


# The officer UI's base template and stylesheet, as a blueprint both apps register.
shared = Blueprint(
    "shared",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/_shared",
)
_FAVICON = (Path(__file__).parent / "static" / "favicon.ico").read_bytes()


@shared.get("/favicon.ico")
def favicon() -> Response:
    """The services' icon where browsers look for it (the pages link it and the SVG too)."""
    return Response(
        _FAVICON,
        mimetype="image/vnd.microsoft.icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )


class _CachedSerializerSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per app, and
    nothing parsed or written for a request that sent no cookie and left the session alone.

    Flask opens and saves the session of every request, API calls included: it builds a new
    serializer (deriving its key) each time — the secret does not change while the app runs
    — parses the Cookie header, and reads seven cookie settings to save an empty session.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.environ.get("HTTP_COOKIE") or not app.secret_key:
            return super().open_session(app, request)
        return self.session_class()  # what Flask opens when the request has no cookie

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        # untouched and empty: Flask would add no Vary and set or delete no cookie
        if session.accessed or session.modified or session:
            super().save_session(app, session, response)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        cached: URLSafeTimedSerializer | None = app.extensions.get("vcred_session_serializer")
        if cached is None:
            cached = super().get_signing_serializer(app)
            app.extensions["vcred_session_serializer"] = cached
        return cached


def database_url(data_dir: str | Path, *, environ: Mapping[str, str]) -> str:
    """``DATABASE_URL`` if set (PostgreSQL in production), else SQLite in the data folder."""
    url = environ.get("DATABASE_URL")
    if url:
        if url.startswith("postgresql://"):  # SQLAlchemy needs the driver named
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return f"sqlite:///{Path(data_dir).resolve() / 'service.db'}"
