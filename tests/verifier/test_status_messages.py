"""The verifier service and a multi-state status: POST /credentials/verify reports what the
value means, the officer page shows it; a value without a meaning fails closed (Bitstring
Status List v1.0 §2.1, §3.2 step 14)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.verifier.conftest import LIST_BASE, Agency
from tests.verifier.test_credentials import codes, verify
from vcred.status import StatusMessage, set_status_value

CLEARANCE = ("cleared", "under review", "held for inspection", "undefined")
MESSAGES = tuple(StatusMessage(status=i, message=text) for i, text in enumerate(CLEARANCE))
REFERENCES = ("https://customs.example/status-dictionary", "urn:example:clearance-codes")


def with_message_status(agency: Agency, value: int, **entry_change: Any) -> Any:
    """An AEO certificate with a 2-bit message entry set to ``value``, signed and published."""
    certificate = agency.aeo_certificate()
    place = agency.store.allocate("message", status_size=2, credential_id=certificate["id"])
    entry = place.entry(
        LIST_BASE + place.list_id, status_messages=MESSAGES, status_reference=REFERENCES
    ).to_json()
    entry.update(entry_change)
    certificate["credentialStatus"] = [*certificate["credentialStatus"], entry]
    set_status_value(agency.store, certificate["id"], "message", value)
    return agency.issue(certificate)


def test_the_message_of_the_value_is_reported(client: FlaskClient, agency: Agency) -> None:
    status, body = verify(client, with_message_status(agency, 1))
    assert status == 200, body
    assert body["verified"] is True  # "under review" informs; it does not fail the credential
    message = body["status"][-1]
    assert (message["purpose"], message["value"], message["message"]) == (
        "message",
        1,
        "under review",
    )
    assert message["statusSize"] == 2
    assert message["valid"] is False  # §3.2 step 13: valid only for status 0
    assert message["statusReference"] == list(REFERENCES)
    (check,) = [c for c in body["checks"] if c["check"] == "status"]
    assert "under review" in check["detail"]


def test_a_value_without_a_meaning_is_not_verified(client: FlaskClient, agency: Agency) -> None:
    status, body = verify(client, with_message_status(agency, 3))
    assert status == 400
    assert body["verified"] is False
    assert codes(body) == ["STATUS_MESSAGE_UNDEFINED"]
    assert body["problemDetails"][0]["pointer"] == "/credentialStatus/2/statusMessage/3"


def test_a_malformed_message_entry_is_a_problem_with_a_pointer(
    client: FlaskClient, agency: Agency
) -> None:
    broken = [{"status": "0x0", "message": "cleared"}, {"status": "0xZ", "message": "x"}]
    status, body = verify(
        client, with_message_status(agency, 0, statusMessage=broken, statusSize=1)
    )
    assert status == 400
    assert body["verified"] is False
    assert codes(body) == ["MALFORMED"]
    assert body["problemDetails"][0]["pointer"] == "/credentialStatus/2/statusMessage/1/status"


def test_the_officer_page_shows_the_message_and_links_only_web_references(
    client: FlaskClient, agency: Agency
) -> None:
    token = with_message_status(agency, 2)
    html = client.post("/verify", data={"credential": token}).get_data(as_text=True)
    assert 'class="verdict ok"' in html
    assert '<strong class="status-message">held for inspection</strong>' in html
    assert "(0x2)" in html
    assert f'<a href="{REFERENCES[0]}" rel="noopener noreferrer"' in html
    assert f'<span class="mono status-reference">{REFERENCES[1]}</span>' in html


def test_a_script_reference_is_never_a_link(client: FlaskClient, agency: Agency) -> None:
    token = with_message_status(agency, 1, statusReference="javascript:alert(1)")
    html = client.post("/verify", data={"credential": token}).get_data(as_text=True)
    assert 'href="javascript:' not in html
    assert "javascript:alert(1)</span>" in html
