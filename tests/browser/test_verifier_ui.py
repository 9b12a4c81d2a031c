"""The verifier's officer UI in headless Chromium: paste, upload, scan, and the history."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import segno
from flask import Flask
from PIL import Image

from tests.browser.conftest import chromium
from tests.httpserver import local_server
from tests.verifier.conftest import DOMAIN, NOW, OFFICER_PASSWORD, US_HOST, Agency, tamper
from vcred import did_key, issue
from vcred.keys import KeyPair
from vcred.trust import build_trust_list
from vcred_service.runner import serving
from verifier_app import VerifierConfig, create_app

pytestmark = pytest.mark.browser

TRADER = "Example Prairie Gadgets, Inc."
MRA = "US–EU Mutual Recognition Decision"


@dataclass
class Running:
    url: str
    agency: Agency
    app: Flask


def _trust_list(path: Path, key: KeyPair) -> Path:
    from datetime import UTC, datetime

    unsigned = build_trust_list(
        [
            {
                "issuer": f"did:web:{US_HOST}",
                "programme": "US-CTPAT",
                "country": "US",
                "acceptedCredentialTypes": ["AEOCertificateCredential"],
            }
        ],
        issuer=did_key(key.public),
        programme="EU-AEO",
        authority_country="DE",
        authority_name="Zoll (browser test)",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2027, 1, 1, tzinfo=UTC),
    )
    path.write_text(str(issue(unsigned, key)))
    return path


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("verifier-ui")
    eu = KeyPair.generate()
    with local_server() as us_server:
        agency = Agency(us_server)
        config = VerifierConfig(
            data_dir=folder / "data",
            trust_list=_trust_list(folder / "trust.jwt", eu),
            trust_issuer=did_key(eu.public),
            domain=DOMAIN,
            host_map={US_HOST: us_server.origin},
            clock=lambda: NOW,
            rate_per_second=0,
        )
        app = create_app(config)
        with serving(app) as server:
            yield Running(f"http://127.0.0.1:{server.server_port}", agency, app)
        app.extensions["vcred_verifier"].close()


def _qr_png(text: str, path: Path) -> Path:
    segno.make(text, error="l", micro=False).save(str(path), kind="png", scale=3, border=4)
    return path


def _verdict(page: Any) -> str:
    text: str = page.locator("#verdict").inner_text().strip()
    return text


def test_pasting_a_valid_credential_shows_verified_trader_and_mra(
    page: Any, running: Running
) -> None:
    token = running.agency.issue(running.agency.aeo_certificate())
    page.goto(running.url + "/")
    page.fill("#credential", token)
    page.click("#verify-paste")
    assert _verdict(page) == "VERIFIED"
    assert page.locator("#trader-name").inner_text() == TRADER
    assert MRA in page.locator("#mra").inner_text()
    assert "Fewer physical" in page.locator("#benefits").inner_text()
    assert "Tier 3" in page.locator("#tier").inner_text()
    colour = page.evaluate("getComputedStyle(document.querySelector('#verdict')).color")
    assert colour == "rgb(23, 108, 58)"  # green


def test_pasting_a_tampered_credential_shows_not_verified_and_why(
    page: Any, running: Running
) -> None:
    token = tamper(running.agency.issue(running.agency.aeo_certificate()))
    page.goto(running.url + "/")
    page.fill("#credential", token)
    page.click("#verify-paste")
    assert _verdict(page) == "NOT VERIFIED"
    assert "INVALID_SIGNATURE" in page.locator("#problems").inner_text()
    # nothing of an unsigned credential is read: no trader, and no MRA benefit
    assert page.locator("#trader-name").count() == 0
    assert "no MRA benefits apply" in page.locator("#trust").inner_text()
    colour = page.evaluate("getComputedStyle(document.querySelector('#verdict')).color")
    assert colour == "rgb(161, 38, 27)"  # red


def test_uploading_a_qr_image_verifies_its_credential(
    page: Any, running: Running, tmp_path: Path
) -> None:
    token = running.agency.issue(running.agency.aeo_certificate())
    page.goto(running.url + "/")
    page.set_input_files("#image", str(_qr_png(token, tmp_path / "qr.png")))
    page.click("#verify-image")
    assert _verdict(page) == "VERIFIED"
    assert "From: QR code" in page.locator("#source").inner_text()
    assert page.locator("#trader-name").inner_text() == TRADER


def test_uploading_a_credential_file(page: Any, running: Running, tmp_path: Path) -> None:
    token = running.agency.issue(running.agency.aeo_certificate())
    path = tmp_path / "credential.jwt"
    path.write_text(token)
    page.goto(running.url + "/")
    page.set_input_files("#file", str(path))
    page.click("#verify-file")
    assert _verdict(page) == "VERIFIED"


def test_the_recent_page_lists_the_verifications(page: Any, running: Running) -> None:
    token = running.agency.issue(running.agency.aeo_certificate())
    for credential in (token, tamper(token)):
        page.goto(running.url + "/")
        page.fill("#credential", credential)
        page.click("#verify-paste")
        page.wait_for_selector("#verdict")  # the verification is recorded before the next one
    page.click("text=Recent verifications")
    # the history is an officer's: the link leads to the sign-in, then back to the history
    running.app.extensions["vcred_verifier"].add_officer("vera", OFFICER_PASSWORD)
    page.fill("#name", "vera")
    page.fill("#password", OFFICER_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#recent tbody tr")  # count() below does not wait for the page
    rows = page.locator("#recent tbody tr")
    assert rows.count() >= 2
    newest, previous = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "NOT VERIFIED" in newest and "INVALID_SIGNATURE" in newest
    assert TRADER not in newest  # what failed its proof names nobody
    assert "VERIFIED" in previous and TRADER in previous
    assert token not in page.content()
    page.click("#logout")
    page.goto(running.url + "/recent")
    assert page.locator("#password").is_visible()  # signed out: the history is closed again


def _camera_video(text: str, path: Path) -> Path:
    """A Y4M clip (what Chromium's fake camera plays) showing the QR code of ``text``."""
    width, height = 1280, 720
    buffer = io.BytesIO()
    segno.make(text, error="l", micro=False).save(buffer, kind="png", scale=4, border=4)
    code = Image.open(buffer).convert("L")
    frame = Image.new("L", (width, height), 255)
    frame.paste(code, ((width - code.width) // 2, (height - code.height) // 2))
    chroma = bytes([128]) * (width // 2) * (height // 2)
    with path.open("wb") as clip:
        clip.write(f"YUV4MPEG2 W{width} H{height} F5:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(3):
            clip.write(b"FRAME\n" + frame.tobytes() + chroma + chroma)
    return path


def test_scanning_with_the_camera(playwright: Any, running: Running, tmp_path: Path) -> None:
    # getUserMedia → canvas → JPEG → the same form, with Chromium's fake camera playing a QR
    token = running.agency.issue(running.agency.aeo_certificate())
    clip = _camera_video(token, tmp_path / "camera.y4m")
    camera = (
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
    )
    with chromium(playwright, *camera) as context:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(running.url + "/")
        page.click("#start-camera")
        page.locator("#camera").wait_for(state="visible")  # shown once the video plays
        page.click("#capture")
        page.wait_for_selector("#verdict")
        assert _verdict(page) == "VERIFIED"
        assert "From: QR code" in page.locator("#source").inner_text()
        assert page.locator("#trader-name").inner_text() == TRADER
