"""Both services answer /favicon.ico with an icon, and every officer page links it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from issuer_app import IssuerConfig, issuer_of
from issuer_app import create_app as create_issuer
from verifier_app import VerifierConfig
from verifier_app import create_app as create_verifier

ICO_MAGIC = b"\x00\x00\x01\x00"  # ICONDIR: reserved 0, type 1 (icon)


@pytest.fixture(params=["issuer", "verifier"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """An app of each service and the path of one of its officer pages."""
    if request.param == "issuer":
        app = create_issuer(IssuerConfig(data_dir=tmp_path, passphrase="correct horse battery"))
        yield app, "/login"
        issuer_of(app).close()
    else:
        app = create_verifier(VerifierConfig(data_dir=tmp_path, rate_per_second=0))
        yield app, "/"
        app.extensions["vcred_verifier"].close()


def test_favicon_ico_is_an_icon(service: tuple[Flask, str]) -> None:
    app, _ = service
    answer = app.test_client().get("/favicon.ico")
    assert answer.status_code == 200
    assert answer.mimetype == "image/vnd.microsoft.icon"
    assert answer.data.startswith(ICO_MAGIC)


def test_pages_link_the_icons_and_the_links_answer(service: tuple[Flask, str]) -> None:
    app, page = service
    client = app.test_client()
    html = client.get(page).get_data(as_text=True)
    links = re.findall(r'<link rel="icon" href="([^"]+)"', html)
    assert "/favicon.ico" in links
    assert any(link.endswith(".svg") for link in links)
    for link in links:
        with client.get(link) as answer:  # static files stream: close them
            assert answer.status_code == 200, link
            assert answer.mimetype.startswith("image/"), link
