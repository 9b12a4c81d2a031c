"""What the wallet keeps is verified first, by the library's Verifier: a credential whose
proof fails, whose issuer cannot be resolved, or that has expired is refused and nothing is
stored; one not valid yet is kept and says so. The issuer's DID is resolved through the
wallet's own transport (:class:`TransportFetcher`): its SSRF guard and host map apply."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from issuer_app import create_app
from tests.httpserver import LocalServer, local_server
from tests.issuer.conftest import DOMAIN, PUBLIC_URL, Clock, dispose, make_config
from tests.oid4vci_helpers import AppTransport, offer
from tests.wallet.conftest import PASSPHRASE, run
from vcred import issue, jose
from vcred.did.key import did_key
from vcred.did.web import did_web_document
from vcred.errors import (
    CryptographicError,
    ExpiredError,
    FetchRefusedError,
    ResolutionError,
    UnreachableError,
)
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.model import V2_CONTEXT
from vcred.multibase import b64url_encode
from vcred.net import Fetcher
from vcred.verifier import Verifier
from vcred.wallet import Wallet
from vcred.wallet.transport import Answer, HttpTransport, TransportFetcher

ISSUER_HOST = "issuer.example"
ISSUER_DID = f"did:web:{ISSUER_HOST}"
ISSUER_URL = f"https://{ISSUER_HOST}"
EXAMPLES_CONTEXT = "https://www.w3.org/ns/credentials/examples/v2"
JAN_2026 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def wallet(tmp_path: Path) -> Wallet:
    return Wallet.create(tmp_path / "w.db", PASSPHRASE)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[Flask, Clock]]:
    clock = Clock()
    made = create_app(make_config(tmp_path / "issuer", "sqlite", clock=clock))
    try:
        yield made, clock
    finally:
        dispose(made, drop=False)


@pytest.fixture
def issuer_server() -> Iterator[tuple[LocalServer, KeyPair]]:
    """``did:web:issuer.example``'s document on a loopback server (reached by a host map)."""
    key = KeyPair.generate("ed25519")
    with local_server() as server:
        document = did_web_document(ISSUER_DID, [key.public])
        server.serve("/.well-known/did.json", json.dumps(document).encode())
        yield server, key


