"""Officer sign-in for the services' web pages: the login form, CSRF, server-side sessions.

A service builds one :class:`SignIn` (its accounts, its sessions, the endpoints of its login
page and landing page) and installs it on the app; its views then use :func:`login_page`,
:func:`logout`, :func:`login_required` and :func:`current_officer`.

Three cookies, each with one job:

- Flask's signed session cookie holds only browser state — the CSRF token of the forms and
  flashed messages — and grants nothing.
- The *session* cookie (``<SESSION_COOKIE_NAME>_officer``: HttpOnly, SameSite=Lax, Secure
  behind https) holds a random id whose row in the database says who is signed in
  (:class:`vcred_service.officers.OfficerSessions`). Signing out deletes the row; the idle
  timeout and the absolute lifetime end it too. A copied cookie then leads to the login page.
- The *device* cookie (``<SESSION_COOKIE_NAME>_device``: HttpOnly, SameSite=Strict, signed,
  180 days), set when an officer signs in with a password, names that account and a random
  id, and grants nothing but a limit of its own on that browser's password sign-ins to that
  account (:data:`ACCOUNT_FAILURES`, :data:`DEVICE_COOKIE_SUFFIX`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Final, TypeVar

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers import Response as BaseResponse

from vcred_service.explanations import N_, officer_sentence
from vcred_service.officers import OfficerAccounts, OfficerSessions
from vcred_service.oidc import PENDING_KEY, OidcClient, OidcRefusedError, Pending
from vcred_service.problems import ProblemError
from vcred_service.ratelimit import Limiter, too_many_requests
from vcred_service.roles import Role

EXTENSION: Final = "vcred_signin"
COOKIE_SUFFIX: Final = "_officer"
WRONG: Final = N_("Unknown officer or wrong password.")

View = TypeVar("View", bound=Callable[..., Any])

#: Wrong passwords per officer account, whatever address they come from: a burst of 10, then
#: one a minute (``(rate, burst)``, for :func:`vcred_service.ratelimit.make_limiter`). The
#: per-address limit alone let guesses spread over many addresses reach one account at any
#: rate (NIST SP 800-63B §5.2.2: limit failed attempts per account). While an account is
#: held, its sign-in with a password answers 429 whoever tries — the right password too, or
#: the limit would tell a guess from a miss — except from a browser its officer signed in
#: with before (:data:`DEVICE_COOKIE_SUFFIX`); a provider sign-in (OpenID Connect) still works.
ACCOUNT_FAILURES: Final = (1 / 60, 10)
#: The cookie a browser gets when its officer signs in with a password (OWASP's "device
#: cookie"): signed, naming the account and a random id, it lets that browser's later
#: password sign-ins to that account be limited by a bucket of its own (as many failures, as
#: fast), not the account's — so someone holding an officer's account with wrong passwords
#: from elsewhere does not keep the officer out on the browser they use.
DEVICE_COOKIE_SUFFIX: Final = "_device"
DEVICE_COOKIE_DAYS: Final = 180
_DEVICE_SALT: Final = "vcred-officer-device"


@dataclass(frozen=True, slots=True, kw_only=True)
class SignIn:
    """What a service's sign-in needs: accounts, sessions, the login limiters (per address,
    and per account for wrong passwords: :data:`ACCOUNT_FAILURES`), two endpoints."""

    accounts: OfficerAccounts
    sessions: OfficerSessions
    limiter: Limiter
    account_limiter: Limiter
    login_endpoint: str
    home_endpoint: str
    #: The agency's OpenID Connect provider (None: local passwords only).
    oidc: OidcClient | None = None
    #: Stores the role a provider's groups grant (None: roles come from the accounts).
    assign_role: Callable[[str, Role], None] | None = None

    def install(self, app: Flask) -> None:
        app.extensions[EXTENSION] = self


def signin() -> SignIn:
    found: SignIn = current_app.extensions[EXTENSION]
    return found


def _cookie_name() -> str:
    return str(current_app.config["SESSION_COOKIE_NAME"]) + COOKIE_SUFFIX


# -- CSRF ------------------------------------------------------------------------------------


def csrf_token() -> str:
    """The CSRF token of this browser's forms (kept in Flask's signed session cookie)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_csrf() -> None:
    """Raise a 400 problem (``CSRF``) unless the form carries this browser's CSRF token."""
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        raise ProblemError(
            400,
            "Bad request",
            "the form is missing its CSRF token, or it has expired: reload the page",
            code="CSRF",
        )


