"""A verifier process built from the environment (gunicorn's ``create_app()``) freezes its
startup heap for the garbage collector; an app given its configuration (tests, embedding)
leaves the collector alone."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from tests.verifier.conftest import MakeApp
from vcred import issue
from vcred.keys import KeyPair
from verifier_app import create_app


def test_an_app_from_the_environment_freezes_its_startup_heap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VCRED_VERIFIER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VCRED_VERIFIER_RATE_PER_SECOND", "0")
    gc.unfreeze()
    app = create_app()
    try:
        assert gc.get_freeze_count() > 0
        credential = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "credentialSubject": {"name": "Example Prairie Gadgets"},
        }
        token = str(issue(credential, KeyPair.generate("ed25519")))
        answer = app.test_client().post("/credentials/verify", json={"verifiableCredential": token})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert json.loads(answer.get_data())["verified"] is True
    finally:
        gc.unfreeze()
        app.extensions["vcred_verifier"].close()


def test_an_app_given_its_configuration_leaves_the_collector_alone(make_app: MakeApp) -> None:
    gc.unfreeze()
    make_app()
    assert gc.get_freeze_count() == 0
