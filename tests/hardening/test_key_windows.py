"""Key validity windows (security.md §13.6): a proof made with a key at or after its `revoked`
/ `expires` time (Controlled Identifiers 1.0 §2.2) never verifies; what the key signed before
still does. The signing time is the JWT `iat`, the Data Integrity `created`, else `validFrom`;
none at all with a revoked key is refused. Every format, presentations and status lists, through
the library and through the verifier service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.httpserver import LocalServer
from tests.verifier.conftest import DOMAIN, NOW, US_HOST, MakeApp
from vcred import Verifier, did_key, issue, jose, present, present_sd_jwt
from vcred.did import DidDocument, did_web_document
from vcred.errors import KeyRevokedError, ResolutionError, UsageError
from vcred.integrity import add_proof
from vcred.issuing import signer_for
from vcred.keys import KeyPair, LocalSigner
from vcred.status import status_list_credential_for
from vcred.testing import MemoryIndexStore, StaticFetcher
from vcred.trust import TRUST_LIST_KEY_PREFIX, build_trust_list, load_signed_trust_list

V2 = "https://www.w3.org/ns/credentials/v2"
PATH = "keywin"
DID = f"did:web:{US_HOST}:{PATH}"
DOCUMENT_URL = f"https://{US_HOST}/{PATH}/did.json"
REVOKED_AT = NOW - timedelta(days=30)
BEFORE = REVOKED_AT - timedelta(seconds=1)
AFTER = REVOKED_AT + timedelta(days=1)
KEY = KeyPair.generate("ed25519")
SIGNER = signer_for(KEY, did=DID)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def did_document(**lifetime: Any) -> dict[str, Any]:
    """The DID document of DID: KEY under every relationship, with ``lifetime`` members set
    on its method as given (``revoked=...``, ``expires=...``; raw JSON values)."""
    document = did_web_document(DID, [KEY.public])
    document["verificationMethod"][0].update(lifetime)
    return document


def verifier(document: dict[str, Any]) -> Verifier:
    return Verifier(
        fetcher=StaticFetcher({DOCUMENT_URL: json.dumps(document).encode()}), clock=lambda: NOW
    )


REVOKED = did_document(revoked=stamp(REVOKED_AT))


def credential(**extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": DID,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:trader"},
    }
    document.update(extra)
    return {k: v for k, v in document.items() if v is not None}


def vc_jwt_without_iat(document: dict[str, Any]) -> str:
    return jose.issue_vc_jwt(document, SIGNER)


# -- signed after the key was revoked: refused, whatever the format ------------------------------

AFTER_REVOCATION = {
    "vc+jwt iat a day after": lambda: issue(credential(), SIGNER, now=AFTER),
    "vc+jwt iat at the very second": lambda: issue(credential(), SIGNER, now=REVOKED_AT),
    "vc+jwt iat today": lambda: issue(credential(), SIGNER, now=NOW),
    "vc+jwt without iat, validFrom after": lambda: vc_jwt_without_iat(
        credential(validFrom=stamp(AFTER))
    ),
    "vc+jwt with neither iat nor validFrom": lambda: vc_jwt_without_iat(credential(validFrom=None)),
    "vc+jwt without iat, validFrom malformed": lambda: vc_jwt_without_iat(
        credential(validFrom="last spring")
    ),
    "vc+sd-jwt iat after": lambda: issue(credential(), SIGNER, format="vc+sd-jwt", now=AFTER),
    "eddsa-rdfc-2022 created after": lambda: issue(
        credential(), SIGNER, format="eddsa-rdfc-2022", now=AFTER
    ),
    "eddsa-jcs-2022 created after": lambda: issue(
        credential(), SIGNER, format="eddsa-jcs-2022", now=AFTER
    ),
}


@pytest.mark.parametrize("make", AFTER_REVOCATION.values(), ids=AFTER_REVOCATION.keys())
def test_a_proof_made_after_the_key_was_revoked_is_refused(make: Any) -> None:
    result = verifier(REVOKED).verify(make())
    assert not result.verified
    assert "KEY_REVOKED" in result.codes, result.errors
    proof = result.check("proof")
    assert proof is not None and proof.passed is False


def test_the_refusal_points_at_the_time_it_relied_on() -> None:
    paths = {
        "iat": issue(credential(), SIGNER, now=AFTER),
        "validFrom": vc_jwt_without_iat(credential(validFrom=stamp(AFTER))),
        "proof/created": issue(credential(), SIGNER, format="eddsa-rdfc-2022", now=AFTER),
    }
    for member, secured in paths.items():
        (problem,) = (
            p for p in verifier(REVOKED).verify(secured).errors if p.code == "KEY_REVOKED"
        )
        assert problem.path == f"/{member}"


def test_a_data_integrity_proof_without_created_and_without_valid_from_is_refused() -> None:
    undated = add_proof(credential(validFrom=None), SIGNER, suite="eddsa-rdfc-2022", created=None)
    assert "created" not in undated["proof"]
    result = verifier(REVOKED).verify(undated)
    assert result.codes == ("KEY_REVOKED",)
    assert result.errors[0].path == "/proof"
    assert "does not say when it was made" in result.errors[0].message
    assert verifier(did_document()).verify(undated).verified


def test_one_proof_of_a_set_made_after_revocation_refuses_the_whole_set() -> None:
    other = KeyPair.generate("ed25519")
    document = did_web_document(DID, [KEY.public, other.public])
    document["verificationMethod"][0]["revoked"] = stamp(REVOKED_AT)
    good = add_proof(credential(), signer_for(other, did=DID), created=AFTER)
    both = add_proof(good, SIGNER, created=AFTER)
    result = verifier(document).verify(both)
    assert result.codes == ("KEY_REVOKED",)
    assert result.errors[0].path == "/proof/1/created"
    assert verifier(document).verify(good).verified


# -- signed before: still verifies --------------------------------------------------------------

BEFORE_REVOCATION = {
    "vc+jwt iat a second before": lambda: issue(credential(), SIGNER, now=BEFORE),
    "vc+jwt without iat, validFrom before": lambda: vc_jwt_without_iat(credential()),
    "vc+sd-jwt iat before": lambda: issue(credential(), SIGNER, format="vc+sd-jwt", now=BEFORE),
    "eddsa-rdfc-2022 created before": lambda: issue(
        credential(), SIGNER, format="eddsa-rdfc-2022", now=BEFORE
    ),
    "eddsa-rdfc-2022 created before, validFrom after": lambda: issue(
        credential(validFrom=stamp(AFTER)), SIGNER, format="eddsa-rdfc-2022", now=BEFORE
    ),
}


@pytest.mark.parametrize("make", BEFORE_REVOCATION.values(), ids=BEFORE_REVOCATION.keys())
def test_what_the_key_signed_before_it_was_revoked_still_verifies(make: Any) -> None:
    result = verifier(REVOKED).verify(make())
    assert result.verified, result.errors


def test_a_revocation_still_ahead_does_not_refuse_todays_signature() -> None:
    ahead = did_document(revoked=stamp(NOW + timedelta(days=1)))
    assert verifier(ahead).verify(vc_jwt_without_iat(credential(validFrom=None))).verified
    assert verifier(ahead).verify(issue(credential(), SIGNER, now=NOW)).verified


# -- expires ------------------------------------------------------------------------------------


def test_expires_refuses_what_was_signed_after_it_and_keeps_what_was_signed_before() -> None:
    expired = did_document(expires=stamp(REVOKED_AT))
    for secured in (
        issue(credential(), SIGNER, now=BEFORE),
        issue(credential(), SIGNER, format="eddsa-rdfc-2022", now=BEFORE),
    ):
        assert verifier(expired).verify(secured).verified
    for secured in (
        issue(credential(), SIGNER, now=AFTER),
        issue(credential(), SIGNER, format="eddsa-rdfc-2022", now=AFTER),
        issue(credential(), SIGNER, format="vc+sd-jwt", now=AFTER),
        vc_jwt_without_iat(credential(validFrom=None)),
    ):
        assert verifier(expired).verify(secured).codes == ("KEY_EXPIRED",)
    not_yet = did_document(expires=stamp(NOW + timedelta(days=365)))
    assert verifier(not_yet).verify(vc_jwt_without_iat(credential(validFrom=None))).verified


def test_revoked_and_expires_together_the_earlier_one_decides() -> None:
    both = did_document(revoked=stamp(REVOKED_AT), expires=stamp(NOW + timedelta(days=1)))
    assert verifier(both).verify(issue(credential(), SIGNER, now=AFTER)).codes == ("KEY_REVOKED",)
    both = did_document(revoked=stamp(NOW + timedelta(days=1)), expires=stamp(REVOKED_AT))
    assert verifier(both).verify(issue(credential(), SIGNER, now=AFTER)).codes == ("KEY_EXPIRED",)


# -- malformed lifetimes in the DID document ------------------------------------------------------

MALFORMED = [
    "yesterday",
    "",
    "2026-05-01",
    "2026-05-01T00:00:00",  # no time zone: not a dateTimeStamp
    "2026-13-01T00:00:00Z",
    "2026-05-01T24:00:00Z",
    " 2026-05-01T00:00:00Z",
    1780000000,
    None,
    True,
    ["2026-05-01T00:00:00Z"],
    {"@value": "2026-05-01T00:00:00Z"},
]


@pytest.mark.parametrize("member", ["revoked", "expires"])
@pytest.mark.parametrize("value", MALFORMED, ids=repr)
def test_a_malformed_lifetime_makes_the_document_unusable(member: str, value: Any) -> None:
    document = did_document(**{member: value})
    with pytest.raises(ResolutionError) as raised:
        DidDocument.parse(document, expected_id=DID)
    assert raised.value.pointer == f"/verificationMethod/0/{member}"
    result = verifier(document).verify(issue(credential(), SIGNER, now=BEFORE))
    assert not result.verified
    assert result.codes == ("DID_RESOLUTION",)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=8,
)
MOMENTS = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=12))]),
)


@settings(max_examples=150, deadline=None)
@given(value=JSON_VALUES, member=st.sampled_from(["revoked", "expires"]))
def test_any_json_value_as_a_lifetime_is_read_or_refused_with_its_pointer(
    value: Any, member: str
) -> None:
    outcome: DidDocument | ResolutionError
    try:
        outcome = DidDocument.parse(did_document(**{member: value}), expected_id=DID)
    except ResolutionError as error:
        outcome = error
    if isinstance(outcome, ResolutionError):
        assert outcome.pointer == f"/verificationMethod/0/{member}"
    else:
        assert isinstance(value, str)  # only an XML Schema dateTimeStamp is read
        assert getattr(next(iter(outcome.methods.values())), member) is not None


@settings(max_examples=200, deadline=None)
@given(limit=MOMENTS, signed_at=MOMENTS, now=MOMENTS)
def test_a_method_refuses_exactly_the_proofs_made_at_or_after_its_revocation(
    limit: datetime, signed_at: datetime, now: datetime
) -> None:
    document = did_document(revoked=limit.isoformat())
    method = DidDocument.parse(document, expected_id=DID).methods[
        document["verificationMethod"][0]["id"]
    ]
    assert method.revoked == limit
    for when, moment in ((signed_at, signed_at), (None, now)):  # no signing time: as late as now
        try:
            method.check_signed_at(when, now=now)
        except KeyRevokedError:
            assert moment >= limit
        else:
            assert moment < limit


def test_a_lifetime_on_an_embedded_method_is_read_too() -> None:
    document = did_web_document(DID, [KEY.public])
    method = document["verificationMethod"].pop(0)
    document["assertionMethod"] = [{**method, "revoked": stamp(REVOKED_AT)}]
    assert verifier(document).verify(issue(credential(), SIGNER, now=AFTER)).codes == (
        "KEY_REVOKED",
    )
    document["assertionMethod"][0]["revoked"] = "soon"
    with pytest.raises(ResolutionError) as raised:
        DidDocument.parse(document, expected_id=DID)
    assert raised.value.pointer == "/assertionMethod/0/revoked"


def test_lifetimes_at_the_ends_of_the_calendar_are_compared_not_crashed_on() -> None:
    earliest = did_document(revoked="0001-01-01T00:00:00+01:00")  # before year 1 in UTC
    assert verifier(earliest).verify(issue(credential(), SIGNER, now=BEFORE)).codes == (
        "KEY_REVOKED",
    )
    latest = did_document(expires="9999-12-31T23:59:59-01:00")  # after year 9999 in UTC
    assert verifier(latest).verify(issue(credential(), SIGNER, now=AFTER)).verified


@pytest.mark.parametrize("iat", ["1780000000", 1e300, True, None, [1]], ids=repr)
def test_an_iat_that_is_not_a_time_fails_closed_for_a_key_with_a_lifetime(iat: Any) -> None:
    token = jose.issue_vc_jwt({**credential(), "iat": iat}, SIGNER)
    result = verifier(REVOKED).verify(token)
    assert not result.verified
    assert result.codes == ("MALFORMED",)
    assert result.errors[0].path == "/iat"


def test_a_second_definition_of_the_method_cannot_lift_its_revocation() -> None:
    document = did_document(revoked=stamp(REVOKED_AT))
    unrevoked = {k: v for k, v in document["verificationMethod"][0].items() if k != "revoked"}
    for where in ("verificationMethod", "assertionMethod"):
        twice = json.loads(json.dumps(document))
        twice[where].append(unrevoked)
        with pytest.raises(ResolutionError, match="defined twice") as raised:
            DidDocument.parse(twice, expected_id=DID)
        assert raised.value.pointer == f"/{where}/{len(twice[where]) - 1}"
        result = verifier(twice).verify(issue(credential(), SIGNER, now=AFTER))
        assert result.codes == ("DID_RESOLUTION",)


def test_revoked_in_another_time_zone_is_the_same_instant() -> None:
    offset = (REVOKED_AT + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00")
    document = did_document(revoked=offset)
    assert verifier(document).verify(issue(credential(), SIGNER, now=BEFORE)).verified
    assert verifier(document).verify(issue(credential(), SIGNER, now=REVOKED_AT)).codes == (
        "KEY_REVOKED",
    )


def test_the_did_web_document_we_write_carries_revoked_for_retired_keys_only() -> None:
    old = KeyPair.generate("p256")
    document = did_web_document(
        DID, [KEY.public], retired=[old.public], revoked={old.public: REVOKED_AT}
    )
    entries = {entry["publicKeyMultibase"]: entry for entry in document["verificationMethod"]}
    assert entries[old.public.multikey()]["revoked"] == stamp(REVOKED_AT)
    assert "revoked" not in entries[KEY.public.multikey()]
    parsed = DidDocument.parse(document, expected_id=DID)
    assert (
        parsed.method(entries[old.public.multikey()]["id"], relationship="assertionMethod").revoked
        == REVOKED_AT
    )
    with pytest.raises(UsageError):
        did_web_document(DID, [KEY.public], revoked={KEY.public: REVOKED_AT})
    with pytest.raises(UsageError):
        did_web_document(
            DID, [KEY.public], retired=[old.public], revoked={old.public: datetime(2026, 1, 1)}
        )


# -- presentations and status lists go through the same check -------------------------------------

HOLDER_KEY = KeyPair.generate("ed25519")
HOLDER = signer_for(HOLDER_KEY, did=DID)
ISSUER_KEY = KeyPair.generate("ed25519")


def held_credential() -> str:
    subject = {"id": DID}
    return str(
        issue(credential(issuer=did_key(ISSUER_KEY.public), credentialSubject=subject), ISSUER_KEY)
    )


def holder_document(**lifetime: Any) -> dict[str, Any]:
    document = did_web_document(DID, [HOLDER_KEY.public])
    document["verificationMethod"][0].update(lifetime)
    return document


def presentation(fmt: str, nonce: str = "c") -> Any:
    """The holder's presentation of a credential about it: vp+jwt, Data Integrity, or an
    SD-JWT+KB whose cnf names the holder's did:web key."""
    if fmt == "sd-jwt+kb":
        subject = credential(issuer=did_key(ISSUER_KEY.public), credentialSubject={"id": DID})
        sd_jwt = str(issue(subject, ISSUER_KEY, format="vc+sd-jwt", holder=HOLDER))
        return present_sd_jwt(sd_jwt, HOLDER, nonce=nonce, aud=DOMAIN, now=NOW)
    return present([held_credential()], HOLDER, challenge=nonce, domain=DOMAIN, format=fmt, now=NOW)


