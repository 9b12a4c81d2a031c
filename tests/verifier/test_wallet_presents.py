"""`vcred wallet present` answers the verifier's OpenID4VP request end to end: the verifier
served over HTTP on loopback, the wallet CLI fetching the signed request (guarded transport,
--dev for loopback), disclosing only what the DCQL query names, posting the direct_post
answer — and the benefit request leaving a recognition the border can query."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from flask import Flask

from tests.conftest import billing_attestation
from tests.httpserver import free_port
from tests.verifier.conftest import US_HOST, Agency, MakeApp
from vcred.cli import main
from vcred.errors import FetchRefusedError, MalformedError, UsageError
from vcred.verifier import Verifier, utc_now
from vcred.wallet import Wallet, request_uri_of
from vcred.wallet.transport import HttpTransport, TransportFetcher
from vcred_service.runner import serving

PASSPHRASE = "a trader's passphrase"


@contextmanager
def serve(make_app: MakeApp, **overrides: Any) -> Iterator[tuple[Flask, str]]:
    """A verifier on loopback, on the real clock (the wallet's requests are timed by it)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app(public_url=base, clock=utc_now, recognition_refresh=timedelta(0), **overrides)
    with serving(app, port=port):
        yield app, base


@pytest.fixture
def served(make_app: MakeApp) -> Iterator[tuple[Flask, str]]:
    with serve(make_app) as found:
        yield found


def resolving(agency: Agency) -> Verifier:
    """A verifier for the wallet to keep the agency's credentials: its did:web is resolved
    through a wallet transport mapped to the agency's server."""
    transport = HttpTransport(host_map={US_HOST: agency.server.origin})
    return Verifier(fetcher=TransportFetcher(transport))


@pytest.fixture
def wallet(tmp_path: Path, agency: Agency) -> Wallet:
    """A trader's wallet holding its AEO certificate (an SD-JWT bound to the wallet's key)."""
    made = Wallet.create(tmp_path / "trader.db", PASSPHRASE)
    document = agency.aeo_certificate(holder=made.did)
    held = agency.issue(document, fmt="vc+sd-jwt", holder=made.public_key)
    made.keep(
        str(held),
        format="vc+sd-jwt",
        credential_issuer="https://us-customs.example",
        verifier=resolving(agency),
    )
    return made


def open_request(base_app: Flask, body: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = base_app.test_client().post(
        "/oid4vp/requests", json=body or {"query": "aeo-certificate"}
    )
    assert answer.status_code == 201
    opened: dict[str, Any] = answer.get_json()
    return opened


def run(*args: str, env: dict[str, str]) -> Any:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_the_wallet_cli_answers_a_request_and_the_border_sees_the_recognition(
    served: tuple[Flask, str], wallet: Wallet, tmp_path: Path
) -> None:
    app, _ = served
    env = {"VCRED_WALLET": str(tmp_path / "trader.db"), "VCRED_WALLET_PASSPHRASE": PASSPHRASE}
    opened = open_request(app)
    link = opened["authorization_request"]
    guarded = run("wallet", "present", link, env=env)
    assert guarded.exit_code == 2 and "only https" in guarded.output  # loopback needs --dev
    done = run("wallet", "present", link, "--dev", env=env)
    assert done.exit_code == 0, done.output
    (held,) = wallet.credentials()
    assert done.output.strip() == f"presented {held.id} to {opened['client_id']}"
    outcome = app.test_client().get(f"/oid4vp/requests/{opened['transaction']}").get_json()
    assert outcome["status"] == "verified"
    (presented,) = outcome["result"]["presentations"]["aeo_sd_jwt"]
    assert presented["recognitions"]
    query = urlencode({"scheme": "CTPAT", "id": "48120"})
    body = app.test_client().get(f"/recognitions?{query}").get_json()
    assert body["recognised"] is True
    assert body["evidence"]["recognition"] == presented["recognitions"][0]
    # the request is answered once: again, the verifier refuses and the CLI says so in a line
    again = run("wallet", "present", opened["request_uri"], "--dev", env=env)
    assert again.exit_code == 2 and again.output.count("\n") == 1


def test_only_the_claims_asked_for_are_disclosed(
    make_app: MakeApp, tmp_path: Path, agency: Agency
) -> None:
    # without a trust list: the one of these tests recognises AEO certificates only
    with serve(make_app, trust_list=None, trust_issuer=None) as (app, _):
        opened, made = _billing_request(app, tmp_path, agency)
        done = made.respond(
            opened["authorization_request"], transport=HttpTransport(allow_private=True)
        )
    assert done.client_id == opened["client_id"]
    outcome = app.test_client().get(f"/oid4vp/requests/{opened['transaction']}").get_json()
    (presented,) = outcome["result"]["presentations"]["billing"]
    disclosed = presented["credentials"][0]["disclosed"]
    assert "/credentialSubject/invoice/totalAmount" in disclosed
    assert not any("unitPrice" in p or "lineItems" in p for p in disclosed)


def _billing_request(app: Flask, tmp_path: Path, agency: Agency) -> tuple[dict[str, Any], Wallet]:
    made = Wallet.create(tmp_path / "exporter.db", PASSPHRASE)
    document = billing_attestation(issuer=agency.signer.key_id.split("#")[0])
    document["credentialSubject"]["id"] = made.did
    held = agency.issue(document, fmt="vc+sd-jwt", holder=made.public_key)
    made.keep(
        str(held),
        format="vc+sd-jwt",
        credential_issuer="https://us-customs.example",
        verifier=resolving(agency),
    )
    claims = [["credentialSubject", "invoice", "totalAmount"]]
    return open_request(app, {"query": "billing-attestation", "claims": claims}), made


def test_a_link_whose_client_id_is_not_the_signers_is_refused(
    served: tuple[Flask, str], wallet: Wallet
) -> None:
    app, _ = served
    opened = open_request(app)
    forged = "openid4vp://?" + urlencode(
        {
            "client_id": "decentralized_identifier:did:key:z6MkOther",
            "request_uri": opened["request_uri"],
        }
    )
    with pytest.raises(MalformedError, match="another client_id"):
        wallet.respond(forged, transport=HttpTransport(allow_private=True))


def test_a_request_nothing_held_satisfies_is_refused(
    served: tuple[Flask, str], tmp_path: Path
) -> None:
    app, _ = served
    empty = Wallet.create(tmp_path / "empty.db", PASSPHRASE)
    opened = open_request(app)
    with pytest.raises(UsageError, match="no held credential"):
        empty.respond(opened["authorization_request"], transport=HttpTransport(allow_private=True))


def test_the_guarded_transport_refuses_a_loopback_verifier(
    served: tuple[Flask, str], wallet: Wallet
) -> None:
    app, _ = served
    with pytest.raises(FetchRefusedError):
        wallet.respond(open_request(app)["authorization_request"], transport=HttpTransport())


@pytest.mark.parametrize(
    "link",
    [
        "mailto:someone@example.com",
        "openid4vp://?client_id=x",
        "openid4vp://?request_uri=https://v.example/r",
        "openid4vp://?client_id=x&request_uri=a&request_uri=b",
    ],
)
def test_a_link_without_one_request_uri_is_refused(link: str) -> None:
    with pytest.raises(MalformedError):
        request_uri_of(link)


def test_present_a_credential_needs_audience_and_nonce_and_a_request_takes_no_options(
    tmp_path: Path, wallet: Wallet
) -> None:
    env = {"VCRED_WALLET": str(tmp_path / "trader.db"), "VCRED_WALLET_PASSPHRASE": PASSPHRASE}
    (held,) = wallet.credentials()
    missing = run("wallet", "present", held.id, env=env)
    assert missing.exit_code == 2 and "--audience and --nonce" in missing.output
    extra = run("wallet", "present", "openid4vp://?x=1", "--nonce", "n", env=env)
    assert extra.exit_code == 2 and "no options" in extra.output
