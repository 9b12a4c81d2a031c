"""OpenID4VCI 1.0 against @openid4vc/openid4vci (OpenWallet Foundation): its wallet
(Openid4vciClient) redeems offers from vcred's issuer, and `vcred wallet` redeems an offer from
an issuer built on its Openid4vciIssuer / Oauth2AuthorizationServer — every credential bound
to the holder's key and verified by vcred afterwards."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from issuer_app import create_app
from tests.httpserver import free_port
from tests.interop.node import HERE, run_peer
from tests.issuer.conftest import DOMAIN, dispose, make_config
from tests.oid4vci_helpers import offer
from vcred import Verifier, jose
from vcred.did.jwk import did_jwk
from vcred.keys import PublicKey
from vcred.net import GuardedFetcher
from vcred.oid4vci import ProtocolError
from vcred.verifier import utc_now
from vcred.wallet import Wallet
from vcred.wallet.transport import HttpTransport
from vcred_service.runner import serving

pytestmark = pytest.mark.interop


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Flask, Verifier]]:
    """vcred's issuer on loopback (its public URL is where it listens), and a verifier that
    resolves its did:web and status lists there."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(make_config(tmp_path / "issuer", "sqlite", public_url=base, clock=utc_now))
    fetcher = GuardedFetcher(host_map={DOMAIN: base}, allow_private=True)
    try:
        with serving(app, port=port):
            yield app, Verifier(fetcher=fetcher)
    finally:
        dispose(app, drop=False)


@pytest.mark.parametrize("fmt", ["vc+sd-jwt", "jwt_vc_json", "ldp_vc"])
@pytest.mark.parametrize("kind", ["aeo", "billing"])
def test_independent_wallet_redeems_a_vcred_offer(
    served: tuple[Flask, Verifier], kind: str, fmt: str
) -> None:
    app, verifier = served
    made = offer(app, kind, fmt)
    answer = run_peer("oid4vci_wallet_peer.mjs", {"offerUrl": made.url, "txCode": made.tx_code})
    assert answer["configurationId"] == made.configuration
    holder = PublicKey.from_jwk({k: answer["publicJwk"][k] for k in ("kty", "crv", "x", "y")})
    result = verifier.verify(answer["credential"])
    assert result.verified, result.errors
    if fmt != "vc+sd-jwt":
        assert result.credential["credentialSubject"]["id"] == did_jwk(holder)
    if fmt == "vc+sd-jwt":
        cnf = jose.unverified_payload(answer["credential"].split("~")[0])["cnf"]["jwk"]
        assert PublicKey.from_jwk({k: v for k, v in cnf.items() if k != "kid"}) == holder
    assert app.extensions["vcred_oid4vci"].view(made.offer_id).state == "collected"


def test_independent_wallet_with_a_wrong_tx_code_is_refused(
    served: tuple[Flask, Verifier],
) -> None:
    app, _ = served
    made = offer(app, "billing", "vc+sd-jwt")
    wrong = "000000" if made.tx_code != "000000" else "111111"
    with pytest.raises(AssertionError, match='"error":"invalid_grant"'):
        run_peer("oid4vci_wallet_peer.mjs", {"offerUrl": made.url, "txCode": wrong})


@pytest.fixture
def node_issuer() -> Iterator[dict[str, Any]]:
    if shutil.which("node") is None or not (HERE / "node_modules").is_dir():
        pytest.fail("node and tests/interop/node_modules are required: run `make test`")
    peer = subprocess.Popen(
        ["node", str(HERE / "oid4vci_issuer_peer.mjs")],
        cwd=HERE,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert peer.stdout is not None
        yield json.loads(peer.stdout.readline())
    finally:
        assert peer.stdin is not None
        peer.stdin.close()  # the peer closes its server and exits when its stdin ends
        try:
            peer.wait(timeout=10)
        except subprocess.TimeoutExpired:
            peer.kill()
            peer.wait()
        assert peer.stdout is not None
        peer.stdout.close()


def test_vcred_wallet_redeems_an_independent_offer(
    node_issuer: dict[str, Any], tmp_path: Path
) -> None:
    wallet = Wallet.create(tmp_path / "w.db", "a trader's passphrase")
    [held] = wallet.receive(
        node_issuer["offerUrl"],
        tx_code=node_issuer["txCode"],
        transport=HttpTransport(allow_private=True),
    )
    assert held.format == "jwt_vc_json"
    result = Verifier().verify(held.credential)
    assert result.verified, result.errors
    assert result.credential["issuer"] == node_issuer["issuer"]
    assert result.credential["credentialSubject"]["id"] == wallet.did
    # and the wallet presents it: a vp+jwt bound to the verifier's nonce
    presented = wallet.present(held.id, audience="https://verifier.example", nonce="n-9")
    checked = Verifier().verify_presentation(
        presented, challenge="n-9", domain="https://verifier.example"
    )
    assert checked.verified, checked.errors


def test_independent_issuer_refuses_a_wrong_tx_code(
    node_issuer: dict[str, Any], tmp_path: Path
) -> None:
    wallet = Wallet.create(tmp_path / "w.db", "a trader's passphrase")
    wrong = "000000" if node_issuer["txCode"] != "000000" else "111111"
    with pytest.raises(ProtocolError) as caught:
        wallet.receive(
            node_issuer["offerUrl"], tx_code=wrong, transport=HttpTransport(allow_private=True)
        )
    assert caught.value.error == "invalid_grant"
    assert wallet.credentials() == []
