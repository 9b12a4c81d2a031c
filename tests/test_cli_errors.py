"""The command line as a new user meets it: every mistake is one line on stderr, never a
traceback, and nothing is written by a start that cannot serve."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from issuer_app import IssuerConfig
from issuer_app.service import Issuer
from tests.conftest import ROOT, credential
from vcred import KeyPair, did_key, issue, present
from vcred.cli import main
from vcred_demo.cluster import Cluster

PASSPHRASE = "a passphrase long enough for tests"


def vcred(
    *args: str,
    cwd: Path,
    stdin: str = "",
    env: dict[str, str] | None = None,
    module: str = "vcred.cli",
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    for name in ("VCRED_ISSUER_PASSPHRASE", "DATABASE_URL", "VCRED_ISSUER_DATA_DIR"):
        if env is None or name not in env:
            environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def one_line_error(run: subprocess.CompletedProcess[str], *fragments: str, code: int = 2) -> str:
    """The single stderr line of a failed command; it must contain every fragment."""
    assert "Traceback" not in run.stderr + run.stdout, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert run.returncode == code, run.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


SERVICES = ["issuer", "verifier"]


# -- vcred serve --------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_serve_with_an_unwritable_data_folder_says_so_in_one_line(
    tmp_path: Path, service: str
) -> None:
    (tmp_path / "a-file").write_text("")  # a folder under a file can never be made
    run = vcred("serve", service, "--port", "0", "--data-dir", "a-file/data", cwd=tmp_path)
    one_line_error(run, "a-file/data", "cannot be written")


@pytest.mark.parametrize("service", SERVICES)
def test_serve_on_a_busy_port_fails_before_writing_anything(
    tmp_path: Path, service: str, busy_port: int
) -> None:
    run = vcred("serve", service, "--port", str(busy_port), "--data-dir", "data", cwd=tmp_path)
    one_line_error(run, f"127.0.0.1:{busy_port}", "in use")
    # no keys, no passphrase, no one-time admin token, no recorded public URL
    assert list(tmp_path.iterdir()) == []
    assert "token" not in run.stdout.lower()


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [("--port", "70000", "a port is 0–65535"), ("--host", "no-such-host.invalid", "cannot listen")],
)
def test_serve_on_an_address_it_cannot_listen_on_says_so(
    tmp_path: Path, option: str, value: str, says: str
) -> None:
    run = vcred("serve", "issuer", option, value, "--data-dir", "data", cwd=tmp_path)
    one_line_error(run, says)
    assert list(tmp_path.iterdir()) == []


# -- vcred issuer … -----------------------------------------------------------------------------

ADMIN_COMMANDS = [
    ["token", "create"],
    ["token", "list"],
    ["key", "list"],
    ["key", "add"],
    ["officer", "add", "ana"],
    ["officer", "list"],
    ["audit", "export"],
]


@pytest.mark.parametrize("command", ADMIN_COMMANDS, ids=" ".join)
def test_admin_commands_on_a_mistyped_data_dir_say_no_issuer_is_there(
    tmp_path: Path, command: list[str]
) -> None:
    run = vcred("issuer", *command, "--data-dir", "isuer-data", cwd=tmp_path, stdin="x" * 20)
    line = one_line_error(run, "no issuer is set up in isuer-data")
    assert "passphrase" not in line.lower()
    assert "Password" not in run.stdout  # nothing was asked
    assert list(tmp_path.iterdir()) == []  # and nothing made there


@pytest.fixture
def issuer_dir(tmp_path: Path) -> Path:
    """An issuer set up in a data folder; the CLI finds its passphrase in the environment."""
    data_dir = tmp_path / "issuer"
    Issuer.open(IssuerConfig(data_dir=data_dir, passphrase=PASSPHRASE)).close()
    return data_dir


def _officer_add(data_dir: Path, typed: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["issuer", "officer", "add", "ana", "--data-dir", str(data_dir)],
        input=typed,
        env={"VCRED_ISSUER_PASSPHRASE": PASSPHRASE, "DATABASE_URL": None},
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr


def test_officer_add_refuses_a_short_password_after_the_first_prompt(issuer_dir: Path) -> None:
    code, out, err = _officer_add(issuer_dir, "too short\n")
    assert code == 2
    assert out.count("Password") == 1
    assert "Repeat" not in out
    assert err.strip().splitlines() == ["vcred issuer: a password has at least 10 characters"]


def test_officer_add_asks_twice_for_a_good_password(issuer_dir: Path) -> None:
    code, out, err = _officer_add(issuer_dir, "long enough secret\nlong enough secreT\n")
    assert (code, err.strip()) == (2, "vcred issuer: the two passwords differ")
    code, out, err = _officer_add(issuer_dir, "long enough secret\nlong enough secret\n")
    assert code == 0, err
    assert "Repeat for confirmation" in out
    assert "officer ana added" in out


# -- vcred verify -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with credential.jwt, vp.jwt (bound to C and D) and a Data Integrity vc.json."""
    folder = tmp_path_factory.mktemp("secured")
    issuer, holder = KeyPair.generate("ed25519"), KeyPair.generate("p256")
    subject = {"id": did_key(holder.public), "name": "Harbour Lights Trading"}
    token = issue(credential(credentialSubject=subject), issuer)
    (folder / "credential.jwt").write_text(token + "\n")
    (folder / "vp.jwt").write_text(present([token], holder, challenge="C", domain="D") + "\n")
    signed = issue(credential(), issuer, format="eddsa-rdfc-2022")
    (folder / "vc.json").write_text(json.dumps(signed))
    return folder


