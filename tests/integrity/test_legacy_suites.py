"""Ed25519Signature2018, Ed25519Signature2020 and JsonWebSignature2020: verified, never issued.

Written from the suites' reports (https://w3c-ccg.github.io/lds-ed25519-2018/,
https://w3c-ccg.github.io/lds-ed25519-2020/, https://w3c-ccg.github.io/lds-jws2020/) and
Linked Data Proofs' verify data (https://w3c-ccg.github.io/ld-proofs/#create-verify-hash-algorithm):
SHA-256 of the canonical proof options ‖ SHA-256 of the canonical document. The proofs here
are made by :func:`legacy_proof`, a test-only signer over vcred's own verify data; the W3C
Ed25519Signature2020 vector and tests/interop (Digital Bazaar, Transmute) check that verify
data against independent implementations.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.integrity.vectors import W3C, read_json
from tests.test_contexts import PUBLISHED_DIR, published_table, semantics
from vcred import Verifier, issue
from vcred.did.document import DidDocument
from vcred.did.key import did_key, did_key_method_id
from vcred.errors import UnsupportedError, UsageError
from vcred.integrity.legacy import (
    LEGACY_SUITES,
    LegacySuite,
    create_verify_data,
    verify_legacy_proof,
)
from vcred.jsonld import ContextLoader, canonicalize_document, context_digest
from vcred.keys import JWS_ALG_FOR, KeyPair
from vcred.multibase import b64url_encode, multibase_encode

V1 = "https://www.w3.org/2018/credentials/v1"
CUSTOMS = "https://vcred.dev/ns/customs/v1"
LEGACY_DATA = ROOT / "tests" / "data" / "legacy" / "contexts"
SUITE_CONTEXT = {
    "Ed25519Signature2018": None,  # credentials v1 defines it
    "Ed25519Signature2020": "https://w3id.org/security/suites/ed25519-2020/v1",
    "JsonWebSignature2020": "https://w3id.org/security/suites/jws-2020/v1",
}
PUBLISHED_LEGACY = {
    "https://w3id.org/security/suites/ed25519-2018/v1": "ed25519-2018-v1.jsonld",
    "https://w3id.org/security/suites/jws-2020/v1": "jws-2020-v1.jsonld",
    "https://w3id.org/vc/status-list/2021/v1": "status-list-2021-v1.jsonld",
    "https://w3id.org/vc-revocation-list-2020/v1": "revocation-list-2020-v1.jsonld",
}
CASES = [
    ("Ed25519Signature2018", "ed25519"),
    ("Ed25519Signature2020", "ed25519"),
    ("JsonWebSignature2020", "ed25519"),
    ("JsonWebSignature2020", "p256"),
    ("JsonWebSignature2020", "p384"),
]
VERIFIER = Verifier(checks=("proof", "issuer"))


@cache
def key(kind: str) -> KeyPair:
    return KeyPair.generate(kind)


def aeo(issuer: str, suite: str) -> dict[str, Any]:
    extra = SUITE_CONTEXT[suite]
    return {
        "@context": [V1, CUSTOMS, *([extra] if extra else [])],
        "type": ["VerifiableCredential", "AEOCertificateCredential"],
        "issuer": issuer,
        "issuanceDate": "2024-05-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:trader", "legalName": "Harbour Lights"},
    }


def jws_header(header: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(header, separators=(",", ":")).encode())


def legacy_proof(
    document: dict[str, Any],
    suite: str,
    signer: KeyPair,
    *,
    header: dict[str, Any] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Test-only: ``document`` with a legacy proof by ``signer`` (as its did:key)."""
    proof: dict[str, Any] = {
        "type": suite,
        "created": "2024-05-01T00:00:00Z",
        "verificationMethod": did_key_method_id(signer.public),
        "proofPurpose": "assertionMethod",
        **options,
    }
    data = create_verify_data(document, proof)
    if LEGACY_SUITES[suite].signature == "proofValue":
        proof["proofValue"] = multibase_encode(signer.sign(data), "z")
    else:
        alg = JWS_ALG_FOR[signer.public.kind]
        encoded = jws_header(header or {"alg": alg, "b64": False, "crit": ["b64"]})
        proof["jws"] = encoded + ".." + b64url_encode(signer.sign(encoded.encode() + b"." + data))
    return {**document, "proof": proof}


