"""The officer UI through Flask's test client (the browser tests drive it in Chromium)."""

from __future__ import annotations

import io

import pytest
import segno
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from tests.verifier.conftest import Agency, MakeApp, signed_in, tamper
from vcred.errors import MalformedError
from verifier_app.qr import NoCodeError, read_qr


def qr_png(text: str, *, scale: int = 3) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="l", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def test_the_page_offers_paste_upload_and_scan(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for marker in ('name="credential"', 'name="file"', 'name="image"', "verifier.js"):
        assert marker in html
    assert "Zoll (test)" in html  # whose trust list
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_pasting_a_credential_shows_the_verdict_trader_and_mra(
    client: FlaskClient, agency: Agency
) -> None:
    token = agency.issue(agency.aeo_certificate())
    html = client.post("/verify", data={"credential": token}).get_data(as_text=True)
    assert 'class="verdict ok"' in html and "NOT VERIFIED" not in html
    assert "Example Prairie Gadgets, Inc." in html
    assert "US–EU Mutual Recognition Decision" in html
    assert "Fewer physical and documentary security controls" in html
    assert "Tier 3" in html


def test_a_tampered_credential_is_not_verified_and_says_why(
    client: FlaskClient, agency: Agency
) -> None:
    token = tamper(agency.issue(agency.aeo_certificate()))
    html = client.post("/verify", data={"credential": token}).get_data(as_text=True)
    assert "NOT VERIFIED" in html and 'class="verdict bad"' in html
    assert "INVALID_SIGNATURE" in html
    # nothing the signature does not cover reaches the officer, not even labelled as claimed
    assert "Example Prairie Gadgets, Inc." not in html
    assert "no MRA benefits apply" in html


@pytest.mark.parametrize(
    "text",
    ['{"proof": ' + "[" * 30_000 + "]" * 30_000 + "}", '{"a": ' * 20_000 + "1" + "}" * 20_000],
    ids=["arrays", "objects"],
)
def test_pasted_json_nested_past_the_parsers_recursion_is_not_verified(
    client: FlaskClient, text: str
) -> None:
    # the page parsed the pasted text again to look for an ecdsa-sd-2023 base proof, with
    # json.loads: RecursionError, a 500 (verification itself had refused it)
    answer = client.post("/verify", data={"credential": text})
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "NOT VERIFIED" in html and 'class="verdict bad"' in html


def test_uploading_a_file(client: FlaskClient, agency: Agency) -> None:
    token = agency.issue(agency.aeo_certificate())
    data = {"file": (io.BytesIO(token.encode()), "credential.jwt")}
    html = client.post("/verify", data=data, content_type="multipart/form-data").get_data(
        as_text=True
    )
    assert 'class="verdict ok"' in html and "From: uploaded file" in html


def test_uploading_a_qr_image(client: FlaskClient, agency: Agency) -> None:
    token = agency.issue(agency.aeo_certificate())
    data = {"image": (io.BytesIO(qr_png(token)), "qr.png")}
    response = client.post("/verify", data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert 'class="verdict ok"' in html, html[:2000]
    assert "From: QR code" in html


def test_an_image_without_a_code_is_explained(client: FlaskClient) -> None:
    blank = io.BytesIO()
    Image.new("L", (200, 200), 255).save(blank, format="PNG")
    data = {"image": (io.BytesIO(blank.getvalue()), "blank.png")}
    response = client.post("/verify", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "No QR code could be read" in response.get_data(as_text=True)


def test_nothing_submitted_is_explained(client: FlaskClient) -> None:
    response = client.post("/verify", data={"credential": "  "})
    assert response.status_code == 400
    assert "Paste a credential" in response.get_data(as_text=True)


def test_photos_may_be_larger_than_api_bodies(make_app: MakeApp, agency: Agency) -> None:
    client = make_app(max_body_bytes=8192).test_client()
    token = agency.issue(agency.aeo_certificate())
    big = qr_png(token, scale=12)
    assert len(big) > 8192
    data = {"image": (io.BytesIO(big), "qr.png")}
    response = client.post("/verify", data=data, content_type="multipart/form-data")
    assert 'class="verdict ok"' in response.get_data(as_text=True)


def test_the_recent_page_lists_verifications_to_a_signed_in_officer(
    app: Flask, agency: Agency
) -> None:
    client = app.test_client()
    token = agency.issue(agency.aeo_certificate())
    client.post("/verify", data={"credential": token})
    client.post("/verify", data={"credential": tamper(token)})
    assert client.get("/recent").headers["Location"] == "/login?next=/recent"
    html = signed_in(app, client=client).get("/recent").get_data(as_text=True)
    assert html.count("Example Prairie Gadgets, Inc.") == 1  # the tampered one names nobody
    assert "INVALID_SIGNATURE" in html
    assert token not in html


def test_html_is_escaped(client: FlaskClient) -> None:
    html = client.post("/verify", data={"credential": '{"<script>": 1}'}).get_data(as_text=True)
    assert "<script>" not in html.replace('<script src="', "")


def test_read_qr_rejects_what_is_not_an_image() -> None:
    with pytest.raises(MalformedError, match="not an image"):
        read_qr(b"GIF89a not really")
    with pytest.raises(MalformedError, match="empty"):
        read_qr(b"")


def test_read_qr_refuses_huge_images_before_decoding() -> None:
    buffer = io.BytesIO()
    Image.new("1", (6000, 6000), 1).save(buffer, format="PNG")  # small file, 36 MP
    with pytest.raises(MalformedError, match="pixels"):
        read_qr(buffer.getvalue())


def test_read_qr_reads_text_and_reports_absence() -> None:
    assert read_qr(qr_png("hello customs")) == "hello customs"
    blank = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(blank, format="JPEG")
    with pytest.raises(NoCodeError):
        read_qr(blank.getvalue())
