"""The officer page of an OpenID4VCI offer (Flask test client): issuing with delivery
"offer" shows a small QR code, the link and the transaction code; the wallet redeems the link
shown; the page then says collected, and the signed credential downloads as a file."""

from __future__ import annotations

import html
import re
from pathlib import Path

from flask import Flask

from tests.issuer.conftest import PUBLIC_URL, Clock
from tests.issuer.test_ui import aeo_form, csrf_of, logged_in
from tests.oid4vci_helpers import AppTransport
from vcred import jose
from vcred.wallet import Wallet

LINK = re.compile(r'id="offer-link" class="mono" href="([^"]+)"')
TX_CODE = re.compile(r'id="tx-code" class="mono">(\d{6})<')


def test_officer_offers_an_aeo_certificate_and_sees_it_collected(
    sqlite_app: Flask, clock: Clock, tmp_path: Path
) -> None:
    client = logged_in(sqlite_app)
    token = csrf_of(client.get("/officer/issue/aeo").get_data(as_text=True))
    form = aeo_form(traderId="", delivery="offer", csrf_token=token)
    answer = client.post("/officer/issue/aeo", data=form)
    assert answer.status_code == 302
    assert "/officer/offers/" in answer.headers["Location"]

    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    link = html.unescape(LINK.search(page).group(1))
    tx_code = TX_CODE.search(page).group(1)
    assert link.startswith("openid-credential-offer://?credential_offer_uri=")
    assert 'id="offer-state">offered<' in page and "not yet" in page
    # the QR code encodes the link: small, because the offer is by reference
    svg = page[page.index('<div class="qr" id="offer-qr">') :]
    assert svg.count("<svg") >= 1 and len(link) < 200

    wallet = Wallet.create(tmp_path / "w.db", "a trader's passphrase")
    [held] = wallet.receive(
        link, tx_code=tx_code, transport=AppTransport(sqlite_app, PUBLIC_URL), now=clock
    )
    subject = jose.unverified_payload(held.credential)["credentialSubject"]
    assert subject["id"] == wallet.did and subject["legalName"] == "Example Prairie Gadgets, Inc."

    after = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'id="offer-state">collected<' in after
    record = re.search(r'id="credential-link" href="(/officer/credentials/[0-9a-f]{32})"', after)
    credential_page = client.get(record.group(1)).get_data(as_text=True)
    assert 'id="download"' in credential_page
    download = client.get(record.group(1) + "/file")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.get_data(as_text=True) == held.credential


def test_offering_refuses_a_typed_trader_did(sqlite_app: Flask) -> None:
    client = logged_in(sqlite_app)
    token = csrf_of(client.get("/officer/issue/aeo").get_data(as_text=True))
    answer = client.post("/officer/issue/aeo", data=aeo_form(delivery="offer", csrf_token=token))
    assert answer.status_code == 200  # the form again, with the reason at the field
    assert 'id="traderId-error"' in answer.get_data(as_text=True)


def test_offer_page_needs_a_login_and_a_known_offer(sqlite_app: Flask) -> None:
    assert sqlite_app.test_client().get("/officer/offers/x").status_code == 302
    assert logged_in(sqlite_app).get("/officer/offers/nope").status_code == 404


def test_offers_list_shows_open_and_collected_offers(
    sqlite_app: Flask, clock: Clock, tmp_path: Path
) -> None:
    from tests.oid4vci_helpers import offer

    client = logged_in(sqlite_app)
    assert "No offers yet" in client.get("/officer/offers").get_data(as_text=True)
    first, second = offer(sqlite_app, "aeo", "jwt_vc_json"), offer(sqlite_app, "billing", "ldp_vc")
    wallet = Wallet.create(tmp_path / "w.db", "a trader's passphrase")
    wallet.receive(
        first.url, tx_code=first.tx_code, transport=AppTransport(sqlite_app, PUBLIC_URL), now=clock
    )
    page = client.get("/officer/offers").get_data(as_text=True)
    rows = re.findall(r'href="/officer/offers/([^"]+)".*?class="badge (\w+)"', page, re.S)
    assert dict(rows) == {first.offer_id: "collected", second.offer_id: "offered"}
