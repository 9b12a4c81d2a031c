"""The vcred command, as scripts use it: pipes, files and exit codes (DESIGN §5)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import credential
from vcred import KeyPair, did_jwk, did_key
from vcred.cli import main

VCRED = [sys.executable, "-m", "vcred.cli"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VCRED, *args], input=stdin, capture_output=True, text=True, check=False, timeout=60
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "cred.json").write_text(json.dumps(credential()))
    return tmp_path


def test_issue_pipe_verify_and_tamper(workdir: Path) -> None:
    key = run("key", "generate", "--type", "ed25519")
    assert key.returncode == 0
    (workdir / "k.json").write_text(key.stdout)
    issued = run(
        "issue", "--key", str(workdir / "k.json"), "--format", "vc+jwt", str(workdir / "cred.json")
    )
    assert issued.returncode == 0, issued.stderr
    verified = run("verify", "-", stdin=issued.stdout)
    assert verified.returncode == 0, verified.stdout
    assert json.loads(verified.stdout)["verified"] is True
    token = issued.stdout.strip()
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    rejected = run("verify", "-", stdin=tampered)
    assert rejected.returncode == 1
    assert [e["code"] for e in json.loads(rejected.stdout)["errors"]] == ["INVALID_SIGNATURE"]


@pytest.mark.parametrize("position", range(1, 8))
def test_changing_any_late_signature_character_gives_invalid_signature(
    workdir: Path, position: int
) -> None:
    runner = CliRunner()
    key = runner.invoke(main, ["key", "generate"]).output
    (workdir / "k.json").write_text(key)
    token = runner.invoke(
        main, ["issue", "--key", str(workdir / "k.json"), str(workdir / "cred.json")]
    ).output.strip()
    changed = (
        token[:-position]
        + ("A" if token[-position] != "A" else "B")
        + token[len(token) - position + 1 :]
    )
    result = runner.invoke(main, ["verify", "-"], input=changed)
    assert result.exit_code == 1
    assert json.loads(result.output)["errors"][0]["code"] == "INVALID_SIGNATURE"


def test_key_out_file_is_private(workdir: Path) -> None:
    out = workdir / "issuer.jwk"
    assert (
        CliRunner().invoke(main, ["key", "generate", "--type", "p384", "--out", str(out)]).exit_code
        == 0
    )
    assert json.loads(out.read_text())["crv"] == "P-384"
    assert out.stat().st_mode & 0o777 == 0o600


def test_did_create_and_resolve(workdir: Path) -> None:
    runner = CliRunner()
    (workdir / "k.json").write_text(
        runner.invoke(main, ["key", "generate", "--type", "p256"]).output
    )
    did = runner.invoke(
        main, ["did", "create", "key", "--key", str(workdir / "k.json")]
    ).output.strip()
    assert did.startswith("did:key:zDna")
    document = json.loads(runner.invoke(main, ["did", "resolve", did]).output)
    assert document["id"] == did
    jwk_did = runner.invoke(
        main, ["did", "create", "jwk", "--key", str(workdir / "k.json")]
    ).output.strip()
    assert json.loads(runner.invoke(main, ["did", "resolve", jwk_did]).output)["id"] == jwk_did


def test_key_thumbprint_of_a_key_file_its_public_half_and_its_dids(workdir: Path) -> None:
    """What a trust list's pinnedKeys name (RFC 7638), from whatever the partner hands over."""
    runner = CliRunner()
    key = KeyPair.generate("p256")
    (workdir / "k.json").write_text(json.dumps(key.private_jwk()))
    (workdir / "pub.json").write_text(json.dumps(key.public.jwk()))
    did = did_key(key.public)
    method = f"{did}#{did.removeprefix('did:key:')}"
    given = [str(workdir / "k.json"), str(workdir / "pub.json"), did, did_jwk(key.public), method]
    result = runner.invoke(main, ["key", "thumbprint", *given])
    assert result.exit_code == 0, result.output
    assert result.output.split() == [key.public.thumbprint()] * len(given)