# -- who is signed in ------------------------------------------------------------------------


def current_officer() -> str | None:
    """The officer of this request's session cookie, or None (no, ended or disabled session).

    Each request asks the database once: a session ended elsewhere (sign-out, timeout, an
    account disabled) ends here at the next request.
    """
    if "vcred_officer" not in g:
        g.vcred_officer = _officer_of_cookie()
    officer: str | None = g.vcred_officer
    return officer


def _officer_of_cookie() -> str | None:
    session_id = request.cookies.get(_cookie_name())
    if not session_id:
        return None
    current = signin()
    officer = current.sessions.officer_of(session_id)
    if officer is not None and not current.accounts.active(officer):
        current.sessions.end_all(officer)
        return None
    return officer


def login_required(view: View) -> View:
    """Only for a signed-in officer: anyone else is sent to the login page (and a cookie
    whose session has ended is removed)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_officer() is None:
            target = request.full_path.rstrip("?")
            response = redirect(url_for(signin().login_endpoint, next=target))
            _forget_cookie(response)
            return response
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


# -- the login and logout views --------------------------------------------------------------


def login_page(template: str, **context: Any) -> str | BaseResponse:
    """GET: the login form. POST (CSRF checked, rate limited per address): start a session
    and go to ``next`` (a path on this site only), or show the form again with an error."""
    current = signin()
    target = safe_next(request.values.get("next"))
    error = None
    if request.method == "POST":
        check_csrf()
        current.limiter.check(request.remote_addr or "unknown")
        name = request.form.get("name", "")
        account = _device_key(name) or _account_key(name)
        # the token is taken before the password is checked, given back when it is right:
        # a guess read beside another in flight (being hashed) does not see its token too
        held = current.account_limiter.allow(account)
        if held > 0:
            raise too_many_requests(held)
        if current.accounts.check(name, request.form.get("password", "")):
            current.account_limiter.refund(account)
            _end_presented_session()
            session.clear()  # a fresh CSRF token: nothing from before the sign-in carries on
            csrf_token()
            response = redirect(target)
            _set_cookie(response, current.sessions.start(name))
            _set_device_cookie(response, name)
            return response
        error = gettext(WRONG)
    return render_template(template, error=error, next=target, **context)


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=_DEVICE_SALT)


def _device_key(name: str) -> str | None:
    """This browser's own key in the per-account limiter, when it holds a device cookie for
    the account ``name`` (signed by this service, not older than its lifetime), else None."""
    cookie = request.cookies.get(_device_cookie_name())
    if not cookie:
        return None
    try:
        device = _device_serializer().loads(cookie, max_age=DEVICE_COOKIE_DAYS * 86400)
    except BadData:
        return None
    if not isinstance(device, dict) or not isinstance(device.get("d"), str):
        return None
    account = device.get("n")
    if not isinstance(account, str) or not hmac.compare_digest(
        account.encode("utf-8", "surrogatepass"), name.encode("utf-8", "surrogatepass")
    ):
        return None
    return "device:" + hashlib.sha256(device["d"].encode()).hexdigest()[:32]


def _device_cookie_name() -> str:
    return str(current_app.config["SESSION_COOKIE_NAME"]) + DEVICE_COOKIE_SUFFIX


def _set_device_cookie(response: BaseResponse, name: str) -> None:
    """A device cookie for ``name`` (:data:`DEVICE_COOKIE_SUFFIX`), kept if it has one."""
    if _device_key(name) is not None:
        return
    value = _device_serializer().dumps({"n": name, "d": secrets.token_urlsafe(16)})
    response.set_cookie(
        _device_cookie_name(),
        value,
        max_age=DEVICE_COOKIE_DAYS * 86400,
        httponly=True,
        samesite="Strict",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure,
        path="/",
    )


def _account_key(name: str) -> str:
    """The per-account limiter's key for the name typed (any length: a digest)."""
    return "account:" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _oidc_refusal(exc: OidcRefusedError) -> str:
    """The officer's sentence for a refused provider sign-in, then the technical reason."""
    return f"{gettext(officer_sentence(exc.code))} ({exc.message})"


def oidc_start(template: str, **context: Any) -> tuple[str, int] | BaseResponse:
    """GET: off to the agency's identity provider (state, nonce and PKCE verifier kept in
    this browser's signed session until it comes back); the login page with the reason (502)
    when the provider cannot be reached or publishes an unusable discovery document."""
    current = signin()
    client = current.oidc
    if client is None:
        raise ProblemError(404, "Not Found", "officers sign in with a password here")
    target = safe_next(request.args.get("next"))
    try:
        url, pending = client.begin(target)
    except OidcRefusedError as exc:
        return render_template(
            template, error=_oidc_refusal(exc), next=target, **context
        ), exc.status
    session[PENDING_KEY] = pending.as_dict()
    return redirect(url)


