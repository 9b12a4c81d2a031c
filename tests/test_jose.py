"""vc+jwt and vp+jwt: issuing, verifying, and every header attack of the JWT literature."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from tests.conftest import NOW, credential
from vcred import jose
from vcred.did import Resolver, did_key
from vcred.did.key import did_key_method_id
from vcred.errors import (
    CryptographicError,
    MalformedError,
    ParsingError,
    UnknownKeyError,
    UnsupportedError,
    VcredError,
)
from vcred.issuing import issue, signer_for
from vcred.keys import KeyPair
from vcred.multibase import b64url_encode

RESOLVER = Resolver()


def LOOKUP(method_id: str, relationship: str) -> Any:
    return RESOLVER.resolve_method(method_id, relationship=relationship)


def forge(
    header: dict[str, Any], payload: Any, key: KeyPair | None, *, raw_payload: bytes | None = None
) -> str:
    body = raw_payload if raw_payload is not None else json.dumps(payload).encode()
    head = header if isinstance(header, bytes) else json.dumps(header).encode()
    signing_input = b64url_encode(head) + "." + b64url_encode(body)
    signature = key.sign(signing_input.encode()) if key else b""
    return signing_input + "." + b64url_encode(signature)


@pytest.fixture
def issuer() -> KeyPair:
    return KeyPair.generate("ed25519")


def payload_for(key: KeyPair, **extra: Any) -> dict[str, Any]:
    return credential(issuer=did_key(key.public), **extra)


def header_for(key: KeyPair, **extra: Any) -> dict[str, Any]:
    header = {"alg": "EdDSA", "kid": did_key_method_id(key.public), "typ": "vc+jwt", "cty": "vc"}
    header.update(extra)
    return {k: v for k, v in header.items() if v is not None}


def test_issued_token_has_the_vc_jose_cose_header(any_key: KeyPair) -> None:
    token = issue(credential(), any_key)
    assert isinstance(token, str)
    header = jose.unverified_header(token)
    assert header == {
        "alg": {"ed25519": "EdDSA", "p256": "ES256", "p384": "ES384", "p521": "ES512"}[
            any_key.kind
        ],
        "kid": did_key_method_id(any_key.public),
        "typ": "vc+jwt",
        "cty": "vc",
    }
    verified = jose.verify_vc_jwt(token, lookup=LOOKUP)
    assert verified.payload["issuer"] == did_key(any_key.public)
    assert verified.payload["credentialSubject"] == credential()["credentialSubject"]


def test_forged_but_well_formed_token_verifies(issuer: KeyPair) -> None:
    # sanity check of the forge helper: everything below fails only for the reason it names
    jose.verify_vc_jwt(forge(header_for(issuer), payload_for(issuer), issuer), lookup=LOOKUP)


def test_alg_none_is_rejected(issuer: KeyPair) -> None:
    token = forge(header_for(issuer, alg="none"), payload_for(issuer), None)
    with pytest.raises(UnsupportedError):
        jose.verify_vc_jwt(token, lookup=LOOKUP)


def test_hs256_with_public_key_as_secret_is_rejected(issuer: KeyPair) -> None:
    header = header_for(issuer, alg="HS256")
    signing_input = (
        b64url_encode(json.dumps(header).encode())
        + "."
        + b64url_encode(json.dumps(payload_for(issuer)).encode())
    )
    for secret in (
        issuer.public.raw,
        json.dumps(issuer.public.jwk()).encode(),
        issuer.public.multikey().encode(),
    ):
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        with pytest.raises(UnsupportedError):
            jose.verify_vc_jwt(signing_input + "." + b64url_encode(mac), lookup=LOOKUP)


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256K", "HS512", "NONE", "", None])
def test_other_algorithms_are_rejected(issuer: KeyPair, alg: Any) -> None:
    token = forge(header_for(issuer, alg=alg), payload_for(issuer), issuer)
    with pytest.raises(UnsupportedError):
        jose.verify_vc_jwt(token, lookup=LOOKUP)


def test_alg_that_does_not_match_the_resolved_key_is_rejected(issuer: KeyPair) -> None:
    token = forge(header_for(issuer, alg="ES256"), payload_for(issuer), issuer)
    with pytest.raises(CryptographicError, match="does not match"):
        jose.verify_vc_jwt(token, lookup=LOOKUP)


@pytest.mark.parametrize("name", ["jwk", "jku", "x5u", "x5c"])
def test_keys_offered_in_headers_are_refused(issuer: KeyPair, name: str) -> None:
    attacker = KeyPair.generate()
    value: Any = {
        "jwk": attacker.public.jwk(),
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
        "x5c": ["MIIB"],
    }[name]
    header = header_for(issuer, **{name: value})
    with pytest.raises(MalformedError, match=name):
        jose.verify_vc_jwt(forge(header, payload_for(issuer), attacker), lookup=LOOKUP)


def test_kid_of_another_did_is_rejected(issuer: KeyPair) -> None:
    attacker = KeyPair.generate()
    header = header_for(issuer, kid=did_key_method_id(attacker.public))
    with pytest.raises(UnknownKeyError, match="not a key of"):
        jose.verify_vc_jwt(forge(header, payload_for(issuer), attacker), lookup=LOOKUP)


def test_missing_kid_is_rejected(issuer: KeyPair) -> None:
    header = header_for(issuer)
    del header["kid"]
    with pytest.raises(UnknownKeyError, match="no kid"):
        jose.verify_vc_jwt(forge(header, payload_for(issuer), issuer), lookup=LOOKUP)


def test_relative_kid_is_resolved_against_the_issuer(issuer: KeyPair) -> None:
    header = header_for(issuer, kid="#" + issuer.public.multikey())
    jose.verify_vc_jwt(forge(header, payload_for(issuer), issuer), lookup=LOOKUP)


def test_kid_naming_a_method_the_document_does_not_have_is_rejected(issuer: KeyPair) -> None:
    header = header_for(issuer, kid=did_key(issuer.public) + "#other")
    with pytest.raises(UnknownKeyError):
        jose.verify_vc_jwt(forge(header, payload_for(issuer), issuer), lookup=LOOKUP)


def test_unknown_crit_is_rejected(issuer: KeyPair) -> None:
    header = header_for(issuer, crit=["exp"], exp=1)
    with pytest.raises(UnsupportedError, match="critical"):
        jose.verify_vc_jwt(forge(header, payload_for(issuer), issuer), lookup=LOOKUP)


def test_unencoded_payload_b64_false_is_rejected(issuer: KeyPair) -> None:
    header = header_for(issuer, b64=False, crit=["b64"])
    with pytest.raises(UnsupportedError):
        jose.verify_vc_jwt(forge(header, payload_for(issuer), issuer), lookup=LOOKUP)


@pytest.mark.parametrize(
    "typ", ["vp+jwt", "dc+sd-jwt", "vc+sd-jwt", "kb+jwt", "at+jwt", "JOSE", None]
)
def test_typ_confusion_is_rejected(issuer: KeyPair, typ: str | None) -> None:
    header = header_for(issuer, typ=typ)
    with pytest.raises(MalformedError, match="typ"):
        jose.verify_vc_jwt(forge(header, payload_for(issuer), issuer), lookup=LOOKUP)


def test_presentation_token_is_not_a_credential(issuer: KeyPair) -> None:
    vp = jose.issue_vp_jwt(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "holder": did_key(issuer.public),
        },
        signer_for(issuer),
    )
    with pytest.raises(MalformedError, match="typ"):
        jose.verify_vc_jwt(vp, lookup=LOOKUP)


def test_nested_jwt_is_rejected(issuer: KeyPair) -> None:
    inner = issue(credential(), issuer)
    header = header_for(issuer, cty="JWT")
    token = forge(header, None, issuer, raw_payload=str(inner).encode())
    with pytest.raises(VcredError):
        jose.verify_vc_jwt(token, lookup=LOOKUP)
    with pytest.raises(MalformedError, match="cty"):
        jose.verify_vc_jwt(forge(header, payload_for(issuer), issuer), lookup=LOOKUP)


def test_duplicate_member_names_are_rejected(issuer: KeyPair) -> None:
    kid = did_key_method_id(issuer.public)
    header = f'{{"alg":"EdDSA","kid":"{kid}","typ":"vc+jwt","typ":"vc+jwt"}}'.encode()
    with pytest.raises(ParsingError, match="duplicate"):
        jose.verify_vc_jwt(forge(header, payload_for(issuer), issuer), lookup=LOOKUP)  # type: ignore[arg-type]
    body = json.dumps(payload_for(issuer))[:-1] + ', "issuer": "did:example:evil"}'
    with pytest.raises(ParsingError, match="duplicate"):
        jose.verify_vc_jwt(
            forge(header_for(issuer), None, issuer, raw_payload=body.encode()), lookup=LOOKUP
        )


def test_iss_contradicting_issuer_is_rejected(issuer: KeyPair) -> None:
    token = forge(header_for(issuer), payload_for(issuer, iss="did:example:other"), issuer)
    with pytest.raises(MalformedError, match="iss"):
        jose.verify_vc_jwt(token, lookup=LOOKUP)


def test_issuer_that_is_not_a_did_has_no_key(issuer: KeyPair) -> None:
    token = forge(header_for(issuer), credential(issuer="https://customs.example"), issuer)
    with pytest.raises(UnknownKeyError):
        jose.verify_vc_jwt(token, lookup=LOOKUP)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a.b",
        "a.b.c.d",
        "!!.??.**",
        "e30.e30.",
        "W10.e30.AA",
        "e30.W10.AA",
        "x" * (1024 * 1024 + 1),
    ],
)
def test_garbage_tokens_raise_clean_errors(token: str) -> None:
    with pytest.raises(VcredError):
        jose.verify_vc_jwt(token, lookup=LOOKUP)


def test_invalid_utf8_and_nan_are_parsing_errors() -> None:
    with pytest.raises(ParsingError):
        jose.loads_strict(b'{"a": "\xff"}')
    with pytest.raises(ParsingError):
        jose.loads_strict('{"a": NaN}')


@pytest.mark.parametrize(
    ("text", "pointer"),
    [
        (b'{"a": ["x", "\\ud800"]}', "/a/1"),  # a lone high surrogate, escaped
        (b'{"a": {"b": "\\udc00\\ud800"}}', "/a/b"),  # low before high: no pair
        (b'{"\\ud83d": 1}', ""),  # a member name
        ('{"a": "\ud800"}', "/a"),  # a str holding one (no UTF-8 bytes could)
    ],
)
def test_lone_surrogates_are_malformed_with_their_pointer(text: bytes | str, pointer: str) -> None:
    # not Unicode text, so not I-JSON (RFC 7493 §2.1): hashing or answering it fails later
    with pytest.raises(MalformedError) as caught:
        jose.loads_strict(text, what="payload", pointer="/p")
    assert caught.value.pointer == "/p" + pointer
    assert caught.value.message.startswith("payload: ")


def test_paired_surrogate_escapes_and_escaped_backslashes_are_text() -> None:
    assert jose.loads_strict(b'{"a": "\\ud83d\\udea2"}') == {"a": "\U0001f6a2"}
    assert jose.loads_strict(b'{"a": "\\\\ud800"}') == {"a": "\\ud800"}  # a backslash, then text


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [({"a": ["x", "\ud800"]}, "/a/1"), ({"a": {"\udc00": 1}}, "/a")],  # a string; a name
)
def test_signing_a_lone_surrogate_is_malformed_with_its_pointer(
    issuer: KeyPair, payload: dict[str, Any], pointer: str
) -> None:
    # the UTF-8 encoding of the payload is the check (issue() no longer walks it first for
    # vc+jwt): it must say where, not raise UnicodeEncodeError
    with pytest.raises(MalformedError) as caught:
        jose.sign_compact(payload, signer_for(issuer), typ="JWT")
    assert caught.value.pointer == pointer


class _Text(str):
    """A str subclass, as a caller's own string type may be."""


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [({"a": [_Text("\ud800")]}, "/a/0"), ({"a": ("x", "\ud800")}, None)],  # a subclass; a tuple
)
def test_a_lone_surrogate_where_no_walk_reads_it_is_still_malformed(
    issuer: KeyPair, payload: dict[str, Any], pointer: str | None
) -> None:
    # a str subclass was not read as text by the walk, nor is a tuple walked: issue() raised
    # UnicodeEncodeError out of vc+jwt, vc+sd-jwt and vc+cose
    with pytest.raises(MalformedError) as caught:
        jose.sign_compact(payload, signer_for(issuer), typ="JWT")
    assert caught.value.pointer == pointer
    for fmt in ("vc+jwt", "vc+sd-jwt", "vc+cose"):
        document = {**credential(), "credentialSubject": {"id": "did:example:1", **payload}}
        with pytest.raises(MalformedError, match="lone surrogate"):
            issue(document, issuer, format=fmt)


