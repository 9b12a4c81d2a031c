"""VCDM 2.0 structure rules: every rule with its negative cases and the pointer it reports."""

from __future__ import annotations

import base64
import hashlib
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import credential
from vcred.errors import DigestMismatchError, MalformedError, UnsupportedError
from vcred.model import (
    check_depth,
    check_json,
    check_numbers,
    check_related_resource,
    check_text,
    checked_copy,
    copy_json,
    enveloped_payload,
    validate_credential,
    validate_presentation,
)
from vcred.multibase import multibase_encode

V2 = "https://www.w3.org/ns/credentials/v2"
ISSUER = "did:example:issuer"


def valid(**extra: Any) -> dict[str, Any]:
    return credential(**{"issuer": ISSUER, **extra})


def test_minimal_credential_is_valid() -> None:
    assert validate_credential(valid()) == "2.0"


def test_v11_credential_is_read() -> None:
    document = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "issuanceDate": "2020-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:1"},
    }
    assert validate_credential(document) == "1.1"
    del document["issuanceDate"]
    with pytest.raises(MalformedError) as error:
        validate_credential(document)
    assert error.value.pointer == "/issuanceDate"


def _without(name: str) -> dict[str, Any]:
    document = valid()
    del document[name]
    return document


BROKEN: list[tuple[str, dict[str, Any], str]] = [
    ("not an object", [], "/"),  # type: ignore[list-item]
    ("no @context", _without("@context"), "/@context"),
    ("empty @context", valid(**{"@context": []}), "/@context"),
    ("v2 not first", valid(**{"@context": ["https://example.org/x", V2]}), "/@context/0"),
    ("context item a number", valid(**{"@context": [V2, 42]}), "/@context/1"),
    ("context item not a URL", valid(**{"@context": [V2, "not a url"]}), "/@context/1"),
    ("id not a URL", valid(id="not a url"), "/id"),
    ("no type", _without("type"), "/type"),
    ("type without VerifiableCredential", valid(type=["AEOCertificateCredential"]), "/type"),
    ("type array with a number", valid(type=["VerifiableCredential", 7]), "/type/1"),
    ("no issuer", _without("issuer"), "/issuer"),
    ("issuer not a URL", valid(issuer="Customs Agency"), "/issuer"),
    ("issuer object without id", valid(issuer={"name": "Customs"}), "/issuer/id"),
    ("issuer name a number", valid(issuer={"id": ISSUER, "name": 5}), "/issuer/name"),
    ("no subject", _without("credentialSubject"), "/credentialSubject"),
    ("empty subject", valid(credentialSubject={}), "/credentialSubject"),
    ("empty subject array", valid(credentialSubject=[]), "/credentialSubject"),
    ("subject id not a URL", valid(credentialSubject={"id": "x y"}), "/credentialSubject/id"),
    ("subject array item empty", valid(credentialSubject=[{"a": 1}, {}]), "/credentialSubject/1"),
    ("validFrom not a date", valid(validFrom="yesterday"), "/validFrom"),
    ("validFrom without zone", valid(validFrom="2026-01-01T00:00:00"), "/validFrom"),
    ("validFrom date only", valid(validFrom="2026-01-01"), "/validFrom"),
    ("validUntil month 13", valid(validUntil="2026-13-01T00:00:00Z"), "/validUntil"),
    ("validUntil before validFrom", valid(validUntil="2025-01-01T00:00:00Z"), "/validUntil"),
    ("name a number", valid(name=1), "/name"),
    ("description bad language value", valid(description={"@value": 1}), "/description"),
    ("name with extra member", valid(name={"@value": "x", "x": 1}), "/name"),
    (
        "status without type",
        valid(credentialStatus={"id": "https://s.example/1#1"}),
        "/credentialStatus/type",
    ),
    ("schema without id", valid(credentialSchema={"type": "JsonSchema"}), "/credentialSchema/id"),
    ("schema not an object", valid(credentialSchema=["x"]), "/credentialSchema/0"),
    ("evidence without type", valid(evidence=[{"id": "https://e.example/1"}]), "/evidence/0/type"),
    ("termsOfUse without type", valid(termsOfUse={"id": "https://t.example"}), "/termsOfUse/type"),
    ("refreshService without type", valid(refreshService={"url": "x"}), "/refreshService/type"),
    (
        "related resource without digest",
        valid(relatedResource=[{"id": "https://r.example"}]),
        "/relatedResource/0",
    ),
    (
        "related resource without id",
        valid(relatedResource={"digestSRI": "sha256-x"}),
        "/relatedResource",
    ),
    ("proof without type", valid(proof={"proofValue": "z1"}), "/proof/type"),
]