def oidc_callback(template: str, **context: Any) -> tuple[str, int] | BaseResponse:
    """GET: the provider's answer. A verified id_token naming an active officer account
    starts a session, as a password would; anything else is the login page with the reason
    (400 or 403, never a session). The pending flow is used once, whatever the outcome."""
    current = signin()
    client = current.oidc
    if client is None:
        raise ProblemError(404, "Not Found", "officers sign in with a password here")
    pending = Pending.from_dict(session.pop(PENDING_KEY, None))
    try:
        who = client.officer_of(client.finish(pending, request.args))
        if not current.accounts.active(who.name):
            raise OidcRefusedError(
                "OIDC_UNKNOWN_OFFICER",
                "the identity provider vouched for someone with no officer account here",
                status=403,
            )
    except OidcRefusedError as exc:
        page = render_template(
            template, error=_oidc_refusal(exc), next=url_for(current.home_endpoint), **context
        )
        return page, exc.status
    if who.role_from_groups is not None and current.assign_role is not None:
        current.assign_role(who.name, who.role_from_groups)
    _end_presented_session()
    session.clear()  # as for a password: nothing from before the sign-in carries on
    csrf_token()
    response = redirect(pending.next if pending else url_for(current.home_endpoint))
    _set_cookie(response, current.sessions.start(who.name))
    return response


def logout() -> BaseResponse:
    """POST (CSRF checked): end the session in the database, clear both cookies."""
    check_csrf()
    _end_presented_session()
    session.clear()
    response = redirect(url_for(signin().login_endpoint))
    _forget_cookie(response)
    return response


def add_sign_in_views(blueprint: Blueprint, template: str) -> None:
    """The sign-in views of a service's officer pages, on ``blueprint``: ``login`` (the form,
    :func:`login_page`), ``login_oidc`` and ``login_oidc_callback`` (the agency's identity
    provider, :func:`oidc_start` / :func:`oidc_callback`) and ``logout``. ``template`` is the
    login page; it links to the provider only when this service has one."""

    def oidc_url() -> str | None:
        if signin().oidc is None:
            return None
        next_page = request.values.get("next") or None
        return url_for(f"{blueprint.name}.login_oidc", next=next_page)

    def login() -> str | BaseResponse:
        return login_page(template, oidc_url=oidc_url())

    def login_oidc() -> tuple[str, int] | BaseResponse:
        return oidc_start(template, oidc_url=oidc_url())

    def login_oidc_callback() -> tuple[str, int] | BaseResponse:
        return oidc_callback(template, oidc_url=oidc_url())

    blueprint.add_url_rule("/login", view_func=login, methods=["GET", "POST"])
    blueprint.add_url_rule("/login/oidc", view_func=login_oidc, methods=["GET"])
    blueprint.add_url_rule("/login/oidc/callback", view_func=login_oidc_callback, methods=["GET"])
    blueprint.add_url_rule("/logout", view_func=logout, methods=["POST"])


def safe_next(value: str | None) -> str:
    """Only a path on this site, else the home page (:func:`safe_path`)."""
    return safe_path(value, fallback=url_for(signin().home_endpoint))


def safe_path(value: str | None, *, fallback: str) -> str:
    """``value`` if it is a path on this site, else ``fallback``.

    Browsers read ``//host`` and ``/\\host`` as another host and drop tabs and newlines
    (``/<tab>/evil.example`` is ``//evil.example``): a backslash, whitespace or control
    character is refused. Read without urllib, which raises ValueError on ``//[``.
    """
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or any(c == "\\" or c.isspace() or not c.isprintable() for c in value)
    ):
        return fallback
    return value


def _end_presented_session() -> None:
    session_id = request.cookies.get(_cookie_name())
    if session_id:
        signin().sessions.end(session_id)


def _set_cookie(response: BaseResponse, session_id: str) -> None:
    response.set_cookie(
        _cookie_name(),
        session_id,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure,
        path="/",
    )


def _forget_cookie(response: BaseResponse) -> None:
    if request.cookies.get(_cookie_name()) is not None:
        response.delete_cookie(
            _cookie_name(),
            path="/",
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure,
        )
