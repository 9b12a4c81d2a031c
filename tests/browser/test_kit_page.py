"""The shared officer layout renders in a real browser."""

from __future__ import annotations

from typing import Any

import pytest
from flask import render_template

from vcred_service import create_base_app
from vcred_service.runner import serving

pytestmark = pytest.mark.browser


def test_base_layout_renders_with_its_stylesheet(page: Any, tmp_path: Any) -> None:
    app = create_base_app("layout_test", data_dir=str(tmp_path))

    @app.get("/")
    def home() -> str:
        return render_template("base.html", service_name="Test Customs Service")

    with serving(app) as server:
        page.goto(f"http://127.0.0.1:{server.server_port}/")
        assert page.locator("header .brand").inner_text() == "Test Customs Service"
        colour = page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")
        assert colour == "rgb(18, 49, 79)"  # the stylesheet loaded