def test_verify_of_a_presentation_points_at_the_flag(secured: Path) -> None:
    run = vcred("verify", "vp.jwt", cwd=secured)
    one_line_error(run, "vp.jwt looks like a presentation", "--presentation")
    run = vcred(
        "verify", "--presentation", "--challenge", "C", "--domain", "D", "vp.jwt", cwd=secured
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["verified"] is True


def test_verify_of_a_json_presentation_points_at_the_flag(secured: Path) -> None:
    token = (secured / "vp.jwt").read_text().strip()
    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": f"data:application/vp+jwt,{token}",
        "type": "EnvelopedVerifiablePresentation",
    }
    (secured / "vp.json").write_text(json.dumps(enveloped))
    one_line_error(vcred("verify", "vp.json", cwd=secured), "looks like a presentation")


def _issue_answer(secured: Path) -> dict[str, object]:
    """The body of the issuer's 201 to POST /credentials/issue for a vc+jwt."""
    token = (secured / "credential.jwt").read_text().strip()
    return {
        "verifiableCredential": {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": f"data:application/vc+jwt,{token}",
            "type": "EnvelopedVerifiableCredential",
        }
    }


@pytest.mark.parametrize("shape", ["enveloped", "compact", "data-integrity"])
def test_verify_opens_a_saved_vc_api_body(secured: Path, shape: str) -> None:
    token = (secured / "credential.jwt").read_text().strip()
    inner = {
        "enveloped": _issue_answer(secured)["verifiableCredential"],
        "compact": token,
        "data-integrity": json.loads((secured / "vc.json").read_text()),
    }[shape]
    (secured / "answer.json").write_text(json.dumps({"verifiableCredential": inner}))
    run = vcred("verify", "--no-status", "answer.json", cwd=secured)
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["verified"] is True


def test_what_a_vc_api_body_carries_is_verified_as_it_is(secured: Path) -> None:
    document = json.loads((secured / "vc.json").read_text())
    document["credentialSubject"]["name"] = "Someone Else"
    (secured / "forged.json").write_text(json.dumps({"verifiableCredential": document}))
    run = vcred("verify", "forged.json", cwd=secured)
    assert run.returncode == 1
    assert json.loads(run.stdout)["errors"][0]["code"] == "INVALID_SIGNATURE"


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["issue", "--key", "key.jwk", "deep.json"], "the credential is not JSON"),
        (["present", "deep.json"], "deep.json is not JSON"),
        (["trust-list", "build", "deep.json"], "the specification is not JSON"),
        (["trust-list", "sign", "--key", "key.jwk", "deep.json"], "the trust list is not JSON"),
    ],
    ids=["issue", "present", "trust-list-build", "trust-list-sign"],
)
def test_json_nested_past_the_parsers_recursion_is_one_line(
    secured: Path, command: list[str], says: str
) -> None:
    # json.loads raised RecursionError, and the command printed a traceback
    (secured / "deep.json").write_text('{"a": ' * 20_000 + "1" + "}" * 20_000)
    (secured / "key.jwk").write_text(json.dumps(KeyPair.generate("ed25519").private_jwk()))
    one_line_error(vcred(*command, cwd=secured), says)


# -- vcred demo ---------------------------------------------------------------------------------


def test_the_demo_says_when_a_port_was_taken(busy_port: int, tmp_path: Path) -> None:
    said: list[str] = []
    cluster = Cluster(data_dir=tmp_path, progress=said.append)
    try:
        url = cluster.serve(Flask("moved"), busy_port, name="US issuer")
        assert url != f"http://127.0.0.1:{busy_port}"
        assert len(said) == 1
        assert f"port {busy_port} is taken" in said[0]
        assert f"the US issuer is on port {url.rsplit(':', 1)[1]} instead" in said[0]
        assert cluster.moved == said
        cluster.serve(Flask("free"), 0, name="EU verifier")  # 0: any port, nothing to say
        assert len(said) == 1
    finally:
        cluster.stop()


def test_python_dash_m_vcred_is_the_vcred_command(tmp_path: Path) -> None:
    # where the script is not on PATH (a venv not activated), python -m vcred does the same
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "vcred", "verify", str(tmp_path / "missing.jwt")],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert one_line_error(run, "missing.jwt").startswith("vcred: ")
    helped = subprocess.run(
        [sys.executable, "-m", "vcred", "--help"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert helped.returncode == 0 and helped.stdout.startswith("Usage: vcred ")


@pytest.mark.parametrize("module", ["vcred", "vcred.cli"])
def test_every_command_group_answers_under_python_dash_m(module: str, tmp_path: Path) -> None:
    # python -m vcred.cli said "No such command 'trust-list'": its __main__ block ran the
    # group before the trust-list commands joined it at the end of the module
    listed = vcred("--help", cwd=tmp_path, module=module)
    assert listed.returncode == 0, listed.stderr
    for group in ["audit", "did", "issuer", "key", "trust-list", "verifier", "wallet"]:
        assert f"  {group} " in listed.stdout
        helped = vcred(group, "--help", cwd=tmp_path, module=module)
        assert helped.returncode == 0, helped.stderr
    built = vcred(
        "trust-list", "build", str(tmp_path / "missing.json"), cwd=tmp_path, module=module
    )
    one_line_error(built, "missing.json")
