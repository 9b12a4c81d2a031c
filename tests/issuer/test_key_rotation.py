"""Key rotation and validity windows (security.md §13.6): a retired key is `revoked` in the
did:web document from its retirement time on, signs nothing new (not even in a worker whose
keyring is cached), and the did:web's status lists move to the current key — so a credential
issued before the rotation can still be suspended, and still verifies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from issuer_app import issuer_of
from issuer_app.service import Issuer
from tests.issuer.conftest import (
    DID_WEB,
    PASSPHRASE,
    ApiClient,
    AppFetcher,
    Clock,
    assert_consistent,
    auth,
    credential,
    verifier,
)
from vcred import Verifier, issue
from vcred.cli import main
from vcred.did import DidDocument
from vcred.issuing import signer_for
from vcred.status.listcred import format_datetime


def _secured(answer: Any) -> Any:
    wrapped = answer.get_json()["verifiableCredential"]
    if isinstance(wrapped, dict) and wrapped.get("type") == "EnvelopedVerifiableCredential":
        return wrapped["id"].split(",", 1)[1]
    return wrapped


def _set_status(api: ApiClient, app: Flask, credential_id: str, status: str) -> None:
    answer = api.post(
        "/credentials/status",
        json={
            "credentialId": credential_id,
            "credentialStatus": [{"type": "BitstringStatusListEntry", "status": status}],
        },
        headers=auth(app),
    )
    assert answer.status_code == 200, answer.get_json()


def _list_signer(app: Flask, clock: Clock, list_url: str) -> str | None:
    """The verification method that signed the list served at ``list_url``."""
    body = AppFetcher(app).fetch(list_url, accept="application/vc+jwt, application/vc")
    return Verifier(fetcher=AppFetcher(app), clock=clock).verify(body.decode()).method


def _rotate(service: Issuer) -> tuple[str, str]:
    """Add an Ed25519 key and retire the current one: (old method id, new method id)."""
    old = service.keyring().first_current(("ed25519",))
    new = service.add_key("ed25519", actor="test")
    service.retire_key(old.tag, actor="test")
    return f"{DID_WEB}#{old.public.multikey()}", f"{DID_WEB}#{new.public.multikey()}"


def test_retiring_a_key_writes_revoked_into_the_did_web_document(
    app: Flask, api: ApiClient, clock: Clock
) -> None:
    clock.advance(hours=1, microseconds=250_000)
    retired_at = format_datetime(clock.now.replace(microsecond=0) + timedelta(seconds=1))
    old, new = _rotate(issuer_of(app))
    document = api.get("/.well-known/did.json").get_json()
    entries = {entry["id"]: entry for entry in document["verificationMethod"]}
    assert entries[old]["revoked"] == retired_at
    assert "revoked" not in entries[new] and "expires" not in entries[new]
    assert old in document["assertionMethod"] and old not in document["authentication"]
    parsed = DidDocument.parse(document, expected_id=DID_WEB)
    assert parsed.methods[old].revoked is not None
    assert format_datetime(parsed.methods[old].revoked) == retired_at
    assert {k.tag: k.retired for k in issuer_of(app).keyring().retired}.popitem()[1] == retired_at


def test_the_cli_retires_a_key_and_the_served_document_revokes_it(
    sqlite_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VCRED_ISSUER_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("VCRED_ISSUER_DATA_DIR", raising=False)
    service = issuer_of(sqlite_app)
    data = ["--data-dir", str(service.config.data_dir)]
    old = service.keyring().first_current(("ed25519",))
    added = CliRunner().invoke(main, ["issuer", "key", "add", "--type", "ed25519", *data])
    assert added.exit_code == 0, added.output
    retired = CliRunner().invoke(main, ["issuer", "key", "retire", old.tag, *data])
    assert retired.exit_code == 0, retired.output
    (stored,) = (k.retired for k in service.keyring().retired if k.tag == old.tag)
    assert retired.stdout.strip() == f"key {old.tag} retired; revoked from {stored}"
    document = ApiClient(sqlite_app).get("/.well-known/did.json").get_json()
    method = f"{DID_WEB}#{old.public.multikey()}"
    (entry,) = (e for e in document["verificationMethod"] if e["id"] == method)
    assert entry["revoked"] == stored


def test_after_a_rotation_a_credential_issued_before_can_still_be_suspended(
    app: Flask, api: ApiClient, clock: Clock
) -> None:
    headers = auth(app)
    before = {
        fmt: api.issue(credential(), headers, options={"format": fmt})
        for fmt in ("vc+jwt", "eddsa-rdfc-2022", "vc+sd-jwt")
    }
    suspended = _secured(before["vc+jwt"])
    list_url = verifier(app, clock).verify(suspended).status[0].list_url
    old, new = _rotate(issuer_of(app))
    assert _list_signer(app, clock, list_url) == new  # signed again by the current key

    clock.advance(minutes=10)
    credential_id = verifier(app, clock).verify(suspended).credential["id"]  # type: ignore[index]
    _set_status(api, app, credential_id, "suspended")
    result = verifier(app, clock).verify(suspended)
    assert result.codes == ("SUSPENDED",), result.errors  # not KEY_REVOKED, not a stale list
    assert result.method == old  # the credential itself still names the retired key
    for fmt, answer in before.items():
        if fmt != "vc+jwt":
            other = verifier(app, clock).verify(_secured(answer))
            assert other.verified, (fmt, other.errors)

    _set_status(api, app, credential_id, "active")
    assert verifier(app, clock).verify(suspended).verified
    assert _list_signer(app, clock, list_url) == new


def test_a_worker_with_a_cached_keyring_never_signs_with_a_key_retired_elsewhere(
    make_app: Callable[..., Flask], backend: str, clock: Clock
) -> None:
    app = make_app(backend, key_refresh_seconds=3600.0)  # a worker that rarely looks again
    api, headers = ApiClient(app), auth(app)
    first = _secured(api.issue(credential(), headers))
    list_url = verifier(app, clock).verify(first).status[0].list_url
    worker = issuer_of(app)
    admin = Issuer.open_existing(worker.config)  # the CLI, in another process
    try:
        clock.advance(minutes=5)
        old, new = _rotate(admin)
    finally:
        admin.close()
    assert worker._keys.ring.first_current(("ed25519",)).public.multikey() == old.split("#")[1]

    clock.advance(seconds=30)
    after = _secured(api.issue(credential(), headers))
    result = verifier(app, clock).verify(after)
    assert result.verified, result.errors
    assert result.method == new
    assert _list_signer(app, clock, list_url) == new
    assert verifier(app, clock).verify(first).verified


def test_keys_retired_at_every_attempt_give_a_409_not_a_500(
    sqlite_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = issuer_of(sqlite_app)
    attempts: list[str] = []

    def always_retired(conn: Any, tag: str, *, exclusive: bool = False) -> str:
        attempts.append(tag)
        return "2026-06-01T12:00:00Z"

    def always_retired_token_current(conn: Any, tag: str, token_id: str) -> tuple[str, bool]:
        return always_retired(conn, tag), False

    monkeypatch.setattr(service.store, "key_retired", always_retired)
    # with an API token, the key and the token are read in one statement
    monkeypatch.setattr(service.store, "key_retired_or_token_revoked", always_retired_token_current)
    answer = ApiClient(sqlite_app).issue(credential(), auth(sqlite_app))
    assert answer.status_code == 409
    assert answer.get_json()["code"] == "KEYS_CHANGING"
    assert len(attempts) == 3
    assert assert_consistent(service) == 0  # nothing allocated or recorded


def test_verifiers_refuse_what_a_retired_key_would_sign_after_its_retirement(
    app: Flask, clock: Clock
) -> None:
    """What the fence above prevents: the retired key's signature, dated after `revoked`."""
    service = issuer_of(app)
    old_key = service.keyring().first_current(("ed25519",))
    _rotate(service)
    clock.advance(minutes=1)
    late = issue(
        {**credential(), "issuer": DID_WEB},
        signer_for(old_key.pair, did=DID_WEB),
        now=clock.now,
    )
    assert verifier(app, clock).verify(late).codes == ("KEY_REVOKED",)
