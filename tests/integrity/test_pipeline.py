"""Data Integrity through the surface: issue, verify, present, verify_presentation.

The W3C signed vectors verify through ``vcred.verify`` and fail after any tamper; our own
credentials round-trip for every suite and key; and the attacks a Data Integrity verifier must
refuse are pinned as named tests.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import NOW, credential
from tests.integrity.vectors import W3C, read_json, signed_documents
from vcred import Resolver, Verifier, issue, present, verify, verify_presentation
from vcred.did import did_key
from vcred.did.web import did_web_document
from vcred.errors import UsageError
from vcred.integrity import add_proof
from vcred.issuing import signer_for
from vcred.keys import KeyPair, LocalSigner
from vcred.model import DATA_INTEGRITY_V2_CONTEXT, V1_CONTEXT
from vcred.multibase import multibase_decode, multibase_encode

AT = Verifier(clock=lambda: NOW)
PROOF_ONLY = Verifier(checks=("proof",))
SUITES_FOR = {
    "ed25519": ["eddsa-rdfc-2022", "eddsa-jcs-2022"],
    "p256": ["ecdsa-rdfc-2019", "ecdsa-jcs-2019"],
    "p384": ["ecdsa-rdfc-2019", "ecdsa-jcs-2019"],
}
KIND_SUITES = [(kind, suite) for kind, suites in SUITES_FOR.items() for suite in suites]
SIGNED = [pytest.param(p, id=str(p.relative_to(W3C))) for p in signed_documents()]


@pytest.fixture(scope="module")
def keys() -> dict[str, KeyPair]:
    return {kind: KeyPair.generate(kind) for kind in SUITES_FOR}


def leaf_changes(value: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    """Every way of changing one character of one string in ``value`` (one at a time)."""
    if isinstance(value, dict):
        for name, item in value.items():
            for where, changed in leaf_changes(item, f"{pointer}/{name}"):
                yield where, {**value, name: changed}
    elif isinstance(value, list):
        for i, item in enumerate(value):
            for where, changed in leaf_changes(item, f"{pointer}/{i}"):
                yield where, [*value[:i], changed, *value[i + 1 :]]
    elif isinstance(value, str):
        yield pointer, value[:-1] + _other(value[-1])


def _other(char: str) -> str:
    """Another character of the same class (valid in base58btc, dates, URLs…)."""
    if char.isdigit():
        return "2" if char != "2" else "3"
    if char.islower():
        return "a" if char != "a" else "b"
    if char.isupper():
        return "A" if char != "A" else "B"
    return "x"


# -- the W3C signed documents ----------------------------------------------------------------


@pytest.mark.usefixtures("citizenship_context")
@pytest.mark.parametrize("path", SIGNED)
def test_every_signed_vector_verifies(path: Path) -> None:
    result = verify(read_json(path), checks=("proof",))
    assert result.verified, result.errors
    assert result.format == "data-integrity"
    assert result.credential is not None and "proof" not in result.credential


@pytest.mark.usefixtures("citizenship_context")
@pytest.mark.parametrize("path", SIGNED)
def test_the_vectors_issuer_does_not_control_the_key(path: Path) -> None:
    # The vectors' issuer (https://vc.example/issuers/5678, or another did:key for the employ
    # ones) does not control the did:key that signed them.
    result = verify(read_json(path), checks=("proof", "issuer"))
    assert result.check("proof").passed is True
    assert result.check("issuer").passed is False
    assert result.codes == ("UNKNOWN_KEY",)


@pytest.mark.usefixtures("citizenship_context")
@pytest.mark.parametrize("path", SIGNED)
def test_any_changed_character_breaks_a_signed_vector(path: Path) -> None:
    document = read_json(path)
    changes = list(leaf_changes(document))
    assert len(changes) >= 15
    for pointer, changed in changes:
        result = PROOF_ONLY.verify(changed)
        assert not result.verified, f"still verifies after changing {pointer}"
        assert result.check("proof").passed is False


def test_without_the_citizenship_context_the_employ_vectors_fail_cleanly() -> None:
    path = W3C / "eddsa/eddsa-rdfc-2022/employ/signedDataInt.json"
    result = verify(read_json(path), checks=("proof",))
    assert result.codes == ("INVALID_CONTEXT",)
    assert "https://w3id.org/citizenship/v4rc1" in result.errors[0].message


def test_the_legacy_ed25519signature2020_vector_verifies_its_proof() -> None:
    """Verify-only since issue 18 (docs/legacy.md); it pinned UNSUPPORTED before."""
    result = verify(read_json(W3C / "eddsa/Ed25519Signature2020/signedEdSig.json"))
    proof = result.check("proof")
    assert proof is not None and proof.passed is True
    # the vector's issuer is an https URL, not the did:key that signed it
    assert result.codes == ("UNKNOWN_KEY",)
    assert result.errors[0].path == "/issuer"


# -- issuing and verifying our own -----------------------------------------------------------


@pytest.mark.parametrize(("kind", "suite"), KIND_SUITES)
def test_issue_and_verify_every_suite(keys: dict[str, KeyPair], kind: str, suite: str) -> None:
    secured = issue(credential(), keys[kind], format=suite, now=NOW)
    assert isinstance(secured, dict)
    proof = secured["proof"]
    assert proof["cryptosuite"] == suite
    assert proof["created"] == "2026-06-01T12:00:00Z"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["proofValue"].startswith("z")
    assert ("@context" in proof) == suite.endswith(("jcs-2022", "jcs-2019"))
    result = AT.verify(secured)
    assert result.verified, result.errors
    assert [c.passed for c in result.checks if c.name in ("proof", "issuer")] == [True, True]
    assert result.method == signer_for(keys[kind]).key_id
    assert result.credential == {**credential(), "issuer": did_key(keys[kind].public)}


@pytest.mark.parametrize(
    ("kind", "suite"), [("ed25519", "eddsa-rdfc-2022"), ("p256", "ecdsa-rdfc-2019")]
)
def test_data_integrity_format_chooses_the_suite_from_the_key(
    keys: dict[str, KeyPair], kind: str, suite: str
) -> None:
    secured = issue(credential(), keys[kind], format="data-integrity", now=NOW)
    assert isinstance(secured, dict) and secured["proof"]["cryptosuite"] == suite
    assert (
        issue(credential(), keys["p384"], format="data-integrity")["proof"][  # type: ignore[index]
            "cryptosuite"
        ]
        == "ecdsa-rdfc-2019"
    )


@pytest.mark.parametrize("suite", ["ecdsa-rdfc-2019", "ecdsa-jcs-2019"])
def test_an_ed25519_key_cannot_issue_with_an_ecdsa_suite(
    keys: dict[str, KeyPair], suite: str
) -> None:
    with pytest.raises(UsageError, match="ed25519"):
        issue(credential(), keys["ed25519"], format=suite)


def test_a_vc_1_1_credential_gets_the_data_integrity_context(keys: dict[str, KeyPair]) -> None:
    legacy = _legacy()
    secured = issue(legacy, keys["ed25519"], format="eddsa-rdfc-2022", now=NOW)
    assert isinstance(secured, dict)
    assert secured["@context"] == [*legacy["@context"], DATA_INTEGRITY_V2_CONTEXT]
    result = AT.verify(secured)
    assert result.verified, result.errors
    already = {**legacy, "@context": [*legacy["@context"], DATA_INTEGRITY_V2_CONTEXT]}
    again = issue(already, keys["ed25519"], format="data-integrity")
    assert isinstance(again, dict) and again["@context"] == already["@context"]


def _legacy() -> dict[str, Any]:
    """A VC 1.1 credential."""
    return {
        "@context": [V1_CONTEXT, "https://www.w3.org/2018/credentials/examples/v1"],
        "id": "urn:uuid:0d2b8f4e-3f5a-4bd6-9a7c-7f1e4a2b9c10",
        "type": ["VerifiableCredential"],
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:trader", "givenName": "Ana"},
    }


def test_a_second_issue_makes_a_proof_set_and_previous_proof_a_chain(
    keys: dict[str, KeyPair],
) -> None:
    did = "did:web:customs.example"
    fetcher = _DidWebFetcher(
        {did: did_web_document(did, [keys["ed25519"].public, keys["p256"].public])}
    )
    first = signer_for(keys["ed25519"], did=did)
    second = signer_for(keys["p256"], did=did)
    one = issue(credential(), first, format="eddsa-rdfc-2022", proof_id="urn:uuid:1", now=NOW)
    two = issue(one, second, format="ecdsa-jcs-2019", previous_proof="urn:uuid:1", now=NOW)
    assert isinstance(two, dict) and len(two["proof"]) == 2
    assert two["proof"][1]["previousProof"] == "urn:uuid:1"
    result = dataclasses.replace(AT, fetcher=fetcher).verify(two)
    assert result.verified, result.errors


def test_created_in_the_future_fails(keys: dict[str, KeyPair]) -> None:
    result = AT.verify(_di(keys, created=NOW + timedelta(minutes=5)))
    assert result.codes == ("NOT_YET_VALID",)
    assert result.errors[0].path == "/proof/created"


def test_created_within_the_clock_skew_passes(keys: dict[str, KeyPair]) -> None:
    assert AT.verify(_di(keys, created=NOW + timedelta(seconds=30))).verified


def test_an_expired_proof_fails(keys: dict[str, KeyPair]) -> None:
    result = AT.verify(_di(keys, created=NOW - timedelta(days=2), expires=NOW - timedelta(days=1)))
    assert result.codes == ("EXPIRED",)
    assert result.errors[0].path == "/proof/expires"


def test_a_proof_not_yet_expired_passes(keys: dict[str, KeyPair]) -> None:
    secured = _di(keys, created=NOW - timedelta(days=1), expires=NOW + timedelta(days=1))
    assert secured["proof"]["expires"] == "2026-06-02T12:00:00Z"
    assert AT.verify(secured).verified


def _di(keys: dict[str, KeyPair], **options: Any) -> dict[str, Any]:
    options.setdefault("now", NOW)
    secured = issue(credential(), keys["ed25519"], format="eddsa-rdfc-2022", **options)
    assert isinstance(secured, dict)
    return secured


# -- attacks -----------------------------------------------------------------------------------


def test_an_authentication_proof_presented_as_an_assertion_is_rejected(
    keys: dict[str, KeyPair],
) -> None:
    document = {**credential(), "issuer": did_key(keys["ed25519"].public)}
    secured = add_proof(document, signer_for(keys["ed25519"]), purpose="authentication")
    result = AT.verify(secured)
    assert result.codes == ("INVALID_PROOF",)
    assert result.errors[0].path == "/proof/proofPurpose"


def test_a_key_of_another_controller_fails_the_issuer_check(keys: dict[str, KeyPair]) -> None:
    # A valid proof by someone else's key: the proof holds, the issuer did not sign.
    document = {**credential(), "issuer": did_key(keys["p256"].public)}
    secured = add_proof(document, signer_for(keys["ed25519"]))
    result = AT.verify(secured)
    assert result.check("proof").passed is True
    assert result.check("issuer").passed is False
    assert result.codes == ("UNKNOWN_KEY",)


def test_a_method_listed_by_a_did_but_controlled_by_another_is_refused(
    keys: dict[str, KeyPair],
) -> None:
    did = "did:web:customs.example"
    forger = did_key(keys["p256"].public)
    document = did_web_document(did, [keys["ed25519"].public])
    document["verificationMethod"][0]["controller"] = forger
    issued = {**credential(), "issuer": did}
    secured = add_proof(issued, signer_for(keys["ed25519"], did=did))
    result = dataclasses.replace(AT, fetcher=_DidWebFetcher({did: document})).verify(secured)
    assert result.codes == ("UNKNOWN_KEY",)
    assert result.errors[0].path == "/proof/verificationMethod"


def test_a_method_id_that_is_not_the_dids_key_is_refused(keys: dict[str, KeyPair]) -> None:
    did = did_key(keys["ed25519"].public)
    other = keys["p256"].public.multikey()
    signer = LocalSigner(key=keys["ed25519"], key_id=f"{did}#{other}")
    secured = add_proof({**credential(), "issuer": did}, signer)
    assert AT.verify(secured).codes == ("UNKNOWN_KEY",)


@pytest.mark.parametrize(
    ("cryptosuite", "code"),
    [
        ("eddsa-jcs-2022", "INVALID_SIGNATURE"),  # same key type, another transformation
        ("ecdsa-rdfc-2019", "INVALID_PROOF"),  # an Ed25519 key with an ECDSA suite
        ("ecdsa-sd-2023", "INVALID_PROOF"),  # an Ed25519 key with ecdsa-sd-2023 (P-256 only)
        ("eddsa-2022", "UNSUPPORTED"),
    ],
)
def test_a_changed_cryptosuite_fails_cleanly(
    keys: dict[str, KeyPair], cryptosuite: str, code: str
) -> None:
    secured = _di(keys)
    secured["proof"]["cryptosuite"] = cryptosuite
    result = AT.verify(secured)
    assert result.codes == (code,)
    assert result.errors[0].path.startswith("/proof/")


def test_a_p384_proof_relabelled_p256_fails(keys: dict[str, KeyPair]) -> None:
    secured = issue(credential(), keys["p384"], format="ecdsa-jcs-2019")
    assert isinstance(secured, dict)
    p256 = signer_for(keys["p256"])
    secured["proof"]["verificationMethod"] = p256.key_id
    secured["issuer"] = did_key(keys["p256"].public)
    assert AT.verify(secured).codes == ("INVALID_PROOF",)  # a 96-byte signature for P-256


def test_an_extra_member_injected_into_the_proof_fails(keys: dict[str, KeyPair]) -> None:
    for suite in SUITES_FOR["ed25519"]:
        secured = issue(credential(), keys["ed25519"], format=suite)
        assert isinstance(secured, dict)
        secured["proof"]["domain"] = "customs.example"
        assert AT.verify(secured).codes == ("INVALID_SIGNATURE",)


def test_an_injected_graph_fails(keys: dict[str, KeyPair]) -> None:
    secured = _di(keys)
    secured["@included"] = [{"id": "urn:uuid:other", "type": ["VerifiableCredential"]}]
    assert AT.verify(secured).codes == ("INVALID_SIGNATURE",)


def test_an_unsigned_proof_injected_into_the_set_fails(keys: dict[str, KeyPair]) -> None:
    secured = _di(keys)
    extra = {k: v for k, v in secured["proof"].items() if k != "proofValue"}
    secured["proof"] = [secured["proof"], extra]
    result = AT.verify(secured)
    assert result.codes == ("INVALID_PROOF",)
    assert result.errors[0].path == "/proof/1/proofValue"


def _inject_undefined_term(secured: dict[str, Any]) -> None:
    secured["credentialSubject"]["bankAccount"] = "pay to account 666"


def _inject_keyword_like_member(secured: dict[str, Any]) -> None:
    secured["credentialSubject"]["@unsigned"] = "pay to account 666"


def _inject_nested_proof_graph(secured: dict[str, Any]) -> None:
    secured["credentialSubject"]["proof"] = copy.deepcopy(secured["proof"])


def _inject_undefined_proof_member(secured: dict[str, Any]) -> None:
    secured["proof"]["approvedBy"] = "did:example:boss"


@pytest.mark.parametrize(
    ("inject", "path"),
    [
        (_inject_undefined_term, "/credentialSubject/bankAccount"),
        (_inject_keyword_like_member, "/credentialSubject/@unsigned"),
        (_inject_nested_proof_graph, "/credentialSubject/proof"),
        (_inject_undefined_proof_member, "/proof/approvedBy"),
    ],
)
def test_json_that_expansion_would_drop_is_refused(
    keys: dict[str, KeyPair], inject: Callable[[dict[str, Any]], None], path: str
) -> None:
    # Members JSON-LD expansion drops are not in the RDF, so no RDFC signature covers them:
    # safe-mode expansion refuses them instead of "verifying" a credential that carries them.
    secured = _di(keys)
    inject(secured)
    result = AT.verify(secured)
    assert result.codes == ("INVALID_CONTEXT",)
    assert result.errors[0].path == path


def test_an_unknown_proof_type_is_unsupported(keys: dict[str, KeyPair]) -> None:
    secured = _di(keys)
    secured["proof"]["type"] = "RsaSignature2018"  # Ed25519Signature2020 verifies since issue 18
    result = AT.verify(secured)
    assert result.codes == ("UNSUPPORTED",)
    assert result.errors[0].path == "/proof/type"


def test_a_missing_proof_value_is_an_invalid_proof(keys: dict[str, KeyPair]) -> None:
    secured = _di(keys)
    del secured["proof"]["proofValue"]
    result = AT.verify(secured)
    assert result.codes == ("INVALID_PROOF",)
    assert result.errors[0].path == "/proof/proofValue"


def test_a_proof_value_in_another_multibase_is_refused(keys: dict[str, KeyPair]) -> None:
    secured = _di(keys)
    signature = multibase_decode(secured["proof"]["proofValue"])
    secured["proof"]["proofValue"] = multibase_encode(signature, "u")
    result = AT.verify(secured)
    assert result.codes == ("INVALID_PROOF",)
    assert "base58btc" in result.errors[0].message


def test_a_der_ecdsa_signature_is_refused(keys: dict[str, KeyPair]) -> None:
    secured = issue(credential(), keys["p256"], format="ecdsa-rdfc-2019")
    assert isinstance(secured, dict)
    raw = multibase_decode(secured["proof"]["proofValue"])
    r, s = raw[:32], raw[32:]
    der = b"\x30\x46\x02\x21\x00" + r + b"\x02\x21\x00" + s
    secured["proof"]["proofValue"] = multibase_encode(der, "z")
    assert AT.verify(secured).codes == ("INVALID_PROOF",)


def test_an_embedded_verification_method_is_refused(keys: dict[str, KeyPair]) -> None:
    # A proof must not bring its own key.
    secured = _di(keys)
    secured["proof"]["verificationMethod"] = {
        "id": "urn:uuid:key",
        "type": "Multikey",
        "publicKeyMultibase": keys["ed25519"].public.multikey(),
    }
    result = AT.verify(secured)
    assert result.codes == ("INVALID_PROOF",)
    assert result.errors[0].path == "/proof/verificationMethod"


def test_a_proof_that_is_not_an_object_is_a_parsing_error(keys: dict[str, KeyPair]) -> None:
    secured = _di(keys)
    secured["proof"] = [secured["proof"], "z3FXQ"]
    result = AT.verify(secured)
    assert not result.verified
    assert "MALFORMED" in result.codes or "PARSING_ERROR" in result.codes


def test_a_failed_proof_leaves_nothing_for_the_other_checks_to_read(
    keys: dict[str, KeyPair],
) -> None:
    secured = _di(keys)
    secured["validUntil"] = "2026-02-01T00:00:00Z"  # unsigned: no check may act on it
    result = AT.verify(secured)
    assert result.codes == ("INVALID_SIGNATURE",)
    assert result.check("validity") is None and result.credential is None


# -- presentations -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["data-integrity", "eddsa-jcs-2022", "ecdsa-rdfc-2019"])
def test_a_data_integrity_presentation_binds_challenge_and_domain(
    keys: dict[str, KeyPair], fmt: str
) -> None:
    holder = keys["p256"] if fmt.startswith("ecdsa") else keys["ed25519"]
    vc = issue(_about(holder), keys["p384"], format="ecdsa-rdfc-2019", now=NOW)
    vp = present([vc], holder, challenge="c-123", domain="verifier.example", format=fmt, now=NOW)
    assert isinstance(vp, dict)
    proof = vp["proof"]
    assert proof["proofPurpose"] == "authentication"
    assert (proof["challenge"], proof["domain"]) == ("c-123", "verifier.example")
    assert proof["expires"] == "2026-06-01T12:05:00Z"
    result = verify_presentation(vp, challenge="c-123", domain="verifier.example", verifier=AT)
    assert result.verified, (result.errors, [c.errors for c in result.credentials])
    assert result.format == "data-integrity"
    assert result.holder == did_key(holder.public)
    wrong = verify_presentation(vp, challenge="c-999", domain="verifier.example", verifier=AT)
    assert wrong.codes == ("INVALID_CHALLENGE",)
    elsewhere = verify_presentation(vp, challenge="c-123", domain="evil.example", verifier=AT)
    assert elsewhere.codes == ("INVALID_DOMAIN",)


def test_a_presentation_can_carry_a_vc_jwt(keys: dict[str, KeyPair]) -> None:
    vc = issue(_about(keys["ed25519"]), keys["p256"])
    vp = present([vc], keys["ed25519"], challenge="n", format="data-integrity", now=NOW)
    assert verify_presentation(vp, challenge="n", verifier=AT).verified


def test_an_assertion_proof_presented_as_authentication_is_rejected(
    keys: dict[str, KeyPair],
) -> None:
    vp = present([], keys["ed25519"], challenge="n", format="data-integrity", now=NOW)
    assert isinstance(vp, dict)
    unsigned = {k: v for k, v in vp.items() if k != "proof"}
    forged = add_proof(unsigned, signer_for(keys["ed25519"]), challenge="n")
    result = verify_presentation(forged, challenge="n", verifier=AT)
    # the proof fails, so nothing vouches for the challenge either
    assert result.codes == ("INVALID_PROOF", "INVALID_CHALLENGE")


def test_a_presentation_signed_by_someone_else_than_the_holder_fails(
    keys: dict[str, KeyPair],
) -> None:
    vp = present([], keys["ed25519"], challenge="n", format="data-integrity", now=NOW)
    assert isinstance(vp, dict)
    unsigned = {k: v for k, v in vp.items() if k != "proof"}
    forged = add_proof(unsigned, signer_for(keys["p256"]), purpose="authentication", challenge="n")
    result = verify_presentation(forged, challenge="n", verifier=AT)
    assert result.codes == ("UNKNOWN_KEY", "INVALID_CHALLENGE")
    assert result.errors[0].path == "/holder"


def test_an_old_presentation_has_expired(keys: dict[str, KeyPair]) -> None:
    vp = present([], keys["ed25519"], challenge="n", format="data-integrity", now=NOW)
    later = dataclasses.replace(AT, clock=lambda: NOW + timedelta(minutes=10))
    result = verify_presentation(vp, challenge="n", verifier=later)
    assert result.codes == ("EXPIRED", "INVALID_CHALLENGE")
    assert result.errors[0].path == "/proof/expires"


# -- helpers -----------------------------------------------------------------------------------


def _about(holder: KeyPair) -> dict[str, Any]:
    return credential(credentialSubject={"id": did_key(holder.public), "name": "Harbour Lights"})


@dataclasses.dataclass
class _DidWebFetcher:
    """Serves did:web documents from memory (no network)."""

    documents: dict[str, dict[str, Any]]

    def fetch(self, url: str, *, accept: str, max_bytes: int = 0) -> bytes:
        for did, document in self.documents.items():
            if url == f"https://{did.removeprefix('did:web:')}/.well-known/did.json":
                return json.dumps(document).encode()
        raise AssertionError(f"unexpected fetch of {url}")


def test_the_did_web_fetcher_double_is_used_by_the_resolver(keys: dict[str, KeyPair]) -> None:
    did = "did:web:customs.example"
    resolver = Resolver(fetcher=_DidWebFetcher({did: did_web_document(did, [keys["p256"].public])}))
    assert resolver.resolve(did).id == did


def test_a_vc_1_1_credential_with_proofs_but_no_data_integrity_context_is_refused(
    keys: dict[str, KeyPair],
) -> None:
    legacy = {**_legacy(), "proof": {"type": "Ed25519Signature2020", "proofValue": "z1"}}
    with pytest.raises(UsageError, match="invalidate"):
        issue(legacy, keys["ed25519"], format="eddsa-rdfc-2022")


def test_the_integrity_public_names_are_sorted_and_exist() -> None:
    import vcred.integrity

    def isort_style(name: str) -> tuple[int, str]:  # as ruff's RUF022: CONSTANTS, Classes, rest
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert vcred.integrity.__all__ == sorted(vcred.integrity.__all__, key=isort_style)
    assert all(hasattr(vcred.integrity, name) for name in vcred.integrity.__all__)


def test_data_integrity_format_takes_an_explicit_cryptosuite(keys: dict[str, KeyPair]) -> None:
    secured = issue(
        credential(), keys["ed25519"], format="data-integrity", cryptosuite="eddsa-jcs-2022"
    )
    assert isinstance(secured, dict) and secured["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    with pytest.raises(UsageError, match="contradicts"):
        issue(credential(), keys["ed25519"], format="eddsa-rdfc-2022", cryptosuite="eddsa-jcs-2022")
