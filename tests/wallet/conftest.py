"""The wallet tests' issuer, served over HTTP on loopback (its public URL is where it listens,
its did:web names ``customs.example``), and the CLI runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from issuer_app import create_app
from tests.httpserver import free_port
from tests.issuer.conftest import dispose, make_config
from vcred.cli import main
from vcred.verifier import utc_now
from vcred_service.runner import serving

PASSPHRASE = "a trader's passphrase"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(make_config(tmp_path / "issuer", "sqlite", public_url=base, clock=utc_now))
    try:
        with serving(app, port=port):
            yield app, base
    finally:
        dispose(app, drop=False)


def run(*args: str, env: dict[str, str]) -> Any:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
