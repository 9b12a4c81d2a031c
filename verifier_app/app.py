"""The app factory: configuration in, a Flask app with the VC API and the officer UI out."""

from __future__ import annotations

import hashlib
import logging
from typing import Final

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from vcred_service import create_base_app
from vcred_service.app import add_security_headers
from vcred_service.ratelimit import RateLimiter
from verifier_app.api import api
from verifier_app.config import VerifierConfig
from verifier_app.service import VerifierService
from verifier_app.ui import ui

_log = logging.getLogger("verifier_app")
LIMITER: Final = "vcred_verifier_limiter"

DEV_WARNING: Final = (
    "DEVELOPMENT MODE: DID documents and status lists may be fetched over plain http and "
    "from loopback and private addresses. Never run a verifier like this in production."
)
# The officer UI loads nothing from elsewhere; the camera frame is a blob URL.
_CSP: Final = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def create_app(config: VerifierConfig | None = None) -> Flask:
    """A verifier service for ``config`` (default: from the environment, see
    :meth:`VerifierConfig.from_env`).

    Loads and verifies the trust list, opens the storage and builds the verifier whose
    resolver and status-list cache live as long as the app. Raises VcredError when the
    trust list is refused, UsageError for an unusable configuration.
    """
    config = config or VerifierConfig.from_env()
    if config.dev:
        _log.warning(DEV_WARNING)
    service = VerifierService(config)
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
    if config.proxy_hops:
        # behind N reverse proxies the client address is the N-th from the right
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=config.proxy_hops, x_proto=config.proxy_hops
        )
    if config.rate_per_second > 0:
        limiter = RateLimiter(rate=config.rate_per_second, burst=config.rate_burst)
        app.extensions[LIMITER] = limiter

        @app.before_request
        def _rate_limit() -> None:
            # verifying is public (DESIGN §6): every POST costs work, some of it network
            if request.method == "POST":
                limiter.check(request.remote_addr or "unknown")

    add_security_headers(app, csp=_CSP, referrer_policy="no-referrer")
    app.register_blueprint(api)
    app.register_blueprint(ui)
    return app
