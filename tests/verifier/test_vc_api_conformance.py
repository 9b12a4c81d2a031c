"""What the VC API verifier suites and the VCDM 2.0 suite expect of /credentials/verify and
/presentations/verify (https://w3c-ccg.github.io/vc-api/, VCDM 2.0 §4.13), from the specs:

- ``verifiableCredential`` / ``verifiablePresentation`` is a JSON object; a string holding
  JSON is a PARSING_ERROR (problem details); a compact JWS / SD-JWT stays accepted;
- ``options.checks`` runs the checks asked for (the proof always, the structure rules always,
  ``trust`` with the ``issuer`` check it rests on) and no others;
- ``options.challenge`` / ``options.domain`` of the caller, when the deployment allows it;
- an Enveloped* object has the base context and a ``data:`` URL of a media type we verify.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from tests.verifier.conftest import DOMAIN, NOW, Agency, MakeApp
from vcred import Verifier, did_key, present
from vcred.cli import main
from vcred.integrity import add_proof
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from verifier_app import VerifierConfig
from verifier_app import cli as verifier_cli
from verifier_app.service import OWN_CHALLENGE_PREFIX

V2 = "https://www.w3.org/ns/credentials/v2"
HTTPS_ISSUER = "https://university.example/issuers/565049"


def post(client: FlaskClient, path: str, body: dict[str, Any]) -> tuple[int, str, Any]:
    response = client.post(path, json=body)
    return response.status_code, response.mimetype, response.get_json()


def verify(client: FlaskClient, credential: Any, **options: Any) -> tuple[int, dict[str, Any]]:
    status, mimetype, body = post(
        client, "/credentials/verify", {"verifiableCredential": credential, "options": options}
    )
    assert mimetype == "application/json", body
    return status, body


def verify_vp(client: FlaskClient, vp: Any, **options: Any) -> tuple[int, dict[str, Any]]:
    status, mimetype, body = post(
        client, "/presentations/verify", {"verifiablePresentation": vp, "options": options}
    )
    assert mimetype == "application/json", body
    return status, body


def codes(body: dict[str, Any]) -> list[str]:
    return [problem["code"] for problem in body.get("problemDetails", [])]


def check_names(body: dict[str, Any]) -> list[str]:
    return [check["check"] for check in body["checks"]]


@pytest.fixture(scope="module")
def trader() -> KeyPair:
    return KeyPair.generate("p256")


@pytest.fixture
def token(agency: Agency) -> str:
    issued: str = agency.issue(agency.aeo_certificate())
    return issued


@pytest.fixture
def held(agency: Agency, trader: KeyPair) -> str:
    """A credential about the trader, who presents it."""
    issued: str = agency.issue(agency.aeo_certificate(holder=did_key(trader.public)))
    return issued


def enveloped(token: str, *, media_type: str = "application/vc+jwt", **envelope: Any) -> Any:
    return {
        "@context": [V2],
        "type": "EnvelopedVerifiableCredential",
        "id": f"data:{media_type},{token}",
        **envelope,
    }


def signed_by_other_key(issuer: str) -> dict[str, Any]:
    """A Data Integrity credential of ``issuer`` whose proof key is a did:key of no one in
    particular: the proof verifies, the key is not the issuer's."""
    key = KeyPair.generate("ed25519")
    credential = {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21"},
    }
    return add_proof(credential, signer_for(key), suite="eddsa-rdfc-2022", created=NOW)


# -- 1. the secured document is an object (or a compact string) ---------------------------------


def test_a_credential_sent_as_a_json_string_is_a_parsing_error(
    client: FlaskClient, agency: Agency
) -> None:
    secured = agency.issue(agency.aeo_certificate(), fmt="eddsa-rdfc-2022", now=NOW)
    for text in (json.dumps(secured), "  " + json.dumps(secured), json.dumps(enveloped("a.b.c"))):
        status, mimetype, body = post(client, "/credentials/verify", {"verifiableCredential": text})
        assert (status, mimetype) == (400, "application/problem+json")
        assert body["code"] == "PARSING_ERROR"
        assert body["pointer"] == "/verifiableCredential"
    # the same credential as the object it is verifies
    assert verify(client, secured)[0] == 200


