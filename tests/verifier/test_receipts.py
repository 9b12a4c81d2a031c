"""Verification receipts (options.receipt) and the verifier's audit chain."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import delete, update

from tests.interop.node import run_peer
from tests.verifier.conftest import NOW, PG_URL, US_DID, Agency, MakeApp, tamper
from vcred import Verifier, did_key
from vcred.audit import parse_lines, verify_chain
from vcred.cli import main
from vcred.did import did_web_document
from vcred.errors import UsageError
from vcred.jose import unverified_payload
from vcred.keys import KeyPair
from vcred.testing import StaticFetcher
from vcred.verifier import VerificationResult
from verifier_app import batch as batch_module
from verifier_app.cli import admin

DATABASE_URL = os.environ.get("VCRED_TEST_DATABASE_URL", PG_URL)


@pytest.fixture(scope="module")
def receipt_key() -> KeyPair:
    return KeyPair.generate("ed25519")


@pytest.fixture
def receipt_app(make_app: MakeApp, tmp_path: Path, receipt_key: KeyPair) -> Flask:
    key_file = tmp_path / "receipt-key.jwk"
    key_file.write_text(json.dumps(receipt_key.private_jwk()))
    return make_app(receipt_key=key_file)


def sri(data: bytes) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()


def verify_with_receipt(app: Flask, credential: Any, **options: Any) -> dict[str, Any]:
    response = app.test_client().post(
        "/credentials/verify",
        json={"verifiableCredential": credential, "options": {"receipt": True, **options}},
    )
    body: dict[str, Any] = response.get_json()
    return body


def receipt_claims(token: str) -> dict[str, Any]:
    """The receipt's claims, verified by vcred (its did:key issuer resolves offline)."""
    result = Verifier(clock=lambda: NOW).verify(token)
    assert result.verified, result.to_dict()
    assert result.credential is not None
    return dict(result.credential)


def test_a_receipt_states_the_decision_and_what_it_rests_on(
    receipt_app: Flask, agency: Agency, receipt_key: KeyPair
) -> None:
    token = agency.issue(agency.aeo_certificate())
    body = verify_with_receipt(receipt_app, token)
    assert body["verified"] is True
    claims = receipt_claims(body["receipt"])
    assert claims["type"] == ["VerifiableCredential", "VerificationReceipt"]
    assert claims["issuer"] == did_key(receipt_key.public)
    assert claims["validFrom"] == "2026-06-01T12:00:00Z"
    subject = claims["credentialSubject"]
    assert subject["verified"] is True and subject["verifiedAt"] == "2026-06-01T12:00:00Z"
    assert subject["verifiedCredential"]["digestSRI"] == sri(token.encode())
    assert subject["verifiedCredential"]["issuer"] == US_DID
    assert [(c["check"], c["outcome"]) for c in subject["checks"]] == [
        (c["check"], "passed") for c in body["checks"]
    ]
    assert subject["errors"] == []
    service = receipt_app.extensions["vcred_verifier"]
    assert subject["trustList"]["digestSRI"] == sri(service.config.trust_list.read_bytes())
    assert subject["trustList"]["validFrom"] == "2026-01-01T00:00:00Z"
    purposes = [(s["statusPurpose"], s["value"]) for s in subject["statusLists"]]
    assert purposes == [("revocation", 0), ("suspension", 0)]
    assert all(s["validFrom"] == "2026-05-31T12:00:00Z" for s in subject["statusLists"])
    # the receipt names its entry in the verifier's audit chain, which names the receipt
    entries = list(service.storage.audit.entries())
    named = [e for e in entries if e["details"].get("receipt") == claims["id"]]
    assert len(named) == 1
    assert subject["auditEntry"] == {"seq": named[0]["seq"], "hash": named[0]["hash"]}
    assert named[0]["target"] == sri(token.encode())


def test_a_receipt_names_the_trust_list_the_decision_was_made_under(
    receipt_app: Flask, agency: Agency
) -> None:
    """The trust list feed may swap the list between a verification and its receipt: the
    receipt names the list the verifier decided under, not the one held when it is signed."""
    service = receipt_app.extensions["vcred_verifier"]
    verifier = service.verifier
    result = verifier.verify(agency.issue(agency.aeo_certificate()))
    assert result.verified, result.errors
    decided = verifier.trust
    newer = dataclasses.replace(
        decided, id="urn:vcred:test:newer-list", sequence=8, digest=sri(b"the newer list")
    )
    service.trust = newer
    outcome = service.answer_credential(result, receipt=True, trust=decided)
    named = receipt_claims(outcome.body["receipt"])["credentialSubject"]["trustList"]
    assert named.get("id") == decided.id and named.get("sequenceNumber") == decided.sequence
    assert named["digestSRI"] == decided.digest != newer.digest
    assert result.trust is not None and result.trust.trust_list == (decided.id or decided.issuer)


