"""GET /identifiers/{did} on the verifier: did:key and did:jwk resolve; it has no DID of its
own, so every did:web is refused with a DID resolution error."""

from __future__ import annotations

import json

from flask import Flask

from vcred.did import did_jwk, did_key
from vcred.keys import KeyPair


def test_did_key_and_did_jwk_resolve(app: Flask) -> None:
    key = KeyPair.generate("ed25519")
    for did in (did_key(key.public), did_jwk(key.public)):
        answer = app.test_client().get(
            f"/identifiers/{did}", headers={"Accept": "application/did+json"}
        )
        assert answer.status_code == 200
        assert answer.get_json()["id"] == did


def test_a_did_web_is_refused(app: Flask) -> None:
    answer = app.test_client().get("/identifiers/did:web:us-customs.example")
    assert answer.status_code == 404
    metadata = json.loads(answer.get_data(as_text=True))["didResolutionMetadata"]
    assert metadata["error"]["type"] == "https://www.w3.org/ns/did#NOT_FOUND"
