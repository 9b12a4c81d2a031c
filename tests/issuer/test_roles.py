"""Officer roles on the issuer's officer pages: each role's allowed and refused actions
(SQLite and PostgreSQL), the 403 page and its audit entry, the menu that offers only what the
role allows, role changes, the upgrade of officers made before roles, and the CLI."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, update

from issuer_app import create_app, issuer_of
from issuer_app.cli import admin as issuer_admin
from issuer_app.config import utc_now
from issuer_app.store.records import SCHEMA_VERSION, UPGRADED_OFFICER_ROLE
from tests.issuer.conftest import PASSPHRASE, credential, dispose, make_config
from tests.issuer.test_ui import PASSWORD, aeo_form, csrf_of, logged_in
from vcred.audit import verify_chain
from vcred_service.roles import PERMISSIONS, ROLES, allows, parse_role

NAV = re.compile(r'id="nav-([\w-]+)"')


def audit_actions(app: Flask) -> list[str]:
    return [entry["action"] for entry in issuer_of(app).store.audit_entries()]


def page(client: FlaskClient, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    return answer.get_data(as_text=True)


def post_status(client: FlaskClient, record_id: str, action: str) -> Any:
    html = client.get(f"/officer/credentials/{record_id}").get_data(as_text=True)
    return client.post(
        f"/officer/credentials/{record_id}/status",
        data={"action": action, "csrf_token": csrf_of(html)},
    )


def test_each_role_includes_the_one_before_it() -> None:
    assert PERMISSIONS["officer"] < PERMISSIONS["supervisor"] < PERMISSIONS["administrator"]
    assert allows("officer", "issue") and not allows("officer", "revoke")
    assert allows("supervisor", "approve") and not allows("supervisor", "tokens")
    assert parse_role("administrator") == "administrator"


def test_an_unknown_role_is_refused() -> None:
    from vcred.errors import UsageError

    with pytest.raises(UsageError, match="roles: officer, supervisor, administrator"):
        parse_role("root")


def test_an_officer_issues_and_is_refused_the_rest(app: Flask) -> None:
    client = logged_in(app, "olga", role="officer")
    token = csrf_of(page(client, "/officer/issue/aeo"))
    issued = client.post("/officer/issue/aeo", data={**aeo_form(), "csrf_token": token})
    assert issued.status_code == 302
    record_id = issued.headers["Location"].rsplit("/", 1)[1]
    html = page(client, f"/officer/credentials/{record_id}")
    assert not re.findall(r'name="action" value="(\w+)"', html)  # no status buttons offered
    assert set(NAV.findall(html)) == set()  # no approvals, trust lists or administration

    for action in ("suspend", "revoke"):
        refused = post_status(client, record_id, action)
        assert refused.status_code == 403
        assert "does not allow" in refused.get_data(as_text=True)
    assert issuer_of(app).record(record_id).status == "active"  # type: ignore[union-attr]
    for path in ("/officer/admin", "/officer/approvals", "/officer/trust-lists"):
        assert client.get(path).status_code == 403
    refusals = [
        entry
        for entry in issuer_of(app).store.audit_entries()
        if entry["action"] == "officer-refused"
    ]
    assert [e["details"]["permission"] for e in refusals] == [
        "suspend",
        "revoke",
        "officers",
        "approve",
        "trust-list",
    ]
    assert all(e["actor"] == "officer:olga" and e["details"]["role"] == "officer" for e in refusals)


def test_a_supervisor_suspends_and_revokes_but_does_not_administer(app: Flask) -> None:
    client = logged_in(app, "sam", role="supervisor")
    record_id = issuer_of(app).issue_credential(credential(), actor="test").record_id
    html = page(client, f"/officer/credentials/{record_id}")
    assert set(NAV.findall(html)) == {"approvals"}
    assert post_status(client, record_id, "suspend").status_code == 302
    assert post_status(client, record_id, "reinstate").status_code == 302
    assert post_status(client, record_id, "revoke").status_code == 302
    assert issuer_of(app).record(record_id).status == "revoked"  # type: ignore[union-attr]
    page(client, "/officer/approvals")
    assert client.get("/officer/admin").status_code == 403
    html = page(client, "/officer/credentials")
    refused = client.post("/officer/admin/tokens", data={"csrf_token": csrf_of(html)})
    assert refused.status_code == 403
    assert issuer_of(app).store.tokens() == []


def test_an_administrator_manages_roles_sessions_and_tokens(app: Flask) -> None:
    admin = logged_in(app, "ada", role="administrator")
    olga = logged_in(app, "olga", role="officer")
    html = page(admin, "/officer/admin")
    assert set(NAV.findall(html)) == {"approvals", "trust-lists", "admin"}
    assert "olga" in html and "ada" in html
    token = csrf_of(html)

    # a role change applies at the officer's next request, without a new sign-in
    assert olga.get("/officer/approvals").status_code == 403
    admin.post(
        "/officer/admin/officers/olga/role", data={"role": "supervisor", "csrf_token": token}
    )
    assert issuer_of(app).roles.role("olga") == "supervisor"
    assert olga.get("/officer/approvals").status_code == 200
    bad = admin.post(
        "/officer/admin/officers/olga/role", data={"role": "root", "csrf_token": token}
    )
    assert "unknown role" in page(admin, bad.headers["Location"])

    made = admin.post("/officer/admin/tokens", data={"scopes": "issue", "csrf_token": token})
    assert made.status_code == 200
    shown = re.search(r"vci_[\w-]+", made.get_data(as_text=True))
    assert shown and issuer_of(app).authenticate(shown.group(0)) is not None
    (row,) = issuer_of(app).store.tokens()
    admin.post(f"/officer/admin/tokens/{row.id}/revoke", data={"csrf_token": token})
    assert issuer_of(app).authenticate(shown.group(0)) is None

    actions = audit_actions(app)
    assert {"officer-role", "token-create", "token-revoke"} <= set(actions)
    chain = list(issuer_of(app).store.audit_entries())
    assert verify_chain(chain, expect_head=issuer_of(app).store.audit_head()[1]).intact


def test_a_token_label_with_a_nul_is_refused_on_the_page(app: Flask) -> None:
    # PostgreSQL text holds no U+0000: storing the label raised out of the driver, a 500
    admin = logged_in(app, "ada", role="administrator")
    token = csrf_of(page(admin, "/officer/admin"))
    form = {"scopes": "issue", "label": "batch\x00job", "csrf_token": token}
    refused = admin.post("/officer/admin/tokens", data=form)
    assert refused.status_code == 302
    assert "U+0000" in page(admin, refused.headers["Location"])
    assert issuer_of(app).store.tokens() == []


def test_an_administrator_ends_another_officers_session(app: Flask) -> None:
    admin = logged_in(app, "ada", role="administrator")
    olga = logged_in(app, "olga", role="officer")
    assert olga.get("/officer/credentials").status_code == 200
    html = page(admin, "/officer/admin")
    olgas = [s for s in issuer_of(app).sessions.live() if s.officer == "olga"]
    assert len(olgas) == 1 and olgas[0].handle in html
    answer = admin.post(
        f"/officer/admin/sessions/{olgas[0].handle}/end", data={"csrf_token": csrf_of(html)}
    )
    assert "The session of olga was ended." in page(admin, answer.headers["Location"])
    replayed = olga.get("/officer/credentials")  # the same cookie, replayed
    assert replayed.status_code == 302 and replayed.headers["Location"].startswith("/login")
    assert admin.get("/officer/credentials").status_code == 200  # only olga's ended
    ended = [e for e in issuer_of(app).store.audit_entries() if e["action"] == "session-end"]
    assert ended[-1]["target"] == "olga" and ended[-1]["actor"] == "officer:ada"


def test_a_listed_session_handle_never_opens_the_session(sqlite_app: Flask) -> None:
    logged_in(sqlite_app, "olga", role="officer")
    (live,) = issuer_of(sqlite_app).sessions.live()
    stranger = sqlite_app.test_client()
    cookie = str(sqlite_app.config["SESSION_COOKIE_NAME"]) + "_officer"
    stranger.set_cookie(cookie, live.handle)
    assert stranger.get("/officer/credentials").status_code == 302
    assert issuer_of(sqlite_app).sessions.end_by_handle("zz" * 8) is None
    assert issuer_of(sqlite_app).sessions.end_by_handle(live.handle[:8]) is None


def test_new_accounts_get_the_least_role(sqlite_app: Flask) -> None:
    issuer_of(sqlite_app).add_officer("nina", PASSWORD, actor="test")
    assert issuer_of(sqlite_app).roles.role("nina") == "officer"
    assert issuer_of(sqlite_app).roles.role("nobody") == "officer"  # no row grants nothing more


def test_officers_made_before_roles_keep_what_they_could_do(tmp_path: Path, backend: str) -> None:
    """An issuer database of schema 2 (no roles): its officers become supervisors."""
    config = make_config(tmp_path / "data", backend)
    app = create_app(config)
    service = issuer_of(app)
    service.add_officer("ana", PASSWORD, actor="test")
    store = service.store
    with store.engine.begin() as conn:  # back to how schema 2 kept it
        conn.execute(delete(store.t.roles))
        conn.execute(update(store.t.meta).where(store.t.meta.c.name == "schema").values(value="2"))
    service.close()
    upgraded = create_app(config)
    try:
        assert issuer_of(upgraded).store.schema_version() == SCHEMA_VERSION
        assert issuer_of(upgraded).roles.role("ana") == UPGRADED_OFFICER_ROLE == "supervisor"
        client = upgraded.test_client()
        token = csrf_of(client.get("/login").get_data(as_text=True))
        signed_in = client.post(
            "/login", data={"name": "ana", "password": PASSWORD, "csrf_token": token}
        )
        assert signed_in.status_code == 302
        record_id = issuer_of(upgraded).issue_credential(credential(), actor="test").record_id
        assert post_status(client, record_id, "revoke").status_code == 302
    finally:
        dispose(upgraded, drop=backend == "postgres")


# -- the CLI ---------------------------------------------------------------------------------


def _cli(data_dir: Path, *args: str, stdin: str | None = None) -> Any:
    env = {"VCRED_ISSUER_PASSPHRASE": PASSPHRASE}
    return CliRunner().invoke(
        issuer_admin, [*args, "--data-dir", str(data_dir)], input=stdin, env=env
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Any:
    # the CLI reads sessions with the wall clock: so does this app
    app = create_app(make_config(tmp_path / "cli", "sqlite", clock=utc_now))
    yield tmp_path / "cli", app
    dispose(app, drop=False)


def test_the_cli_adds_officers_with_a_role_and_changes_it(data_dir: Any) -> None:
    folder, app = data_dir
    added = _cli(
        folder,
        "officer",
        "add",
        "sam",
        "--role",
        "supervisor",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    assert "officer sam added (supervisor)" in added.output
    plain = _cli(folder, "officer", "add", "olga", "--password-stdin", stdin=PASSWORD + "\n")
    assert "(officer)" in plain.output
    federated = _cli(folder, "officer", "add", "ana@customs.example", "--no-password")
    assert federated.exit_code == 0, federated.output
    assert not issuer_of(app).officers.check("ana@customs.example", "!")
    changed = _cli(folder, "officer", "role", "olga", "administrator")
    assert changed.exit_code == 0 and "olga: officer -> administrator" in changed.output
    listed = _cli(folder, "officer", "list").output
    assert re.search(r"olga\s+active\s+administrator", listed)
    assert re.search(r"sam\s+active\s+supervisor", listed)
    assert issuer_of(app).roles.role("olga") == "administrator"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("officer", "role", "ghost", "officer"), "there is no officer 'ghost'"),
        (("officer", "role", "sam", "root"), "'root' is not one of"),
        (("session", "end", "0123456789abcdef"), "no live session"),
        (("session", "end"), "give a session handle or --officer NAME"),
        (
            ("officer", "add", "x", "--no-password", "--password-stdin"),
            "--no-password and --password-stdin exclude each other",
        ),
    ],
)
def test_cli_refusals_are_one_line(data_dir: Any, args: tuple[str, ...], message: str) -> None:
    folder, _ = data_dir
    answer = _cli(folder, *args)
    assert answer.exit_code == 2
    assert message in answer.output
    assert "Traceback" not in answer.output


def test_the_cli_lists_and_ends_sessions(data_dir: Any) -> None:
    folder, app = data_dir
    client = logged_in(app, "olga", role="officer")
    other = logged_in(app, "ada", role="administrator")
    listed = _cli(folder, "session", "list").output
    handles = dict(line.split()[1::-1] for line in listed.splitlines())
    assert set(handles) == {"olga", "ada"}
    ended = _cli(folder, "session", "end", handles["olga"])
    assert ended.exit_code == 0 and "of olga ended" in ended.output
    assert client.get("/officer/credentials").status_code == 302
    assert other.get("/officer/credentials").status_code == 200
    everyone = _cli(folder, "session", "end", "--officer", "ada")
    assert "1 session(s) of ada ended" in everyone.output
    assert other.get("/officer/credentials").status_code == 302
    assert ROLES == ("officer", "supervisor", "administrator")
