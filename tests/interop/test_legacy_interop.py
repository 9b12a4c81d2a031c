"""Credentials already in the wild: vcred verifies what the legacy suites' own libraries sign.

The signers are independent implementations (tests/interop/legacy_peer.mjs):
@digitalbazaar/vc 7 (VC 1.1) with @digitalbazaar/ed25519-signature-2018 and -2020, and
@transmute/json-web-signature (JsonWebSignature2020 with Ed25519, P-256 and P-384 keys);
status lists come from @digitalbazaar/vc-status-list (StatusList2021) and, for
RevocationList2020, the same bitstring in a hand-built list credential, signed by the 2020
suite. One node run signs everything; vcred only verifies (these suites are never issued).
Keys are did:key (Multikey methods) and did:web documents publishing the legacy method types
(Ed25519VerificationKey2018 with publicKeyBase58, JsonWebKey2020 with publicKeyJwk).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest

from tests.interop.node import run_peer
from vcred import Verifier
from vcred.did import did_key
from vcred.keys import KeyPair
from vcred.multibase import multibase_encode
from vcred.testing import StaticFetcher

pytestmark = pytest.mark.interop

V1 = "https://www.w3.org/2018/credentials/v1"
CUSTOMS = "https://vcred.dev/ns/customs/v1"
SUITE_CONTEXT = {
    "Ed25519Signature2018": None,  # VC 1.1's own context defines it (adding its suite context
    # would redefine a protected term: refused by jsonld.js and by vcred alike)
    "Ed25519Signature2020": "https://w3id.org/security/suites/ed25519-2020/v1",
    "JsonWebSignature2020": "https://w3id.org/security/suites/jws-2020/v1",
}
STATUS_LIST_2021 = "https://w3id.org/vc/status-list/2021/v1"
REVOCATION_LIST_2020 = "https://w3id.org/vc-revocation-list-2020/v1"
WEB_DID = "did:web:pilot.customs.example"
LIST_URL = "https://pilot.customs.example/status/"
ISSUED = "2026-01-01T00:00:00Z"
REVOKED_INDEX, CLEAR_INDEX = 94_567, 1_234
CHALLENGE = "c0ffee-legacy-7"
CASES = [
    ("Ed25519Signature2018", "ed25519", "did:key"),
    ("Ed25519Signature2018", "ed25519", "did:web"),
    ("Ed25519Signature2020", "ed25519", "did:key"),
    ("JsonWebSignature2020", "ed25519", "did:key"),
    ("JsonWebSignature2020", "p256", "did:key"),
    ("JsonWebSignature2020", "p256", "did:web"),
    ("JsonWebSignature2020", "p384", "did:key"),
]


@dataclass(frozen=True, slots=True)
class Identity:
    did: str
    kid: str
    key: KeyPair


@cache
def keys() -> dict[str, KeyPair]:
    return {kind: KeyPair.generate(kind) for kind in ("ed25519", "p256", "p384")}


def identity(kind: str, method: str) -> Identity:
    key = keys()[kind]
    if method == "did:web":
        return Identity(WEB_DID, f"{WEB_DID}#{kind}-legacy", key)
    did = did_key(key.public)
    return Identity(did, f"{did}#{did.split(':')[2]}", key)


def web_did_document() -> dict[str, Any]:
    """The pilot agency's did:web, publishing its keys as the legacy method types."""
    ed, p256 = keys()["ed25519"], keys()["p256"]
    methods = [
        {
            "id": f"{WEB_DID}#ed25519-legacy",
            "type": "Ed25519VerificationKey2018",
            "controller": WEB_DID,
            "publicKeyBase58": multibase_encode(ed.public.raw, "z")[1:],
        },
        {
            "id": f"{WEB_DID}#p256-legacy",
            "type": "JsonWebKey2020",
            "controller": WEB_DID,
            "publicKeyJwk": p256.public.jwk(),
        },
    ]
    return {
        "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/suites/ed25519-2018/v1",
            "https://w3id.org/security/suites/jws-2020/v1",
        ],
        "id": WEB_DID,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }


def aeo_credential(issuer: str, suite: str, status: dict[str, Any] | None = None) -> dict[str, Any]:
    contexts = [V1, CUSTOMS]
    if SUITE_CONTEXT[suite]:
        contexts.append(SUITE_CONTEXT[suite])
    if status is not None:
        contexts.append(
            STATUS_LIST_2021 if status["type"] == "StatusList2021Entry" else REVOCATION_LIST_2020
        )
    document: dict[str, Any] = {
        "@context": contexts,
        "type": ["VerifiableCredential", "AEOCertificateCredential"],
        "issuer": issuer,
        "issuanceDate": ISSUED,
        "credentialSubject": {
            "id": "did:example:harbour-lights",
            "legalName": "Harbour Lights Trading",
            "address": {"type": "PostalAddress", "addressCountry": "NL"},
        },
    }
    if status is not None:
        document["credentialStatus"] = status
    return document


def request(suite: str, who: Identity, **body: Any) -> dict[str, Any]:
    return {
        "suite": suite,
        "privateJwk": who.key.private_jwk(),
        "did": who.did,
        "kid": who.kid,
        **body,
    }


def status_cases(who: Identity) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(name, list request, credentialStatus) for each legacy status type and index."""
    sl2021 = {"id": LIST_URL + "sl2021", "length": 131_072, "statusPurpose": "revocation"}
    rl2020 = {"id": LIST_URL + "rl2020", "length": 131_072, "kind": "RevocationList2020"}
    cases = []
    for name, lst in (("StatusList2021", sl2021), ("RevocationList2020", rl2020)):
        for index in (REVOKED_INDEX, CLEAR_INDEX):
            if name == "StatusList2021":
                status = {
                    "id": f"{lst['id']}#{index}",
                    "type": "StatusList2021Entry",
                    "statusPurpose": "revocation",
                    "statusListIndex": str(index),
                    "statusListCredential": lst["id"],
                }
            else:
                status = {
                    "id": f"{lst['id']}#{index}",
                    "type": "RevocationList2020Status",
                    "revocationListIndex": str(index),
                    "revocationListCredential": lst["id"],
                }
            cases.append((f"{name}-{index}", lst, status))
    return cases


@pytest.fixture(scope="module")
def signed() -> dict[str, Any]:
    """Everything the peers sign, in one node run: credentials by case, lists, status VCs."""
    requests = []
    for suite, kind, method in CASES:
        who = identity(kind, method)
        requests.append(request(suite, who, credential=aeo_credential(who.did, suite)))
    lister = identity("ed25519", "did:key")
    lists: dict[str, dict[str, Any]] = {}
    for _, lst, _ in status_cases(lister):
        lists[lst["id"]] = {**lst, "set": [REVOKED_INDEX], "issuanceDate": ISSUED}
    for lst in lists.values():
        requests.append(request("Ed25519Signature2020", lister, statusList=lst))
    for _, _, status in status_cases(lister):
        credential = aeo_credential(lister.did, "Ed25519Signature2018", status)
        requests.append(request("Ed25519Signature2018", lister, credential=credential))
    holder = identity("ed25519", "did:key")
    issuer = identity("p256", "did:key")
    held = aeo_credential(issuer.did, "JsonWebSignature2020")
    held["credentialSubject"]["id"] = holder.did  # the holder presents a credential about itself
    requests.append(request("JsonWebSignature2020", issuer, credential=held))
    documents = run_peer("legacy_peer.mjs", {"requests": requests})["documents"]
    held = documents.pop()
    n = len(CASES)
    presentations = []
    for suite in ("Ed25519Signature2018", "Ed25519Signature2020", "JsonWebSignature2020"):
        contexts = [V1, *([SUITE_CONTEXT[suite]] if SUITE_CONTEXT[suite] else [])]
        presentation = {
            "@context": contexts,
            "type": ["VerifiablePresentation"],
            "holder": holder.did,
            "verifiableCredential": [held],
        }
        presentations.append(request(suite, holder, presentation=presentation, challenge=CHALLENGE))
    vps = run_peer("legacy_peer.mjs", {"requests": presentations})["documents"]
    return {
        "presentations": vps,
        "credentials": dict(zip(CASES, documents[:n], strict=True)),
        "lists": dict(zip(lists, documents[n : n + len(lists)], strict=True)),
        "status": dict(
            zip(
                [name for name, _, _ in status_cases(lister)],
                documents[n + len(lists) :],
                strict=True,
            )
        ),
    }


def verifier(fetcher: StaticFetcher | None = None) -> Verifier:
    fetcher = fetcher or StaticFetcher()
    fetcher.publish(
        "https://pilot.customs.example/.well-known/did.json", json.dumps(web_did_document())
    )
    return Verifier(fetcher=fetcher)  # the peers sign with today's date: the real clock


@pytest.mark.parametrize(("suite", "kind", "method"), CASES)
def test_vcred_verifies_what_the_legacy_libraries_sign(
    signed: dict[str, Any], suite: str, kind: str, method: str
) -> None:
    document = signed["credentials"][(suite, kind, method)]
    assert document["proof"]["type"] == suite
    result = verifier().verify(document)
    assert result.verified, result.errors
    assert result.issuer == identity(kind, method).did


@pytest.mark.parametrize(("suite", "kind", "method"), CASES)
def test_a_tampered_legacy_credential_is_refused(
    signed: dict[str, Any], suite: str, kind: str, method: str
) -> None:
    original = signed["credentials"][(suite, kind, method)]
    claim = copy.deepcopy(original)
    claim["credentialSubject"]["legalName"] = "Someone Else"
    option = copy.deepcopy(original)
    option["proof"]["created"] = "2026-01-02T00:00:00Z"
    for tampered in (claim, option):
        result = verifier().verify(tampered)
        assert not result.verified
        assert result.codes == ("INVALID_SIGNATURE",)


def test_a_jws_moved_to_another_key_type_is_refused(signed: dict[str, Any]) -> None:
    """The P-256 proof's method swapped for the Ed25519 key: the key names EdDSA, not ES256."""
    document = copy.deepcopy(signed["credentials"][("JsonWebSignature2020", "p256", "did:key")])
    ed = identity("ed25519", "did:key")
    document["issuer"] = ed.did
    document["proof"]["verificationMethod"] = ed.kid
    result = verifier().verify(document)
    assert result.codes == ("INVALID_PROOF",)
    assert result.errors[0].path == "/proof/jws"


