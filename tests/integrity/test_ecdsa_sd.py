"""ecdsa-sd-2023 through the surface: issue a base proof, derive, verify; pointers; tampering.

A derived credential verifies through ``vcred.verify`` like any Data Integrity credential;
every part of a derived proof and every kind of change to the revealed document fails with
a named code; JSON Pointers that cannot be used are refused where they are given.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import NOW, billing_attestation, credential
from vcred import Verifier, derive, issue, verify
from vcred.customs import builders, samples
from vcred.did import did_key
from vcred.errors import InvalidProofError, MalformedError, UsageError
from vcred.integrity import add_base_proof, add_proof, ecdsa_sd
from vcred.integrity.formats import default_mandatory_pointers
from vcred.integrity.proof import proof_options
from vcred.integrity.selective import (
    json_pointer_to_paths,
    name_list_nodes,
    pointers_except,
    select_json_ld,
)
from vcred.integrity.suites import ECDSA_SD_2023
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.multibase import b64url_decode, b64url_encode

AT = Verifier(clock=lambda: NOW)
# the list tests declare their @list containers in an inline context
INLINE = Verifier(clock=lambda: NOW, allow_inline_contexts=True)
# no ids: the subject and its address are blank nodes, labelled through the HMAC label map
SUBJECT = {
    "name": "Harbour Lights Trading",
    "country": "NL",
    "tier": "AEOF",
    "address": {"locality": "Rotterdam", "postalCode": "3011"},
}
SELECTED = ["/validFrom", "/validUntil", "/credentialSubject/country"]


@pytest.fixture(scope="module")
def key() -> KeyPair:
    return KeyPair.generate("p256")


def _credential() -> dict[str, Any]:
    return credential(
        credentialSubject=dict(SUBJECT),
        **{"@context": ["https://www.w3.org/ns/credentials/v2", _EXAMPLES]},
    )


_EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


@pytest.fixture(scope="module")
def base(key: KeyPair) -> dict[str, Any]:
    secured = issue(
        _credential(), key, format="ecdsa-sd-2023", mandatory_pointers=["/issuer"], now=NOW
    )
    assert isinstance(secured, dict)
    return secured


@pytest.fixture(scope="module")
def derived(base: dict[str, Any]) -> dict[str, Any]:
    return derive(base, [*SELECTED, "/credentialSubject/address/locality"])


def _codes(document: Any) -> tuple[str, ...]:
    return AT.verify(document).codes


# -- the surface ------------------------------------------------------------------------------


def test_a_derived_credential_verifies(derived: dict[str, Any], key: KeyPair) -> None:
    result = AT.verify(derived)
    assert result.verified, result.errors
    assert result.format == "data-integrity"
    assert result.issuer == did_key(key.public)
    assert result.credential is not None
    assert result.credential["credentialSubject"] == {
        "country": "NL",
        "address": {"locality": "Rotterdam"},
    }
    assert "name" not in result.credential["credentialSubject"]


def test_derived_reveals_the_mandatory_and_the_selected(derived: dict[str, Any]) -> None:
    assert set(derived) == {
        "@context",
        "id",
        "type",
        "issuer",
        "validFrom",
        "validUntil",
        "credentialSubject",
        "proof",
    }
    proof = derived["proof"]
    assert proof["cryptosuite"] == "ecdsa-sd-2023"
    assert proof["proofValue"].startswith("u2V0B")  # 0xd9 0x5d 0x01


def test_the_base_proof_carries_its_header_and_pointers(base: dict[str, Any]) -> None:
    value = base["proof"]["proofValue"]
    assert b64url_decode(value[1:])[:3] == b"\xd9\x5d\x00"
    parsed = ecdsa_sd.parse_base_proof_value(value)
    assert parsed.mandatory_pointers == ("/issuer",)
    assert len(parsed.hmac_key) == 32
    assert "hmac_key" not in repr(parsed)


def test_a_base_proof_is_not_verified_as_a_derived_one(base: dict[str, Any]) -> None:
    result = AT.verify(base)
    assert result.codes == ("INVALID_PROOF",)
    assert result.errors[0].path == "/proof/proofValue"
    assert "holder only" in result.errors[0].message


def test_has_base_proof_tells_the_issuers_copy_from_the_derived_one(
    base: dict[str, Any], derived: dict[str, Any]
) -> None:
    assert ecdsa_sd.has_base_proof(base)
    assert ecdsa_sd.has_base_proof({**base, "proof": [base["proof"]]})  # in a proof set
    assert not ecdsa_sd.has_base_proof(derived)
    assert not ecdsa_sd.has_base_proof({**base, "proof": {**base["proof"], "cryptosuite": "x"}})
    assert not ecdsa_sd.has_base_proof("not a document")


def test_deriving_from_a_derived_credential_is_refused(derived: dict[str, Any]) -> None:
    with pytest.raises(InvalidProofError, match="only a base proof"):
        derive(derived, ["/validFrom"])


def test_two_holders_views_of_one_base_proof_both_verify(base: dict[str, Any]) -> None:
    everything = derive(base, ["/credentialSubject", "/validFrom", "/validUntil"])
    little = derive(base, ["/credentialSubject/tier"])
    assert everything["credentialSubject"] == SUBJECT
    assert little["credentialSubject"] == {"tier": "AEOF"}
    assert _codes(everything) == ()
    # without validity dates the credential still verifies: the issuer made them optional
    assert AT.verify(little).verified
    # without a subject it is no credential (VCDM), though its proof verifies
    result = AT.verify(derive(base))
    assert result.check("proof").passed is True
    assert result.codes == ("MALFORMED",)


def test_each_derivation_is_unlinkable_by_signatures_only(base: dict[str, Any]) -> None:
    # ECDSA-SD derives deterministically from the base: the same disclosure gives the same
    # proof (the spec's HMAC labels hide order, not linkability; BBS is for unlinkability).
    assert derive(base, ["/validFrom"]) == derive(base, ["/validFrom"])


def test_derive_keeps_the_base_credential(base: dict[str, Any]) -> None:
    before = copy.deepcopy(base)
    derive(base, ["/credentialSubject/name"])
    assert base == before


def test_the_issuer_check_applies(key: KeyPair) -> None:
    other = KeyPair.generate("p256")
    signer = signer_for(key)
    secured = add_base_proof(
        {**_credential(), "issuer": did_key(other.public)}, signer, mandatory_pointers=["/issuer"]
    )
    result = AT.verify(derive(secured, ["/credentialSubject/name"]))
    assert result.check("proof").passed is True
    assert result.codes == ("UNKNOWN_KEY",)


def test_issue_needs_a_p256_key() -> None:
    with pytest.raises(UsageError, match="p384"):
        issue(credential(), KeyPair.generate("p384"), format="ecdsa-sd-2023")
    with pytest.raises(UsageError):
        issue(credential(), KeyPair.generate("ed25519"), format="ecdsa-sd-2023")


def test_data_integrity_with_the_cryptosuite_option(key: KeyPair) -> None:
    secured = issue(
        _credential(),
        key,
        format="data-integrity",
        cryptosuite="ecdsa-sd-2023",
        mandatory_pointers=["/issuer", "/credentialSubject/tier"],
        now=NOW,
    )
    assert isinstance(secured, dict)
    revealed = derive(secured)
    assert revealed["credentialSubject"] == {"tier": "AEOF"}
    assert _codes(revealed) == ()


def test_add_proof_refuses_the_selective_suite(key: KeyPair) -> None:
    with pytest.raises(UsageError, match="add_base_proof"):
        add_proof(credential(issuer=did_key(key.public)), signer_for(key), suite="ecdsa-sd-2023")


def test_a_base_proof_is_the_only_proof(base: dict[str, Any], key: KeyPair) -> None:
    with pytest.raises(UsageError, match="with proofs"):
        add_base_proof(base, signer_for(key))


def test_nothing_to_disclose_is_a_usage_error(key: KeyPair) -> None:
    secured = issue(_credential(), key, format="ecdsa-sd-2023", mandatory_pointers=[], now=NOW)
    assert isinstance(secured, dict)
    with pytest.raises(UsageError, match="nothing is selected"):
        derive(secured)
    assert _codes(derive(secured, ["/issuer", "/credentialSubject/name"])) == ()


def test_default_mandatory_pointers_keep_what_verifiers_check() -> None:
    document = credential(issuer="did:example:x")
    assert default_mandatory_pointers(document) == ("/issuer", "/validFrom", "/validUntil")


def test_a_derived_vc_1_1_credential_keeps_its_issuance_date(key: KeyPair) -> None:
    # VC 1.1 requires issuanceDate: a derived credential without it would not be one
    document = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "issuanceDate": "2026-01-01T00:00:00Z",
        "expirationDate": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:trader"},
    }
    assert default_mandatory_pointers({**document, "issuer": "did:example:x"}) == (
        "/issuer",
        "/issuanceDate",
        "/expirationDate",
    )
    secured = issue(document, key, format="ecdsa-sd-2023", now=NOW)
    assert isinstance(secured, dict)
    derived = derive(secured, ["/credentialSubject"])
    assert derived["issuanceDate"] == "2026-01-01T00:00:00Z"
    assert _codes(derived) == ()


# -- the export billing attestation: hide the amounts -------------------------------------------


def test_a_billing_attestation_hides_its_amounts_by_default(key: KeyPair) -> None:
    document = billing_attestation()
    secured = issue(document, key, format="ecdsa-sd-2023", now=NOW)
    assert isinstance(secured, dict)
    mandatory = ecdsa_sd.parse_base_proof_value(secured["proof"]["proofValue"]).mandatory_pointers
    assert set(builders.disclosable_billing_claims(document)).isdisjoint(mandatory)
    revealed = derive(secured)
    subject = revealed["credentialSubject"]
    assert "totalAmount" not in subject["invoice"]
    assert all("unitPrice" not in i and "amount" not in i for i in subject["lineItems"])
    hidden = {**document["credentialSubject"]}
    assert subject["invoice"] == {k: v for k, v in hidden["invoice"].items() if k != "totalAmount"}
    result = AT.verify(revealed)
    assert result.verified, result.errors
    assert result.check("schema").passed is True


def test_a_billing_attestation_can_reveal_its_total(key: KeyPair) -> None:
    secured = issue(billing_attestation(), key, format="ecdsa-sd-2023", now=NOW)
    revealed = derive(secured, ["/credentialSubject/invoice/totalAmount"])
    assert "totalAmount" in revealed["credentialSubject"]["invoice"]
    assert "unitPrice" not in revealed["credentialSubject"]["lineItems"][0]
    assert _codes(revealed) == ()


def test_the_sample_attestation_with_a_did_key_issuer(key: KeyPair) -> None:
    document = samples.export_billing_attestation("de-to-us")
    document["issuer"] = did_key(key.public)
    secured = issue(document, key, format="ecdsa-sd-2023")
    revealed = derive(secured)
    assert "totalAmount" not in revealed["credentialSubject"]["invoice"]
    result = verify(revealed)
    assert result.verified, result.errors


def test_mandatory_billing_pointers_are_everything_but_the_amounts() -> None:
    document = billing_attestation()
    pointers = builders.mandatory_billing_pointers(document)
    assert "/credentialSubject/invoice/invoiceNumber" in pointers
    assert "/credentialSubject/lineItems/1/hsCode" in pointers
    assert "/credentialSubject/exporter" in pointers
    assert not any(p.endswith(("/totalAmount", "/unitPrice", "/amount")) for p in pointers)
    selected = select_json_ld(document, pointers)
    assert selected is not None
    for claim in builders.disclosable_billing_claims(document):
        assert _has(document, claim) and not _has(selected, claim)


def _has(document: Any, pointer: str) -> bool:
    for path in json_pointer_to_paths(pointer):
        if isinstance(document, list) and isinstance(path, int) and path < len(document):
            document = document[path]
        elif isinstance(document, dict) and str(path) in document:
            document = document[str(path)]
        else:
            return False
    return True


def test_pointers_except_escapes_and_skips_context() -> None:
    document = {"@context": "x", "a/b": {"c~d": 1, "e": 2}, "f": [1, {"g": 1, "h": 2}]}
    assert pointers_except(document, ["/a~1b/e", "/f/1/h"]) == ("/a~1b/c~0d", "/f/0", "/f/1/g")


# -- JSON Pointers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pointer", "message"),
    [
        ("credentialSubject", "must start with '/'"),
        ("/credentialSubject/a~2b", "'~' must be followed by 0 or 1"),
        ("/credentialSubject/nickname", "does not match"),
        ("/credentialSubject/name/0", "does not match"),
        ("/type/7", "does not match"),
        ("/proof/created", "points into the proof"),
        ("/proof", "points into the proof"),
    ],
)
def test_a_bad_selective_pointer_is_refused(
    base: dict[str, Any], pointer: str, message: str
) -> None:
    with pytest.raises(MalformedError, match=message) as caught:
        derive(base, [pointer])
    assert caught.value.code == "MALFORMED"
    if "start with" not in message and "~" not in message:
        assert caught.value.pointer == pointer


@pytest.mark.parametrize("pointer", ["/credentialSubject/nickname", "issuer", "/proof/x"])
def test_a_bad_mandatory_pointer_is_refused(key: KeyPair, pointer: str) -> None:
    with pytest.raises(MalformedError):
        issue(_credential(), key, format="ecdsa-sd-2023", mandatory_pointers=[pointer])


def test_pointers_must_be_a_list(base: dict[str, Any]) -> None:
    with pytest.raises(MalformedError, match="list of JSON Pointers"):
        derive(base, "/issuer")


def test_part_of_a_list_cannot_be_selected(key: KeyPair) -> None:
    ordered = credential(
        **{
            "@context": [
                "https://www.w3.org/ns/credentials/v2",
                {"steps": {"@id": "https://example.org/vocab#step", "@container": "@list"}},
            ],
            "credentialSubject": {"id": "did:example:trader", "steps": ["load", "seal", "ship"]},
        }
    )
    secured = issue(ordered, key, format="ecdsa-sd-2023", mandatory_pointers=[], now=NOW)
    with pytest.raises(MalformedError, match="RDF list"):
        derive(secured, ["/issuer", "/credentialSubject/steps/1"])
    whole = derive(secured, ["/issuer", "/credentialSubject/steps"])
    assert _codes(whole) == ("INVALID_CONTEXT",)
    assert INLINE.verify(whole).codes == ()


def test_one_invoice_line_can_be_selected_from_many(key: KeyPair) -> None:
    # line items are a set (with line numbers), not an RDF list: any line can be revealed
    attestation = billing_attestation()
    line = attestation["credentialSubject"]["lineItems"][0]
    attestation["credentialSubject"]["lineItems"] = [
        {**line, "lineNumber": n, "hsCode": f"8471{n:02d}"} for n in range(1, 9)
    ]
    secured = issue(attestation, key, format="ecdsa-sd-2023", mandatory_pointers=[], now=NOW)
    derived = derive(secured, ["/issuer", "/credentialSubject/lineItems/5/hsCode"])
    assert _codes(derived) == ()
    assert derived["credentialSubject"]["lineItems"] == [
        {"type": "ExportLineItem", "hsCode": "847106"}
    ]


def test_json_pointer_to_paths() -> None:
    assert json_pointer_to_paths("") == []
    assert json_pointer_to_paths("/a/0/01/~1~0/") == ["a", 0, "01", "/~", ""]


# -- tampering with a derived proof ------------------------------------------------------------


def _with_value(
    document: dict[str, Any], change: Callable[[ecdsa_sd.DerivedProofValue], Any]
) -> dict[str, Any]:
    value = ecdsa_sd.parse_derived_proof_value(document["proof"]["proofValue"])
    changed = copy.deepcopy(document)
    changed["proof"]["proofValue"] = ecdsa_sd.serialize_derived_proof_value(change(value))
    return changed


def _flip(data: bytes, at: int = 10) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


def test_an_untouched_round_trip_verifies(derived: dict[str, Any]) -> None:
    assert _codes(_with_value(derived, lambda v: v)) == ()


def test_a_changed_base_signature_fails(derived: dict[str, Any]) -> None:
    changed = _with_value(
        derived, lambda v: dataclasses.replace(v, base_signature=_flip(v.base_signature))
    )
    assert _codes(changed) == ("INVALID_SIGNATURE",)


def test_another_proof_scoped_key_fails(derived: dict[str, Any]) -> None:
    other = KeyPair.generate("p256").public.multicodec()
    changed = _with_value(derived, lambda v: dataclasses.replace(v, public_key=other))
    assert _codes(changed) == ("INVALID_SIGNATURE",)


def test_a_proof_scoped_key_off_the_curve_fails(derived: dict[str, Any]) -> None:
    bad = b"\x80\x24\x02" + b"\x00" * 31 + b"\x05"
    changed = _with_value(derived, lambda v: dataclasses.replace(v, public_key=bad))
    assert _codes(changed) in {("INVALID_PROOF",), ("INVALID_SIGNATURE",)}


def test_each_changed_statement_signature_fails(derived: dict[str, Any]) -> None:
    count = len(ecdsa_sd.parse_derived_proof_value(derived["proof"]["proofValue"]).signatures)
    assert count >= 3
    for index in range(count):

        def change(v: ecdsa_sd.DerivedProofValue, i: int = index) -> Any:
            signatures = list(v.signatures)
            signatures[i] = _flip(signatures[i], 40)
            return dataclasses.replace(v, signatures=tuple(signatures))

        assert _codes(_with_value(derived, change)) == ("INVALID_SIGNATURE",), index


def test_reordered_statement_signatures_fail(derived: dict[str, Any]) -> None:
    changed = _with_value(
        derived, lambda v: dataclasses.replace(v, signatures=tuple(reversed(v.signatures)))
    )
    assert _codes(changed) == ("INVALID_SIGNATURE",)


def test_a_dropped_statement_signature_fails(derived: dict[str, Any]) -> None:
    changed = _with_value(derived, lambda v: dataclasses.replace(v, signatures=v.signatures[1:]))
    assert _codes(changed) == ("INVALID_SIGNATURE",)


def test_a_swapped_label_map_fails(derived: dict[str, Any]) -> None:
    def swap(v: ecdsa_sd.DerivedProofValue) -> Any:
        keys = list(v.label_map)
        assert len(keys) >= 2
        labels = dict(v.label_map)
        labels[keys[0]], labels[keys[1]] = labels[keys[1]], labels[keys[0]]
        return dataclasses.replace(v, label_map=labels)

    assert _codes(_with_value(derived, swap)) == ("INVALID_SIGNATURE",)


def test_a_label_map_without_a_label_fails(derived: dict[str, Any]) -> None:
    def drop(v: ecdsa_sd.DerivedProofValue) -> Any:
        return dataclasses.replace(v, label_map=dict(list(v.label_map.items())[1:]))

    changed = _with_value(derived, drop)
    result = AT.verify(changed)
    assert result.codes == ("INVALID_PROOF",)
    assert "label map" in result.errors[0].message


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda ix: ix[1:], "INVALID_SIGNATURE"),  # one mandatory statement fewer
        (lambda ix: (*ix, ix[-1] + 1), "INVALID_SIGNATURE"),  # one more
        (lambda ix: (ix[0], 999), "INVALID_PROOF"),  # past the end
        (lambda ix: tuple(reversed(ix)), "INVALID_PROOF"),  # not increasing
        (lambda ix: (), "INVALID_SIGNATURE"),  # nothing mandatory
    ],
)
def test_changed_mandatory_indexes_fail(
    derived: dict[str, Any], change: Callable[[tuple[int, ...]], tuple[int, ...]], code: str
) -> None:
    value = ecdsa_sd.parse_derived_proof_value(derived["proof"]["proofValue"])
    assert len(value.mandatory_indexes) >= 2
    changed = _with_value(
        derived, lambda v: dataclasses.replace(v, mandatory_indexes=change(v.mandatory_indexes))
    )
    assert _codes(changed) == (code,)


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("credentialSubject", {"country": "DE", "address": {"locality": "Rotterdam"}}),
        ("issuer", "did:example:someone-else"),  # a mandatory value
        ("validUntil", "2099-01-01T00:00:00Z"),
        ("id", "urn:uuid:00000000-0000-4000-8000-000000000000"),
    ],
)
def test_a_changed_revealed_value_fails(derived: dict[str, Any], where: str, value: Any) -> None:
    changed = {**copy.deepcopy(derived), where: value}
    assert "INVALID_SIGNATURE" in _codes(changed)


def test_an_added_claim_fails(derived: dict[str, Any]) -> None:
    changed = copy.deepcopy(derived)
    changed["credentialSubject"]["name"] = "Harbour Lights Trading"  # signed, but not disclosed
    assert _codes(changed) == ("INVALID_SIGNATURE",)
    changed = copy.deepcopy(derived)
    changed["credentialSubject"]["alumniOf"] = "Example University"  # never signed
    assert _codes(changed) == ("INVALID_SIGNATURE",)


def test_a_removed_mandatory_claim_fails(derived: dict[str, Any]) -> None:
    changed = {k: v for k, v in copy.deepcopy(derived).items() if k != "issuer"}
    assert "INVALID_SIGNATURE" in _codes(changed)


def test_a_removed_disclosed_claim_fails(derived: dict[str, Any]) -> None:
    changed = copy.deepcopy(derived)
    del changed["credentialSubject"]["country"]
    assert _codes(changed) == ("INVALID_SIGNATURE",)


def test_changed_proof_options_fail(derived: dict[str, Any]) -> None:
    changed = copy.deepcopy(derived)
    changed["proof"]["created"] = "2026-01-02T00:00:00Z"
    assert _codes(changed) == ("INVALID_SIGNATURE",)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xd9\x5d\x02", "not an ecdsa-sd-2023 derived proof"),
        (b"\xd9\x5d\x01\xff", "CBOR"),
        (b"\xd9\x5d\x01\x80", "five components"),
        (b"\xd9\x5d\x01\x85\x40\x40\x80\xa0\x80", "64-byte"),
    ],
)
def test_a_malformed_proof_value_fails(derived: dict[str, Any], raw: bytes, message: str) -> None:
    changed = copy.deepcopy(derived)
    changed["proof"]["proofValue"] = "u" + b64url_encode(raw)
    result = AT.verify(changed)
    assert result.codes == ("INVALID_PROOF",)
    assert message in result.errors[0].message


def test_trailing_bytes_and_cbor_tags_are_refused(derived: dict[str, Any]) -> None:
    raw = b64url_decode(derived["proof"]["proofValue"][1:])
    changed = copy.deepcopy(derived)
    changed["proof"]["proofValue"] = "u" + b64url_encode(raw + b"\x00")
    assert _codes(changed) == ("INVALID_PROOF",)
    tagged = raw[:3] + b"\xd8\x40" + raw[3:]  # tag 64 around the whole array
    changed["proof"]["proofValue"] = "u" + b64url_encode(tagged)
    assert _codes(changed) == ("INVALID_PROOF",)


def test_a_base58_proof_value_is_refused(derived: dict[str, Any]) -> None:
    changed = copy.deepcopy(derived)
    changed["proof"]["proofValue"] = "z" + derived["proof"]["proofValue"][1:]
    assert _codes(changed) == ("INVALID_PROOF",)


# -- RDF lists ---------------------------------------------------------------------------------

_LIST_CONTEXT = {
    "@vocab": "https://vcred.dev/test#",
    "items": {"@id": "https://vcred.dev/test#items", "@container": "@list"},
}


def _list_credential(items: list[Any], **extra: Any) -> dict[str, Any]:
    return credential(
        credentialSubject={"items": items, **extra},
        **{"@context": ["https://www.w3.org/ns/credentials/v2", _LIST_CONTEXT]},
    )


def test_list_nodes_are_named_by_place_without_recursion() -> None:
    first = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#first>"
    rest = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#rest>"
    count = 5000  # far past Python's default recursion limit
    quads = [("<urn:x:s>", "<urn:x:items>", "_:b0", "")]
    for i in range(count):
        quads.append((f"_:b{i}", first, f'"{i}"', ""))
        quads.append((f"_:b{i}", rest, f"_:b{i + 1}" if i + 1 < count else "<urn:x:nil>", ""))
    named = name_list_nodes(quads)
    shuffled = name_list_nodes(
        [(s.replace("_:b", "_:q"), p, o.replace("_:b", "_:q"), g) for s, p, o, g in quads]
    )
    assert named == shuffled  # the names do not depend on the input labels
    assert len({t for q in named for t in (q[0], q[2]) if t.startswith("_:")}) == count


def test_a_list_too_long_for_rdfc_limits_is_refused_cleanly(key: KeyPair) -> None:
    # RDFC-1.0's work limits (rdf-canonize's defaults) refuse RDF lists of four or more blank
    # nodes in every rdfc suite; the refusal is a MalformedError, never a crash.
    document = _list_credential([{"n": str(i)} for i in range(5)])
    with pytest.raises(MalformedError, match="canonicalization refused"):
        issue(document, key, format="ecdsa-sd-2023", mandatory_pointers=["/issuer"])


def test_lists_of_lists_and_literal_lists(key: KeyPair) -> None:
    document = _list_credential([[{"n": "1", "m": "x"}, {"n": "2"}], ["a", "b"]])
    secured = issue(document, key, format="ecdsa-sd-2023", mandatory_pointers=["/issuer"], now=NOW)
    pointers = [
        "/credentialSubject/items/0/0/n",
        "/credentialSubject/items/0/1",
        "/credentialSubject/items/1",
    ]
    revealed = derive(secured, pointers)
    # every element of each list is there (not every claim of them): the list statements
    # are the signed ones
    assert revealed["credentialSubject"]["items"] == [[{"n": "1"}, {"n": "2"}], ["a", "b"]]
    assert INLINE.verify(revealed).codes == ()
    with pytest.raises(MalformedError, match="RDF list"):
        derive(secured, ["/credentialSubject/items/0"])  # the outer list loses an element
    whole = derive(secured, ["/credentialSubject/items"])
    assert INLINE.verify(whole).codes == ()


def test_a_derived_proof_cannot_follow_other_proofs(key: KeyPair) -> None:
    # a derived proof signs the revealed document, never the proofs it names as previous:
    # here one made after the derivation, by the same key, which the chain would pass off
    # as signed before it
    signer = signer_for(key)
    options = proof_options(
        ECDSA_SD_2023, signer.key_id, created=NOW, previous_proof="urn:uuid:first"
    )
    document = credential(issuer=did_key(key.public))
    base = {**document, "proof": ecdsa_sd.create_base_proof(dict(document), options, signer)}
    derived = derive(base, ["/validFrom", "/credentialSubject/name"])
    revealed = {name: value for name, value in derived.items() if name != "proof"}
    first = add_proof(revealed, signer, suite="ecdsa-rdfc-2019", proof_id="urn:uuid:first")
    chained = {**revealed, "proof": [first["proof"], derived["proof"]]}
    result = AT.verify(chained)
    assert not result.verified
    assert [(e.code, e.path) for e in result.errors] == [
        ("INVALID_PROOF", "/proof/1/previousProof")
    ]
