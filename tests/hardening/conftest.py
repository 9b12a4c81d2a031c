"""Hardening tests: the verifier service of tests/verifier (a US issuer on did:web served by a
local server, an EU verifier with its trust list), an issuer service, and a guard that no
fetch reaches anything but the local test servers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from issuer_app import create_app as create_issuer_app
from issuer_app import issuer_of
from tests.issuer.conftest import make_config
from tests.verifier.conftest import (  # noqa: F401 - fixtures used by the tests here
    agency,
    eu_key,
    make_app,
    trust_list_file,
    us_server,
)
from tests.verifier.test_receipts import receipt_app, receipt_key  # noqa: F401 - fixtures


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every address a fetch connects to; anything but 127.0.0.1 fails the test at once."""
    made: list[tuple[str, int]] = []
    original = socket.create_connection

    def guarded(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        made.append((str(address[0]), int(address[1])))
        if address[0] != "127.0.0.1":
            raise AssertionError(f"a fetch tried to reach {address}")
        return original(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    return made


@pytest.fixture
def issuer_app(tmp_path: Path) -> Iterator[Flask]:
    app = create_issuer_app(make_config(tmp_path / "issuer", "sqlite"))
    app.config["TESTING"] = True
    yield app
    issuer_of(app).close()