def test_a_presentation_sent_as_a_json_string_is_a_parsing_error(
    client: FlaskClient, token: str, trader: KeyPair
) -> None:
    vp = present([token], trader, challenge="c", domain=DOMAIN, format="ecdsa-rdfc-2019", now=NOW)
    status, mimetype, body = post(
        client, "/presentations/verify", {"verifiablePresentation": json.dumps(vp)}
    )
    assert (status, mimetype) == (400, "application/problem+json")
    assert (body["code"], body["pointer"]) == ("PARSING_ERROR", "/verifiablePresentation")


@pytest.mark.parametrize("text", ["", "not a credential", "{not json", "a.b", "a.b.c.d", "a.b.c~~"])
def test_strings_that_are_neither_compact_nor_objects_are_refused(
    client: FlaskClient, text: str
) -> None:
    status, mimetype, body = post(client, "/credentials/verify", {"verifiableCredential": text})
    assert (status, mimetype, body["code"]) == (400, "application/problem+json", "PARSING_ERROR")


def test_a_single_base64url_token_reaches_the_verifier(client: FlaskClient) -> None:
    # the text form of a binary format (a vc+cose COSE_Sign1, unpadded base64url) is compact
    # too: the verifier, not the request check, answers for it
    status, body = verify(client, "2D6EQ6EBJqA")
    assert status == 400 and body["verified"] is False


def test_compact_jwt_and_sd_jwt_strings_stay_accepted(
    client: FlaskClient, agency: Agency, token: str
) -> None:
    assert verify(client, token)[0] == 200
    assert verify(client, f"\n{token}\n")[0] == 200  # pasted with line ends
    sd_jwt = agency.issue(agency.aeo_certificate(), fmt="vc+sd-jwt", now=NOW)
    assert isinstance(sd_jwt, str) and sd_jwt.endswith("~")
    status, body = verify(client, sd_jwt)
    assert status == 200, body
    assert body["format"] == "vc+sd-jwt"
    # ... and in the VC API's own form, an EnvelopedVerifiableCredential object
    assert verify(client, enveloped(token))[0] == 200


# -- 2. only the requested checks run ----------------------------------------------------------


def test_a_proof_by_a_key_that_is_not_the_issuers_verifies_when_only_the_proof_is_asked(
    client: FlaskClient,
) -> None:
    credential = signed_by_other_key(HTTPS_ISSUER)
    status, body = verify(client, credential, checks=["proof"])
    assert status == 200, body
    assert check_names(body) == ["proof"]
    # the issuer was not authenticated, and nothing says it was
    assert body["trust"]["issuerAuthenticated"] is False
    assert body["trust"]["evaluated"] is False
    # asked about the issuer too, the same credential fails on it
    status, body = verify(client, credential, checks=["proof", "issuer"])
    assert status == 400 and codes(body) == ["UNKNOWN_KEY"]
    assert verify(client, credential)[0] == 400


def test_a_proof_set_with_a_second_signer_verifies_when_only_the_proof_is_asked(
    client: FlaskClient, agency: Agency
) -> None:
    secured = agency.issue(agency.aeo_certificate(), fmt="eddsa-rdfc-2022", now=NOW)
    witness = signer_for(KeyPair.generate("ed25519"))
    both = add_proof(secured, witness, suite="eddsa-rdfc-2022", created=NOW)
    assert isinstance(both["proof"], list) and len(both["proof"]) == 2
    assert verify(client, both, checks=["proof"])[0] == 200
    status, body = verify(client, both, checks=["issuer"])
    assert status == 400 and codes(body) == ["UNKNOWN_KEY"]


