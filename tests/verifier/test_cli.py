"""`vcred serve verifier` and the configuration it builds (options, environment)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.conftest import credential
from tests.httpserver import free_port
from vcred import issue
from vcred.cli import main
from vcred.errors import UsageError
from vcred.keys import KeyPair
from vcred.net import host_map_of
from vcred_service.db import redacted_url
from verifier_app.config import VerifierConfig


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(main, ["serve", "verifier", "--help"])
    assert result.exit_code == 0
    for option in (
        "--port",
        "--trust-list",
        "--trust-issuer",
        "--data-dir",
        "--dev",
        "--host-map",
        "--domain",
        "--offline",
        "--status-max-age",
        "--database-url",
    ):
        assert option in result.output


def test_a_trust_list_that_does_not_verify_stops_the_start(tmp_path: Path) -> None:
    bad = tmp_path / "list.jwt"
    bad.write_text("eyJhbGciOiJFZERTQSJ9.e30.AAAA")
    result = CliRunner().invoke(
        main,
        ["serve", "verifier", "--port", "0", "--trust-list", str(bad), "--data-dir", str(tmp_path)],
    )
    assert result.exit_code == 2
    assert "cannot start" in result.output


def test_a_trust_list_signed_by_someone_else_stops_the_start(
    tmp_path: Path, trust_list_file: Path
) -> None:
    result = CliRunner().invoke(
        main,
        [
            "serve",
            "verifier",
            "--port",
            "0",
            "--trust-list",
            str(trust_list_file),
            "--trust-issuer",
            "did:web:someone-else.example",
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2
    assert "UNTRUSTED_ISSUER" in result.output


def _call(port: int, method: str, path: str, body: bytes | None = None) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
        return json.loads(connection.getresponse().read())
    finally:
        connection.close()


def test_serve_starts_with_embedded_defaults(tmp_path: Path) -> None:
    # what a new user types: no trust list, SQLite in ./vcred-verifier, --dev warning
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VCRED_VERIFIER_")}
    environment.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "vcred.cli", "serve", "verifier", "--port", str(port), "--dev"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(200):
            try:
                health = _call(port, "GET", "/health")
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("the verifier did not start")
        assert health["domain"] == f"localhost:{port}"
        assert health["dev"] is True and health["trustList"] is None
        token = issue(credential(), KeyPair.generate())
        body = json.dumps({"verifiableCredential": token}).encode()
        result = _call(port, "POST", "/credentials/verify", body)
        assert result["verified"] is True
        assert [w["code"] for w in result["warnings"]] == ["TRUST_NOT_EVALUATED"]
        assert (tmp_path / "vcred-verifier" / "verifier.db").exists()
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
    assert "DEVELOPMENT MODE" in errors


def test_config_from_the_environment(tmp_path: Path) -> None:
    config = VerifierConfig.from_env(
        {
            "VCRED_VERIFIER_DATA_DIR": str(tmp_path),
            "VCRED_VERIFIER_TRUST_LIST": "/etc/vcred/list.jwt",
            "VCRED_VERIFIER_TRUST_ISSUER": "did:web:zoll.example",
            "VCRED_VERIFIER_DOMAIN": "verify.zoll.example",
            "VCRED_VERIFIER_DEV": "false",
            "VCRED_VERIFIER_OFFLINE": "yes",
            "VCRED_VERIFIER_HOST_MAP": "us.example=http://127.0.0.1:8101, jp.example=https://jp:8443/",
            "VCRED_VERIFIER_RATE_PER_SECOND": "2.5",
            "VCRED_VERIFIER_RATE_BURST": "10",
            "VCRED_VERIFIER_CHALLENGE_TTL": "120",
            "VCRED_VERIFIER_MAX_BODY_BYTES": "65536",
            "DATABASE_URL": "postgresql://verifier:secret@db/vcred",
        }
    )
    assert config.data_dir == tmp_path
    assert config.trust_list == Path("/etc/vcred/list.jwt")
    assert config.domain == "verify.zoll.example"
    assert config.offline and not config.dev
    assert dict(config.host_map) == {
        "us.example": "http://127.0.0.1:8101",
        "jp.example": "https://jp:8443",
    }
    assert (config.rate_per_second, config.rate_burst) == (2.5, 10)
    assert config.challenge_ttl == timedelta(seconds=120)
    assert config.max_body_bytes == 65536
    assert config.storage_url == "postgresql+psycopg://verifier:secret@db/vcred"
    assert redacted_url(config.storage_url) == "postgresql+psycopg://verifier:***@db/vcred"


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({"VCRED_VERIFIER_DEV": "perhaps"}, "true or false"),
        ({"VCRED_VERIFIER_RATE_BURST": "many"}, "a number"),
        ({"VCRED_VERIFIER_HOST_MAP": "us.example"}, "HOST="),
        ({"VCRED_VERIFIER_CHALLENGE_TTL": "0"}, "positive"),
        ({"VCRED_VERIFIER_TABLE_PREFIX": "Drop Table;"}, "table_prefix"),
    ],
)
def test_unusable_settings_are_named(environ: dict[str, str], words: str) -> None:
    with pytest.raises(UsageError, match=words):
        VerifierConfig.from_env(environ)


def test_the_config_is_immutable() -> None:
    config = VerifierConfig(host_map={"a.example": "http://127.0.0.1:1"})
    with pytest.raises(AttributeError):
        config.domain = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.host_map["b.example"] = "http://127.0.0.1:2"  # type: ignore[index]
    assert host_map_of(("a=http://x",)) == {"a": "http://x"}
    assert VerifierConfig().storage_url.startswith("sqlite:///")
