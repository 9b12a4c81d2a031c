"""The issuer's VC API and vc+cose: an EnvelopedVerifiableCredential with a base64 data: URL
(VC-JOSE-COSE §3.3.1) that vcred verifies; status lists are never published as COSE."""

from __future__ import annotations

import base64
from collections.abc import Callable

import cbor2
import pytest
from flask import Flask

from tests.issuer.conftest import DID_WEB, ApiClient, Clock, auth, credential, verifier
from vcred.errors import UsageError


def test_vc_cose_is_issued_as_a_base64_data_url(app: Flask, api: ApiClient, clock: Clock) -> None:
    answer = api.issue(credential(), auth(app), options={"format": "vc+cose"})
    assert answer.status_code == 201, answer.get_json()
    vc = answer.get_json()["verifiableCredential"]
    assert vc["type"] == "EnvelopedVerifiableCredential"
    prefix = "data:application/vc+cose;base64,"
    assert vc["id"].startswith(prefix)
    data = base64.b64decode(vc["id"][len(prefix) :], validate=True)
    assert cbor2.loads(data).tag == 18  # a tagged COSE_Sign1
    result = verifier(app, clock).verify(vc)
    assert result.verified, result.errors
    assert result.format == "vc+cose"
    assert result.issuer == DID_WEB


def test_status_lists_are_never_published_as_cose(make_app: Callable[..., Flask]) -> None:
    with pytest.raises(UsageError, match="status lists"):
        make_app(status_list_format="vc+cose")