def test_a_proof_chain_with_a_second_signer_verifies_when_only_the_proof_is_asked(
    client: FlaskClient,
) -> None:
    first, second = KeyPair.generate("ed25519"), KeyPair.generate("p256")
    credential = signed_by_other_key(HTTPS_ISSUER)
    del credential["proof"]
    credential["issuer"] = did_key(first.public)
    signed = add_proof(
        credential, signer_for(first), suite="eddsa-rdfc-2022", created=NOW, proof_id="urn:p:1"
    )
    chained = add_proof(
        signed,
        signer_for(second),
        suite="ecdsa-rdfc-2019",
        created=NOW,
        proof_id="urn:p:2",
        previous_proof="urn:p:1",
    )
    assert chained["proof"][1]["previousProof"] == "urn:p:1"
    status, body = verify(client, chained, checks=["proof"])
    assert status == 200, body
    # the second signer is not the issuer: the issuer check, when asked, says so
    status, body = verify(client, chained, checks=["proof", "issuer"])
    assert status == 400 and codes(body) == ["UNKNOWN_KEY"]


def test_trust_always_rests_on_the_issuer_check(client: FlaskClient, agency: Agency) -> None:
    # a credential naming the trusted US agency, signed by someone else
    forged = signed_by_other_key(agency.signer.key_id.split("#")[0])
    status, body = verify(client, forged, checks=["trust"])
    assert status == 400
    assert "issuer" in check_names(body) and "UNKNOWN_KEY" in codes(body)
    assert body["trust"]["issuerAuthenticated"] is False


def test_the_library_runs_the_issuer_check_under_trust() -> None:
    credential = signed_by_other_key(HTTPS_ISSUER)
    result = Verifier(clock=lambda: NOW).verify(credential, checks=["trust"])
    issuer = result.check("issuer")
    assert issuer is not None and issuer.passed is False
    assert not result.verified and result.trust is None
    assert Verifier(clock=lambda: NOW).verify(credential, checks=["proof"]).verified


def test_the_structure_rules_apply_whatever_the_checks(client: FlaskClient) -> None:
    credential = signed_by_other_key(HTTPS_ISSUER)
    del credential["credentialSubject"]
    key = KeyPair.generate("ed25519")
    broken = add_proof(
        {k: v for k, v in credential.items() if k != "proof"},
        signer_for(key),
        suite="eddsa-rdfc-2022",
        created=NOW,
    )
    status, body = verify(client, broken, checks=["proof"])
    assert status == 400 and "MALFORMED" in codes(body)


# -- 3. the caller's challenge and domain ------------------------------------------------------


def test_a_callers_challenge_is_refused_by_default(
    client: FlaskClient, held: str, trader: KeyPair
) -> None:
    vp = present([held], trader, challenge="123456789", domain=DOMAIN, now=NOW)
    status, body = verify_vp(client, vp, challenge="123456789")
    assert status == 400 and codes(body) == ["INVALID_CHALLENGE"]
    assert "not issued by this verifier" in body["problemDetails"][0]["detail"]


def test_a_callers_challenge_is_checked_when_the_deployment_allows_it(
    make_app: MakeApp, held: str, trader: KeyPair
) -> None:
    app = make_app(allow_caller_challenges=True)
    client = app.test_client()
    vp = present([held], trader, challenge="123456789", domain=DOMAIN, now=NOW)
    status, body = verify_vp(client, vp, challenge="123456789")
    assert status == 200, body
    assert {c["check"]: c["passed"] for c in body["checks"]}["challenge"] is True
    assert [w["code"] for w in body["warnings"]] == ["CHALLENGE_NOT_TRACKED"]
    # the history officers read says so too
    (entry,) = app.extensions["vcred_verifier"].storage.recent()
    assert entry.verified and entry.codes == ("CHALLENGE_NOT_TRACKED",)
    # bound to another challenge than the caller says: refused
    status, body = verify_vp(client, vp, challenge="987654321")
    assert status == 400 and codes(body) == ["INVALID_CHALLENGE"]
    # the trade-off, written down in docs/security.md: not single-use at this verifier
    assert verify_vp(client, vp, challenge="123456789")[0] == 200
    # still a challenge is needed
    status, body = verify_vp(client, vp)
    assert status == 400 and codes(body) == ["INVALID_CHALLENGE"]


