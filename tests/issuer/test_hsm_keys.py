"""An issuer whose keys are in an HSM (SoftHSM2 over PKCS#11): HSM-only mode keeps nothing
that signs outside the token and needs no passphrase; `vcred issuer key add --hsm` and key
rotation work with token keys; everything the issuer signs (credentials in each format, the
status lists) verifies with the public keys it publishes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from pkcs11 import Attribute
from sqlalchemy import update

from issuer_app import IssuerConfig, create_app, issuer_of
from issuer_app.service import TRUST_LIST_KEY
from tests.issuer.conftest import (
    DID_WEB,
    PASSPHRASE,
    ApiClient,
    Clock,
    auth,
    credential,
    make_config,
    verifier,
)
from tests.softhsm import PIN, SoftHsm
from vcred.cli import main
from vcred.errors import UsageError

TOKEN = "vcred-issuer"


def hsm_settings(softhsm: SoftHsm, *, only: bool = True) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "hsm_module": softhsm.module,
        "hsm_token": TOKEN,
        "hsm_pin": PIN,
        "hsm_only": only,
    }
    if only:
        settings["passphrase"] = None
    return settings


@pytest.fixture
def hsm_app(make_app: Callable[..., Flask], backend: str, softhsm: SoftHsm) -> Flask:
    return make_app(backend, **hsm_settings(softhsm))


def _secured(answer: Any) -> Any:
    assert answer.status_code == 201, answer.get_json()
    wrapped = answer.get_json()["verifiableCredential"]
    if isinstance(wrapped, dict) and wrapped.get("type") == "EnvelopedVerifiableCredential":
        return wrapped["id"].split(",", 1)[1]
    return wrapped


def test_hsm_only_keeps_no_key_outside_the_token(hsm_app: Flask) -> None:
    service = issuer_of(hsm_app)
    rows = service.store.key_rows()
    assert {row.kind for row in rows} == {"ed25519", "p256", "p384"}
    assert all(row.pem.startswith(f"pkcs11:token={TOKEN};id=%") for row in rows)
    trust_list = json.loads(service.store.get_meta(TRUST_LIST_KEY) or "{}")
    assert trust_list["pem"].startswith("pkcs11:")
    assert all(key.describe()["hsm"] for key in service.keyring().keys)
    # no passphrase file, no key file: only the database lives in the data folder
    files = {path.name for path in Path(service.config.data_dir).iterdir()}
    assert files <= {"service.db", "service.db-wal", "service.db-shm", "service.db.bootstrap-lock"}
    assert "BEGIN" not in json.dumps([row.pem for row in rows])


@pytest.mark.parametrize(
    "fmt", ["vc+jwt", "vc+sd-jwt", "eddsa-rdfc-2022", "ecdsa-rdfc-2019", "ecdsa-jcs-2019"]
)
def test_credentials_and_status_lists_signed_in_the_token_verify(
    hsm_app: Flask, clock: Clock, fmt: str
) -> None:
    api, headers = ApiClient(hsm_app), auth(hsm_app)
    secured = _secured(api.issue(credential(), headers, options={"format": fmt}))
    result = verifier(hsm_app, clock).verify(secured)
    assert result.verified, result.errors
    assert result.method is not None and result.method.startswith(DID_WEB + "#")
    assert result.status  # the status list, signed in the token too, was checked
    suspended = api.post(
        "/credentials/status",
        json={
            "credentialId": result.credential["id"],  # type: ignore[index]
            "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "suspended"}],
        },
        headers=headers,
    )
    assert suspended.status_code == 200, suspended.get_json()
    clock.advance(minutes=10)
    assert verifier(hsm_app, clock).verify(secured).codes == ("SUSPENDED",)


def test_trust_lists_are_signed_by_the_trust_list_key_in_the_token(hsm_app: Flask) -> None:
    service = issuer_of(hsm_app)
    key = service.trust_list_key(actor="test")
    assert key.describe()["hsm"] is not None
    _, signer = service.keyring().trust_list_signer()
    assert signer.public_key.verify(signer.sign(b"list"), b"list")


def test_key_rotation_with_keys_in_the_token(hsm_app: Flask, clock: Clock) -> None:
    api, headers = ApiClient(hsm_app), auth(hsm_app)
    service = issuer_of(hsm_app)
    before = _secured(api.issue(credential(), headers))
    old = service.keyring().first_current(("ed25519",))
    new = service.add_key("ed25519", actor="test")  # HSM-only: made in the token
    assert new.describe()["hsm"] is not None
    service.retire_key(old.tag, actor="test")
    clock.advance(minutes=1)
    after = _secured(api.issue(credential(), headers))
    result = verifier(hsm_app, clock).verify(after)
    assert result.verified, result.errors
    assert result.method == f"{DID_WEB}#{new.public.multikey()}"
    earlier = verifier(hsm_app, clock).verify(before)
    assert earlier.verified, earlier.errors
    assert earlier.method == f"{DID_WEB}#{old.public.multikey()}"
    p521 = service.add_key("p521", actor="test")
    assert p521.pair.public.verify(p521.pair.sign(b"x"), b"x")


def test_hsm_only_refuses_to_make_a_key_in_the_database(hsm_app: Flask) -> None:
    with pytest.raises(UsageError, match="HSM keys only: add the key with --hsm"):
        issuer_of(hsm_app).add_key("p256", actor="test", hsm=False)


def test_hsm_only_refuses_a_database_that_holds_keys(
    make_app: Callable[..., Flask], tmp_path: Path, softhsm: SoftHsm
) -> None:
    make_app("sqlite", data_dir=tmp_path / "local")  # keys encrypted in the database
    with pytest.raises(UsageError, match="kept in the database, and this issuer signs with HSM"):
        create_app(make_config(tmp_path / "local", "sqlite", **hsm_settings(softhsm)))


def test_a_key_in_the_token_needs_the_token_configured(
    hsm_app: Flask, backend: str, softhsm: SoftHsm
) -> None:
    service = issuer_of(hsm_app)
    config = make_config(
        service.config.data_dir,
        backend,
        database_url=service.config.database_url,
        table_prefix=service.config.table_prefix,
    )
    with pytest.raises(UsageError, match=r"is in an HSM .*configure VCRED_ISSUER_HSM_MODULE"):
        create_app(config)


def test_a_row_naming_another_token_key_is_refused(hsm_app: Flask, softhsm: SoftHsm) -> None:
    service = issuer_of(hsm_app)
    ed, p256 = sorted(service.store.key_rows(), key=lambda row: row.kind)[:2]
    with service.store.engine.begin() as conn:
        conn.execute(
            update(service.store.t.keys)
            .where(service.store.t.keys.c.tag == p256.tag)
            # the ed25519 key's object under the P-256 key's name: found, but not that key
            .values(pem=ed.pem, kind="ed25519")
        )
    with pytest.raises(UsageError, match=f"the key stored as {p256.tag} is another key"):
        service._load_keyring()


def test_the_cli_adds_a_key_in_the_token_to_a_running_issuer(
    make_app: Callable[..., Flask],
    softhsm: SoftHsm,
    monkeypatch: pytest.MonkeyPatch,
    clock: Clock,
) -> None:
    # keys in the database, and an HSM beside them: --hsm makes the new one in the token
    app = make_app("sqlite", **hsm_settings(softhsm, only=False))
    service = issuer_of(app)
    for name, value in softhsm.environ(TOKEN).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VCRED_ISSUER_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    data = ["--data-dir", str(service.config.data_dir)]
    added = CliRunner().invoke(main, ["issuer", "key", "add", "--type", "p384", "--hsm", *data])
    assert added.exit_code == 0, added.output
    assert f"in the HSM (pkcs11:token={TOKEN};id=" in added.stdout
    listed = CliRunner().invoke(main, ["issuer", "key", "list", *data])
    assert listed.stdout.count("(HSM)") == 1
    (made,) = (key for key in service.keyring().keys if key.describe()["hsm"])
    assert made.kind == "p384"
    answer = ApiClient(app).issue(
        {**credential(), "issuer": made.did_key}, auth(app), options={"format": "vc+jwt"}
    )
    result = verifier(app, clock).verify(_secured(answer))
    assert result.verified, result.errors
    assert result.method == f"{made.did_key}#{made.public.multikey()}"


def test_the_cli_refuses_hsm_without_a_module(
    sqlite_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VCRED_ISSUER_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    data = ["--data-dir", str(issuer_of(sqlite_app).config.data_dir)]
    added = CliRunner().invoke(main, ["issuer", "key", "add", "--hsm", *data])
    assert added.exit_code == 2
    assert added.stderr.strip() == ("vcred issuer: no HSM is configured (VCRED_ISSUER_HSM_MODULE)")


# -- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"hsm_only": True, "passphrase": None}, "HSM-only mode needs the PKCS#11 module"),
        (
            {"hsm_only": True, "hsm_module": "/m.so", "hsm_token": "t", "hsm_pin": "1"},
            "a passphrase is not used",
        ),
        ({"hsm_module": "/m.so", "hsm_pin": "1"}, "name the PKCS#11 token's label"),
        ({"hsm_module": "/m.so", "hsm_token": "t"}, "give the PKCS#11 token's PIN"),
        ({"hsm_token": "t", "hsm_pin": "1"}, "need the module"),
        ({"passphrase": None}, "the key passphrase must not be empty"),
    ],
)
def test_inconsistent_hsm_settings_are_refused(
    tmp_path: Path, settings: dict[str, Any], message: str
) -> None:
    values: dict[str, Any] = {"data_dir": tmp_path, "passphrase": PASSPHRASE, **settings}
    with pytest.raises(UsageError, match=message):
        IssuerConfig(**values)


def test_hsm_only_from_the_environment_needs_no_passphrase(
    tmp_path: Path, softhsm: SoftHsm
) -> None:
    pin_file = tmp_path / "pin"
    pin_file.write_text(PIN + "\n", encoding="utf-8")
    environ = {
        "VCRED_ISSUER_HSM_MODULE": softhsm.module,
        "VCRED_ISSUER_HSM_TOKEN": TOKEN,
        "VCRED_ISSUER_HSM_PIN_FILE": str(pin_file),
        "VCRED_ISSUER_HSM_ONLY": "1",
    }
    config = IssuerConfig.from_env(environ, embedded=True, data_dir=tmp_path / "data")
    assert config.passphrase is None and config.hsm_pin == PIN and config.hsm_only
    assert not (tmp_path / "data" / "passphrase").exists()  # embedded: none generated either
    with pytest.raises(UsageError, match="HSM_PIN or VCRED_ISSUER_HSM_PIN_FILE, not both"):
        IssuerConfig.from_env({**environ, "VCRED_ISSUER_HSM_PIN": PIN}, data_dir=tmp_path)
    with pytest.raises(UsageError, match="a passphrase is not used"):
        IssuerConfig.from_env({**environ, "VCRED_ISSUER_PASSPHRASE": "x"}, data_dir=tmp_path)
    with pytest.raises(UsageError, match="cannot read the PKCS#11 PIN file"):
        IssuerConfig.from_env(
            {**environ, "VCRED_ISSUER_HSM_PIN_FILE": str(tmp_path / "absent")}, data_dir=tmp_path
        )


@pytest.mark.slow
def test_gunicorn_workers_start_an_hsm_only_issuer_once(tmp_path: Path, softhsm: SoftHsm) -> None:
    """Three workers start at once on a fresh folder: one makes the keys in the token (under
    the first-start lock), none makes a key for nothing, and each signs in the token."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from pkcs11 import ObjectClass

    from issuer_app.service import Issuer
    from vcred.hsm import Pkcs11Token

    token = "vcred-workers"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("VCRED_") and k != "DATABASE_URL"
    }
    env.update(
        softhsm.environ(token),
        VCRED_ISSUER_HSM_ONLY="1",
        VCRED_ISSUER_DATA_DIR=str(tmp_path / "data"),
        VCRED_ISSUER_DOMAIN="customs.example",
        VCRED_ISSUER_PUBLIC_URL="https://customs.example",
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    log = tmp_path / "gunicorn.log"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(gunicorn), "-w", "3", "-b", f"127.0.0.1:{port}", "issuer_app:create_app()"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.25)
        config = IssuerConfig.from_env(env, data_dir=tmp_path / "data")
        admin = Issuer.open_existing(config)
        try:
            bearer = admin.create_token(("issue",), actor="test").token
            assert len(admin.store.key_rows()) == 3
        finally:
            admin.close()
        body = json.dumps({"credential": {**credential(), "issuer": DID_WEB}}).encode()
        for _ in range(6):  # whichever workers answer, each signs in the token
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/credentials/issue",
                data=body,
                headers={"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - http
                assert answer.status == 201
            body = json.dumps({"credential": {**credential(), "issuer": DID_WEB}}).encode()
        assert server.poll() is None, log.read_text()
    finally:
        server.terminate()  # our own child, by handle
        server.wait(timeout=30)
    text = log.read_text()
    assert text.count("Booting worker") == 3 and "Traceback" not in text, text
    opened = Pkcs11Token(softhsm.module, token=token, pin=PIN)
    try:
        keys = list(opened._session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY}))
    finally:
        opened.close()
    assert len(keys) == 4  # three issuing keys and the trust-list key: made once