@pytest.mark.parametrize(("why", "document", "pointer"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_credentials_are_rejected_with_a_pointer(
    why: str, document: Any, pointer: str
) -> None:
    with pytest.raises(MalformedError) as error:
        validate_credential(document)
    assert error.value.pointer == pointer, error.value.message
    assert error.value.code in ("MALFORMED", "PARSING_ERROR")


def test_language_value_objects_are_accepted() -> None:
    validate_credential(
        valid(
            name=[
                {"@value": "AEO certificate", "@language": "en"},
                {"@value": "Certificat OEA", "@language": "fr"},
            ],
            description={"@value": "x", "@language": "ar", "@direction": "rtl"},
            issuer={"id": ISSUER, "name": "U.S. Customs and Border Protection"},
        )
    )


def test_context_objects_are_accepted() -> None:
    validate_credential(valid(**{"@context": [V2, {"@vocab": "https://example.org/#"}]}))


def test_fractional_seconds_and_offsets_are_dateTimeStamps() -> None:
    validate_credential(
        valid(validFrom="2026-01-01T00:00:00.123+05:30", validUntil="2027-01-01T00:00:00-08:00")
    )


def test_presentation_rules() -> None:
    vp = {"@context": [V2], "type": ["VerifiablePresentation"], "holder": "did:example:h"}
    assert validate_presentation(vp) == "2.0"
    for broken, pointer in [
        ({**vp, "type": ["VerifiableCredential"]}, "/type"),
        ({**vp, "holder": "holder"}, "/holder"),
        ({**vp, "verifiableCredential": ["eyJ..."]}, "/verifiableCredential/0"),
        (
            {
                **vp,
                "verifiableCredential": [
                    {"@context": V2, "type": "EnvelopedVerifiableCredential", "id": "https://x"}
                ],
            },
            "/verifiableCredential/0/id",
        ),
    ]:
        with pytest.raises(MalformedError) as error:
            validate_presentation(broken)
        assert error.value.pointer == pointer


def test_enveloped_credential_data_url() -> None:
    assert enveloped_payload({"@context": V2, "id": "data:application/vc+jwt,eyJ.a.b"}) == (
        "application/vc+jwt",
        "eyJ.a.b",
    )
    encoded = base64.b64encode(b"eyJ.a.b").decode()
    envelope = {"@context": [V2], "id": f"data:application/vc+jwt;base64,{encoded}"}
    assert enveloped_payload(envelope)[1] == "eyJ.a.b"
    with pytest.raises(UnsupportedError):
        enveloped_payload({"@context": V2, "id": "data:text/html,<script>"})


def test_related_resource_digests() -> None:
    content = b'{"invoice": "INV-1"}'
    sri = "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()
    multihash = multibase_encode(bytes([0x12, 32]) + hashlib.sha256(content).digest(), "u")
    entry = {"id": "https://docs.example/inv-1", "digestSRI": sri, "digestMultibase": multihash}
    check_related_resource(entry, content)
    with pytest.raises(DigestMismatchError) as error:
        check_related_resource(entry, content + b" ")
    assert error.value.pointer == "/digestSRI"
    with pytest.raises(DigestMismatchError):
        check_related_resource({"digestMultibase": multihash}, b"other")


def test_copy_json_copies_every_object_and_array_and_keeps_the_values() -> None:
    document = credential(credentialSubject={"id": "did:example:s", "scores": [1, 2.5, None, True]})
    copied = copy_json(document)
    assert copied == document
    copied["credentialSubject"]["scores"].append(3)
    copied["type"].append("Other")
    assert document["credentialSubject"]["scores"] == [1, 2.5, None, True]
    assert "Other" not in document["type"]


def test_checked_copy_is_a_copy_json_and_check_json_of_one_walk() -> None:
    document = credential(credentialSubject={"id": "did:example:s", "scores": [1, [2.5, {}]]})
    copied, holders = checked_copy(document)
    assert copied == document
    assert holders == check_json(document) == 1
    copied["credentialSubject"]["scores"][1][1]["x"] = 1
    copied["type"].append("Other")
    assert document["credentialSubject"]["scores"] == [1, [2.5, {}]]
    assert "Other" not in document["type"]
    assert checked_copy(document, copy=False)[0] is document
    with pytest.raises(MalformedError) as caught:
        checked_copy({"a": [1, {"b": 10**400}]})
    assert caught.value.pointer == "/a/1/b"


def test_check_depth_and_check_numbers_still_point_at_the_first_offender() -> None:
    nested: Any = {"a": [1, {"b": 10**400}]}
    with pytest.raises(MalformedError) as caught:
        check_numbers(nested)
    assert caught.value.pointer == "/a/1/b"
    deep: Any = {"x": {"y": {"z": {}}}}
    with pytest.raises(MalformedError) as caught:
        check_depth(deep, limit=3)
    assert caught.value.pointer == "/x/y/z"


@pytest.mark.parametrize(
    ("value", "pointer"),
    [
        ({"a": [1, {"b": "ok \ud800"}]}, "/a/1/b"),
        ({"a": {"\udc00": 1}}, "/a"),  # a member name: the object holding it
        (["\udfff"], "/0"),
    ],
)
def test_check_text_points_at_the_first_lone_surrogate(value: Any, pointer: str) -> None:
    with pytest.raises(MalformedError) as caught:
        check_text(value)
    assert caught.value.pointer == pointer
    assert "lone surrogate" in caught.value.message
    with pytest.raises(MalformedError) as fused:
        check_json(value)
    assert fused.value.pointer == pointer


def test_check_json_refuses_what_its_three_checks_refuse_in_their_order() -> None:
    fine: Any = {"name": "Jöhn Dœ \U0001f6a2", "n": [1, 2.5, 10**300, True, None]}
    check_json(fine)
    deep: Any = {"x": {"y": {"z": {"n": 10**400, "s": "\ud800"}}}}
    with pytest.raises(MalformedError) as caught:
        check_json(deep, limit=3)
    assert caught.value.pointer == "/x/y/z"  # depth first, as check_depth tells
    with pytest.raises(MalformedError) as caught:
        check_json(deep)
    assert caught.value.pointer == "/x/y/z/n"  # then numbers
    del deep["x"]["y"]["z"]["n"]
    with pytest.raises(MalformedError) as caught:
        check_json(deep)
    assert caught.value.pointer == "/x/y/z/s"


@pytest.mark.parametrize(
    ("value", "pointer"),
    [
        ({"a": [{"b": 1, 3: "x"}]}, "/a/0"),  # a member name: the object holding it
        ({"a": {b"k": 1}}, "/a"),
        ({"a": [1, ("x", "y")]}, "/a/1"),
        ({"a": {"b": Decimal("1.5")}}, "/a/b"),
        ({"a": b"x"}, "/a"),
        ({"a": {"x"}}, "/a"),
        ({"a": {10**5000: 1}}, "/a"),  # str() of it raises ValueError
    ],
)
def test_check_json_refuses_what_no_json_text_carries(value: Any, pointer: str) -> None:
    # RDF canonicalization of a document handed over as a dict failed with AttributeError /
    # TypeError on these: nothing refused them before it
    with pytest.raises(MalformedError) as caught:
        check_json(value)
    assert caught.value.pointer == pointer
