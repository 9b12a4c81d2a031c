"""vcred.openid4vp: DCQL (§6), claims path pointers (§7), the signed request object (§5) as a
wallet reads it, and the VP Token checked against the query (§8.1) — each refusal named."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import billing_attestation
from vcred import did_key, issue, openid4vp, sdjwt
from vcred.customs.builders import build_aeo_certificate
from vcred.customs.samples import TRADERS
from vcred.did import Resolver
from vcred.errors import (
    CryptographicError,
    DomainError,
    MalformedError,
    PresentationError,
    UnknownKeyError,
    UnsupportedError,
    UsageError,
)
from vcred.issuing import signer_for
from vcred.jose import sign_compact
from vcred.keys import KeyPair
from vcred.multibase import b64url_encode
from vcred.verifier import Check, PresentationResult, VerificationResult, Verifier

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
RESPONSE_URI = "https://verifier.example/oid4vp/responses/1"


@pytest.fixture(scope="module")
def verifier_key() -> KeyPair:
    return KeyPair.generate("ed25519")


def new_request(key: KeyPair) -> openid4vp.AuthorizationRequest:
    return openid4vp.AuthorizationRequest.new(
        did=did_key(key.public),
        response_uri=RESPONSE_URI,
        dcql_query=openid4vp.aeo_certificate_query(),
    )


def signed(key: KeyPair, payload: dict[str, Any], *, typ: str = openid4vp.REQUEST_TYP) -> str:
    return sign_compact(payload, signer_for(key, did=did_key(key.public)), typ=typ)


def valid_claims(key: KeyPair, **change: Any) -> dict[str, Any]:
    """A request object's claims as sign_request writes them (aud, iat, exp), changed."""
    issued = int(NOW.timestamp())
    claims = {
        **new_request(key).claims(),
        "aud": openid4vp.STATIC_AUDIENCE,
        "iat": issued,
        "exp": issued + 60,
        **change,
    }
    return {name: value for name, value in claims.items() if value is not None}


# -- DCQL ---------------------------------------------------------------------------------------


def test_the_built_in_queries_are_valid_dcql() -> None:
    openid4vp.check_dcql(openid4vp.aeo_certificate_query())
    query = openid4vp.billing_attestation_query(
        [["credentialSubject", "lineItems", None, "hsCode"]]
    )
    openid4vp.check_dcql(query)
    assert query["credentials"][0]["claims"] == [
        {"path": ["credentialSubject", "lineItems", None, "hsCode"]}
    ]


@pytest.mark.parametrize(
    ("query", "pointer"),
    [
        ({}, "/credentials"),
        ({"credentials": []}, "/credentials"),
        ({"credentials": [{"id": "a b", "format": "vc+sd-jwt", "meta": {}}]}, "/credentials/0/id"),
        (
            {
                "credentials": [
                    {"id": "a", "format": "vc+sd-jwt", "meta": {}},
                    {"id": "a", "format": "vc+sd-jwt", "meta": {}},
                ]
            },
            "/credentials/1/id",
        ),
        ({"credentials": [{"id": "a", "format": "vc+sd-jwt"}]}, "/credentials/0/meta"),
        (
            {
                "credentials": [
                    {"id": "a", "format": "vc+sd-jwt", "meta": {}, "claims": [{"path": []}]}
                ]
            },
            "/credentials/0/claims/0/path",
        ),
        (
            {
                "credentials": [
                    {"id": "a", "format": "vc+sd-jwt", "meta": {}, "claims": [{"path": [-1]}]}
                ]
            },
            "/credentials/0/claims/0/path",
        ),
        (
            {
                "credentials": [{"id": "a", "format": "vc+sd-jwt", "meta": {}}],
                "credential_sets": [{"options": [["b"]]}],
            },
            "/credential_sets/0/options",
        ),
    ],
)
def test_malformed_dcql_is_refused_where_it_breaks(query: Any, pointer: str) -> None:
    with pytest.raises(MalformedError) as caught:
        openid4vp.check_dcql(query)
    assert caught.value.pointer == pointer


def test_a_format_not_handled_is_refused() -> None:
    with pytest.raises(UnsupportedError):
        openid4vp.check_dcql({"credentials": [{"id": "a", "format": "mso_mdoc", "meta": {}}]})


def test_claims_path_pointers_select_as_section_7_says() -> None:
    document = {"a": {"b": [{"c": 1}, {"c": 2}, {"d": 3}]}, "n": None}
    assert openid4vp.select_claims(document, ["a", "b", None, "c"]) == [1, 2]
    assert openid4vp.select_claims(document, ["a", "b", 1]) == [{"c": 2}]
    assert openid4vp.select_claims(document, ["a", "b", 7]) == []
    assert openid4vp.select_claims(document, ["missing"]) == []
    for wrong in (["a", None], ["a", "b", "c"], ["a", 0]):
        with pytest.raises(MalformedError):
            openid4vp.select_claims(document, wrong)


# -- the request object, as the wallet reads it ---------------------------------------------