def test_tampered_payload_fails(issuer: KeyPair) -> None:
    token = issue(credential(), issuer)
    head, _, signature = str(token).split(".")
    other = b64url_encode(json.dumps(payload_for(issuer, name="changed")).encode())
    with pytest.raises(CryptographicError):
        jose.verify_vc_jwt(f"{head}.{other}.{signature}", lookup=LOOKUP)


def test_legacy_vc_jwt_11_is_read(issuer: KeyPair) -> None:
    did = did_key(issuer.public)
    payload = {
        "iss": did,
        "sub": "did:example:trader",
        "jti": "urn:uuid:1",
        "nbf": 1704067200,
        "exp": 1767225600,
        "vc": {
            "@context": ["https://www.w3.org/2018/credentials/v1"],
            "type": ["VerifiableCredential"],
            "credentialSubject": {"name": "Harbour Lights"},
        },
    }
    token = forge(
        {"alg": "EdDSA", "kid": did_key_method_id(issuer.public), "typ": "JWT"}, payload, issuer
    )
    verified = jose.verify_vc_jwt(token, lookup=LOOKUP)
    assert verified.payload["issuer"] == did
    assert verified.payload["issuanceDate"] == "2024-01-01T00:00:00Z"
    assert verified.payload["expirationDate"] == "2026-01-01T00:00:00Z"
    assert verified.payload["credentialSubject"] == {
        "name": "Harbour Lights",
        "id": "did:example:trader",
    }
    assert verified.payload["id"] == "urn:uuid:1"


