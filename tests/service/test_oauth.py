"""JWT access tokens (RFC 9068 §4) as vcred_service.oauth validates them: what an external
authorization server's token must be, each refusal named, past attacks pinned."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.httpserver import LocalServer, local_server
from vcred.errors import (
    CryptographicError,
    DomainError,
    ExpiredError,
    FetchRefusedError,
    MalformedError,
    NotYetValidError,
    UnknownKeyError,
    UnsupportedError,
    UntrustedIssuerError,
    UsageError,
)
from vcred.jose import compact_json, sign_compact
from vcred.keys import KeyPair, LocalSigner
from vcred.multibase import b64url_encode
from vcred.net import GuardedFetcher
from vcred_service.oauth import (
    AccessTokenVerifier,
    OAuthConfig,
    TrustedIssuer,
    builtin_signing_key,
    config_from_env,
    mint_access_token,
    parse_issuers,
    parse_jwks,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
AS = "https://as.customs.example"
AUDIENCE = "https://issuer.customs.example"
AS_HOST = "as.customs.example"


def claims(**extra: Any) -> dict[str, Any]:
    base = {
        "iss": AS,
        "sub": "broker-system",
        "aud": AUDIENCE,
        "client_id": "broker-system",
        "scope": "issue status",
        "iat": int(NOW.timestamp()) - 10,
        "exp": int(NOW.timestamp()) + 300,
        "jti": "a1b2c3",
    }
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: KeyPair, payload: dict[str, Any], *, kid: str = "as-1", typ: str = "at+jwt") -> str:
    return sign_compact(payload, LocalSigner(key, key_id=kid), typ=typ)


def raw_token(header: dict[str, Any], payload: dict[str, Any], signature: bytes) -> str:
    head, body = b64url_encode(compact_json(header)), b64url_encode(compact_json(payload))
    return f"{head}.{body}.{b64url_encode(signature)}"


@pytest.fixture(scope="module")
def as_key() -> KeyPair:
    return KeyPair.generate("p256")


@pytest.fixture
def jwks_file(tmp_path: Path, as_key: KeyPair) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{**as_key.public.jwk(), "kid": "as-1", "use": "sig"}]}))
    return path


def verifier_for(jwks: str, **config: Any) -> AccessTokenVerifier:
    return AccessTokenVerifier(
        config=OAuthConfig(
            audience=AUDIENCE, issuers=(TrustedIssuer(issuer=AS, jwks=jwks),), **config
        ),
        fetcher=GuardedFetcher(),
        clock=lambda: NOW,
    )


@pytest.fixture
def verifier(jwks_file: Path) -> AccessTokenVerifier:
    return verifier_for(str(jwks_file))


def test_a_token_of_a_configured_issuer_is_accepted(
    verifier: AccessTokenVerifier, as_key: KeyPair
) -> None:
    token = verifier.verify(sign(as_key, claims()))
    assert (token.issuer, token.client_id, token.scopes) == (
        AS,
        "broker-system",
        ("issue", "status"),
    )
    assert token.actor == f"oauth:broker-system@{AS}"
    assert token.expires == NOW + timedelta(seconds=300)


def test_the_media_type_form_of_typ_is_accepted(
    verifier: AccessTokenVerifier, as_key: KeyPair
) -> None:
    assert (
        verifier.verify(sign(as_key, claims(), typ="application/at+jwt")).client_id
        == "broker-system"
    )


def test_an_audience_list_naming_this_service_is_accepted(
    verifier: AccessTokenVerifier, as_key: KeyPair
) -> None:
    token = sign(as_key, claims(aud=["https://other.example", AUDIENCE]))
    assert verifier.verify(token).jti == "a1b2c3"


def test_expired_token_is_refused(verifier: AccessTokenVerifier, as_key: KeyPair) -> None:
    with pytest.raises(ExpiredError):
        verifier.verify(sign(as_key, claims(exp=int(NOW.timestamp()) - 31)))


def test_token_issued_in_the_future_is_refused(
    verifier: AccessTokenVerifier, as_key: KeyPair
) -> None:
    with pytest.raises(NotYetValidError):
        verifier.verify(sign(as_key, claims(iat=int(NOW.timestamp()) + 120)))


def test_wrong_audience_is_refused(verifier: AccessTokenVerifier, as_key: KeyPair) -> None:
    with pytest.raises(DomainError):
        verifier.verify(sign(as_key, claims(aud="https://verifier.customs.example")))


def test_token_from_an_unconfigured_issuer_is_refused(
    verifier: AccessTokenVerifier, as_key: KeyPair
) -> None:
    # same key, even: the issuer is what selects the keys
    with pytest.raises(UntrustedIssuerError):
        verifier.verify(sign(as_key, claims(iss="https://rogue.example")))


def test_wrong_signature_is_refused(verifier: AccessTokenVerifier) -> None:
    other = KeyPair.generate("p256")
    with pytest.raises(CryptographicError):
        verifier.verify(sign(other, claims()))


def test_unknown_kid_is_refused(verifier: AccessTokenVerifier, as_key: KeyPair) -> None:
    with pytest.raises(UnknownKeyError):
        verifier.verify(sign(as_key, claims(), kid="as-2"))


def test_alg_none_is_refused(verifier: AccessTokenVerifier) -> None:
    token = raw_token({"alg": "none", "typ": "at+jwt", "kid": "as-1"}, claims(), b"")
    with pytest.raises(UnsupportedError):
        verifier.verify(token)


def test_hs256_with_public_key_is_rejected(verifier: AccessTokenVerifier, as_key: KeyPair) -> None:
    """The classic confusion: the public key used as an HMAC secret."""
    header = {"alg": "HS256", "typ": "at+jwt", "kid": "as-1"}
    body = claims()
    signing_input = f"{b64url_encode(compact_json(header))}.{b64url_encode(compact_json(body))}"
    for secret in (json.dumps(as_key.public.jwk()).encode(), as_key.public.raw):
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        with pytest.raises(UnsupportedError):
            verifier.verify(raw_token(header, body, mac))


def test_alg_other_than_the_keys_is_refused(verifier: AccessTokenVerifier, as_key: KeyPair) -> None:
    """An ES384 header over the P-256 key: the key names ES256, the header is not asked."""
    good = sign(as_key, claims())
    _, payload, signature = good.split(".")
    forged_head = b64url_encode(compact_json({"alg": "ES384", "kid": "as-1", "typ": "at+jwt"}))
    with pytest.raises(CryptographicError):
        verifier.verify(f"{forged_head}.{payload}.{signature}")


def test_a_key_in_the_header_is_refused(verifier: AccessTokenVerifier) -> None:
    attacker = KeyPair.generate("p256")
    header = {"alg": "ES256", "typ": "at+jwt", "kid": "as-1", "jwk": attacker.public.jwk()}
    signing_input = f"{b64url_encode(compact_json(header))}.{b64url_encode(compact_json(claims()))}"
    token = f"{signing_input}.{b64url_encode(attacker.sign(signing_input.encode()))}"
    with pytest.raises(MalformedError):
        verifier.verify(token)


def test_an_id_token_or_vc_jwt_is_not_an_access_token(
    verifier: AccessTokenVerifier, as_key: KeyPair
) -> None:
    for typ in ("JWT", "vc+jwt"):
        with pytest.raises(MalformedError):
            verifier.verify(sign(as_key, claims(), typ=typ))


@pytest.mark.parametrize("missing", ["sub", "client_id", "jti", "iat", "exp", "aud"])
def test_a_token_without_a_required_claim_is_refused(
    verifier: AccessTokenVerifier, as_key: KeyPair, missing: str
) -> None:
    with pytest.raises(MalformedError, match=missing):
        verifier.verify(sign(as_key, {k: v for k, v in claims().items() if k != missing}))


def test_jwks_leaves_out_rsa_and_encryption_keys_and_other_algs(as_key: KeyPair) -> None:
    ed = KeyPair.generate("ed25519")
    raw = json.dumps(
        {
            "keys": [
                {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "rsa"},
                {**as_key.public.jwk(), "kid": "enc", "use": "enc"},
                {**as_key.public.jwk(), "kid": "wrong-alg", "alg": "ES384"},
                {**ed.public.jwk(), "kid": "ed", "alg": "EdDSA"},
            ]
        }
    ).encode()
    assert list(parse_jwks(raw, source="test")) == ["ed"]


def test_a_document_that_is_not_a_jwks_is_refused() -> None:
    with pytest.raises(MalformedError):
        parse_jwks(b'{"kty": "EC"}', source="test")


# -- the JWKS fetched over HTTP ---------------------------------------------------------------


@pytest.fixture
def as_server(as_key: KeyPair) -> Iterator[LocalServer]:
    with local_server() as server:
        server.serve(
            "/jwks.json",
            json.dumps({"keys": [{**as_key.public.jwk(), "kid": "as-1"}]}).encode(),
        )
        yield server


def test_the_jwks_is_fetched_through_the_guarded_fetcher(
    as_server: LocalServer, as_key: KeyPair
) -> None:
    verifier = AccessTokenVerifier(
        config=OAuthConfig(
            audience=AUDIENCE,
            issuers=(TrustedIssuer(issuer=AS, jwks=f"https://{AS_HOST}/jwks.json"),),
        ),
        fetcher=GuardedFetcher(host_map={AS_HOST: as_server.origin}),
        clock=lambda: NOW,
    )
    assert verifier.verify(sign(as_key, claims())).client_id == "broker-system"
    verifier.verify(sign(as_key, claims(jti="second")))
    assert as_server.hits.count("/jwks.json") == 1  # kept for jwks_ttl


def test_a_jwks_url_on_a_private_address_is_refused(
    as_server: LocalServer, as_key: KeyPair
) -> None:
    # the loopback server, named directly: the SSRF guard does not connect
    verifier = verifier_for(f"{as_server.origin}/jwks.json")
    with pytest.raises(FetchRefusedError):
        verifier.verify(sign(as_key, claims()))
    assert as_server.hits == []


# -- the built-in token endpoint's tokens -----------------------------------------------------


def test_builtin_tokens_verify_with_the_derived_key(jwks_file: Path) -> None:
    key = builtin_signing_key("0" * 64)
    assert builtin_signing_key("0" * 64).public == key.public  # every worker derives the same
    assert builtin_signing_key("1" * 64).public != key.public
    token = mint_access_token(
        key,
        issuer=AUDIENCE,
        audience=AUDIENCE,
        client_id="vcc_0011223344556677",
        scopes=("issue",),
        now=NOW,
        ttl=timedelta(minutes=5),
    )
    verifier = AccessTokenVerifier(
        config=OAuthConfig(audience=AUDIENCE, token_endpoint=True),
        fetcher=GuardedFetcher(),
        builtin_key=key.public,
        clock=lambda: NOW,
    )
    found = verifier.verify(token)
    assert (found.builtin, found.actor, found.scopes) == (
        True,
        "client:vcc_0011223344556677",
        ("issue",),
    )
    # with the built-in endpoint off, its tokens are from an unconfigured issuer
    closed = AccessTokenVerifier(
        config=OAuthConfig(
            audience=AUDIENCE, issuers=(TrustedIssuer(issuer=AS, jwks=str(jwks_file)),)
        ),
        fetcher=GuardedFetcher(),
        builtin_key=key.public,
        clock=lambda: NOW,
    )
    with pytest.raises(UntrustedIssuerError):
        closed.verify(token)


# -- configuration ----------------------------------------------------------------------------


def test_issuers_parse_from_pairs(jwks_file: Path) -> None:
    found = parse_issuers(f"{AS}=https://{AS_HOST}/jwks.json, https://b.example={jwks_file}")
    assert [(t.issuer, t.jwks_is_url) for t in found] == [(AS, True), ("https://b.example", False)]
    with pytest.raises(UsageError):
        parse_issuers("https://as.example")


def test_config_refuses_a_missing_jwks_file_and_a_duplicate_issuer(
    tmp_path: Path, jwks_file: Path
) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        OAuthConfig(
            audience=AUDIENCE, issuers=(TrustedIssuer(issuer=AS, jwks=str(tmp_path / "x")),)
        )
    twice = (TrustedIssuer(issuer=AS, jwks=str(jwks_file)),) * 2
    with pytest.raises(UsageError, match="twice"):
        OAuthConfig(audience=AUDIENCE, issuers=twice)


def test_config_from_env_uses_or_refuses_every_variable(jwks_file: Path) -> None:
    env = {"OAUTH_ISSUERS": f"{AS}={jwks_file}", "OAUTH_TOKEN_ENDPOINT": "1"}
    found = config_from_env(
        {**env, "OAUTH_TOKEN_TTL": "120"}.get, prefix="X_", default_audience=AUDIENCE + "/"
    )
    assert found is not None
    assert (found.audience, found.token_ttl, found.token_endpoint) == (
        AUDIENCE,
        timedelta(seconds=120),
        True,
    )
    assert config_from_env({}.get, prefix="X_", default_audience=AUDIENCE) is None
    # was: accepted and never used — an external server's tokens live as their exp says
    external = {"OAUTH_ISSUERS": env["OAUTH_ISSUERS"], "OAUTH_TOKEN_TTL": "60"}
    with pytest.raises(UsageError, match="X_OAUTH_TOKEN_TTL needs X_OAUTH_TOKEN_ENDPOINT"):
        config_from_env(external.get, prefix="X_", default_audience=AUDIENCE)
    with pytest.raises(UsageError, match="X_OAUTH_AUDIENCE needs"):
        config_from_env({"OAUTH_AUDIENCE": AUDIENCE}.get, prefix="X_", default_audience=None)
    with pytest.raises(UsageError, match="X_OAUTH_AUDIENCE"):
        config_from_env({"OAUTH_TOKEN_ENDPOINT": "1"}.get, prefix="X_", default_audience=None)
    with pytest.raises(UsageError, match="1 or 0"):
        config_from_env(
            {"OAUTH_TOKEN_ENDPOINT": "maybe"}.get, prefix="X_", default_audience=AUDIENCE
        )