def test_a_signed_request_reads_back(verifier_key: KeyPair) -> None:
    request = new_request(verifier_key)
    token = openid4vp.sign_request(
        request, signer_for(verifier_key, did=did_key(verifier_key.public)), now=NOW
    )
    read = openid4vp.read_request(token, resolver=Resolver(), now=NOW)
    assert read == request
    assert read.client_id == "decentralized_identifier:" + did_key(verifier_key.public)


def test_a_request_signed_by_another_key_of_no_such_did_is_refused(verifier_key: KeyPair) -> None:
    other = KeyPair.generate("ed25519")
    claims = valid_claims(verifier_key)
    # signed by another DID's key but naming the verifier as client: the kid is not its
    with pytest.raises(UnknownKeyError):
        openid4vp.read_request(signed(other, claims), resolver=Resolver(), now=NOW)
    token = signed(verifier_key, claims)
    head, _, signature = token.split(".")
    tampered = {**claims, "response_uri": "https://attacker.example/collect"}
    forged = f"{head}.{b64url_encode(json.dumps(tampered).encode())}.{signature}"
    with pytest.raises(CryptographicError):
        openid4vp.read_request(forged, resolver=Resolver(), now=NOW)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"client_id": "redirect_uri:https://verifier.example/cb"}, UnsupportedError),
        ({"response_mode": "fragment"}, UnsupportedError),
        ({"response_type": "code"}, UnsupportedError),
        ({"nonce": ""}, MalformedError),
        ({"redirect_uri": "https://verifier.example/cb"}, MalformedError),
        ({"exp": int(NOW.timestamp()) - 1}, MalformedError),
        ({"dcql_query": {"credentials": []}}, MalformedError),
    ],
)
def test_a_request_the_wallet_must_not_process_is_refused(
    verifier_key: KeyPair, change: dict[str, Any], error: type[Exception]
) -> None:
    claims = valid_claims(verifier_key, **change)
    with pytest.raises(error):
        openid4vp.read_request(signed(verifier_key, claims), resolver=Resolver(), now=NOW)


def test_a_request_object_without_its_typ_is_refused(verifier_key: KeyPair) -> None:
    claims = valid_claims(verifier_key)
    with pytest.raises(MalformedError, match="typ"):
        openid4vp.read_request(
            signed(verifier_key, claims, typ="JWT"), resolver=Resolver(), now=NOW
        )


def test_sign_request_refuses_a_key_of_another_did(verifier_key: KeyPair) -> None:
    other = KeyPair.generate("ed25519")
    with pytest.raises(UsageError, match="client's DID"):
        openid4vp.sign_request(
            new_request(verifier_key), signer_for(other, did=did_key(other.public)), now=NOW
        )


# -- the VP Token against the query -----------------------------------------------------------


def test_the_vp_token_must_match_the_query() -> None:
    query = openid4vp.aeo_certificate_query()
    assert openid4vp.read_vp_token('{"aeo_jwt": ["x.y.z"]}', query) == {"aeo_jwt": ["x.y.z"]}
    refusals = {
        "": MalformedError,
        "[]": MalformedError,
        "{}": MalformedError,
        '{"aeo_jwt": "x.y.z"}': MalformedError,
        '{"aeo_jwt": ["a.b.c", "d.e.f"]}': PresentationError,  # multiple is false
        '{"other": ["a.b.c"]}': PresentationError,
        '{"aeo_jwt": ["a.b.c"], "aeo_jwt": ["d.e.f"]}': MalformedError,  # duplicate members
    }
    for raw, error in refusals.items():
        with pytest.raises(error):
            openid4vp.read_vp_token(raw, query)


def test_a_credential_set_is_answered_by_one_of_its_options() -> None:
    # §6.4.2: a set is satisfied by the Credentials of one option; a certificate as an SD-JWT
    # and another as a JWT (two certificates, perhaps of two tiers) answered "one of these"
    query = openid4vp.aeo_certificate_query()
    both = '{"aeo_sd_jwt": ["a~b~"], "aeo_jwt": ["x.y.z"]}'
    with pytest.raises(PresentationError, match="more than one option") as caught:
        openid4vp.read_vp_token(both, query)
    assert caught.value.pointer == "/vp_token"
    # the option the wallet can satisfy, not only the first
    assert list(openid4vp.read_vp_token('{"aeo_jwt": ["x.y.z"]}', query)) == ["aeo_jwt"]
    # an option holding another is answered whole
    query["credential_sets"] = [{"options": [["aeo_jwt"], ["aeo_jwt", "aeo_sd_jwt"]]}]
    assert len(openid4vp.read_vp_token(both, query)) == 2
    # an optional set may be answered too
    query["credentials"].append({"id": "extra", "format": "vc+sd-jwt", "meta": {}})
    query["credential_sets"].append({"options": [["extra"]], "required": False})
    assert len(openid4vp.read_vp_token('{"aeo_jwt": ["x.y.z"], "extra": ["e~"]}', query)) == 2


