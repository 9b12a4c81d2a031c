"""Data Integrity proofs of the four suites, reviewed as invariants (docs/security.md §13.30).

eddsa-rdfc-2022, eddsa-jcs-2022, ecdsa-rdfc-2019 and ecdsa-jcs-2019 (VC Data Integrity 1.0
§4.4 / §4.5, vc-di-eddsa, vc-di-ecdsa), and what the verifier makes of their results. The
invariants: no input makes ``verify()`` / ``verify_presentation()`` raise (a typed failed
check instead); everything a check or a caller reads was signed; a rule that cannot establish
its input says no. Found: a proof that expires before it was created verified (the clock skew
let both ends pass); a ``proofValue`` or a did:key of any length was decoded before its length
was looked at (base58btc decoding grows faster than its input). The rest held and is pinned.
"""

from __future__ import annotations

import copy
import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import NOW, credential
from tests.integrity.test_pipeline import _DidWebFetcher
from vcred import Verifier, issue, jose, model, multibase, present
from vcred.did import did_key
from vcred.did.document import DidDocument
from vcred.did.web import did_web_document
from vcred.errors import ParsingError
from vcred.integrity import add_proof
from vcred.integrity.proof import xsd_date_time
from vcred.integrity.suites import (
    SUITES,
    canonical_json,
    configure_proof,
    create_proof,
    cryptosuite,
    hash_data,
    serialize_proof,
    transform,
)
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.multibase import multibase_decode, multibase_encode

AT = Verifier(clock=lambda: NOW)
KEYS = {kind: KeyPair.generate(kind) for kind in ("ed25519", "p256", "p384")}
#: each suite of this review with a key it signs with
SUITE_KEYS = {
    "eddsa-rdfc-2022": KEYS["ed25519"],
    "eddsa-jcs-2022": KEYS["ed25519"],
    "ecdsa-rdfc-2019": KEYS["p256"],
    "ecdsa-jcs-2019": KEYS["p384"],
}
FORMATS = sorted(SUITE_KEYS)
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _issued(fmt: str, **options: Any) -> dict[str, Any]:
    key = SUITE_KEYS[fmt]
    secured = issue(credential(issuer=did_key(key.public)), key, format=fmt, now=NOW, **options)
    assert isinstance(secured, dict)
    return secured


def _chain(fmt: str) -> dict[str, Any]:
    """Three proofs: 1, then 2 after 1, then 3 after 1 and 2."""
    first = _issued(fmt, proof_id="urn:uuid:p1")
    key = SUITE_KEYS[fmt]
    second = issue(
        first, key, format=fmt, now=NOW, proof_id="urn:uuid:p2", previous_proof="urn:uuid:p1"
    )
    third = issue(
        second,
        key,
        format=fmt,
        now=NOW,
        proof_id="urn:uuid:p3",
        previous_proof=["urn:uuid:p1", "urn:uuid:p2"],
    )
    assert isinstance(third, dict)
    return third


ISSUED = {fmt: _issued(fmt) for fmt in FORMATS}
CHAINS = {fmt: _chain(fmt) for fmt in FORMATS}


# -- found: a proof that expires before it was created ---------------------------------------


@SETTINGS
@given(
    fmt=st.sampled_from(FORMATS),
    created=st.integers(min_value=-59, max_value=59),
    expires=st.integers(min_value=-59, max_value=59),
)
def test_a_proof_that_expires_before_it_was_created_is_refused(
    fmt: str, created: int, expires: int
) -> None:
    """Both ends within the verifier's clock skew (a minute): each end passes on its own, and
    the proof verified though it says it was never valid. Now INVALID_PROOF at ``expires``."""
    result = AT.verify(_signed_with_times(fmt, created, expires))
    if expires < created:
        assert result.codes == ("INVALID_PROOF",)
        assert result.errors[0].path == "/proof/expires"
        assert result.credential is None
    else:
        assert result.verified, result.errors


