"""COSE envelopes signed by a hostile party (docs/security.md §13.27): whatever a holder or
an issuer writes into the protected header it signs — any CBOR value at any label the
verifier reads, any CWT claim — gets a typed answer from ``verify()`` and
``verify_presentation()``, and a 4xx from the verifier service, never an exception.

The unprotected bucket is tests/hardening/test_unsigned_bytes.py's; messages are built with
cbor2 from RFC 9052 §4.2 / §4.4, as tests/test_cose.py builds them."""

from __future__ import annotations

import base64
import json
from typing import Any

import cbor2
import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.verifier.conftest import DOMAIN, NOW, MakeApp
from vcred import Verifier, did_key, issue
from vcred.did.key import did_key_method_id
from vcred.keys import KeyPair
from vcred.presentation import envelope
from vcred.verifier import PresentationResult, VerificationResult

ISSUER = KeyPair.generate("ed25519")
HOLDER = KeyPair.generate("p256")
HOLDER_DID = did_key(HOLDER.public)
AT = Verifier(clock=lambda: NOW)
CREDENTIAL: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "issuer": did_key(ISSUER.public),
    "validFrom": "2026-01-01T00:00:00Z",
    "credentialSubject": {"id": HOLDER_DID, "name": "Harbour Lights Trading"},
}


def _issued() -> bytes:
    data = issue(CREDENTIAL, ISSUER, format="vc+cose")
    assert isinstance(data, bytes)
    return data


INNER = _issued()
PRESENTATION: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiablePresentation"],
    "holder": HOLDER_DID,
    "verifiableCredential": [envelope(INNER)],
}
ALG = {"ed25519": -8, "p256": -7}


def sign1(protected: dict[Any, Any], payload: dict[str, Any], key: KeyPair) -> bytes:
    """A tagged COSE_Sign1 over ``payload``'s JSON, signed by ``key`` (RFC 9052 §4.4)."""
    head = cbor2.dumps(protected)
    body = json.dumps(payload).encode()
    signature = key.sign(cbor2.dumps(["Signature1", head, b"", body]))
    return cbor2.dumps(cbor2.CBORTag(18, [head, {}, body, signature]))


def vp_header(claims: Any) -> dict[Any, Any]:
    return {
        1: ALG[HOLDER.kind],
        3: "application/vp",
        4: did_key_method_id(HOLDER.public).encode(),
        16: "application/vp+cose",
        15: claims,
    }


def vc_header() -> dict[Any, Any]:
    return {
        1: ALG[ISSUER.kind],
        3: "application/vc",
        4: did_key_method_id(ISSUER.public).encode(),
        16: "application/vc+cose",
    }


# -- the audience a holder signs -----------------------------------------------------------------


@pytest.mark.parametrize(
    "aud",
    [b"https://customs.eu.example", [b"https://customs.eu.example"], {b"k": 1}, 7, 1.5],
    ids=["bytes", "array-of-bytes", "map", "integer", "float"],
)
def test_a_vp_cose_aud_claim_that_is_no_text_is_malformed_not_raised(aud: Any) -> None:
    """CBOR has byte strings; a JWT's aud never held one. The signed aud was handed to the
    domain check as it was, which compared it and showed it with json.dumps: TypeError."""
    vp = sign1(vp_header({39: b"c-1", 3: aud}), PRESENTATION, HOLDER)
    result = AT.verify_presentation(vp, challenge="c-1", domain=DOMAIN)
    assert not result.verified
    assert "MALFORMED" in result.codes
    assert any(e.path == "/protected/15/3" for e in result.errors)


def test_a_vp_cose_aud_claim_of_text_or_an_array_of_text_still_binds_the_domain() -> None:
    for aud in (DOMAIN, [DOMAIN], ["https://elsewhere.example", DOMAIN]):
        vp = sign1(vp_header({39: b"c-1", 3: aud}), PRESENTATION, HOLDER)
        assert AT.verify_presentation(vp, challenge="c-1", domain=DOMAIN).verified, aud
    vp = sign1(vp_header({39: b"c-1", 3: ["https://elsewhere.example"]}), PRESENTATION, HOLDER)
    assert AT.verify_presentation(vp, challenge="c-1", domain=DOMAIN).codes == ("INVALID_DOMAIN",)