def test_many_credential_sets_are_matched_without_trying_every_combination() -> None:
    # 40 sets of the 15 non-empty choices among four queries: 15^40 combinations, where the
    # unions reachable set by set are at most 16
    ids = ["q0", "q1", "q2", "q3"]
    options = [[i for n, i in enumerate(ids) if mask >> n & 1] for mask in range(1, 1 << len(ids))]
    query = {
        "credentials": [{"id": i, "format": "vc+sd-jwt", "meta": {}} for i in ids],
        "credential_sets": [{"options": options} for _ in range(40)],
    }
    assert list(openid4vp.read_vp_token('{"q0": ["a~"], "q2": ["b~"]}', query)) == ["q0", "q2"]
    # one option of one set only: every other set asks for an option (none is optional)
    query["credential_sets"] = [{"options": [["q0"]]}, *[{"options": [["q1"]]}] * 39]
    with pytest.raises(PresentationError, match="more than one option"):
        openid4vp.read_vp_token('{"q0": ["a~"], "q1": ["b~"], "q2": ["c~"]}', query)


def test_a_required_query_left_unanswered_is_refused() -> None:
    query = openid4vp.billing_attestation_query([["credentialSubject", "exporter"]])
    query["credentials"].append({"id": "aeo", "format": "vc+sd-jwt", "meta": {"type_values": []}})
    with pytest.raises(PresentationError, match="do not satisfy"):
        openid4vp.read_vp_token('{"billing": ["a~b~"]}', query)


def _aeo_certificate() -> dict[str, Any]:
    """An AEO certificate's claims as a query reads them (a new dict each call)."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://vcred.dev/ns/customs/v1"],
        "type": ["VerifiableCredential", "AEOCertificateCredential"],
        "credentialSubject": {
            "legalName": "Example Prairie Gadgets, Inc.",
            "identifier": [{"scheme": "CTPAT", "value": "48120"}],
            "certification": {"programme": "US-CTPAT", "tier": "TIER3"},
        },
    }


def test_a_credential_of_another_type_or_without_a_claim_is_refused() -> None:
    entry = openid4vp.aeo_certificate_query()["credentials"][0]
    credential = _aeo_certificate()
    openid4vp.check_credential(credential, entry)
    with pytest.raises(PresentationError, match="type"):
        openid4vp.check_credential({**credential, "type": ["VerifiableCredential"]}, entry)
    # the customs type without the customs context is another (relative) type
    with pytest.raises(PresentationError, match="type"):
        openid4vp.check_credential(
            {**credential, "@context": ["https://www.w3.org/ns/credentials/v2"]}, entry
        )
    partial = json.loads(json.dumps(credential))
    del partial["credentialSubject"]["certification"]["tier"]
    with pytest.raises(PresentationError, match="tier"):
        openid4vp.check_credential(partial, entry)
    # a Presentation: at least one credential, every one as asked
    openid4vp.check_presented(presented("vc+sd-jwt", credential), entry)
    with pytest.raises(PresentationError, match="no credential") as empty:
        openid4vp.check_presented(presented("vc+sd-jwt"), entry)
    assert empty.value.pointer == "/verifiableCredential"
    several = {**entry, "multiple": True}
    with pytest.raises(PresentationError, match="tier") as second:
        openid4vp.check_presented(presented("vc+sd-jwt", credential, partial), several)
    assert second.value.pointer == "/verifiableCredential/1/credentialSubject/certification/tier"


def test_a_presentation_of_several_credentials_answers_only_a_multiple_query() -> None:
    # §6.1 multiple (default false): one Credential for the query — a vp+jwt carrying two
    # answered it with two, though read_vp_token allows only one Presentation
    entry = openid4vp.aeo_certificate_query()["credentials"][1]
    credential = _aeo_certificate()
    two = presented("vp+jwt", credential, credential)
    with pytest.raises(PresentationError, match="one credential") as refused:
        openid4vp.check_presented(two, entry)
    assert refused.value.pointer == "/verifiableCredential"
    openid4vp.check_presented(presented("vp+jwt", credential), entry)
    openid4vp.check_presented(two, {**entry, "multiple": True})


def presented(
    fmt: str, *credentials: dict[str, Any], inner: str | None = None
) -> PresentationResult:
    """A verified Presentation of ``fmt`` presenting ``credentials`` (each of ``inner``, by
    default the format a Presentation of ``fmt`` carries)."""
    inner = inner or {"vp+jwt": "vc+jwt"}.get(fmt, fmt)
    return PresentationResult(
        verified=True,
        format=fmt,
        # bound to the request, as Verifier.verify_presentation reports it
        checks=tuple(
            Check(name=n, passed=True, detail="") for n in ("challenge", "domain", "holder")
        ),
        holder="did:example:holder",
        credentials=tuple(
            VerificationResult(verified=True, format=inner, checks=(), credential=c)
            for c in credentials
        ),
    )


@pytest.mark.parametrize(
    ("query_id", "fmt", "inner"),
    [
        ("aeo_sd_jwt", "vp+jwt", "vc+jwt"),  # a whole credential where a selective one was asked
        ("aeo_sd_jwt", "dc+sd-jwt", "dc+sd-jwt"),
        ("aeo_jwt", "vc+sd-jwt", "vc+sd-jwt"),
        ("aeo_jwt", "data-integrity", "data-integrity"),
        ("aeo_jwt", "vp+jwt", "vc+sd-jwt"),  # the VP JWT as asked, a credential inside not
    ],
)
def test_a_presentation_in_another_format_than_asked_is_refused(
    query_id: str, fmt: str, inner: str
) -> None:
    """§6.1: a Credential Query's ``format`` is the format of what is presented."""
    entry = next(e for e in openid4vp.aeo_certificate_query()["credentials"] if e["id"] == query_id)
    with pytest.raises(PresentationError, match=re.escape(entry["format"])):
        openid4vp.check_presented(presented(fmt, {}, inner=inner), entry)