def _signed_with_times(fmt: str, created: int, expires: int) -> dict[str, Any]:
    """A proof with these ``created`` and ``expires`` (seconds from NOW), whatever their order
    (add_proof refuses to make one that expires first: the signer here writes its options)."""
    key = SUITE_KEYS[fmt]
    document = credential(issuer=did_key(key.public))
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": fmt,
        "created": xsd_date_time(NOW + timedelta(seconds=created)),
        "expires": xsd_date_time(NOW + timedelta(seconds=expires)),
        "verificationMethod": signer_for(key).key_id,
        "proofPurpose": "assertionMethod",
    }
    return {**document, "proof": create_proof(SUITES[fmt], document, options, signer_for(key))}


# -- found: values decoded before their length was looked at ---------------------------------


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of every base58btc body decoded during the test."""
    lengths: list[int] = []
    original = multibase._b58decode

    def spy(body: str) -> bytes:
        lengths.append(len(body))
        return original(body)

    monkeypatch.setattr(multibase, "_b58decode", spy)
    return lengths


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_proof_value_longer_than_any_signature_is_refused_before_decoding(
    fmt: str, decoded: list[int]
) -> None:
    """A 512 KiB ``proofValue`` (the verifier service's body limit) took about a second to
    decode, twenty times the verification of a genuine credential of that size; a signature
    is 64 or 96 bytes, at most 88 or 132 base58btc characters."""
    secured = copy.deepcopy(ISSUED[fmt])
    secured["proof"]["proofValue"] = "z" + "2" * 500_000
    result = AT.verify(secured)
    assert result.codes == ("INVALID_PROOF",)
    assert result.errors[0].path == "/proof/proofValue"
    assert max(decoded, default=0) < 200  # the keys of did:key, never the proofValue


def test_a_did_key_longer_than_any_multikey_is_refused_before_decoding(
    decoded: list[int],
) -> None:
    for fmt in FORMATS:
        secured = copy.deepcopy(ISSUED[fmt])
        long_key = "did:key:z6Mk" + "2" * 500_000
        secured["proof"]["verificationMethod"] = f"{long_key}#z6Mk"
        result = AT.verify(secured)
        assert result.codes == ("DID_RESOLUTION",)
        assert result.errors[0].path == "/proof/verificationMethod"
    assert max(decoded, default=0) < 200


def test_a_related_resource_digest_longer_than_any_multihash_is_refused_before_decoding(
    decoded: list[int],
) -> None:
    """The same bound on a ``relatedResource`` ``digestMultibase`` (about a second at the
    service's 512 KiB body limit): a multihash here is at most a code, a length and 64 bytes."""
    key = KeyPair.generate("ed25519")
    entry = {"id": "https://r.example/x", "digestMultibase": "z" + "2" * 500_000}
    document = credential(issuer=did_key(key.public), relatedResource=[entry])
    token = jose.sign_compact(document, signer_for(key), typ="vc+jwt", cty="vc")
    result = AT.verify(token)
    assert not result.verified
    assert {e.path for e in result.errors} == {"/relatedResource/0/digestMultibase"}
    assert max(decoded, default=0) < 200


def test_a_public_key_base58_longer_than_an_ed25519_key_is_refused_before_decoding(
    decoded: list[int],
) -> None:
    did = "did:web:agency.example"
    method = {"id": f"{did}#k", "type": "Ed25519VerificationKey2018", "controller": did}
    key = KeyPair.generate("ed25519")

    def methods(base58: str) -> Any:
        return DidDocument.parse(
            {
                "@context": ["https://www.w3.org/ns/did/v1"],
                "id": did,
                "verificationMethod": [{**method, "publicKeyBase58": base58}],
                "assertionMethod": [f"{did}#k"],
            },
            expected_id=did,
        ).methods

    assert methods(multibase_encode(key.public.raw, "z")[1:])[f"{did}#k"].public_key == key.public
    assert f"{did}#k" not in methods("2" * 100_000)
    assert max(decoded) < 200


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=140), base=st.sampled_from("zu"), extra=st.integers(0, 40)
)
def test_the_length_bound_admits_every_value_of_its_size_and_nothing_longer(
    data: bytes, base: str, extra: int
) -> None:
    """``multibase_decode(…, max_bytes=n)`` decodes every encoding of at most n bytes (all
    zero bytes, all 0xff, anything) and refuses a body longer than the longest of them."""
    encoded = multibase_encode(data, base)
    assert multibase_decode(encoded, max_bytes=len(data) + extra) == data
    longest = len(multibase_encode(b"\xff" * len(data), base))
    assert len(encoded) <= longest
    with pytest.raises(ParsingError, match="at most"):
        multibase_decode(base + "2" * longest, max_bytes=len(data))


