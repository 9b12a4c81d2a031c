"""`make bench`: run every benchmark in one process and print medians and ratios."""

from __future__ import annotations

import os
import platform
import sys

from bench import (
    bench_batch,
    bench_jose,
    bench_services,
    bench_targets_di,
    bench_targets_status,
)
from bench.harness import Row, format_table

SUITES = [bench_jose, bench_targets_di, bench_targets_status, bench_batch, bench_services]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{python} · {os.cpu_count()} cores · {cpu}"


def main() -> int:
    rows: list[Row] = []
    for suite in SUITES:
        print(f"running {suite.__name__} …", file=sys.stderr, flush=True)
        rows.extend(suite.rows())
    print(f"machine: {machine()}")
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
