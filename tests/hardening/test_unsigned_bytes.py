"""What no signature covers never steers a verdict (docs/security.md §13.24).

The attacker holds a genuine credential of a trusted issuer and changes, adds or removes
bytes no signature covers, in each format: an envelope's members beside its ``data:`` URL,
COSE unprotected headers, SD-JWT disclosures (one matching no digest, one given twice, their
order), a Data Integrity proof's members outside its proof configuration, a junk proof in a
set, an unsecured presentation's members. Each mutation either leaves the verdict, the issuer
and the returned credential exactly those of the genuine input, or is refused and returns
nothing; ``verify()`` raises nothing. The RDFC suites sign the dataset, not the JSON: JSON
that writes the same dataset otherwise verifies, and what it says is read as signed (trust)
and names the same certificate (recognitions).
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import cbor2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening.test_trust_fail_closed import EU_DID, EU_KEY, VERIFIER, certificate
from tests.verifier.conftest import NOW
from vcred import Verifier, did_key, issue, present
from vcred.integrity import derive
from vcred.issuing import as_signer
from vcred.jose import sign_compact
from vcred.jsonld import default_loader
from vcred.keys import KeyPair
from vcred.multibase import b64url_encode
from vcred.presentation import envelope
from vcred.sdjwt import digest
from vcred.sdjwt import present as present_sd_jwt
from vcred.verifier import PresentationResult, VerificationResult
from verifier_app.recognitions import certificate_digest

HOLDER = KeyPair.generate("ed25519")
HOLDER_DID = did_key(HOLDER.public)


def _held() -> dict[str, Any]:
    """The trusted AEO certificate, about the holder (so a presentation binds it)."""
    document = certificate()
    document["credentialSubject"]["id"] = HOLDER_DID
    return document


CREDENTIAL = _held()
JWT = str(issue(CREDENTIAL, EU_KEY, format="vc+jwt", now=NOW))
SD_JWT = str(
    issue(
        CREDENTIAL,
        EU_KEY,
        format="vc+sd-jwt",
        now=NOW,
        disclosable=["/credentialSubject/legalName", "/credentialSubject/identifier/*"],
        holder=HOLDER,
    )
)
COSE = bytes(issue(CREDENTIAL, EU_KEY, format="vc+cose", now=NOW))
RDFC = issue(CREDENTIAL, EU_KEY, format="eddsa-rdfc-2022", now=NOW)
JCS = issue(CREDENTIAL, EU_KEY, format="eddsa-jcs-2022", now=NOW)
GENUINE: dict[str, Any] = {
    "vc+jwt": JWT,
    "vc+sd-jwt": SD_JWT,
    "vc+cose": COSE,
    "eddsa-rdfc-2022": RDFC,
    "eddsa-jcs-2022": JCS,
}
BASE = {name: VERIFIER.verify(secured) for name, secured in GENUINE.items()}

#: Any JSON value an attacker may put where nobody reads (numbers a double holds).
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
SETTINGS = settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])


def _as_genuine_or_refused(result: VerificationResult, base: VerificationResult) -> None:
    """The verdict and everything a consumer reads are the genuine input's, or it is refused
    and nothing of it is returned."""
    assert base.verified, base.errors
    if result.verified:
        assert result.issuer == base.issuer == EU_DID
        assert result.credential == base.credential
        assert result.disclosed == base.disclosed
        assert result.trust is not None and base.trust is not None
        assert result.trust.as_dict() == base.trust.as_dict()
    else:
        assert result.credential is None, result.errors
        assert result.errors


def test_the_genuine_inputs_verify_and_are_trusted() -> None:
    for name, result in BASE.items():
        assert result.verified, (name, result.errors)
        assert result.trust is not None and result.trust.as_dict()["trusted"], name


@SETTINGS
@given(
    fmt=st.sampled_from(["vc+jwt", "vc+sd-jwt", "vc+cose"]),
    name=st.text(min_size=1, max_size=12).filter(lambda n: n not in ("@context", "id", "type")),
    value=JSON_VALUES,
)
def test_members_beside_an_envelopes_data_url_are_read_by_nobody(
    fmt: str, name: str, value: Any
) -> None:
    """VCDM 2.0 §4.13: an EnvelopedVerifiableCredential's data is its ``id``; a member beside
    it (a subject, an issuer, an expiry, anything) is nobody's statement."""
    dressed = {**envelope(GENUINE[fmt]), name: value}
    _as_genuine_or_refused(VERIFIER.verify(dressed), BASE[fmt])