@pytest.mark.parametrize(
    "aud",
    [
        "https://verifier.example/request/1",  # the request URI (a JS library's default)
        "https://wallet.example",  # another wallet's issuer identifier
        ["https://verifier.example", "https://wallet.example"],
        [],
        42,
    ],
    ids=["request-uri", "another-wallet", "a-list-without-ours", "an-empty-list", "a-number"],
)
def test_a_request_object_for_another_audience_is_refused(verifier_key: KeyPair, aud: Any) -> None:
    """Attack: a request object signed for another wallet (JAR, RFC 9101 §10.2; RFC 7519
    §4.1.3: a JWT whose aud does not name its reader is rejected) was answered here."""
    token = signed(verifier_key, valid_claims(verifier_key, aud=aud))
    with pytest.raises((DomainError, MalformedError)) as refused:
        openid4vp.read_request(token, resolver=Resolver(), now=NOW)
    assert refused.value.pointer == "/payload/aud"


@pytest.mark.parametrize(
    "aud",
    [
        openid4vp.STATIC_AUDIENCE,
        [openid4vp.STATIC_AUDIENCE, "https://verifier.example"],
        None,  # RFC 9101 §4: aud is a SHOULD; absent, it names no other reader either
    ],
    ids=["static", "a-list-with-it", "absent"],
)
def test_a_request_object_for_this_wallet_reads(verifier_key: KeyPair, aud: Any) -> None:
    token = signed(verifier_key, valid_claims(verifier_key, aud=aud))
    assert openid4vp.read_request(token, resolver=Resolver(), now=NOW).nonce


def test_a_wallet_that_published_metadata_takes_its_issuer_identifier_as_aud(
    verifier_key: KeyPair,
) -> None:
    """§5.8: with the Wallet's metadata discovered, aud is the Wallet's issuer identifier."""
    ours = "https://wallet.trader.example"
    token = signed(verifier_key, valid_claims(verifier_key, aud=ours))
    assert openid4vp.read_request(token, resolver=Resolver(), now=NOW, wallet_issuer=ours).nonce
    with pytest.raises(DomainError):
        openid4vp.read_request(token, resolver=Resolver(), now=NOW)
    other = signed(verifier_key, valid_claims(verifier_key, aud="https://wallet.other.example"))
    with pytest.raises(DomainError):
        openid4vp.read_request(other, resolver=Resolver(), now=NOW, wallet_issuer=ours)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"iat": int(NOW.timestamp()) + 3600}, "issued in the future"),
        ({"iat": "yesterday"}, "iat must be a NumericDate"),
        ({"exp": None}, "exp must be a NumericDate"),
        ({"exp": int(NOW.timestamp())}, "expired"),
    ],
    ids=["iat-an-hour-ahead", "iat-not-a-date", "no-exp", "exp-now"],
)
def test_a_request_object_out_of_its_time_is_refused(
    verifier_key: KeyPair, change: dict[str, Any], words: str
) -> None:
    """A request object issued far in the future (a verifier's clock, or one minted to be
    replayed later) or expired is not answered."""
    token = signed(verifier_key, valid_claims(verifier_key, **change))
    with pytest.raises(MalformedError, match=words) as refused:
        openid4vp.read_request(token, resolver=Resolver(), now=NOW)
    assert refused.value.pointer == "/payload/" + next(iter(change))


def test_a_request_object_issued_within_the_clock_skew_reads(verifier_key: KeyPair) -> None:
    token = signed(verifier_key, valid_claims(verifier_key, iat=int(NOW.timestamp()) + 60))
    assert openid4vp.read_request(token, resolver=Resolver(), now=NOW).nonce


def test_the_request_lifetime_bounds_the_request_object(verifier_key: KeyPair) -> None:
    token = openid4vp.sign_request(
        new_request(verifier_key),
        signer_for(verifier_key, did=did_key(verifier_key.public)),
        now=NOW,
        lifetime=timedelta(minutes=2),
    )
    openid4vp.read_request(token, resolver=Resolver(), now=NOW + timedelta(minutes=1))
    with pytest.raises(MalformedError, match="expired"):
        openid4vp.read_request(token, resolver=Resolver(), now=NOW + timedelta(minutes=2))


# -- values (§6.3) and trusted_authorities (§6.1.1) ------------------------------------------------

TIER = ["credentialSubject", "certification", "tier"]


def _with_values(entry: dict[str, Any], path: list[Any], values: list[Any]) -> dict[str, Any]:
    """``entry`` whose claims query at ``path`` lists ``values`` (a copy)."""
    changed = json.loads(json.dumps(entry))
    for claim in changed["claims"]:
        if claim["path"] == path:
            claim["values"] = values
    return changed