def status_verifier(signed: dict[str, Any]) -> Verifier:
    fetcher = StaticFetcher()
    for url, document in signed["lists"].items():
        fetcher.publish(url, json.dumps(document))
    return verifier(fetcher)


@pytest.mark.parametrize("list_type", ["StatusList2021", "RevocationList2020"])
def test_legacy_status_lists_say_revoked_and_clear(signed: dict[str, Any], list_type: str) -> None:
    checker = status_verifier(signed)
    revoked = checker.verify(signed["status"][f"{list_type}-{REVOKED_INDEX}"])
    assert revoked.codes == ("REVOKED",)
    clear = checker.verify(signed["status"][f"{list_type}-{CLEAR_INDEX}"])
    assert clear.verified, clear.errors
    assert [(s.index, s.value) for s in clear.status] == [(CLEAR_INDEX, 0)]


def test_a_legacy_list_with_a_tampered_bitstring_is_not_believed(signed: dict[str, Any]) -> None:
    fetcher = StaticFetcher()
    for url, document in signed["lists"].items():
        forged = copy.deepcopy(document)
        forged["credentialSubject"]["encodedList"] = signed["lists"][url]["credentialSubject"][
            "encodedList"
        ].replace("A", "B", 1)
        fetcher.publish(url, json.dumps(forged))
    result = verifier(fetcher).verify(signed["status"][f"StatusList2021-{CLEAR_INDEX}"])
    assert result.codes == ("STATUS_VERIFICATION",)


@pytest.mark.parametrize("index", range(3), ids=["2018", "2020", "jws2020"])
def test_vcred_verifies_legacy_presentations_bound_to_the_challenge(
    signed: dict[str, Any], index: int
) -> None:
    presentation = signed["presentations"][index]
    result = verifier().verify_presentation(presentation, challenge=CHALLENGE)
    assert result.verified, result.errors
    replayed = verifier().verify_presentation(presentation, challenge="another-challenge")
    assert "INVALID_CHALLENGE" in replayed.codes
