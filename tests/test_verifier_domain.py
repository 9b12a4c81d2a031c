"""The pipeline with the customs domain: schema and MRA trust checks, end to end."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vcred import Verifier, did_key, issue
from vcred.cli import main
from vcred.customs.builders import build_aeo_certificate
from vcred.customs.samples import TRADERS
from vcred.keys import KeyPair
from vcred.trust import TrustList, build_trust_list, load_signed_trust_list

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
US_KEY, EU_KEY, UK_KEY = (KeyPair.generate() for _ in range(3))
US, EU, UK = (did_key(k.public) for k in (US_KEY, EU_KEY, UK_KEY))
AT = Verifier(clock=lambda: NOW)


def us_aeo_certificate() -> dict[str, Any]:
    return build_aeo_certificate(
        dict(TRADERS["us-prairie"]),
        issuer=US,
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2029, 1, 1, tzinfo=UTC),
    )


def signed_list(key: KeyPair, programme: str, recognised: list[dict[str, Any]], **kw: Any) -> str:
    unsigned = build_trust_list(
        recognised,
        issuer=did_key(key.public),
        programme=programme,
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2027, 1, 1, tzinfo=UTC),
        **kw,
    )
    return str(issue(unsigned, key))


US_ENTRY = {
    "issuer": US,
    "programme": "US-CTPAT",
    "country": "US",
    "acceptedCredentialTypes": ["AEOCertificateCredential", "ExportBillingAttestation"],
}


@pytest.fixture(scope="module")
def eu_trust() -> TrustList:
    token = signed_list(EU_KEY, "EU-AEO", [US_ENTRY], authority_country="DE")
    return load_signed_trust_list(token, now=NOW, expected_issuer=EU)


@pytest.fixture(scope="module")
def uk_trust() -> TrustList:
    entry = {
        **US_ENTRY,
        "issuer": "did:web:nz-customs.example",
        "programme": "NZ-SES",
        "country": "NZ",
    }
    token = signed_list(UK_KEY, "UK-AEO", [entry])
    return load_signed_trust_list(token, now=NOW, expected_issuer=UK)


def test_us_aeo_credential_is_trusted_at_an_eu_verifier(eu_trust: TrustList) -> None:
    result = dataclasses.replace(AT, trust=eu_trust).verify(issue(us_aeo_certificate(), US_KEY))
    assert result.verified, result.errors
    assert result.check("schema").passed is True
    assert result.trust is not None
    assert result.trust.trusted
    assert result.trust.mra is not None
    assert result.trust.mra.id == "urn:vcred:mra:eu-aeo:us-ctpat"
    assert result.to_dict()["trust"]["programme"] == "US-CTPAT"


def test_same_credential_is_untrusted_without_the_mra(uk_trust: TrustList) -> None:
    result = dataclasses.replace(AT, trust=uk_trust).verify(issue(us_aeo_certificate(), US_KEY))
    assert not result.verified
    assert result.codes == ("UNTRUSTED_ISSUER",)
    assert result.errors[0].path == "/issuer"


def test_missing_required_field_is_schema_mismatch_with_its_path() -> None:
    credential = us_aeo_certificate()
    del credential["credentialSubject"]["legalName"]
    result = AT.verify(issue(credential, US_KEY))
    assert result.codes == ("SCHEMA_MISMATCH",)
    assert result.errors[0].path == "/credentialSubject/legalName"


def test_every_schema_violation_is_reported() -> None:
    credential = us_aeo_certificate()
    del credential["credentialSubject"]["legalName"]
    credential["credentialSubject"]["country"] = "United States"
    result = AT.verify(issue(credential, US_KEY))
    assert set(p.path for p in result.errors) >= {
        "/credentialSubject/legalName",
        "/credentialSubject/country",
    }


def test_unknown_schema_is_reported_not_fetched() -> None:
    credential = us_aeo_certificate()
    credential["credentialSchema"] = {
        "id": "https://attacker.example/schema.json",
        "type": "JsonSchema",
    }
    result = AT.verify(issue(credential, US_KEY))
    assert result.check("schema").passed is False
    assert result.errors[0].code == "UNKNOWN_SCHEMA"


def test_cli_verify_with_a_signed_trust_list(tmp_path: Path) -> None:
    list_file = tmp_path / "eu-trust-list.jwt"
    list_file.write_text(signed_list(EU_KEY, "EU-AEO", [US_ENTRY], authority_country="DE"))
    token = str(issue(us_aeo_certificate(), US_KEY))
    runner = CliRunner()
    result = runner.invoke(
        main, ["verify", "--trust-list", str(list_file), "--trust-issuer", EU, "-"], input=token
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["trust"]["trusted"] is True
    refused = runner.invoke(
        main, ["verify", "--trust-list", str(list_file), "--trust-issuer", UK, "-"], input=token
    )
    assert refused.exit_code == 2
    assert "refused" in refused.output


def test_cli_refuses_a_tampered_trust_list(tmp_path: Path) -> None:
    token = signed_list(EU_KEY, "EU-AEO", [US_ENTRY], authority_country="DE")
    head, payload, signature = token.split(".")
    import base64

    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body["credentialSubject"]["recognisedIssuers"][0]["issuer"] = "did:web:attacker.example"
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    (tmp_path / "forged.jwt").write_text(f"{head}.{forged}.{signature}")
    result = CliRunner().invoke(
        main, ["verify", "--trust-list", str(tmp_path / "forged.jwt"), "-"], input="x"
    )
    assert result.exit_code == 2
    assert "INVALID_SIGNATURE" in result.output
