"""Issuer service fixtures: an app per test on SQLite (and on PostgreSQL where marked), a
clock, API tokens, a fetcher that reads the app's own did:web document and status lists, and a
client that checks every answer against the app's OpenAPI document."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from werkzeug.test import TestResponse

from issuer_app import IssuerConfig, create_app, issuer_of
from issuer_app.service import Issuer
from vcred import Verifier
from vcred.errors import FetchRefusedError, ResolutionError
from vcred.net import DEFAULT_MAX_BYTES

PG_URL = os.environ.get(
    "VCRED_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DOMAIN = "customs.example"
PUBLIC_URL = f"https://{DOMAIN}"
DID_WEB = f"did:web:{DOMAIN}"
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PASSPHRASE = "correct horse battery staple"  # a test passphrase, not a secret

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def table_prefix() -> str:
    return f"i{secrets.token_hex(5)}_"


def make_config(
    data_dir: Path, backend: str, *, clock: Callable[[], datetime] | None = None, **overrides: Any
) -> IssuerConfig:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "public_url": PUBLIC_URL,
        "domain": DOMAIN,
        "programme": "US-CTPAT",
        "passphrase": PASSPHRASE,
        "key_refresh_seconds": 0.0,
        "clock": clock or Clock(),
        # credential() leaves the issuer to the service (the default refuses that)
        "fill_issuer": True,
    }
    if backend == "postgres":
        values["database_url"] = PG_URL
        values["table_prefix"] = table_prefix()
    values.update(overrides)
    return IssuerConfig(**values)


def dispose(app: Flask, *, drop: bool) -> None:
    issuer = issuer_of(app)
    if drop:
        offers = app.extensions.get("vcred_oid4vci")
        if offers is not None:
            offers.store.drop()
        issuer.store.drop_tables()
    issuer.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_app(tmp_path: Path, clock: Clock) -> Iterator[Callable[..., Flask]]:
    """Apps on a backend (default SQLite), disposed of (PostgreSQL tables dropped) after."""
    made: list[tuple[Flask, bool]] = []

    def make(backend: str = "sqlite", **overrides: Any) -> Flask:
        data_dir = overrides.pop("data_dir", tmp_path / f"data{len(made)}")
        app = create_app(make_config(data_dir, backend, clock=clock, **overrides))
        app.config["TESTING"] = True
        made.append((app, backend == "postgres"))
        return app

    yield make
    for app, drop in made:
        dispose(app, drop=drop)


@pytest.fixture
def app(make_app: Callable[..., Flask], backend: str) -> Flask:
    return make_app(backend)


@pytest.fixture
def sqlite_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app("sqlite")


def token(app: Flask, *scopes: str) -> str:
    return issuer_of(app).create_token(scopes or ("issue", "status"), actor="test").token


def auth(app: Flask, *scopes: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(app, *scopes)}"}


class AppFetcher:
    """A :class:`vcred.net.Fetcher` that answers https://customs.example/… from the app."""

    def __init__(self, app: Flask, base: str = PUBLIC_URL) -> None:
        self.client = app.test_client()
        self.base = base
        self.hits: list[str] = []

    def fetch(self, url: str, *, accept: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.base:
            raise FetchRefusedError(f"not this issuer: {url}")
        self.hits.append(url)
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
        response = self.client.get(target, headers={"Accept": accept})
        if response.status_code != 200:
            raise ResolutionError(f"GET {url} answered {response.status_code}")
        return response.data


def verifier(app: Flask, clock: Clock) -> Verifier:
    """A fresh verifier (no cached lists) that resolves the app's did:web and lists."""
    return Verifier(fetcher=AppFetcher(app), clock=clock)


def issuer(app: Flask) -> Issuer:
    return issuer_of(app)


def credential(**extra: Any) -> dict[str, Any]:
    """A minimal VC 2.0 credential without issuer (the service fills it in)."""
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": f"urn:uuid:{secrets.token_hex(8)}-0000-4000-8000-{secrets.token_hex(6)}",
        "type": ["VerifiableCredential"],
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:trader", "name": "Harbour Lights Trading"},
    }
    document.update(extra)
    return document


# -- answers checked against the OpenAPI document --------------------------------------------