@pytest.mark.parametrize("query_id", ["aeo_sd_jwt", "aeo_jwt"])
def test_a_claim_of_another_value_than_asked_does_not_answer(query_id: str) -> None:
    """§6.3: the claim answers when its type and value match one of ``values`` exactly; one
    of another value is as one the credential does not have (§6.4.1). Both formats."""
    entry = next(e for e in openid4vp.aeo_certificate_query()["credentials"] if e["id"] == query_id)
    fmt = {"aeo_sd_jwt": "vc+sd-jwt", "aeo_jwt": "vp+jwt"}[query_id]
    credential = _aeo_certificate()
    openid4vp.check_presented(presented(fmt, credential), _with_values(entry, TIER, ["TIER3"]))
    openid4vp.check_presented(
        presented(fmt, credential), _with_values(entry, TIER, ["TIER2", "TIER3"])
    )
    asked_another = _with_values(entry, TIER, ["TIER2"])
    with pytest.raises(PresentationError, match="value the query does not ask for") as refused:
        openid4vp.check_presented(presented(fmt, credential), asked_another)
    assert refused.value.pointer == "/verifiableCredential/0/credentialSubject/certification/tier"


@pytest.mark.parametrize(
    ("claim", "values", "answers"),
    [
        (1, [1], True),
        (1, ["1"], False),
        (1, [True], False),
        (True, [1], False),
        (True, [True], True),
        (False, [0], False),
        (0, [False], False),
        ("true", [True], False),
        ("1", [1], False),
        (1.0, [1], True),  # JSON has one number type
        (1.5, [1], False),
        ("TIER3", ["tier3"], False),
        (["TIER3"], ["TIER3"], False),  # an array is no string
        ({"a": 1}, [1], False),
        (None, ["null"], False),
        (10**30, [10**30], True),
    ],
)
def test_values_match_type_and_value_exactly(claim: Any, values: list[Any], answers: bool) -> None:
    assert openid4vp.matches_values(claim, values) is answers
    entry = {
        "id": "q",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": ["https://credentials.example/x"]},
        "claims": [{"path": ["x"], "values": values}],
    }
    credential = {"vct": "https://credentials.example/x", "x": claim}
    if answers:
        openid4vp.check_credential(credential, entry)
    else:
        with pytest.raises(PresentationError, match="value the query does not ask for"):
            openid4vp.check_credential(credential, entry)


def test_a_wildcard_path_answers_when_one_selected_claim_has_a_value_asked() -> None:
    schemes = ["credentialSubject", "identifier", None, "scheme"]
    entry = {
        **openid4vp.aeo_certificate_query()["credentials"][1],
        "claims": [{"path": schemes, "values": ["EORI"]}],
    }
    credential = _aeo_certificate()
    with pytest.raises(PresentationError, match="value"):
        openid4vp.check_credential(credential, entry)
    credential["credentialSubject"]["identifier"].append({"scheme": "EORI", "value": "US1"})
    openid4vp.check_credential(credential, entry)


def test_with_claim_sets_a_claim_of_another_value_leaves_only_the_other_options() -> None:
    """§6.4.1: one option whose every claim answers; a claim of a value not asked fails the
    options naming it, not the others."""
    entry = {
        "id": "q",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": ["v"]},
        "claims": [
            {"id": "over18", "path": ["age_over_18"], "values": [True]},
            {"id": "birth", "path": ["birthdate"]},
        ],
        "claim_sets": [["over18"], ["birth"]],
    }
    openid4vp.check_dcql({"credentials": [entry]})
    openid4vp.check_credential({"vct": "v", "age_over_18": True}, entry)
    openid4vp.check_credential({"vct": "v", "age_over_18": False, "birthdate": "2000-01-01"}, entry)
    with pytest.raises(PresentationError, match="age_over_18") as refused:
        openid4vp.check_credential({"vct": "v", "age_over_18": False}, entry)
    assert refused.value.pointer == "/age_over_18"
    with pytest.raises(PresentationError, match="age_over_18"):
        openid4vp.check_credential({"vct": "v", "age_over_18": "true"}, entry)


@pytest.mark.parametrize(
    "values",
    [[], "TIER3", None, 5, {"a": 1}, [None], [1.5], [[]], [{}], ["a", None], [1.0]],
)
def test_values_of_a_wrong_type_are_malformed_where_they_are(values: Any) -> None:
    query = openid4vp.aeo_certificate_query()
    query["credentials"][1] = _with_values(query["credentials"][1], TIER, values)
    with pytest.raises(MalformedError) as caught:
        openid4vp.check_dcql(query)
    assert caught.value.pointer == "/credentials/1/claims/3/values"


@pytest.mark.parametrize(
    ("authorities", "pointer"),
    [
        ([], ""),
        ({"type": "aki", "values": ["x"]}, ""),
        ("aki", ""),
        ([5], "/0"),
        ([{"values": ["x"]}], "/0/type"),
        ([{"type": 5, "values": ["x"]}], "/0/type"),
        ([{"type": "aki"}], "/0/values"),
        ([{"type": "aki", "values": []}], "/0/values"),
        ([{"type": "aki", "values": "x"}], "/0/values"),
        ([{"type": "aki", "values": [5]}], "/0/values"),
    ],
)
def test_trusted_authorities_of_a_wrong_shape_are_malformed(authorities: Any, pointer: str) -> None:
    query = openid4vp.aeo_certificate_query()
    query["credentials"][0]["trusted_authorities"] = authorities
    with pytest.raises(MalformedError) as caught:
        openid4vp.check_dcql(query)
    assert caught.value.pointer == "/credentials/0/trusted_authorities" + pointer