def test_a_callers_domain_replaces_ours_only_with_a_callers_challenge(
    make_app: MakeApp, held: str, trader: KeyPair
) -> None:
    client = make_app(allow_caller_challenges=True).test_client()
    vp = present([held], trader, challenge="n-1", domain="rp.example", now=NOW)
    assert verify_vp(client, vp, challenge="n-1", domain="rp.example")[0] == 200
    # without options.domain the presentation must be bound to our domain
    status, body = verify_vp(client, vp, challenge="n-1")
    assert status == 400 and codes(body) == ["INVALID_DOMAIN"]
    # with one of our challenges, the domain is ours whatever the caller says
    ours = client.post("/challenges").get_json()["challenge"]
    vp = present([held], trader, challenge=ours, domain="rp.example", now=NOW)
    status, body = verify_vp(client, vp, challenge=ours, domain="rp.example")
    assert status == 400 and "INVALID_DOMAIN" in codes(body)


def test_our_challenges_stay_single_use_when_callers_challenges_are_allowed(
    make_app: MakeApp, held: str, trader: KeyPair
) -> None:
    client = make_app(allow_caller_challenges=True).test_client()
    nonce = client.post("/challenges").get_json()["challenge"]
    vp = present([held], trader, challenge=nonce, domain=DOMAIN, now=NOW)
    status, body = verify_vp(client, vp, challenge=nonce, domain=DOMAIN)
    assert status == 200 and body["warnings"] == []
    status, body = verify_vp(client, vp, challenge=nonce, domain=DOMAIN)
    assert status == 400 and codes(body) == ["INVALID_CHALLENGE"]
    assert "already been used" in body["problemDetails"][0]["detail"]


def test_our_challenges_are_never_taken_for_a_callers_even_once_forgotten(
    make_app: MakeApp, held: str, trader: KeyPair
) -> None:
    now = [NOW]
    client = make_app(allow_caller_challenges=True, clock=lambda: now[0]).test_client()
    nonce = client.post("/challenges").get_json()["challenge"]
    assert nonce.startswith(OWN_CHALLENGE_PREFIX)
    vp = present([held], trader, challenge=nonce, domain=DOMAIN, now=NOW)
    assert verify_vp(client, vp, challenge=nonce, domain=DOMAIN)[0] == 200
    # three TTLs later a new challenge prunes the old one from the store ...
    now[0] = NOW + 3 * timedelta(minutes=5)
    client.post("/challenges")
    # ... and the replay is still refused: that challenge has our form, so it is not a caller's
    status, body = verify_vp(client, vp, challenge=nonce, domain=DOMAIN)
    assert status == 400 and "INVALID_CHALLENGE" in codes(body)
    assert "CHALLENGE_NOT_TRACKED" not in [w["code"] for w in body["warnings"]]


def test_callers_challenges_are_a_configuration_option() -> None:
    assert VerifierConfig().allow_caller_challenges is False
    config = VerifierConfig.from_env({"VCRED_VERIFIER_ALLOW_CALLER_CHALLENGES": "true"})
    assert config.allow_caller_challenges is True


# -- 6. envelopes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "context",
    [[], "https://www.w3.org/ns/credentials/examples/v2", ["https://example.org/v2", V2], None],
)
def test_an_envelope_without_the_base_context_is_refused(
    client: FlaskClient, token: str, context: Any
) -> None:
    envelope = enveloped(token)
    if context is None:
        del envelope["@context"]
    else:
        envelope["@context"] = context
    status, body = verify(client, envelope)
    assert status == 400 and codes(body) == ["MALFORMED"]
    assert body["problemDetails"][0]["pointer"] == "/@context"


def test_an_envelope_with_the_base_context_as_a_string_is_opened(
    client: FlaskClient, token: str
) -> None:
    assert verify(client, enveloped(token, **{"@context": V2}))[0] == 200


def test_an_envelope_needs_a_data_url_and_its_type(client: FlaskClient, token: str) -> None:
    assert verify(client, enveloped(token, id=token))[0] == 400
    assert verify(client, enveloped(token, type="VerifiableCredential"))[0] == 400
    no_type = enveloped(token)
    del no_type["type"]
    assert verify(client, no_type)[0] == 400


def test_a_plain_application_jwt_envelope_is_a_vc_jwt(client: FlaskClient, token: str) -> None:
    status, body = verify(client, enveloped(token, media_type="application/jwt"))
    assert status == 200, body
    assert body["format"] == "vc+jwt"


