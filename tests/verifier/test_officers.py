"""The verifier's officers: ``vcred verifier officer add|list``, the sign-in, and the history
(``/recent``) that only they may read — while verifying stays public."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from tests.signin_limits import check_the_account_limit
from tests.verifier.conftest import OFFICER_PASSWORD, Agency, MakeApp, csrf_of, signed_in
from vcred.cli import main
from vcred_service.signin import ACCOUNT_FAILURES, EXTENSION

#: Every path of the VC API: none of them lists the history (it is the officers' page).
API_PATHS = [
    "/challenges",
    "/credentials/verify",
    "/credentials/verify-batch",
    "/health",
    # one transaction, by the unguessable id its opener was given: never a list
    "/oid4vp/requests",
    "/oid4vp/requests/{transaction}",
    "/oid4vp/requests/{transaction}/object",
    "/oid4vp/responses/{transaction}",
    "/openapi.json",
    "/presentations/verify",
    # answers for one named party (scheme and id), never a list: test_recognitions.py
    "/recognitions",
    "/recognitions/query",
]


def _add(data_dir: Path, name: str, password: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main,
        ["verifier", "officer", "add", name, "--password-stdin", "--data-dir", str(data_dir)],
        input=password + "\n",
    )
    return result.exit_code, result.stdout, result.stderr


def test_officer_add_creates_an_account_that_signs_in(make_app: MakeApp, tmp_path: Path) -> None:
    data_dir = tmp_path / "verifier"
    assert _add(data_dir, "vera", OFFICER_PASSWORD)[:2] == (0, "officer vera added\n")
    app = make_app(data_dir=data_dir)
    client = app.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    form = {"name": "vera", "password": OFFICER_PASSWORD, "csrf_token": token, "next": "/recent"}
    answer = client.post("/login", data=form)
    assert (answer.status_code, answer.headers["Location"]) == (302, "/recent")
    assert client.get("/recent").status_code == 200
    listed = CliRunner().invoke(main, ["verifier", "officer", "list", "--data-dir", str(data_dir)])
    assert listed.exit_code == 0 and listed.stdout.startswith("vera  active")


def test_wrong_passwords_for_one_account_are_limited_whatever_address_they_come_from(
    make_app: MakeApp, tmp_path: Path
) -> None:
    data_dir = tmp_path / "verifier"
    for name in ("vera", "otto"):
        assert _add(data_dir, name, OFFICER_PASSWORD)[0] == 0
    app = make_app(data_dir=data_dir, login_burst=1000)
    check_the_account_limit(app, "vera", "otto", OFFICER_PASSWORD)


def test_guesses_in_flight_at_once_do_not_pass_the_account_limit(
    make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Attack: the account's limit was read (peek) before the password check and spent after
    # it, so every guess sent while another was being hashed read the same last token — as
    # many guesses a minute as the servers take requests at once, not one. A guess now takes
    # its token before the check (given back when the password is right).
    data_dir = tmp_path / "verifier"
    assert _add(data_dir, "vera", OFFICER_PASSWORD)[0] == 0
    app = make_app(data_dir=data_dir, login_burst=1000)
    accounts = app.extensions[EXTENSION].accounts
    checking = accounts.check
    checked: list[str] = []
    inside, go = threading.Event(), threading.Event()

    def check(name: str, password: str) -> bool:
        checked.append(password)
        if password == "in flight":  # held in its hash until the other guess is answered
            inside.set()
            assert go.wait(30)
        return bool(checking(name, password))

    monkeypatch.setattr(accounts, "check", check)

    def sign_in(password: str, address: str) -> int:
        client = app.test_client()
        token = csrf_of(client.get("/login").get_data(as_text=True))
        form = {"name": "vera", "password": password, "csrf_token": token}
        return client.post("/login", data=form, environ_base={"REMOTE_ADDR": address}).status_code

    _, burst = ACCOUNT_FAILURES
    assert [sign_in(f"guess {n}", f"203.0.113.{n}") for n in range(burst - 1)] == [200] * (
        burst - 1
    )
    answers: list[int] = []
    first = threading.Thread(target=lambda: answers.append(sign_in("in flight", "192.0.2.1")))
    first.start()
    assert inside.wait(30)
    beside = sign_in("beside it", "192.0.2.2")
    go.set()
    first.join(30)
    assert answers == [200]
    assert beside == 429  # the last token was taken by the guess in flight
    assert len(checked) == burst  # ten passwords tried, not eleven
    assert sign_in(OFFICER_PASSWORD, "198.51.100.7") == 429


def test_the_right_password_gives_its_token_back(make_app: MakeApp, tmp_path: Path) -> None:
    data_dir = tmp_path / "verifier"
    assert _add(data_dir, "vera", OFFICER_PASSWORD)[0] == 0
    app = make_app(data_dir=data_dir, login_burst=1000)

    def sign_in(password: str) -> int:
        client = app.test_client()
        token = csrf_of(client.get("/login").get_data(as_text=True))
        form = {"name": "vera", "password": password, "csrf_token": token}
        return client.post("/login", data=form).status_code

    _, burst = ACCOUNT_FAILURES
    # signing in is not a failure: however often the officer does, guesses still have ten
    assert [sign_in(OFFICER_PASSWORD) for _ in range(burst + 2)] == [302] * (burst + 2)
    assert [sign_in(f"guess {n}") for n in range(burst + 1)] == [200] * burst + [429]


def test_officer_add_refuses_bad_accounts_in_one_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "verifier"
    assert _add(data_dir, "vera", OFFICER_PASSWORD)[0] == 0
    for name, password, why in [
        ("vera", OFFICER_PASSWORD, "already an officer"),
        ("otto", "short", "at least 10 characters"),
        ("", OFFICER_PASSWORD, "printable characters"),
        ("tab\there", OFFICER_PASSWORD, "printable characters"),
    ]:
        code, _, error = _add(data_dir, name, password)
        assert code == 2, (name, error)
        assert error.startswith("vcred verifier: ") and why in error
        assert len(error.strip().splitlines()) == 1


def test_the_history_needs_a_sign_in_and_verifying_does_not(app: Flask, agency: Agency) -> None:
    anonymous = app.test_client()
    token = agency.issue(agency.aeo_certificate())
    assert anonymous.get("/").status_code == 200
    assert 'class="verdict ok"' in anonymous.post("/verify", data={"credential": token}).text
    answer = anonymous.post("/credentials/verify", json={"verifiableCredential": token})
    assert answer.status_code == 200
    for path in ("/recent", "/recent?limit=1000", "/recent/"):
        refused = anonymous.get(path, headers={"Accept": "application/json"})
        assert refused.status_code in (302, 308, 404), path
        assert "Example Prairie Gadgets" not in refused.text
    assert anonymous.get("/recent").headers["Location"] == "/login?next=/recent"
    officer = signed_in(app)
    assert "Example Prairie Gadgets, Inc." in officer.get("/recent").text


def test_no_api_endpoint_lists_the_history(client: FlaskClient) -> None:
    paths = sorted(client.get("/openapi.json").get_json()["paths"])
    assert paths == API_PATHS


def test_the_navigation_offers_sign_in_and_then_sign_out(app: Flask) -> None:
    anonymous = app.test_client().get("/").text
    assert 'id="login"' in anonymous and 'id="logout"' not in anonymous
    page = signed_in(app).get("/").text
    assert "Sign out vera" in page and 'id="login"' not in page


def test_a_public_page_sets_no_cookie(app: Flask) -> None:
    answer = app.test_client().get("/")
    assert "Set-Cookie" not in answer.headers


def test_officer_commands_say_in_one_line_when_the_database_cannot_be_used() -> None:
    result = CliRunner().invoke(
        main, ["verifier", "officer", "list", "--database-url", "postgresql://x@127.0.0.1:1/x"]
    )
    assert isinstance(result.exception, SystemExit) and result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("vcred verifier: the database cannot be reached: ")
    assert line.endswith("Connection refused")  # what the driver said
