"""A did:web host that answers with what no well-behaved server sends (docs/security.md
§13.27): the verification gets a typed answer and the verifier service a 4xx, never an
exception. Redirects, slow hosts, oversized and deeply nested documents are in
tests/hardening/test_services_hostile.py and tests/test_net.py."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.hardening.corpus import base_credential
from tests.httpserver import LocalServer, local_server
from tests.verifier.conftest import NOW, MakeApp
from vcred import Verifier
from vcred.did import Resolver
from vcred.did.web import did_web_document, method_id
from vcred.jose import sign_compact
from vcred.keys import KeyPair, LocalSigner
from vcred.net import GuardedFetcher

HOST = "hostile.example"
DID = f"did:web:{HOST}"
KEY = KeyPair.generate("ed25519")
DOCUMENT_PATH = "/.well-known/did.json"


@pytest.fixture
def hostile_host() -> Iterator[LocalServer]:
    with local_server() as server:
        yield server


def _token() -> str:
    signer = LocalSigner(key=KEY, key_id=method_id(DID, KEY.public))
    return sign_compact(base_credential(DID), signer, typ="vc+jwt", cty="vc")


def _document() -> bytes:
    return json.dumps(did_web_document(DID, [KEY.public])).encode()


#: Latin-1 header bytes that str.isdigit() calls digits and int() refuses.
OTHER_DIGITS = ["\u00b2", "\u00b9\u00b2\u00b3"]


@pytest.mark.parametrize("length", OTHER_DIGITS)
def test_a_content_length_in_superscript_digits_is_read_as_no_length(
    hostile_host: LocalServer, length: str
) -> None:
    """The size cap read Content-Length with str.isdigit() then int(): "²" passed the first
    and raised ValueError from the second, out of fetch() and out of verify(). It is now a
    length the cap does not trust (http.client reads the body to its end, capped as read)."""
    hostile_host.serve(DOCUMENT_PATH, _document(), Content_Length=length)
    fetcher = GuardedFetcher(host_map={HOST: hostile_host.origin})
    assert fetcher.fetch(f"https://{HOST}{DOCUMENT_PATH}", accept="application/json")
    verifier = Verifier(resolver=Resolver(fetcher=fetcher), clock=lambda: NOW)
    result = verifier.verify(_token())
    assert result.verified, result.errors


def test_a_content_length_in_superscript_digits_is_still_capped(
    hostile_host: LocalServer,
) -> None:
    hostile_host.serve(DOCUMENT_PATH, b" " * (200 * 1024), Content_Length="\u00b2")
    verifier = Verifier(
        resolver=Resolver(fetcher=GuardedFetcher(host_map={HOST: hostile_host.origin})),
        clock=lambda: NOW,
    )
    assert verifier.verify(_token()).codes == ("FETCH_REFUSED",)


def test_a_content_length_in_superscript_digits_through_the_verifier_is_a_clean_answer(
    make_app: MakeApp, hostile_host: LocalServer
) -> None:
    hostile_host.serve(DOCUMENT_PATH, _document(), Content_Length="\u00b2")
    app = make_app(host_map={HOST: hostile_host.origin})
    service = app.extensions["vcred_verifier"]
    service.resolver.fetcher = GuardedFetcher(host_map={HOST: hostile_host.origin})
    response = app.test_client().post(
        "/credentials/verify", json={"verifiableCredential": _token()}
    )
    # the document was read: what remains is that no trust list names this issuer
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["verified"] is False
    assert not {"FETCH_REFUSED", "DID_RESOLUTION"} & {
        p["code"] for p in response.get_json()["problemDetails"]
    }
    assert hostile_host.hits == [DOCUMENT_PATH]


# -- held, pinned ----------------------------------------------------------------------------------


def _verifier(server: LocalServer) -> Verifier:
    fetcher = GuardedFetcher(host_map={HOST: server.origin})
    return Verifier(resolver=Resolver(fetcher=fetcher), clock=lambda: NOW)


def test_a_failed_resolution_is_not_cached(hostile_host: LocalServer) -> None:
    """A host that failed once (a 503, a document for another DID) is asked again by the
    next verification: no failure is kept in place of the document it serves next."""
    verifier = _verifier(hostile_host)
    hostile_host.serve(DOCUMENT_PATH, b"busy", status=503)
    assert verifier.verify(_token()).codes == ("DID_RESOLUTION",)
    other = json.loads(_document())
    other["id"] = "did:web:elsewhere.example"
    hostile_host.serve(DOCUMENT_PATH, json.dumps(other).encode())
    assert verifier.verify(_token()).codes == ("DID_RESOLUTION",)
    hostile_host.serve(DOCUMENT_PATH, _document())
    assert verifier.verify(_token()).verified
    assert hostile_host.hits == [DOCUMENT_PATH] * 3


@pytest.mark.parametrize(
    "written",
    [f"did:web:{HOST.upper()}", f"did:web:{HOST}%3A443", f"did:web:{HOST}:.well-known"],
)
def test_a_document_naming_the_did_in_another_spelling_is_not_its_document(
    hostile_host: LocalServer, written: str
) -> None:
    """The same host (and the same URL, for the first two) is not the same DID: a document
    answers only for the DID written exactly as its ``id``."""
    document = json.loads(_document())
    document["id"] = written
    hostile_host.serve(DOCUMENT_PATH, json.dumps(document).encode())
    assert _verifier(hostile_host).verify(_token()).codes == ("DID_RESOLUTION",)