def test_a_receipt_of_a_refusal_says_why(receipt_app: Flask, agency: Agency) -> None:
    credential = agency.aeo_certificate()
    token = agency.issue(credential)
    agency.set(credential, "revoked")
    body = verify_with_receipt(receipt_app, token)
    assert body["verified"] is False
    subject = receipt_claims(body["receipt"])["credentialSubject"]
    assert subject["verified"] is False and subject["errors"] == ["REVOKED"]
    assert ("status", "failed") in [(c["check"], c["outcome"]) for c in subject["checks"]]
    assert subject["statusLists"][0]["value"] == 1


def test_a_forged_credential_gets_a_receipt_without_its_claims(
    receipt_app: Flask, agency: Agency
) -> None:
    forged = tamper(agency.issue(agency.aeo_certificate()))
    subject = receipt_claims(verify_with_receipt(receipt_app, forged)["receipt"])[
        "credentialSubject"
    ]
    assert subject["verified"] is False and subject["errors"] == ["INVALID_SIGNATURE"]
    assert subject["verifiedCredential"] == {"format": "vc+jwt", "digestSRI": sri(forged.encode())}


def test_a_receipt_with_unevaluated_checks_says_so_in_words(
    receipt_app: Flask, agency: Agency
) -> None:
    token = agency.issue(agency.aeo_certificate())
    subject = receipt_claims(verify_with_receipt(receipt_app, token, checks=["proof"])["receipt"])[
        "credentialSubject"
    ]
    assert [c["check"] for c in subject["checks"]] == ["proof"]
    assert subject["statusLists"] == []


def test_receipts_without_a_receipt_key_are_refused_before_verifying(
    app: Flask, agency: Agency
) -> None:
    token = agency.issue(agency.aeo_certificate())
    response = app.test_client().post(
        "/credentials/verify",
        json={"verifiableCredential": token, "options": {"receipt": True}},
    )
    assert response.status_code == 422
    assert response.get_json()["code"] == "RECEIPTS_NOT_CONFIGURED"
    assert app.extensions["vcred_verifier"].storage.recent() == []
    batch = app.test_client().post(
        "/credentials/verify-batch",
        json={"verifiableCredentials": [token], "options": {"receipt": True}},
    )
    assert batch.status_code == 422


def test_a_receipt_option_that_is_not_a_boolean_is_malformed(receipt_app: Flask) -> None:
    response = receipt_app.test_client().post(
        "/credentials/verify", json={"verifiableCredential": "a.b.c", "options": {"receipt": 1}}
    )
    assert response.status_code == 400
    assert response.get_json()["pointer"] == "/options/receipt"


def test_no_receipt_unless_asked(receipt_app: Flask, agency: Agency) -> None:
    token = agency.issue(agency.aeo_certificate())
    body = receipt_app.test_client().post(
        "/credentials/verify", json={"verifiableCredential": token}
    )
    assert "receipt" not in body.get_json()


def test_a_receipt_issuer_without_a_key_is_refused(make_app: MakeApp) -> None:
    with pytest.raises(UsageError, match="receipt_key"):
        make_app(receipt_issuer="did:web:verifier.example")


def test_every_item_of_a_batch_gets_its_own_receipt(receipt_app: Flask, agency: Agency) -> None:
    token = agency.issue(agency.aeo_certificate())
    response = receipt_app.test_client().post(
        "/credentials/verify-batch",
        json={"verifiableCredentials": [token, tamper(token), 5], "options": {"receipt": True}},
    )
    results = response.get_json()["results"]
    subjects = [receipt_claims(r["receipt"])["credentialSubject"] for r in results]
    assert [s["verified"] for s in subjects] == [True, False, False]
    assert subjects[2]["errors"] == ["MALFORMED"]
    assert len({s["auditEntry"]["seq"] for s in subjects}) == 3


def test_vcred_verify_checks_a_receipt_on_the_command_line(
    receipt_app: Flask, agency: Agency, tmp_path: Path
) -> None:
    receipt = verify_with_receipt(receipt_app, agency.issue(agency.aeo_certificate()))["receipt"]
    path = tmp_path / "receipt.jwt"
    path.write_text(receipt)
    done = CliRunner().invoke(main, ["verify", str(path)])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["verified"] is True
    path.write_text(tamper(receipt))
    assert CliRunner().invoke(main, ["verify", str(path)]).exit_code != 0


