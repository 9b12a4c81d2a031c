"""Everything fetched from the network, probed as an attacker would: status lists (an older
version served after a newer one, a list that names no URL), and what the fetching paths
already refuse, pinned (docs/security.md: "everything a check reads was signed").

The status lists here are secured by the HMAC test double of tests/status; nothing leaves the
process.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import billing_attestation
from tests.httpserver import LocalServer, local_server
from tests.status.support import (
    LIST_URL,
    NOW,
    DictFetcher,
    FakeSecurer,
    credential_with,
    publish,
    revocation_entry,
    status_list_credential,
)
from tests.test_trustfeed import D1, D2, loaded
from tests.verifier.conftest import NOW as TRUST_NOW
from tests.verifier.conftest import US_HOST, MakeApp, eu_trust_list
from vcred import Verifier, did_key, issue, openid4vp, sdjwt
from vcred.did import Resolver
from vcred.did.web import did_web_document, did_web_url, method_id
from vcred.errors import (
    FetchRefusedError,
    MalformedError,
    PresentationError,
    ResolutionError,
    RevokedError,
    StatusUnavailableError,
    StatusVerificationError,
    TimeBudgetError,
    TrustListSequenceError,
    UnreachableError,
)
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.net import time_budget
from vcred.oid4vci import GRANT_PRE_AUTHORIZED, ProtocolError
from vcred.openid4vp import AuthorizationRequest, sign_request
from vcred.status import ListVersion, MemoryListVersions, StatusChecker, StatusListCache
from vcred.status.listcred import VC_V2_CONTEXT
from vcred.testing import StaticFetcher
from vcred.trust import TrustList, build_trust_list, load_signed_trust_list, load_trust_list
from vcred.trustfeed import check_succession
from vcred.verifier import utc_now
from vcred.wallet import Wallet
from vcred.wallet.transport import Answer, HttpTransport, Transport, TransportFetcher

# --- status lists ----------------------------------------------------------------------------


def test_an_older_version_of_a_status_list_served_after_a_newer_one_is_refused() -> None:
    # Attack: whoever serves the list URL (a CDN's stale copy, a mirror, the web host) answers
    # with an earlier version, signed by the issuer before the credential was revoked. vcred's
    # lists carry no validUntil, so every old version still verifies.
    fetcher, securer = DictFetcher(), FakeSecurer()
    checker = StatusChecker(fetcher=fetcher, verify_list=securer.verify)
    credential = credential_with(revocation_entry())
    publish(fetcher, securer, valid_from=NOW - timedelta(days=2))
    older = fetcher.documents[LIST_URL]
    publish(fetcher, securer, valid_from=NOW - timedelta(hours=1), set_bits={94567: 1})
    assert isinstance(checker.check(credential, now=NOW).entries[0].error, RevokedError)
    fetcher.documents[LIST_URL] = older  # the replay, once the held copy's ttl has run out
    (entry,) = checker.check(credential, now=NOW + timedelta(minutes=11)).entries
    assert isinstance(entry.error, StatusVerificationError)
    assert "older" in entry.error.message
    # a newer version is taken again as soon as it is served
    publish(fetcher, securer, valid_from=NOW, set_bits={94567: 1})
    (entry,) = checker.check(credential, now=NOW + timedelta(minutes=12)).entries
    assert isinstance(entry.error, RevokedError)
    # an earlier signature of the same bits (two issuer machines signing one version a
    # second apart) rolls nothing back: taken
    publish(fetcher, securer, valid_from=NOW - timedelta(seconds=1), set_bits={94567: 1})
    (entry,) = checker.check(credential, now=NOW + timedelta(minutes=23)).entries
    assert isinstance(entry.error, RevokedError)
    assert entry.list_valid_from == NOW - timedelta(seconds=1)


def test_a_rollback_is_refused_by_a_cache_that_never_held_the_newer_list() -> None:
    # Attack: the older version is served to another worker of the same verifier (its own
    # cache never held the newer list), or to this one once the newer list was evicted from
    # its cache. The newest version accepted is remembered apart from the cache, and workers
    # that share that memory share the floor.
    fetcher, securer = DictFetcher(), FakeSecurer()
    credential = credential_with(revocation_entry())
    publish(fetcher, securer, valid_from=NOW - timedelta(days=2))
    older = fetcher.documents[LIST_URL]
    publish(fetcher, securer, valid_from=NOW - timedelta(hours=1), set_bits={94567: 1})
    versions = MemoryListVersions()
    first = StatusChecker(
        fetcher=fetcher, verify_list=securer.verify, cache=StatusListCache(versions=versions)
    )
    assert isinstance(first.check(credential, now=NOW).entries[0].error, RevokedError)
    fetcher.documents[LIST_URL] = older
    second = StatusChecker(
        fetcher=fetcher, verify_list=securer.verify, cache=StatusListCache(versions=versions)
    )
    (entry,) = second.check(credential, now=NOW).entries
    assert isinstance(entry.error, StatusVerificationError)
    assert "older" in entry.error.message
    # this worker's cache loses the newer list (evicted): the floor stays
    first.cache.clear()
    (entry,) = first.check(credential, now=NOW).entries
    assert isinstance(entry.error, StatusVerificationError)
    # a cache with a memory of its own (another verifier) has no floor: it takes the list
    alone = StatusChecker(fetcher=fetcher, verify_list=securer.verify)
    (entry,) = alone.check(credential, now=NOW).entries
    assert entry.error is None and entry.valid


def test_a_memory_of_list_versions_keeps_the_newest_and_its_most_recent_urls() -> None:
    versions = MemoryListVersions(max_entries=2)
    newer = ListVersion(valid_from=NOW, digest="b")
    assert versions.advance("https://a.example/1", newer) == newer
    older = ListVersion(valid_from=NOW - timedelta(days=1), digest="a")
    assert versions.advance("https://a.example/1", older) == newer  # never lowered
    undated = ListVersion(valid_from=None, digest="c")
    assert versions.advance("https://a.example/2", undated) is None  # nothing to remember
    assert versions.advance("https://a.example/2", older) == older
    versions.advance("https://a.example/3", older)
    assert len(versions) == 2
    # the least recently used URL went: its floor with it (a shared memory keeps every one)
    assert versions.advance("https://a.example/1", older) == older


def test_a_status_list_that_names_no_url_answers_for_none() -> None:
    # Attack: an issuer's list without an id is replayed at the URL of another of its lists
    # (one where the credential's bit is set): §2.2 requires the list credential's id to be
    # the entry's statusListCredential, so the signature binds the list to its URL.
    fetcher, securer = DictFetcher(), FakeSecurer()
    checker = StatusChecker(fetcher=fetcher, verify_list=securer.verify)
    unbound = status_list_credential(url="https://example.com/credentials/status/99")
    del unbound["id"]
    fetcher.documents[LIST_URL] = securer.secure(unbound)
    (entry,) = checker.check(credential_with(revocation_entry()), now=NOW).entries
    assert isinstance(entry.error, StatusVerificationError)
    assert entry.value is None


# --- trust lists ------------------------------------------------------------------------------

TRUST_STATUS_PATH = "/status/eu-trust-lists"


def _trust_list_with_status(anchor: KeyPair, *, revoked: bool) -> tuple[str, bytes]:
    """The EU agency's trust list (signed by ``anchor``, a did:key) stating a revocation
    entry on a list of its own served by the US test host, and that list (bit 7 set when
    ``revoked``)."""
    did = did_key(anchor.public)
    url = f"https://{US_HOST}{TRUST_STATUS_PATH}"
    unsigned = eu_trust_list(did)
    unsigned["credentialStatus"] = {
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": url,
    }
    status = status_list_credential(
        url=url,
        issuer=did,
        set_bits={7: 1} if revoked else {},
        valid_from=TRUST_NOW - timedelta(days=1),
        valid_until=None,
    )
    return str(issue(unsigned, anchor)), str(issue(status, anchor)).encode()


def test_a_trust_list_whose_status_cannot_be_checked_is_not_loaded() -> None:
    # Attack: an agency revokes a trust list it signed (a partner listed by mistake, a
    # compromised trust-list key) through the status entry the list states; before: trust
    # lists were verified without the status check, so the revoked list loaded anywhere its
    # signed text was replayed. Without a fetcher the status cannot be established: refused.
    anchor = KeyPair.generate("ed25519")
    token, _ = _trust_list_with_status(anchor, revoked=False)
    with pytest.raises(StatusUnavailableError):
        load_signed_trust_list(token, now=TRUST_NOW, anchor=did_key(anchor.public))


def test_the_verifier_service_refuses_a_revoked_trust_list(
    make_app: MakeApp, us_server: LocalServer, tmp_path: Path
) -> None:
    anchor = KeyPair.generate("ed25519")
    token, status = _trust_list_with_status(anchor, revoked=True)
    us_server.serve(TRUST_STATUS_PATH, status)
    revoked = tmp_path / "revoked.jwt"
    revoked.write_text(token)
    with pytest.raises(RevokedError):
        make_app(trust_list=revoked, trust_issuer=did_key(anchor.public))
    token, status = _trust_list_with_status(anchor, revoked=False)
    us_server.serve(TRUST_STATUS_PATH, status)
    current = tmp_path / "current.jwt"
    current.write_text(token)
    app = make_app(trust_list=current, trust_issuer=did_key(anchor.public))
    assert app.extensions["vcred_verifier"].trust is not None


# --- did:web documents ------------------------------------------------------------------------


def test_a_did_document_with_a_member_named_twice_is_refused() -> None:
    # Attack: a did:web document names its assertion keys twice, key A first and key B last:
    # Python's json kept the last, most other parsers the first, so the controller could
    # show one verifier one key set and another verifier another (RFC 8259 §4: names SHOULD
    # be unique; vcred's one strict parser refuses duplicates everywhere else).
    did = "did:web:issuer.example"
    first, last = KeyPair.generate("ed25519").public, KeyPair.generate("ed25519").public
    document = json.dumps(did_web_document(did, [first]))
    twice = document[:-1] + ', "assertionMethod": ["' + method_id(did, last) + '"]}'
    fetcher = StaticFetcher()
    fetcher.publish(did_web_url(did), twice)
    with pytest.raises(ResolutionError, match="is not JSON"):
        Resolver(fetcher=fetcher).resolve(did)
    fetcher.publish(did_web_url(did), '{"id": "' + did + '", "n": NaN}')
    with pytest.raises(ResolutionError, match="is not JSON"):
        Resolver(fetcher=fetcher).resolve(did)


# --- the wallet's transport (offers, issuer metadata, request objects: strangers' URLs) ------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with local_server() as running:
        yield running


def test_a_wallet_request_to_a_closed_port_or_a_failed_handshake_is_unreachable(
    server: LocalServer,
) -> None:
    # Attack: an offer whose issuer refuses connections, or speaks no TLS on its https port
    # (or shows a certificate for another name); before: the socket's and the handshake's
    # OSError left the transport untyped — a traceback from `vcred wallet receive`
    transport = HttpTransport(allow_private=True)
    with pytest.raises(UnreachableError):
        transport.request("GET", f"http://127.0.0.1:{_closed_port()}/offer", headers={})
    with pytest.raises(UnreachableError):
        transport.request("GET", f"https://127.0.0.1:{server.port}/offer", headers={})


@pytest.mark.parametrize("where", ["headers", "body"])
def test_a_wallet_request_to_a_dripping_host_ends_at_its_timeout(
    server: LocalServer, where: str
) -> None:
    # Attack: an issuer (or a verifier's request_uri) sends one byte every 20 ms: each read
    # returns within the socket timeout, so the wallet waited for the whole answer — for as
    # long as the host cared to drip. The server stops on its own after 10 s; the request
    # must have given up long before.
    released = threading.Event()
    server.trickle["/offer"] = (where, released)
    safety = threading.Timer(10.0, released.set)
    safety.start()
    transport = HttpTransport(allow_private=True, timeout=0.3)
    try:
        with pytest.raises(UnreachableError, match=r"longer than 0\.3s"):
            transport.request("GET", f"{server.origin}/offer", headers={})
        assert not released.is_set()  # it gave up while the host was still dripping
    finally:
        released.set()
        safety.cancel()


def test_a_wallet_request_inside_a_verification_ends_with_its_time_budget(
    server: LocalServer,
) -> None:
    # The DID documents a received credential is checked against come through the wallet's
    # transport (TransportFetcher); it checked the verification's time budget before sending
    # but not during the exchange: a dripping host held the verification for the transport's
    # own timeout (here 5 s) instead of what was left of the budget.
    released = threading.Event()
    server.trickle["/did.json"] = ("body", released)
    fetcher = TransportFetcher(HttpTransport(allow_private=True, timeout=5.0))
    started = time.monotonic()
    try:
        with time_budget(0.3), pytest.raises(TimeBudgetError):
            fetcher.fetch(f"{server.origin}/did.json", accept="application/json")
        assert time.monotonic() - started < 2.0
        assert not released.is_set()
    finally:
        released.set()


# --- a malicious issuer's offer, a malicious verifier's request (pinned: refused) ------------


class ScriptedTransport:
    """A wallet transport answering GETs from a dict of URL → JSON; POSTs are recorded and
    handed to ``post`` (by default refused as a test failure: nothing may be sent)."""

    def __init__(self, answers: dict[str, Any], post: Transport | None = None) -> None:
        self.answers, self.post = answers, post
        self.sent: list[tuple[str, str, bytes | None]] = []

    def request(
        self, method: str, url: str, *, body: bytes | None = None, headers: Mapping[str, str]
    ) -> Answer:
        if method == "GET" and url in self.answers:
            answer = self.answers[url]
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            return Answer(status=200, content_type="application/json", body=data)
        self.sent.append((method, url, body))
        if self.post is None:
            raise AssertionError(f"the wallet sent {method} {url}")
        return self.post.request(method, url, body=body, headers=headers)


ISSUER_URL = "https://issuer.example"
EXAMPLE_TYPE = "ExampleDegreeCredential"
OFFER = "openid-credential-offer://?" + urlencode(
    {
        "credential_offer": json.dumps(
            {
                "credential_issuer": ISSUER_URL,
                "credential_configuration_ids": ["aeo"],
                "grants": {GRANT_PRE_AUTHORIZED: {"pre-authorized_code": "the-code"}},
            }
        )
    }
)
ISSUER_METADATA = f"{ISSUER_URL}/.well-known/openid-credential-issuer"
SERVER_METADATA = f"{ISSUER_URL}/.well-known/oauth-authorization-server"


@pytest.mark.parametrize(
    ("issuer_names", "server_names"),
    [
        ("https://other.example", ISSUER_URL),  # the metadata is another issuer's
        (ISSUER_URL, "https://as.other.example"),  # the token endpoint's server is another
        (ISSUER_URL.upper(), ISSUER_URL),  # another spelling is another issuer
    ],
)
def test_an_offer_whose_metadata_names_another_party_sends_no_code(
    tmp_path: Path, issuer_names: str, server_names: str
) -> None:
    # the pre-authorized code is a bearer secret: it goes to no token endpoint before the
    # issuer's metadata and its authorization server's both name the party the offer named
    transport = ScriptedTransport(
        {
            ISSUER_METADATA: {
                "credential_issuer": issuer_names,
                "credential_configurations_supported": {"aeo": {"format": "vc+sd-jwt"}},
                "credential_endpoint": f"{ISSUER_URL}/credential",
            },
            SERVER_METADATA: {
                "issuer": server_names,
                "token_endpoint": "https://collector.example/token",
            },
        }
    )
    wallet = Wallet.create(tmp_path / "w.db", "a passphrase for a test wallet")
    with pytest.raises(ProtocolError, match="names another"):
        wallet.receive(OFFER, transport=transport)
    assert transport.sent == []
    assert wallet.credentials() == []


def test_a_verifier_request_answered_to_a_private_address_is_never_posted(
    tmp_path: Path,
) -> None:
    # a request signed by a valid DID names the cloud metadata address as its response_uri:
    # the guarded transport refuses it before connecting, and the wallet says so
    key = KeyPair.generate("p256")
    did = did_key(key.public)
    request = AuthorizationRequest.new(
        did=did,
        response_uri="https://169.254.169.254/latest/meta-data",
        dcql_query={
            "credentials": [
                {"id": "c", "format": "jwt_vc_json", "meta": {"type_values": [[EXAMPLE_TYPE]]}}
            ]
        },
    )
    token = sign_request(request, signer_for(key, did=did), now=utc_now())
    request_uri = "https://verifier.example/request/1"
    transport = ScriptedTransport({request_uri: token.encode()}, post=HttpTransport())
    holder = Wallet.create(tmp_path / "w.db", "a passphrase for a test wallet")
    issuer_key = KeyPair.generate("ed25519")
    held = issue(
        {
            "@context": [VC_V2_CONTEXT, "https://www.w3.org/ns/credentials/examples/v2"],
            "type": ["VerifiableCredential", EXAMPLE_TYPE],
            "issuer": did_key(issuer_key.public),
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": holder.did},
        },
        issuer_key,
    )
    holder.keep(str(held), format="jwt_vc_json", credential_issuer="https://issuer.example")
    with pytest.raises(FetchRefusedError, match="non-public"):
        holder.respond(request_uri, transport=transport)
    assert [(m, u) for m, u, _ in transport.sent] == [("POST", request.response_uri)]


@pytest.mark.parametrize("answer", ["169.254.169.254", "::ffff:127.0.0.1", "fd00::1"])
def test_a_request_uri_whose_name_resolves_privately_is_refused_before_connecting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, answer: str
) -> None:
    family = socket.AF_INET6 if ":" in answer else socket.AF_INET

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        return [(family, socket.SOCK_STREAM, 6, "", (answer, port))]

    def connect(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the wallet connected")

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(socket, "create_connection", connect)
    holder = Wallet.create(tmp_path / "w.db", "a passphrase for a test wallet")
    with pytest.raises(FetchRefusedError, match="non-public"):
        holder.respond("https://verifier.example/request/1", transport=HttpTransport())


# --- JSON-LD contexts: never fetched ----------------------------------------------------------


def test_an_unknown_context_is_refused_and_never_fetched() -> None:
    # a credential naming a context on the attacker's host (or the metadata address) makes
    # the verifier fetch nothing, even with a fetcher at hand: only bundled or pinned ones
    key = KeyPair.generate("ed25519")
    fetcher = StaticFetcher()
    for context in ("https://evil.example/ctx.jsonld", "https://169.254.169.254/ctx"):
        token = issue(
            {
                "@context": [VC_V2_CONTEXT, context],
                "type": ["VerifiableCredential"],
                "issuer": did_key(key.public),
                "validFrom": "2026-01-01T00:00:00Z",
                "credentialSubject": {"id": "did:example:subject"},
            },
            key,
        )
        result = Verifier(fetcher=fetcher).verify(token)
        assert not result.verified
        assert "INVALID_CONTEXT" in [p.code for p in result.errors]
    assert fetcher.hits == []


# --- trust lists without sequence numbers --------------------------------------------------------


def _unsequenced(valid_from: datetime, digest: str) -> TrustList:
    return dataclasses.replace(loaded(1, digest=digest), sequence=None, valid_from=valid_from)


def test_an_older_unsequenced_trust_list_does_not_replace_a_newer_one() -> None:
    # Attack: an agency whose lists carry no sequenceNumber (a foreign one: vcred's issuer
    # refuses to publish those) drops a partner in its new list; the old list, signed and
    # still valid, is served again. before: a held list without a sequence number could be
    # replaced by any list, so the partner came back.
    newer = _unsequenced(datetime(2026, 3, 1, tzinfo=UTC), D2)
    older = _unsequenced(datetime(2026, 1, 1, tzinfo=UTC), D1)
    with pytest.raises(TrustListSequenceError, match="older"):
        check_succession(newer, older)
    check_succession(older, newer)  # a newer one still replaces it
    check_succession(newer, newer)


def test_a_wildcard_entry_names_no_issuer_and_no_list_recognises_its_own_agency() -> None:
    # identifiers are compared whole: "*" is a character, not a pattern
    wildcard = eu_trust_list("did:web:zoll.example")
    wildcard["credentialSubject"]["recognisedIssuers"][0]["id"] = "did:web:*.example"
    held = load_trust_list(wildcard, now=TRUST_NOW)
    for issuer in ("did:web:cbp.example", "did:web:*.example.evil.example"):
        decision = held.evaluate(issuer, ["AEOCertificateCredential"], now=TRUST_NOW)
        assert not decision.trusted
    # an agency recognising its own programme: there is no arrangement of a programme with
    # itself, so no such list is built (a verifier trusts its own issuers otherwise)
    with pytest.raises(MalformedError, match="no mutual recognition arrangement"):
        build_trust_list(
            [
                {
                    "issuer": "did:web:zoll.example",
                    "programme": "EU-AEO",
                    "country": "DE",
                    "acceptedCredentialTypes": ["AEOCertificateCredential"],
                }
            ],
            issuer="did:web:zoll.example",
            programme="EU-AEO",
            authority_country="DE",
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            valid_until=datetime(2027, 1, 1, tzinfo=UTC),
        )


def _disclosed(presented: str) -> set[str]:
    """The claim names an SD-JWT+KB presentation discloses."""
    parts = sdjwt.parse(presented)
    return {str(sdjwt.decode_disclosure(d).name) for d in parts.disclosures}


def test_a_query_with_claim_sets_gets_one_option_not_every_claim(tmp_path: Path) -> None:
    # Attack (minimisation): a verifier lists claims a and b with claim_sets [[a], [b]] —
    # "one of them" (DCQL §6.4.1: the Wallet returns the first option it can satisfy);
    # before: the wallet disclosed every claim listed, a and b
    issuer_key = KeyPair.generate("ed25519")
    holder = Wallet.create(tmp_path / "w.db", "a passphrase for a test wallet")
    document = billing_attestation(issuer=did_key(issuer_key.public))
    document["credentialSubject"]["id"] = holder.did
    held = str(issue(document, issuer_key, format="vc+sd-jwt", holder=holder.public_key))
    query = openid4vp.billing_attestation_query(
        [["credentialSubject", "consignee"], ["credentialSubject", "invoice", "totalAmount"]]
    )
    entry = query["credentials"][0]
    entry["claims"][0]["id"], entry["claims"][1]["id"] = "consignee", "total"
    entry["claim_sets"] = [["total"], ["consignee"]]
    request = AuthorizationRequest.new(
        did=did_key(issuer_key.public), response_uri="https://v.example/r", dcql_query=query
    )
    form = openid4vp.answer(request, [held], holder.signer)
    (presented,) = json.loads(form["vp_token"])["billing"]
    assert _disclosed(presented) == {"totalAmount"}
    # and a verifier asking so takes one option as the answer
    verified = sdjwt.unverified_claims(presented)
    openid4vp.check_credential(verified, entry)
    del verified["credentialSubject"]["invoice"]["totalAmount"]
    with pytest.raises(PresentationError, match="not presented"):
        openid4vp.check_credential(verified, entry)
    entry["claim_sets"] = [["total"], ["no such claim"]]
    with pytest.raises(MalformedError) as refused:
        openid4vp.check_dcql(query)
    assert refused.value.pointer == "/credentials/0/claim_sets"