PRESENTATION_FORMATS = ["vp+jwt", "eddsa-rdfc-2022", "sd-jwt+kb"]


@pytest.mark.parametrize("fmt", PRESENTATION_FORMATS)
def test_a_presentation_signed_by_a_revoked_holder_key_is_refused(fmt: str) -> None:
    vp = presentation(fmt)
    for lifetime in ({"revoked": stamp(REVOKED_AT)}, {"expires": stamp(NOW)}):
        result = verifier(holder_document(**lifetime)).verify_presentation(
            vp, challenge="c", domain=DOMAIN
        )
        assert not result.verified
        expected = "KEY_REVOKED" if "revoked" in lifetime else "KEY_EXPIRED"
        assert result.codes == (expected,), result.errors
    fine = verifier(holder_document()).verify_presentation(vp, challenge="c", domain=DOMAIN)
    assert fine.verified, fine.errors


def test_a_status_list_signed_by_the_revoked_key_after_revocation_is_not_believed() -> None:
    store = MemoryIndexStore()
    list_url = f"https://{US_HOST}/{PATH}/status/1"
    place = store.allocate("revocation", credential_id="urn:uuid:1")
    entry = place.entry(list_url).to_json()
    secured = issue(credential(credentialStatus=entry), SIGNER, now=BEFORE)

    def status_list(signed_at: datetime) -> str:
        unsigned = status_list_credential_for(
            store,
            place.list_id,
            list_url=list_url,
            issuer=DID,
            valid_from=signed_at,
            ttl=timedelta(days=365),
        )
        return str(issue(unsigned, SIGNER, now=signed_at))

    for signed_at, verified in ((AFTER, False), (BEFORE, True)):
        fetcher = StaticFetcher(
            {DOCUMENT_URL: json.dumps(REVOKED).encode(), list_url: status_list(signed_at).encode()}
        )
        result = Verifier(fetcher=fetcher, clock=lambda: NOW).verify(secured)
        assert result.verified is verified, result.errors
        if not verified:
            assert result.codes == ("STATUS_VERIFICATION",)
            assert "revoked" in result.errors[0].message


