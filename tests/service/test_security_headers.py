"""Both services set their security headers through the one shared helper."""

from __future__ import annotations

from flask import Flask

from tests.service.test_favicon import service  # noqa: F401 — the fixture: each service's app


def test_an_officer_page_is_never_framed_cached_or_sniffed(service: tuple[Flask, str]) -> None:  # noqa: F811
    app, page = service
    answer = app.test_client().get(page)
    assert answer.mimetype == "text/html"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Referrer-Policy"] in {"same-origin", "no-referrer"}


def test_an_api_answer_is_not_sniffed_and_has_no_page_policy(service: tuple[Flask, str]) -> None:  # noqa: F811
    app, _ = service
    answer = app.test_client().get("/favicon.ico")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in answer.headers