@pytest.mark.parametrize("kind", ["aki", "etsi_tl", "openid_federation", "vcred_trust_list"])
def test_trusted_authorities_the_verifier_cannot_evaluate_are_refused_never_ignored(
    verifier_key: KeyPair, kind: str
) -> None:
    """§6.1.1: no type is evaluated here (no X.509 chain in vcred's credentials, no ETSI list,
    no federation): a verifier's request asking one is refused, and a response checked
    against such a query fails closed. A wallet reads the request all the same."""
    query = openid4vp.aeo_certificate_query()
    query["credentials"][0]["trusted_authorities"] = [{"type": kind, "values": ["x"]}]
    openid4vp.check_dcql(query)  # well formed
    with pytest.raises(UnsupportedError, match=kind) as refused:
        openid4vp.AuthorizationRequest.new(
            did=did_key(verifier_key.public), response_uri=RESPONSE_URI, dcql_query=query
        )
    assert refused.value.pointer == "/credentials/0/trusted_authorities/0/type"
    entry = query["credentials"][0]
    with pytest.raises(PresentationError, match="trusted_authorities"):
        openid4vp.check_presented(presented("vc+sd-jwt", _aeo_certificate()), entry)


# -- the wallet and values ----------------------------------------------------------------------


def _held_certificate(fmt: str, holder: KeyPair, **options: Any) -> str:
    """A TIER3 AEO certificate of Example Prairie Gadgets held by ``holder``, in ``fmt``."""
    agency = KeyPair.generate("ed25519")
    certificate = build_aeo_certificate(
        {**TRADERS["us-prairie"], "id": did_key(holder.public)},
        issuer=did_key(agency.public),
        valid_from=NOW - timedelta(days=30),
        valid_until=NOW + timedelta(days=300),
    )
    binding = {"holder": holder} if fmt == "vc+sd-jwt" else {}
    return str(issue(certificate, agency, format=fmt, **binding, **options))


def _asking(query: dict[str, Any]) -> openid4vp.AuthorizationRequest:
    return openid4vp.AuthorizationRequest(
        client_id="decentralized_identifier:did:example:verifier",
        response_uri=RESPONSE_URI,
        nonce="n" * 22,
        state="s",
        dcql_query=query,
    )


def _aeo_query_with_tier(values: list[Any]) -> dict[str, Any]:
    query = openid4vp.aeo_certificate_query()
    query["credentials"] = [_with_values(e, TIER, values) for e in query["credentials"]]
    return query


@pytest.mark.parametrize("fmt", ["vc+sd-jwt", "vc+jwt"])
def test_the_wallet_does_not_present_a_claim_of_a_value_not_asked(fmt: str) -> None:
    """§6.4.1: a claim of a value the query does not ask is as one the credential lacks, and
    the Wallet does not return it — the verifier asking "AEOF?" does not learn "TIER3"."""
    holder = KeyPair.generate("p256")
    held = _held_certificate(fmt, holder)
    with pytest.raises(UsageError, match="no held credential"):
        openid4vp.answer(_asking(_aeo_query_with_tier(["AEOF", 3])), [held], holder, now=NOW)
    form = openid4vp.answer(_asking(_aeo_query_with_tier(["AEOF", "TIER3"])), [held], holder)
    assert list(json.loads(form["vp_token"])) == [
        {"vc+sd-jwt": "aeo_sd_jwt", "vc+jwt": "aeo_jwt"}[fmt]
    ]


def test_the_wallet_takes_the_claim_set_whose_values_it_meets() -> None:
    """§6.4.1: with ``claim_sets``, an option naming a claim of a value not asked is passed
    over for one the credential meets; the claim is not disclosed."""
    holder = KeyPair.generate("p256")
    certification = "/credentialSubject/certification"
    held = _held_certificate(
        "vc+sd-jwt", holder, disclosable=[f"{certification}/tier", f"{certification}/programme"]
    )
    query = openid4vp.aeo_certificate_query()
    entry = query["credentials"][0]
    query = {"credentials": [entry]}
    entry["claims"] = [
        {"id": "tier", "path": TIER, "values": ["AEOF"]},
        {"id": "programme", "path": ["credentialSubject", "certification", "programme"]},
    ]
    entry["claim_sets"] = [["tier"], ["programme"]]
    form = openid4vp.answer(_asking(query), [held], holder, now=NOW)
    (presented,) = json.loads(form["vp_token"])["aeo_sd_jwt"]
    disclosed = {str(sdjwt.decode_disclosure(d).name) for d in sdjwt.parse(presented).disclosures}
    assert "programme" in disclosed
    assert "tier" not in disclosed


