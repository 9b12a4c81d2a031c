"""The app factory: configuration in, a Flask app with the VC API and the officer UI out."""

from __future__ import annotations

import hashlib
import logging
from typing import Final

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from vcred.net import Fetcher
from vcred_service import create_base_app, identifiers, oauth_http
from vcred_service.app import add_security_headers
from vcred_service.ratelimit import client_key, make_limiter
from vcred_service.registry import use_registry_from_env
from vcred_service.runner import freeze_startup_heap
from verifier_app import fast_path, oid4vp
from verifier_app.api import REALM, VERIFY_SCOPE, api
from verifier_app.batch import PRICED_BY_ITEM, batch
from verifier_app.config import VerifierConfig
from verifier_app.recognition_views import RECOGNITIONS_SCOPE, recognitions
from verifier_app.service import LIMITER, VerifierService
from verifier_app.ui import ui

_log = logging.getLogger("verifier_app")

#: The calls that need an access token with OAuth configured, and the scope each needs. The
#: rest stay public (DESIGN §6): health, the API description, the wallet's two OpenID4VP
#: calls (bound by the request's nonce and state), identifier resolution, and the officer
#: pages (their own sign-in).
TOKEN_SCOPES: Final = {
    "api.verify_credential": VERIFY_SCOPE,
    "api.verify_presentation": VERIFY_SCOPE,
    "api.challenges": VERIFY_SCOPE,
    "batch.verify_credentials": VERIFY_SCOPE,
    "oid4vp.create": VERIFY_SCOPE,
    "oid4vp.outcome": VERIFY_SCOPE,
    "recognitions.query": RECOGNITIONS_SCOPE,
    "recognitions.query_batch": RECOGNITIONS_SCOPE,
}

DEV_WARNING: Final = (
    "DEVELOPMENT MODE: DID documents and status lists may be fetched over plain http and "
    "from loopback and private addresses. Never run a verifier like this in production."
)
# The officer UI loads nothing from elsewhere; the camera frame is a blob URL.
_CSP: Final = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def create_app(config: VerifierConfig | None = None, *, fetcher: Fetcher | None = None) -> Flask:
    """A verifier service for ``config`` (default: from the environment, see
    :meth:`VerifierConfig.from_env`); ``fetcher``: fetch DID documents and status lists
    through it instead of the SSRF-guarded network fetcher (tests, a custom transport).

    Loads and verifies the trust list, opens the storage and builds the verifier whose
    resolver and status-list cache live as long as the app. Without ``config`` the process
    is taken to serve this app alone: its heap so far is frozen for the garbage collector
    (:func:`vcred_service.runner.freeze_startup_heap`). Raises VcredError when the trust list
    is refused, UsageError for an unusable configuration.
    """
    # from the environment: a process serving this one app (gunicorn's worker)
    serving = config is None
    if config is None:
        use_registry_from_env()  # before the trust list names its programmes
        config = VerifierConfig.from_env()
    if config.dev:
        _log.warning(DEV_WARNING)
    service = VerifierService(config, fetcher=fetcher)
    try:
        app = _app_of(service)
        service.start_refresher()
    except BaseException:  # an app that is not built leaves nothing open
        service.close()
        raise
    if serving:
        freeze_startup_heap()
    return app


def _app_of(service: VerifierService) -> Flask:
    config = service.config
    # cookies are per host, not per port: verifiers side by side on localhost need their own
    cookie = "vcred_verifier_" + hashlib.sha256(config.domain.encode()).hexdigest()[:10]
    app = create_base_app(
        "verifier_app",
        data_dir=config.data_dir,
        settings={
            "MAX_CONTENT_LENGTH": config.max_body_bytes,
            "SECRET_KEY": service.storage.session_secret(),
            "SESSION_COOKIE_NAME": cookie,
            "PERMANENT_SESSION_LIFETIME": config.session_lifetime,
        },
    )
    app.extensions["vcred_verifier"] = service
    if config.rate_per_second > 0:
        limiter = make_limiter(
            config.rate_per_second,
            config.rate_burst,
            url=config.rate_limit_url,
            deployment=("verifier", config.domain, config.table_prefix),
            name="api",
        )
        app.extensions[LIMITER] = limiter

        @app.before_request
        def _rate_limit() -> None:
            # verifying is public (DESIGN §6): every POST costs work, some of it network;
            # one the fast path handed over has been charged there
            if fast_path.CHARGED in request.environ:
                return
            if request.method == "POST" and request.endpoint not in PRICED_BY_ITEM:
                limiter.check(client_key(request.environ))

    @app.before_request
    def _authorize() -> None:
        scope = TOKEN_SCOPES.get(request.endpoint or "")
        if scope is not None and oauth_http.oauth_service() is not None:
            oauth_http.require_scope(scope)

    secure = add_security_headers(app, csp=_CSP, referrer_policy="no-referrer")
    app.register_blueprint(api)
    app.register_blueprint(batch)
    app.register_blueprint(ui)
    app.register_blueprint(recognitions)
    oid4vp.install(app, service)
    identifiers.install(app, dict)  # did:key and did:jwk: the verifier has no DID of its own
    oauth_http.install(
        app,
        config.oauth,
        engine=service.storage.engine,
        prefix=config.table_prefix,
        secret=service.storage.session_secret(),
        fetcher=service.fetcher,
        realm=REALM,
        scopes=(VERIFY_SCOPE, RECOGNITIONS_SCOPE),
        clock=config.clock,
    )
    fast_path.install(app, secure=secure)
    if config.proxy_hops:
        # behind N reverse proxies the client address is the N-th from the right; in front of
        # the fast path too, which charges the rate limit by that address
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=config.proxy_hops, x_proto=config.proxy_hops
        )
    return app
