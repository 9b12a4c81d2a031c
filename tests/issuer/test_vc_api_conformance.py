"""What the VC API issuer suite expects of POST /credentials/issue, from the VC API
(https://w3c-ccg.github.io/vc-api/):

- a credential without ``issuer`` is refused (400) unless the deployment fills it in
  (``fill_issuer``); the officer UI names its issuer and works either way;
- a caller may supply its own ``credentialStatus`` when the service manages none for the
  credential: a well-formed BitstringStatusListEntry on a list elsewhere, not alongside
  ``options.credentialStatus`` (the service's own), never a place in the service's lists.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from issuer_app import IssuerConfig, issuer_of
from issuer_app.store.records import RecordQuery
from tests.issuer.conftest import PUBLIC_URL, ApiClient, auth, credential
from tests.issuer.test_api import payload_of
from tests.issuer.test_ui import aeo_form, csrf_of, logged_in
from vcred.cli import main
from vcred_service import runner

PARTNER_LIST = "https://status.partner.example/lists/7"


def caller_entry(**changes: Any) -> dict[str, Any]:
    entry = {
        "id": f"{PARTNER_LIST}#4097",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "4097",
        "statusListCredential": PARTNER_LIST,
    }
    entry.update(changes)
    return entry


def recorded(app: Flask) -> int:
    return issuer_of(app).search(RecordQuery())[1]


@pytest.fixture
def strict_app(make_app: Callable[..., Flask]) -> Flask:
    """An issuer with the default configuration of issuer filling (off)."""
    return make_app(fill_issuer=False)


# -- the issuer is named, or filled in on purpose ----------------------------------------------


def test_issuer_filling_is_off_by_default() -> None:
    assert IssuerConfig(data_dir="x", passphrase="p").fill_issuer is False
    environ = {"VCRED_ISSUER_FILL_ISSUER": "true", "VCRED_ISSUER_PASSPHRASE": "p"}
    assert IssuerConfig.from_env(environ=environ, data_dir="x").fill_issuer is True


def test_a_credential_without_issuer_is_refused_by_default(strict_app: Flask) -> None:
    answer = ApiClient(strict_app).issue(credential(), auth(strict_app))
    assert answer.status_code == 400
    problem = answer.get_json()
    assert answer.mimetype == "application/problem+json"
    assert (problem["code"], problem["pointer"]) == ("MALFORMED", "/credential/issuer")
    assert recorded(strict_app) == 0


def test_a_credential_naming_the_issuer_is_issued_by_default(strict_app: Flask) -> None:
    did = issuer_of(strict_app).keyring().dids[0]
    answer = ApiClient(strict_app).issue(credential(issuer=did), auth(strict_app))
    assert answer.status_code == 201, answer.get_json()
    assert payload_of(answer.get_json())["issuer"] == did


def test_a_credential_without_issuer_is_filled_in_when_configured(app: Flask) -> None:
    assert issuer_of(app).config.fill_issuer is True  # the test configuration turns it on
    answer = ApiClient(app).issue(credential(), auth(app))
    assert answer.status_code == 201
    assert payload_of(answer.get_json())["issuer"] == issuer_of(app).keyring().dids[0]


def test_the_openapi_document_says_whether_the_issuer_is_required(
    app: Flask, strict_app: Flask
) -> None:
    def required(flask_app: Flask) -> list[str]:
        document = flask_app.test_client().get("/openapi.json").get_json()
        names: list[str] = document["components"]["schemas"]["Credential"]["required"]
        return names

    assert "issuer" in required(strict_app)
    assert "issuer" not in required(app)


def test_the_officer_ui_issues_without_issuer_filling(strict_app: Flask) -> None:
    client = logged_in(strict_app)
    token = csrf_of(client.get("/officer/issue/aeo").get_data(as_text=True))
    answer = client.post("/officer/issue/aeo", data={**aeo_form(), "csrf_token": token})
    assert answer.status_code == 302
    assert recorded(strict_app) == 1


# -- the caller's own credentialStatus ---------------------------------------------------------


def test_a_callers_status_entry_is_issued_as_given_and_the_service_adds_none(app: Flask) -> None:
    api = ApiClient(app)
    document = credential(id="urn:uuid:caller-status-1", credentialStatus=caller_entry())
    answer = api.issue(document, auth(app))
    assert answer.status_code == 201, answer.get_json()
    assert payload_of(answer.get_json())["credentialStatus"] == caller_entry()
    # the service manages no status for it: no place in its lists, no status change
    change = {
        "credentialId": "urn:uuid:caller-status-1",
        "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
    }
    refused = api.post("/credentials/status", json=change, headers=auth(app))
    assert refused.status_code == 400
    assert refused.get_json()["code"] == "STATUS_CHANGE_REFUSED"


def test_a_list_of_caller_status_entries_is_accepted(app: Flask) -> None:
    entries = [caller_entry(), caller_entry(statusPurpose="suspension", id=None)]
    entries[1].pop("id")
    answer = ApiClient(app).issue(credential(credentialStatus=entries), auth(app))
    assert answer.status_code == 201, answer.get_json()
    assert payload_of(answer.get_json())["credentialStatus"] == entries


def test_the_service_adds_its_status_when_asked_for_it(app: Flask) -> None:
    options = {"credentialStatus": {"type": "BitstringStatusListEntry"}}
    answer = ApiClient(app).issue(credential(), auth(app), options)
    assert answer.status_code == 201
    entries = payload_of(answer.get_json())["credentialStatus"]
    assert {e["statusPurpose"] for e in entries} == {"revocation", "suspension"}
    assert all(e["statusListCredential"].startswith(f"{PUBLIC_URL}/status/") for e in entries)


@pytest.mark.parametrize(
    ("status", "pointer"),
    [
        (caller_entry(statusListIndex=4097), "/credential/credentialStatus/statusListIndex"),
        (caller_entry(statusListIndex="-1"), "/credential/credentialStatus/statusListIndex"),
        (caller_entry(statusListCredential=None), "/credential/credentialStatus"),
        (caller_entry(statusPurpose=""), "/credential/credentialStatus/statusPurpose"),
        (caller_entry(statusSize=0), "/credential/credentialStatus/statusSize"),
        (
            caller_entry(statusListCredential="https://[::1/lists/7"),
            "/credential/credentialStatus/statusListCredential",
        ),
        ([caller_entry(), {"type": "StatusList2021Entry"}], "/credential/credentialStatus/1"),
        ([], "/credential/credentialStatus"),
        ("https://status.example/1", "/credential/credentialStatus"),
    ],
)
def test_a_malformed_caller_status_is_refused_with_its_pointer(
    sqlite_app: Flask, status: Any, pointer: str
) -> None:
    if isinstance(status, dict) and status.get("statusListCredential") is None:
        status = {k: v for k, v in status.items() if k != "statusListCredential"}
    answer = ApiClient(sqlite_app).issue(credential(credentialStatus=status), auth(sqlite_app))
    assert answer.status_code == 400, answer.get_json()
    problem = answer.get_json()
    assert problem["pointer"].startswith(pointer), problem
    assert recorded(sqlite_app) == 0


def test_a_caller_status_with_the_services_own_is_refused(sqlite_app: Flask) -> None:
    options = {"credentialStatus": {"type": "BitstringStatusListEntry"}}
    document = credential(credentialStatus=caller_entry())
    answer = ApiClient(sqlite_app).issue(document, auth(sqlite_app), options)
    assert answer.status_code == 400
    assert answer.get_json()["pointer"] == "/credential/credentialStatus"
    assert recorded(sqlite_app) == 0


@pytest.mark.parametrize("base", [PUBLIC_URL, PUBLIC_URL.upper().replace("HTTPS", "https")])
def test_a_caller_status_in_the_services_own_lists_is_refused(sqlite_app: Flask, base: str) -> None:
    # a place in our lists is allocated to one credential: another must not claim it
    entry = caller_entry(statusListCredential=f"{base}/status/ed25519/1", id=None)
    entry.pop("id")
    answer = ApiClient(sqlite_app).issue(credential(credentialStatus=entry), auth(sqlite_app))
    assert answer.status_code == 400
    assert answer.get_json()["pointer"] == "/credential/credentialStatus/statusListCredential"


def test_a_status_request_of_another_kind_is_refused(sqlite_app: Flask) -> None:
    options = {"credentialStatus": {"type": "StatusList2021Entry"}}
    answer = ApiClient(sqlite_app).issue(credential(), auth(sqlite_app), options)
    assert answer.status_code == 400
    assert answer.get_json()["pointer"] == "/options/credentialStatus"


def test_the_serve_command_turns_issuer_filling_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[Flask] = []
    monkeypatch.setattr(runner, "serve_forever", _recorder(served))
    for name in [n for n in os.environ if n.startswith("VCRED_ISSUER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("VCRED_ISSUER_PASSPHRASE", "a passphrase for this test")
    arguments = ["serve", "issuer", "--port", "0", "--data-dir", str(tmp_path / "i")]
    for extra, expected in (([], False), (["--fill-issuer"], True)):
        result = CliRunner().invoke(main, [*arguments, *extra])
        assert result.exit_code == 0, result.output
        assert issuer_of(served[-1]).config.fill_issuer is expected
        issuer_of(served[-1]).close()


def _recorder(served: list[Flask]) -> Any:
    """A stand-in for serve_forever: records the app and closes the listening socket."""

    def serve(app: Flask, *, sock: socket.socket | None = None, **_: Any) -> None:
        served.append(app)
        if sock is not None:
            sock.close()

    return serve