def test_named_members_beside_an_envelope_change_nothing() -> None:
    for fmt in ("vc+jwt", "vc+sd-jwt", "vc+cose"):
        dressed = {
            **envelope(GENUINE[fmt]),
            "issuer": "did:example:elsewhere",
            "validUntil": "2020-01-01T00:00:00Z",
            "credentialStatus": {"type": "BitstringStatusListEntry"},
            "credentialSubject": {"id": "did:example:someone-else"},
            "proof": {"type": "DataIntegrityProof"},
        }
        result = VERIFIER.verify(dressed)
        assert result.verified, (fmt, result.errors)
        _as_genuine_or_refused(result, BASE[fmt])


_LABELS = st.integers(min_value=-(2**16), max_value=2**16) | st.text(max_size=8)
_CBOR_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats()
    | st.text(max_size=12)
    | st.binary(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_LABELS, inner, max_size=3),
    max_leaves=8,
)


@SETTINGS
@given(label=_LABELS, value=_CBOR_VALUES)
def test_a_cose_unprotected_header_is_read_by_nobody(label: Any, value: Any) -> None:
    """RFC 9052 §3: the unprotected bucket is outside the signature; what the verifier reads
    (alg, kid, typ, content type, CWT claims) is refused there, the rest ignored."""
    protected, _, payload, signature = cbor2.loads(COSE).value
    message = cbor2.dumps(cbor2.CBORTag(18, [protected, {label: value}, payload, signature]))
    _as_genuine_or_refused(VERIFIER.verify(message), BASE["vc+cose"])
    _as_genuine_or_refused(VERIFIER.verify(envelope(message)), BASE["vc+cose"])


@SETTINGS
@given(salt=st.text(max_size=8), name=st.text(max_size=8), value=JSON_VALUES)
def test_a_disclosure_no_digest_names_is_refused(salt: str, name: str, value: Any) -> None:
    """RFC 9901 §7.1: a disclosure whose digest the issuer did not sign is refused, never read
    — as an object property or as an array element."""
    jwt, *disclosures = SD_JWT.split("~")
    for items in ([salt, name, value], [salt, value]):
        forged = b64url_encode(json.dumps(items, ensure_ascii=False).encode("utf-8"))
        token = "~".join([jwt, *disclosures[:-1], forged, ""])
        result = VERIFIER.verify(token)
        assert not result.verified and result.credential is None


def test_disclosures_in_any_order_or_some_withheld_read_as_signed() -> None:
    """The order of disclosures is no statement: the claims are the issuer's ``_sd`` order.
    Each disclosure given twice is refused."""
    jwt, *disclosures, last = SD_JWT.split("~")
    assert last == "" and disclosures
    rng = random.Random(7)
    for _ in range(5):
        shuffled = disclosures[:]
        rng.shuffle(shuffled)
        result = VERIFIER.verify("~".join([jwt, *shuffled, ""]))
        _as_genuine_or_refused(result, BASE["vc+sd-jwt"])
        assert result.verified
    for repeated in disclosures:
        result = VERIFIER.verify("~".join([jwt, *disclosures, repeated, ""]))
        assert not result.verified and result.credential is None