def signed(suite: str, kind: str) -> dict[str, Any]:
    signer = key(kind)
    return legacy_proof(aeo(did_key(signer.public), suite), suite, signer)


# -- the W3C Ed25519Signature2020 vector, step by step -------------------------------------------

VECTOR = W3C / "eddsa" / "Ed25519Signature2020"


def test_w3c_vector_canonical_forms_and_verify_data() -> None:
    unsigned = read_json(VECTOR / "signedEdSig.json")
    del unsigned["proof"]
    config = read_json(VECTOR / "proofConfigEdSig.json")
    assert canonicalize_document(config).encode() == (VECTOR / "proofCanonEdSig.txt").read_bytes()
    assert canonicalize_document(unsigned).encode() == (VECTOR / "canonDocEdSig.txt").read_bytes()
    proof = {k: v for k, v in config.items() if k != "@context"}
    combined = bytes.fromhex((VECTOR / "combinedHashEdSig.txt").read_text().strip())
    assert create_verify_data(unsigned, proof) == combined


def test_w3c_vector_signature_verifies_and_a_changed_byte_does_not() -> None:
    document = read_json(VECTOR / "signedEdSig.json")
    proof = document.pop("proof")
    assert proof["proofValue"] == (VECTOR / "sigBTC58EdSig.txt").read_text().strip()
    public = KeyPair.from_multikey(read_json(W3C / "eddsa/keyPair.json")["privateKeyMultibase"])
    suite = LEGACY_SUITES["Ed25519Signature2020"]
    verify_legacy_proof(suite, document, proof, public.public)
    document["credentialSubject"]["alumniOf"] += "."
    result = VERIFIER.verify({**document, "proof": proof})
    assert result.codes == ("INVALID_SIGNATURE",)


# -- every suite, every key type it signs with ----------------------------------------------------


@pytest.mark.parametrize(("suite", "kind"), CASES)
def test_each_legacy_suite_verifies_with_the_key_it_names(suite: str, kind: str) -> None:
    result = VERIFIER.verify(signed(suite, kind))
    assert result.verified, result.errors
    assert result.issuer == did_key(key(kind).public)


@pytest.mark.parametrize(("suite", "kind"), CASES)
def test_any_change_to_claims_or_proof_options_breaks_a_legacy_proof(suite: str, kind: str) -> None:
    original = signed(suite, kind)
    for change in (
        lambda d: d["credentialSubject"].update(legalName="Someone Else"),
        lambda d: d.update(issuanceDate="2024-05-02T00:00:00Z"),
        lambda d: d["proof"].update(created="2024-05-02T00:00:00Z"),
        lambda d: d["proof"].update(proofPurpose="authentication"),
    ):
        document = copy.deepcopy(original)
        change(document)
        assert not VERIFIER.verify(document).verified


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ({"alg": "EdDSA"}, "an encoded payload"),
        ({"alg": "EdDSA", "b64": True, "crit": ["b64"]}, "b64 true"),
        ({"alg": "EdDSA", "b64": False}, "b64 not critical"),
        ({"alg": "EdDSA", "b64": False, "crit": ["b64"], "kid": "did:example:x#1"}, "a kid"),
        ({"alg": "EdDSA", "b64": False, "crit": ["b64"], "jwk": {}}, "an embedded key"),
        ({"alg": "none", "b64": False, "crit": ["b64"]}, "alg none"),
        ({"alg": "ES256", "b64": False, "crit": ["b64"]}, "another algorithm than the key's"),
    ],
)
def test_a_jws_header_other_than_detached_unencoded_for_the_key_is_refused(
    header: dict[str, Any], why: str
) -> None:
    document = legacy_proof(
        aeo(did_key(key("ed25519").public), "Ed25519Signature2018"),
        "Ed25519Signature2018",
        key("ed25519"),
        header=header,
    )
    result = VERIFIER.verify(document)
    assert result.codes == ("INVALID_PROOF",), why
    assert result.errors[0].path == "/proof/jws"


def test_an_attached_payload_is_not_a_detached_jws() -> None:
    document = signed("JsonWebSignature2020", "ed25519")
    head, _, signature = document["proof"]["jws"].partition("..")
    document["proof"]["jws"] = f"{head}.e30.{signature}"
    result = VERIFIER.verify(document)
    assert result.codes == ("INVALID_PROOF",)
    assert result.errors[0].path == "/proof/jws"