@pytest.mark.parametrize("fmt", ["vc+sd-jwt", "vc+jwt"])
def test_the_wallet_does_not_present_a_credential_lacking_a_claim_asked(fmt: str) -> None:
    """§6.4.1: without claim_sets "the Verifier requests all claims listed in claims"; with
    them, a wallet satisfying no option "MUST NOT return any claims". It presented a credential
    without the claim, which the verifier then refused, learning what was missing."""
    holder = KeyPair.generate("p256")
    held = _held_certificate(fmt, holder)
    query = openid4vp.aeo_certificate_query()
    for entry in query["credentials"]:
        entry["claims"] = [*entry["claims"], {"path": ["credentialSubject", "notAClaim"]}]
    with pytest.raises(UsageError, match="no held credential"):
        openid4vp.answer(_asking(query), [held], holder, now=NOW)
    # with claim_sets, one option it can deliver is enough
    for entry in query["credentials"]:
        ids = [f"c{i}" for i in range(len(entry["claims"]))]
        entry["claims"] = [{**c, "id": i} for c, i in zip(entry["claims"], ids, strict=True)]
        entry["claim_sets"] = [ids, ids[:-1]]
    assert openid4vp.answer(_asking(query), [held], holder, now=NOW)["vp_token"]


# -- require_cryptographic_holder_binding (§6.1) --------------------------------------------------

BINDING = "require_cryptographic_holder_binding"


@pytest.mark.parametrize("value", ["false", 0, 1, None, [], {}])
def test_require_cryptographic_holder_binding_is_a_boolean(value: Any) -> None:
    """§6.1: "OPTIONAL. A boolean" — as ``multiple``, another type is malformed where it is."""
    query = openid4vp.aeo_certificate_query()
    query["credentials"][1][BINDING] = value
    with pytest.raises(MalformedError) as caught:
        openid4vp.check_dcql(query)
    assert caught.value.pointer == f"/credentials/1/{BINDING}"


def test_a_query_not_requiring_holder_binding_is_refused_by_the_verifier(
    verifier_key: KeyPair,
) -> None:
    """The verifier requires key binding on every Presentation (a trader's credential without
    it is a bearer token anyone who saw it may replay): it does not ask a wallet to leave it
    out. A wallet reads such a request all the same; ``true`` is the default, asked as is."""
    query = openid4vp.aeo_certificate_query()
    query["credentials"][0][BINDING] = True
    openid4vp.AuthorizationRequest.new(
        did=did_key(verifier_key.public), response_uri=RESPONSE_URI, dcql_query=query
    )
    query["credentials"][1][BINDING] = False
    openid4vp.check_dcql(query)  # well formed
    with pytest.raises(UnsupportedError, match=BINDING) as refused:
        openid4vp.AuthorizationRequest.new(
            did=did_key(verifier_key.public), response_uri=RESPONSE_URI, dcql_query=query
        )
    assert refused.value.pointer == f"/credentials/1/{BINDING}"


def _unbound(fmt: str, *credentials: dict[str, Any], **changes: Any) -> PresentationResult:
    bound = presented(fmt, *credentials)
    return PresentationResult(
        verified=True,
        format=bound.format,
        checks=changes.pop("checks", bound.checks),
        holder=changes.pop("holder", bound.holder),
        credentials=bound.credentials,
    )


@pytest.mark.parametrize("binding", [None, True, False])
def test_an_unbound_presentation_answers_no_query_whatever_it_says(binding: bool | None) -> None:
    """§6.1 require_cryptographic_holder_binding: whatever the query says, check_presented
    takes only a Presentation a holder's key signed, bound to the nonce and the audience
    (its challenge, domain and holder checks passed) — not one a Verifier configured with
    bearer types or without a challenge let through."""
    entry = openid4vp.aeo_certificate_query()["credentials"][0]
    if binding is not None:
        entry[BINDING] = binding
    credential = _aeo_certificate()
    openid4vp.check_presented(presented("vc+sd-jwt", credential), entry)
    with pytest.raises(PresentationError, match="holder binding"):
        openid4vp.check_presented(_unbound("vc+sd-jwt", credential, holder=None), entry)
    for name in ("challenge", "domain", "holder"):
        checks = tuple(
            Check(name=c.name, passed=None if c.name == name else c.passed, detail="")
            for c in presented("vc+sd-jwt").checks
        )
        with pytest.raises(PresentationError, match="holder binding"):
            openid4vp.check_presented(_unbound("vc+sd-jwt", credential, checks=checks), entry)


def test_a_key_bound_sd_jwt_verified_without_a_nonce_answers_no_query() -> None:
    """A real SD-JWT+KB verified without the request's nonce and client id: the verifier
    passes it (the caller's choice), check_presented does not — it could be a replay."""
    holder = KeyPair.generate("p256")
    held = _held_certificate("vc+sd-jwt", holder)
    kb = sdjwt.present(held, holder, nonce="n" * 22, aud="elsewhere", now=NOW)
    result = Verifier(clock=lambda: NOW).verify_presentation(kb)
    assert result.verified
    entry = openid4vp.aeo_certificate_query()["credentials"][0]
    with pytest.raises(PresentationError, match="holder binding"):
        openid4vp.check_presented(result, entry)
    bound = Verifier(clock=lambda: NOW).verify_presentation(
        kb, challenge="n" * 22, domain="elsewhere"
    )
    openid4vp.check_presented(bound, entry)


