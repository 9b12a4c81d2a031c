"""Trust lists have their own authority (docs/security.md §13.2).

The attack: a trust list is a credential, and the issuer signed whatever an ``issue``-scoped
token sent — so the ERP system's token could mint an MRA trust list (any issuer recognised,
for any type) that verifiers then loaded. Now the issuer signs a trust list only at
``POST /trust-lists/issue``, for a ``trust-list`` token, with a key that signs nothing else
(``did:web:…#trust-list-<tag>``); a verifier loads a list only when its trust anchor's
trust-list key signed it. Every refusal is a 4xx with its code, or a typed error at load.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask, jsonify
from sqlalchemy import delete, text
from werkzeug.serving import make_server

from issuer_app import create_app as create_issuer_app
from issuer_app import issuer_of
from issuer_app import service as issuer_service
from tests.httpserver import LocalServer, local_server
from tests.issuer.conftest import (
    BACKENDS,
    DID_WEB,
    DOMAIN,
    PASSPHRASE,
    PG_URL,
    ApiClient,
    AppFetcher,
    credential,
    dispose,
    make_config,
)
from tests.verifier.conftest import NOW, MakeApp, csrf_of, signed_in
from vcred import Verifier, did_key, issue, jose
from vcred.cli import main
from vcred.errors import (
    TrustAnchorError,
    UntrustedIssuerError,
    UsageError,
)
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.trust import (
    TrustAnchor,
    TrustList,
    build_trust_list,
    list_digest,
    load_signed_trust_list,
)
from vcred_service.db import make_engine
from vcred_service.problems import ProblemError
from verifier_app import VerifierConfig

PARTNER = "did:web:zoll.example"
LIST_CHECKS = ("proof", "issuer", "validity")


def unsigned_list(
    issuer: str = DID_WEB, valid_until: datetime = datetime(2027, 1, 1, tzinfo=UTC)
) -> dict[str, Any]:
    """The US agency's trust list: a German issuer recognised under the US–EU MRA."""
    return build_trust_list(
        [
            {
                "issuer": PARTNER,
                "programme": "EU-AEO",
                "country": "DE",
                "acceptedCredentialTypes": ["AEOCertificateCredential"],
            }
        ],
        issuer=issuer,
        programme="US-CTPAT",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=valid_until,
    )


def bearer(app: Flask, *scopes: str) -> dict[str, str]:
    token = issuer_of(app).create_token(scopes, actor="test").token
    return {"Authorization": f"Bearer {token}"}


def secured(answer: dict[str, Any]) -> str:
    envelope = answer["verifiableCredential"]
    assert envelope["type"] == "EnvelopedVerifiableCredential"
    return str(envelope["id"].split(",", 1)[1])


def load(app: Flask, token: Any, anchor: TrustAnchor | str = DID_WEB) -> TrustList:
    """The library loader, resolving the issuer's did:web from the app itself."""
    verifier = Verifier(fetcher=AppFetcher(app), clock=lambda: NOW, checks=LIST_CHECKS)
    return load_signed_trust_list(token, now=NOW, anchor=anchor, verifier=verifier)


def signed_with_an_issuing_key(app: Flask, document: dict[str, Any]) -> str:
    """What an issue token used to get: the list signed by the did:web's ordinary key."""
    _, signer = issuer_of(app).keyring().signer_for_issuer(DID_WEB, ("ed25519",))
    assert "#trust-list-" not in signer.key_id
    return str(issue(document, signer))


@pytest.fixture
def api(issuer_app: Flask) -> ApiClient:
    return ApiClient(issuer_app)


@pytest.fixture
def trust_list_answer(issuer_app: Flask, api: ApiClient) -> dict[str, Any]:
    response = api.post(
        "/trust-lists/issue",
        json={"credential": unsigned_list()},
        headers=bearer(issuer_app, "trust-list"),
    )
    assert response.status_code == 201, response.get_json()
    answer: dict[str, Any] = response.get_json()
    return answer


# -- the issuer: an issue token cannot have a trust list signed ------------------------------


def _disguised_lists() -> list[Any]:
    """A trust list as each shape of its name: a term, an IRI, only the subject's type, only
    the schema; the issuer named as an object."""
    plain = unsigned_list()
    as_iri = {
        **plain,
        "type": ["VerifiableCredential", "https://vcred.dev/ns/customs#MRATrustListCredential"],
    }
    subject_only = {**plain, "type": ["VerifiableCredential"]}
    schema_only = {
        **plain,
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": PARTNER, "name": "x"},
    }
    reordered = {**plain, "type": ["MRATrustListCredential", "VerifiableCredential"]}
    issuer_object = {**plain, "issuer": {"id": DID_WEB, "name": "CBP"}}
    subject_array = {**plain, "credentialSubject": [plain["credentialSubject"]]}
    return [
        pytest.param(plain, id="plain"),
        pytest.param(as_iri, id="type-as-iri"),
        pytest.param(subject_only, id="subject-type-only"),
        pytest.param(schema_only, id="schema-only"),
        pytest.param(reordered, id="types-reordered"),
        pytest.param(issuer_object, id="issuer-object"),
        pytest.param(subject_array, id="subject-array-of-one"),
    ]


@pytest.mark.parametrize("document", _disguised_lists())
@pytest.mark.parametrize("scopes", [("issue",), ("issue", "status"), ("admin",)])
def test_the_issue_route_refuses_a_trust_list_in_any_shape(
    issuer_app: Flask, api: ApiClient, document: dict[str, Any], scopes: tuple[str, ...]
) -> None:
    response = api.issue(document, bearer(issuer_app, *scopes))
    assert response.status_code == 403
    problem = response.get_json()
    assert problem["code"] == "TRUST_LIST_REFUSED"
    assert problem["pointer"] == "/credential/type"
    assert "/trust-lists/issue" in problem["detail"]


