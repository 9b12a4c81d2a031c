"""Nothing issued is lost or duplicated: idempotent retries (also racing), one transaction per
issuance, the audit chain, and key rotation."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from issuer_app import issuer_of
from issuer_app.store.records import RecordQuery
from tests.issuer.conftest import (
    DID_WEB,
    ApiClient,
    Clock,
    assert_consistent,
    auth,
    credential,
    verifier,
)
from vcred import jose
from vcred.audit import verify_chain
from vcred.errors import UsageError


def _token(answer: Any) -> str:
    return str(answer.get_json()["verifiableCredential"]["id"].split(",", 1)[1])


def test_a_retried_request_gets_the_first_answer(app: Flask, api: ApiClient) -> None:
    headers = {**auth(app), "Idempotency-Key": "order-2026-0001"}
    document = credential()
    first = api.issue(document, headers)
    second = api.issue(document, headers)
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert assert_consistent(issuer_of(app)) == 1

    other = api.issue({**document, "validUntil": "2028-01-01T00:00:00Z"}, headers)
    assert other.status_code == 422
    assert other.get_json()["code"] == "IDEMPOTENCY_KEY_REUSED"

    too_long = api.issue(credential(), {**auth(app), "Idempotency-Key": "k" * 256})
    assert too_long.status_code == 400


def test_racing_requests_with_one_key_issue_once(app: Flask) -> None:
    headers = {**auth(app), "Idempotency-Key": "race-1"}
    body = {"credential": credential()}
    racers = 6
    gate = threading.Barrier(racers)
    answers: list[tuple[int, Any]] = []
    lock = threading.Lock()

    def race() -> None:
        client = app.test_client()
        gate.wait()
        response = client.post("/credentials/issue", json=body, headers=headers)
        with lock:
            answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {status for status, _ in answers} == {201}
    assert all(answer == answers[0][1] for _, answer in answers)
    assert assert_consistent(issuer_of(app)) == 1


def test_racing_requests_with_one_credential_id_issue_once(app: Flask) -> None:
    document = credential()
    headers = auth(app)
    statuses: list[int] = []
    gate = threading.Barrier(4)

    def race() -> None:
        client = app.test_client()
        gate.wait()
        response = client.post("/credentials/issue", json={"credential": document}, headers=headers)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409, 409, 409]
    assert assert_consistent(issuer_of(app)) == 1


def test_a_failure_after_allocating_leaves_nothing_behind(sqlite_app: Flask) -> None:
    api = ApiClient(sqlite_app)
    headers = auth(sqlite_app)
    assert api.issue(credential(), headers).status_code == 201
    # "_sd" is reserved by SD-JWT: signing fails inside the transaction, after allocation
    broken = credential(credentialSubject={"id": "did:example:x", "_sd": ["x"]})
    answer = api.issue(broken, headers, options={"format": "vc+sd-jwt"})
    assert answer.status_code == 400
    assert answer.get_json()["detail"].startswith("_sd is reserved")
    assert assert_consistent(issuer_of(sqlite_app)) == 1
    assert api.issue(credential(), headers).status_code == 201  # and the next one still works
    assert assert_consistent(issuer_of(sqlite_app)) == 2


def test_the_audit_chain_records_every_change(app: Flask, api: ApiClient) -> None:
    service = issuer_of(app)
    headers = auth(app)
    document = credential()
    api.issue(document, headers)
    api.post(
        "/credentials/status",
        json={
            "credentialId": document["id"],
            "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
        },
        headers=headers,
    )
    chain = list(service.store.audit_entries())
    assert [e["action"] for e in chain] == [
        "initialise",
        "token-create",
        "issue",
        "status-revoked",
    ]
    assert chain[2]["target"] == document["id"]
    assert chain[2]["actor"].startswith("token:")
    assert chain[3]["details"]["after"] == "revoked"
    assert assert_consistent(service) == 1

    audit = service.store.t.audit
    with service.store.engine.begin() as conn:  # someone edits the log in the database
        conn.execute(update(audit).where(audit.c.seq == 3).values(actor="officer:mallory"))
    report = verify_chain(service.store.audit_entries())
    assert [(b.seq, "altered" in b.message) for b in report.breaks] == [(3, True)]


def test_key_rotation_keeps_old_credentials_verifying(
    app: Flask, api: ApiClient, clock: Clock
) -> None:
    service = issuer_of(app)
    headers = auth(app)
    old_key = service.keyring().first_current(("ed25519",))
    before = api.issue(credential(), headers)
    by_old_did_key = api.issue(credential(issuer=old_key.did_key), headers)
    assert jose.unverified_header(_token(before))["kid"] == (
        f"{DID_WEB}#{old_key.public.multikey()}"
    )

    new_key = service.add_key("ed25519", actor="test")
    service.retire_key(old_key.tag, actor="test")
    document = api.get("/.well-known/did.json").get_json()
    old_method = f"{DID_WEB}#{old_key.public.multikey()}"
    new_method = f"{DID_WEB}#{new_key.public.multikey()}"
    assert old_method in document["assertionMethod"]
    assert old_method not in document["authentication"]
    assert new_method in document["assertionMethod"]

    after = api.issue(credential(), headers)
    assert jose.unverified_header(_token(after))["kid"] == new_method
    for answer in (before, after, by_old_did_key):
        result = verifier(app, clock).verify(_token(answer))
        assert result.verified, result.errors

    refused = api.issue(credential(issuer=old_key.did_key), headers)
    assert refused.status_code == 400
    assert refused.get_json()["pointer"] == "/credential/issuer"
    assert "retired" in refused.get_json()["detail"]

    # what the retired key issued as its did:key can still be revoked, and that shows
    revoked_id = jose.unverified_payload(_token(by_old_did_key))["id"]
    api.post(
        "/credentials/status",
        json={
            "credentialId": revoked_id,
            "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
        },
        headers=headers,
    )
    assert verifier(app, clock).verify(_token(by_old_did_key)).codes == ("REVOKED",)


def test_the_last_current_key_cannot_be_retired(sqlite_app: Flask) -> None:
    service = issuer_of(sqlite_app)
    keys = service.keyring().current
    for key in keys[:-1]:
        service.retire_key(key.tag, actor="test")
    with pytest.raises(UsageError, match="last current key"):
        service.retire_key(keys[-1].tag, actor="test")
    with pytest.raises(UsageError, match="no key"):
        service.retire_key("nonesuch", actor="test")


def test_search_by_subject_type_and_status(sqlite_app: Flask) -> None:
    api = ApiClient(sqlite_app)
    headers = auth(sqlite_app)
    names = ["Harbour Lights Trading", "Contoh Logistik 50%_off", "Harbour Freight"]
    ids = []
    for name in names:
        document = credential(credentialSubject={"id": f"did:example:{len(ids)}", "name": name})
        ids.append(document["id"])
        api.issue(document, headers)
    service = issuer_of(sqlite_app)

    def found(**query: Any) -> list[str]:
        rows, total = service.search(RecordQuery(**query))
        assert total == len(rows)
        return sorted(row.subject_name for row in rows)

    assert found(text="harbour") == ["Harbour Freight", "Harbour Lights Trading"]
    assert found(text="50%_") == ["Contoh Logistik 50%_off"]
    assert found(text="did:example:1") == ["Contoh Logistik 50%_off"]
    assert found(text=ids[2]) == ["Harbour Freight"]
    assert found(type="VerifiableCredential") == sorted(names)
    assert found(type="AEOCertificateCredential") == []
    service.change_status(ids[0], "suspended", actor="test")
    assert found(status="suspended") == ["Harbour Lights Trading"]
    assert found(status="active", text="harbour") == ["Harbour Freight"]


def test_status_changes_racing_on_one_list_each_land_once(app: Flask, clock: Clock) -> None:
    """Workers changing statuses in one list at once (and two suspending the same credential)
    lose no change and record none twice: the served list shows every one, the audit chain
    holds one entry per request and verifies."""
    headers = auth(app)
    client = app.test_client()
    documents = [credential() for _ in range(6)]
    tokens = []
    for document in documents:
        issued = client.post("/credentials/issue", json={"credential": document}, headers=headers)
        assert issued.status_code == 201, issued.get_json()
        tokens.append(_token(issued))
    # the first credential is suspended by two workers; each other one by one
    targets = [documents[0]["id"]] + [document["id"] for document in documents]
    gate = threading.Barrier(len(targets))
    statuses: list[int] = []

    def suspend(credential_id: str) -> None:
        mine = app.test_client()
        gate.wait()
        answer = mine.post(
            "/credentials/status",
            json={
                "credentialId": credential_id,
                "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "suspended"}],
            },
            headers=headers,
        )
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=suspend, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * len(targets)
    assert all(verifier(app, clock).verify(token).codes == ("SUSPENDED",) for token in tokens)
    assert assert_consistent(issuer_of(app)) == len(documents)
    chain = list(issuer_of(app).store.audit_entries())
    assert sum(entry["action"] == "status-suspended" for entry in chain) == len(targets)
