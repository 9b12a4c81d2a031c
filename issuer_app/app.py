"""The issuer's Flask application: ``create_app(config)``.

State lives on the app (``app.extensions["vcred_issuer"]``, an :class:`Issuer`), never in
module globals, so one process can run several issuers (the cross-border demo). After the
first start of a database, ``create_app`` only reads: it decrypts the keys and registers the
blueprints.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask

from issuer_app import (
    api,
    hashing,
    oid4vci_api,
    oid4vci_ui,
    ui,
    ui_admin,  # noqa: F401 - registers its views on ui.blueprint
)
from issuer_app.config import IssuerConfig
from issuer_app.service import Issuer
from vcred.net import GuardedFetcher
from vcred_service import identifiers, oauth_http
from vcred_service.app import add_security_headers, create_base_app
from vcred_service.registry import use_registry_from_env

EXTENSION = "vcred_issuer"
# The officer UI loads nothing from elsewhere.
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def create_app(config: IssuerConfig | None = None) -> Flask:
    """An issuer app for ``config`` (default: from the environment, for gunicorn)."""
    if config is None:
        use_registry_from_env()  # before the configuration names its programme
        config = IssuerConfig.from_env()
    issuer = Issuer.open(config)
    try:
        return _app_of(issuer)
    except BaseException:  # an app that is not built leaves nothing open
        issuer.close()
        raise


def _app_of(issuer: Issuer) -> Flask:
    config = issuer.config
    # cookies are per host, not per port: issuers side by side on localhost need their own
    cookie = "vcred_issuer_" + hashlib.sha256(config.public_url.encode()).hexdigest()[:10]
    app = create_base_app(
        "issuer_app",
        data_dir=config.data_dir,
        settings={
            "SECRET_KEY": issuer.session_secret(),
            "SESSION_COOKIE_NAME": cookie,
            "SESSION_COOKIE_SECURE": config.public_url.startswith("https://"),
            "PERMANENT_SESSION_LIFETIME": config.session_lifetime,
        },
    )
    app.extensions[EXTENSION] = issuer
    app.register_blueprint(api.blueprint)
    app.register_blueprint(ui.blueprint)
    app.register_blueprint(oid4vci_api.blueprint)
    app.register_blueprint(oid4vci_ui.blueprint)
    identifiers.install(app, lambda: _own_documents(issuer))
    oauth_http.install(
        app,
        config.oauth,
        engine=issuer.store.engine,
        prefix=config.table_prefix,
        secret=issuer.session_secret(),
        fetcher=GuardedFetcher(allow_private=config.dev),
        realm=api.REALM,
        scopes=hashing.SCOPES,
        clock=config.clock,
    )
    add_security_headers(app, csp=_CSP, referrer_policy="same-origin")
    return app


def issuer_of(app: Flask) -> Issuer:
    """The :class:`Issuer` behind an app (tokens, records, closing it)."""
    found: Issuer = app.extensions[EXTENSION]
    return found


def _own_documents(issuer: Issuer) -> dict[str, dict[str, Any]]:
    """The issuer's did:web document by its DID (GET /identifiers/{did})."""
    document = issuer.did_document()
    return {document["id"]: document} if document is not None else {}