@pytest.mark.parametrize("scopes", [("issue",), ("status",), ("issue", "status"), ("admin",)])
def test_only_the_trust_list_scope_reaches_the_trust_list_route(
    issuer_app: Flask, api: ApiClient, scopes: tuple[str, ...]
) -> None:
    response = api.post(
        "/trust-lists/issue",
        json={"credential": unsigned_list()},
        headers=bearer(issuer_app, *scopes),
    )
    assert response.status_code == 403
    assert 'scope="trust-list"' in response.headers["WWW-Authenticate"]
    assert api.post("/trust-lists/issue", json={"credential": unsigned_list()}).status_code == 401


def test_insecure_no_auth_does_not_sign_trust_lists(tmp_path: Path) -> None:
    app = create_issuer_app(make_config(tmp_path, "sqlite", insecure_no_auth=True))
    try:
        client = app.test_client()
        response = client.post("/trust-lists/issue", json={"credential": unsigned_list()})
        assert response.status_code == 401  # no token stands in for the trust-list scope
        allowed = client.post(
            "/trust-lists/issue",
            json={"credential": unsigned_list()},
            headers=bearer(app, "trust-list"),
        )
        assert allowed.status_code == 201
    finally:
        issuer_of(app).close()


def test_the_officer_issue_path_refuses_a_trust_list(issuer_app: Flask) -> None:
    with pytest.raises(ProblemError) as refused:
        issuer_of(issuer_app).issue_credential(unsigned_list(), actor="officer:ana")
    assert refused.value.status == 403
    assert refused.value.extra["code"] == "TRUST_LIST_REFUSED"


@pytest.mark.parametrize(
    ("change", "status", "pointer"),
    [
        pytest.param({"type": ["VerifiableCredential"]}, 400, "/credential/type", id="not-a-list"),
        pytest.param({"issuer": PARTNER}, 400, "/credential/issuer", id="another-issuer"),
        pytest.param(
            {"issuer": ["did:web:a.example", DID_WEB]}, 400, "/credential/issuer", id="two-issuers"
        ),
        pytest.param(
            {"credentialStatus": {"type": "BitstringStatusListEntry"}},
            400,
            "/credential/credentialStatus",
            id="with-status",
        ),
        pytest.param(
            {"proof": {"type": "DataIntegrityProof"}}, 400, "/credential/proof", id="with-proof"
        ),
        pytest.param(
            {"credentialSubject": {"type": "MRATrustList"}}, 422, None, id="schema-violation"
        ),
    ],
)
def test_the_trust_list_key_signs_trust_lists_and_nothing_else(
    issuer_app: Flask,
    api: ApiClient,
    change: dict[str, Any],
    status: int,
    pointer: str | None,
) -> None:
    response = api.post(
        "/trust-lists/issue",
        json={"credential": {**unsigned_list(), **change}},
        headers=bearer(issuer_app, "trust-list"),
    )
    assert response.status_code == status, response.get_json()
    problem = response.get_json()
    if pointer is not None:
        assert problem["pointer"] == pointer
    else:
        assert problem["errors"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="no-credential"),
        pytest.param({"credential": "a string"}, id="credential-a-string"),
        pytest.param({"credential": []}, id="credential-an-array"),
        pytest.param({"credential": {}}, id="credential-empty"),
        pytest.param({"credential": {"type": 7}}, id="type-a-number"),
        pytest.param({"credential": {"type": [{"id": "x"}]}}, id="type-objects"),
        pytest.param({"credential": unsigned_list(), "options": []}, id="options-an-array"),
        pytest.param(
            {"credential": unsigned_list(), "options": {"format": "ecdsa-rdfc-2019"}},
            id="a-format-the-key-cannot-make",
        ),
        pytest.param(
            {"credential": unsigned_list(), "options": {"format": "no-such-format"}},
            id="unknown-format",
        ),
        pytest.param({"credential": {**unsigned_list(), "issuer": {"id": 7}}}, id="issuer-id-7"),
        pytest.param(
            {"credential": {**unsigned_list(), "validUntil": "tomorrow"}}, id="bad-validity"
        ),
    ],
)
def test_hostile_bodies_at_the_trust_list_route_are_4xx(
    issuer_app: Flask, api: ApiClient, body: dict[str, Any]
) -> None:
    response = api.post("/trust-lists/issue", json=body, headers=bearer(issuer_app, "trust-list"))
    assert 400 <= response.status_code < 500, response.get_json()
    assert response.get_json()["code"]


def test_ordinary_issuance_never_signs_with_the_trust_list_key(
    issuer_app: Flask, api: ApiClient
) -> None:
    ring = issuer_of(issuer_app).keyring()
    assert ring.trust_list is not None
    assert ring.trust_list not in ring.keys
    headers = bearer(issuer_app, "admin")
    for fmt in ("vc+jwt", "eddsa-rdfc-2022", "data-integrity"):
        answer = api.issue(credential(), headers, {"format": fmt}).get_json()
        envelope = answer["verifiableCredential"]
        if envelope.get("type") == "EnvelopedVerifiableCredential":
            method = jose.unverified_header(envelope["id"].split(",", 1)[1])["kid"]
        else:
            method = envelope["proof"]["verificationMethod"]
        assert "#trust-list-" not in method, fmt
    # nor as the trust-list key's own did:key
    response = api.issue(credential(issuer=ring.trust_list.did_key), headers)
    assert response.status_code == 400
    assert response.get_json()["pointer"] == "/credential/issuer"


# -- the library loader: only the anchor's trust-list key --------------------------------------


def test_a_trust_list_from_the_trust_list_route_loads_under_the_anchor(
    issuer_app: Flask, trust_list_answer: dict[str, Any]
) -> None:
    token = secured(trust_list_answer)
    kid = jose.unverified_header(token)["kid"]
    assert kid.startswith(f"{DID_WEB}#trust-list-")
    for anchor in (DID_WEB, TrustAnchor(did=DID_WEB), TrustAnchor(did=DID_WEB, method=kid)):
        trust = load(issuer_app, token, anchor)
        assert trust.issuer == DID_WEB and trust.entries[0].issuer == PARTNER
    fragment = "#" + kid.split("#", 1)[1]
    assert load(issuer_app, token, TrustAnchor(did=DID_WEB, method=fragment)).entries
    # the enveloped answer itself loads too (what the demo writes to its file)
    assert load(issuer_app, trust_list_answer["verifiableCredential"]).entries