# -- held: proof sets and chains -------------------------------------------------------------

_IDS = st.sampled_from(["urn:uuid:p1", "urn:uuid:p2", "urn:uuid:p3", "urn:uuid:nowhere"])


@SETTINGS
@given(
    fmt=st.sampled_from(FORMATS),
    rewiring=st.dictionaries(
        st.integers(0, 2),
        st.none() | _IDS | st.lists(_IDS, min_size=1, max_size=4),
        min_size=1,
        max_size=3,
    ),
    ids=st.dictionaries(st.integers(0, 2), _IDS, max_size=2),
)
def test_any_rewiring_of_a_chain_fails_it_and_raises_nothing(
    fmt: str, rewiring: dict[int, Any], ids: dict[int, str]
) -> None:
    """``previousProof`` naming a missing id, a proof's own, a cycle, or a subset of what was
    signed; proof ids duplicated: every proof of the set verifies, or nothing does (§4.5)."""
    document = copy.deepcopy(CHAINS[fmt])
    proofs = document["proof"]
    for index, previous in rewiring.items():
        if previous is None:
            proofs[index].pop("previousProof", None)
        else:
            proofs[index]["previousProof"] = previous
    for index, proof_id in ids.items():
        proofs[index]["id"] = proof_id
    result = AT.verify(document)
    if _as_signed(document, fmt) == _as_signed(CHAINS[fmt], fmt):
        assert result.verified, result.errors
    else:
        assert not result.verified and result.credential is None
        assert result.codes[0] in ("INVALID_PROOF", "INVALID_SIGNATURE")