def enveloped_vp(vp: str, media_type: str, context: Any = (V2,)) -> dict[str, Any]:
    return {
        "@context": list(context),
        "type": "EnvelopedVerifiablePresentation",
        "id": f"data:{media_type},{vp}",
    }


@pytest.mark.parametrize("media_type", ["application/vp+jwt", "application/jwt"])
def test_enveloped_presentations_of_the_jwt_media_types_are_verified(
    make_app: MakeApp, held: str, trader: KeyPair, media_type: str
) -> None:
    client = make_app(allow_caller_challenges=True).test_client()
    vp = present([held], trader, challenge="123456789", domain=DOMAIN, now=NOW)
    assert isinstance(vp, str)
    status, body = verify_vp(client, enveloped_vp(vp, media_type), challenge="123456789")
    assert status == 200, body
    assert body["format"] == "vp+jwt"
    # the envelope's own context is checked as a credential's is
    for context in ([], ["https://www.w3.org/ns/credentials/examples/v2"]):
        envelope = enveloped_vp(vp, media_type, context)
        status, body = verify_vp(client, envelope, challenge="123456789")
        assert status == 400 and codes(body) == ["MALFORMED"]


@pytest.mark.parametrize("media_type", ["application/vp+sd-jwt", "application/vp", "text/plain"])
def test_enveloped_presentations_we_cannot_verify_are_unsupported(
    client: FlaskClient, media_type: str
) -> None:
    status, body = verify_vp(client, enveloped_vp("eyJ.eyJ.sig", media_type), challenge="c")
    assert status == 400
    assert "UNSUPPORTED" in codes(body)


def test_the_serve_command_turns_callers_challenges_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[Flask] = []
    monkeypatch.setattr(verifier_cli, "serve_forever", _recorder(served))
    for name in [n for n in os.environ if n.startswith("VCRED_VERIFIER_")]:
        monkeypatch.delenv(name)
    arguments = ["serve", "verifier", "--port", "0", "--data-dir", str(tmp_path / "v")]
    for extra, expected in (([], False), (["--allow-caller-challenges"], True)):
        result = CliRunner().invoke(main, [*arguments, *extra])
        assert result.exit_code == 0, result.output
        service = served[-1].extensions["vcred_verifier"]
        assert service.config.allow_caller_challenges is expected
        assert ("not single-use" in result.output) is expected
        service.close()


def test_the_openapi_document_says_whether_callers_challenges_are_accepted(
    make_app: MakeApp,
) -> None:
    def challenge_option(client: FlaskClient) -> str:
        document = client.get("/openapi.json").get_json()
        operation = document["paths"]["/presentations/verify"]["post"]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        described: str = schema["properties"]["options"]["properties"]["challenge"]["description"]
        return described

    assert "NOT single-use" not in challenge_option(make_app().test_client())
    allowed = make_app(allow_caller_challenges=True).test_client()
    assert "NOT single-use" in challenge_option(allowed)


def _recorder(served: list[Flask]) -> Any:
    """A stand-in for serve_forever: records the app and closes the listening socket."""

    def serve(app: Flask, *, sock: socket.socket | None = None, **_: Any) -> None:
        served.append(app)
        if sock is not None:
            sock.close()

    return serve


@pytest.mark.parametrize(
    ("path", "member"),
    [
        ("/credentials/verify", "verifiableCredential"),
        ("/credentials/verify-batch", "verifiableCredentials"),
        ("/presentations/verify", "verifiablePresentation"),
    ],
)
def test_every_route_refuses_a_member_it_does_not_use(
    client: FlaskClient, held: str, path: str, member: str
) -> None:
    """VC API §3.4: an error for data an endpoint does not understand — ``option`` for
    ``options`` was ignored, and the credential verified with every check, not those asked."""
    value = [held] if member.endswith("s") else held
    status, mimetype, body = post(client, path, {member: value, "option": {"checks": ["proof"]}})
    assert (status, mimetype) == (400, "application/problem+json"), body
    assert body["pointer"] == "/option"
    assert "'option'" in body["detail"] and "options" in body["detail"]