@pytest.mark.interop
def test_jose_verifies_a_receipt_with_the_verifier_key(
    receipt_app: Flask, agency: Agency, receipt_key: KeyPair
) -> None:
    receipt = verify_with_receipt(receipt_app, agency.issue(agency.aeo_certificate()))["receipt"]
    answer = run_peer(
        "jose_peer.mjs",
        {"action": "verify", "token": receipt, "jwk": receipt_key.public.jwk(), "alg": "EdDSA"},
    )
    assert answer["verified"], answer
    assert answer["header"]["typ"] == "vc+jwt"
    assert answer["payload"] == unverified_payload(receipt)
    assert answer["payload"]["credentialSubject"]["verified"] is True
    other = KeyPair.generate().public.jwk()
    refused = run_peer(
        "jose_peer.mjs", {"action": "verify", "token": receipt, "jwk": other, "alg": "EdDSA"}
    )
    assert not refused["verified"]


# -- the audit chain -----------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def chained_app(
    request: pytest.FixtureRequest, receipt_app: Flask, make_app: MakeApp
) -> Iterator[Flask]:
    if request.param == "sqlite":
        yield receipt_app
        return
    app = make_app(
        database_url=DATABASE_URL,
        table_prefix=f"t{secrets.token_hex(4)}_",
        receipt_key=receipt_app.extensions["vcred_verifier"].config.receipt_key,
    )
    yield app
    app.extensions["vcred_verifier"].storage.drop()


def _verify_a_few(app: Flask, agency: Agency) -> None:
    client = app.test_client()
    token = agency.issue(agency.aeo_certificate())
    client.post("/credentials/verify", json={"verifiableCredential": token})
    client.post(
        "/credentials/verify",
        json={"verifiableCredential": token, "options": {"receipt": True}},
    )
    client.post("/credentials/verify", json={"verifiableCredential": tamper(token)})
    client.post("/credentials/verify-batch", json={"verifiableCredentials": [token, 3]})


def test_every_verification_is_chained_and_the_chain_verifies(
    chained_app: Flask, agency: Agency
) -> None:
    _verify_a_few(chained_app, agency)
    storage = chained_app.extensions["vcred_verifier"].storage
    storage.flush()
    entries = list(storage.audit.entries())
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert [e["details"]["verified"] for e in entries] == [True, True, False, True, False]
    assert all(e["action"] == "verify-credential" and e["actor"] == "api" for e in entries)
    report = verify_chain(entries, expect_head=storage.audit.head()[1])
    assert report.intact, report.as_dict()


def test_an_altered_verification_breaks_the_chain_there(chained_app: Flask, agency: Agency) -> None:
    _verify_a_few(chained_app, agency)
    storage = chained_app.extensions["vcred_verifier"].storage
    storage.flush()
    table = storage.audit.entries_table
    with storage.engine.begin() as conn:
        # a refusal rewritten as a success
        conn.execute(
            update(table)
            .where(table.c.seq == 3)
            .values(details=json.dumps({"verified": True, "codes": []}))
        )
    report = verify_chain(storage.audit.entries())
    assert [(b.seq, b.message) for b in report.breaks] == [
        (3, "hash does not match the entry: it was altered")
    ]


def test_a_removed_verification_breaks_the_chain_there(chained_app: Flask, agency: Agency) -> None:
    _verify_a_few(chained_app, agency)
    storage = chained_app.extensions["vcred_verifier"].storage
    storage.flush()
    table = storage.audit.entries_table
    with storage.engine.begin() as conn:
        conn.execute(delete(table).where(table.c.seq == 2))
    report = verify_chain(storage.audit.entries())
    assert not report.intact
    assert {b.seq for b in report.breaks} == {3}


def test_the_chain_is_exported_for_vcred_audit_verify(
    receipt_app: Flask, agency: Agency, tmp_path: Path
) -> None:
    _verify_a_few(receipt_app, agency)
    service = receipt_app.extensions["vcred_verifier"]
    service.storage.flush()  # what this worker still holds (written every few seconds)
    out = tmp_path / "chain.jsonl"
    result = CliRunner().invoke(
        admin,
        ["audit", "export", "--out", str(out), "--data-dir", str(service.config.data_dir)],
    )
    assert result.exit_code == 0, result.output
    assert "5 entries; head" in result.output
    entries = parse_lines(out.read_bytes())
    assert verify_chain(entries, expect_head=service.storage.audit.head()[1]).intact