def _as_signed(document: dict[str, Any], fmt: str) -> Any:
    """What a proof's signature fixes of its ``previousProof``: the JSON for JCS; for RDFC the
    set of ids (an array of one, a repeated id, another order: the same dataset, and the same
    proofs chained to)."""
    if SUITES[fmt].transformation == "jcs":
        return document
    return [
        {**p, "previousProof": frozenset(model.as_list(p["previousProof"]))}
        if "previousProof" in p
        else p
        for p in document["proof"]
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_chain_verifies_whatever_the_order_of_an_rdfc_set(fmt: str) -> None:
    """A set is unordered; a JCS chain signs its previous proofs as a JSON array, in the
    order the document lists them (§4.5 step 3.2), so a reordered set fails it, never passes
    what was not signed."""
    document = copy.deepcopy(CHAINS[fmt])
    document["proof"].reverse()
    result = AT.verify(document)
    if SUITES[fmt].transformation == "rdfc":
        assert result.verified, result.errors
    else:
        assert result.codes == ("INVALID_SIGNATURE",)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("position", [0, 1])
def test_a_valid_proof_by_someone_else_anywhere_in_the_set_fails_the_issuer(
    fmt: str, position: int
) -> None:
    """Every proof of a set verifies and every key that signed must be the issuer's: a
    stranger's own valid proof added first or last fails the issuer check, and no check reads
    a key of the set that is not the issuer's."""
    stranger = KeyPair.generate(SUITE_KEYS[fmt].kind)
    genuine = ISSUED[fmt]
    theirs = add_proof(
        {k: v for k, v in genuine.items() if k != "proof"}, signer_for(stranger), suite=fmt
    )["proof"]
    document = copy.deepcopy(genuine)
    document["proof"] = [theirs, genuine["proof"]] if position == 0 else [genuine["proof"], theirs]
    result = AT.verify(document)
    assert result.check("proof").passed is True  # type: ignore[union-attr]
    assert result.codes == ("UNKNOWN_KEY",)
    assert result.errors[0].path == "/issuer"
    assert not result.verified


# -- held: the cryptosuite a proof names ------------------------------------------------------

_NAMES = [
    *SUITES,
    "EDDSA-RDFC-2022",
    "eddsa-rdfc-2022 ",
    " eddsa-jcs-2022",
    "ecdsa-rdfc-2019\u200b",
    "eddsa-2022",
    "Ed25519Signature2020",
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", _NAMES)
def test_a_proof_under_another_cryptosuite_name_never_verifies(fmt: str, name: str) -> None:
    """Another suite of the same key type (the other transformation), another family, the
    selective suite, another case, a space: never verified, always a typed code."""
    if name == fmt:
        return
    document = copy.deepcopy(ISSUED[fmt])
    document["proof"]["cryptosuite"] = name
    result = AT.verify(document)
    assert not result.verified and result.credential is None
    assert result.codes[0] in ("INVALID_SIGNATURE", "INVALID_PROOF", "UNSUPPORTED")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_signature_over_the_other_transformations_hash_data_does_not_verify(fmt: str) -> None:
    """Suite confusion: the key's holder signs the JCS hash data of proof options naming the
    RDFC suite (or the reverse). The verifier hashes what the named suite says: the signature,
    valid over other bytes, fails."""
    suite = SUITES[fmt]
    other = next(
        s for s in SUITES.values() if s.family == suite.family and s.name != fmt and not s.selective
    )
    key = SUITE_KEYS[fmt]
    document = credential(issuer=did_key(key.public))
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": fmt,
        "created": xsd_date_time(NOW),
        "verificationMethod": signer_for(key).key_id,
        "proofPurpose": "assertionMethod",
    }
    if other.transformation == "jcs":
        config = canonical_json({**options, "@context": document["@context"]})
        transformed = canonical_json(document)
    else:
        rdfc = {**options, "cryptosuite": other.name}
        config = configure_proof(other, document, rdfc, kind=key.kind)
        transformed = transform(other, document, rdfc, kind=key.kind)
    data = hash_data(transformed, config, kind=key.kind)
    signature = serialize_proof(cryptosuite(fmt), data, signer_for(key))
    proof = {**options, "proofValue": multibase_encode(signature, "z")}
    if suite.transformation == "jcs":
        proof["@context"] = document["@context"]
    result = AT.verify({**document, "proof": proof})
    assert result.codes == ("INVALID_SIGNATURE",)


# -- held: the proof's own @context (JCS) ----------------------------------------------------


def _with_examples(fmt: str) -> dict[str, Any]:
    key = SUITE_KEYS[fmt]
    document = credential(issuer=did_key(key.public))
    document["@context"] = [*document["@context"], EXAMPLES]
    document["credentialSubject"]["alumniOf"] = "The School of Examples"
    secured = issue(document, key, format=fmt, now=NOW)
    assert isinstance(secured, dict)
    return secured


@pytest.mark.parametrize("fmt", ["eddsa-jcs-2022", "ecdsa-jcs-2019"])
def test_a_jcs_proof_vouches_for_the_context_it_signed_and_no_other(fmt: str) -> None:
    """vc-di-eddsa / vc-di-ecdsa §3.3.2: the document's ``@context`` must start with the
    proof's; a context appended after signing verifies, and is not what the caller reads."""
    secured = _with_examples(fmt)
    signed = secured["proof"]["@context"]
    assert signed == secured["@context"]
    appended = copy.deepcopy(secured)
    appended["@context"] = [*signed, "https://w3id.org/security/data-integrity/v2"]
    result = AT.verify(appended)
    assert result.verified, result.errors
    assert result.credential is not None and result.credential["@context"] == signed

    def changed(change: Any) -> tuple[str, ...]:
        document = copy.deepcopy(secured)
        change(document)
        outcome = AT.verify(document)
        assert outcome.credential is None
        return outcome.codes

    # the document's context no longer starts with the proof's
    assert changed(lambda d: d.update({"@context": d["@context"][:1]})) == ("INVALID_PROOF",)
    assert changed(lambda d: d["@context"].reverse()) == ("INVALID_PROOF",)
    assert changed(lambda d: d["proof"].update({"@context": EXAMPLES})) == ("INVALID_PROOF",)
    # the proof's context is signed: shortened or removed, the signature fails
    assert changed(lambda d: d["proof"].update({"@context": d["@context"][:1]})) == (
        "INVALID_SIGNATURE",
    )
    assert changed(lambda d: d["proof"].pop("@context")) == ("INVALID_SIGNATURE",)


# -- held: the proof purpose and the verification relationship -------------------------------


def test_a_key_is_used_only_for_the_relationships_its_did_lists_it_under() -> None:
    """§4.4 step 4 and Controlled Identifiers §3.3: an assertion proof by a key listed only
    under ``authentication``, an authentication proof by a key listed only under
    ``assertionMethod`` (a retired key), and a proof purpose of another relationship."""
    did = "did:web:customs.example"
    current, retired = KEYS["ed25519"], KEYS["p256"]
    document = did_web_document(did, [current.public], retired=[retired.public])
    listed_for_auth = copy.deepcopy(document)
    listed_for_auth["assertionMethod"] = [
        m for m in listed_for_auth["assertionMethod"] if not m.endswith(current.public.multikey())
    ]
    assert any(m.endswith(retired.public.multikey()) for m in document["assertionMethod"])
    assert not any(m.endswith(retired.public.multikey()) for m in document["authentication"])

    def verifier(doc: dict[str, Any]) -> Verifier:
        return dataclasses.replace(AT, fetcher=_DidWebFetcher({did: doc}))

    issued = {**credential(), "issuer": did}
    assertion = add_proof(issued, signer_for(current, did=did))
    assert verifier(document).verify(assertion).verified
    refused = verifier(listed_for_auth).verify(assertion)
    assert refused.codes == ("UNKNOWN_KEY",)
    assert refused.errors[0].path == "/proof/verificationMethod"

    by_retired = present(
        [], signer_for(retired, did=did), challenge="c", format="data-integrity", now=NOW
    )
    presented = verifier(document).verify_presentation(by_retired, challenge="c")
    assert "UNKNOWN_KEY" in presented.codes and not presented.verified

    for purpose in ("capabilityInvocation", "capabilityDelegation", "keyAgreement"):
        other = add_proof(issued, signer_for(current, did=did), purpose=purpose)
        result = verifier(document).verify(other)
        assert result.codes == ("INVALID_PROOF",)
        assert result.errors[0].path == "/proof/proofPurpose"


# -- held: presentations ----------------------------------------------------------------------

HOLDER = KEYS["ed25519"]


def _held_credential() -> dict[str, Any]:
    issuer = KEYS["p384"]
    document = credential(
        issuer=did_key(issuer.public), credentialSubject={"id": did_key(HOLDER.public)}
    )
    secured = issue(document, issuer, format="ecdsa-rdfc-2019", now=NOW)
    assert isinstance(secured, dict)
    return secured


HELD = _held_credential()


@pytest.mark.parametrize("fmt", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_a_presentation_proof_binds_its_domain_set_its_challenge_and_its_credentials(
    fmt: str,
) -> None:
    """A ``domain`` array (VC DI §2.1) is bound to each domain it lists and to no other; two
    proofs of the holder over other challenges do not agree on one; a credential swapped
    for another of the same holder, or added, breaks the presentation's signature."""
    unsigned = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": did_key(HOLDER.public),
        "verifiableCredential": [HELD],
    }
    holder = signer_for(HOLDER)

    def signed(**options: Any) -> dict[str, Any]:
        return add_proof(
            unsigned,
            holder,
            suite=fmt,
            purpose="authentication",
            created=NOW,
            expires=NOW + timedelta(minutes=5),
            **options,
        )

    both = signed(challenge="c", domain=["a.example", "b.example"])
    for domain in ("a.example", "b.example"):
        result = AT.verify_presentation(both, challenge="c", domain=domain)
        assert result.verified, result.errors
    assert AT.verify_presentation(both, challenge="c", domain="c.example").codes == (
        "INVALID_DOMAIN",
    )

    first = signed(challenge="c", domain="a.example")
    second = add_proof(
        first,
        holder,
        suite=fmt,
        purpose="authentication",
        created=NOW,
        challenge="other",
        domain="a.example",
    )
    assert AT.verify_presentation(second, challenge="c", domain="a.example").codes == (
        "INVALID_CHALLENGE",
    )

    other = _held_credential()
    for credentials in ([other], [HELD, other]):
        swapped = {**copy.deepcopy(first), "verifiableCredential": credentials}
        result = AT.verify_presentation(swapped, challenge="c", domain="a.example")
        assert not result.verified and result.presentation is None
        assert result.errors[0].code == "INVALID_SIGNATURE"


# -- held: any value of any proof member ------------------------------------------------------

_MEMBERS = st.sampled_from(
    ["type", "cryptosuite", "created", "expires", "verificationMethod", "proofPurpose",
     "previousProof", "id", "domain", "challenge", "proofValue", "@context"]
)  # fmt: skip
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text(max_size=8)
    | st.sampled_from(
        [
            "urn:uuid:p1",
            "DataIntegrityProof",
            "eddsa-jcs-2022",
            "authentication",
            "#key",
            "2026-06-01T12:00:00+14:00",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59-14:00",
            "z",
            "u",
            did_key(KEYS["ed25519"].public),
        ]
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=5,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(FORMATS),
    index=st.integers(0, 2),
    changes=st.dictionaries(_MEMBERS, _VALUES, min_size=1, max_size=3),
    presented=st.booleans(),
)
def test_no_value_of_a_proof_member_makes_verify_raise_or_pass(
    fmt: str, index: int, changes: dict[str, Any], presented: bool
) -> None:
    """Any JSON value in place of any member of any proof of a chain: a typed failure (or the
    very same proof), never an exception, alone or inside a presentation. An RDFC proof's own
    ``@context`` is in no configuration (§13.24): in the document of the proofs that follow it,
    it may leave their dataset as it was (``[]``), and the credential read is the genuine one."""
    document = copy.deepcopy(CHAINS[fmt])
    document["proof"][index].update(changes)
    read = copy.deepcopy(document)
    if SUITES[fmt].transformation == "rdfc":
        read["proof"][index].pop("@context", None)
    unchanged = read == CHAINS[fmt]
    if presented:
        vp = present([document], HOLDER, challenge="c", format="eddsa-jcs-2022", now=NOW)
        outcome = AT.verify_presentation(vp, challenge="c").credentials[0]
    else:
        outcome = AT.verify(document)
    if document == CHAINS[fmt] or not unchanged:
        assert outcome.verified is unchanged, (changes, outcome.errors)
    if outcome.verified:
        assert outcome.credential == AT.verify(CHAINS[fmt]).credential
    else:
        assert outcome.credential is None and outcome.codes
