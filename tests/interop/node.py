"""Run a node peer script in tests/interop with JSON on stdin and JSON on stdout."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent


def run_peer(script: str, message: dict[str, Any], *, timeout: float = 60) -> Any:
    if shutil.which("node") is None or not (HERE / "node_modules").is_dir():
        pytest.fail("node and tests/interop/node_modules are required: run `make test`")
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