@pytest.mark.parametrize("claim", ["vc", "vp"])
def test_a_legacy_tokens_own_time_claims_are_checked(issuer: KeyPair, claim: str) -> None:
    """VC-JWT 1.1 rebuilds the credential's dates from nbf / exp, but a credential that also
    states validUntil was read by that alone: a token its issuer signed as expired an hour
    ago verified until 2099. A legacy presentation's nbf was dropped, so one not valid for
    another hour verified."""
    from vcred import verify, verify_presentation

    did = did_key(issuer.public)
    now = int(NOW.timestamp())
    inner: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential" if claim == "vc" else "VerifiablePresentation"],
    }
    if claim == "vc":
        inner |= {
            "credentialSubject": {"id": "did:example:x"},
            "validUntil": "2099-01-01T00:00:00Z",
        }
        times = {"nbf": now - 7200, "exp": now - 3600}
    else:
        times = {"nbf": now + 3600, "exp": now + 7200}
    header = {"alg": "EdDSA", "kid": did_key_method_id(issuer.public), "typ": "JWT"}
    token = forge(header, {"iss": did, **times, claim: inner}, issuer)
    if claim == "vc":
        result = verify(token, now=NOW)
        assert not result.verified and result.codes == ("MALFORMED",)
        assert result.errors[0].path == "/exp"
    else:
        shown = verify_presentation(token, now=NOW)
        assert "NOT_YET_VALID" in shown.codes and shown.check("validity").passed is False


