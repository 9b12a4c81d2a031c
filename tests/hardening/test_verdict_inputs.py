"""Attacks on the verdict path (docs/security.md §13.2): what nobody signed — an envelope's
outer members, a repeated disclosure, another spelling of a trusted issuer's DID — never
changes a verdict, the issuer named, or the credential shown to an officer."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from tests.hardening.test_trust_fail_closed import EU_DID, EU_KEY, TRUST, VERIFIER, certificate
from vcred import issue
from vcred.issuing import signer_for
from vcred.jose import sign_compact, unverified_payload
from vcred.keys import KeyPair
from vcred.presentation import envelope, present


def test_an_envelopes_outer_members_are_not_read() -> None:
    """An EnvelopedVerifiableCredential signs only its data: URL; members beside it claiming
    another subject, issuer or an expiry are nobody's statement."""
    token = str(issue(certificate(), EU_KEY))
    plain = VERIFIER.verify(envelope(token))
    assert plain.verified, plain.errors
    dressed = {
        **envelope(token),
        "issuer": "did:web:elsewhere.example",
        "validUntil": "2020-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:someone-else", "legalName": "Someone Else"},
    }
    result = VERIFIER.verify(dressed)
    assert result.verified, result.errors
    assert result.issuer == EU_DID
    assert result.credential == plain.credential
    assert result.trust is not None and result.trust.as_dict() == plain.trust.as_dict()


def test_a_repeated_disclosure_is_refused() -> None:
    """RFC 9901 §7.1: a disclosure given twice (to show a claim twice, or to count twice) is
    refused, not read once."""
    credential = certificate()
    secured = str(
        issue(credential, EU_KEY, format="vc+sd-jwt", disclosable=["/credentialSubject/legalName"])
    )
    jwt, disclosure, *rest = secured.split("~")
    result = VERIFIER.verify("~".join([jwt, disclosure, disclosure, *rest]))
    assert not result.verified
    assert result.codes == ("MALFORMED",)
    assert result.credential is None


def _spellings(did: str) -> list[Any]:
    """Each spelling with a fixed test id: the DID is a fresh key's, and the ids must be the
    same in every process of a parallel run."""
    method, _, key = did.rpartition(":")
    spellings = {
        "upper case": did.upper(),  # the method-specific id is case-sensitive (base58)
        "swapped case": f"{method}:{key.swapcase()}",
        "trailing slash": did + "/",
        "DID URL": did + "#" + key,  # a DID URL names a key, not the issuer
        "query": did + "?versionId=1",
        "percent-encoded": did.replace(":", "%3A", 2),
        "invisible character": f"{method}:{unicodedata.normalize('NFKD', key)}\u200b",
        "leading space": " " + did,
        "object with another id": {"id": did + "/"},
    }
    return [pytest.param(value, id=name) for name, value in spellings.items()]


@pytest.mark.parametrize("spelling", _spellings(EU_DID))
def test_another_spelling_of_a_trusted_issuer_is_not_trusted(spelling: Any) -> None:
    """The list names its issuers exactly; a spelling that might resolve to the same party is
    another identifier, and untrusted (the issuer binding refuses it too)."""
    credential = certificate()
    credential["issuer"] = spelling
    decision = TRUST.evaluate_credential(credential, now=VERIFIER.now())
    assert not decision.trusted
    assert decision.code in ("UNTRUSTED_ISSUER", "TRUST_INPUT_UNESTABLISHED")


MALFORMED_DATES = {
    "text": "yesterday",
    "huge float": 1e300,
    "huge integer": 10**20,
    "boolean": True,
    "null": None,
    "array": [1],
}


@pytest.mark.parametrize("value", MALFORMED_DATES.values(), ids=MALFORMED_DATES.keys())
def test_a_jwt_whose_iat_is_no_numeric_date_is_refused(value: Any) -> None:
    """RFC 7519 §4.1.6: ``iat`` is a NumericDate. It dates the signature when a key's
    revocation is weighed, so one nobody can read is malformed, not passed over (such a
    vc+jwt and VP JWT verified before)."""
    signer = signer_for(EU_KEY)
    token = sign_compact({**certificate(), "iat": value}, signer, typ="vc+jwt", cty="vc")
    result = VERIFIER.verify(token)
    assert not result.verified
    assert result.codes == ("MALFORMED",)
    assert result.check("validity") is not None and result.check("validity").passed is False

    holder = KeyPair.generate("ed25519")
    vp = present([], holder, challenge="c" * 22, domain="d")
    claims = {**unverified_payload(vp), "iat": value}
    forged = sign_compact(claims, signer_for(holder), typ="vp+jwt", cty="vp")
    presented = VERIFIER.verify_presentation(forged, challenge="c" * 22, domain="d")
    assert not presented.verified
    assert "MALFORMED" in presented.codes
