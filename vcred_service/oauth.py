"""OAuth 2.0 access tokens for the VC APIs: JWTs per RFC 9068, from configured issuers.

A service accepts an access token (``Authorization: Bearer <JWT>``) when it was issued by an
authorization server it is configured to trust — an external one (its issuer identifier and
its JWKS, fetched through the SSRF-guarded fetcher or read from a file) or the built-in
token endpoint (``vcred_service.oauth_http``, RFC 6749 §4.4 client credentials) — for this
service's audience, is unexpired, and carries the scope the call needs. Scopes are the API
token scopes of each service (issuer: ``issue``, ``status``, ``admin``, ``trust-list``;
verifier: ``verify``).

https://www.rfc-editor.org/rfc/rfc9068#section-4 (validating JWT access tokens) ·
RFC 8725 §3.1: the key, found by the token's ``iss`` and ``kid``, names the algorithm; the
header's ``alg`` must be that one (``none``, HMAC and key-carrying headers are refused by
:func:`vcred.jose.verify_with_key`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from vcred.errors import (
    DomainError,
    ExpiredError,
    MalformedError,
    NotYetValidError,
    UnknownKeyError,
    UntrustedIssuerError,
    UsageError,
    VcredError,
)
from vcred.jose import loads_strict, numeric_date, sign_compact, unverified_header, verify_with_key
from vcred.jose import unverified_payload as _unverified_claims
from vcred.keys import KeyPair, LocalSigner, PublicKey
from vcred.net import Fetcher
from vcred.urls import http_url
from vcred_service.config_file import duration

#: RFC 9068 §4: the typ of a JWT access token, short or as a full media type.
AT_JWT_TYPS: Final[frozenset[str | None]] = frozenset({"at+jwt", "application/at+jwt"})
#: RFC 9068 §2.2: the claims every JWT access token carries.
REQUIRED_CLAIMS: Final = ("iss", "exp", "aud", "sub", "client_id", "iat", "jti")
JWKS_MEDIA_TYPE: Final = "application/jwk-set+json, application/json"
_MAX_JWKS_BYTES: Final = 64 * 1024
#: How soon a JWKS may be fetched again for a kid it did not hold (a rotation at the AS).
_REFETCH_AFTER_S: Final = 30.0
_BUILTIN_KEY_INFO: Final = b"vcred oauth access-token signing key v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustedIssuer:
    """An external authorization server: its issuer identifier (the exact ``iss``) and its
    JWKS — an http(s) URL fetched through the guarded fetcher, or a file."""

    issuer: str
    jwks: str

    @property
    def jwks_is_url(self) -> bool:
        return self.jwks.startswith(("https://", "http://"))


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthConfig:
    """What access tokens a service accepts, and whether it runs its own token endpoint.

    ``audience``: this service's identifier, which a token's ``aud`` must contain (RFC 9068
    §4 step 3); also the ``iss`` of the built-in token endpoint. ``issuers``: the external
    authorization servers trusted. ``token_endpoint``: offer ``POST /oauth/token`` for the
    clients registered with the CLI. ``token_ttl``: the lifetime of the tokens it issues.
    ``leeway``: clock skew allowed on ``exp`` / ``iat``. ``jwks_ttl``: how long a fetched
    JWKS is used before it is fetched again.
    """

    audience: str
    issuers: tuple[TrustedIssuer, ...] = ()
    token_endpoint: bool = False
    token_ttl: timedelta = timedelta(minutes=5)
    leeway: timedelta = timedelta(seconds=30)
    jwks_ttl: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if http_url(self.audience) is None:
            raise UsageError(f"the OAuth audience must be an http(s) URL, not {self.audience!r}")
        seen: set[str] = set()
        for trusted in self.issuers:
            if http_url(trusted.issuer) is None:
                raise UsageError(f"an OAuth issuer must be an http(s) URL: {trusted.issuer!r}")
            if trusted.issuer in seen:
                raise UsageError(f"the OAuth issuer {trusted.issuer!r} is configured twice")
            if self.token_endpoint and trusted.issuer == self.audience:
                raise UsageError(
                    "an external OAuth issuer cannot be this service's own token endpoint"
                )
            if not trusted.jwks_is_url and not Path(trusted.jwks).is_file():
                raise UsageError(f"the JWKS file {trusted.jwks!r} does not exist")
            seen.add(trusted.issuer)
        if self.token_ttl <= timedelta(0) or self.token_ttl > timedelta(hours=24):
            raise UsageError("the access token lifetime must be between 1 second and 24 hours")

    @property
    def enabled(self) -> bool:
        """Whether any access token can be accepted at all."""
        return bool(self.issuers) or self.token_endpoint


def parse_issuers(entries: str | tuple[str, ...] | list[str]) -> tuple[TrustedIssuer, ...]:
    """``ISSUER=JWKS`` pairs (a list, or one comma-separated string; JWKS a URL or a file).

    Raises UsageError for an entry without ``=``.
    """
    items = entries.split(",") if isinstance(entries, str) else list(entries)
    found: list[TrustedIssuer] = []
    for raw in items:
        entry = raw.strip()
        if not entry:
            continue
        # an issuer identifier has no query (RFC 8414 §2), so its first "=" ends it
        issuer, sep, jwks = entry.partition("=")
        if not sep or not issuer or not jwks:
            raise UsageError(f"an OAuth issuer entry is ISSUER=JWKS (URL or file), not {entry!r}")
        found.append(TrustedIssuer(issuer=issuer.strip(), jwks=jwks.strip()))
    return tuple(found)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessToken:
    """A verified access token: who it was issued to, by whom, for what, until when."""

    issuer: str
    client_id: str
    subject: str
    scopes: tuple[str, ...]
    jti: str
    expires: datetime
    builtin: bool = False

    @property
    def actor(self) -> str:
        """How the audit log and idempotency keys name the caller."""
        if self.builtin:
            return f"client:{self.client_id}"
        return f"oauth:{self.client_id}@{self.issuer}"


def looks_like_jwt(token: str) -> bool:
    """Whether a bearer token has the compact JWS shape (API tokens have no dots)."""
    return token.count(".") == 2


def derived_key(secret: str, purpose: bytes) -> KeyPair:
    """An Ed25519 key derived from the service's own secret (kept in its database and shared
    by every worker) for one ``purpose``: no extra key to store or rotate apart from that
    secret, and a different key for each purpose (HMAC-SHA-256 as the KDF)."""
    seed = hmac.new(secret.encode("utf-8"), purpose, hashlib.sha256).digest()
    return KeyPair.from_secret("ed25519", seed)


def builtin_signing_key(secret: str) -> KeyPair:
    """The key the built-in token endpoint signs with (:func:`derived_key`)."""
    return derived_key(secret, _BUILTIN_KEY_INFO)


def builtin_key_id(key: PublicKey) -> str:
    return key.thumbprint()


def jwks_document(key: PublicKey) -> dict[str, Any]:
    """The JWK Set (RFC 7517 §5) of the built-in token endpoint."""
    return {"keys": [{**key.jwk(), "kid": builtin_key_id(key), "use": "sig", "alg": key.jws_alg}]}


def mint_access_token(
    key: KeyPair,
    *,
    issuer: str,
    audience: str,
    client_id: str,
    scopes: tuple[str, ...],
    now: datetime,
    ttl: timedelta,
) -> str:
    """A JWT access token (RFC 9068 §2) for a client of the client credentials grant, whose
    subject is the client itself (§2.2: ``sub`` names the client when no resource owner)."""
    issued = int(now.timestamp())
    claims = {
        "iss": issuer,
        "sub": client_id,
        "aud": audience,
        "client_id": client_id,
        "scope": " ".join(scopes),
        "iat": issued,
        "exp": issued + int(ttl.total_seconds()),
        "jti": secrets.token_urlsafe(16),
    }
    signer = LocalSigner(key, key_id=builtin_key_id(key.public))
    return sign_compact(claims, signer, typ="at+jwt")


class _Jwks:
    """One trusted issuer's keys by kid: read from a file once, or fetched and kept for
    ``ttl`` (fetched again sooner for a kid it does not hold, at most every 30 seconds)."""

    def __init__(self, trusted: TrustedIssuer, *, fetcher: Fetcher, ttl: float) -> None:
        self.trusted = trusted
        self.fetcher = fetcher
        self.ttl = ttl
        self._lock = threading.Lock()
        self._keys: dict[str | None, PublicKey] = {}
        self._fetched = -1e18
        if not trusted.jwks_is_url:
            self._keys = parse_jwks(Path(trusted.jwks).read_bytes(), source=trusted.jwks)
            self._fetched = float("inf")

    def key(self, kid: str | None) -> PublicKey:
        """The key ``kid`` names (no kid: the only key). Raises UnknownKeyError, or a
        ResolutionError when the JWKS cannot be fetched."""
        with self._lock:
            age = time.monotonic() - self._fetched
            if age > self.ttl or (kid not in self._keys and age > _REFETCH_AFTER_S):
                raw = self.fetcher.fetch(
                    self.trusted.jwks, accept=JWKS_MEDIA_TYPE, max_bytes=_MAX_JWKS_BYTES
                )
                self._keys = parse_jwks(raw, source=self.trusted.jwks)
                self._fetched = time.monotonic()
            if kid is None and len(self._keys) == 1:
                return next(iter(self._keys.values()))
            found = self._keys.get(kid)
        if found is None:
            raise UnknownKeyError(
                f"the issuer {self.trusted.issuer} has no signing key {str(kid)[:80]!r}",
                pointer="/header/kid",
            )
        return found


#: The members of a JWK Set entry read: the public key's and its restrictions.
_SIGNING_JWK_MEMBERS: Final = frozenset({"kty", "crv", "x", "y", "use", "key_ops", "alg"})


def parse_jwks(raw: bytes, *, source: str) -> dict[str | None, PublicKey]:
    """The signing keys of a JWK Set, by kid: keys vcred can verify with (Ed25519, P-256,
    P-384, P-521), meant for signatures; others (RSA, encryption keys) are left out.

    Raises MalformedError when the document is not a JWK Set.
    """
    document = loads_strict(raw, what=f"the JWKS of {source}")
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise MalformedError(f"{source} is not a JWK Set (RFC 7517 §5)")
    found: dict[str | None, PublicKey] = {}
    for entry in keys:
        if not isinstance(entry, dict):
            continue
        try:  # the public members, and those that restrict the key's use (RFC 7517 §4.2–4.4)
            key = PublicKey.from_signing_jwk(
                {k: v for k, v in entry.items() if k in _SIGNING_JWK_MEMBERS}
            )
        except VcredError:
            continue  # a key type vcred does not verify with, or one not for signatures
        kid = entry.get("kid")
        found[kid if isinstance(kid, str) else None] = key
    return found


@dataclass(slots=True, kw_only=True)
class AccessTokenVerifier:
    """Validates JWT access tokens for one service (RFC 9068 §4); thread-safe.

    ``builtin_key``: the built-in token endpoint's key, when it runs. ``clock``: the time.
    """

    config: OAuthConfig
    fetcher: Fetcher
    builtin_key: PublicKey | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _issuers: dict[str, _Jwks] = field(init=False)

    def __post_init__(self) -> None:
        ttl = self.config.jwks_ttl.total_seconds()
        self._issuers = {
            t.issuer: _Jwks(t, fetcher=self.fetcher, ttl=ttl) for t in self.config.issuers
        }

    def verify(self, token: str) -> AccessToken:
        """The verified access token.

        Raises UntrustedIssuerError (an issuer not configured), UnknownKeyError,
        CryptographicError / UnsupportedError / MalformedError (signature, alg, typ, claims),
        DomainError (another audience), ExpiredError / NotYetValidError, ResolutionError
        (the issuer's JWKS cannot be fetched).
        """
        # the issuer picks the keys, so it is read before anything is verified — and then
        # checked again from the verified payload
        claimed = _unverified_claims(token).get("iss")
        kid = unverified_header(token).get("kid")
        if kid is not None and not isinstance(kid, str):
            raise MalformedError("kid must be a string", pointer="/header/kid")
        builtin = self.config.token_endpoint and claimed == self.config.audience
        key = self._key(claimed, kid, builtin=builtin)
        _, claims = verify_with_key(token, key, typs=AT_JWT_TYPS)
        return self._checked(claims, builtin=builtin)

    def _key(self, issuer: Any, kid: str | None, *, builtin: bool) -> PublicKey:
        if builtin and self.builtin_key is not None:
            if kid is not None and kid != builtin_key_id(self.builtin_key):
                raise UnknownKeyError("the token endpoint has no such key", pointer="/header/kid")
            return self.builtin_key
        jwks = self._issuers.get(issuer) if isinstance(issuer, str) else None
        if jwks is None:
            raise UntrustedIssuerError(
                f"access tokens from {str(issuer)[:120]!r} are not accepted here",
                pointer="/payload/iss",
            )
        return jwks.key(kid)

    def _checked(self, claims: Mapping[str, Any], *, builtin: bool) -> AccessToken:
        for name in REQUIRED_CLAIMS:
            if name not in claims:
                raise MalformedError(f"the access token has no {name}", pointer=f"/payload/{name}")
        for name in ("iss", "sub", "client_id", "jti"):
            if not isinstance(claims[name], str) or not claims[name]:
                raise MalformedError(f"{name} must be a string", pointer=f"/payload/{name}")
        audience = claims["aud"]
        audiences = [audience] if isinstance(audience, str) else audience
        if not isinstance(audiences, list) or self.config.audience not in audiences:
            raise DomainError(
                f"the access token is not for {self.config.audience}", pointer="/payload/aud"
            )
        now = self.clock()
        leeway = self.config.leeway
        expires = numeric_date(claims["exp"], pointer="/payload/exp")
        if expires + leeway <= now:
            raise ExpiredError("the access token has expired", pointer="/payload/exp")
        if numeric_date(claims["iat"], pointer="/payload/iat") - leeway > now:
            raise NotYetValidError(
                "the access token is issued in the future", pointer="/payload/iat"
            )
        if "nbf" in claims and numeric_date(claims["nbf"], pointer="/payload/nbf") - leeway > now:
            raise NotYetValidError("the access token is not valid yet", pointer="/payload/nbf")
        scope = claims.get("scope", "")
        if not isinstance(scope, str):
            raise MalformedError("scope must be a space-separated string", pointer="/payload/scope")
        return AccessToken(
            issuer=claims["iss"],
            client_id=claims["client_id"],
            subject=claims["sub"],
            scopes=tuple(scope.split()),
            jti=claims["jti"],
            expires=expires,
            builtin=builtin,
        )


def config_from_env(
    get: Callable[[str], str | None], *, prefix: str, default_audience: str | None
) -> OAuthConfig | None:
    """The OAuth configuration from a service's ``<prefix>OAUTH_*`` variables (``get`` reads
    one by its name after the prefix); None when neither an issuer nor the token endpoint is
    configured. Raises UsageError naming the variable that is unusable."""
    issuers = parse_issuers(get("OAUTH_ISSUERS") or "")
    endpoint_value = get("OAUTH_TOKEN_ENDPOINT")
    token_endpoint = False
    if endpoint_value is not None:
        lowered = endpoint_value.strip().lower()
        if lowered not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise UsageError(f"{prefix}OAUTH_TOKEN_ENDPOINT must be 1 or 0, not {endpoint_value!r}")
        token_endpoint = lowered in ("1", "true", "yes", "on")
    # every option is used or refused: the lifetime is of the tokens the built-in endpoint
    # issues (an external server's tokens live as their exp says)
    if get("OAUTH_TOKEN_TTL") is not None and not token_endpoint:
        raise UsageError(f"{prefix}OAUTH_TOKEN_TTL needs {prefix}OAUTH_TOKEN_ENDPOINT")
    if not issuers and not token_endpoint:
        if get("OAUTH_AUDIENCE") is not None:
            needs = f"{prefix}OAUTH_ISSUERS or {prefix}OAUTH_TOKEN_ENDPOINT"
            raise UsageError(f"{prefix}OAUTH_AUDIENCE needs {needs}")
        return None
    audience = get("OAUTH_AUDIENCE") or default_audience
    if audience is None:
        raise UsageError(f"{prefix}OAUTH_AUDIENCE (this service's URL) is needed for OAuth")
    values: dict[str, Any] = {}
    ttl = get("OAUTH_TOKEN_TTL")
    if ttl is not None:
        values["token_ttl"] = duration(prefix + "OAUTH_TOKEN_TTL", ttl)
    return OAuthConfig(
        audience=audience.rstrip("/"), issuers=issuers, token_endpoint=token_endpoint, **values
    )
