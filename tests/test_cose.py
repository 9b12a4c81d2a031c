"""vc+cose and vp+cose (VC-JOSE-COSE §3.3): issuing, verifying, and the COSE_Sign1 attacks.

Messages are built here with cbor2 from RFC 9052 §4.2 / §4.4, not with vcred's own encoder,
so each attack test fails only for the reason it names.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cbor2
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import NOW, credential
from vcred import cose
from vcred.cli import main
from vcred.did import Resolver, did_key
from vcred.did.key import did_key_method_id
from vcred.errors import (
    CryptographicError,
    MalformedError,
    ParsingError,
    UnknownKeyError,
    UnsupportedError,
    UsageError,
    VcredError,
)
from vcred.issuing import issue
from vcred.keys import KeyPair
from vcred.multibase import b64url_decode, b64url_encode
from vcred.presentation import envelope, present
from vcred.trust import build_trust_list
from vcred.verifier import Verifier, detect, detect_presentation

RESOLVER = Resolver()
AT = Verifier(clock=lambda: NOW)
ALG = {"ed25519": -8, "p256": -7, "p384": -35, "p521": -36}
DOMAIN = "https://customs.eu.example"


def LOOKUP(method_id: str, relationship: str) -> Any:
    return RESOLVER.resolve_method(method_id, relationship=relationship)


def protected_for(key: KeyPair, **labels: Any) -> dict[Any, Any]:
    """The headers vcred signs with; ``labels``: ``h<label>=value`` (None removes it)."""
    header: dict[Any, Any] = {
        1: ALG[key.kind],
        3: "application/vc",
        4: did_key_method_id(key.public).encode(),
        16: "application/vc+cose",
    }
    for name, value in labels.items():
        header[int(name[1:])] = value
    return {k: v for k, v in header.items() if v is not None}


def payload_for(key: KeyPair, **extra: Any) -> dict[str, Any]:
    return credential(issuer=did_key(key.public), **extra)


def forge(
    protected: dict[Any, Any] | bytes,
    payload: Any,
    key: KeyPair | None,
    *,
    unprotected: dict[Any, Any] | None = None,
    tag: int | None = 18,
    raw_payload: bytes | str | None = "json",
) -> bytes:
    """A COSE_Sign1 (RFC 9052 §4.2) signed over its Sig_structure (§4.4) with ``key``."""
    head = protected if isinstance(protected, bytes) else cbor2.dumps(protected)
    body = json.dumps(payload).encode() if raw_payload == "json" else raw_payload
    signed = cbor2.dumps(["Signature1", head, b"", body if body is not None else b""])
    signature = key.sign(signed) if key else b""
    message = [head, unprotected or {}, body, signature]
    return cbor2.dumps(cbor2.CBORTag(tag, message) if tag is not None else message)


def verify(data: bytes) -> cose.VerifiedCose:
    return cose.verify_vc_cose(data, lookup=LOOKUP)


@pytest.fixture
def issuer() -> KeyPair:
    return KeyPair.generate("ed25519")


def good(key: KeyPair, **labels: Any) -> bytes:
    return forge(protected_for(key, **labels), payload_for(key), key)


# -- what we issue -------------------------------------------------------------------------------


def test_issued_credential_is_a_tagged_sign1_with_the_spec_headers(any_key: KeyPair) -> None:
    data = issue(credential(), any_key, format="vc+cose")
    assert isinstance(data, bytes)
    message = cbor2.loads(data)
    assert message.tag == 18
    protected, unprotected, payload, signature = message.value
    assert cbor2.loads(protected) == {
        1: ALG[any_key.kind],
        3: "application/vc",
        4: did_key_method_id(any_key.public).encode(),
        16: "application/vc+cose",
    }
    assert unprotected == {}
    # §3.3.1: the unsecured credential is the (unencoded) COSE_Sign1 payload
    assert json.loads(payload) == payload_for(any_key)
    assert len(signature) == {"ed25519": 64, "p256": 64, "p384": 96, "p521": 132}[any_key.kind]


def test_each_key_type_round_trips_through_verify(any_key: KeyPair) -> None:
    data = issue(credential(), any_key, format="vc+cose")
    result = AT.verify(data)
    assert result.verified, result.errors
    assert result.format == "vc+cose"
    assert result.issuer == did_key(any_key.public)
    assert result.method == did_key_method_id(any_key.public)
    assert result.credential == payload_for(any_key)


def test_forged_but_well_formed_message_verifies(any_key: KeyPair) -> None:
    # sanity check of the forge helper: everything below fails only for the reason it names
    assert verify(good(any_key)).payload == payload_for(any_key)


@pytest.mark.parametrize(
    ("kind", "alg"), [("ed25519", -19), ("p256", -9), ("p384", -51), ("p521", -52)]
)
def test_fully_specified_algorithms_are_accepted(kind: str, alg: int) -> None:
    key = KeyPair.generate(kind)  # RFC 9864: Ed25519, ESP256, ESP384
    assert verify(good(key, h1=alg)).method.public_key == key.public


# -- the algorithm comes from the key ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "alg"),
    [
        ("ed25519", -7),
        ("ed25519", -36),
        ("p256", -35),
        ("p256", -8),
        ("p384", -9),
        ("p521", -35),
        ("p256", -19),
    ],
)
def test_alg_that_does_not_match_the_resolved_key_is_rejected(kind: str, alg: int) -> None:
    key = KeyPair.generate(kind)
    with pytest.raises(CryptographicError) as caught:
        verify(good(key, h1=alg))
    assert caught.value.pointer == "/protected/1"


@pytest.mark.parametrize("alg", [None, 5, 4, -257, -37, -47, 0, "EdDSA", True, -8.0])
def test_other_algorithms_are_rejected(issuer: KeyPair, alg: Any) -> None:
    # missing, HMAC 256/256 and 256/64, RS256, PS256, ES256K, "none"-like, wrong types
    with pytest.raises(UnsupportedError):
        verify(good(issuer, h1=alg))


# -- headers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("label", [13, 14, 32, 33, 34, 35])
@pytest.mark.parametrize("where", ["protected", "unprotected"])
def test_keys_offered_in_headers_are_refused(issuer: KeyPair, label: int, where: str) -> None:
    # kcwt, kccs, x5bag, x5chain, x5t, x5u: a message must not bring its own key
    offered = b"\x01" * 32
    protected = protected_for(issuer, **({f"h{label}": offered} if where == "protected" else {}))
    unprotected = {label: offered} if where == "unprotected" else None
    with pytest.raises(MalformedError) as caught:
        verify(forge(protected, payload_for(issuer), issuer, unprotected=unprotected))
    assert caught.value.pointer == f"/{where}/{label}"


@pytest.mark.parametrize("label", [1, 3, 4, 15, 16])
def test_headers_the_verifier_reads_must_be_protected(issuer: KeyPair, label: int) -> None:
    # an unprotected kid, alg, typ … could be changed by anyone without breaking the signature
    protected = protected_for(issuer)
    moved = {label: protected.pop(label, {})}
    with pytest.raises(MalformedError) as caught:
        verify(forge(protected, payload_for(issuer), issuer, unprotected=moved))
    assert caught.value.pointer == f"/unprotected/{label}"


def test_a_label_in_both_buckets_is_rejected(issuer: KeyPair) -> None:
    unprotected = {99: "again"}
    with pytest.raises(MalformedError, match="both protected and unprotected"):
        verify(good_with(issuer, h99="once", unprotected=unprotected))


def good_with(key: KeyPair, *, unprotected: dict[Any, Any], **labels: Any) -> bytes:
    return forge(protected_for(key, **labels), payload_for(key), key, unprotected=unprotected)


@pytest.mark.parametrize("crit", [[99], [1], []])
def test_critical_headers_are_rejected(issuer: KeyPair, crit: list[int]) -> None:
    with pytest.raises(UnsupportedError) as caught:
        verify(good(issuer, h2=crit, h99="must understand"))
    assert caught.value.pointer == "/protected/2"


def test_unknown_header_parameters_are_ignored(issuer: KeyPair) -> None:
    # VC-JOSE-COSE §3.3.3: members that are not understood MUST be ignored
    verified = verify(good_with(issuer, h99="x", unprotected={77: b"counter", "note": 1}))
    assert verified.method.controller == did_key(issuer.public)


@pytest.mark.parametrize(
    "typ", [None, "application/vp+cose", "application/cose", "application/vc", "vc+cose", 16]
)
def test_typ_confusion_is_rejected(issuer: KeyPair, typ: Any) -> None:
    with pytest.raises(MalformedError) as caught:
        verify(good(issuer, h16=typ))
    assert caught.value.pointer == "/protected/16"


@pytest.mark.parametrize("content_type", ["application/json", "application/vp", 50, b"vc"])
def test_other_content_types_are_rejected(issuer: KeyPair, content_type: Any) -> None:
    with pytest.raises(MalformedError) as caught:
        verify(good(issuer, h3=content_type))
    assert caught.value.pointer == "/protected/3"


def test_the_media_types_before_2024_are_still_read(issuer: KeyPair) -> None:
    # VC-JOSE-COSE Revision History: application/vc+ld+json+cose became application/vc+cose
    verified = verify(good(issuer, h16="application/vc+ld+json+cose", h3="application/vc+ld+json"))
    assert verified.method.controller == did_key(issuer.public)


def test_content_type_is_optional(issuer: KeyPair) -> None:
    assert verify(good(issuer, h3=None)).payload["issuer"] == did_key(issuer.public)


def test_presentation_is_not_a_credential(issuer: KeyPair) -> None:
    vp = present([], issuer, format="vp+cose", now=NOW)
    assert isinstance(vp, bytes)
    with pytest.raises(MalformedError, match="typ"):
        verify(vp)
    assert AT.verify(vp).codes == ("MALFORMED",)


# -- the structure -------------------------------------------------------------------------------


def test_detached_payload_is_rejected(issuer: KeyPair) -> None:
    data = forge(protected_for(issuer), None, issuer, raw_payload=None)
    with pytest.raises(UnsupportedError) as caught:
        verify(data)
    assert caught.value.pointer == "/payload"


@pytest.mark.parametrize("tag", [None, 17, 98, 61])
def test_only_a_tagged_cose_sign1_is_accepted(issuer: KeyPair, tag: int | None) -> None:
    # untagged, COSE_Mac0, COSE_Sign, CWT: RFC 9052 §2, the tag says which message this is
    data = forge(protected_for(issuer), payload_for(issuer), issuer, tag=tag)
    with pytest.raises(ParsingError):
        verify(data)


def test_non_preferred_encoding_of_the_tag_is_rejected(issuer: KeyPair) -> None:
    data = good(issuer)
    with pytest.raises(ParsingError):
        verify(b"\xd8\x12" + data[1:])


def test_duplicate_map_keys_are_rejected(issuer: KeyPair) -> None:
    # the protected header {1: -8, 1: -8, …}: two readers could see two different headers
    header = cbor2.dumps(protected_for(issuer))
    duplicated = bytes([header[0] + 1]) + b"\x01\x27" + header[1:]
    data = forge(duplicated, payload_for(issuer), issuer)
    with pytest.raises(ParsingError, match=r"[Dd]uplicate"):
        verify(data)


def test_duplicate_keys_in_the_unprotected_header_are_rejected(issuer: KeyPair) -> None:
    data = good_with(issuer, unprotected={99: 1})
    # the unprotected map {99: 1} is a1 18 63 01 — make it {99: 1, 99: 1}
    patched = data.replace(b"\xa1\x18\x63\x01", b"\xa2\x18\x63\x01\x18\x63\x01", 1)
    assert patched != data
    with pytest.raises(ParsingError):
        verify(patched)


def test_duplicate_json_members_in_the_payload_are_rejected(issuer: KeyPair) -> None:
    body = json.dumps(payload_for(issuer))[:-1] + ', "issuer": "did:example:evil"}'
    data = forge(protected_for(issuer), None, issuer, raw_payload=body.encode())
    with pytest.raises(ParsingError):
        verify(data)


def test_indefinite_lengths_are_rejected(issuer: KeyPair) -> None:
    data = good(issuer)
    message = cbor2.loads(data).value
    # the same payload as an indefinite-length byte string of one chunk
    payload = message[2]
    definite = cbor2.dumps(payload)
    indefinite = b"\x5f" + definite + b"\xff"
    with pytest.raises(ParsingError, match="indefinite"):
        verify(data.replace(definite, indefinite, 1))


def test_indefinite_protected_header_map_is_rejected(issuer: KeyPair) -> None:
    header = cbor2.dumps(protected_for(issuer))
    indefinite = b"\xbf" + header[1:] + b"\xff"
    with pytest.raises(ParsingError):
        verify(forge(indefinite, payload_for(issuer), issuer))


def test_trailing_bytes_are_rejected(issuer: KeyPair) -> None:
    with pytest.raises(ParsingError, match="after"):
        verify(good(issuer) + b"\x00")
    header = cbor2.dumps(protected_for(issuer)) + b"\x00"
    with pytest.raises(ParsingError, match="after"):
        verify(forge(header, payload_for(issuer), issuer))


@pytest.mark.parametrize(
    "value",
    [
        cbor2.CBORTag(1, 1_700_000_000),  # a date: cbor2 would turn it into a datetime
        cbor2.CBORTag(2, b"\x01"),  # a bignum
        cbor2.CBORTag(24, b"\xa0"),  # embedded CBOR
        cbor2.CBORTag(55799, 1),  # self-described CBOR
        cbor2.CBORTag(1234567, 1),  # unknown
    ],
)
def test_cbor_tags_inside_the_message_are_rejected(issuer: KeyPair, value: Any) -> None:
    with pytest.raises(ParsingError, match="tags"):
        verify(good(issuer, h99=value))


def test_a_shared_value_cycle_is_rejected_not_followed(issuer: KeyPair) -> None:
    # tag 28 marks a shared value, tag 29 refers to it: [29(0)] inside 28(...) is a cycle
    cycle = b"\xd8\x1c\x81\xd8\x1d\x00"
    data = good_with(issuer, unprotected={99: 0})
    patched = data.replace(b"\xa1\x18\x63\x00", b"\xa1\x18\x63" + cycle, 1)
    assert patched != data
    with pytest.raises(ParsingError):
        verify(patched)


def test_no_cbor_tag_is_decoded() -> None:
    # every tag cbor2 knows (and the unknown ones) is refused: a new built-in would fail here
    for tag in range(0, 70000):
        with pytest.raises(ParsingError):
            cose.loads_strict(cbor2.dumps(cbor2.CBORTag(tag, 0)), what="x", pointer="")


def test_deep_nesting_is_rejected(issuer: KeyPair) -> None:
    nested: Any = 0
    for _ in range(50):
        nested = [nested]
    with pytest.raises(ParsingError):
        verify(good(issuer, h99=nested))


def test_oversize_message_is_rejected(issuer: KeyPair) -> None:
    big = payload_for(issuer, description="x" * (1024 * 1024))
    with pytest.raises(ParsingError, match="1 MiB"):
        verify(forge(protected_for(issuer), big, issuer))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xd2",
        b"\xd2\x84",
        b"\xd2\x84\x40\xa0\x40",
        b"\xd2\x84\x40\xa0\x40\x40",
        b"\xd2\x84\x41\x00\xa0\x40\x40",
        b"\xd2\x84\xa0\xa0\x40\x40",
        b"\xd2\x84\x40\x80\x40\x40",
        b"\xd2\x84\x40\xa0\x01\x40",
        b"\xd2\x84\x40\xa0\x40\x01",
        b"\xd2\x84\x43\xa1\x01\x27\xa0\x42[]\x40",
        b"\xd2\x84\x40\xa1\xf6\x01\x40\x40",
        b"\xd2\x84" + b"\xff" * 10,
        b"\xd2\x84\x5b\xff\xff\xff\xff\xff\xff\xff\xff",
    ],
)
def test_garbage_raises_clean_errors(data: bytes) -> None:
    with pytest.raises(VcredError):
        verify(data)
    result = AT.verify(data)
    assert not result.verified
    assert result.errors


def test_verify_never_raises_for_a_mangled_credential(issuer: KeyPair) -> None:
    data = issue(credential(), issuer, format="vc+cose")
    assert isinstance(data, bytes)
    for i in range(0, len(data), 3):
        mangled = data[:i] + bytes([data[i] ^ 0x41]) + data[i + 1 :]
        result = AT.verify(mangled)
        assert not result.verified, i
        assert AT.verify(data[:i]).verified is False


# -- the key ------------------------------------------------------------------------------------


def test_missing_kid_is_rejected(issuer: KeyPair) -> None:
    with pytest.raises(UnknownKeyError) as caught:
        verify(good(issuer, h4=None))
    assert caught.value.pointer == "/protected/4"


def test_text_kid_is_rejected(issuer: KeyPair) -> None:
    # RFC 9052 §3.1: kid is a byte string
    with pytest.raises(MalformedError):
        verify(good(issuer, h4=did_key_method_id(issuer.public)))


def test_kid_of_another_did_is_rejected(issuer: KeyPair) -> None:
    other = KeyPair.generate("ed25519")
    data = forge(
        protected_for(issuer, h4=did_key_method_id(other.public).encode()),
        payload_for(issuer),
        other,
    )
    with pytest.raises(UnknownKeyError):
        verify(data)


def test_relative_kid_is_resolved_against_the_issuer(issuer: KeyPair) -> None:
    fragment = "#" + did_key_method_id(issuer.public).split("#")[1]
    assert verify(good(issuer, h4=fragment.encode())).method.id == did_key_method_id(issuer.public)


def test_kid_that_is_not_utf8_is_an_unknown_key(issuer: KeyPair) -> None:
    with pytest.raises(UnknownKeyError):
        verify(good(issuer, h4=b"\xff\xfe"))


def test_issuer_that_is_neither_a_did_nor_https_has_no_key(issuer: KeyPair) -> None:
    payload = credential(issuer="urn:uuid:5b4ba1a0-7c3e-4d9b-9a0f-1f1f7b7e2c11")
    with pytest.raises(UnknownKeyError) as caught:
        verify(forge(protected_for(issuer), payload, issuer))
    assert caught.value.pointer == "/issuer"


def test_https_issuer_does_not_own_a_did_key_kid(issuer: KeyPair) -> None:
    # an https issuer is accepted (its key is handed to the verifier, vcred.did.KeyResolver),
    # but a kid that names a did:key method is not one of its keys
    payload = credential(issuer="https://customs.example/issuer")
    with pytest.raises(UnknownKeyError) as caught:
        verify(forge(protected_for(issuer), payload, issuer))
    assert caught.value.pointer == "/protected/4"


def test_cwt_iss_must_be_the_credential_issuer(issuer: KeyPair) -> None:
    # VC-JOSE-COSE §4.1.1: iss, if present, MUST match issuer
    assert verify(good(issuer, h15={1: did_key(issuer.public)})).payload
    with pytest.raises(MalformedError) as caught:
        verify(good(issuer, h15={1: "did:example:someone-else"}))
    assert caught.value.pointer == "/protected/15/1"


def test_cwt_claims_must_be_a_map(issuer: KeyPair) -> None:
    with pytest.raises(MalformedError):
        verify(good(issuer, h15=[1]))


def test_tampering_breaks_the_signature(issuer: KeyPair) -> None:
    protected = protected_for(issuer)
    signed = good(issuer)
    signature = cbor2.loads(signed).value[3]
    tampered_payload = forge(protected, payload_for(issuer, name="Evil"), None)
    message = list(cbor2.loads(tampered_payload).value)
    message[3] = signature
    with pytest.raises(CryptographicError):
        verify(cbor2.dumps(cbor2.CBORTag(18, message)))
    # the same header map, encoded another way (an added unknown label) is another header
    message = list(cbor2.loads(signed).value)
    message[0] = cbor2.dumps({**protected, 99: 0})
    with pytest.raises(CryptographicError):
        verify(cbor2.dumps(cbor2.CBORTag(18, message)))
    message = list(cbor2.loads(signed).value)
    message[3] = message[3][:-1] + bytes([message[3][-1] ^ 1])
    with pytest.raises(CryptographicError):
        verify(cbor2.dumps(cbor2.CBORTag(18, message)))


def test_signature_that_is_not_a_byte_string_is_invalid(issuer: KeyPair) -> None:
    message = list(cbor2.loads(good(issuer)).value)
    message[3] = "signature"
    with pytest.raises(CryptographicError):
        verify(cbor2.dumps(cbor2.CBORTag(18, message)))


def test_external_aad_is_not_accepted_silently(issuer: KeyPair) -> None:
    # a signature made over a Sig_structure with external AAD is not ours (RFC 9052 §4.3)
    head = cbor2.dumps(protected_for(issuer))
    body = json.dumps(payload_for(issuer)).encode()
    signature = issuer.sign(cbor2.dumps(["Signature1", head, b"aad", body]))
    with pytest.raises(CryptographicError):
        verify(cbor2.dumps(cbor2.CBORTag(18, [head, {}, body, signature])))


# -- how it travels ------------------------------------------------------------------------------


def test_enveloped_credential_is_a_base64_data_url(issuer: KeyPair) -> None:
    data = issue(credential(), issuer, format="vc+cose")
    assert isinstance(data, bytes)
    enveloped = envelope(data)
    # VC-JOSE-COSE §3.3.1: MUST be encoded using base64 (RFC 2397)
    assert enveloped["id"] == "data:application/vc+cose;base64," + base64.b64encode(data).decode()
    assert enveloped["type"] == "EnvelopedVerifiableCredential"
    assert detect(enveloped) == ("vc+cose", data)
    assert AT.verify(enveloped).verified
    assert AT.verify(json.dumps(enveloped)).verified


def test_enveloped_cose_without_base64_is_malformed(issuer: KeyPair) -> None:
    data = issue(credential(), issuer, format="vc+cose")
    assert isinstance(data, bytes)
    enveloped = envelope(data)
    enveloped["id"] = "data:application/vc+cose," + data.hex()
    result = AT.verify(enveloped)
    assert result.codes == ("MALFORMED",)
    assert result.errors[0].path == "/id"


def test_a_presentation_media_type_is_not_an_enveloped_credential(issuer: KeyPair) -> None:
    vp = present([], issuer, format="vp+cose", now=NOW)
    assert isinstance(vp, bytes)
    enveloped = envelope(vp)
    enveloped["id"] = enveloped["id"].replace("vc+cose", "vp+cose")
    assert AT.verify(enveloped).codes == ("UNSUPPORTED",)


def test_base64url_text_is_detected_as_cose(issuer: KeyPair) -> None:
    data = issue(credential(), issuer, format="vc+cose")
    assert isinstance(data, bytes)
    assert detect(b64url_encode(data)) == ("vc+cose", data)
    assert detect(data) == ("vc+cose", data)
    assert AT.verify(b64url_encode(data) + "\n").verified


def test_text_that_is_no_format_is_still_a_parsing_error() -> None:
    with pytest.raises(ParsingError):
        detect("AAAA")  # base64url, but not a COSE_Sign1


# -- presentations ------------------------------------------------------------------------------


@pytest.fixture
def trader() -> KeyPair:
    return KeyPair.generate("p256")


def credential_about(holder: KeyPair, agency: KeyPair) -> bytes:
    subject = {"id": did_key(holder.public), "name": "Harbour Lights Trading"}
    data = issue(credential(credentialSubject=subject), agency, format="vc+cose")
    assert isinstance(data, bytes)
    return data


def vp_cose(holder: KeyPair, credentials: list[Any], **options: Any) -> bytes:
    options.setdefault("now", NOW)
    data = present(credentials, holder, format="vp+cose", **options)
    assert isinstance(data, bytes)
    return data


def test_presentation_binds_challenge_and_domain_as_cwt_claims(
    trader: KeyPair, issuer: KeyPair
) -> None:
    vp = vp_cose(trader, [credential_about(trader, issuer)], challenge="c-1", domain=DOMAIN)
    protected = cbor2.loads(cbor2.loads(vp).value[0])
    assert protected[16] == "application/vp+cose"
    assert protected[3] == "application/vp"
    issued = int(NOW.timestamp())
    assert protected[15] == {39: b"c-1", 3: DOMAIN, 6: issued, 4: issued + 300}
    result = AT.verify_presentation(vp, challenge="c-1", domain=DOMAIN)
    assert result.verified, result.errors
    assert result.format == "vp+cose"
    assert result.holder == did_key(trader.public)
    assert [r.format for r in result.credentials] == ["vc+cose"]


def test_presentation_with_another_challenge_or_domain_fails(
    trader: KeyPair, issuer: KeyPair
) -> None:
    vp = vp_cose(trader, [credential_about(trader, issuer)], challenge="c-1", domain=DOMAIN)
    assert AT.verify_presentation(vp, challenge="c-2", domain=DOMAIN).codes == (
        "INVALID_CHALLENGE",
    )
    assert AT.verify_presentation(vp, challenge="c-1", domain="https://x.example").codes == (
        "INVALID_DOMAIN",
    )
    unbound = vp_cose(trader, [credential_about(trader, issuer)])
    assert AT.verify_presentation(unbound, challenge="c-1").codes == ("INVALID_CHALLENGE",)


def test_presentation_outlives_its_exp(trader: KeyPair, issuer: KeyPair) -> None:
    vp = vp_cose(trader, [credential_about(trader, issuer)], challenge="c-1")
    later = Verifier(clock=lambda: NOW + timedelta(hours=1))
    assert "EXPIRED" in later.verify_presentation(vp, challenge="c-1").codes


def test_presentation_signed_by_someone_else_than_the_holder_fails(
    trader: KeyPair, issuer: KeyPair
) -> None:
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": did_key(trader.public),
        "verifiableCredential": [envelope(credential_about(trader, issuer))],
    }
    header = {
        1: -8,
        3: "application/vp",
        4: did_key_method_id(issuer.public).encode(),
        16: "application/vp+cose",
        15: {39: b"c-1"},
    }
    result = AT.verify_presentation(forge(header, presentation, issuer), challenge="c-1")
    assert not result.verified
    assert result.codes[0] == "UNKNOWN_KEY"
    assert result.errors[0].path == "/protected/4"


def test_credential_is_not_a_presentation(trader: KeyPair) -> None:
    data = issue(credential(), trader, format="vc+cose")
    result = AT.verify_presentation(data)
    assert not result.verified
    assert result.codes[0] == "MALFORMED"


def test_non_utf8_cnonce_is_malformed(trader: KeyPair) -> None:
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": did_key(trader.public),
    }
    header = {
        1: -7,
        4: did_key_method_id(trader.public).encode(),
        16: "application/vp+cose",
        15: {39: b"\xff"},
    }
    result = AT.verify_presentation(forge(header, presentation, trader), challenge="c")
    assert "MALFORMED" in result.codes


def test_enveloped_presentation_verifies(trader: KeyPair, issuer: KeyPair) -> None:
    vp = vp_cose(trader, [credential_about(trader, issuer)], challenge="c-1", domain=DOMAIN)
    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiablePresentation",
        "id": "data:application/vp+cose;base64," + base64.b64encode(vp).decode(),
    }
    assert detect_presentation(enveloped) == ("vp+cose", vp)
    assert AT.verify_presentation(enveloped, challenge="c-1", domain=DOMAIN).verified


def test_tampered_credential_inside_a_presentation_fails_it(
    trader: KeyPair, issuer: KeyPair
) -> None:
    inner = bytearray(credential_about(trader, issuer))
    inner[-1] ^= 1
    vp = vp_cose(trader, [bytes(inner)], challenge="c-1")
    result = AT.verify_presentation(vp, challenge="c-1")
    assert not result.verified
    assert "INVALID_SIGNATURE" in result.codes


def test_cose_credential_inside_a_vp_jwt(trader: KeyPair, issuer: KeyPair) -> None:
    # the VC-JOSE-COSE §A.2 example mixes envelopes: a vp+jwt may carry a vc+cose credential
    vp = present([credential_about(trader, issuer)], trader, challenge="c-1", now=NOW)
    result = AT.verify_presentation(vp, challenge="c-1")
    assert result.verified, result.errors
    assert [r.format for r in result.credentials] == ["vc+cose"]


# -- the command line ---------------------------------------------------------------------------


def cli(*args: str, stdin: str | bytes | None = None) -> Any:
    return CliRunner().invoke(main, list(args), input=stdin)


@pytest.fixture
def cli_dir(tmp_path: Path) -> Path:
    (tmp_path / "cred.json").write_text(json.dumps(credential()))
    (tmp_path / "k.json").write_text(cli("key", "generate", "--type", "p256").output)
    return tmp_path


def test_cli_prints_base64url_and_verifies_text_and_raw_files(cli_dir: Path) -> None:
    issued = cli(
        "issue",
        "--key",
        str(cli_dir / "k.json"),
        "--format",
        "vc+cose",
        "-",
        stdin=(cli_dir / "cred.json").read_text(),
    )
    assert issued.exit_code == 0, issued.output
    text = issued.output.strip()
    data = b64url_decode(text)  # one line of unpadded base64url: the tagged COSE_Sign1
    assert cbor2.loads(data).tag == 18
    verified = cli("verify", "--no-status", "-", stdin=text)
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["format"] == "vc+cose"
    (cli_dir / "cred.cose").write_bytes(data)
    assert cli("verify", "--no-status", str(cli_dir / "cred.cose")).exit_code == 0
    (cli_dir / "bad.cose").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    rejected = cli("verify", "--no-status", str(cli_dir / "bad.cose"))
    assert rejected.exit_code == 1
    assert [e["code"] for e in json.loads(rejected.output)["errors"]] == ["INVALID_SIGNATURE"]


def test_cli_presents_a_cose_credential_as_vp_cose(cli_dir: Path) -> None:
    holder = KeyPair.generate("ed25519")
    subject = {"id": did_key(holder.public)}
    (cli_dir / "cred.json").write_text(json.dumps(credential(credentialSubject=subject)))
    (cli_dir / "h.json").write_text(json.dumps(holder.private_jwk()))
    issued = cli(
        "issue", "--key", str(cli_dir / "k.json"), "--format", "vc+cose", str(cli_dir / "cred.json")
    )
    (cli_dir / "cred.cose").write_bytes(b64url_decode(issued.output.strip()))
    presented = cli(
        "present",
        "--key",
        str(cli_dir / "h.json"),
        "--format",
        "vp+cose",
        "--challenge",
        "c-1",
        "--domain",
        DOMAIN,
        str(cli_dir / "cred.cose"),
    )
    assert presented.exit_code == 0, presented.output
    verified = cli("verify", "--challenge", "c-1", "--domain", DOMAIN, "-", stdin=presented.output)
    assert verified.exit_code == 0, verified.output
    answer = json.loads(verified.output)
    assert answer["format"] == "vp+cose"
    assert [c["format"] for c in answer["credentials"]] == ["vc+cose"]


def test_cli_binary_that_is_no_cose_is_a_one_line_error(cli_dir: Path) -> None:
    (cli_dir / "junk.bin").write_bytes(b"\xff\xfe\x00")
    result = CliRunner().invoke(main, ["verify", str(cli_dir / "junk.bin")])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


# -- credentials in the wild ---------------------------------------------------------------------

SPEC_VP_EXAMPLE = Path(__file__).parent / "data" / "cose" / "vc-jose-cose-vp-example.txt"


def test_the_specification_example_decodes_and_is_refused_for_its_missing_typ() -> None:
    url = SPEC_VP_EXAMPLE.read_text().strip()
    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiablePresentation",
        "id": url,
    }
    fmt, data = detect_presentation(enveloped)
    assert fmt == "vp+cose"
    message = cose.parse_unverified(data)  # our strict decoder reads the published bytes
    assert message.protected == {1: -35} and message.unprotected == {}
    assert json.loads(message.payload)["type"] == "VerifiablePresentation"
    result = AT.verify_presentation(enveloped)
    assert not result.verified
    assert result.codes[0] == "MALFORMED"
    assert result.errors[0].path == "/protected/16"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_after_the_prefix_are_a_vcred_error_or_nothing(tail: bytes) -> None:
    with contextlib.suppress(VcredError):  # a clean refusal; anything else fails the test
        verify(cose.TAGGED_SIGN1_PREFIX + tail)
    assert not AT.verify(cose.TAGGED_SIGN1_PREFIX + tail).verified


def test_a_signer_with_an_algorithm_cose_cannot_name_is_a_usage_error(issuer: KeyPair) -> None:
    @dataclasses.dataclass
    class RsaSigner:  # a KMS signer for an algorithm we do not sign COSE with
        algorithm: str = "RS256"
        key_id: str = did_key_method_id(issuer.public)

        def sign(self, data: bytes) -> bytes:
            return b"\x00" * 256

    with pytest.raises(UsageError):
        cose.issue_vc_cose(payload_for(issuer), RsaSigner())


def test_cli_takes_a_trust_list_secured_as_vc_cose(cli_dir: Path) -> None:
    agency = KeyPair.generate("ed25519")
    now = datetime.now(UTC)
    trust_list = build_trust_list(
        [
            {
                "issuer": "did:web:customs.jp.example",
                "programme": "JP-AEO",
                "country": "JP",
                "acceptedCredentialTypes": ["AEOCertificateCredential"],
            }
        ],
        issuer=did_key(agency.public),
        programme="EU-AEO",
        authority_country="DE",
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=30),
        allow_unverified=True,
    )
    secured = issue(trust_list, agency, format="vc+cose")
    assert isinstance(secured, bytes)
    (cli_dir / "trust.txt").write_text(b64url_encode(secured))
    issued = cli("issue", "--key", str(cli_dir / "k.json"), str(cli_dir / "cred.json"))
    checked = cli(
        "verify", "--no-status", "--trust-list", str(cli_dir / "trust.txt"), "-",
        stdin=issued.output,
    )  # fmt: skip
    assert checked.exit_code == 1, checked.output  # the list loads; this issuer is not on it
    assert json.loads(checked.output)["trust"]["code"] == "UNTRUSTED_ISSUER"
    (cli_dir / "bad.txt").write_text(b64url_encode(secured[:-1] + bytes([secured[-1] ^ 1])))
    refused = cli("verify", "--trust-list", str(cli_dir / "bad.txt"), "-", stdin=issued.output)
    assert refused.exit_code == 2 and "INVALID_SIGNATURE" in refused.output
    assert "Traceback" not in refused.output


@pytest.mark.parametrize("label", [True, 4.0, b"\x01", None])
@pytest.mark.parametrize("where", ["protected", "unprotected", "claims"])
def test_a_label_that_is_no_integer_or_text_is_refused(
    issuer: KeyPair, label: Any, where: str
) -> None:
    # Python's map reads `true` as 1 (alg, iss) and 4.0 as 4 (kid, exp); a decoder keeping
    # CBOR's types sees other, unknown labels: one signed message, two meanings
    protected = protected_for(issuer)
    unprotected: dict[Any, Any] = {}
    if where == "protected":  # in place of the label Python takes it for (alg, kid)
        value = protected.pop(label, "x")
        protected[label] = value
    elif where == "unprotected":
        unprotected[label] = "x"
    else:
        protected[15] = {label: "did:example:someone-else"}
    data = forge(protected, payload_for(issuer), issuer, unprotected=unprotected)
    with pytest.raises((ParsingError, MalformedError), match="integers or text strings"):
        verify(data)
