"""The hostile-input tally: every input of the corpus, through the library and through both
services, rejected cleanly with the code its attack calls for.

Run with ``-s`` to see the counts; they are also written to
``.pytest_cache/hardening-tally.json`` (tried, rejected cleanly, by category and channel).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from issuer_app import issuer_of
from tests.hardening.corpus import CHALLENGE, Hostile, Keys, build
from tests.httpserver import LocalServer
from tests.verifier.conftest import NOW, US_HOST, Agency, MakeApp
from vcred import Verifier
from vcred.net import GuardedFetcher

TALLY = Path(__file__).resolve().parents[2] / ".pytest_cache" / "hardening-tally.json"


@pytest.fixture(scope="module")
def corpus(agency: Agency, us_server: LocalServer) -> list[Hostile]:
    return build(Keys.make(), agency, us_server)


def _library(verifier: Verifier, item: Hostile) -> tuple[bool, tuple[str, ...]]:
    if item.kind == "credential":
        result: Any = verifier.verify(item.value)
    else:
        result = verifier.verify_presentation(
            item.value, challenge=CHALLENGE, domain="verifier.eu-customs.example"
        )
    return result.verified, result.codes


def _service(client: FlaskClient, item: Hostile) -> tuple[int, tuple[str, ...]]:
    if item.kind == "credential":
        body = {"verifiableCredential": item.value}
        response = client.post("/credentials/verify", json=body)
    else:
        body = {"verifiablePresentation": item.value, "options": {"challenge": CHALLENGE}}
        response = client.post("/presentations/verify", json=body)
    answer = response.get_json()
    codes = [p.get("code") for p in answer.get("problemDetails", [])]
    for credential in answer.get("credentials", []):
        codes += [p.get("code") for p in credential.get("problemDetails", [])]
    if "code" in answer:
        codes.append(answer["code"])
    return response.status_code, tuple(c for c in codes if isinstance(c, str))


def _requests(verifier: FlaskClient, issuer: FlaskClient, app: Flask) -> list[tuple[Any, ...]]:
    """Hostile requests (not hostile credentials): (category, name, response, status)."""
    service = issuer_of(app)
    full = {"Authorization": f"Bearer {service.create_token(('issue', 'status'), actor='t').token}"}
    status_only = {"Authorization": f"Bearer {service.create_token(('status',), actor='t').token}"}
    deep = b'{"verifiableCredential": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    cases: list[tuple[str, dict[str, Any], int]] = [
        ("body over the limit", {"data": b'{"a": "' + b"x" * 600_000 + b'"}'}, 413),
        ("JSON nested 10,000 deep", {"data": deep}, 400),
        ("invalid UTF-8", {"data": b'{"a": "\xff\xfe"}'}, 400),
        ("wrong content type", {"data": b"{}", "content_type": "text/plain"}, 415),
        ("duplicate member names", {"data": b'{"a": 1, "a": 2}'}, 400),
        ("not a JSON object", {"data": b"[]"}, 400),
    ]
    out: list[tuple[Any, ...]] = []
    for name, client, path, headers in (
        ("verifier", verifier, "/credentials/verify", {}),
        ("issuer", issuer, "/credentials/issue", full),
    ):
        for case, kwargs, status in cases:
            options = {"content_type": "application/json", **kwargs}
            response = client.post(path, headers=headers, **options)
            out.append(("service-requests", f"{name}: {case}", response, status))
    shape = {"credential": {"type": ["VerifiableCredential"]}}
    unknown = {"Authorization": "Bearer vci_0000000000000000_nope"}
    for case, path, headers, status in (
        ("no token", "/credentials/issue", {}, 401),
        ("unknown token", "/credentials/issue", unknown, 401),
        ("malformed Authorization", "/credentials/issue", {"Authorization": "Basic eA=="}, 401),
        ("token without the issue scope", "/credentials/issue", status_only, 403),
        ("no token for a status change", "/credentials/status", {}, 401),
    ):
        response = issuer.post(path, json=shape, headers=headers)
        out.append(("service-auth", f"issuer: {case}", response, status))
    return out


def test_every_hostile_input_is_rejected_cleanly(
    corpus: list[Hostile],
    make_app: MakeApp,
    us_server: LocalServer,
    issuer_app: Flask,
    connections: list[tuple[str, int]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    library = Verifier(
        fetcher=GuardedFetcher(host_map={US_HOST: us_server.origin}), clock=lambda: NOW
    )
    client = make_app().test_client()
    tried: Counter[str] = Counter()
    clean: Counter[str] = Counter()
    wrong: list[str] = []
    for item in corpus:
        for channel in ("library", "verifier service"):
            key = f"{item.category} via {channel}"
            tried[key] += 1
            if channel == "library":
                verified, codes = _library(library, item)
                ok = not verified and item.code in codes
                seen = f"verified={verified} {codes}"
            else:
                status, codes = _service(client, item)
                ok = status == 400 and item.code in codes
                seen = f"{status} {codes}"
            if ok:
                clean[key] += 1
            else:
                wrong.append(
                    f"{item.category} / {item.name} via {channel}: {seen}, want {item.code}"
                )
    for category, name, response, status in _requests(client, issuer_app.test_client(), issuer_app):
        key = f"{category} via services"
        tried[key] += 1
        if response.status_code == status and response.mimetype == "application/problem+json":
            clean[key] += 1
        else:
            wrong.append(f"{name}: {response.status_code}, want {status}")
    assert {host for host, _ in connections} <= {"127.0.0.1"}
    assert all(port == us_server.port for _, port in connections)
    tally = {
        "tried": sum(tried.values()),
        "rejected_cleanly": sum(clean.values()),
        "inputs": len(corpus),
        "by_category": {
            k: {"tried": tried[k], "rejected_cleanly": clean[k]} for k in sorted(tried)
        },
    }
    TALLY.parent.mkdir(exist_ok=True)
    TALLY.write_text(json.dumps(tally, indent=2) + "\n")
    with capsys.disabled():
        print(f"\nhostile inputs: {tally['tried']} tried, {tally['rejected_cleanly']} rejected")
    assert not wrong, "\n".join(wrong)
    assert tally["tried"] == tally["rejected_cleanly"]