def test_a_key_binding_jwt_appended_to_a_credential_is_checked_not_ignored() -> None:
    """An SD-JWT given as a credential with a key-binding JWT by another key, or a junk one,
    is refused: what follows the last ``~`` is no padding."""
    other = KeyPair.generate("ed25519")
    claims = {"nonce": "n", "aud": "a", "iat": 0, "sd_hash": "x"}
    junk = sign_compact(claims, as_signer(other), typ="kb+jwt")
    for tail in (junk, "e30.e30.", "e30.e30.AAAA"):
        result = VERIFIER.verify(SD_JWT + tail)
        assert not result.verified and result.credential is None


@SETTINGS
@given(value=JSON_VALUES)
def test_a_proofs_context_outside_its_configuration_is_read_by_nobody(value: Any) -> None:
    """An RDFC proof's configuration takes the document's ``@context``: one in the proof is
    signed by nobody, and never read."""
    document = copy.deepcopy(RDFC)
    document["proof"]["@context"] = value
    _as_genuine_or_refused(VERIFIER.verify(document), BASE["eddsa-rdfc-2022"])


@SETTINGS
@given(name=st.text(min_size=1, max_size=12), value=JSON_VALUES)
def test_any_member_added_to_a_proof_is_signed_or_refused(name: str, value: Any) -> None:
    """A proof member outside the configuration that was signed (``previousProof``,
    ``expires``, a term, an unknown name) fails the proof or the context stage."""
    for fmt in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
        document = copy.deepcopy(GENUINE[fmt])
        if name in document["proof"] or (fmt == "eddsa-rdfc-2022" and name == "@context"):
            continue
        document["proof"][name] = value
        _as_genuine_or_refused(VERIFIER.verify(document), BASE[fmt])


@SETTINGS
@given(junk=st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=6) | JSON_VALUES)
def test_a_junk_proof_beside_a_valid_one_fails_the_set(junk: Any) -> None:
    """VC Data Integrity §4.5: every proof of a set verifies, or the document does not."""
    for fmt in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
        document = copy.deepcopy(GENUINE[fmt])
        document["proof"] = [document["proof"], junk]
        result = VERIFIER.verify(document)
        assert not result.verified and result.credential is None


def test_rdfc_json_of_the_same_dataset_reads_as_signed_and_names_the_same_certificate() -> None:
    """JSON the RDFC signature does not fix — array order, a value as an array of one —
    verifies; trust reads it as signed, and a recognition names it by its dataset."""
    base = BASE["eddsa-rdfc-2022"]
    loader = default_loader()
    rewritten = copy.deepcopy(RDFC)
    rewritten["type"] = list(reversed(rewritten["type"]))
    rewritten["credentialSubject"] = [rewritten["credentialSubject"]]
    result = VERIFIER.verify(rewritten)
    assert result.verified, result.errors
    assert result.credential != base.credential  # other JSON …
    assert result.trust is not None and base.trust is not None
    assert result.trust.as_dict() == base.trust.as_dict()  # … read as signed
    named = certificate_digest(rewritten, result, loader=loader)
    assert named == certificate_digest(RDFC, base, loader=loader)
    assert certificate_digest(JCS, BASE["eddsa-jcs-2022"], loader=loader) == named  # one dataset


def _presented(result: PresentationResult) -> list[Any]:
    return [(r.verified, r.credential, r.issuer) for r in result.credentials]


@SETTINGS
@given(
    name=st.text(min_size=1, max_size=12).filter(lambda n: n not in ("@context", "id", "type")),
    value=JSON_VALUES,
)
def test_members_beside_an_enveloped_presentation_are_read_by_nobody(name: str, value: Any) -> None:
    """An EnvelopedVerifiablePresentation's members beside its ``data:`` URL (another holder,
    other credentials) are nobody's statement."""
    vp = str(present([JWT], HOLDER, challenge="c-1", domain="d.example", now=NOW))
    wrapper = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": f"data:application/vp+jwt,{vp}",
        "type": "EnvelopedVerifiablePresentation",
    }
    base = VERIFIER.verify_presentation(wrapper, challenge="c-1", domain="d.example")
    assert base.verified, base.errors
    result = VERIFIER.verify_presentation(
        {**wrapper, name: value}, challenge="c-1", domain="d.example"
    )
    if result.verified:
        assert result.holder == base.holder == HOLDER_DID
        assert result.presentation == base.presentation
        assert _presented(result) == _presented(base)
    else:
        assert result.presentation is None and result.errors


