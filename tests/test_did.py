"""DIDs: did:key, did:jwk, did:web documents and resolution, method authorisation."""

from __future__ import annotations

import json

import pytest

from tests.httpserver import local_server
from vcred.did import (
    DidDocument,
    Resolver,
    did_jwk,
    did_key,
    did_web_document,
    did_web_url,
    resolve_did_jwk,
    resolve_did_key,
)
from vcred.did.resolver import Freshness
from vcred.did.web import did_web, method_id
from vcred.errors import ResolutionError, UnknownKeyError, UnreachableError, UnsupportedError
from vcred.keys import KeyPair
from vcred.net import GuardedFetcher


@pytest.mark.parametrize(
    ("kind", "prefix"), [("ed25519", "z6Mk"), ("p256", "zDna"), ("p384", "z82L")]
)
def test_did_key_prefixes(kind: str, prefix: str) -> None:
    assert did_key(KeyPair.generate(kind).public).startswith("did:key:" + prefix)


def test_did_key_resolves_offline(any_key: KeyPair) -> None:
    did = did_key(any_key.public)
    document = resolve_did_key(did)
    vm = document.method(f"{did}#{any_key.public.multikey()}", relationship="assertionMethod")
    assert vm.public_key == any_key.public and vm.controller == did
    assert document.document["verificationMethod"][0]["type"] == "Multikey"


def test_did_key_vector_resolves() -> None:
    did = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    vm = Resolver().resolve_method(
        did + "#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", relationship="assertionMethod"
    )
    assert vm.public_key.kind == "ed25519"


@pytest.mark.parametrize("did", ["did:key:", "did:key:z", "did:key:zzzz", "did:key:z6MkBAD0"])
def test_malformed_did_key(did: str) -> None:
    with pytest.raises(ResolutionError):
        resolve_did_key(did)


def test_did_jwk_round_trip(any_key: KeyPair) -> None:
    did = did_jwk(any_key.public)
    vm = resolve_did_jwk(did).method(f"{did}#0", relationship="authentication")
    assert vm.public_key == any_key.public


def test_did_jwk_with_private_key_is_refused(ed_key: KeyPair) -> None:
    from vcred.multibase import b64url_encode

    did = "did:jwk:" + b64url_encode(json.dumps(ed_key.private_jwk()).encode())
    with pytest.raises(ResolutionError):
        resolve_did_jwk(did)


def test_did_jwk_of_an_encryption_key_cannot_sign(ed_key: KeyPair) -> None:
    # did:jwk spec (Read): a JWK with "use": "enc" gets keyAgreement only, "sig" no
    # keyAgreement; a key its owner marked for encryption must not verify assertions.
    from vcred.multibase import b64url_encode

    for use, signs, agrees in (("enc", False, True), ("sig", True, False)):
        did = "did:jwk:" + b64url_encode(json.dumps({**ed_key.public.jwk(), "use": use}).encode())
        document = resolve_did_jwk(did)
        assert bool(document.methods_for("assertionMethod")) is signs
        assert bool(document.methods_for("authentication")) is signs
        assert bool(document.methods_for("keyAgreement")) is agrees
        if not signs:
            with pytest.raises(UnknownKeyError):
                document.method(f"{did}#0", relationship="assertionMethod")


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
    ],
)
def test_did_web_url_follows_the_method_spec(did: str, url: str) -> None:
    assert did_web_url(did) == url


@pytest.mark.parametrize(
    "did", ["did:web:", "did:web:exa mple.com", "did:web:a.com:..:etc", "did:web:a.com%2Fpath"]
)
def test_malformed_did_web(did: str) -> None:
    with pytest.raises(ResolutionError):
        did_web_url(did)


def test_unsupported_method() -> None:
    with pytest.raises(UnsupportedError):
        Resolver().resolve("did:example:123")


def test_did_web_document_lists_current_and_retired_keys() -> None:
    current, retired = KeyPair.generate(), KeyPair.generate("p384")
    did = did_web("customs.example")
    document = did_web_document(did, [current.public], retired=[retired.public])
    parsed = DidDocument.parse(document, expected_id=did)
    old = method_id(did, retired.public)
    assert parsed.method(old, relationship="assertionMethod").public_key == retired.public
    with pytest.raises(UnknownKeyError):
        parsed.method(old, relationship="authentication")
    assert parsed.method(method_id(did, current.public), relationship="authentication")


def _document(did: str, key: KeyPair, **changes: object) -> dict[str, object]:
    document = did_web_document(did, [key.public])
    document.update(changes)
    return document


def test_method_not_listed_under_relationship_is_refused(ed_key: KeyPair) -> None:
    did = "did:web:customs.example"
    parsed = DidDocument.parse(_document(did, ed_key, assertionMethod=[]), expected_id=did)
    with pytest.raises(UnknownKeyError, match="not authorised"):
        parsed.method(method_id(did, ed_key.public), relationship="assertionMethod")


def test_method_controlled_by_another_did_is_refused(ed_key: KeyPair) -> None:
    did = "did:web:customs.example"
    document = _document(did, ed_key)
    document["verificationMethod"][0]["controller"] = "did:web:attacker.example"  # type: ignore[index]
    parsed = DidDocument.parse(document, expected_id=did)
    with pytest.raises(UnknownKeyError, match="controlled by"):
        parsed.method(method_id(did, ed_key.public), relationship="assertionMethod")
    # nor is it among the DID's own keys (an SD-JWT's holder binding picks from these)
    assert parsed.methods_for("assertionMethod") == []
    assert parsed.methods_for("authentication") == []