@pytest.mark.parametrize("fmt", ["vc+jwt", "eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_a_list_signed_by_an_issuing_key_of_the_anchor_is_refused(
    issuer_app: Flask, fmt: str
) -> None:
    _, signer = issuer_of(issuer_app).keyring().signer_for_issuer(DID_WEB, ("ed25519",))
    token = issue(unsigned_list(), signer, format=fmt, now=NOW)
    with pytest.raises(TrustAnchorError) as refused:
        load(issuer_app, token)
    assert refused.value.code == "TRUST_ANCHOR"
    assert "issuing key does not sign trust lists" in str(refused.value)


def test_a_pinned_method_admits_that_key_only(
    issuer_app: Flask, trust_list_answer: dict[str, Any]
) -> None:
    ring = issuer_of(issuer_app).keyring()
    _, issuing = ring.signer_for_issuer(DID_WEB, ("ed25519",))
    pinned_to_issuing = TrustAnchor(did=DID_WEB, method=issuing.key_id)
    with pytest.raises(TrustAnchorError):
        load(issuer_app, secured(trust_list_answer), pinned_to_issuing)
    with pytest.raises(TrustAnchorError):  # another trust-list-named method is not the pinned one
        load(
            issuer_app,
            secured(trust_list_answer),
            TrustAnchor(did=DID_WEB, method=f"{DID_WEB}#trust-list-0000000000000000"),
        )


def test_a_list_of_another_did_is_refused(issuer_app: Flask) -> None:
    other = KeyPair.generate("ed25519")
    token = issue(unsigned_list(did_key(other.public)), other)
    with pytest.raises(UntrustedIssuerError) as refused:
        load(issuer_app, token)
    assert refused.value.code == "UNTRUSTED_ISSUER"
    assert "not by did:web:customs.example" in str(refused.value)


@pytest.mark.parametrize(
    ("did", "method"),
    [
        ("not-a-did", None),
        ("did:web:customs.example#trust-list-1", None),
        (DID_WEB, "did:web:other.example#trust-list-1"),
        (DID_WEB, "#"),
        (DID_WEB, "trust-list-1"),
    ],
)
def test_an_unusable_anchor_is_a_usage_error(did: str, method: str | None) -> None:
    with pytest.raises(UsageError):
        TrustAnchor(did=did, method=method)


def test_a_did_key_anchor_names_its_one_key() -> None:
    key = KeyPair.generate("ed25519")
    anchor = TrustAnchor(did=did_key(key.public))
    assert anchor.admits(signer_for(key).key_id)
    other = KeyPair.generate("ed25519")
    assert not anchor.admits(signer_for(other).key_id)
    assert not anchor.admits(None)


def test_a_list_needs_an_anchor() -> None:
    key = KeyPair.generate("ed25519")
    token = issue(unsigned_list(did_key(key.public)), key)
    with pytest.raises(UsageError):
        load_signed_trust_list(token, now=NOW)


# -- the verifier service: its anchor configuration --------------------------------------------


@pytest.fixture
def did_host(issuer_app: Flask) -> Iterator[LocalServer]:
    """The issuer's did:web document, served where the verifier's host map sends it."""
    with local_server() as server:
        document = issuer_of(issuer_app).did_document()
        server.serve("/.well-known/did.json", json.dumps(document).encode())
        yield server


def _write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_the_verifier_service_starts_with_a_list_from_the_trust_list_key(
    make_app: MakeApp,
    did_host: LocalServer,
    tmp_path: Path,
    trust_list_answer: dict[str, Any],
) -> None:
    path = _write(tmp_path, "list.json", trust_list_answer["verifiableCredential"])
    app = make_app(trust_list=path, trust_issuer=DID_WEB, host_map={DOMAIN: did_host.origin})
    health = app.test_client().get("/health").get_json()
    assert health["trustList"]["issuer"] == DID_WEB


@pytest.mark.parametrize("fmt", ["vc+jwt", "eddsa-rdfc-2022"])
def test_the_verifier_service_refuses_a_list_from_an_issuing_key(
    make_app: MakeApp, did_host: LocalServer, tmp_path: Path, issuer_app: Flask, fmt: str
) -> None:
    _, signer = issuer_of(issuer_app).keyring().signer_for_issuer(DID_WEB, ("ed25519",))
    path = _write(tmp_path, "list.json", issue(unsigned_list(), signer, format=fmt, now=NOW))
    with pytest.raises(TrustAnchorError):
        make_app(trust_list=path, trust_issuer=DID_WEB, host_map={DOMAIN: did_host.origin})


def test_the_verifier_service_refuses_a_method_it_was_not_told(
    make_app: MakeApp,
    did_host: LocalServer,
    tmp_path: Path,
    issuer_app: Flask,
    trust_list_answer: dict[str, Any],
) -> None:
    path = _write(tmp_path, "list.json", trust_list_answer["verifiableCredential"])
    _, issuing = issuer_of(issuer_app).keyring().signer_for_issuer(DID_WEB, ("ed25519",))
    with pytest.raises(TrustAnchorError):
        make_app(
            trust_list=path,
            trust_issuer=DID_WEB,
            trust_method=issuing.key_id,
            host_map={DOMAIN: did_host.origin},
        )


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"trust_list": Path("list.jwt")}, id="list-without-anchor"),
        pytest.param({"trust_issuer": DID_WEB}, id="anchor-without-list"),
        pytest.param({"trust_method": "#trust-list-1"}, id="method-without-list"),
        pytest.param(
            {"trust_list": Path("l"), "trust_issuer": DID_WEB, "trust_method": "did:web:x#k"},
            id="method-of-another-did",
        ),
    ],
)
def test_an_anchor_configuration_that_would_do_nothing_is_refused(
    options: dict[str, Any],
) -> None:
    with pytest.raises(UsageError):
        VerifierConfig(**options)