def test_a_key_binding_jwt_says_nothing_beyond_its_binding() -> None:
    """Members a holder adds to its key-binding JWT (a holder, a credential, a cnf) are not
    read: the presented credential and its presenter are the SD-JWT's."""
    plain = present_sd_jwt(SD_JWT, HOLDER, nonce="c-2", aud="d.example", now=NOW)
    base = VERIFIER.verify_presentation(plain, challenge="c-2", domain="d.example")
    assert base.verified, base.errors
    sd_jwt = plain.rsplit("~", 1)[0] + "~"
    binding = {
        "iat": int(NOW.timestamp()),
        "aud": "d.example",
        "nonce": "c-2",
        "sd_hash": digest(sd_jwt),
        "holder": "did:example:someone-else",
        "vc": {"credentialSubject": {"id": "did:example:someone-else"}},
        "cnf": {"jwk": KeyPair.generate("ed25519").public.jwk()},
    }
    dressed = sd_jwt + sign_compact(binding, as_signer(HOLDER), typ="kb+jwt")
    result = VERIFIER.verify_presentation(dressed, challenge="c-2", domain="d.example")
    assert result.verified, result.errors
    assert result.holder == base.holder
    assert _presented(result) == _presented(base)


def test_an_ecdsa_sd_certificate_derived_otherwise_names_the_same_certificate() -> None:
    """ecdsa-sd-2023: the holder chooses what a derived credential reveals, and no signature
    stops a statement from being left out. What names the certificate is what its base
    signature signs (the proof options, the proof-scoped key, the mandatory statements):
    every derivation the same, another issuance another."""
    issuer = KeyPair.generate("p256")
    document = copy.deepcopy(CREDENTIAL)
    document["issuer"] = did_key(issuer.public)
    base = issue(document, issuer, format="ecdsa-sd-2023", now=NOW)
    verifier = Verifier(clock=lambda: NOW)
    loader = default_loader()
    names = set()
    subject = "/credentialSubject"
    for pointers in ([subject], [f"{subject}/legalName"], [f"{subject}/country"]):
        derived = derive(base, pointers)
        result = verifier.verify(derived)
        assert result.verified, (pointers, result.errors)
        names.add(certificate_digest(derived, result, loader=loader))
    assert len(names) == 1 and None not in names
    again = derive(issue(document, issuer, format="ecdsa-sd-2023", now=NOW), [subject])
    assert certificate_digest(again, verifier.verify(again), loader=loader) not in names


def test_a_subject_id_written_as_the_keyword_no_longer_hides_a_subject_from_the_holder_check() -> (
    None
):
    """§13.3: every subject DID of a presented credential must be the presenter. The VCDM
    context makes ``id`` the alias of ``@id``: a subject written ``{"@id": …}`` is the same
    dataset (an RDFC proof still verifies), but the holder check reads ``id`` — a credential
    about the holder and another party was presented by the holder alone. JSON-LD compaction
    never writes a keyword the context aliases, so it is refused where a term stands for it."""
    issuer = KeyPair.generate("ed25519")
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did_key(issuer.public),
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": [
            {"id": HOLDER_DID, "name": "Harbour Lights Trading"},
            {"id": "did:example:partner", "name": "Partner Freight"},
        ],
    }
    secured = issue(document, issuer, format="eddsa-rdfc-2022", now=NOW)
    verifier = Verifier(clock=lambda: NOW)

    def shown(credential: dict[str, Any]) -> PresentationResult:
        vp = present([credential], HOLDER, challenge="c-3", domain="d.example", now=NOW)
        return verifier.verify_presentation(vp, challenge="c-3", domain="d.example")

    assert "HOLDER_MISMATCH" in shown(secured).codes
    rewritten = copy.deepcopy(secured)
    other = rewritten["credentialSubject"][1]
    other["@id"] = other.pop("id")
    result = shown(rewritten)
    assert not result.verified
    assert ("INVALID_CONTEXT", "/verifiableCredential/0/credentialSubject/1/@id") in [
        (p.code, p.path) for p in result.errors
    ]


