"""Headless Chromium (Debian's, installed by `make test`) driven by Playwright from PyPI."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """The one Playwright driver of the session (its sync API allows only one at a time)."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail("Debian's chromium is required for browser tests: run `make test`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@contextmanager
def chromium(playwright: Any, *extra_flags: str) -> Iterator[Any]:
    """A headless Chromium context with its own throw-away profile."""
    profile = tempfile.mkdtemp(prefix="vcred-chromium-")
    context = playwright.chromium.launch_persistent_context(
        profile, executable_path=CHROMIUM, headless=True, args=[*FLAGS, *extra_flags]
    )
    try:
        yield context
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    with chromium(playwright) as context:
        yield context


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        page.close()