@pytest.mark.parametrize(
    ("suite", "extra"),
    [
        ("Ed25519Signature2018", "proofValue"),
        ("Ed25519Signature2018", "signatureValue"),
        ("Ed25519Signature2020", "jws"),
        ("JsonWebSignature2020", "proofValue"),
    ],
)
def test_a_second_signature_member_would_go_unsigned_and_is_refused(suite: str, extra: str) -> None:
    document = signed(suite, "ed25519")
    document["proof"][extra] = "z1111"
    result = VERIFIER.verify(document)
    assert result.codes == ("INVALID_PROOF",)
    assert result.errors[0].path == f"/proof/{extra}"


@pytest.mark.parametrize("member", ["@context", "cryptosuite"])
def test_a_legacy_proof_with_its_own_context_or_a_cryptosuite_is_refused(member: str) -> None:
    document = signed("Ed25519Signature2020", "ed25519")
    document["proof"][member] = "eddsa-rdfc-2022" if member == "cryptosuite" else V1
    result = VERIFIER.verify(document)
    assert result.codes == ("INVALID_PROOF",)
    assert result.errors[0].path == f"/proof/{member}"


@pytest.mark.parametrize("suite", ["Ed25519Signature2018", "Ed25519Signature2020"])
def test_an_ed25519_suite_with_a_p256_key_is_refused(suite: str) -> None:
    p256 = key("p256")
    document = signed(suite, "ed25519")
    document["issuer"] = did_key(p256.public)
    document["proof"]["verificationMethod"] = did_key_method_id(p256.public)
    result = VERIFIER.verify(document)
    assert result.codes == ("INVALID_PROOF",)
    assert result.errors[0].path == "/proof/verificationMethod"


def test_legacy_proofs_do_not_chain() -> None:
    signer = key("ed25519")
    unsigned = aeo(did_key(signer.public), "Ed25519Signature2020")
    first = legacy_proof(unsigned, "Ed25519Signature2020", signer, id="urn:uuid:first")
    second = copy.deepcopy(first)  # its signature is never looked at: the chain is refused first
    second["proof"]["id"] = "urn:uuid:second"
    second["proof"]["previousProof"] = "urn:uuid:first"
    document = {**first, "proof": [first["proof"], second["proof"]]}
    result = VERIFIER.verify(document)
    assert result.codes == ("INVALID_PROOF",)
    assert result.errors[0].path == "/proof/1/previousProof"


def test_a_legacy_proof_created_in_the_future_is_not_yet_valid() -> None:
    signer = key("ed25519")
    unsigned = aeo(did_key(signer.public), "Ed25519Signature2020")
    document = legacy_proof(
        unsigned, "Ed25519Signature2020", signer, created="2099-01-01T00:00:00Z"
    )
    assert VERIFIER.verify(document).codes == ("NOT_YET_VALID",)


def test_the_2018_suite_context_next_to_vc_1_1_redefines_a_protected_term() -> None:
    """credentials/v1 already defines Ed25519Signature2018, @protected, differently scoped."""
    document = signed("Ed25519Signature2018", "ed25519")
    document["@context"] = [
        *document["@context"],
        "https://w3id.org/security/suites/ed25519-2018/v1",
    ]
    assert VERIFIER.verify(document).codes == ("INVALID_CONTEXT",)


# -- issuing is refused ----------------------------------------------------------------------------


@pytest.mark.parametrize("suite", sorted(LEGACY_SUITES))
def test_issuing_a_legacy_suite_is_refused_with_its_successor(suite: str) -> None:
    with pytest.raises(UsageError, match="predates Data Integrity") as info:
        issue(aeo(did_key(key("ed25519").public), suite), key("ed25519"), format=suite)
    assert "eddsa-rdfc-2022" in info.value.message or "data-integrity" in info.value.message


@pytest.mark.parametrize("suite", sorted(LEGACY_SUITES))
def test_the_issuer_service_refuses_a_legacy_proof_type(suite: str) -> None:
    from issuer_app.formats import choose

    with pytest.raises(UnsupportedError, match="predates Data Integrity") as info:
        choose({"type": suite}, offered=("vc+jwt",), default="vc+jwt")
    assert info.value.pointer == "/options/type"


# -- verification methods of the legacy types -----------------------------------------------------

DID = "did:web:pilot.example"


def did_document(*methods: dict[str, Any]) -> DidDocument:
    document = {
        "id": DID,
        "verificationMethod": list(methods),
        "assertionMethod": [m["id"] for m in methods],
    }
    return DidDocument.parse(document, expected_id=DID)


