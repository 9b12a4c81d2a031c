"""`vcred serve issuer` as a new user runs it, and `vcred issuer …` administration."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from issuer_app import issuer_of
from tests.httpserver import free_port
from tests.issuer.conftest import PASSPHRASE, ApiClient, credential
from vcred import GuardedFetcher, Verifier
from vcred.audit import parse_lines, verify_chain
from vcred.cli import main

VCRED = str(Path(sys.executable).with_name("vcred"))


@pytest.fixture
def admin_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VCRED_ISSUER_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("VCRED_ISSUER_DATA_DIR", raising=False)


def run(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(main, list(args), input=stdin)


@pytest.mark.usefixtures("admin_env")
def test_tokens_keys_officers_and_the_audit_log(sqlite_app: Flask, tmp_path: Path) -> None:
    service = issuer_of(sqlite_app)
    data = ["--data-dir", str(service.config.data_dir)]
    api = ApiClient(sqlite_app)

    made = run("issuer", "token", "create", "--scope", "issue", "--label", "ERP", *data)
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    assert token.startswith("vci_")
    assert token not in made.stderr
    headers = {"Authorization": f"Bearer {token}"}
    assert api.issue(credential(), headers).status_code == 201
    listed = run("issuer", "token", "list", *data)
    token_id = token.split("_")[1]
    assert token_id in listed.stdout and "ERP" in listed.stdout
    assert token not in listed.stdout
    assert run("issuer", "token", "revoke", token_id, *data).exit_code == 0
    assert api.issue(credential(), headers).status_code == 401
    assert run("issuer", "token", "create", "--scope", "root", *data).exit_code == 2

    added = run("issuer", "key", "add", "--type", "p384", *data)
    assert added.exit_code == 0, added.output
    tag = added.stdout.split()[1]
    assert sum(k.kind == "p384" for k in service.keyring().current) == 2
    assert tag in run("issuer", "key", "list", *data).stdout
    assert run("issuer", "key", "retire", tag, *data).exit_code == 0
    assert tag in {k.tag for k in service.keyring().retired}
    assert run("issuer", "key", "retire", tag, *data).exit_code == 2

    assert (
        run("issuer", "officer", "add", "ana", "--password-stdin", *data, stdin="short\n").exit_code
        == 2
    )
    added_officer = run(
        "issuer", "officer", "add", "ana", "--password-stdin", *data, stdin="long enough pw\n"
    )
    assert added_officer.exit_code == 0, added_officer.output
    assert service.check_officer("ana", "long enough pw")
    assert not service.check_officer("ana", "wrong password")
    assert "ana" in run("issuer", "officer", "list", *data).stdout

    out = tmp_path / "audit.jsonl"
    exported = run("issuer", "audit", "export", "--out", str(out), *data)
    assert exported.exit_code == 0
    entries = parse_lines(out.read_text(encoding="utf-8"))
    assert [e["action"] for e in entries if e] == [
        "initialise",
        "token-create",
        "issue",
        "token-revoke",
        "key-add",
        "key-retire",
        "officer-add",
    ]
    assert verify_chain(entries).intact
    verified = run("audit", "verify", str(out))
    assert verified.exit_code == 0
    assert "intact: 7 entries" in verified.stdout
    assert PASSPHRASE not in out.read_text(encoding="utf-8")


@pytest.mark.usefixtures("admin_env")
def test_key_list_names_each_keys_creation_time_and_thumbprint(sqlite_app: Flask) -> None:
    service = issuer_of(sqlite_app)
    data = ["--data-dir", str(service.config.data_dir)]
    tag = run("issuer", "key", "add", "--type", "p384", *data).stdout.split()[1]
    assert run("issuer", "key", "retire", tag, *data).exit_code == 0
    listed = run("issuer", "key", "list", *data)
    assert listed.exit_code == 0, listed.output
    ring = service.keyring()
    assert ring.trust_list is not None
    _, trust_list_signer = ring.trust_list_signer()
    expected = [
        *((key, "retired " + key.retired if key.retired else "current", key.did_key)
          for key in ring.keys),
        (ring.trust_list, "trust lists only", trust_list_signer.key_id),
    ]  # fmt: skip
    lines = listed.stdout.splitlines()
    assert len(lines) == len(expected)
    for line, (key, state, named) in zip(lines, expected, strict=True):
        # the columns: id, type, created, RFC 7638 thumbprint, state, DID (or method)
        thumbprint = run("key", "thumbprint", key.did_key).stdout.strip()
        assert line.split()[:4] == [key.tag, key.kind, key.created, thumbprint], line
        assert line.split()[4:] == [*state.split(), named], line


@pytest.mark.usefixtures("admin_env")
def test_admin_commands_need_an_issuer(tmp_path: Path) -> None:
    result = run("issuer", "token", "list", "--data-dir", str(tmp_path / "nothing"))
    assert result.exit_code == 2
    assert "start it once" in result.output


def _start(data_dir: Path, port: int, *extra: str) -> tuple[subprocess.Popen[str], list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VCRED_ISSUER_")}
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [VCRED, "serve", "issuer", "--port", str(port), "--data-dir", str(data_dir), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: list[str] = []
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if "officer UI:" in line:
            break
    while time.monotonic() < deadline:  # a loaded machine may take a while
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return process, lines
        except OSError:
            time.sleep(0.05)
    _stop(process)
    raise AssertionError("\n".join(lines))


def _stop(process: subprocess.Popen[str]) -> str:
    """Stop the server (by its own pid) and return what it printed since."""
    process.terminate()
    try:
        rest, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        rest, _ = process.communicate()
    return rest or ""


def test_serve_issuer_as_a_new_user_runs_it(tmp_path: Path) -> None:
    """`vcred serve issuer --port N --data-dir DIR --domain localhost:N`, then curl the API
    with the printed token, and verify over real sockets with the guarded fetcher."""
    port = free_port()
    data_dir = tmp_path / "x"
    process, lines = _start(data_dir, port, "--domain", f"localhost:{port}", "--insecure-no-auth")
    try:
        output = "\n".join(lines)
        token = next(line.strip() for line in lines if line.strip().startswith("vci_"))
        assert "VCRED_ISSUER_PASSPHRASE is not set" in output
        assert "INSECURE" in output
        passphrase_file = data_dir / "passphrase"
        assert stat.S_IMODE(passphrase_file.stat().st_mode) == 0o600
        assert passphrase_file.read_text().strip() not in output
        # the issuer is named: it is not filled in unless the service is told to (--fill-issuer)
        named = credential(issuer=f"did:web:localhost%3A{port}")
        body = json.dumps({"credential": named}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/credentials/issue",
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            assert answer.status == 201
            issued = json.loads(answer.read())
        origin = f"http://127.0.0.1:{port}"
        fetcher = GuardedFetcher(
            host_map={f"localhost:{port}": origin, f"127.0.0.1:{port}": origin}
        )
        result = Verifier(fetcher=fetcher).verify(issued["verifiableCredential"])
        assert result.verified, result.errors
        assert result.issuer == f"did:web:localhost%3A{port}"
    finally:
        log = _stop(process)
    assert token not in log  # printed once, at first start, never logged

    process, lines = _start(data_dir, port)
    _stop(process)
    assert not any(line.strip().startswith("vci_") for line in lines)  # not a first start