def test_a_trust_list_signed_by_the_revoked_key_after_revocation_is_refused() -> None:
    # trust lists are signed only by the agency's trust-list key (TrustAnchor): revoke that one
    trust_key = KeyPair.generate("ed25519")
    method_id = f"{DID}#{TRUST_LIST_KEY_PREFIX}keywin"
    document = did_document()
    (method,) = did_web_document(DID, [trust_key.public])["verificationMethod"]
    document["verificationMethod"].append({**method, "id": method_id, "revoked": stamp(REVOKED_AT)})
    document["assertionMethod"].append(method_id)
    trust_signer = LocalSigner(key=trust_key, key_id=method_id)
    unsigned = build_trust_list(
        [
            {
                "issuer": "did:web:customs.example",
                "name": "Test customs",
                "programme": "US-CTPAT",
                "country": "US",
                "acceptedCredentialTypes": ["AEOCertificateCredential"],
            }
        ],
        issuer=DID,
        programme="EU-AEO",
        authority_country="DE",
        authority_name="Zoll (test)",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2027, 1, 1, tzinfo=UTC),
    )
    late = issue(unsigned, trust_signer, now=AFTER)
    with pytest.raises(KeyRevokedError):
        load_signed_trust_list(late, now=NOW, expected_issuer=DID, verifier=verifier(document))
    early = issue(unsigned, trust_signer, now=BEFORE)
    loaded = load_signed_trust_list(
        early, now=NOW, expected_issuer=DID, verifier=verifier(document)
    )
    entry = loaded.evaluate("did:web:customs.example", ["AEOCertificateCredential"], now=NOW)
    assert entry.issuer == "did:web:customs.example" and entry.programme == "US-CTPAT"