def test_the_environment_names_the_anchor_method() -> None:
    config = VerifierConfig.from_env(
        {
            "VCRED_VERIFIER_TRUST_LIST": "/etc/vcred/list.jwt",
            "VCRED_VERIFIER_TRUST_ISSUER": DID_WEB,
            "VCRED_VERIFIER_TRUST_METHOD": "#trust-list-abc",
        }
    )
    assert config.trust_anchor() == TrustAnchor(did=DID_WEB, method=f"{DID_WEB}#trust-list-abc")


def test_the_serve_command_refuses_an_issuing_key_list_in_one_line(
    did_host: LocalServer, tmp_path: Path, issuer_app: Flask
) -> None:
    path = _write(tmp_path, "list.jwt", signed_with_an_issuing_key(issuer_app, unsigned_list()))
    result = CliRunner().invoke(
        main,
        [
            "serve",
            "verifier",
            "--trust-list",
            str(path),
            "--trust-issuer",
            DID_WEB,
            "--host-map",
            f"{DOMAIN}={did_host.origin}",
            "--dev",
            "--data-dir",
            str(tmp_path / "v"),
        ],
    )
    assert result.exit_code == 2
    assert "cannot start: TRUST_ANCHOR" in result.output
    assert "Traceback" not in result.output


def test_the_serve_command_refuses_a_list_without_its_anchor(tmp_path: Path) -> None:
    key = KeyPair.generate("ed25519")
    path = _write(tmp_path, "list.jwt", str(issue(unsigned_list(did_key(key.public)), key)))
    result = CliRunner().invoke(
        main,
        ["serve", "verifier", "--trust-list", str(path), "--data-dir", str(tmp_path / "v")],
    )
    assert result.exit_code == 2
    assert "cannot start: USAGE" in result.output and "trust_issuer" in result.output


# -- the admin path --------------------------------------------------------------------------


def test_the_admin_cli_signs_with_the_trust_list_key(
    issuer_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VCRED_ISSUER_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    data = ["--data-dir", str(issuer_of(issuer_app).config.data_dir)]
    source = _write(tmp_path, "unsigned.json", unsigned_list())
    made = CliRunner().invoke(main, ["issuer", "trust-list", "issue", str(source), *data])
    assert made.exit_code == 0, made.output
    envelope = json.loads(made.stdout)
    assert load(issuer_app, envelope).issuer == DID_WEB
    listed = CliRunner().invoke(main, ["issuer", "key", "list", *data])
    assert "trust lists only" in listed.stdout and "#trust-list-" in listed.stdout
    refused = CliRunner().invoke(
        main,
        ["issuer", "trust-list", "issue", str(_write(tmp_path, "x.json", {"a": 1})), *data],
    )
    assert refused.exit_code == 2
    assert "Traceback" not in refused.output and "MALFORMED" in refused.output
    # a file nested past json.loads's recursion: one line, not a RecursionError traceback
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    nested = CliRunner().invoke(main, ["issuer", "trust-list", "issue", str(deep), *data])
    assert nested.exit_code == 2
    assert isinstance(nested.exception, SystemExit), nested.exception
    assert f"{deep} is not JSON" in nested.output


def test_vcred_verify_refuses_a_list_from_another_method_in_one_line(tmp_path: Path) -> None:
    key = KeyPair.generate("ed25519")
    did = did_key(key.public)
    # `vcred verify` reads the real clock: a list valid for long enough
    unsigned = unsigned_list(did, valid_until=datetime(2100, 1, 1, tzinfo=UTC))
    path = _write(tmp_path, "list.jwt", str(issue(unsigned, key, now=NOW)))
    base = ["verify", "--trust-list", str(path), "--trust-issuer", did]
    refused = CliRunner().invoke(main, [*base, "--trust-method", f"{did}#other", "-"], input="x")
    assert refused.exit_code == 2
    assert "refused: TRUST_ANCHOR" in refused.output and "Traceback" not in refused.output
    bad_anchor = CliRunner().invoke(main, [*base, "--trust-method", "did:web:x#k", "-"], input="x")
    assert bad_anchor.exit_code == 2 and "USAGE" in bad_anchor.output


# -- the published list: a stable URL at the issuer, refreshed by the verifier ----------------

PUBLIC = f"https://{DOMAIN}/trust-lists"
LIST_URL = f"{PUBLIC}/current"
MIRROR = "mirror.example"
MIRROR_URL = f"https://{MIRROR}/trust-lists/current"


def sequenced_list(sequence: int, previous: str | None = None) -> dict[str, Any]:
    return build_trust_list(
        [
            {
                "issuer": PARTNER,
                "programme": "EU-AEO",
                "country": "DE",
                "acceptedCredentialTypes": ["AEOCertificateCredential"],
            }
        ],
        issuer=DID_WEB,
        programme="US-CTPAT",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2027, 1, 1, tzinfo=UTC),
        credential_id=f"urn:example:cbp-list:{sequence}",
        sequence=sequence,
        next_update=datetime(2026, 12, 1, tzinfo=UTC),
        replaces=(sequence - 1, list_digest(previous)) if previous else None,
    )


def publish(issuer_app: Flask, api: ApiClient, document: dict[str, Any]) -> Any:
    return api.post(
        "/trust-lists/issue",
        json={"credential": document},
        headers=bearer(issuer_app, "trust-list"),
    )


def test_the_issuer_publishes_its_list_at_a_stable_url(issuer_app: Flask, api: ApiClient) -> None:
    assert api.get("/trust-lists/current").status_code == 404
    assert publish(issuer_app, api, sequenced_list(1)).status_code == 201
    current = api.get("/trust-lists/current")
    assert current.status_code == 200
    assert current.mimetype == "application/vc+jwt"
    assert load(issuer_app, current.get_data(as_text=True)).sequence == 1


def test_the_issuer_refuses_to_publish_a_list_out_of_sequence(
    issuer_app: Flask, api: ApiClient
) -> None:
    assert publish(issuer_app, api, sequenced_list(2)).status_code == 201
    again = publish(issuer_app, api, sequenced_list(2))
    assert again.status_code == 409
    assert again.get_json()["code"] == "TRUST_LIST_SEQUENCE"
    assert publish(issuer_app, api, sequenced_list(1)).status_code == 409
    unsequenced = publish(issuer_app, api, unsigned_list())
    assert unsequenced.status_code == 409


