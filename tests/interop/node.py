"""Run a node peer script in tests/interop with JSON on stdin and JSON on stdout."""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CONTEXTS, require_shared

HERE = Path(__file__).resolve().parent


@cache
def reads_shared_contexts(script: str) -> bool:
    """Whether a peer's document loader is loader.mjs, which serves the published W3C
    contexts from the shared folder (read in place, never a copy of vcred's own)."""
    return 'from "./loader.mjs"' in (HERE / script).read_text()


def run_peer(script: str, message: dict[str, Any], *, timeout: float = 60) -> Any:
    """The peer's JSON answer; skips the test when the peer needs the shared folder's
    contexts and they are absent."""
    if shutil.which("node") is None or not (HERE / "node_modules").is_dir():
        pytest.fail("node and tests/interop/node_modules are required: run `make test`")
    if reads_shared_contexts(script):
        require_shared(CONTEXTS)
    completed = subprocess.run(
        ["node", str(HERE / script)],
        input=json.dumps(message),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=HERE,
        check=False,
    )
    if completed.returncode != 0:
        raise AssertionError(f"{script} failed: {completed.stderr[-2000:]}")
    return json.loads(completed.stdout)