# -- through the verifier service -----------------------------------------------------------------


@pytest.fixture
def served(us_server: LocalServer) -> Iterator[LocalServer]:
    """The DID document of DID, served by the US agency's test server (path /keywin/did.json)."""
    yield us_server
    us_server.routes.pop(f"/{PATH}/did.json", None)


def serve(server: LocalServer, document: dict[str, Any]) -> None:
    server.serve(f"/{PATH}/did.json", json.dumps(document).encode())


def verify_via(app: Flask, secured: Any) -> tuple[int, dict[str, Any]]:
    response = app.test_client().post(
        "/credentials/verify", json={"verifiableCredential": secured, "options": {"checks": []}}
    )
    return response.status_code, response.get_json()


def codes(body: dict[str, Any]) -> list[str]:
    return [problem["code"] for problem in body.get("problemDetails", [])]


@pytest.mark.parametrize("make", [*AFTER_REVOCATION.values()], ids=[*AFTER_REVOCATION.keys()])
def test_the_verifier_service_refuses_a_proof_made_after_revocation_with_a_400(
    make: Any, make_app: MakeApp, served: LocalServer
) -> None:
    serve(served, REVOKED)
    status, body = verify_via(make_app(), make())
    assert status == 400, body
    # the structure check also reports a malformed validFrom; nothing else may fail
    assert set(codes(body)) - {"MALFORMED"} == {"KEY_REVOKED"}


