"""The VC API verifier against credentials @digitalbazaar/vc signs as the CCG verifier suite's
vectors are: an ``https://`` issuer and a did:key proof, sent with ``options.checks:
["proof"]``. The proof verifies; the issuer binding is a separate check that runs only when
asked for (and then fails: the key is not the issuer's).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.interop.node import run_peer
from tests.interop.test_integrity_interop import CASES, blank_node_credential
from vcred.keys import KeyPair
from verifier_app import VerifierConfig, create_app

pytestmark = pytest.mark.interop

HTTPS_ISSUER = "https://vc.example/issuers/5678"


@pytest.fixture(scope="module")
def signed_by_digital_bazaar() -> list[dict[str, Any]]:
    requests = []
    for kind, suite in CASES:
        key = KeyPair.generate(kind)
        requests.append(
            {
                "credential": blank_node_credential(HTTPS_ISSUER),
                "secretKeyMultibase": key.secret_multikey(),
                "publicKeyMultibase": key.public.multikey(),
                "cryptosuite": suite,
            }
        )
    documents: list[dict[str, Any]] = run_peer(
        "integrity_peer.mjs", {"action": "sign", "requests": requests}
    )["documents"]
    return documents


@pytest.fixture
def client(tmp_path: Path) -> Iterator[FlaskClient]:
    app = create_app(VerifierConfig(data_dir=tmp_path, rate_per_second=0))
    yield app.test_client()
    app.extensions["vcred_verifier"].close()


def verify(client: FlaskClient, credential: Any, **options: Any) -> tuple[int, Any]:
    response = client.post(
        "/credentials/verify", json={"verifiableCredential": credential, "options": options}
    )
    return response.status_code, response.get_json()


def test_a_proof_by_a_key_of_someone_else_than_the_https_issuer_verifies_as_asked(
    client: FlaskClient, signed_by_digital_bazaar: list[dict[str, Any]]
) -> None:
    for (kind, suite), document in zip(CASES, signed_by_digital_bazaar, strict=True):
        assert document["issuer"] == HTTPS_ISSUER and document["proof"]["cryptosuite"] == suite
        status, body = verify(client, document, checks=["proof"])
        assert status == 200, (kind, body)
        assert [c["check"] for c in body["checks"]] == ["proof"]
        assert body["trust"]["issuerAuthenticated"] is False
        status, body = verify(client, document)
        assert status == 400, kind
        assert "UNKNOWN_KEY" in [p["code"] for p in body["problemDetails"]]


def test_the_same_credential_as_json_text_is_a_parsing_error(
    client: FlaskClient, signed_by_digital_bazaar: list[dict[str, Any]]
) -> None:
    text = json.dumps(signed_by_digital_bazaar[0])
    status, body = verify(client, text, checks=["proof"])
    assert status == 400
    assert (body["code"], body["pointer"]) == ("PARSING_ERROR", "/verifiableCredential")