@pytest.mark.parametrize("binding", [True, False])
def test_the_wallet_binds_an_sd_jwt_whatever_the_query_says(binding: bool) -> None:
    """§B.3: with false "an SD-JWT without the Key Binding JWT MAY be returned": the wallet
    binds it all the same (its credential is no bearer token)."""
    holder = KeyPair.generate("p256")
    held = _held_certificate("vc+sd-jwt", holder)
    query = openid4vp.aeo_certificate_query()
    for entry in query["credentials"]:
        entry[BINDING] = binding
    form = openid4vp.answer(_asking(query), [held], holder, now=NOW)
    (presentation,) = json.loads(form["vp_token"])["aeo_sd_jwt"]
    assert sdjwt.parse(presentation).kb_jwt is not None


def test_the_wallet_does_not_hand_out_a_jwt_credential_unbound() -> None:
    """§B.1: with false "a Verifiable Credential without Holder Binding MUST be returned" for
    jwt_vc_json — the bare credential, a bearer token for whoever receives it. The wallet
    does not present it then (nor a VP the query says it must not return)."""
    holder = KeyPair.generate("p256")
    held = _held_certificate("vc+jwt", holder)
    query = openid4vp.aeo_certificate_query()
    query["credentials"][1][BINDING] = False
    with pytest.raises(UsageError, match=BINDING):
        openid4vp.answer(_asking(query), [held], holder, now=NOW)
    query["credentials"][1][BINDING] = True
    form = openid4vp.answer(_asking(query), [held], holder, now=NOW)
    assert list(json.loads(form["vp_token"])) == ["aeo_jwt"]


# -- values with a wildcard: only the matching elements disclosed -------------------------------


def _held_billing(holder: KeyPair) -> tuple[dict[str, Any], str]:
    """An export billing attestation (two line items) as an SD-JWT with the customs domain's
    default disclosures (each line's description, unit price and amount)."""
    agency = KeyPair.generate("ed25519")
    document = billing_attestation(issuer=did_key(agency.public))
    document["credentialSubject"]["id"] = did_key(holder.public)
    return document, str(issue(document, agency, format="vc+sd-jwt", holder=holder))


def test_a_wildcard_claim_with_values_discloses_only_the_elements_that_match() -> None:
    """Data minimisation (§6.3, §6.4.1): asked for the line items' descriptions with
    ``values``, the wallet discloses the matching line's description only — the others are
    claims of a value not asked, treated as absent. The verifier's check still passes."""
    holder = KeyPair.generate("p256")
    _, held = _held_billing(holder)
    descriptions = ["credentialSubject", "lineItems", None, "description"]
    query = openid4vp.billing_attestation_query([descriptions])
    query["credentials"][0]["claims"][0]["values"] = ["Monitors"]
    request = _asking(query)
    form = openid4vp.answer(request, [held], holder, now=NOW)
    (presentation,) = json.loads(form["vp_token"])["billing"]
    disclosed = [sdjwt.decode_disclosure(d) for d in sdjwt.parse(presentation).disclosures]
    assert [(d.name, d.value) for d in disclosed] == [("description", "Monitors")]
    result = Verifier(clock=lambda: NOW).verify_presentation(
        presentation, challenge=request.nonce, domain=request.client_id
    )
    assert result.verified, result.errors
    openid4vp.check_presented(result, query["credentials"][0])
    items = result.credentials[0].credential["credentialSubject"]["lineItems"]
    assert ["description" in item for item in items] == [False, True]
    # without values, every description is asked for and disclosed
    query["credentials"][0]["claims"][0].pop("values")
    form = openid4vp.answer(_asking(query), [held], holder, now=NOW)
    (presentation,) = json.loads(form["vp_token"])["billing"]
    names = [sdjwt.decode_disclosure(d).name for d in sdjwt.parse(presentation).disclosures]
    assert names == ["description", "description"]


def test_a_wildcard_over_disclosable_array_elements_discloses_only_those_matching() -> None:
    """Where the array elements themselves are disclosable (RFC 9901 §4.2.2), a null path
    component with ``values`` discloses the matching elements alone."""
    holder = KeyPair.generate("p256")
    agency = KeyPair.generate("ed25519")
    document = billing_attestation(issuer=did_key(agency.public))
    document["credentialSubject"]["id"] = did_key(holder.public)
    document["credentialSubject"]["exporter"]["tradeNames"] = ["Elbe", "EMB", "Elbe MB"]
    paths = ["/credentialSubject/exporter/tradeNames/*"]
    held = str(issue(document, agency, format="vc+sd-jwt", holder=holder, disclosable=paths))
    names = ["credentialSubject", "exporter", "tradeNames", None]
    query = openid4vp.billing_attestation_query([names])
    query["credentials"][0]["claims"][0]["values"] = ["EMB", "not held"]
    form = openid4vp.answer(_asking(query), [held], holder, now=NOW)
    (presentation,) = json.loads(form["vp_token"])["billing"]
    disclosed = [sdjwt.decode_disclosure(d).value for d in sdjwt.parse(presentation).disclosures]
    assert disclosed == ["EMB"]
    openid4vp.check_credential(sdjwt.unverified_claims(presentation), query["credentials"][0])
