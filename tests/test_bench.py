"""`python -m bench --quick` prints every ratio row of issue 21's speed list (no timings checked).

The runner needs node (the peers), wrk (the services) and PostgreSQL (issuance): `make test`
and `make bench` install them all.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.bench_services import WrkTimeoutError, _parse_wrk

ROOT = Path(__file__).resolve().parents[1]

#: (a row's operation, its target) for every ratio issue 21 asks `make bench` to print
RATIO_ROWS = [
    ("vc+jwt verify", "≤ 1.2 × floor"),
    ("eddsa-rdfc-2022 verify", "≤ 3.5 × raw"),
    ("eddsa-jcs-2022 verify", "≤ 1.8 × vc+jwt"),
    ("SD-JWT+KB verify", "≤ 1.0 × node"),
    ("RDFC-1.0 from N-Quads", "≤ 1.5 × node"),
    ("verify_many", "≥ 90 % of the ceiling"),
    ("verifier service: POST /credentials/verify", "≥ 75 % of echo rps"),
    ("batch over HTTP", "≥ 80 % of rate"),
    ("issuer service on PostgreSQL", "≥ 2 × rate, p99 < 50 ms"),
]

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("bench")]


@pytest.fixture(scope="module")
def table() -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return completed.stdout


@pytest.mark.parametrize(("operation", "target"), RATIO_ROWS)
def test_every_ratio_row_is_printed_with_its_target_and_verdict(
    table: str, operation: str, target: str
) -> None:
    rows = [line for line in table.splitlines() if line.startswith(operation) and target in line]
    assert len(rows) == 1, f"{operation} / {target} not printed once in:\n{table}"
    ratio = re.search(r"\s(\d+\.\d\d)\s+" + re.escape(target) + r"\s+(met|not met)$", rows[0])
    assert ratio is not None, rows[0]


def test_unknown_arguments_are_refused() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--fast"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip() == "usage: python -m bench [--quick]"


WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:1/credentials/issue
  1 threads and 8 connections
  Latency Distribution
     50%  430.21ms
     99%  477.16ms
  10 requests in 1.00s, 26.95KB read
{errors}Requests/sec:      10.00
"""


def test_wrk_timeouts_alone_are_told_apart_from_errors() -> None:
    timeouts = "  Socket errors: connect 0, read 0, write 0, timeout 7\n"
    assert _parse_wrk(WRK_OUTPUT.format(errors="")) == (10.0, 477.16)
    with pytest.raises(WrkTimeoutError):  # cold workers: the runner measures again, longer
        _parse_wrk(WRK_OUTPUT.format(errors=timeouts))
    for errors in (
        "  Socket errors: connect 0, read 3, write 0, timeout 0\n",
        "  Non-2xx or 3xx responses: 4\n" + timeouts,
    ):
        with pytest.raises(RuntimeError, match="errors under load") as raised:
            _parse_wrk(WRK_OUTPUT.format(errors=errors))
        assert raised.type is RuntimeError
