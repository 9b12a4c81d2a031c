"""The officer's credential offer in headless Chromium: issue an export billing attestation
with delivery "offer", read the QR code off the rendered page (zxing-cpp), and redeem it with
`vcred wallet` over HTTP with the transaction code the page shows; the page then says
collected."""

from __future__ import annotations

import io
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from issuer_app import create_app, issuer_of
from tests.issuer.conftest import DOMAIN, dispose, make_config
from vcred.verifier import utc_now
from vcred.wallet import Wallet
from vcred.wallet.transport import HttpTransport
from vcred_service.runner import serving

pytestmark = pytest.mark.browser

PASSWORD = "a long officer password"


@pytest.fixture
def base_url(tmp_path: Path, browser: Any) -> Iterator[str]:
    browser.clear_cookies()
    with socket.socket() as probe:  # the public URL is where it listens: wallets go there
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    base = f"http://127.0.0.1:{port}"
    app = create_app(make_config(tmp_path / "issuer", "sqlite", public_url=base, clock=utc_now))
    issuer_of(app).add_officer("ana", PASSWORD, actor="test")
    try:
        with serving(app, port=port):
            yield base
    finally:
        dispose(app, drop=False)


def test_offer_qr_code_on_the_page_is_redeemed_by_a_wallet(
    page: Any, base_url: str, tmp_path: Path
) -> None:
    page.goto(f"{base_url}/officer/issue/billing")
    page.fill("#name", "ana")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button:has-text('Log in')")
    page.wait_for_url(re.compile(r".*/officer/issue/billing$"))
    page.select_option("#declarationScheme", "MRN")
    page.fill("#declarationValue", "26US5B7C3A1F9E2D00")
    page.fill("#exporterName", "Prairie Grain Exports LLC")
    page.fill("#exporterCountry", "US")
    page.fill("#consigneeName", "Kobe Precision K.K.")
    page.fill("#consigneeCountry", "JP")
    page.fill("#invoiceNumber", "INV-2026-0042")
    page.fill("#invoiceDate", "2026-05-20")
    page.fill("#currency", "USD")
    page.fill("#totalAmount", "37500.00")
    page.fill("#incoterms", "FCA")
    page.fill("#lineItems", "100199 | Wheat | 150 | TNE | 250.00 | 37500.00 | US")
    page.fill("#modeOfTransport", "1")
    page.fill("#exitCountry", "US")
    page.fill("#exitOffice", "US5301")
    page.fill("#destinationCountry", "JP")
    page.select_option("#format", "vc+sd-jwt")
    page.select_option("#delivery", "offer")
    page.click("button:has-text('Issue')")
    page.wait_for_url(re.compile(r".*/officer/offers/[A-Za-z0-9_-]+$"))
    assert page.locator("#offer-state").inner_text() == "offered"
    assert page.locator("#collected").inner_text() == "not yet"

    picture = Image.open(io.BytesIO(page.locator("#offer-qr svg").screenshot()))
    # the page shows one QR code; zxing-cpp 3.1 once gave two results for it on the CI machine:
    # read QR codes only, and the one code must give one distinct text
    found = zxingcpp.read_barcodes(picture, formats=zxingcpp.BarcodeFormat.QRCode)
    [link] = {code.text for code in found}
    assert link == page.locator("#offer-link").inner_text()
    assert link.startswith("openid-credential-offer://?credential_offer_uri=")
    tx_code = page.locator("#tx-code").inner_text()

    wallet = Wallet.create(tmp_path / "trader.db", "a trader's passphrase")
    # the wallet verifies what it keeps: the issuer's did:web host is mapped to where it listens
    transport = HttpTransport(allow_private=True, host_map={DOMAIN: base_url})
    [held] = wallet.receive(link, tx_code=tx_code, transport=transport)
    assert "/credentialSubject/invoice/totalAmount" in held.disclosable

    page.reload()
    assert page.locator("#offer-state").inner_text() == "collected"
    page.click("#credential-link")
    page.wait_for_url(re.compile(r".*/officer/credentials/[0-9a-f]{32}$"))
    with page.expect_download() as download:
        page.click("#download")
    saved = Path(download.value.path()).read_text()
    assert saved == held.credential