@dataclass
class OpenApiChecker:
    """Checks that an answer is documented: its status (or default), content type, schema."""

    document: dict[str, Any]
    checked: list[str] = field(default_factory=list)

    def _resolve(self, node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target: Any = self.document
                for part in node["$ref"].removeprefix("#/").split("/"):
                    target = target[part]
                return self._resolve(target)
            return {k: self._resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self._resolve(v) for v in node]
        return node

    def operation(self, method: str, path: str) -> dict[str, Any]:
        for template, item in self.document["paths"].items():
            pattern = template.split("/")
            parts = path.split("?")[0].split("/")
            if len(pattern) == len(parts) and all(
                p == q or (p.startswith("{") and p.endswith("}"))
                for p, q in zip(pattern, parts, strict=True)
            ):
                found: dict[str, Any] = item[method.lower()]
                return found
        raise AssertionError(f"{method} {path} is not in the OpenAPI document")

    def check(self, method: str, path: str, response: TestResponse) -> None:
        responses = self.operation(method, path)["responses"]
        spec = responses.get(str(response.status_code)) or responses.get("default")
        assert spec is not None, f"{method} {path}: {response.status_code} is not documented"
        spec = self._resolve(spec)
        content = spec.get("content")
        if not content:
            assert not response.data, f"{method} {path}: {response.status_code} has a body"
            return
        assert response.mimetype in content, (
            f"{method} {path}: {response.mimetype} is not documented for {response.status_code}"
        )
        for header, header_spec in spec.get("headers", {}).items():
            if header in response.headers and "schema" in header_spec:
                Draft202012Validator(header_spec["schema"]).validate(response.headers[header])
        schema = content[response.mimetype].get("schema")
        body: Any = (
            response.get_data(as_text=True)
            if response.mimetype == "application/vc+jwt"
            else response.get_json(force=True)
        )
        if schema is not None:
            Draft202012Validator(schema).validate(body)
        self.checked.append(f"{method} {path} {response.status_code}")


class ApiClient:
    """The Flask test client, checking each answer against the app's OpenAPI document."""

    def __init__(self, app: Flask) -> None:
        self.client: FlaskClient = app.test_client()
        document = self.client.get("/openapi.json").get_json()
        self.openapi = OpenApiChecker(document)

    def request(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        response = self.client.open(path, method=method, **kwargs)
        self.openapi.check(method, path, response)
        if response.status_code in (200, 201) and "json" in kwargs:
            # what the service accepted, its OpenAPI document must accept too
            body = self.openapi.operation(method, path)["requestBody"]["content"]
            schema = self.openapi._resolve(body["application/json"]["schema"])
            Draft202012Validator(schema).validate(kwargs["json"])
        return response

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("POST", path, **kwargs)

    def issue(
        self,
        document: dict[str, Any],
        headers: dict[str, str],
        options: dict[str, Any] | None = None,
        **extra_headers: str,
    ) -> TestResponse:
        body: dict[str, Any] = {"credential": document}
        if options is not None:
            body["options"] = options
        return self.post("/credentials/issue", json=body, headers={**headers, **extra_headers})


@pytest.fixture
def api(app: Flask) -> ApiClient:
    return ApiClient(app)


def assert_consistent(service: Issuer) -> int:
    """The store's invariants; returns the number of issued credentials.

    Every status allocation belongs to a recorded credential (and each record has exactly the
    allocations it lists), no (list, index) is shared, and the audit chain verifies with one
    ``issue`` entry per record.
    """
    import json

    from sqlalchemy import select

    from vcred.audit import verify_chain

    store = service.store
    entries_table = store.metadata.tables[f"{service.config.table_prefix}status_entries"]
    with store.engine.connect() as conn:
        entries = conn.execute(
            select(entries_table.c.list_id, entries_table.c.idx, entries_table.c.credential_id)
        ).all()
        records = conn.execute(
            select(store.t.credentials.c.record_id, store.t.credentials.c.status_entries)
        ).all()
    owned = {(row.list_id, row.idx): row.credential_id for row in entries}
    assert len(owned) == len(entries), "a status index was handed out twice"
    listed = {
        (place["list"], place["index"]): record.record_id
        for record in records
        for place in json.loads(record.status_entries)
    }
    assert owned == listed, "an allocation without its record, or a record without its places"
    chain = list(store.audit_entries())
    report = verify_chain(chain, expect_head=store.audit_head()[1])
    assert report.intact, report.breaks
    assert sum(entry["action"] == "issue" for entry in chain) == len(records)
    return len(records)