def base58(raw: bytes) -> str:
    return multibase_encode(raw, "z")[1:]


def test_an_ed25519_verification_key_2018_reads_its_base58_key() -> None:
    public = key("ed25519").public
    method = {
        "id": f"{DID}#k",
        "type": "Ed25519VerificationKey2018",
        "controller": DID,
        "publicKeyBase58": base58(public.raw),
    }
    assert did_document(method).method(f"{DID}#k", relationship="assertionMethod").public_key == (
        public
    )


@pytest.mark.parametrize(
    ("why", "change"),
    [
        (
            "33 bytes",
            lambda m: m.update(publicKeyBase58=base58(b"\x00" + key("ed25519").public.raw)),
        ),
        ("not base58", lambda m: m.update(publicKeyBase58="0OIl")),
        ("a multibase prefix", lambda m: m.update(publicKeyBase58="z" + m["publicKeyBase58"])),
        (
            "two key members",
            lambda m: m.update(publicKeyMultibase=key("ed25519").public.multikey()),
        ),
        (
            "a P-256 JWK",
            lambda m: m.update(publicKeyJwk=key("p256").public.jwk()) or m.pop("publicKeyBase58"),
        ),
        ("a 2020 type with a base58 key", lambda m: m.update(type="Ed25519VerificationKey2020")),
    ],
)
def test_a_legacy_method_whose_key_is_unclear_is_not_usable(why: str, change: Any) -> None:
    method: dict[str, Any] = {
        "id": f"{DID}#k",
        "type": "Ed25519VerificationKey2018",
        "controller": DID,
        "publicKeyBase58": base58(key("ed25519").public.raw),
    }
    change(method)
    assert f"{DID}#k" not in did_document(method).methods, why


# -- the bundled contexts mean what the published ones mean ---------------------------------------


@cache
def published_loader() -> ContextLoader:
    """The published W3C contexts (../shared) and the published legacy ones (tests/data)."""
    table = {url: PUBLISHED_DIR / name for url, name in published_table().items()}
    table.update({url: LEGACY_DATA / name for url, name in PUBLISHED_LEGACY.items()})
    documents = {url: json.loads(path.read_text()) for url, path in table.items()}
    documents["https://www.w3.org/ns/odrl.jsonld"] = {"@context": {}}
    customs = ContextLoader().load(CUSTOMS)
    documents[CUSTOMS] = customs
    return ContextLoader(
        {url: (doc, context_digest(doc)) for url, doc in documents.items()}, bundled=False
    )


@pytest.mark.parametrize("url", sorted(PUBLISHED_LEGACY))
def test_legacy_context_defines_the_same_terms_as_published(url: str) -> None:
    assert semantics(url, ContextLoader()) == semantics(url, published_loader())


def status_document(url: str) -> dict[str, Any]:
    if "status-list" in url:
        status = {
            "id": "https://pilot.example/sl#7",
            "type": "StatusList2021Entry",
            "statusPurpose": "revocation",
            "statusListIndex": "7",
            "statusListCredential": "https://pilot.example/sl",
        }
    else:
        status = {
            "id": "https://pilot.example/rl#7",
            "type": "RevocationList2020Status",
            "revocationListIndex": "7",
            "revocationListCredential": "https://pilot.example/rl",
        }
    document = aeo("did:example:issuer", "Ed25519Signature2018")
    document["@context"] = [*document["@context"], url]
    document["credentialStatus"] = status
    return document


@pytest.mark.parametrize(("suite", "kind"), CASES)
def test_signed_credentials_canonicalize_the_same_with_published_contexts(
    suite: str, kind: str
) -> None:
    document = signed(suite, kind)
    proof = {k: v for k, v in document.pop("proof").items() if k not in ("jws", "proofValue")}
    proof["@context"] = document["@context"]
    for item in (document, proof):
        ours = canonicalize_document(item)
        assert ours == canonicalize_document(item, loader=published_loader())
        assert ours.count("\n") >= 4


@pytest.mark.parametrize("url", sorted(u for u in PUBLISHED_LEGACY if "suites" not in u))
def test_status_entries_canonicalize_the_same_with_published_contexts(url: str) -> None:
    document = status_document(url)
    ours = canonicalize_document(document)
    assert ours == canonicalize_document(document, loader=published_loader())
    assert "Index" in ours  # the index is in the signed data, not dropped as an undefined term


