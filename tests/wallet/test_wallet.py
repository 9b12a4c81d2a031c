"""`vcred wallet`: the sealed store (passphrase, tampering) and the CLI end to end against a
served issuer over HTTP on loopback (receive, list, show, present, export)."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from flask import Flask

from issuer_app import create_app
from tests.issuer.conftest import DOMAIN, Clock, dispose, make_config
from tests.oid4vci_helpers import offer
from tests.wallet.conftest import PASSPHRASE, run
from vcred import Verifier, did_key, issue, jose, openid4vp, sdjwt
from vcred.customs.builders import build_aeo_certificate
from vcred.customs.samples import TRADERS
from vcred.errors import FetchRefusedError, MalformedError, UsageError
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.oid4vci import ProtocolError
from vcred.verifier import utc_now
from vcred.wallet import Wallet, _why
from vcred.wallet.transport import Answer, HttpTransport


def test_wrong_passphrase_is_refused(tmp_path: Path) -> None:
    Wallet.create(tmp_path / "w.db", PASSPHRASE)
    with pytest.raises(UsageError, match="wrong passphrase"):
        Wallet.open(tmp_path / "w.db", "not it")


def test_the_file_holds_no_key_or_claim_in_the_clear(tmp_path: Path) -> None:
    made = Wallet.create(tmp_path / "w.db", PASSPHRASE)
    data = (tmp_path / "w.db").read_bytes()
    secret = made._key.private_jwk()["d"]
    assert secret.encode() not in data
    assert (tmp_path / "w.db").stat().st_mode & 0o077 == 0
    assert Wallet.open(tmp_path / "w.db", PASSPHRASE).did == made.did


def test_a_swapped_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    made = Wallet.create(path, PASSPHRASE)
    made._store.put("key", "spare", KeyPair.generate("p256").private_jwk(), created="2026")
    with sqlite3.connect(path) as db:  # the spare key's sealed bytes moved to the holder's row
        db.execute(
            "UPDATE sealed SET data = (SELECT data FROM sealed WHERE name = 'spare') "
            "WHERE name = 'holder'"
        )
    with pytest.raises(UsageError, match="altered"):
        Wallet.open(path, PASSPHRASE)


def test_an_existing_file_is_not_overwritten(tmp_path: Path) -> None:
    Wallet.create(tmp_path / "w.db", PASSPHRASE)
    with pytest.raises(UsageError, match="exists"):
        Wallet.create(tmp_path / "w.db", PASSPHRASE)


def test_transport_refuses_loopback_unless_dev() -> None:
    with pytest.raises(FetchRefusedError):
        HttpTransport().request("GET", "https://127.0.0.1:9/x", headers={})
    with pytest.raises(FetchRefusedError):
        HttpTransport().request("GET", "http://example.com/x", headers={})


def test_cli_receives_lists_shows_presents_and_exports(
    served: tuple[Flask, str], tmp_path: Path
) -> None:
    app, base = served
    env = {"VCRED_WALLET": str(tmp_path / "trader.db"), "VCRED_WALLET_PASSPHRASE": PASSPHRASE}
    made = run("wallet", "init", env=env)
    assert made.exit_code == 0, made.output
    did = made.output.strip()
    assert did.startswith("did:jwk:")

    first = offer(app, "billing", "vc+sd-jwt")
    guarded = run("wallet", "receive", first.url, "--tx-code", first.tx_code, env=env)
    assert guarded.exit_code == 2
    assert "only https" in guarded.output  # a loopback issuer needs --dev
    refused = run("wallet", "receive", first.url, "--dev", env=env)
    assert refused.exit_code == 2
    assert refused.output.count("\n") == 1 and "transaction code" in refused.output

    billing = offer(app, "billing", "vc+sd-jwt")
    # the issuer's did:web names its public host: mapped to where it is served, as `vcred verify`
    mapped = ("--host-map", f"{DOMAIN}={base}")
    received = run(
        "wallet", "receive", billing.url, "--tx-code", billing.tx_code, "--dev", *mapped, env=env
    )
    assert received.exit_code == 0, received.output
    credential_id = received.output.split()[0]
    assert "ExportBillingAttestation" in received.output

    listed = run("wallet", "list", env=env)
    assert credential_id in listed.output and base in listed.output

    shown = json.loads(run("wallet", "show", credential_id, env=env).output)
    assert "/credentialSubject/invoice/totalAmount" in shown["disclosable"]

    presented = run(
        "wallet",
        "present",
        credential_id,
        "--audience",
        "https://verifier.example",
        "--nonce",
        "n-7",
        "--disclose",
        "/credentialSubject/invoice/totalAmount",
        env=env,
    )
    assert presented.exit_code == 0, presented.output
    token = presented.output.strip()
    assert token.count("~") >= 2  # SD-JWT ~ disclosure ~ KB-JWT
    kb = token.rsplit("~", 1)[1]
    assert jose.unverified_payload(kb)["nonce"] == "n-7"

    exported = run("wallet", "export", credential_id, env=env).output.strip()
    payload = jose.unverified_payload(exported.split("~")[0])
    assert payload["cnf"]["jwk"]["kid"] == did + "#0"  # bound to the wallet's key

    result = Verifier(fetcher=None, clock=Clock()).verify(exported, checks=["proof"])
    # the issuer's did:web is not resolvable without a fetcher: the library fails closed
    assert not result.verified

    wrong = run("wallet", "list", env={**env, "VCRED_WALLET_PASSPHRASE": "nope"})
    assert wrong.exit_code == 2 and "wrong passphrase" in wrong.output


def test_present_refuses_disclosure_choices_for_a_vc_jwt(tmp_path: Path) -> None:
    from tests.issuer.conftest import PUBLIC_URL
    from tests.oid4vci_helpers import AppTransport

    clock = Clock()
    app = create_app(make_config(tmp_path / "issuer", "sqlite", clock=clock))
    try:
        wallet = Wallet.create(tmp_path / "w.db", PASSPHRASE)
        made = offer(app, "aeo", "jwt_vc_json")
        [held] = wallet.receive(
            made.url, tx_code=made.tx_code, transport=AppTransport(app, PUBLIC_URL), now=clock
        )
        with pytest.raises(UsageError, match="reveals all its claims"):
            wallet.present(held.id, audience="a", nonce="n", disclose=["/credentialSubject"])
        with pytest.raises(UsageError, match="no credential"):
            wallet.get("ffff" if not held.id.startswith("ffff") else "0000")
        assert wallet.get(held.id[:4]).id == held.id
    finally:
        dispose(app, drop=False)


def test_wallet_refuses_a_credential_bound_to_another_key(tmp_path: Path) -> None:
    """An issuer (or a man in the middle) answering with a credential for someone else: the
    wallet keeps nothing."""
    from tests.issuer.conftest import PUBLIC_URL
    from tests.oid4vci_helpers import AppTransport
    from vcred import issue
    from vcred.errors import HolderMismatchError
    from vcred.wallet.transport import Answer

    other = KeyPair.generate("p256")

    class Swapping(AppTransport):
        def request(self, method: str, url: str, **kw: Any) -> Answer:
            answer = super().request(method, url, **kw)
            if url.endswith("/oid4vci/credential") and answer.status == 200:
                sd_jwt = issue(
                    {
                        "@context": ["https://www.w3.org/ns/credentials/v2"],
                        "type": ["VerifiableCredential"],
                        "credentialSubject": {"name": "someone else"},
                    },
                    KeyPair.generate(),
                    format="vc+sd-jwt",
                    holder=other,
                )
                body = json.dumps({"credentials": [{"credential": sd_jwt}]}).encode()
                return Answer(status=200, content_type="application/json", body=body)
            return answer

    clock = Clock()
    app = create_app(make_config(tmp_path / "issuer", "sqlite", clock=clock))
    try:
        wallet = Wallet.create(tmp_path / "w.db", PASSPHRASE)
        made = offer(app, "billing", "vc+sd-jwt")
        with pytest.raises(HolderMismatchError, match="another key"):
            wallet.receive(
                made.url, tx_code=made.tx_code, transport=Swapping(app, PUBLIC_URL), now=clock
            )
        assert wallet.credentials() == []
    finally:
        dispose(app, drop=False)


class _Answering:
    """A transport answering every request with one answer (a hostile server's)."""

    def __init__(self, body: bytes, status: int = 200) -> None:
        self.answer = Answer(status=status, content_type="application/json", body=body)

    def request(self, method: str, url: str, **kw: Any) -> Answer:
        return self.answer


@pytest.mark.parametrize(
    "body", [b"[" * 30_000 + b"]" * 30_000, b'{"a": ' * 20_000 + b"1" + b"}" * 20_000]
)
def test_an_answer_nested_past_the_parsers_recursion_is_a_protocol_error(
    tmp_path: Path, body: bytes
) -> None:
    # the wallet read an issuer's answer with json.loads: RecursionError out of receive()
    wallet = Wallet.create(tmp_path / "w.db", PASSPHRASE)
    link = "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.example%2Fo%2F1"
    with pytest.raises(ProtocolError, match="not JSON"):
        wallet.receive(link, tx_code=None, transport=_Answering(body), now=Clock())
    assert wallet.credentials() == []


def test_a_request_link_no_url_parser_reads_is_malformed(tmp_path: Path) -> None:
    # urlsplit raised ValueError (an invalid IPv6 host) out of respond()
    wallet = Wallet.create(tmp_path / "w.db", PASSPHRASE)
    with pytest.raises(MalformedError):
        wallet.respond("openid4vp://[?request_uri=x&client_id=y", transport=_Answering(b"{}"))


@pytest.mark.parametrize(
    "body", [b'{"problemDetails": 5}', b'{"problemDetails": null, "detail": 7}', b"[" * 30_000]
)
def test_a_verifiers_refusal_of_any_shape_is_told(body: bytes) -> None:
    # problemDetails that is no array: TypeError while telling why the verifier refused
    why = _why(Answer(status=400, content_type="application/json", body=body))
    assert why.startswith(("HTTP 400", "400"))


class _Verifier:
    """A verifier's two endpoints for ``Wallet.respond``: the signed request object at its
    request URI, and the response URI keeping what the wallet posts."""

    def __init__(self, request_object: str) -> None:
        self.request_object = request_object
        self.posted: list[bytes] = []

    def request(self, method: str, url: str, **kw: Any) -> Answer:
        if method == "GET":
            body = self.request_object.encode()
            return Answer(status=200, content_type="application/oauth-authz-req+jwt", body=body)
        self.posted.append(kw["body"])
        return Answer(status=200, content_type="application/json", body=b"{}")


def _asking_unbound(binding: bool) -> _Verifier:
    """A verifier asking an AEO certificate with require_cryptographic_holder_binding."""
    key = KeyPair.generate("ed25519")
    query = openid4vp.aeo_certificate_query()
    for entry in query["credentials"]:
        entry[openid4vp.HOLDER_BINDING] = binding
    request = openid4vp.AuthorizationRequest(
        client_id=openid4vp.DID_PREFIX + did_key(key.public),
        response_uri="https://verifier.example/oid4vp/responses/1",
        nonce="n" * 32,
        state="s" * 32,
        dcql_query=query,
    )
    signer = signer_for(key, did=did_key(key.public))
    return _Verifier(openid4vp.sign_request(request, signer, now=utc_now()))


def _keep_certificate(wallet: Wallet, fmt: str) -> None:
    agency = KeyPair.generate("ed25519")
    now = utc_now()
    certificate = build_aeo_certificate(
        {**TRADERS["us-prairie"], "id": wallet.did},
        issuer=did_key(agency.public),
        valid_from=now - timedelta(days=30),
        valid_until=now + timedelta(days=300),
    )
    binding = {"holder": wallet.public_key} if fmt == "vc+sd-jwt" else {}
    held = issue(certificate, agency, format=fmt, **binding)
    wallet.keep(str(held), format=fmt, credential_issuer="https://customs.example")


@pytest.mark.parametrize("binding", [True, False])
def test_the_wallet_binds_its_sd_jwt_whatever_the_request_says(
    tmp_path: Path, binding: bool
) -> None:
    """OpenID4VP §6.1 require_cryptographic_holder_binding false: an SD-JWT "MAY" come without
    its key-binding JWT (§B.3); the wallet binds it all the same (no bearer token)."""
    wallet = Wallet.create(tmp_path / "w.db", PASSPHRASE)
    _keep_certificate(wallet, "vc+sd-jwt")
    verifier = _asking_unbound(binding)
    done = wallet.respond("https://verifier.example/oid4vp/requests/1/object", transport=verifier)
    assert done.presented == (wallet.credentials()[0].id,)
    (posted,) = verifier.posted
    (presentation,) = json.loads(parse_qs(posted.decode())["vp_token"][0])["aeo_sd_jwt"]
    assert sdjwt.parse(presentation).kb_jwt is not None


def test_the_wallet_does_not_hand_out_a_jwt_credential_as_a_bearer_token(tmp_path: Path) -> None:
    """§B.1: false asks a bare jwt_vc_json credential ("a Verifiable Credential without Holder
    Binding MUST be returned"), which whoever receives it could present again: the wallet
    answers nothing (a usage error naming the member), and posts nothing."""
    wallet = Wallet.create(tmp_path / "w.db", PASSPHRASE)
    _keep_certificate(wallet, "vc+jwt")
    verifier = _asking_unbound(False)
    with pytest.raises(UsageError, match=openid4vp.HOLDER_BINDING):
        wallet.respond("https://verifier.example/oid4vp/requests/1/object", transport=verifier)
    assert verifier.posted == []
