"""The issuer service refuses the legacy proof suites it can verify but never issues."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.issuer.conftest import ApiClient, auth, credential
from vcred.integrity import LEGACY_SUITES


@pytest.mark.parametrize("suite", sorted(LEGACY_SUITES))
@pytest.mark.parametrize("member", ["type", "format"])
def test_a_legacy_suite_is_a_400_naming_its_successor(
    sqlite_app: Flask, suite: str, member: str
) -> None:
    answer = ApiClient(sqlite_app).post(
        "/credentials/issue",
        json={"credential": credential(), "options": {member: suite}},
        headers=auth(sqlite_app),
    )
    assert answer.status_code == 400
    problem = answer.get_json()
    assert problem["code"] == "UNSUPPORTED"
    assert problem["pointer"] == f"/options/{member}"
    assert "never issued" in problem["detail"]