def test_the_issuer_refuses_to_sign_a_list_that_states_no_end(
    issuer_app: Flask, api: ApiClient
) -> None:
    # verifiers refuse a list with neither validUntil nor nextUpdate (it would decide
    # forever): the issuer does not sign one
    endless = sequenced_list(1)
    del endless["validUntil"], endless["credentialSubject"]["nextUpdate"]
    refused = publish(issuer_app, api, endless)
    assert refused.status_code == 400
    assert refused.get_json()["code"] == "MALFORMED"
    assert refused.get_json()["pointer"] == "/credential/validUntil"
    assert api.get("/trust-lists/current").status_code == 404


def _verifier_of_list_one(
    make_app: MakeApp, did_host: LocalServer, issuer_app: Flask, api: ApiClient
) -> tuple[str, Flask]:
    """The issuer publishes list 1, served at the agency's URL; a verifier reading it there.
    The list as served, and the verifier."""
    assert publish(issuer_app, api, sequenced_list(1)).status_code == 201
    first = api.get("/trust-lists/current").get_data(as_text=True)
    did_host.serve("/trust-lists/current", first.encode(), Content_Type="application/vc+jwt")
    app = make_app(
        trust_list=None,
        trust_list_urls=(LIST_URL,),
        trust_issuer=DID_WEB,
        host_map={DOMAIN: did_host.origin},
    )
    return first, app


def test_the_verifier_refreshes_the_published_list_and_refuses_a_rollback(
    make_app: MakeApp, did_host: LocalServer, issuer_app: Flask, api: ApiClient
) -> None:
    first, app = _verifier_of_list_one(make_app, did_host, issuer_app, api)
    assert app.test_client().get("/health").get_json()["trustList"]["sequenceNumber"] == 1

    assert publish(issuer_app, api, sequenced_list(2, previous=first)).status_code == 201
    second = api.get("/trust-lists/current").get_data(as_text=True)
    did_host.serve("/trust-lists/current", second.encode(), Content_Type="application/vc+jwt")
    service = app.extensions["vcred_verifier"]
    report = service.refresh_trust()
    assert report.sequence == 2 and report.changed, report.errors
    assert app.test_client().get("/health").get_json()["trustList"]["sequenceNumber"] == 2

    did_host.serve("/trust-lists/current", first.encode(), Content_Type="application/vc+jwt")
    report = service.refresh_trust()
    assert "TRUST_LIST_SEQUENCE" in report.errors[0]
    assert app.test_client().get("/health").get_json()["trustList"]["sequenceNumber"] == 2


def test_a_restarted_verifier_refuses_the_list_it_had_replaced(
    make_app: MakeApp,
    did_host: LocalServer,
    issuer_app: Flask,
    api: ApiClient,
    tmp_path: Path,
) -> None:
    # Attack: a mirror, a stale cache or the web host serves list 1 again — signed, still
    # valid — and waits for the verifier to restart (a deploy, a crash, a new worker): its
    # feed started empty, so list 1, which list 2 had replaced, was taken again.
    assert publish(issuer_app, api, sequenced_list(1)).status_code == 201
    first = api.get("/trust-lists/current").get_data(as_text=True)
    assert publish(issuer_app, api, sequenced_list(2, previous=first)).status_code == 201
    second = api.get("/trust-lists/current").get_data(as_text=True)
    options: dict[str, Any] = {
        "data_dir": tmp_path / "verifier",
        "trust_list": None,
        "trust_list_urls": (LIST_URL,),
        "trust_issuer": DID_WEB,
        "host_map": {DOMAIN: did_host.origin},
    }
    did_host.serve("/trust-lists/current", second.encode(), Content_Type="application/vc+jwt")
    before = make_app(**options)
    assert before.test_client().get("/health").get_json()["trustList"]["sequenceNumber"] == 2
    before.extensions["vcred_verifier"].close()

    did_host.serve("/trust-lists/current", first.encode(), Content_Type="application/vc+jwt")
    after = make_app(**options)  # the same database: a restart
    service = after.extensions["vcred_verifier"]
    assert after.test_client().get("/health").get_json()["trustList"]["sequenceNumber"] == 2
    assert "TRUST_LIST_SEQUENCE" in service.feed.last_report.errors[0]
    # the next list is still taken
    assert publish(issuer_app, api, sequenced_list(3, previous=second)).status_code == 201
    third = api.get("/trust-lists/current").get_data(as_text=True)
    did_host.serve("/trust-lists/current", third.encode(), Content_Type="application/vc+jwt")
    assert service.refresh_trust().sequence == 3


def test_a_list_kept_from_a_file_ending_in_a_newline_is_followed_by_its_successor(
    make_app: MakeApp,
    did_host: LocalServer,
    issuer_app: Flask,
    api: ApiClient,
    tmp_path: Path,
) -> None:
    # The configured file was read as it is — its final newline too, which an editor or
    # `vcred … > list.jwt` leaves — and its digest taken of that text, where the feed and
    # `trust-list build --previous` strip it. Kept, that digest was the floor when the
    # verifier moved to the agency's URL: list 1 again read as a fork, and list 2, naming
    # list 1's digest as published, refused as one. The file is read as the feed reads a list.
    assert publish(issuer_app, api, sequenced_list(1)).status_code == 201
    first = api.get("/trust-lists/current").get_data(as_text=True)
    path = tmp_path / "list.jwt"
    path.write_text(first + "\n", encoding="utf-8")
    data_dir = tmp_path / "verifier"
    host_map = {DOMAIN: did_host.origin}
    by_file = make_app(data_dir=data_dir, trust_list=path, trust_issuer=DID_WEB, host_map=host_map)
    assert by_file.test_client().get("/health").get_json()["trustList"]["sequenceNumber"] == 1
    by_file.extensions["vcred_verifier"].close()

    assert publish(issuer_app, api, sequenced_list(2)).status_code == 201
    second = api.get("/trust-lists/current").get_data(as_text=True)
    assert load(issuer_app, second).replaces == (1, list_digest(first))
    did_host.serve("/trust-lists/current", second.encode(), Content_Type="application/vc+jwt")
    by_url = make_app(
        data_dir=data_dir,
        trust_list=None,
        trust_list_urls=(LIST_URL,),
        trust_issuer=DID_WEB,
        host_map=host_map,
    )
    service = by_url.extensions["vcred_verifier"]
    assert service.feed.current.sequence == 2, service.feed.last_report.errors