def test_a_vp_cose_with_a_byte_string_aud_through_the_verifier_service_is_a_400(
    make_app: MakeApp,
) -> None:
    client: FlaskClient = make_app().test_client()
    nonce = client.post("/challenges").get_json()["challenge"]
    vp = sign1(vp_header({39: nonce.encode(), 3: DOMAIN.encode()}), PRESENTATION, HOLDER)
    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiablePresentation",
        "id": "data:application/vp+cose;base64," + base64.b64encode(vp).decode(),
    }
    response = client.post(
        "/presentations/verify",
        json={"verifiablePresentation": enveloped, "options": {"challenge": nonce}},
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "MALFORMED" in [p["code"] for p in response.get_json()["problemDetails"]]


# -- lengths a message claims ---------------------------------------------------------------------

_PREFIX = b"\xd2\x84"  # tag 18, an array of four


@pytest.mark.parametrize(
    "data",
    [
        _PREFIX + b"\x5b" + (9).to_bytes(8, "big") + b"\x9b" + (2**32).to_bytes(8, "big"),
        _PREFIX + b"\x45\xba\x80\x00\x00\x00",
        _PREFIX + b"\x40\xba\x80\x00\x00\x00",
        _PREFIX + b"\x40\xa1\x01\x9a\x10\x00\x00\x00",
        _PREFIX + b"\x40\xa0\x7b" + (2**62).to_bytes(8, "big"),
        _PREFIX + b"\x40\xa0\x5a" + (2**30).to_bytes(4, "big") + b"x" * 1000,
    ],
    ids=["array-2^32", "map-2^31", "unprotected-map-2^31", "array-2^28", "text-2^62", "bytes-2^30"],
)
def test_a_length_the_message_does_not_hold_is_a_parsing_error(data: bytes) -> None:
    """A header claiming more items or bytes than the message holds ends at the message's
    end (cbor2 reads as it goes; nothing is allocated for the claim)."""
    assert AT.verify(data).codes == ("PARSING_ERROR",)


# -- any signed protected header -----------------------------------------------------------------

_LABELS = st.integers(min_value=-(2**16), max_value=2**16) | st.text(max_size=8)
_CBOR_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64 - 1)
    | st.floats()
    | st.text(max_size=12)
    | st.binary(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_LABELS, inner, max_size=3),
    max_leaves=8,
)
#: The header labels the verifier reads or refuses (alg, crit, content type, kid, kcwt, kccs,
#: CWT claims, typ, x5bag, x5chain) and any other.
_HEADER_LABELS = st.sampled_from([1, 2, 3, 4, 13, 14, 15, 16, 32, 33]) | _LABELS
#: The CWT claims read (iss, aud, exp, nbf, iat, cnonce) and any other.
_CLAIM_KEYS = st.sampled_from([1, 3, 4, 5, 6, 39]) | _LABELS
_CHANGES = st.dictionaries(_HEADER_LABELS, _CBOR_VALUES, max_size=3)
_CLAIMS = st.dictionaries(_CLAIM_KEYS, _CBOR_VALUES, max_size=4)
SETTINGS = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])


def _typed(result: VerificationResult | PresentationResult) -> None:
    """A refusal names what broke with a code; a verdict of verified has no error."""
    assert result.verified is (not result.errors)
    assert all(isinstance(e.code, str) and e.code for e in result.errors)


@SETTINGS
@given(changes=_CHANGES, claims=_CLAIMS)
def test_any_protected_header_an_issuer_signs_gets_a_typed_answer(
    changes: dict[Any, Any], claims: dict[Any, Any]
) -> None:
    header = {**vc_header(), **changes}
    if claims:
        header.setdefault(15, claims)
    message = sign1(header, CREDENTIAL, ISSUER)
    _typed(AT.verify(message))
    _typed(AT.verify(envelope(message)))


@SETTINGS
@given(changes=_CHANGES, claims=_CLAIMS)
def test_any_protected_header_a_holder_signs_gets_a_typed_answer(
    changes: dict[Any, Any], claims: dict[Any, Any]
) -> None:
    message = sign1({**vp_header({39: b"c-1", **claims}), **changes}, PRESENTATION, HOLDER)
    for challenge, domain in (("c-1", DOMAIN), (None, None)):
        _typed(AT.verify_presentation(message, challenge=challenge, domain=domain))


GENUINE_VP = sign1(vp_header({39: b"c-1", 3: DOMAIN}), PRESENTATION, HOLDER)
_EDITS = st.lists(
    st.tuples(st.sampled_from(["set", "insert", "delete"]), st.floats(0, 1), st.binary(max_size=9)),
    min_size=1,
    max_size=4,
)


def _edited(data: bytes, edits: list[tuple[str, float, bytes]]) -> bytes:
    for op, where, value in edits:
        at = int(where * len(data))
        if op == "set":
            data = data[:at] + value + data[at + len(value) :]
        elif op == "insert":
            data = data[:at] + value + data[at:]
        else:
            data = data[:at] + data[at + 1 + len(value) :]
    return data


@SETTINGS
@given(edits=_EDITS)
def test_any_edit_of_a_genuine_message_gets_a_typed_answer(
    edits: list[tuple[str, float, bytes]],
) -> None:
    """Bytes set, inserted or deleted anywhere in a genuine vc+cose (the one the vp+cose
    carries) and vp+cose: whatever the edit leaves, a typed answer."""
    assert AT.verify_presentation(GENUINE_VP, challenge="c-1", domain=DOMAIN).verified
    _typed(AT.verify(_edited(INNER, edits)))
    presentation = _edited(GENUINE_VP, edits)
    _typed(AT.verify_presentation(presentation, challenge="c-1", domain=DOMAIN))
    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiablePresentation",
        "id": "data:application/vp+cose;base64," + base64.b64encode(presentation).decode(),
    }
    _typed(AT.verify_presentation(enveloped, challenge="c-1", domain=DOMAIN))
