"""The ``message`` status purpose on the issuer: configured messages, multi-bit entries, the
value set through POST /credentials/status and the officer UI, and what verifiers then read
(Bitstring Status List v1.0 §2.1, §2.2)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from issuer_app import IssuerConfig, issuer_of
from tests.issuer.conftest import (
    PASSPHRASE,
    PUBLIC_URL,
    ApiClient,
    Clock,
    auth,
    credential,
    make_config,
    verifier,
)
from tests.issuer.test_api import payload_of, secured_of
from tests.issuer.test_ui import csrf_of, logged_in
from vcred import jose
from vcred.cli import main
from vcred.errors import UsageError
from vcred.status import parse_status_list_credential

CLEARANCE = ("cleared", "under review", "held for inspection", "undefined")
REFERENCE = "https://customs.example/status-dictionary"


@pytest.fixture
def message_app(make_app: Callable[..., Flask], backend: str) -> Flask:
    return make_app(backend, status_messages=CLEARANCE, status_reference=(REFERENCE,))


def set_message(api: ApiClient, app: Flask, credential_id: str, value: Any) -> Any:
    body = {
        "credentialId": credential_id,
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "message"},
        "status": value,
    }
    return api.post("/credentials/status", json=body, headers=auth(app))


def message_entry(issued: dict[str, Any]) -> dict[str, Any]:
    (entry,) = [
        e for e in payload_of(issued)["credentialStatus"] if e["statusPurpose"] == "message"
    ]
    return entry


def test_credentials_carry_a_message_entry_of_the_configured_states(
    message_app: Flask, clock: Clock
) -> None:
    api = ApiClient(message_app)
    issued = api.issue(credential(), auth(message_app)).get_json()
    entry = message_entry(issued)
    assert entry["statusSize"] == 2  # four states: two bits
    assert entry["statusMessage"] == [
        {"status": hex(i), "message": text} for i, text in enumerate(CLEARANCE)
    ]
    assert entry["statusReference"] == REFERENCE
    assert [e["statusPurpose"] for e in payload_of(issued)["credentialStatus"]] == [
        "revocation",
        "suspension",
        "message",
    ]
    result = verifier(message_app, clock).verify(secured_of(issued))
    assert result.verified, result.errors
    assert [(s.purpose, s.message) for s in result.status][-1] == ("message", "cleared")


def test_a_message_value_set_over_the_vc_api_reaches_verifiers(
    message_app: Flask, clock: Clock
) -> None:
    api = ApiClient(message_app)
    document = credential()
    issued = api.issue(document, auth(message_app)).get_json()
    answer = set_message(api, message_app, document["id"], "0x2")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["statusMessage"] == {"status": "0x2", "message": CLEARANCE[2]}
    assert answer.get_json()["status"] == "active"  # a message is not a suspension
    assert answer.get_json()["credentialStatus"][2]["statusSize"] == 2

    result = verifier(message_app, clock).verify(secured_of(issued))
    assert result.verified, result.errors  # information for the officer, not a failure
    (message,) = [s for s in result.status if s.purpose == "message"]
    assert (message.value, message.message) == (2, "held for inspection")
    assert message.status_reference == (REFERENCE,)

    # the list holds the bits; what they mean the entries say (§2.1)
    url = message_entry(issued)["statusListCredential"]
    listed = api.get(url.removeprefix(PUBLIC_URL)).get_data(as_text=True)
    subject = jose.unverified_payload(listed)["credentialSubject"]
    assert subject["statusPurpose"] == "message"
    assert "statusSize" not in subject and "statusMessage" not in subject
    parsed = parse_status_list_credential(jose.unverified_payload(listed), url=url)
    assert parsed.bits.value(int(message_entry(issued)["statusListIndex"]), 2) == 2

    back = set_message(api, message_app, document["id"], "0x0")
    assert back.get_json()["statusMessage"]["message"] == "cleared"
    assert verifier(message_app, clock).verify(secured_of(issued)).status[-1].value == 0
    history = issuer_of(message_app).store.recent_audit(document["id"])
    assert {"status-message-0x2", "status-message-0x0"} <= {h.action for h in history}


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("0x4", "STATUS_CHANGE_REFUSED"),  # past two bits
        ("0x3", "STATUS_CHANGE_REFUSED"),  # "undefined": verifiers could not act on it
        ("0xffffffffffffffff", "STATUS_CHANGE_REFUSED"),
        ("2", "MALFORMED"),
        ("0x", "MALFORMED"),
        ("0xg", "MALFORMED"),
        (2, "MALFORMED"),
        (True, "MALFORMED"),
        (None, "MALFORMED"),
    ],
)
def test_bad_message_values_are_refused_with_a_pointer(
    make_app: Callable[..., Flask], value: Any, code: str
) -> None:
    app = make_app(status_messages=CLEARANCE)
    api = ApiClient(app)
    document = credential()
    api.issue(document, auth(app))
    answer = api.client.post(
        "/credentials/status",
        json={
            "credentialId": document["id"],
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "message"},
            "status": value,
        },
        headers=auth(app),
    )
    assert answer.status_code == 400
    assert (answer.get_json()["code"], answer.get_json()["pointer"]) == (code, "/status")


def test_without_configured_messages_there_is_no_message_status(sqlite_app: Flask) -> None:
    api = ApiClient(sqlite_app)
    document = credential()
    issued = api.issue(document, auth(sqlite_app)).get_json()
    purposes = [e["statusPurpose"] for e in payload_of(issued)["credentialStatus"]]
    assert purposes == ["revocation", "suspension"]
    answer = set_message(api, sqlite_app, document["id"], "0x1")
    assert answer.status_code == 400
    assert answer.get_json()["code"] == "STATUS_CHANGE_REFUSED"


# -- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        {"status_messages": ("only one",)},
        {"status_messages": ("a", "b", "c")},  # not 2**statusSize
        {"status_messages": tuple(f"m{i}" for i in range(512))},
        {"status_messages": ("a", " ")},
        {"status_reference": (REFERENCE,)},  # documents nothing
        {"status_messages": ("a", "b"), "status_reference": ("ftp://x.example/",)},
        {"status_messages": ("a", "b"), "status_reference": ("not a url",)},
    ],
)
def test_bad_message_settings_refuse_to_start(tmp_path: Path, settings: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        make_config(tmp_path, "sqlite", **settings)


def test_messages_from_the_environment(tmp_path: Path) -> None:
    config = IssuerConfig.from_env(
        {
            "VCRED_ISSUER_PASSPHRASE": PASSPHRASE,
            "VCRED_ISSUER_STATUS_MESSAGES": "cleared, under review",
            "VCRED_ISSUER_STATUS_REFERENCE": REFERENCE,
        },
        data_dir=tmp_path,
    )
    assert config.status_messages == ("cleared", "under review")
    assert config.status_reference == (REFERENCE,)
    assert config.status_size == 1


def test_new_messages_apply_to_new_credentials_only(
    make_app: Callable[..., Flask], tmp_path: Path, clock: Clock
) -> None:
    # an entry commits to its messages at issuance (§2.1): a restart with other messages
    # changes what new credentials say, never what issued ones mean
    data_dir = tmp_path / "kept"
    first = make_app(data_dir=data_dir, status_messages=CLEARANCE)
    old = issuer_of(first).issue_credential(credential(), actor="test")
    later = ("cleared", "released", "under review", "held for inspection")
    app = make_app(data_dir=data_dir, status_messages=later)
    new = issuer_of(app).issue_credential(credential(), actor="test")
    api = ApiClient(app)
    for answer, meaning in ((old, "under review"), (new, "released")):
        assert answer.record_id is not None
        record = issuer_of(app).record(answer.record_id)
        assert record is not None
        changed = set_message(api, app, answer.record_id, "0x1")
        assert changed.get_json()["statusMessage"]["message"] == meaning
        state = issuer_of(app).message_state(answer.record_id)
        assert state is not None and state.message == meaning
        assert verifier(app, clock).verify(record.secured).status[-1].message == meaning
    # "undefined" in the old credential stays unsettable, whatever the new messages say
    assert old.record_id is not None
    assert set_message(api, app, old.record_id, "0x3").status_code == 400


# -- the officer UI ------------------------------------------------------------------------------


def test_officers_see_and_set_the_message(make_app: Callable[..., Flask], clock: Clock) -> None:
    app = make_app(status_messages=CLEARANCE)
    client = logged_in(app)
    answer = issuer_of(app).issue_credential(credential(), actor="test")
    path = f"/officer/credentials/{answer.record_id}"
    html = client.get(path).get_data(as_text=True)
    assert "Status message: <strong>cleared</strong>" in html
    offered = re.findall(r'<option value="(\d+)"', html)
    assert offered == ["0", "1", "2"]  # never "undefined"
    done = client.post(
        f"{path}/status",
        data={"action": "message", "value": "1", "csrf_token": csrf_of(html)},
    )
    assert done.status_code == 302
    html = client.get(path).get_data(as_text=True)
    assert "Status message: <strong>under review</strong>" in html
    # "²" is a digit to str.isdigit but none to int(): it was a ValueError, a 500
    for value in ("x", "\u00b2", "-1"):
        refused = client.post(
            f"{path}/status",
            data={"action": "message", "value": value, "csrf_token": csrf_of(html)},
        )
        assert refused.status_code == 400, value
    row = issuer_of(app).record(answer.record_id)
    assert row is not None
    result = verifier(app, clock).verify(row.secured)
    assert result.verified, result.errors
    assert result.status[-1].message == "under review"


# -- the command line ----------------------------------------------------------------------------


@pytest.mark.parametrize("via", ["options", "config file"])
def test_serve_issuer_names_bad_messages_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, via: str
) -> None:
    monkeypatch.setenv("VCRED_ISSUER_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    args = ["serve", "issuer", "--data-dir", str(tmp_path / "data")]
    if via == "options":
        args += ["--status-message", "cleared", "--status-message", "under review"]
        args += ["--status-message", "held"]
    else:
        config = tmp_path / "issuer.toml"
        config.write_text('status-message = ["cleared", "under review", "held"]\n')
        args += ["--config", str(config)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    assert "power of two" in result.output and "not 3" in result.output
    assert "Traceback" not in result.output