def test_the_issuer_names_the_list_a_successor_replaces(issuer_app: Flask, api: ApiClient) -> None:
    # the agency sends list 2 without replaces: the issuer names the published list 1
    assert publish(issuer_app, api, sequenced_list(1)).status_code == 201
    first = api.get("/trust-lists/current").get_data(as_text=True)
    assert publish(issuer_app, api, sequenced_list(2)).status_code == 201
    second = load(issuer_app, api.get("/trust-lists/current").get_data(as_text=True))
    assert second.replaces == (1, list_digest(first))
    # naming another list than the published one is refused, nothing published
    stray = sequenced_list(3, previous=first)  # replaces (2, list 1's digest)
    refused = publish(issuer_app, api, stray)
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "TRUST_LIST_SEQUENCE"
    assert refused.get_json()["pointer"] == "/credential/credentialSubject/replaces"
    assert load(issuer_app, api.get("/trust-lists/current").get_data(as_text=True)).sequence == 2


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fmt", ["vc+jwt", "data-integrity"])
def test_the_issuer_serves_every_list_it_published_by_number(
    tmp_path: Path, backend: str, fmt: str
) -> None:
    # a verifier that missed lists fetches those in between by number, to link the list it
    # fetched to the one it holds (vcred.trustfeed): each as it was served when current
    app = create_issuer_app(make_config(tmp_path / "issuer", backend))
    app.config["TESTING"] = True
    try:
        api = ApiClient(app)
        served: list[bytes] = []
        for number in (1, 2, 3):
            body = {"credential": sequenced_list(number), "options": {"format": fmt}}
            answer = api.post("/trust-lists/issue", json=body, headers=bearer(app, "trust-list"))
            assert answer.status_code == 201, answer.get_json()
            served.append(api.get("/trust-lists/current").get_data())
        current = api.get("/trust-lists/current")
        for number, body in enumerate(served, start=1):
            found = api.get(f"/trust-lists/{number}")
            assert found.status_code == 200 and found.get_data() == body
            assert found.mimetype == current.mimetype
        second = load(app, api.get("/trust-lists/2").get_data(as_text=True))
        assert second.sequence == 2 and second.replaces == (1, list_digest(served[0]))
        for unknown in ("4", "9007199254740991", "9999999999999999"):
            missing = api.get(f"/trust-lists/{unknown}")
            assert missing.status_code == 404, unknown
            assert missing.mimetype == "application/problem+json"
            assert missing.get_json()["code"] == "NOT_FOUND"
        for bad in ("abc", "0", "01", "-1", "1.0", "+1", "1e3", "%201", "9" * 17, "\u0661"):
            refused = api.get(f"/trust-lists/{bad}")
            assert refused.status_code == 400, bad
            assert refused.get_json()["code"] == "MALFORMED"
        # a list published before lists were kept by number: served while it is current
        store = issuer_of(app).store
        with store.engine.begin() as conn:
            for number in (2, 3):
                named = issuer_service.PUBLISHED_TRUST_LIST_NUMBERED.format(number)
                conn.execute(delete(store.t.meta).where(store.t.meta.c.name == named))
        assert api.get("/trust-lists/3").get_data() == served[2]
        assert api.get("/trust-lists/2").status_code == 404
        assert api.get("/trust-lists/1").get_data() == served[0]
    finally:
        dispose(app, drop=backend == "postgres")


def test_the_issuer_refuses_a_sequence_number_it_could_not_serve_exactly(
    issuer_app: Flask, api: ApiClient
) -> None:
    # a list is kept and served by its number: past 2^53 - 1 a verifier's JSON may read it
    # inexactly (and one of 54 digits or more would not fit its row's name on PostgreSQL)
    refused = publish(issuer_app, api, sequenced_list(2**53))
    assert refused.status_code == 400
    assert refused.get_json()["code"] == "MALFORMED"
    assert refused.get_json()["pointer"] == "/credential/credentialSubject/sequenceNumber"
    assert api.get("/trust-lists/current").status_code == 404
    assert publish(issuer_app, api, sequenced_list(2**53 - 1)).status_code == 201
    assert api.get(f"/trust-lists/{2**53 - 1}").status_code == 200