def test_verify_with_key_takes_the_algorithm_from_the_key(issuer: KeyPair) -> None:
    token = jose.sign_compact({"nonce": "n"}, signer_for(issuer), typ="kb+jwt")
    header, payload = jose.verify_with_key(token, issuer.public, typs=frozenset({"kb+jwt"}))
    assert header["typ"] == "kb+jwt" and payload == {"nonce": "n"}
    with pytest.raises(CryptographicError, match="does not match"):
        jose.verify_with_key(token, KeyPair.generate("p256").public, typs=frozenset({"kb+jwt"}))
    with pytest.raises(CryptographicError, match="does not verify"):
        jose.verify_with_key(token, KeyPair.generate().public, typs=frozenset({"kb+jwt"}))


def test_verify_with_key_applies_the_header_rules(issuer: KeyPair) -> None:
    header = {"alg": "EdDSA", "typ": "kb+jwt", "jwk": issuer.public.jwk()}
    with pytest.raises(MalformedError, match="jwk"):
        jose.verify_with_key(forge(header, {}, issuer), issuer.public, typs=frozenset({"kb+jwt"}))
    with pytest.raises(MalformedError, match="typ"):
        jose.verify_with_key(
            forge({"alg": "EdDSA", "typ": "JWT"}, {}, issuer),
            issuer.public,
            typs=frozenset({"kb+jwt"}),
        )


@pytest.mark.parametrize("claim", ["vc", "vp"])
def test_legacy_token_without_iss_is_malformed_not_a_crash(claim: str) -> None:
    # VC-JWT 1.1 rebuilds the credential from iss; a token without it (signed or not) used
    # to raise KeyError out of verify()
    from vcred import verify

    payload = {claim: {"type": ["VerifiableCredential"], "credentialSubject": {"name": "x"}}}
    with pytest.raises(MalformedError) as error:
        jose._from_legacy(payload)
    assert error.value.pointer == "/iss"
    result = verify(forge({"alg": "EdDSA", "typ": "JWT"}, payload, None))
    assert not result.verified
    assert "UNKNOWN_KEY" in result.codes