def test_every_legacy_suite_is_known_to_the_verifier_only() -> None:
    from vcred.integrity import SUITES

    assert not set(LEGACY_SUITES) & set(SUITES)
    assert all(isinstance(s, LegacySuite) for s in LEGACY_SUITES.values())


@pytest.mark.parametrize(("suite", "kind"), CASES)
def test_vcred_verify_on_the_command_line(suite: str, kind: str) -> None:
    from click.testing import CliRunner

    from vcred.cli import main

    document = signed(suite, kind)
    result = CliRunner().invoke(main, ["verify", "-"], input=json.dumps(document))
    assert result.exit_code == 0, result.output
    document["proof"]["created"] = "2024-05-02T00:00:00Z"
    result = CliRunner().invoke(main, ["verify", "-"], input=json.dumps(document))
    assert result.exit_code == 1
    assert json.loads(result.output)["errors"][0]["code"] == "INVALID_SIGNATURE"


def test_proof_options_under_security_v2_canonicalize_as_under_the_document_context() -> None:
    """jsonld-signatures before v8 canonicalized the options under security/v2, not the
    document's context: the same N-Quads, so proofs of either era verify alike."""
    document = signed("Ed25519Signature2018", "ed25519")
    options = {k: v for k, v in document["proof"].items() if k != "jws"}
    options["challenge"], options["domain"] = "c-1", "customs.example"
    ours = canonicalize_document({**options, "@context": document["@context"]})
    older = canonicalize_document({**options, "@context": "https://w3id.org/security/v2"})
    assert ours == older


HOSTILE = [None, True, 7, -1.5, "", "x" * 5000, [], [None], {}, {"@id": "x"}, "..", "a.b.c", "z"]


@pytest.mark.parametrize(
    "member",
    [
        "type",
        "jws",
        "proofValue",
        "verificationMethod",
        "proofPurpose",
        "created",
        "expires",
        "challenge",
        "domain",
        "id",
        "@context",
        "previousProof",
    ],
)
def test_verify_never_raises_for_a_hostile_legacy_proof_member(member: str) -> None:
    for suite, kind in (("Ed25519Signature2018", "ed25519"), ("Ed25519Signature2020", "ed25519")):
        for value in HOSTILE:
            document = signed(suite, kind)
            document["proof"][member] = value
            result = VERIFIER.verify(document)
            assert not result.verified
            assert result.codes and result.check("proof") is not None


def test_verify_never_raises_for_hostile_jws_text() -> None:
    good = signed("JsonWebSignature2020", "p256")
    head, _, signature = good["proof"]["jws"].partition("..")
    for jws in (
        "..",
        f"{head}..",
        f"..{signature}",
        f"{head}...{signature}",
        f"{head}..{signature}=",
        f"{head}..{signature[:-2]}",
        f"{jws_header({'alg': 'ES256'})[:-1]}..{signature}",
        f"{b64url_encode(b'[1]')}..{signature}",
        f"{b64url_encode(b'{')}..{signature}",
        f"{head}..{b64url_encode(bytes(64))}",
        f"{head}..{b64url_encode(bytes(200))}",
        "\u00e9..\u00e9",
    ):
        document = copy.deepcopy(good)
        document["proof"]["jws"] = jws
        result = VERIFIER.verify(document)
        assert result.codes in (("INVALID_PROOF",), ("INVALID_SIGNATURE",)), jws


def test_a_proof_naming_its_key_by_creator_is_refused() -> None:
    """jsonld-signatures before 2020 wrote ``creator``; the verifier needs verificationMethod."""
    document = signed("Ed25519Signature2018", "ed25519")
    document["proof"]["creator"] = document["proof"].pop("verificationMethod")
    result = VERIFIER.verify(document)
    assert result.codes == ("INVALID_PROOF",)
    assert result.errors[0].path == "/proof/verificationMethod"


def test_a_jws_2020_key_vcred_cannot_read_is_an_unknown_key() -> None:
    secp256k1 = {"kty": "EC", "crv": "secp256k1", "x": "A" * 43, "y": "A" * 43}
    document = did_document(
        {"id": f"{DID}#k1", "type": "JsonWebKey2020", "controller": DID, "publicKeyJwk": secp256k1}
    )
    assert f"{DID}#k1" not in document.methods