def test_key_thumbprint_of_an_unknown_key_says_why_in_one_line() -> None:
    result = CliRunner().invoke(main, ["key", "thumbprint", "did:key:zBAD"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "DID_RESOLUTION" in result.output


def test_key_thumbprint_of_a_did_jwk_encryption_key_says_why_in_one_line() -> None:
    # was an IndexError traceback: a "use": "enc" key has keyAgreement only (did:jwk spec)
    jwk = {**KeyPair.generate("p256").public.jwk(), "use": "enc"}
    encoded = base64.urlsafe_b64encode(json.dumps(jwk).encode()).decode().rstrip("=")
    result = CliRunner().invoke(main, ["key", "thumbprint", f"did:jwk:{encoded}"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "no key for assertions" in result.output


def test_did_resolve_failure_exits_1() -> None:
    result = CliRunner().invoke(main, ["did", "resolve", "did:key:zBAD"])
    assert result.exit_code == 1


def test_issue_with_encrypted_pem_key(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vcred.keys import KeyPair

    key = KeyPair.generate()
    (workdir / "k.pem").write_bytes(key.to_pem(password=b"s3cret"))
    monkeypatch.setenv("VCRED_KEY_PASSPHRASE", "s3cret")
    result = CliRunner().invoke(
        main, ["issue", "--key", str(workdir / "k.pem"), str(workdir / "cred.json")]
    )
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output


def test_present_and_verify_presentation(workdir: Path) -> None:
    runner = CliRunner()
    (workdir / "issuer.json").write_text(runner.invoke(main, ["key", "generate"]).output)
    (workdir / "holder.json").write_text(runner.invoke(main, ["key", "generate"]).output)
    (workdir / "vc.txt").write_text(
        runner.invoke(
            main, ["issue", "--key", str(workdir / "issuer.json"), str(workdir / "cred.json")]
        ).output
    )
    vp = runner.invoke(
        main,
        [
            "present",
            "--key",
            str(workdir / "holder.json"),
            "--challenge",
            "n-1",
            str(workdir / "vc.txt"),
        ],
    ).output
    ok = runner.invoke(main, ["verify", "--challenge", "n-1", "-"], input=vp)
    assert json.loads(ok.output)["checks"][1] == {
        "check": "challenge",
        "passed": True,
        "detail": "challenge matches",
    }
    replay = runner.invoke(main, ["verify", "--challenge", "n-2", "-"], input=vp)
    assert replay.exit_code == 1


def test_verify_checks_option(workdir: Path) -> None:
    runner = CliRunner()
    (workdir / "k.json").write_text(runner.invoke(main, ["key", "generate"]).output)
    token = runner.invoke(
        main, ["issue", "--key", str(workdir / "k.json"), str(workdir / "cred.json")]
    ).output
    result = runner.invoke(main, ["verify", "--checks", "proof,validity", "-"], input=token)
    assert [c["check"] for c in json.loads(result.output)["checks"]] == ["proof", "validity"]
    assert (
        runner.invoke(main, ["verify", "--checks", "proof,bogus", "-"], input=token).exit_code == 2
    )


@pytest.mark.parametrize(
    "args",
    [
        ["issue", "--key", "/no/such/key.json", "-"],
        ["key", "generate", "--type", "rsa"],
        ["verify", "/no/such/file"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert CliRunner().invoke(main, args, input="{}").exit_code == 2


def test_issue_refuses_malformed_credential_with_pointer(workdir: Path) -> None:
    runner = CliRunner()
    (workdir / "k.json").write_text(runner.invoke(main, ["key", "generate"]).output)
    (workdir / "bad.json").write_text(json.dumps(credential(validFrom="tomorrow")))
    result = runner.invoke(
        main, ["issue", "--key", str(workdir / "k.json"), str(workdir / "bad.json")]
    )
    assert result.exit_code == 2
    assert "MALFORMED" in result.output and "/validFrom" in result.output


def test_library_walkthrough_check_exits_0() -> None:
    env = {**os.environ, "COLUMNS": "100"}
    completed = subprocess.run(
        [*VCRED, "demo", "--library", "--check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_sd_jwt_issue_present_with_disclose_and_verify(workdir: Path) -> None:
    from tests.conftest import billing_attestation

    runner = CliRunner()
    for name in ("issuer", "holder"):
        (workdir / f"{name}.json").write_text(runner.invoke(main, ["key", "generate"]).output)
    holder_did = runner.invoke(
        main, ["did", "create", "key", "--key", str(workdir / "holder.json")]
    ).output.strip()
    (workdir / "bill.json").write_text(
        json.dumps(billing_attestation(validFrom="2020-01-01T00:00:00Z"))
    )
    issued = runner.invoke(
        main,
        [
            *("issue", "--key", str(workdir / "issuer.json"), "--format", "vc+sd-jwt"),
            *("--holder", holder_did, str(workdir / "bill.json")),
        ],
    )
    assert issued.exit_code == 0, issued.output
    # five amounts, the consignee and two goods descriptions: disclosable by default
    assert issued.output.count("~") == 9
    (workdir / "bill.sd-jwt").write_text(issued.output)
    presented = runner.invoke(
        main,
        [
            *("present", "--key", str(workdir / "holder.json"), "--challenge", "c-1"),
            *("--domain", "customs.jp.example", str(workdir / "bill.sd-jwt")),
            *("--disclose", "/credentialSubject/lineItems/0/unitPrice"),
        ],
    )
    assert presented.exit_code == 0, presented.output
    assert presented.output.count("~") == 2  # one disclosure, then the key-binding JWT
    ok = runner.invoke(
        main,
        ["verify", "--challenge", "c-1", "--domain", "customs.jp.example", "-"],
        input=presented.output,
    )
    assert ok.exit_code == 0, ok.output
    result = json.loads(ok.output)
    assert result["holder"] == holder_did
    (vc,) = result["credentials"]
    assert vc["disclosed"] == ["/credentialSubject/lineItems/0/unitPrice"]
    items = vc["credential"]["credentialSubject"]["lineItems"]
    assert items[0]["unitPrice"] == "250.00" and "unitPrice" not in items[1]
    replay = runner.invoke(
        main,
        ["verify", "--challenge", "c-2", "--domain", "customs.jp.example", "-"],
        input=presented.output,
    )
    assert replay.exit_code == 1
    assert "INVALID_CHALLENGE" in [e["code"] for e in json.loads(replay.output)["errors"]]


@pytest.mark.parametrize(
    "args",
    [
        ["present", "--disclose", "/credentialSubject/name", "cred.vc"],  # not an SD-JWT
        ["present", "--disclose", "/credentialSubject/name", "cred.sd"],  # no challenge, domain
        ["issue", "--holder", "did:example:x", "cred.json"],  # --holder is for SD-JWT only
        ["issue", "--format", "vc+sd-jwt", "--disclosable", "/validUntil", "cred.json"],
    ],
)
def test_sd_jwt_usage_errors_exit_2(workdir: Path, args: list[str]) -> None:
    runner = CliRunner()
    (workdir / "k.json").write_text(runner.invoke(main, ["key", "generate"]).output)
    key = ["--key", str(workdir / "k.json")]
    (workdir / "cred.vc").write_text(
        runner.invoke(main, ["issue", *key, str(workdir / "cred.json")]).output
    )
    (workdir / "cred.sd").write_text(
        runner.invoke(
            main, ["issue", *key, "--format", "sd-jwt", str(workdir / "cred.json")]
        ).output
    )
    command, *rest = args
    paths = [str(workdir / a) if a.startswith("cred.") else a for a in rest]
    result = runner.invoke(main, [command, *key, *paths])
    assert result.exit_code == 2, result.output


def test_the_library_never_imports_flask() -> None:
    code = (
        "import pkgutil, importlib, sys, vcred\n"
        "for m in pkgutil.walk_packages(vcred.__path__, 'vcred.'):\n"
        "    importlib.import_module(m.name)\n"
        "web = ('flask', 'sqlalchemy', 'werkzeug')\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in web))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert completed.stdout.strip() == "[]"