def test_receipts_signed_before_a_receipt_key_rotation_keep_verifying_and_later_ones_do_not(
    make_app: MakeApp, agency: Agency, tmp_path: Path
) -> None:
    # A did:web receipt issuer rotates its receipt key: the old key stays in its DID document,
    # retired with a CID `revoked` time. A receipt signed before verifies with vcred after the
    # rotation; one the old key signs after it (the key leaked) is refused; with the old key
    # dropped from the document, the receipts it signed no longer verify (docs/services.md).
    did = "did:web:verifier.example"
    url = "https://verifier.example/.well-known/did.json"
    old, new = KeyPair.generate("ed25519"), KeyPair.generate("ed25519")
    rotated = NOW + timedelta(days=1)
    later = NOW + timedelta(days=2)

    def receipt(key: KeyPair, at: datetime) -> str:
        key_file = tmp_path / f"receipt-{secrets.token_hex(4)}.jwk"
        key_file.write_text(json.dumps(key.private_jwk()))
        app = make_app(receipt_key=key_file, receipt_issuer=did, clock=lambda: at)
        token = agency.issue(agency.aeo_certificate(status=False))
        return str(verify_with_receipt(app, token, checks=["proof"])["receipt"])

    def verified(token: str, document: dict[str, Any]) -> VerificationResult:
        fetcher = StaticFetcher()
        fetcher.publish(url, json.dumps(document))
        return Verifier(fetcher=fetcher, clock=lambda: later).verify(token)

    before = receipt(old, NOW)
    after_rotation = did_web_document(
        did, [new.public], retired=[old.public], revoked={old.public: rotated}
    )
    assert verified(before, after_rotation).verified
    assert verified(receipt(new, later), after_rotation).verified
    forged = verified(receipt(old, later), after_rotation)
    assert forged.codes == ("KEY_REVOKED",)
    dropped = verified(before, did_web_document(did, [new.public]))
    assert not dropped.verified