def test_the_verifier_service_keeps_accepting_what_was_signed_before(
    make_app: MakeApp, served: LocalServer
) -> None:
    serve(served, REVOKED)
    app = make_app()
    for make in BEFORE_REVOCATION.values():
        status, body = verify_via(app, make())
        assert status == 200 and body["verified"] is True, body


def test_the_verifier_service_refuses_an_expired_key_and_a_malformed_lifetime(
    make_app: MakeApp, served: LocalServer
) -> None:
    serve(served, did_document(expires=stamp(REVOKED_AT)))
    status, body = verify_via(make_app(), issue(credential(), SIGNER, now=AFTER))
    assert status == 400 and codes(body) == ["KEY_EXPIRED"]
    serve(served, did_document(revoked="2026-05-01"))
    status, body = verify_via(make_app(), issue(credential(), SIGNER, now=BEFORE))
    assert status == 400 and codes(body) == ["DID_RESOLUTION"]


@pytest.mark.parametrize("fmt", PRESENTATION_FORMATS)
def test_the_verifier_service_refuses_a_presentation_by_a_revoked_holder_key(
    fmt: str, make_app: MakeApp, served: LocalServer
) -> None:
    serve(served, holder_document(revoked=stamp(REVOKED_AT)))
    client = make_app().test_client()
    nonce = client.post("/challenges").get_json()["challenge"]
    vp = presentation(fmt, nonce)
    response = client.post(
        "/presentations/verify",
        json={"verifiablePresentation": vp, "options": {"challenge": nonce, "domain": DOMAIN}},
    )
    assert response.status_code == 400, response.get_json()
    # the credential inside is from an issuer outside the EU trust list: nothing else fails
    assert set(codes(response.get_json())) - {"UNTRUSTED_ISSUER"} == {"KEY_REVOKED"}
