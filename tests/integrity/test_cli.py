"""``vcred verify --checks proof FILE`` on every signed W3C vector, and on tampered copies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import credential, require_shared
from tests.integrity.test_pipeline import SIGNED
from tests.integrity.vectors import W3C, read_json
from vcred.cli import main


def run(*args: str) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, json.loads(result.output)


@pytest.mark.usefixtures("citizenship_context")
@pytest.mark.parametrize("path", SIGNED)
def test_vcred_verify_accepts_every_signed_vector(path: Path) -> None:
    code, output = run("verify", "--checks", "proof", str(path))
    assert code == 0, output
    assert output["verified"] is True
    assert output["format"] == "data-integrity"


@pytest.mark.usefixtures("citizenship_context")
@pytest.mark.parametrize("path", SIGNED)
def test_vcred_verify_rejects_tampered_copies(path: Path, tmp_path: Path) -> None:
    document = read_json(path)
    proof = document["proof"] if isinstance(document["proof"], dict) else document["proof"][-1]
    tampered = {
        "document": {**document, "issuer": "https://vc.example/issuers/9999"},
        "proof": {**document, "proof": _with(document["proof"], "created", "2024-01-01T00:00:00Z")},
        "proofValue": {
            **document,
            "proof": _with(document["proof"], "proofValue", _changed(proof["proofValue"])),
        },
    }
    for what, copy in tampered.items():
        target = tmp_path / f"{what}.json"
        target.write_text(json.dumps(copy))
        code, output = run("verify", "--checks", "proof", str(target))
        assert code == 1, f"{what}: {output}"
        assert output["verified"] is False
        assert output["errors"][0]["code"] in ("INVALID_SIGNATURE", "INVALID_PROOF")


def _vcred(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vcred.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_command_verifies_a_vector_from_a_pipe() -> None:
    text = (require_shared(W3C) / "ecdsa/ecdsa-rdfc-2019-p384/signedECDSAP384.json").read_text()
    ok = _vcred("verify", "--checks", "proof", "-", stdin=text)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = _vcred(
        "verify",
        "--checks",
        "proof",
        "-",
        stdin=text.replace("The School of Examples", "The School of Forgeries"),
    )
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["errors"][0]["code"] == "INVALID_SIGNATURE"


@pytest.mark.parametrize("fmt", ["data-integrity", "ecdsa-jcs-2019"])
def test_the_command_issues_data_integrity_and_verifies_it(tmp_path: Path, fmt: str) -> None:
    key = _vcred("key", "generate", "--type", "p384")
    (tmp_path / "key.json").write_text(key.stdout)
    (tmp_path / "cred.json").write_text(json.dumps(credential()))
    issued = _vcred(
        "issue", "--key", str(tmp_path / "key.json"), "--format", fmt, str(tmp_path / "cred.json")
    )
    assert issued.returncode == 0, issued.stderr
    secured = json.loads(issued.stdout)
    expected = "ecdsa-rdfc-2019" if fmt == "data-integrity" else fmt
    assert secured["proof"]["cryptosuite"] == expected
    verified = _vcred("verify", "-", stdin=issued.stdout)
    assert verified.returncode == 0, verified.stdout
    assert json.loads(verified.stdout)["verified"] is True


def _with(proof: object, name: str, value: str) -> object:
    """The proof (or the last proof of a set) with one member changed."""
    if isinstance(proof, list):
        return [*proof[:-1], {**proof[-1], name: value}]
    assert isinstance(proof, dict)
    return {**proof, name: value}


def _changed(proof_value: str) -> str:
    middle = len(proof_value) // 2
    replacement = "2" if proof_value[middle] != "2" else "3"
    return proof_value[:middle] + replacement + proof_value[middle + 1 :]


# -- ecdsa-sd-2023: issue a base proof, derive with `present --disclose`, verify ----------------


def _sd_base(tmp_path: Path, *mandatory: str, subject: str = "did:example:trader") -> CliRunner:
    runner = CliRunner()
    (tmp_path / "issuer.json").write_text(
        runner.invoke(main, ["key", "generate", "--type", "p256"]).output
    )
    claims = {"id": subject, "name": "Harbour Lights", "country": "NL"}
    contexts = [
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2",
    ]
    document = credential(credentialSubject=claims, **{"@context": contexts})
    (tmp_path / "cred.json").write_text(json.dumps(document))
    args = ["issue", "--key", str(tmp_path / "issuer.json"), "--format", "ecdsa-sd-2023"]
    for pointer in mandatory:
        args += ["--mandatory", pointer]
    issued = runner.invoke(main, [*args, str(tmp_path / "cred.json")])
    assert issued.exit_code == 0, issued.output
    (tmp_path / "base.json").write_text(issued.output)
    return runner


def test_present_disclose_derives_an_ecdsa_sd_credential(tmp_path: Path) -> None:
    runner = _sd_base(tmp_path, "/issuer", "/validFrom", "/validUntil")
    derived = runner.invoke(
        main, ["present", "--disclose", "/credentialSubject/country", str(tmp_path / "base.json")]
    )
    assert derived.exit_code == 0, derived.output
    document = json.loads(derived.output)
    assert document["credentialSubject"] == {"id": "did:example:trader", "country": "NL"}
    assert document["proof"]["proofValue"].startswith("u2V0B")
    verified = runner.invoke(main, ["verify", "-"], input=derived.output)
    assert verified.exit_code == 0, verified.output
    base = runner.invoke(main, ["verify", str(tmp_path / "base.json")])
    assert base.exit_code == 1
    assert json.loads(base.output)["errors"][0]["code"] == "INVALID_PROOF"


def test_present_disclose_with_a_key_wraps_the_derived_credential(tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "holder.json").write_text(runner.invoke(main, ["key", "generate"]).output)
    holder = runner.invoke(main, ["did", "create", "key", "--key", str(tmp_path / "holder.json")])
    _sd_base(tmp_path, subject=holder.output.strip())
    presented = runner.invoke(
        main,
        [
            *("present", "--key", str(tmp_path / "holder.json"), "--challenge", "c-1"),
            *("--format", "data-integrity", "--disclose", "/credentialSubject/name"),
            str(tmp_path / "base.json"),
        ],
    )
    assert presented.exit_code == 0, presented.output
    presentation = json.loads(presented.output)
    (inner,) = presentation["verifiableCredential"]
    assert inner["credentialSubject"] == {"id": holder.output.strip(), "name": "Harbour Lights"}
    verified = runner.invoke(
        main, ["verify", "--presentation", "--challenge", "c-1", "-"], input=presented.output
    )
    assert verified.exit_code == 0, verified.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--disclose", "/credentialSubject/nickname"], "does not match"),
        (["--disclose", "credentialSubject"], "JSON Pointer"),
        (["--disclose", "/proof/created"], "into the proof"),
    ],
)
def test_present_disclose_bad_pointers_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    runner = _sd_base(tmp_path)
    result = runner.invoke(main, ["present", *args, str(tmp_path / "base.json")])
    assert result.exit_code == 2
    assert message in result.output


def test_present_without_a_key_needs_one_base_credential(tmp_path: Path) -> None:
    runner = _sd_base(tmp_path)
    result = runner.invoke(main, ["present", str(tmp_path / "cred.json")])
    assert result.exit_code == 2
    assert "--key" in result.output
    two = runner.invoke(
        main, ["present", "--disclose", "/issuer", *[str(tmp_path / "base.json")] * 2]
    )
    assert two.exit_code == 2
