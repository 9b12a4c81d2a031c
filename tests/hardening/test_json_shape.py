"""The JSON a verifier reads says all that was signed, where its checks look.

An RDFC suite signs the RDF dataset, not the JSON: the same dataset can be written with a
term's IRI as the member name (``https://www.w3.org/2018/credentials#validUntil`` for
``validUntil``), inside ``@nest``/``@set``, from another node (``@included``, ``@reverse``), or
in a second node object with the credential's id. The signature still verifies, and a check
reading ``validUntil``, ``credentialStatus`` or the proof's ``expires`` would find nothing: an
expired, revoked credential would verify. Each rewrite here keeps the dataset (asserted) and
is refused with INVALID_CONTEXT and the pointer of the member.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import pytest

from vcred import Verifier, _jsonld_fast, did_key, issue
from vcred._jsonld_fast import READ_NAMES
from vcred.errors import ContextError
from vcred.jsonld import (
    BUNDLED_CONTEXTS,
    canonicalize_document,
    check_read_by_terms,
    default_loader,
)
from vcred.keys import KeyPair
from vcred.presentation import present
from vcred.status import MutableBitstring, build_status_list_credential
from vcred.testing import StaticFetcher

NOW: Final = datetime(2026, 6, 1, tzinfo=UTC)
V2: Final = "https://www.w3.org/ns/credentials/v2"
CRED: Final = "https://www.w3.org/2018/credentials#"
STATUS: Final = "https://www.w3.org/ns/credentials/status#"
DATETIME: Final = "http://www.w3.org/2001/XMLSchema#dateTime"
LIST_URL: Final = "https://status.example/lists/1"
CREDENTIAL_ID: Final = "urn:uuid:5d0c4f7e-8f0a-4f9e-9a57-3a1f3c1d2b10"
RDFC_SUITES: Final = ("eddsa-rdfc-2022", "ecdsa-rdfc-2019")
KEY_OF: Final = {"eddsa-rdfc-2022": "ed25519", "ecdsa-rdfc-2019": "p256"}


def _pop(document: dict[str, Any], name: str) -> Any:
    return document.pop(name)


def as_iri(secured: dict[str, Any]) -> dict[str, Any]:
    forged = copy.deepcopy(secured)
    forged[CRED + "validUntil"] = {"@value": _pop(forged, "validUntil"), "@type": DATETIME}
    forged[CRED + "credentialStatus"] = _pop(forged, "credentialStatus")
    return forged


def nested(secured: dict[str, Any]) -> dict[str, Any]:
    forged = copy.deepcopy(secured)
    forged["@nest"] = {"validUntil": _pop(forged, "validUntil")}
    return forged


def wrapped(secured: dict[str, Any]) -> dict[str, Any]:
    forged = copy.deepcopy(secured)
    forged["credentialStatus"] = {"@set": [forged["credentialStatus"]]}
    return forged


def included(secured: dict[str, Any]) -> dict[str, Any]:
    forged = copy.deepcopy(secured)
    # the type repeats a signed statement (same dataset) and brings validUntil's term in
    moved = {"id": CREDENTIAL_ID, "type": "VerifiableCredential"}
    forged["@included"] = [moved | {"validUntil": _pop(forged, "validUntil")}]
    return forged


def reversed_status(secured: dict[str, Any]) -> dict[str, Any]:
    forged = copy.deepcopy(secured)
    entry = _pop(forged, "credentialStatus")
    forged["credentialSubject"]["@reverse"] = {}  # a node stated from another: refused anyway
    forged["credentialStatus"] = entry
    return forged


REWRITES: Final[dict[str, tuple[Callable[[dict[str, Any]], dict[str, Any]], str]]] = {
    "a term as its IRI": (as_iri, f"/{CRED.replace('/', '~1')}validUntil"),
    "@nest": (nested, "/@nest"),
    "@set": (wrapped, "/credentialStatus/@set"),
    "@included": (included, "/@included"),
}


@pytest.fixture(scope="module")
def keys() -> dict[str, KeyPair]:
    return {suite: KeyPair.generate(kind) for suite, kind in KEY_OF.items()}


def _expired_revoked(key: KeyPair) -> tuple[dict[str, Any], StaticFetcher]:
    issuer = did_key(key.public)
    credential = {
        "@context": [V2],
        "id": CREDENTIAL_ID,
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "validUntil": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:trader", "name": "Harbour Lights Trading"},
        "credentialStatus": {
            "id": LIST_URL + "#5",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "5",
            "statusListCredential": LIST_URL,
        },
    }
    bits = MutableBitstring(131072)
    bits.set(5, 1)
    status_list = build_status_list_credential(
        list_url=LIST_URL,
        issuer=issuer,
        purpose="revocation",
        bitstring=bits,
        valid_from=NOW - timedelta(days=1),
    )
    fetcher = StaticFetcher()
    fetcher.publish(LIST_URL, issue(status_list, key, now=NOW))
    return credential, fetcher


def _same_dataset(one: dict[str, Any], other: dict[str, Any]) -> bool:
    def unsecured(document: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in document.items() if name != "proof"}

    return canonicalize_document(unsecured(one)) == canonicalize_document(unsecured(other))


@pytest.mark.parametrize("suite", RDFC_SUITES)
@pytest.mark.parametrize("rewrite", sorted(REWRITES))
def test_a_rewrite_that_keeps_the_signed_dataset_is_refused(
    keys: dict[str, KeyPair], suite: str, rewrite: str
) -> None:
    credential, fetcher = _expired_revoked(keys[suite])
    secured = issue(credential, keys[suite], format=suite, now=NOW - timedelta(days=200))
    assert isinstance(secured, dict)
    verifier = Verifier(fetcher=fetcher, clock=lambda: NOW)
    assert {"EXPIRED", "REVOKED"} <= set(verifier.verify(secured).codes)
    forge, pointer = REWRITES[rewrite]
    forged = forge(secured)
    assert _same_dataset(secured, forged), "the rewrite must keep what was signed"
    result = verifier.verify(forged)
    assert not result.verified
    assert [(p.code, p.path) for p in result.errors] == [("INVALID_CONTEXT", pointer)]


def _expired_proof(key: KeyPair) -> dict[str, Any]:
    """A credential valid at NOW whose eddsa-rdfc-2022 proof expired nine days before."""
    credential, _ = _expired_revoked(key)
    del credential["credentialStatus"], credential["validUntil"]
    made = NOW - timedelta(days=10)
    secured = issue(
        credential, key, format="eddsa-rdfc-2022", now=made, expires=made + timedelta(1)
    )
    assert isinstance(secured, dict)
    return secured


def test_the_proofs_expiry_written_as_its_iri_is_refused(keys: dict[str, KeyPair]) -> None:
    secured = _expired_proof(keys["eddsa-rdfc-2022"])
    verifier = Verifier(clock=lambda: NOW)
    assert verifier.verify(secured).codes == ("EXPIRED",)
    forged = copy.deepcopy(secured)
    expires = forged["proof"].pop("expires")
    forged["proof"]["https://w3id.org/security#expiration"] = {"@value": expires, "@type": DATETIME}
    result = verifier.verify(forged)
    assert not result.verified
    assert result.codes == ("INVALID_CONTEXT",)
    assert result.errors[0].path == "/proof/https:~1~1w3id.org~1security#expiration"


@pytest.mark.parametrize("added", ["https://w3id.org/security/v1", "https://w3id.org/security/v2"])
def test_the_proofs_expiry_written_as_another_term_for_it_is_refused(
    keys: dict[str, KeyPair], added: str
) -> None:
    """Anyone appends a known context that keeps the dataset (security v1, or v2 which
    imports it) and brings ``expiration``, another term for ``expires``' IRI: the proof's
    expiry moved there kept the dataset, and the expired proof verified."""
    secured = _expired_proof(keys["eddsa-rdfc-2022"])
    verifier = Verifier(clock=lambda: NOW)
    forged = copy.deepcopy(secured)
    forged["@context"] = [*forged["@context"], added]
    assert verifier.verify(forged).codes == ("EXPIRED",)  # the context alone changes nothing
    forged["proof"]["expiration"] = forged["proof"].pop("expires")
    assert _same_dataset(secured, forged), "the rewrite must keep what was signed"
    result = verifier.verify(forged)
    assert not result.verified
    assert result.codes == ("INVALID_CONTEXT",)
    assert result.errors[0].path == "/proof/expiration"


def test_a_credential_hidden_that_way_in_a_presentation_is_refused(
    keys: dict[str, KeyPair],
) -> None:
    key = keys["eddsa-rdfc-2022"]
    credential, fetcher = _expired_revoked(key)
    secured = issue(credential, key, format="eddsa-rdfc-2022", now=NOW - timedelta(days=200))
    assert isinstance(secured, dict)
    holder = KeyPair.generate("ed25519")
    signed = present(
        [as_iri(secured)], holder, challenge="n-1", domain="border.example",
        format="eddsa-rdfc-2022", now=NOW,
    )  # fmt: skip
    result = Verifier(fetcher=fetcher, clock=lambda: NOW).verify_presentation(
        signed, challenge="n-1", domain="border.example"
    )
    assert not result.verified
    assert "INVALID_CONTEXT" in result.codes


@pytest.mark.parametrize("suite", RDFC_SUITES)
def test_a_vcdm_1_1_term_written_with_its_scoped_prefix_is_refused(
    keys: dict[str, KeyPair], suite: str
) -> None:
    """VCDM 1.1's context defines ``cred:`` and ``xsd:`` only in the VerifiableCredential
    type's scoped context, which is in effect for the credential's members: an expired
    credential rewritten with ``cred:expirationDate`` keeps its dataset, and a check reading
    ``expirationDate`` found none — it verified as valid (the check expanded compact IRIs
    with the top-level context only)."""
    key = keys[suite]
    credential = {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://w3id.org/security/data-integrity/v2",
        ],
        "id": CREDENTIAL_ID,
        "type": ["VerifiableCredential"],
        "issuer": did_key(key.public),
        "issuanceDate": "2025-01-01T00:00:00Z",
        "expirationDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:trader"},
    }
    secured = issue(credential, key, format=suite, now=NOW - timedelta(days=200))
    assert isinstance(secured, dict)
    verifier = Verifier(clock=lambda: NOW)
    assert verifier.verify(secured).codes == ("EXPIRED",)
    forged = copy.deepcopy(secured)
    forged["cred:expirationDate"] = {
        "@value": forged.pop("expirationDate"),
        "@type": "xsd:dateTime",
    }
    assert _same_dataset(secured, forged), "the rewrite must keep what was signed"
    result = verifier.verify(forged)
    assert not result.verified
    assert [(p.code, p.path) for p in result.errors] == [
        ("INVALID_CONTEXT", "/cred:expirationDate")
    ]


def test_a_second_node_object_with_the_documents_id_is_refused() -> None:
    document = {
        "@context": [V2],
        "id": CREDENTIAL_ID,
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:a", "name": "A"},
        "relatedResource": [{"id": CREDENTIAL_ID, "validUntil": "2026-01-01T00:00:00Z"}],
    }
    with pytest.raises(ContextError) as refused:
        check_read_by_terms(document)
    assert refused.value.pointer == "/relatedResource/0"
    document["relatedResource"] = [{"id": CREDENTIAL_ID}]  # a reference says nothing more
    check_read_by_terms(document)


def test_a_type_written_as_its_iri_is_refused() -> None:
    # (a type-scoped context is then not applied, so safe mode refuses the members it defines
    # too; this refuses the type itself, whatever members follow)
    document = {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:a"},
        "credentialStatus": {"id": LIST_URL + "#1", "type": STATUS + "BitstringStatusListEntry"},
    }
    with pytest.raises(ContextError) as refused:
        check_read_by_terms(document)
    assert refused.value.pointer == "/credentialStatus/type"


def test_a_reverse_property_is_refused() -> None:
    document = reversed_status(
        {"@context": [V2], "credentialSubject": {"id": "did:example:a"}, "credentialStatus": {}}
    )
    with pytest.raises(ContextError) as refused:
        check_read_by_terms(document)
    assert refused.value.pointer == "/credentialSubject/@reverse"


def test_names_and_iris_no_term_stands_for_are_read_as_they_are() -> None:
    # an IRI no context term maps to, and a compact IRI of an undefined prefix, say nothing a
    # check reads under another name: accepted
    document = {
        "@context": [V2],
        "type": ["VerifiableCredential", "https://customs.example/ns#Anything"],
        "credentialSubject": {"https://customs.example/ns#name": "A", "ex:thing": "B", "name": "C"},
    }
    check_read_by_terms(document)


def test_every_iri_two_known_terms_stand_for_has_one_name_the_verifier_reads() -> None:
    """The alias rule refuses every other name for an IRI read under one of READ_NAMES: each
    known context (all its scoped contexts) giving an IRI two names gives one of them, so
    a new context bringing another alias must be decided on here."""
    loader = default_loader()
    others: set[str] = set()
    for url in sorted(BUNDLED_CONTEXTS):
        check_read_by_terms({"@context": [url]}, loader=loader)  # builds the terms
        _, terms = loader.processed[("terms", _jsonld_fast._context_key([url]))]
        for iri, names in terms.names_by_iri.items():
            if len(names) > 1:
                assert len(names & READ_NAMES) == 1, (url, iri, names)
                others |= names - READ_NAMES
    assert others == {"expiration", "signature"}  # security v1, Ed25519Signature2020