def test_items_refused_for_their_depth_or_duplicate_names_get_their_receipts(
    receipt_app: Flask, agency: Agency
) -> None:
    """Items the whole body's parse could not read get their receipts too: one nested far
    past the depth limit says MALFORMED (its digest kept: canonicalising it for the digest
    took 900 levels), one with a member name twice PARSING_ERROR (no digest: no parser read
    a value)."""
    token = json.dumps(agency.issue(agency.aeo_certificate()))
    deep = '{"n":' + "[" * 900 + "]" * 900 + "}"
    duplicate = '{"id":"urn:x:1","id":"urn:x:2"}'
    response = receipt_app.test_client().post(
        "/credentials/verify-batch",
        data='{"verifiableCredentials":[' + ",".join([token, deep, duplicate]) + "],"
        '"options":{"receipt":true}}',
        content_type="application/json",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    subjects = [
        receipt_claims(r["receipt"])["credentialSubject"] for r in response.get_json()["results"]
    ]
    assert [s["verified"] for s in subjects] == [True, False, False]
    assert [s["errors"] for s in subjects[1:]] == [["MALFORMED"], ["PARSING_ERROR"]]
    digests = ["digestSRI" in s["verifiedCredential"] for s in subjects]
    assert digests == [True, True, False]
    assert len({s["auditEntry"]["seq"] for s in subjects}) == 3


# -- a receipt that cannot be signed ------------------------------------------------------------


@dataclasses.dataclass
class UnavailableKey:
    """A receipt key whose token went away (an HSM unplugged, a key file gone): signing raises
    from the ``fail_from``-th signature on (0: every one)."""

    inner: KeyPair
    fail_from: int = 0
    signed: int = 0

    @property
    def kind(self) -> Any:
        return self.inner.kind

    @property
    def public(self) -> Any:
        return self.inner.public

    def sign(self, data: bytes, *, deterministic: bool = False) -> bytes:
        if self.signed >= self.fail_from:
            raise RuntimeError("CKR_DEVICE_REMOVED")
        self.signed += 1
        return self.inner.sign(data, deterministic=deterministic)


def _unavailable(app: Flask, receipt_key: KeyPair, *, fail_from: int = 0) -> None:
    """The app's receipt issuer signs with :class:`UnavailableKey` from now on."""
    service = app.extensions["vcred_verifier"]
    signer = dataclasses.replace(
        service.receipts.signer, key=UnavailableKey(receipt_key, fail_from=fail_from)
    )
    service.receipts = dataclasses.replace(service.receipts, signer=signer)


def _receipts_named(entries: list[dict[str, Any]]) -> list[str]:
    return [e["details"]["receipt"] for e in entries if "receipt" in e["details"]]


def test_a_receipt_that_cannot_be_signed_is_named_by_no_entry(
    chained_app: Flask, agency: Agency, receipt_key: KeyPair
) -> None:
    # The verification was recorded (its entry naming the receipt's id) before the receipt was
    # signed: a signer that raised left the audit chain naming a receipt never issued, and the
    # client a 500. Now the entry and the receipt are one transaction: a 503 to retry, and
    # nothing recorded names a receipt that does not exist (nor is a verification whose
    # answer was refused recorded, as for any 503).
    client = chained_app.test_client()
    token = agency.issue(agency.aeo_certificate())
    storage = chained_app.extensions["vcred_verifier"].storage
    assert (
        client.post("/credentials/verify", json={"verifiableCredential": token}).status_code == 200
    )
    healthy = chained_app.extensions["vcred_verifier"].receipts
    _unavailable(chained_app, receipt_key)
    refused = client.post(
        "/credentials/verify", json={"verifiableCredential": token, "options": {"receipt": True}}
    )
    assert refused.status_code == 503, refused.get_data(as_text=True)
    assert refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert problem["code"] == "RECEIPT_NOT_SIGNED"
    assert "receipt could not be signed" in problem["detail"]
    assert "CKR_DEVICE_REMOVED" not in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0
    storage.flush()
    entries = list(storage.audit.entries())
    # the verification buffered before it is written (the failed write put it back), once
    assert [e["details"]["verified"] for e in entries] == [True]
    assert _receipts_named(entries) == []
    assert len(storage.recent()) == 1
    # the key back: the next receipt names the next entry, which names it
    chained_app.extensions["vcred_verifier"].receipts = healthy
    body = verify_with_receipt(chained_app, token)
    subject = receipt_claims(body["receipt"])
    storage.flush()
    entries = list(storage.audit.entries())
    assert [e["seq"] for e in entries] == [1, 2]
    assert subject["credentialSubject"]["auditEntry"]["seq"] == 2
    assert _receipts_named(entries) == [subject["id"]]
    assert verify_chain(entries, expect_head=storage.audit.head()[1]).intact


def test_a_batch_whose_receipts_cannot_all_be_signed_records_none_of_them(
    chained_app: Flask, agency: Agency, receipt_key: KeyPair
) -> None:
    # the second item's receipt fails: the first's, signed, was recorded and never answered
    token = agency.issue(agency.aeo_certificate())
    _unavailable(chained_app, receipt_key, fail_from=1)
    refused = chained_app.test_client().post(
        "/credentials/verify-batch",
        json={"verifiableCredentials": [token, tamper(token)], "options": {"receipt": True}},
    )
    assert refused.status_code == 503, refused.get_data(as_text=True)
    assert refused.get_json()["code"] == "RECEIPT_NOT_SIGNED"
    storage = chained_app.extensions["vcred_verifier"].storage
    storage.flush()
    assert list(storage.audit.entries()) == []
    assert storage.recent() == []


def test_a_streamed_batch_answers_the_chunks_whose_receipts_were_signed_and_records_only_them(
    chained_app: Flask, agency: Agency, receipt_key: KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_module, "STREAM_CHUNK", 1)
    token = agency.issue(agency.aeo_certificate())
    client = chained_app.test_client()
    storage = chained_app.extensions["vcred_verifier"].storage
    request = {"verifiableCredentials": [token, token], "options": {"receipt": True}}
    ndjson = {"Accept": "application/x-ndjson"}
    # the first chunk's receipt fails: a 503 before the stream begins, not a 200 cut short
    _unavailable(chained_app, receipt_key)
    refused = client.post("/credentials/verify-batch", json=request, headers=ndjson)
    assert refused.status_code == 503, refused.get_data(as_text=True)
    assert refused.get_json()["code"] == "RECEIPT_NOT_SIGNED"
    # the second's fails: the first is answered with its receipt, and the stream ends with a
    # line saying why and what was left unanswered (not cut short: a network fault looks so)
    _unavailable(chained_app, receipt_key, fail_from=1)
    streamed = client.post("/credentials/verify-batch", json=request, headers=ndjson)
    assert streamed.status_code == 200
    first, last = (json.loads(line) for line in streamed.get_data(as_text=True).splitlines())
    assert last["unanswered"] == [1, 2]
    assert (last["problem"]["status"], last["problem"]["code"]) == (503, "RECEIPT_NOT_SIGNED")
    storage.flush()
    entries = list(storage.audit.entries())
    assert [e["seq"] for e in entries] == [1]
    assert _receipts_named(entries) == [receipt_claims(first["receipt"])["id"]]
