"""The services' signed-cookie sessions: Flask's, with nothing read or written for a request
that sent no cookie and left the session alone (every VC API call)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, session

from vcred_service import create_base_app


def _app(tmp_path: Path) -> Flask:
    app = create_base_app("session_test", data_dir=tmp_path)

    @app.post("/api")
    def api() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/remember")
    def remember() -> dict[str, bool]:
        session["name"] = "olga"
        return {"ok": True}

    @app.get("/who")
    def who() -> dict[str, str | None]:
        return {"name": session.get("name")}

    @app.post("/forget")
    def forget() -> dict[str, bool]:
        session.clear()
        return {"ok": True}

    return app


def test_an_api_call_without_a_cookie_gets_none_and_varies_on_nothing(tmp_path: Path) -> None:
    answer = _app(tmp_path).test_client().post("/api")
    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers
    assert "Vary" not in answer.headers


def test_a_session_is_still_kept_read_and_cleared(tmp_path: Path) -> None:
    client = _app(tmp_path).test_client()
    assert client.get("/who").get_json() == {"name": None}
    assert "Set-Cookie" in client.post("/remember").headers
    read = client.get("/who")
    assert read.get_json() == {"name": "olga"}
    assert read.headers["Vary"] == "Cookie"
    assert "Set-Cookie" not in client.post("/api").headers  # a cookie sent, the session untouched
    cleared = client.post("/forget")
    assert "Expires=Thu, 01 Jan 1970" in cleared.headers["Set-Cookie"]
    assert client.get("/who").get_json() == {"name": None}


def test_a_forged_cookie_opens_an_empty_session(tmp_path: Path) -> None:
    client = _app(tmp_path).test_client()
    client.set_cookie("session", "eyJuYW1lIjoib2xnYSJ9.forged.signature")
    assert client.get("/who").get_json() == {"name": None}