def test_named_proof_members_added_by_the_holder_fail_the_proof() -> None:
    """The members a verifier reads of a proof are in its configuration: a ``previousProof``
    (the proof would chain to one of the holder's), an ``expires`` or ``created`` moved, a
    ``challenge`` or ``domain`` are signed, so adding one breaks the signature."""
    added = {
        "previousProof": "urn:uuid:8d2f5a3e-0000-4000-8000-000000000001",
        "expires": "2099-01-01T00:00:00Z",
        "challenge": "c-4",
        "domain": "d.example",
        "nonce": "n-4",
        "id": "urn:uuid:8d2f5a3e-0000-4000-8000-000000000002",
    }
    for fmt in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
        for name, value in added.items():
            document = copy.deepcopy(GENUINE[fmt])
            document["proof"][name] = value
            result = VERIFIER.verify(document)
            assert not result.verified and result.credential is None, (fmt, name)


def test_a_jws_json_serialization_with_an_unprotected_header_is_no_credential() -> None:
    """RFC 7515 §7.2: the JSON serialization carries an unprotected ``header``; only the
    compact form is read, so nothing of an unprotected header can be."""
    protected, payload, signature = JWT.split(".")
    for form in (
        {
            "protected": protected,
            "header": {"kid": EU_DID},
            "payload": payload,
            "signature": signature,
        },
        {"payload": payload, "signatures": [{"protected": protected, "signature": signature}]},
    ):
        result = VERIFIER.verify(form)
        assert not result.verified and result.credential is None
        assert result.codes == ("MALFORMED",)


_KEYWORDS = st.sampled_from(
    ["@id", "@type", "@context", "@value", "@list", "@set", "@nest", "@graph", "@included",
     "@reverse", "@index", "@language", "@vocab", "@base", "@json", "@none"]
)  # fmt: skip


def _objects(value: Any) -> list[dict[str, Any]]:
    """Every JSON object of ``value``, the top level first."""
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _terms(value: Any) -> Any:
    """``value`` without its keyword members, which no check reads by name (``@index`` says
    nothing in RDF; a nested ``"@context": []`` changes no term): what the checks read."""
    if isinstance(value, dict):
        return {k: _terms(v) for k, v in value.items() if k[:1] != "@"}
    if isinstance(value, list):
        return [_terms(item) for item in value]
    return value


@SETTINGS
@given(
    fmt=st.sampled_from(["eddsa-rdfc-2022", "eddsa-jcs-2022"]),
    where=st.integers(min_value=0, max_value=50),
    keyword=_KEYWORDS,
    value=JSON_VALUES,
)
def test_a_json_ld_keyword_written_anywhere_is_read_as_signed_or_refused(
    fmt: str, where: int, keyword: str, value: Any
) -> None:
    # the invariant behind §13.24's @id finding: a keyword the attacker writes into any
    # object of a signed Data Integrity credential never raises, and never changes a member
    # a check reads by its term while the proof still verifies
    secured = copy.deepcopy(GENUINE[fmt])
    objects = [o for o in _objects(secured) if o is not secured.get("proof")]
    objects[where % len(objects)][keyword] = value
    result = VERIFIER.verify(secured)
    base = BASE[fmt]
    if result.verified:
        assert result.issuer == base.issuer == EU_DID
        assert _terms(result.credential) == _terms(base.credential)
        assert result.trust is not None and base.trust is not None
        assert result.trust.as_dict() == base.trust.as_dict()
    else:
        assert result.credential is None and result.errors