def test_relative_method_ids_are_resolved(ed_key: KeyPair) -> None:
    did = "did:web:customs.example"
    document = {
        "id": did,
        "verificationMethod": [
            {
                "id": "#k1",
                "type": "JsonWebKey",
                "controller": did,
                "publicKeyJwk": ed_key.public.jwk(),
            }
        ],
        "assertionMethod": ["#k1"],
    }
    parsed = DidDocument.parse(document, expected_id=did)
    assert parsed.method(f"{did}#k1", relationship="assertionMethod").public_key == ed_key.public


def test_document_for_another_did_is_refused(ed_key: KeyPair) -> None:
    with pytest.raises(ResolutionError):
        DidDocument.parse(_document("did:web:a.example", ed_key), expected_id="did:web:b.example")


def test_did_web_resolves_through_mapped_host_and_caches(ed_key: KeyPair) -> None:
    did = "did:web:customs.example"
    with local_server() as server:
        server.serve("/.well-known/did.json", json.dumps(_document(did, ed_key)).encode())
        resolver = Resolver(fetcher=GuardedFetcher(host_map={"customs.example": server.origin}))
        vm = resolver.resolve_method(method_id(did, ed_key.public), relationship="assertionMethod")
        resolver.resolve(did)
        assert vm.public_key == ed_key.public
        assert server.hits == ["/.well-known/did.json"]


def test_did_web_without_fetcher_fails_closed() -> None:
    with pytest.raises(ResolutionError, match="no fetcher"):
        Resolver().resolve("did:web:customs.example")


def test_did_web_that_is_not_json_fails(ed_key: KeyPair) -> None:
    with local_server() as server:
        server.serve("/.well-known/did.json", b"<html>")
        resolver = Resolver(fetcher=GuardedFetcher(host_map={"customs.example": server.origin}))
        with pytest.raises(ResolutionError, match="not JSON"):
            resolver.resolve("did:web:customs.example")


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_did_web_stale_copy_is_used_only_while_the_host_is_unreachable(ed_key: KeyPair) -> None:
    did = "did:web:customs.example"
    clock = _Clock()
    with local_server() as server:
        server.serve("/.well-known/did.json", json.dumps(_document(did, ed_key)).encode())
        origin = server.origin
        fetcher = GuardedFetcher(host_map={"customs.example": origin})
        resolver = Resolver(fetcher=fetcher, web_ttl=60, max_stale=3600, clock=clock)
        resolver.resolve(did)
        assert resolver.freshness(did) == Freshness(age=0.0, stale=False)
    # the server is gone: past the TTL the cached copy is used, and says how old it is
    clock.now += 600
    assert resolver.resolve(did).id == did
    assert resolver.freshness(did) == Freshness(age=600.0, stale=True)
    # ... but not beyond max_stale
    clock.now += 3600
    with pytest.raises(UnreachableError):
        resolver.resolve(did)


def test_did_web_removed_document_is_not_replaced_by_a_stale_copy(ed_key: KeyPair) -> None:
    # A 404 is an answer (the agency withdrew its document), not an outage.
    did = "did:web:customs.example"
    clock = _Clock()
    with local_server() as server:
        server.serve("/.well-known/did.json", json.dumps(_document(did, ed_key)).encode())
        fetcher = GuardedFetcher(host_map={"customs.example": server.origin})
        resolver = Resolver(fetcher=fetcher, web_ttl=60, max_stale=3600, clock=clock)
        resolver.resolve(did)
        del server.routes["/.well-known/did.json"]
        clock.now += 61
        with pytest.raises(ResolutionError, match="404"):
            resolver.resolve(did)


def test_did_web_without_max_stale_never_uses_an_expired_copy(ed_key: KeyPair) -> None:
    did = "did:web:customs.example"
    clock = _Clock()
    with local_server() as server:
        server.serve("/.well-known/did.json", json.dumps(_document(did, ed_key)).encode())
        resolver = Resolver(
            fetcher=GuardedFetcher(host_map={"customs.example": server.origin}),
            web_ttl=60,
            clock=clock,
        )
        resolver.resolve(did)
    clock.now += 61
    with pytest.raises(UnreachableError):
        resolver.resolve(did)
    assert resolver.freshness("did:key:z6Mkunknown") is None


def test_did_jwk_nested_past_the_recursion_limit_is_malformed() -> None:
    # json.loads raises RecursionError (not a ValueError) for deep nesting: it used to escape
    # resolve() and verify() — through the verifier service, a 500
    from vcred import verify
    from vcred.jose import sign_compact
    from vcred.keys import LocalSigner
    from vcred.multibase import b64url_encode

    did = "did:jwk:" + b64url_encode(b"[" * 5000 + b"]" * 5000)
    with pytest.raises(ResolutionError, match="malformed did:jwk"):
        Resolver().resolve(did)
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "credentialSubject": {"name": "Harbour Lights Trading"},
    }
    token = sign_compact(credential, LocalSigner(KeyPair.generate(), f"{did}#0"), typ="vc+jwt")
    assert verify(token).codes == ("DID_RESOLUTION",)


def test_did_web_document_nested_past_the_recursion_limit_fails_cleanly() -> None:
    with local_server() as server:
        server.serve("/.well-known/did.json", b"[" * 4000 + b"]" * 4000)
        resolver = Resolver(fetcher=GuardedFetcher(host_map={"customs.example": server.origin}))
        with pytest.raises(ResolutionError, match="not JSON"):
            resolver.resolve("did:web:customs.example")
