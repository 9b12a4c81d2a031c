"""Holder binding by default: a credential is accepted in a presentation only from the party
it is bound to (its subject DIDs, its cnf key), whoever signs, in every presentation format.

The attack: someone who has seen a trader's credential presents it with their own key, in a
presentation that names no holder, names themselves, or names the trader. The presenter is
whoever signed the presentation; a credential not bound to them is HOLDER_MISMATCH, unless
its type was configured as a bearer type (never a customs type).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from tests.conftest import NOW, billing_attestation, credential
from tests.verifier.conftest import DOMAIN, Agency, MakeApp, signed_in
from vcred import Verifier, did_key, issue, jose, present, sdjwt
from vcred.cli import main
from vcred.errors import UsageError
from vcred.formats import Format, registry
from vcred.integrity import add_proof
from vcred.integrity.proof import verify_document
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.presentation import build_presentation
from vcred.verifier import PresentationResult, ProofState
from verifier_app import VerifierConfig

AT = Verifier(clock=lambda: NOW)
CHALLENGE = "c-holder"
DI_FORMATS = ("eddsa-rdfc-2022", "eddsa-jcs-2022", "ecdsa-rdfc-2019")


@pytest.fixture(scope="module")
def agency_key() -> KeyPair:
    return KeyPair.generate("ed25519")


@pytest.fixture(scope="module")
def trader() -> KeyPair:
    return KeyPair.generate("ed25519")


@pytest.fixture(scope="module")
def thief() -> KeyPair:
    return KeyPair.generate("ed25519")


def about(holder: KeyPair | str, **extra: Any) -> dict[str, Any]:
    subject_id = holder if isinstance(holder, str) else did_key(holder.public)
    return credential(credentialSubject={"id": subject_id, "name": "Harbour Lights"}, **extra)


def signed_by(
    signer: KeyPair,
    credentials: list[Any],
    *,
    holder: str | None,
    fmt: str = "eddsa-rdfc-2022",
    challenge: str = CHALLENGE,
    domain: str | None = None,
) -> dict[str, Any]:
    """A Data Integrity presentation naming ``holder`` (None: no holder), signed by ``signer``."""
    unsigned = build_presentation(credentials, holder=holder or "did:example:placeholder")
    if holder is None:
        del unsigned["holder"]
    suite = None if fmt == "data-integrity" else fmt
    key = signer_for(signer)
    return add_proof(
        unsigned,
        key,
        suite=suite,
        purpose="authentication",
        created=NOW,
        challenge=challenge,
        domain=domain,
    )


def vp_jwt(signer: KeyPair, credentials: list[Any], *, holder: str | None) -> str:
    unsigned = build_presentation(credentials, holder=holder or "did:example:placeholder")
    if holder is None:
        del unsigned["holder"]
    issued = int(NOW.timestamp())
    return jose.issue_vp_jwt(
        unsigned,
        signer_for(signer),
        challenge=CHALLENGE,
        domain=None,
        issued_at=issued,
        expires_at=issued + 300,
    )


def only(result: PresentationResult, code: str, path: str) -> None:
    assert not result.verified
    assert result.codes == (code,), result.errors
    assert result.errors[0].path == path


# -- someone else's credential, every way of presenting it --------------------------------------


@pytest.mark.parametrize("fmt", DI_FORMATS)
def test_a_holderless_data_integrity_presentation_of_someone_elses_credential_is_a_mismatch(
    agency_key: KeyPair, trader: KeyPair, thief: KeyPair, fmt: str
) -> None:
    stolen = issue(about(trader), agency_key)
    vp = signed_by(
        thief if fmt.startswith("eddsa") else KeyPair.generate("p256"),
        [stolen],
        holder=None,
        fmt=fmt,
    )
    result = AT.verify_presentation(vp, challenge=CHALLENGE)
    only(result, "HOLDER_MISMATCH", "/verifiableCredential/0/credentialSubject/id")
    assert result.check("holder").passed is False  # type: ignore[union-attr]
    assert result.credentials[0].verified  # the credential itself is genuine


def test_the_holder_of_a_holderless_presentation_is_whoever_signed_it(
    agency_key: KeyPair, trader: KeyPair
) -> None:
    vp = signed_by(trader, [issue(about(trader), agency_key)], holder=None)
    result = AT.verify_presentation(vp, challenge=CHALLENGE)
    assert result.verified, result.errors
    assert result.check("holder").passed is True  # type: ignore[union-attr]


def test_a_holderless_vp_jwt_is_refused_for_want_of_a_holder_key(
    agency_key: KeyPair, trader: KeyPair, thief: KeyPair
) -> None:
    # VC-JOSE-COSE: the vp+jwt key is looked up through the holder; without one, none is found
    vp = vp_jwt(thief, [issue(about(trader), agency_key)], holder=None)
    result = AT.verify_presentation(vp, challenge=CHALLENGE)
    # the proof fails, so nothing vouches for the challenge either
    assert result.codes == ("UNKNOWN_KEY", "INVALID_CHALLENGE")
    assert result.errors[0].path == "/holder"
    assert result.check("holder").passed is None  # type: ignore[union-attr]


def test_a_vp_jwt_naming_the_thief_as_holder_is_a_mismatch(
    agency_key: KeyPair, trader: KeyPair, thief: KeyPair
) -> None:
    vp = present([issue(about(trader), agency_key)], thief, challenge=CHALLENGE, now=NOW)
    result = AT.verify_presentation(vp, challenge=CHALLENGE)
    only(result, "HOLDER_MISMATCH", "/verifiableCredential/0/credentialSubject/id")


@pytest.mark.parametrize("fmt", ["vp+jwt", "eddsa-rdfc-2022"])
def test_naming_the_trader_as_holder_but_signing_with_another_key_is_refused(
    agency_key: KeyPair, trader: KeyPair, thief: KeyPair, fmt: str
) -> None:
    stolen = issue(about(trader), agency_key)
    if fmt == "vp+jwt":
        unsigned = build_presentation([stolen], holder=did_key(trader.public))
        issued = int(NOW.timestamp())
        thief_as_trader = dataclasses.replace(
            signer_for(thief), key_id=f"{did_key(trader.public)}#{thief.public.multikey()}"
        )
        vp: Any = jose.issue_vp_jwt(
            unsigned,
            thief_as_trader,
            challenge=CHALLENGE,
            domain=None,
            issued_at=issued,
            expires_at=issued + 300,
        )
        where = "/header/kid"  # the trader's did:key has no such method: no key to verify with
    else:
        vp = signed_by(thief, [stolen], holder=did_key(trader.public))
        where = "/holder"
    result = AT.verify_presentation(vp, challenge=CHALLENGE)
    assert not result.verified
    assert result.codes[0] == "UNKNOWN_KEY" and result.errors[0].path == where
    assert result.check("holder").passed is None  # type: ignore[union-attr]


def test_a_presentation_format_that_forgets_the_holder_is_still_caught(
    agency_key: KeyPair, trader: KeyPair, thief: KeyPair
) -> None:
    """Defence in depth: the pipeline itself requires the named holder to be the signer."""

    def lenient(verifier: Verifier, document: Any, state: ProofState) -> tuple[Any, Any]:
        verified = verify_document(
            document,
            purpose="authentication",
            lookup=verifier.method_lookup,
            now=verifier.clock(),
            clock_skew=verifier.clock_skew,
        )
        state.claimed, state.methods = verified.document, verified.methods
        return verified.proofs[0].proof.get("challenge"), None

    original = registry["data-integrity"]
    registry.register(Format(name="data-integrity", verify_presentation=lenient))
    try:
        vp = signed_by(thief, [issue(about(trader), agency_key)], holder=did_key(trader.public))
        result = AT.verify_presentation(vp, challenge=CHALLENGE)
    finally:
        registry.register(original)
    only(result, "HOLDER_MISMATCH", "/holder")


def test_a_holderless_presentation_signed_by_two_parties_is_a_mismatch(
    agency_key: KeyPair, trader: KeyPair, thief: KeyPair
) -> None:
    vp = signed_by(trader, [issue(about(trader), agency_key)], holder=None)
    both = add_proof(
        vp, signer_for(thief), purpose="authentication", created=NOW, challenge=CHALLENGE
    )
    only(AT.verify_presentation(both, challenge=CHALLENGE), "HOLDER_MISMATCH", "/proof")


def test_one_subject_of_someone_else_among_several_is_a_mismatch(
    agency_key: KeyPair, trader: KeyPair, thief: KeyPair
) -> None:
    subjects = [{"id": did_key(thief.public)}, {"id": did_key(trader.public)}]
    vc = issue(credential(credentialSubject=subjects), agency_key)
    result = AT.verify_presentation(
        present([vc], thief, challenge=CHALLENGE, now=NOW), challenge=CHALLENGE
    )
    only(result, "HOLDER_MISMATCH", "/verifiableCredential/0/credentialSubject/1/id")


def test_every_unbound_credential_is_reported_with_its_index(
    agency_key: KeyPair, trader: KeyPair, thief: KeyPair
) -> None:
    own = issue(about(thief), agency_key)
    stolen = issue(about(trader), agency_key)
    vp = present([own, stolen, own, stolen], thief, challenge=CHALLENGE, now=NOW)
    result = AT.verify_presentation(vp, challenge=CHALLENGE)
    assert result.codes == ("HOLDER_MISMATCH", "HOLDER_MISMATCH")
    assert [p.path for p in result.errors] == [
        "/verifiableCredential/1/credentialSubject/id",
        "/verifiableCredential/3/credentialSubject/id",
    ]


# -- credentials bound by cnf, and credentials bound to nobody ---------------------------------


def test_an_sd_jwt_bound_to_someone_elses_key_is_a_mismatch_inside_a_vp(
    agency_key: KeyPair, trader: KeyPair, thief: KeyPair
) -> None:
    bound_to_trader = str(
        issue(billing_attestation(), agency_key, format="vc+sd-jwt", holder=trader.public)
    )
    vp = present([bound_to_trader], thief, challenge=CHALLENGE, now=NOW)
    only(
        AT.verify_presentation(vp, challenge=CHALLENGE),
        "HOLDER_MISMATCH",
        "/verifiableCredential/0/cnf",
    )
    # the trader, whose key it is bound to, presents it
    mine = present([bound_to_trader], trader, challenge=CHALLENGE, now=NOW)
    assert AT.verify_presentation(mine, challenge=CHALLENGE).verified


def test_a_cnf_of_the_thief_does_not_rebind_a_credential_about_the_trader(
    agency_key: KeyPair, trader: KeyPair, thief: KeyPair
) -> None:
    token = str(issue(about(trader), agency_key, format="vc+sd-jwt", holder=thief.public))
    presented = sdjwt.present(token, thief, nonce=CHALLENGE, aud="a", now=NOW)
    result = AT.verify_presentation(presented, challenge=CHALLENGE, domain="a")
    only(result, "HOLDER_MISMATCH", "/verifiableCredential/0/credentialSubject/id")


def test_a_vc_jwt_with_a_cnf_of_someone_else_is_a_mismatch(
    agency_key: KeyPair, trader: KeyPair, thief: KeyPair
) -> None:
    vc = issue(about(thief, cnf={"jwk": trader.public.jwk()}), agency_key)
    vp = present([vc], thief, challenge=CHALLENGE, now=NOW)
    only(
        AT.verify_presentation(vp, challenge=CHALLENGE),
        "HOLDER_MISMATCH",
        "/verifiableCredential/0/cnf",
    )
    unusable = issue(about(thief, cnf={"jwk": {"kty": "OKP"}}), agency_key)
    vp = present([unusable], thief, challenge=CHALLENGE, now=NOW)
    assert AT.verify_presentation(vp, challenge=CHALLENGE).codes == ("HOLDER_MISMATCH",)


@pytest.mark.parametrize(
    "subject",
    [
        {"name": "Harbour Lights"},  # no id
        {"id": "urn:uuid:6f1c1a52-95b5-4c43-9a55-0e0f5f3b1e10", "name": "a thing"},
        {"id": "https://harbour-lights.example/", "name": "a web page"},
        [{"name": "one"}, {"name": "two"}],
    ],
)
def test_a_credential_bound_to_nobody_cannot_be_shown_to_be_the_presenters(
    agency_key: KeyPair, thief: KeyPair, subject: Any
) -> None:
    vc = issue(credential(credentialSubject=subject), agency_key)
    vp = present([vc], thief, challenge=CHALLENGE, now=NOW)
    only(
        AT.verify_presentation(vp, challenge=CHALLENGE),
        "HOLDER_MISMATCH",
        "/verifiableCredential/0",
    )


def test_an_sd_jwt_without_key_binding_was_presented_by_nobody(
    agency_key: KeyPair, trader: KeyPair
) -> None:
    token = str(issue(billing_attestation(), agency_key, format="vc+sd-jwt", holder=trader.public))
    assert AT.verify_presentation(token).codes == ("INVALID_PRESENTATION",)  # required
    relaxed = dataclasses.replace(AT, require_key_binding=False)
    only(relaxed.verify_presentation(token), "HOLDER_MISMATCH", "/verifiableCredential/0/cnf")
    # a bearer type (not a customs one) is what a verifier without key binding can accept
    pass_ = credential(type=["VerifiableCredential", "EventTicket"], credentialSubject={"seat": 1})
    ticket = str(issue(pass_, agency_key, format="vc+sd-jwt", holder=trader.public))
    only(relaxed.verify_presentation(ticket), "HOLDER_MISMATCH", "/verifiableCredential/0/cnf")
    bearer = dataclasses.replace(relaxed, bearer_types=frozenset({"EventTicket"}))
    assert bearer.verify_presentation(ticket).verified


# -- bearer types ------------------------------------------------------------------------------


def test_a_configured_bearer_type_needs_no_binding(agency_key: KeyPair, thief: KeyPair) -> None:
    ticket = credential(type=["VerifiableCredential", "EventTicket"], credentialSubject={"seat": 1})
    vp = present([issue(ticket, agency_key)], thief, challenge=CHALLENGE, now=NOW)
    only(
        AT.verify_presentation(vp, challenge=CHALLENGE),
        "HOLDER_MISMATCH",
        "/verifiableCredential/0",
    )
    bearer = dataclasses.replace(AT, bearer_types=frozenset({"EventTicket"}))
    assert bearer.verify_presentation(vp, challenge=CHALLENGE).verified


@pytest.mark.parametrize(
    "types",
    [
        ["VerifiableCredential", "EventTicket", "AEOCertificateCredential"],
        [
            "VerifiableCredential",
            "EventTicket",
            "https://vcred.dev/ns/customs#ExportBillingAttestation",
        ],
        ["VerifiableCredential", "EventTicket", "MRATrustListCredential"],
    ],
)
def test_a_credential_with_a_customs_type_is_never_bearer(
    agency_key: KeyPair, thief: KeyPair, types: list[str]
) -> None:
    vc = issue(credential(type=types, credentialSubject={"seat": 1}), agency_key)
    bearer = dataclasses.replace(AT, bearer_types=frozenset({"EventTicket"}))
    vp = present([vc], thief, challenge=CHALLENGE, now=NOW)
    only(
        bearer.verify_presentation(vp, challenge=CHALLENGE),
        "HOLDER_MISMATCH",
        "/verifiableCredential/0",
    )


@pytest.mark.parametrize(
    "types",
    [
        frozenset({"AEOCertificateCredential"}),
        frozenset({"EventTicket", "ExportBillingAttestation"}),
        frozenset({"MRATrustListCredential"}),
        frozenset({"https://vcred.dev/ns/customs#AEOCertificateCredential"}),
        "EventTicket",  # a string is not a set of types
        frozenset({""}),
        7,
        None,
    ],
)
def test_customs_types_or_nonsense_as_bearer_types_are_refused(types: Any) -> None:
    with pytest.raises(UsageError):
        Verifier(bearer_types=types)
    with pytest.raises(UsageError):
        VerifierConfig(bearer_types=types)


def test_customs_bearer_types_are_refused_from_the_environment_and_the_command_line(
    tmp_path: Any,
) -> None:
    with pytest.raises(UsageError, match="never be a bearer"):
        VerifierConfig.from_env(
            {"VCRED_VERIFIER_BEARER_TYPES": "EventTicket,AEOCertificateCredential"}
        )
    assert VerifierConfig.from_env(
        {"VCRED_VERIFIER_BEARER_TYPES": "EventTicket, Pass"}
    ).bearer_types == {
        "EventTicket",
        "Pass",
    }
    result = CliRunner().invoke(
        main,
        [
            "serve",
            "verifier",
            "--data-dir",
            str(tmp_path),
            "--bearer-type",
            "ExportBillingAttestation",
        ],
    )
    assert result.exit_code == 2
    assert "never be a bearer credential" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


# -- through the verifier service --------------------------------------------------------------


def challenge(client: FlaskClient) -> str:
    value: str = client.post("/challenges").get_json()["challenge"]
    return value


def post(
    client: FlaskClient, presentation: Any, nonce: str
) -> tuple[int, list[str], dict[str, Any]]:
    response = client.post(
        "/presentations/verify",
        json={
            "verifiablePresentation": presentation,
            "options": {"challenge": nonce, "domain": DOMAIN},
        },
    )
    body = response.get_json()
    return response.status_code, [p["code"] for p in body.get("problemDetails", [])], body


Presenter = Callable[[KeyPair, list[Any], str], Any]


def _holderless_di(key: KeyPair, credentials: list[Any], nonce: str) -> Any:
    return signed_by(key, credentials, holder=None, challenge=nonce, domain=DOMAIN)


def _thief_named_vp_jwt(key: KeyPair, credentials: list[Any], nonce: str) -> Any:
    return present(credentials, key, challenge=nonce, domain=DOMAIN, now=NOW)


def _thief_named_di(key: KeyPair, credentials: list[Any], nonce: str) -> Any:
    return present(
        credentials, key, challenge=nonce, domain=DOMAIN, format="data-integrity", now=NOW
    )


@pytest.mark.parametrize(
    ("presenter", "thief_kind"),
    [(_holderless_di, "ed25519"), (_thief_named_vp_jwt, "ed25519"), (_thief_named_di, "p256")],
)
def test_the_service_answers_400_holder_mismatch_for_someone_elses_aeo_certificate(
    make_app: MakeApp, agency: Agency, trader: KeyPair, presenter: Presenter, thief_kind: str
) -> None:
    app = make_app()
    client = app.test_client()
    certificate = agency.issue(agency.aeo_certificate(holder=did_key(trader.public)))
    thief = KeyPair.generate(thief_kind)
    nonce = challenge(client)
    status, codes, body = post(client, presenter(thief, [certificate], nonce), nonce)
    assert status == 400, body
    assert codes == ["HOLDER_MISMATCH"]
    problem = body["problemDetails"][0]
    assert problem["pointer"] == "/verifiableCredential/0/credentialSubject/id"
    assert problem["title"] == "Credential not bound to the presenter"
    assert body["credentials"][0]["verified"] is True  # genuine, trusted — and not theirs
    # the officer's history says so
    page = signed_in(app).get("/recent").get_data(as_text=True)  # an officer's page
    assert "NOT VERIFIED" in page and "HOLDER_MISMATCH" in page
    # the trader presenting the same certificate the same way is verified
    nonce = challenge(client)
    status, codes, body = post(client, presenter(trader, [certificate], nonce), nonce)
    assert status == 200 and codes == [], body


def test_the_service_refuses_an_sd_jwt_bound_to_the_trader_in_a_thiefs_vp(
    make_app: MakeApp, agency: Agency, trader: KeyPair, thief: KeyPair
) -> None:
    client = make_app().test_client()
    certificate = agency.aeo_certificate()
    del certificate["credentialSubject"]["id"]  # bound by cnf only
    token = str(agency.issue(certificate, fmt="vc+sd-jwt", holder=trader.public))
    nonce = challenge(client)
    vp = present([token], thief, challenge=nonce, domain=DOMAIN, now=NOW)
    status, codes, body = post(client, vp, nonce)
    assert (status, codes) == (400, ["HOLDER_MISMATCH"]), body
    assert body["problemDetails"][0]["pointer"] == "/verifiableCredential/0/cnf"
    nonce = challenge(client)
    own = sdjwt.present(token, trader, nonce=nonce, aud=DOMAIN, now=NOW)
    status, codes, body = post(client, own, nonce)
    assert (status, codes) == (200, []), body


def test_the_service_accepts_a_configured_bearer_type_and_nothing_else_unbound(
    make_app: MakeApp, agency: Agency, thief: KeyPair
) -> None:
    ticket = credential(type=["VerifiableCredential", "EventTicket"], credentialSubject={"seat": 1})
    token = agency.issue({**ticket, "issuer": agency.signer.key_id.split("#")[0]})
    strict = make_app(trust_list=None, trust_issuer=None).test_client()
    nonce = challenge(strict)
    status, codes, _ = post(strict, _holderless_di(thief, [token], nonce), nonce)
    assert (status, codes) == (400, ["HOLDER_MISMATCH"])
    bearer = make_app(
        trust_list=None, trust_issuer=None, bearer_types=frozenset({"EventTicket"})
    ).test_client()
    nonce = challenge(bearer)
    status, codes, body = post(bearer, _holderless_di(thief, [token], nonce), nonce)
    assert (status, codes) == (200, []), body
    assert json.dumps(body).count("HOLDER_MISMATCH") == 0
