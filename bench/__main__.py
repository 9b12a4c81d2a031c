"""`make bench`: run every benchmark in one process and print medians and ratios.

``python -m bench --quick`` prints the same rows from few, short rounds (tests/test_bench.py):
for checking the runner, not for figures.
"""

from __future__ import annotations

import os
import platform
import sys

from bench import (
    bench_batch,
    bench_jose,
    bench_peers,
    bench_services,
    bench_targets_di,
    bench_targets_status,
)
from bench.harness import QUICK_ENV, Row, format_table

SUITES = [
    bench_jose,
    bench_targets_di,
    bench_peers,
    bench_targets_status,
    bench_batch,
    bench_services,
]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{python} · {os.cpu_count()} cores · {cpu}"


def main(argv: list[str]) -> int:
    if argv not in ([], ["--quick"]):
        print("usage: python -m bench [--quick]", file=sys.stderr)
        return 2
    if argv:
        os.environ[QUICK_ENV] = "1"  # the services' subprocesses inherit it
    rows: list[Row] = []
    for suite in SUITES:
        print(f"running {suite.__name__} …", file=sys.stderr, flush=True)
        rows.extend(suite.rows())
    print(f"machine: {machine()}")
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
