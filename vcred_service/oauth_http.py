"""OAuth 2.0 over HTTP for both services: bearer access tokens and the built-in token endpoint.

``install(app, …)`` is the one hook a service calls: with OAuth configured it keeps an
:class:`OAuthService` on the app, registers ``POST /oauth/token`` (RFC 6749 §4.4, client
credentials; ``client_secret_basic`` and ``client_secret_post``), the token endpoint's JWKS
and metadata (RFC 8414) when the built-in endpoint is on, and the protected-resource metadata
(RFC 9728). Views call :func:`access_token` (the issuer, beside its API tokens) or
:func:`require_scope` (the verifier).

Refusals are problem details (RFC 9457) with the RFC 6750 §3 challenge in
``WWW-Authenticate``; the token endpoint's also carry RFC 6749 §5.2's ``error`` members.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import unquote_plus

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from sqlalchemy import Engine

from vcred.errors import VcredError
from vcred.keys import KeyPair
from vcred.net import Fetcher
from vcred_service.oauth import (
    AccessToken,
    AccessTokenVerifier,
    OAuthConfig,
    builtin_signing_key,
    jwks_document,
    mint_access_token,
)
from vcred_service.oauth_clients import Client, OAuthClients
from vcred_service.problems import ProblemError, problem_response
from vcred_service.ratelimit import RateLimiter, too_many_requests

EXTENSION: Final = "vcred_oauth"
TOKEN_PATH: Final = "/oauth/token"  # noqa: S105 - a path, not a secret
JWKS_PATH: Final = "/oauth/jwks.json"
_FORM: Final = "application/x-www-form-urlencoded"
_NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}

blueprint = Blueprint("vcred_oauth", __name__)


@dataclass(slots=True, kw_only=True)
class OAuthService:
    """One service's OAuth state: the token verifier, and the built-in endpoint's clients
    and key (None when it does not run)."""

    config: OAuthConfig
    verifier: AccessTokenVerifier
    realm: str
    scopes: tuple[str, ...]
    clients: OAuthClients | None
    signing_key: KeyPair | None
    clock: Callable[[], datetime]
    #: failed client authentications per address (a secret-guessing flood is slowed down)
    failures: RateLimiter

    @property
    def token_url(self) -> str:
        return self.config.audience + TOKEN_PATH


def install(
    app: Flask,
    config: OAuthConfig | None,
    *,
    engine: Engine,
    prefix: str,
    secret: str,
    fetcher: Fetcher,
    realm: str,
    scopes: tuple[str, ...],
    clock: Callable[[], datetime],
) -> None:
    """Accept access tokens on ``app`` as ``config`` says (nothing when it is None).

    ``secret``: the service's own secret (the built-in endpoint's key is derived from it);
    ``scopes``: the scopes the service's API knows.
    """
    if config is None or not config.enabled:
        return
    key = builtin_signing_key(secret) if config.token_endpoint else None
    clients = OAuthClients(engine, prefix=prefix) if config.token_endpoint else None
    if clients is not None:
        clients.create()
    app.extensions[EXTENSION] = OAuthService(
        config=config,
        verifier=AccessTokenVerifier(
            config=config,
            fetcher=fetcher,
            builtin_key=key.public if key is not None else None,
            clock=clock,
        ),
        realm=realm,
        scopes=scopes,
        clients=clients,
        signing_key=key,
        clock=clock,
        failures=RateLimiter(rate=1.0, burst=20),
    )
    app.register_blueprint(blueprint)
    app.after_request(_challenge)


def openapi_scheme(config: OAuthConfig, scopes: tuple[str, ...]) -> dict[str, Any]:
    """The OpenAPI security scheme of JWT access tokens (the bearer token form of
    RFC 9068: the same for the built-in token endpoint and an external server)."""
    servers = [t.issuer for t in config.issuers]
    if config.token_endpoint:
        servers.insert(0, f"{config.audience} (POST {config.audience}{TOKEN_PATH})")
    return {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": f"an OAuth 2.0 access token (RFC 9068) for {config.audience} from "
        f"{', '.join(servers)}; scopes: {', '.join(scopes)}",
    }


def oauth_service() -> OAuthService | None:
    found: OAuthService | None = current_app.extensions.get(EXTENSION)
    return found


def access_token(token: str, *, realm: str) -> AccessToken:
    """The verified access token of a bearer JWT, or a 401 problem saying why not
    (RFC 6750 §3.1 ``invalid_token``; the vcred code of the failure in ``code``)."""
    service = oauth_service()
    if service is None:
        raise _refusal(realm, "access tokens are not accepted here", code="INVALID_TOKEN")
    try:
        return service.verifier.verify(token)
    except VcredError as error:
        raise _refusal(
            realm, f"the access token is refused: {error.message}", code=error.code
        ) from error


def require_scope(scope: str) -> AccessToken:
    """The caller's access token, which must carry ``scope``: 401 without a valid one, 403
    without the scope, each with its ``WWW-Authenticate`` challenge (RFC 6750 §3)."""
    service = oauth_service()
    realm = service.realm if service is not None else "vcred"
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        g.auth_challenge = _bearer(realm, scope=scope)
        raise ProblemError(
            401, "Unauthorized", "send an access token: Authorization: Bearer <token>"
        )
    found = access_token(token.strip(), realm=realm)
    if scope not in found.scopes:
        raise insufficient_scope(realm, scope, "this access token")
    return found


def insufficient_scope(realm: str, scope: str, what: str) -> ProblemError:
    """The 403 for a valid token without ``scope`` (RFC 6750 §3.1)."""
    g.auth_challenge = _bearer(realm, error="insufficient_scope", scope=scope)
    return ProblemError(
        403, "Forbidden", f"{what} does not have the scope {scope!r}", code="INSUFFICIENT_SCOPE"
    )


def _refusal(realm: str, detail: str, *, code: str) -> ProblemError:
    g.auth_challenge = _bearer(realm, error="invalid_token", description=detail)
    return ProblemError(401, "Unauthorized", detail, code=code)


def _bearer(
    realm: str,
    *,
    error: str | None = None,
    description: str | None = None,
    scope: str | None = None,
) -> str:
    """An RFC 6750 §3 challenge; quoted values keep to the characters §3 allows."""
    parts = [f'Bearer realm="{realm}"']
    if error is not None:
        parts.append(f'error="{error}"')
    if description is not None:
        allowed = "".join(c for c in description if c in _DESCRIPTION_CHARS)
        parts.append(f'error_description="{allowed[:200]}"')
    if scope is not None:
        parts.append(f'scope="{scope}"')
    service = oauth_service()
    if service is not None:
        # RFC 9728 §5.1: where the client learns which authorization servers we trust
        parts.append(f'resource_metadata="{_resource_metadata_url(service)}"')
    return ", ".join(parts)


# RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E (no " and no \)
_DESCRIPTION_CHARS: Final = frozenset(chr(c) for c in range(0x20, 0x7F) if chr(c) not in '"\\')


def _challenge(response: Response) -> Response:
    challenge = g.pop("auth_challenge", None)
    if challenge is not None and response.status_code in (401, 403):
        response.headers.setdefault("WWW-Authenticate", challenge)
    return response


def _resource_metadata_url(service: OAuthService) -> str:
    return service.config.audience + "/.well-known/oauth-protected-resource"


# -- the built-in token endpoint ----------------------------------------------------------------


def _token_error(
    status: int, error: str, description: str, *, basic_challenge: bool = False
) -> Response:
    """RFC 6749 §5.2 error members inside problem details; never cached."""
    response = problem_response(
        status,
        "Unauthorized" if status == 401 else "Bad Request",
        description,
        code=error.upper(),
        error=error,
        error_description=description,
    )
    response.headers.update(_NO_STORE)
    if basic_challenge:
        service = oauth_service()
        realm = service.realm if service is not None else "vcred"
        response.headers["WWW-Authenticate"] = f'Basic realm="{realm}", charset="UTF-8"'
    return response


@blueprint.post(TOKEN_PATH)
def token_endpoint() -> Response:
    """RFC 6749 §4.4.2: an access token for an authenticated client (client credentials)."""
    service = oauth_service()
    if service is None or service.clients is None or service.signing_key is None:
        raise ProblemError(404, "Not Found", "this service has no token endpoint")
    if request.mimetype != _FORM:
        return _token_error(400, "invalid_request", f"send the request as {_FORM}")
    form = request.form
    # RFC 6749 §3.2: parameters MUST NOT be included more than once
    repeated = sorted(name for name in form if len(form.getlist(name)) > 1)
    if repeated:
        return _token_error(400, "invalid_request", f"{repeated[0]} is sent more than once")
    address = request.remote_addr or "unknown"
    wait = service.failures.peek(address)
    if wait > 0:
        raise too_many_requests(wait)
    credentials = _client_credentials(form)
    if isinstance(credentials, Response):
        return credentials
    client_id, secret, basic = credentials
    client = service.clients.authenticate(client_id, secret)
    if client is None:
        service.failures.allow(address)
        # §5.2: 401 and a challenge for the scheme the client used (Basic)
        return _token_error(
            401, "invalid_client", "unknown client or wrong secret", basic_challenge=basic
        )
    if form.get("grant_type") != "client_credentials":
        return _token_error(
            400,
            "unsupported_grant_type" if form.get("grant_type") else "invalid_request",
            "grant_type must be client_credentials",
        )
    resource = form.get("resource")
    if resource is not None and resource != service.config.audience:
        # RFC 8707 §2: a resource this server does not issue tokens for
        return _token_error(
            400, "invalid_target", f"tokens here are for {service.config.audience} only"
        )
    scopes = _granted_scopes(client, form.get("scope"))
    if isinstance(scopes, Response):
        return scopes
    token = mint_access_token(
        service.signing_key,
        issuer=service.config.audience,
        audience=service.config.audience,
        client_id=client.client_id,
        scopes=scopes,
        now=service.clock(),
        ttl=service.config.token_ttl,
    )
    response = jsonify(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(service.config.token_ttl.total_seconds()),
            "scope": " ".join(scopes),
        }
    )
    response.headers.update(_NO_STORE)
    return response


def _client_credentials(form: Any) -> tuple[str, str, bool] | Response:
    """(client id, secret, whether Basic was used): RFC 6749 §2.3.1, one method only."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    in_body = "client_id" in form or "client_secret" in form
    if header:
        if scheme.lower() != "basic":
            return _token_error(
                401, "invalid_client", "authenticate with HTTP Basic", basic_challenge=True
            )
        if in_body:
            return _token_error(400, "invalid_request", "use one client authentication method")
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return _token_error(
                401, "invalid_client", "malformed Basic credentials", basic_challenge=True
            )
        user, sep, password = decoded.partition(":")
        if not sep:
            return _token_error(
                401, "invalid_client", "malformed Basic credentials", basic_challenge=True
            )
        # §2.3.1: both are form-urlencoded before they are joined
        return unquote_plus(user), unquote_plus(password), True
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if not client_id or not secret:
        return _token_error(
            401, "invalid_client", "client authentication is required", basic_challenge=True
        )
    return str(client_id), str(secret), False