@contextmanager
def served_over_http(app: Flask) -> Iterator[str]:
    """``app`` behind a real HTTP server on this machine; yields its origin."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="issuer-over-http")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_a_verifier_that_missed_lists_links_them_through_the_issuers_numbered_lists(
    make_app: MakeApp, issuer_app: Flask, api: ApiClient
) -> None:
    # Attack closed (§13.26): a list skipping numbers was taken whatever list it named
    # between; now the verifier fetches each list in between from the issuer, by number
    # (GET /trust-lists/<n>, over HTTP through its guarded fetcher) and checks every link
    assert publish(issuer_app, api, sequenced_list(1)).status_code == 201
    with served_over_http(issuer_app) as origin, local_server() as mirror:
        app = make_app(
            trust_list=None,
            # a mirror first (serving nothing yet), then the agency's issuer
            trust_list_urls=(MIRROR_URL, LIST_URL),
            trust_issuer=DID_WEB,
            host_map={DOMAIN: origin, MIRROR: mirror.origin},
        )
        assert app.test_client().get("/health").get_json()["trustList"]["sequenceNumber"] == 1
        for number in (2, 3, 4):  # published while the verifier did not look
            assert publish(issuer_app, api, sequenced_list(number)).status_code == 201
        service = app.extensions["vcred_verifier"]
        report = service.refresh_trust()
        assert report.sequence == 4 and report.changed and report.source == LIST_URL
        assert app.test_client().get("/health").get_json()["trustList"]["sequenceNumber"] == 4
        # list 6 signed with the agency's trust-list key, naming a list 5 never published,
        # served by the mirror: neither the mirror nor the issuer (404) has a list 5; refused
        fourth = api.get("/trust-lists/4").get_data(as_text=True)
        _, signer = issuer_of(issuer_app).keyring().trust_list_signer()
        phantom = str(issue(sequenced_list(5, previous=fourth), signer))
        stray = str(issue(sequenced_list(6, previous=phantom), signer))
        mirror.serve("/trust-lists/current", stray.encode())
        report = service.refresh_trust()
        refusal = report.errors[0]
        assert refusal.startswith(MIRROR_URL) and "TRUST_LIST_SEQUENCE" in refusal
        assert f"https://{MIRROR}/trust-lists/5" in refusal and f"{PUBLIC}/5" in refusal
        assert report.sequence == 4 and not report.changed
        assert app.test_client().get("/health").get_json()["trustList"]["sequenceNumber"] == 4


def test_a_list_signed_while_another_was_published_is_not_published(
    issuer_app: Flask, api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # two agency tools publish at once: the list whose replaces named list 1 while another
    # list 2 was published meanwhile would fork what verifiers hold — refused, send it again
    assert publish(issuer_app, api, sequenced_list(1)).status_code == 201
    signing = issuer_service.secure
    meanwhile: list[int] = []

    def publish_meanwhile(document: Any, *args: Any, **kwargs: Any) -> Any:
        if document["credentialSubject"]["sequenceNumber"] == 3:  # list 2 signs as it is
            meanwhile.append(publish(issuer_app, api, sequenced_list(2)).status_code)
        return signing(document, *args, **kwargs)

    monkeypatch.setattr(issuer_service, "secure", publish_meanwhile)
    refused = publish(issuer_app, api, sequenced_list(3))
    assert meanwhile == [201]
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["code"] == "TRUST_LIST_SEQUENCE"
    assert "published while this one was signed" in refused.get_json()["detail"]
    assert load(issuer_app, api.get("/trust-lists/current").get_data(as_text=True)).sequence == 2


@pytest.mark.postgres
@pytest.mark.parametrize("held", [0, 1])
def test_two_lists_published_at_once_on_postgresql_are_one_published_one_refused(
    tmp_path: Path, held: int
) -> None:
    # Attack (a race, no forgery): two agency tools publish list 2 at once. Each read the
    # published list 1 under READ COMMITTED, before the other committed; both named list 1
    # and both were answered 201 — the first served, then overwritten by the second: two
    # lists 2, and a verifier that took the first refuses every successor of the second as a
    # fork. The published list is read locked now: the second waits, sees the first, 409
    # (``held`` 0: no list yet, no row to lock — the second's insert finds the first's).
    app = create_issuer_app(make_config(tmp_path / "issuer", "postgres"))
    app.config["TESTING"] = True
    try:
        api = ApiClient(app)
        if held:
            assert publish(app, api, sequenced_list(1)).status_code == 201
        store = issuer_of(app).store
        appending = store.append_audit
        holding, go = threading.Event(), threading.Event()

        def append_audit(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("action") == "trust-list-issue" and not holding.is_set():
                holding.set()  # the first publication, its transaction open
                assert go.wait(30)
            return appending(*args, **kwargs)

        store.append_audit = append_audit  # type: ignore[method-assign]
        headers = [bearer(app, "trust-list") for _ in range(2)]
        answers: dict[int, int] = {}

        def send(i: int) -> None:
            body = {"credential": sequenced_list(held + 1)}
            sent = app.test_client().post("/trust-lists/issue", json=body, headers=headers[i])
            answers[i] = sent.status_code

        first = threading.Thread(target=send, args=(0,))
        first.start()
        assert holding.wait(30)
        second = threading.Thread(target=send, args=(1,))
        second.start()
        waiting = text("select count(*) from pg_stat_activity where wait_event_type = 'Lock'")
        watcher = make_engine(PG_URL)
        try:
            for _ in range(600):  # until the second publication waits on the first's lock
                with watcher.connect() as conn:
                    if conn.execute(waiting).scalar_one():
                        break
                time.sleep(0.05)
        finally:
            watcher.dispose()
        go.set()
        first.join(30)
        second.join(30)
        assert answers == {0: 201, 1: 409}
        served = api.get("/trust-lists/current").get_data(as_text=True)
        assert load(app, served).sequence == held + 1
        audit = issuer_of(app).store.audit_entries()
        assert [e["action"] for e in audit].count("trust-list-issue") == held + 1  # once each
    finally:
        dispose(app, drop=True)


def test_the_issuer_names_the_served_digest_of_a_data_integrity_list(
    issuer_app: Flask, api: ApiClient
) -> None:
    # a Data Integrity list is served as canonical JSON: its successor names those bytes'
    # digest, which a verifier computes from what it fetched (it had no digest at all)
    body = {"credential": sequenced_list(1), "options": {"format": "data-integrity"}}
    response = api.post("/trust-lists/issue", json=body, headers=bearer(issuer_app, "trust-list"))
    assert response.status_code == 201, response.get_json()
    current = api.get("/trust-lists/current")
    assert current.mimetype == "application/json"
    first = current.get_data(as_text=True)
    assert publish(issuer_app, api, sequenced_list(2)).status_code == 201
    second = load(issuer_app, api.get("/trust-lists/current").get_data(as_text=True))
    assert second.replaces == (1, list_digest(first))
    assert load(issuer_app, first).digest == list_digest(first)


def test_a_data_integrity_list_published_before_keeps_the_bytes_and_digest_verifiers_hold(
    issuer_app: Flask, api: ApiClient
) -> None:
    # Upgrade path: a Data Integrity list published by an issuer before it named
    # predecessors was stored without a digest and served by jsonify — compact, keys in the
    # order signed (the app sorts none). Verifiers hold that list with the digest of those
    # bytes. Served sorted instead, the same list 1 read as a fork at every refresh, and the
    # list 2 the issuer then published named the digest of the sorted bytes: every verifier
    # holding list 1 refused it as a fork, its list going stale.
    body = {"credential": sequenced_list(1), "options": {"format": "data-integrity"}}
    response = api.post("/trust-lists/issue", json=body, headers=bearer(issuer_app, "trust-list"))
    assert response.status_code == 201, response.get_json()
    service = issuer_of(issuer_app)
    stored = json.loads(service.store.get_meta(issuer_service.PUBLISHED_TRUST_LIST) or "")
    secured = stored["secured"]
    assert list(secured) != sorted(secured)  # signed in an order of its own
    with service.store.engine.begin() as conn:  # as the issuer before left it
        old = {"secured": secured, "format": stored["format"], "sequenceNumber": 1, "digest": None}
        service.store.set_meta(conn, issuer_service.PUBLISHED_TRUST_LIST, json.dumps(old))
    with issuer_app.app_context():
        fetched_before = jsonify(secured).get_data(as_text=True).strip()  # what verifiers hold
    assert api.get("/trust-lists/current").get_data(as_text=True) == fetched_before
    assert publish(issuer_app, api, sequenced_list(2)).status_code == 201
    second = load(issuer_app, api.get("/trust-lists/current").get_data(as_text=True))
    assert second.replaces == (1, list_digest(fetched_before))


def test_a_successor_that_names_no_predecessor_is_refused_and_the_list_held_stays(
    make_app: MakeApp, did_host: LocalServer, issuer_app: Flask, api: ApiClient
) -> None:
    # Attack: a list numbered after the one held, signed by the agency's trust-list key (a
    # tool that signs without the issuer's checks, a process that never saw the published
    # list) names no predecessor; verifiers took it, though nothing showed it followed the
    # list they held. Now refused, named why; the held list decides on.
    _, app = _verifier_of_list_one(make_app, did_host, issuer_app, api)
    health = app.test_client()
    assert health.get("/health").get_json()["trustList"]["sequenceNumber"] == 1

    _, signer = issuer_of(issuer_app).keyring().trust_list_signer()
    assert "#trust-list-" in signer.key_id
    forged = str(issue(sequenced_list(2), signer))
    assert load(issuer_app, forged).replaces is None  # the right key: it verifies alone
    did_host.serve("/trust-lists/current", forged.encode(), Content_Type="application/vc+jwt")
    service = app.extensions["vcred_verifier"]
    report = service.refresh_trust()
    assert report.sequence == 1 and not report.changed
    assert (
        "TRUST_LIST_SEQUENCE: trust list 2 does not name the list it replaces" in (report.errors[0])
    )
    assert health.get("/health").get_json()["trustList"]["sequenceNumber"] == 1
    # an officer's refresh answers the same report
    officer = signed_in(app)
    token = csrf_of(officer.get("/").get_data(as_text=True))
    answer = officer.post("/trust-lists/refresh", data={"csrf_token": token})
    assert answer.status_code == 200
    assert answer.get_json()["sequenceNumber"] == 1 and not answer.get_json()["changed"]
    assert "does not name the list it replaces" in answer.get_json()["errors"][0]

    # the list 2 the issuer publishes names list 1: taken
    assert publish(issuer_app, api, sequenced_list(2)).status_code == 201
    second = api.get("/trust-lists/current").get_data(as_text=True)
    did_host.serve("/trust-lists/current", second.encode(), Content_Type="application/vc+jwt")
    report = service.refresh_trust()
    assert report.sequence == 2 and report.changed and not report.errors
    assert health.get("/health").get_json()["trustList"]["sequenceNumber"] == 2


def test_the_refresh_endpoint_is_for_signed_in_officers(
    make_app: MakeApp, did_host: LocalServer, issuer_app: Flask, api: ApiClient
) -> None:
    assert publish(issuer_app, api, sequenced_list(1)).status_code == 201
    did_host.serve("/trust-lists/current", api.get("/trust-lists/current").data)
    app = make_app(
        trust_list=None,
        trust_list_urls=(LIST_URL,),
        trust_issuer=DID_WEB,
        host_map={DOMAIN: did_host.origin},
    )
    answer = app.test_client().post("/trust-lists/refresh")
    assert answer.status_code == 302
    assert "/login" in answer.headers["Location"]


def test_the_verifier_does_not_start_without_an_acceptable_list(
    make_app: MakeApp, did_host: LocalServer
) -> None:
    did_host.serve("/trust-lists/current", b"not a list")
    with pytest.raises(UntrustedIssuerError, match="no acceptable trust list"):
        make_app(
            trust_list=None,
            trust_list_urls=(LIST_URL,),
            trust_issuer=DID_WEB,
            host_map={DOMAIN: did_host.origin},
        )


def test_a_trust_list_url_must_be_https_unless_dev_or_a_mapped_host() -> None:
    with pytest.raises(UsageError, match=r"not https.*--host-map"):
        VerifierConfig(trust_list_urls=("http://x.example/l",), trust_issuer=DID_WEB)
    with pytest.raises(UsageError, match="not https"):  # another host is mapped
        VerifierConfig(
            trust_list_urls=("http://x.example/l",),
            trust_issuer=DID_WEB,
            host_map={"y.example": "http://127.0.0.1:8120"},
        )
    # a local agency's issuer, as status lists at http://127.0.0.1:PORT are reached
    mapped = VerifierConfig(
        trust_list_urls=("http://127.0.0.1:8120/trust-lists/current",),
        trust_issuer=DID_WEB,
        host_map={"127.0.0.1:8120": "http://127.0.0.1:8120"},
    )
    assert mapped.trust_anchor() is not None
    with pytest.raises(UsageError, match="not both"):
        VerifierConfig(trust_list=Path("l.json"), trust_list_urls=(LIST_URL,), trust_issuer=DID_WEB)


def test_a_get_of_the_route_that_signs_a_list_is_a_method_not_allowed(
    issuer_app: Flask, api: ApiClient
) -> None:
    """``/trust-lists/issue`` is POST only: a GET is 405 with ``Allow: POST`` (it was taken as
    a list numbered "issue": 400), while other names that are no number stay 400."""
    answer = issuer_app.test_client().get("/trust-lists/issue")  # the description has no GET
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"
    assert answer.mimetype == "application/problem+json"
    assert api.get("/trust-lists/issues").status_code == 400
    assert api.get("/trust-lists/007").status_code == 400
