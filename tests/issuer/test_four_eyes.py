"""The four-eyes rule (``four_eyes=True``): a revocation or a trust list an officer asks for
happens only when a second officer with the right role approves it; the request and the
decision are both in the audit chain; nobody decides their own request (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from issuer_app import issuer_of
from issuer_app.approvals import APPROVING_LEASE
from issuer_app.service import PUBLISHED_TRUST_LIST
from tests.hardening.test_trust_list_authority import unsigned_list
from tests.issuer.conftest import ApiClient, Clock, auth, credential, verifier
from tests.issuer.test_ui import csrf_of, logged_in
from vcred.audit import verify_chain
from vcred_service.problems import ProblemError


@pytest.fixture
def app(make_app: Callable[..., Flask], backend: str) -> Flask:
    return make_app(backend, four_eyes=True)


def chain(app: Flask) -> list[dict[str, Any]]:
    store = issuer_of(app).store
    entries = list(store.audit_entries())
    assert verify_chain(entries, expect_head=store.audit_head()[1]).intact
    return entries


def request_revocation(client: FlaskClient, record_id: str) -> str:
    path = f"/officer/credentials/{record_id}"
    html = client.get(path).get_data(as_text=True)
    assert "Request revocation" in html
    answer = client.post(f"{path}/status", data={"action": "revoke", "csrf_token": csrf_of(html)})
    assert answer.status_code == 302
    return client.get(answer.headers["Location"]).get_data(as_text=True)


def decide(client: FlaskClient, request_id: str, decision: str) -> Any:
    html = client.get("/officer/credentials").get_data(as_text=True)
    return client.post(
        f"/officer/approvals/{request_id}",
        data={"decision": decision, "csrf_token": csrf_of(html)},
    )


def only_pending(app: Flask) -> Any:
    (row,) = issuer_of(app).approvals.listed(pending=True)
    return row


def test_a_revocation_waits_for_a_second_supervisor(app: Flask, clock: Clock) -> None:
    sam = logged_in(app, "sam", role="supervisor")
    sue = logged_in(app, "sue", role="supervisor")
    document = credential()
    record_id = issuer_of(app).issue_credential(document, actor="test").record_id
    html = request_revocation(sam, record_id)
    assert "Revocation requested" in html and 'id="awaiting"' in html
    assert 'value="revoke"' not in html  # no second request while one waits
    row = issuer_of(app).record(record_id)
    assert row is not None and row.status == "active"
    assert verifier(app, clock).verify(row.secured).verified  # nothing happened yet

    request = only_pending(app)
    listing = sue.get("/officer/approvals").get_data(as_text=True)
    assert request.summary in listing and "Approve" in listing
    approved = decide(sue, request.id, "approve")
    assert approved.status_code == 302
    row = issuer_of(app).record(record_id)
    assert row is not None and row.status == "revoked"
    assert verifier(app, clock).verify(row.secured).codes == ("REVOKED",)

    entries = chain(app)
    asked, granted, revoked = (
        next(e for e in entries if e["action"] == name)
        for name in ("approval-request", "approval-grant", "status-revoked")
    )
    assert asked["actor"] == "officer:sam" and asked["target"] == document["id"]
    assert granted["actor"] == "officer:sue"
    assert granted["details"] == {
        "request": request.id,
        "action": "revoke",
        "requestedBy": "sam",
    }
    assert revoked["actor"] == "officer:sue"
    assert asked["seq"] < granted["seq"] < revoked["seq"]
    decided = issuer_of(app).approvals.get(request.id)
    assert decided is not None and (decided.state, decided.decided_by) == ("approved", "sue")


def test_self_approval_is_refused_and_recorded(app: Flask) -> None:
    sam = logged_in(app, "sam", role="supervisor")
    record_id = issuer_of(app).issue_credential(credential(), actor="test").record_id
    request_revocation(sam, record_id)
    request = only_pending(app)
    listing = sam.get("/officer/approvals").get_data(as_text=True)
    assert "yours: another officer decides" in listing
    assert f'action="/officer/approvals/{request.id}"' not in listing
    refused = decide(sam, request.id, "approve")
    assert refused.status_code == 403
    assert "cannot decide your own" in refused.get_data(as_text=True)
    assert decide(sam, request.id, "reject").status_code == 403
    assert only_pending(app).state == "pending"
    assert issuer_of(app).record(record_id).status == "active"  # type: ignore[union-attr]
    refusals = [e for e in chain(app) if e["action"] == "officer-refused"]
    assert len(refusals) == 2 and all(e["actor"] == "officer:sam" for e in refusals)


def test_an_officer_can_neither_request_nor_approve(app: Flask) -> None:
    sam = logged_in(app, "sam", role="supervisor")
    olga = logged_in(app, "olga", role="officer")
    record_id = issuer_of(app).issue_credential(credential(), actor="test").record_id
    html = olga.get(f"/officer/credentials/{record_id}").get_data(as_text=True)
    forced = olga.post(
        f"/officer/credentials/{record_id}/status",
        data={"action": "revoke", "csrf_token": csrf_of(html)},
    )
    assert forced.status_code == 403
    assert issuer_of(app).approvals.listed(pending=True) == []
    request_revocation(sam, record_id)
    assert decide(olga, only_pending(app).id, "approve").status_code == 403
    assert only_pending(app).state == "pending"


def test_a_rejected_revocation_never_happens(app: Flask) -> None:
    sam = logged_in(app, "sam", role="supervisor")
    sue = logged_in(app, "sue", role="supervisor")
    record_id = issuer_of(app).issue_credential(credential(), actor="test").record_id
    request_revocation(sam, record_id)
    request = only_pending(app)
    assert decide(sue, request.id, "reject").status_code == 302
    assert issuer_of(app).record(record_id).status == "active"  # type: ignore[union-attr]
    again = decide(sue, request.id, "approve")  # decided already: nothing more happens
    assert "decided already" in sue.get(again.headers["Location"]).get_data(as_text=True)
    assert issuer_of(app).record(record_id).status == "active"  # type: ignore[union-attr]
    actions = [e["action"] for e in chain(app)]
    assert "approval-reject" in actions
    assert "approval-grant" not in actions and "status-revoked" not in actions


def test_an_approval_that_cannot_be_done_ends_failed(app: Flask) -> None:
    """The second administrator approves a list that cannot be signed: nothing is signed,
    the request ends ``failed`` with the reason, and that is recorded too."""
    ada = logged_in(app, "ada", role="administrator")
    bob = logged_in(app, "bob", role="administrator")
    submit_trust_list(ada, credential())  # not an MRATrustListCredential
    request = only_pending(app)
    decide(bob, request.id, "approve")
    ended = issuer_of(app).approvals.get(request.id)
    assert ended is not None and ended.state == "failed"
    assert "MRATrustListCredential" in ended.outcome
    actions = [e["action"] for e in chain(app)]
    assert "approval-failed" in actions and "trust-list-issue" not in actions


def submit_trust_list(client: FlaskClient, document: dict[str, Any]) -> Any:
    html = client.get("/officer/trust-lists").get_data(as_text=True)
    assert "Submit for approval" in html
    return client.post(
        "/officer/trust-lists",
        data={"credential": json.dumps(document), "format": "vc+jwt", "csrf_token": csrf_of(html)},
    )


@pytest.mark.parametrize("depth", [500, 30_000])
@pytest.mark.parametrize("four_eyes", [False, True])
def test_a_trust_list_pasted_nested_too_deep_is_refused_on_the_page(
    make_app: Callable[..., Flask], depth: int, four_eyes: bool
) -> None:
    # the page read the pasted text with json.loads and no depth bound: RecursionError out
    # of the parser (30 000) or of copying the document to sign (500), a 500; the API's
    # /trust-lists/issue refuses past 64 levels
    app = make_app("sqlite", four_eyes=four_eyes)
    ada = logged_in(app, "ada", role="administrator")
    html = ada.get("/officer/trust-lists").get_data(as_text=True)
    pasted = '{"credentialSubject": ' + "[" * depth + "]" * depth + "}"
    answer = ada.post(
        "/officer/trust-lists",
        data={"credential": pasted, "format": "vc+jwt", "csrf_token": csrf_of(html)},
    )
    assert answer.status_code == 200
    assert "as a JSON object" in answer.get_data(as_text=True)
    assert issuer_of(app).approvals.listed() == []  # nothing asked for under four-eyes


def test_the_api_cannot_revoke_alone(app: Flask) -> None:
    service = issuer_of(app)
    document = credential()
    answer = service.issue_credential(document, actor="test")
    client = ApiClient(app)  # the refusal is a documented answer
    headers = auth(app, "status")
    body = {"credentialId": document["id"]}
    refused = client.post(
        "/credentials/status",
        json={
            **body,
            "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
        },
        headers=headers,
    )
    assert refused.status_code == 403, refused.get_json()
    assert refused.get_json()["code"] == "FOUR_EYES"
    assert service.record(answer.record_id).status == "active"  # type: ignore[union-attr]
    suspended = client.post(
        "/credentials/status",
        json={
            **body,
            "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "suspended"}],
        },
        headers=headers,
    )
    assert suspended.status_code == 200, suspended.get_json()


def test_a_trust_list_is_signed_when_a_second_administrator_approves(app: Flask) -> None:
    ada = logged_in(app, "ada", role="administrator")
    bob = logged_in(app, "bob", role="administrator")
    sue = logged_in(app, "sue", role="supervisor")
    submitted = submit_trust_list(ada, unsigned_list())
    assert submitted.status_code == 302
    request = only_pending(app)
    assert "trust-list-issue" not in [e["action"] for e in chain(app)]
    listing = sue.get("/officer/approvals").get_data(as_text=True)
    assert "needs an administrator" in listing
    assert decide(sue, request.id, "approve").status_code == 403  # a supervisor may not
    assert decide(ada, request.id, "approve").status_code == 403  # nor the requester
    approved = decide(bob, request.id, "approve")
    assert approved.status_code == 302
    shown = bob.get(approved.headers["Location"]).get_data(as_text=True)
    signed = re.search(r'<textarea id="signed"[^>]*>([^<]+)</textarea>', shown)
    assert signed is not None
    entries = chain(app)
    issued = next(e for e in entries if e["action"] == "trust-list-issue")
    assert issued["actor"] == "officer:bob"
    granted = next(e for e in entries if e["action"] == "approval-grant")
    assert granted["details"]["requestedBy"] == "ada"


def test_the_api_cannot_sign_a_trust_list_alone(app: Flask) -> None:
    refused = ApiClient(app).post(
        "/trust-lists/issue",
        json={"credential": unsigned_list()},
        headers=auth(app, "trust-list"),
    )
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "FOUR_EYES"


def test_without_the_rule_a_supervisor_revokes_at_once(make_app: Callable[..., Flask]) -> None:
    app = make_app("sqlite")
    sam = logged_in(app, "sam", role="supervisor")
    record_id = issuer_of(app).issue_credential(credential(), actor="test").record_id
    html = sam.get(f"/officer/credentials/{record_id}").get_data(as_text=True)
    assert "Request revocation" not in html
    sam.post(
        f"/officer/credentials/{record_id}/status",
        data={"action": "revoke", "csrf_token": csrf_of(html)},
    )
    assert issuer_of(app).record(record_id).status == "revoked"  # type: ignore[union-attr]
    assert issuer_of(app).approvals.listed(pending=True) == []


def test_a_second_request_for_the_same_revocation_is_refused(app: Flask) -> None:
    sam = logged_in(app, "sam", role="supervisor")
    sue = logged_in(app, "sue", role="supervisor")
    record_id = issuer_of(app).issue_credential(credential(), actor="test").record_id
    request_revocation(sam, record_id)
    html = sue.get("/officer/credentials").get_data(as_text=True)
    again = sue.post(
        f"/officer/credentials/{record_id}/status",
        data={"action": "revoke", "csrf_token": csrf_of(html)},
    )
    assert "already waiting" in sue.get(again.headers["Location"]).get_data(as_text=True)
    assert len(issuer_of(app).approvals.listed(pending=True)) == 1
    asked = [e for e in chain(app) if e["action"] == "approval-request"]
    assert len(asked) == 1


def test_two_administrators_approving_at_once_sign_one_trust_list(app: Flask) -> None:
    """Two second officers approve the same request at the same moment (SQLite file and
    PostgreSQL): one decision, one signature; the other is told it was decided already."""
    ada = logged_in(app, "ada", role="administrator")
    deciders = [logged_in(app, name, role="administrator") for name in ("bob", "cyd")]
    assert submit_trust_list(ada, unsigned_list()).status_code == 302
    request = only_pending(app)
    barrier = threading.Barrier(len(deciders))

    def approve(client: FlaskClient) -> tuple[int, str]:
        barrier.wait()
        answer = decide(client, request.id, "approve")
        return answer.status_code, answer.headers.get("Location", "")

    with ThreadPoolExecutor(len(deciders)) as pool:
        answers = list(pool.map(approve, deciders))
    # the later one is sent back to the list, told it was decided already (a 409 inside)
    assert sorted(location.endswith("/officer/approvals") for _, location in answers) == [
        False,
        True,
    ], answers
    entries = chain(app)
    assert [e["action"] for e in entries].count("approval-grant") == 1
    assert [e["action"] for e in entries].count("trust-list-issue") == 1


def test_an_approval_interrupted_without_an_answer_is_pending_again(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Carrying out the approved action failed with no answer about it (the database went
    away): the request was left ``approving`` for good, nobody able to decide it again."""
    sam = logged_in(app, "sam", role="supervisor")
    sue = logged_in(app, "sue", role="supervisor")
    issuer = issuer_of(app)
    record_id = issuer.issue_credential(credential(), actor="test").record_id
    request_revocation(sam, record_id)
    request = only_pending(app)

    def interrupted(*_: Any, **__: Any) -> Any:
        raise ConnectionError("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(issuer, "change_status", interrupted)
        with pytest.raises(ConnectionError):
            issuer.approvals.decide(request.id, officer="sue", approve=True)
    again = issuer.approvals.get(request.id)
    assert again is not None and again.state == "pending" and again.decided_by is None
    assert decide(sue, request.id, "approve").status_code == 302  # decided once more: done
    row = issuer.record(record_id)
    assert row is not None and row.status == "revoked"
    actions = [e["action"] for e in chain(app)]
    assert actions.count("approval-grant") == 2 and "approval-interrupted" in actions


def waiting(app: Flask, action: str) -> tuple[Any, Callable[[], bool]]:
    """A request for ``action`` by a first officer: the request, and whether its action is done."""
    issuer = issuer_of(app)
    if action == "revoke":
        record_id = issuer.issue_credential(credential(), actor="test").record_id
        request_revocation(logged_in(app, "sam", role="supervisor"), record_id)
        return only_pending(app), lambda: issuer.record(record_id).status == "revoked"
    assert (
        submit_trust_list(logged_in(app, "ada", role="administrator"), unsigned_list()).status_code
        == 302
    )
    return only_pending(app), lambda: issuer.store.get_meta(PUBLISHED_TRUST_LIST) is not None


ACTIONS = ["revoke", "trust-list"]
DONE_AUDITED = {"revoke": "status-revoked", "trust-list": "trust-list-issue"}


@pytest.mark.parametrize("action", ACTIONS)
def test_an_approval_happens_entirely_or_not_at_all(
    app: Flask, action: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ending the request fails after the action's own statements ran (the database went
    away): the action is rolled back with it, and the request is pending again, for a second
    approver to decide. Before, the credential stayed revoked (the list signed) while the
    request was reopened: a second approval acted twice, or failed on its own first act."""
    request, done = waiting(app, action)
    issuer = issuer_of(app)

    def away(*_: Any, **__: Any) -> bool:
        raise ConnectionError("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(issuer.approvals, "_end_in", away)
        with pytest.raises(ConnectionError):
            issuer.approvals.decide(request.id, officer="bob", approve=True)
    assert not done()
    again = issuer.approvals.get(request.id)
    assert again is not None and again.state == "pending"
    assert DONE_AUDITED[action] not in [e["action"] for e in chain(app)]
    ended = issuer.approvals.decide(request.id, officer="bob", approve=True)
    assert ended.state == "approved" and done()
    assert [e["action"] for e in chain(app)].count(DONE_AUDITED[action]) == 1


@pytest.mark.parametrize("action", ACTIONS)
def test_a_claim_whose_process_died_is_decided_again(
    app: Flask, action: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The approver's process died between claiming the request and carrying it out: nobody
    reopened it. After the lease the request is pending again (audited, reason
    ``abandoned``) and a second approval carries it out once."""
    request, done = waiting(app, action)
    issuer = issuer_of(app)
    with monkeypatch.context() as patched:
        patched.setattr(issuer.approvals, "_carry_out", lambda _claim: None)  # died here
        issuer.approvals.decide(request.id, officer="bob", approve=True)
    held = issuer.approvals.get(request.id)
    assert held is not None and held.state == "approving"
    clock.advance(seconds=APPROVING_LEASE.total_seconds() - 1)
    assert issuer.approvals.listed(pending=True) == []  # the claim still holds
    clock.advance(seconds=2)
    (reopened,) = issuer.approvals.listed(pending=True)
    assert reopened.id == request.id and reopened.decided_by is None
    (interrupted,) = [e for e in chain(app) if e["action"] == "approval-interrupted"]
    assert interrupted["details"]["reason"] == "abandoned" and interrupted["actor"] == "system"
    assert issuer.approvals.decide(request.id, officer="cyd", approve=True).state == "approved"
    assert done() and [e["action"] for e in chain(app)].count(DONE_AUDITED[action]) == 1


@pytest.mark.parametrize("action", ACTIONS)
def test_a_lapsed_claim_does_not_act(
    app: Flask, action: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The approver was so slow that the claim lapsed and another officer decided the
    request meanwhile: the slow approval is rolled back (409 ``APPROVAL_REOPENED``), so the
    action happens once, under the second decision."""
    request, done = waiting(app, action)
    issuer = issuer_of(app)
    method = "change_status" if action == "revoke" else "issue_trust_list"
    original = getattr(issuer, method)

    def slow(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(issuer, method, original)  # only bob's is slow
        clock.advance(seconds=APPROVING_LEASE.total_seconds() + 1)
        assert issuer.approvals.decide(request.id, officer="cyd", approve=True).state == "approved"
        return original(*args, **kwargs)

    monkeypatch.setattr(issuer, method, slow)
    with pytest.raises(ProblemError) as refused:
        issuer.approvals.decide(request.id, officer="bob", approve=True)
    assert refused.value.status == 409 and refused.value.extra["code"] == "APPROVAL_REOPENED"
    ended = issuer.approvals.get(request.id)
    assert ended is not None and ended.state == "approved" and ended.decided_by == "cyd"
    assert done() and [e["action"] for e in chain(app)].count(DONE_AUDITED[action]) == 1


def test_a_request_whose_requester_lost_the_right_is_not_carried_out(app: Flask) -> None:
    """Four eyes are two officers allowed to act *now*: a supervisor demoted (or disabled)
    after asking leaves one, and the approval ends ``failed`` with nothing revoked."""
    sam = logged_in(app, "sam", role="supervisor")
    sue = logged_in(app, "sue", role="supervisor")
    record_id = issuer_of(app).issue_credential(credential(), actor="test").record_id
    assert record_id is not None
    request_revocation(sam, record_id)
    request = only_pending(app)
    issuer_of(app).set_officer_role("sam", "officer", actor="test")
    assert decide(sue, request.id, "approve").status_code == 302
    ended = issuer_of(app).approvals.get(request.id)
    assert ended is not None and ended.state == "failed"
    assert "sam" in ended.outcome and "no longer" in ended.outcome
    assert issuer_of(app).record(record_id).status == "active"  # type: ignore[union-attr]
    failed = [e for e in chain(app) if e["action"] == "approval-failed"]
    assert len(failed) == 1 and failed[0]["actor"] == "officer:sue"