def credential_for(holder: Wallet, issuer: str, **dates: str) -> dict[str, Any]:
    return {
        "@context": [V2_CONTEXT, EXAMPLES_CONTEXT],
        "type": ["VerifiableCredential", "ExampleDegreeCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        **dates,
        "credentialSubject": {"id": holder.did},
    }


def signed_by_did_key(holder: Wallet, **dates: str) -> str:
    key = KeyPair.generate("ed25519")
    return str(issue(credential_for(holder, did_key(key.public), **dates), key))


def tampered(credential: str | dict[str, Any]) -> str | dict[str, Any]:
    """The credential with one claim changed after signing (its binding left as it was)."""
    if isinstance(credential, dict):
        changed = copy.deepcopy(credential)
        changed["credentialSubject"]["legalName"] = "Someone Else Ltd"
        return changed
    jwt, sep, rest = credential.partition("~")
    header, _, signature = jwt.split(".")
    claims = jose.unverified_payload(jwt)
    claims["name"] = "Someone Else Ltd"
    forged = b64url_encode(json.dumps(claims).encode())
    return f"{header}.{forged}.{signature}{sep}{rest}"


class Tampering(AppTransport):
    """An issuer (or a man in the middle) whose credential answer was altered on the way."""

    def request(
        self, method: str, url: str, *, body: bytes | None = None, headers: Mapping[str, str]
    ) -> Answer:
        answer = super().request(method, url, body=body, headers=headers)
        if url.endswith("/oid4vci/credential") and answer.status == 200:
            value = json.loads(answer.body)
            value["credentials"][0]["credential"] = tampered(value["credentials"][0]["credential"])
            return Answer(
                status=200, content_type=answer.content_type, body=json.dumps(value).encode()
            )
        return answer


@pytest.mark.parametrize("fmt", ["jwt_vc_json", "vc+sd-jwt", "ldp_vc"])
def test_a_verified_credential_is_kept_its_issuer_resolved_through_the_transport(
    wallet: Wallet, app: tuple[Flask, Clock], fmt: str
) -> None:
    issuer, clock = app
    made = offer(issuer, "aeo", fmt)
    transport = AppTransport(issuer, PUBLIC_URL)
    [held] = wallet.receive(made.url, tx_code=made.tx_code, transport=transport, now=clock)
    assert held.pending == ""
    assert [c.id for c in wallet.credentials()] == [held.id]
    assert ("GET", "/.well-known/did.json") in transport.calls  # the did:web, as the exchange


@pytest.mark.parametrize("fmt", ["jwt_vc_json", "vc+sd-jwt", "ldp_vc"])
def test_a_credential_altered_after_signing_is_refused_and_nothing_kept(
    wallet: Wallet, app: tuple[Flask, Clock], fmt: str
) -> None:
    issuer, clock = app
    made = offer(issuer, "aeo", fmt)
    with pytest.raises(CryptographicError, match="the credential received is refused"):
        wallet.receive(
            made.url, tx_code=made.tx_code, transport=Tampering(issuer, PUBLIC_URL), now=clock
        )
    assert wallet.credentials() == []


def test_the_issuers_did_is_resolved_with_the_transports_host_map(
    wallet: Wallet, issuer_server: tuple[LocalServer, KeyPair]
) -> None:
    server, key = issuer_server
    signed = str(issue(credential_for(wallet, ISSUER_DID), signer_for(key, did=ISSUER_DID)))
    mapped = HttpTransport(host_map={ISSUER_HOST: server.origin})
    verifier = Verifier(fetcher=TransportFetcher(mapped))
    held = wallet.keep(
        signed, format="jwt_vc_json", credential_issuer=ISSUER_URL, verifier=verifier
    )
    assert held.pending == "" and "/.well-known/did.json" in server.hits
    assert [c.id for c in wallet.credentials()] == [held.id]


def test_an_issuer_that_cannot_be_resolved_is_refused(
    wallet: Wallet, issuer_server: tuple[LocalServer, KeyPair]
) -> None:
    server, key = issuer_server
    unknown = f"{ISSUER_DID}:traders:nobody"  # no document at /traders/nobody/did.json
    signed = str(issue(credential_for(wallet, unknown), signer_for(key, did=unknown)))
    verifier = Verifier(
        fetcher=TransportFetcher(HttpTransport(host_map={ISSUER_HOST: server.origin}))
    )
    with pytest.raises(ResolutionError, match="404") as caught:
        wallet.keep(signed, format="jwt_vc_json", credential_issuer=unknown, verifier=verifier)
    assert caught.value.code == "DID_RESOLUTION"
    assert wallet.credentials() == []
    # without a verifier, the wallet resolves no did:web at all: refused too, not kept blind
    with pytest.raises(ResolutionError, match="no fetcher"):
        wallet.keep(signed, format="jwt_vc_json", credential_issuer=unknown)
    assert wallet.credentials() == []


def test_did_web_to_loopback_is_refused_by_the_wallets_guard_before_connecting(
    wallet: Wallet, issuer_server: tuple[LocalServer, KeyPair]
) -> None:
    server, key = issuer_server
    local = f"did:web:127.0.0.1%3A{server.port}"  # the document is there: it is not asked for
    signed = str(issue(credential_for(wallet, local), signer_for(key, did=local)))
    verifier = Verifier(fetcher=TransportFetcher(HttpTransport()))
    with pytest.raises(FetchRefusedError, match="non-public"):
        wallet.keep(signed, format="jwt_vc_json", credential_issuer=local, verifier=verifier)
    assert server.hits == [] and wallet.credentials() == []


def test_an_expired_credential_is_refused(wallet: Wallet) -> None:
    signed = signed_by_did_key(wallet, validUntil="2027-01-01T00:00:00Z")
    with pytest.raises(ExpiredError, match="expired at 2027"):
        wallet.keep(
            signed,
            format="jwt_vc_json",
            credential_issuer=ISSUER_URL,
            now=lambda: datetime(2027, 6, 1, tzinfo=UTC),
        )
    assert wallet.credentials() == []


def test_a_credential_not_valid_yet_is_kept_and_says_since_when(wallet: Wallet) -> None:
    signed = signed_by_did_key(wallet, validFrom="2027-01-01T00:00:00Z")
    held = wallet.keep(
        signed,
        format="jwt_vc_json",
        credential_issuer=ISSUER_URL,
        now=lambda: JAN_2026,
    )
    assert held.pending.startswith("not valid before 2027-01-01")
    [kept] = wallet.credentials()
    assert kept.id == held.id and kept.pending == held.pending  # sealed with the rest


class Scripted:
    def __init__(self, status: int, body: bytes = b"{}") -> None:
        self.answer = Answer(status=status, content_type="application/json", body=body)

    def request(
        self, method: str, url: str, *, body: bytes | None = None, headers: Mapping[str, str]
    ) -> Answer:
        return self.answer


@pytest.mark.parametrize(
    ("answer", "refusal", "says"),
    [
        (Scripted(302), FetchRefusedError, "redirects are not followed"),
        (Scripted(404), ResolutionError, "answered 404"),
        (Scripted(503), UnreachableError, "answered 503"),
        (Scripted(200, b"x" * 101), FetchRefusedError, "larger than 100 bytes"),
    ],
)
def test_the_transport_fetcher_takes_only_a_200_answer_within_its_cap(
    answer: Scripted, refusal: type[Exception], says: str
) -> None:
    fetcher = TransportFetcher(answer)
    with pytest.raises(refusal, match=says):
        fetcher.fetch("https://issuer.example/.well-known/did.json", accept="*/*", max_bytes=100)
    assert isinstance(fetcher, Fetcher)  # the verifier's plug point


def test_cli_receive_refuses_what_it_cannot_verify_and_resolves_with_host_map(
    served: tuple[Flask, str], tmp_path: Path
) -> None:
    issuer, base = served
    env = {"VCRED_WALLET": str(tmp_path / "trader.db"), "VCRED_WALLET_PASSPHRASE": PASSPHRASE}
    assert run("wallet", "init", env=env).exit_code == 0

    # the issuer's did:web:customs.example is no host this machine reaches: nothing is kept
    first = offer(issuer, "aeo", "jwt_vc_json")
    refused = run("wallet", "receive", first.url, "--tx-code", first.tx_code, "--dev", env=env)
    assert refused.exit_code == 2
    assert refused.output.startswith("vcred: the credential received is refused: ")
    assert refused.output.count("\n") == 1 and "Traceback" not in refused.output
    assert run("wallet", "list", env=env).output == ""

    bad = run("wallet", "receive", first.url, "--host-map", "customs.example", env=env)
    assert bad.exit_code == 2
    assert bad.output == (
        "vcred: --host-map: a host map entry is HOST=http(s)://ORIGIN, not 'customs.example'\n"
    )

    second = offer(issuer, "aeo", "jwt_vc_json")
    mapped = ("--dev", "--host-map", f"{DOMAIN}={base}")
    kept = run("wallet", "receive", second.url, "--tx-code", second.tx_code, *mapped, env=env)
    assert kept.exit_code == 0, kept.output
    assert "AEOCertificateCredential" in kept.output and "not valid yet" not in kept.output
    assert kept.output.split()[0] in run("wallet", "list", env=env).output
