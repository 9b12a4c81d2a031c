"""The verifier service under test: a US CTPAT issuer on did:web (a local HTTP server mapped
by host_map) with its status lists, and an EU AEO verifier whose signed trust list
recognises it."""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.httpserver import LocalServer, local_server
from vcred import did_key, issue
from vcred.customs.builders import build_aeo_certificate
from vcred.customs.samples import TRADERS
from vcred.did import did_web_document
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.status import set_credential_status, status_list_credential_for
from vcred.testing import MemoryIndexStore
from vcred.trust import build_trust_list
from verifier_app import VerifierConfig, create_app
from verifier_app.storage import Storage

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
US_HOST = "us-customs.example"
US_DID = f"did:web:{US_HOST}"
LIST_BASE = f"https://{US_HOST}/status/"
DOMAIN = "verifier.eu-customs.example"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DATABASE_URL = os.environ.get("VCRED_TEST_DATABASE_URL", PG_URL)


class Agency:
    """The US issuing agency: its did:web document and status lists on a local server."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.key = KeyPair.generate("ed25519")
        self.signer = signer_for(self.key, did=US_DID)
        self.store = MemoryIndexStore()
        document = did_web_document(US_DID, [self.key.public])
        server.serve("/.well-known/did.json", json.dumps(document).encode())

    def aeo_certificate(
        self,
        *,
        holder: str | None = None,
        status: bool = True,
        valid_until: datetime = datetime(2029, 1, 1, tzinfo=UTC),
        credential_id: str | None = None,
    ) -> dict[str, Any]:
        """An unsigned AEO certificate of Example Prairie Gadgets with status entries."""
        credential_id = credential_id or f"urn:uuid:{secrets.token_hex(8)}"
        subject = json.loads(json.dumps(TRADERS["us-prairie"]))
        if holder is not None:
            subject["id"] = holder
        entries = []
        if status:
            for purpose in ("revocation", "suspension"):
                allocation = self.store.allocate(purpose, credential_id=credential_id)
                entries.append(allocation.entry(LIST_BASE + allocation.list_id).to_json())
        return build_aeo_certificate(
            subject,
            issuer=US_DID,
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            valid_until=valid_until,
            credential_id=credential_id,
            credential_status=entries,
        )

    def issue(self, credential: dict[str, Any], *, fmt: str = "vc+jwt", **options: Any) -> Any:
        secured = issue(credential, self.signer, format=fmt, **options)
        self.publish()
        return secured

    def set(
        self, credential: dict[str, Any], status: str, *, valid_from: datetime | None = None
    ) -> None:
        set_credential_status(self.store, credential["id"], status)  # type: ignore[arg-type]
        self.publish(valid_from=valid_from)

    def publish(self, *, valid_from: datetime | None = None) -> None:
        """Sign and serve every list, as a version in force from ``valid_from`` (a day
        before NOW unless given)."""
        for info in self.store.lists():
            unsigned = status_list_credential_for(
                self.store,
                info.list_id,
                list_url=LIST_BASE + info.list_id,
                issuer=US_DID,
                valid_from=valid_from or NOW - timedelta(days=1),
                ttl=timedelta(minutes=5),
            )
            token = str(issue(unsigned, self.signer))
            self.server.serve(f"/status/{info.list_id}", token.encode())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The verifier's database: SQLite in the test's folder, or the test PostgreSQL."""
    return f"sqlite:///{tmp_path / 'verifier.db'}" if request.param == "sqlite" else DATABASE_URL


@pytest.fixture
def prefix() -> str:
    # tables of their own per test: parallel runs and workers never meet
    return f"t{secrets.token_hex(5)}_"


@contextmanager
def created_storage(url: str, **options: Any) -> Iterator[Storage]:
    """A verifier storage with its tables made; dropped and closed afterwards."""
    store = Storage(url, **options)
    store.create()
    try:
        yield store
    finally:
        store.drop()
        store.close()


@pytest.fixture(scope="session")
def us_server() -> Iterator[LocalServer]:
    with local_server() as server:
        yield server


@pytest.fixture(scope="session")
def agency(us_server: LocalServer) -> Agency:
    return Agency(us_server)


@pytest.fixture(scope="session")
def eu_key() -> KeyPair:
    return KeyPair.generate("ed25519")


def eu_trust_list(issuer: str, *partners: dict[str, Any]) -> dict[str, Any]:
    """The EU agency's unsigned trust list (``issuer``: its DID), recognising the US one and
    the ``partners`` entries given."""
    return build_trust_list(
        [
            {
                "issuer": US_DID,
                "name": "U.S. Customs and Border Protection (test)",
                "programme": "US-CTPAT",
                "country": "US",
                "acceptedCredentialTypes": ["AEOCertificateCredential"],
            },
            *partners,
        ],
        issuer=issuer,
        programme="EU-AEO",
        authority_country="DE",
        authority_name="Zoll (test)",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2027, 1, 1, tzinfo=UTC),
    )


@pytest.fixture(scope="session")
def trust_list_file(tmp_path_factory: pytest.TempPathFactory, eu_key: KeyPair) -> Path:
    path = tmp_path_factory.mktemp("trust") / "eu-trust-list.jwt"
    path.write_text(str(issue(eu_trust_list(did_key(eu_key.public)), eu_key)))
    return path


MakeApp = Callable[..., Flask]


@pytest.fixture
def make_app(
    tmp_path: Path, us_server: LocalServer, trust_list_file: Path, eu_key: KeyPair
) -> Iterator[MakeApp]:
    """Build a verifier app; keyword arguments override the test configuration."""
    apps: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        options: dict[str, Any] = {
            "data_dir": tmp_path / f"data{len(apps)}",
            "trust_list": trust_list_file,
            "trust_issuer": did_key(eu_key.public),
            "domain": DOMAIN,
            "host_map": {US_HOST: us_server.origin},
            "clock": lambda: NOW,
            "rate_per_second": 0,
        }
        options.update(overrides)
        app = create_app(VerifierConfig(**options))
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["vcred_verifier"].close()


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


OFFICER_PASSWORD = "a long verifier password"  # a test password, not a secret
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def signed_in(app: Flask, name: str = "vera", *, client: FlaskClient | None = None) -> FlaskClient:
    """A client of ``app`` signed in as a new officer ``name``."""
    service = app.extensions["vcred_verifier"]
    if service.officers.row(name) is None:
        service.add_officer(name, OFFICER_PASSWORD)
    client = client or app.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    answer = client.post(
        "/login", data={"name": name, "password": OFFICER_PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


def returned_while_held(call: Callable[[], object], release: threading.Event) -> bool:
    """Whether ``call``, run in a thread while a background write or round is held, returned
    before ``release`` let that go on (given half a second: one waiting for it never does);
    then released, and ``call`` waited for."""
    caller = threading.Thread(target=call)
    caller.start()
    caller.join(0.5)
    returned = not caller.is_alive()
    release.set()
    caller.join(30)
    return returned


def tamper(token: str) -> str:
    """Change one character of a compact JWS's signature (still valid base64url)."""
    head, _, tail = token.partition("~")
    last = head[-5]
    changed = head[:-5] + ("A" if last != "A" else "B") + head[-4:]
    return changed + (f"~{tail}" if tail else "")