def _granted_scopes(client: Client, requested: str | None) -> tuple[str, ...] | Response:
    """RFC 6749 §3.3: the requested scopes, each registered for the client; none: all."""
    if requested is None or not requested.strip():
        return client.scopes
    wanted = tuple(dict.fromkeys(requested.split()))
    missing = [s for s in wanted if s not in client.scopes]
    if missing:
        return _token_error(400, "invalid_scope", f"the client may not ask for {missing[0][:40]!r}")
    return wanted


@blueprint.get(JWKS_PATH)
def jwks() -> Response:
    service = oauth_service()
    if service is None or service.signing_key is None:
        raise ProblemError(404, "Not Found", "this service has no token endpoint")
    response = jsonify(jwks_document(service.signing_key.public))
    response.mimetype = "application/jwk-set+json"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@blueprint.get("/.well-known/oauth-authorization-server")
def authorization_server_metadata() -> Response:
    """RFC 8414 §2: the built-in token endpoint's metadata."""
    service = oauth_service()
    if service is None or service.signing_key is None:
        raise ProblemError(404, "Not Found", "this service has no token endpoint")
    base = service.config.audience
    return jsonify(
        {
            "issuer": base,
            "token_endpoint": service.token_url,
            "jwks_uri": base + JWKS_PATH,
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
            "scopes_supported": list(service.scopes),
        }
    )


@blueprint.get("/.well-known/oauth-protected-resource")
def protected_resource_metadata() -> Response:
    """RFC 9728 §2: which authorization servers' tokens this API accepts."""
    service = oauth_service()
    if service is None:
        raise ProblemError(404, "Not Found", "this service accepts no access tokens")
    servers = [t.issuer for t in service.config.issuers]
    if service.config.token_endpoint:
        servers.insert(0, service.config.audience)
    return jsonify(
        {
            "resource": service.config.audience,
            "authorization_servers": servers,
            "scopes_supported": list(service.scopes),
            "bearer_methods_supported": ["header"],
        }
    )
