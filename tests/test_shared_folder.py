"""Without the shared folder (../shared: W3C vectors, published contexts) the suite still runs:
the tests that read it skip with a message instead of crashing at collection."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Tests that read the shared folder while running (not at import): they must skip too.
RUNTIME_READERS = [
    "tests/test_keys.py::test_w3c_vector_key_pairs",
    "tests/customs/test_context.py",
    "tests/integrity/test_proof_sets.py",
    "tests/integrity/test_pipeline.py::test_the_legacy_ed25519signature2020_vector_verifies_its_proof",
]


def _pytest(shared: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VCRED_SHARED": str(shared), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.slow
def test_every_test_module_collects_with_an_empty_shared_folder(tmp_path: Path) -> None:
    run = _pytest(tmp_path, "--collect-only", "-rs", "tests")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "error" not in run.stdout.lower().split("short test summary")[-1]
    assert "vectors is absent" in run.stdout
    assert "contexts is absent" in run.stdout


@pytest.mark.slow
def test_tests_reading_the_shared_folder_skip_without_it(tmp_path: Path) -> None:
    run = _pytest(tmp_path, "-rs", "-x", *RUNTIME_READERS)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "failed" not in run.stdout
    assert "is absent" in run.stdout
