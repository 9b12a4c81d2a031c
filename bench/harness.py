"""Timing helpers and the result table: medians of batches, ratios against floors."""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

QUICK_ENV = "VCRED_BENCH_QUICK"


def quick() -> bool:
    """Quick mode (``python -m bench --quick``): every row, few and short rounds.

    For checking that the runner prints its whole table (tests/test_bench.py), not for figures.
    """
    return os.environ.get(QUICK_ENV, "") not in ("", "0")


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the report: an operation, its median, what it is compared with."""

    name: str
    median_us: float
    baseline: str = ""
    baseline_us: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""
    #: a rate compared with a rate (target "≥ …"): the ratio is baseline time / our time
    rate: bool = False

    @property
    def ratio(self) -> float | None:
        """The figure the target speaks of: time over time, or rate over rate."""
        if self.baseline_us is None or self.baseline_us == 0 or self.median_us == 0:
            return None
        if self.rate:
            return self.baseline_us / self.median_us
        return self.median_us / self.baseline_us


def measure(
    fn: Callable[[], object], *, batches: int = 7, min_batch_seconds: float = 0.05
) -> float:
    """Median microseconds per call over ``batches`` batches (batch size auto-scaled)."""
    if quick():
        batches, min_batch_seconds = min(batches, 3), min(min_batch_seconds, 0.005)
    fn()
    number = 1
    while True:
        started = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - started
        if elapsed >= min_batch_seconds or number >= 1 << 20:
            break
        number *= 2
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        samples = []
        for _ in range(batches):
            started = time.perf_counter()
            for _ in range(number):
                fn()
            samples.append((time.perf_counter() - started) / number * 1e6)
    finally:
        if gc_was_enabled:
            gc.enable()
    return statistics.median(samples)


def interleaved(
    fns: dict[str, Callable[[], object]], *, rounds: int = 5, min_batch_seconds: float = 0.04
) -> dict[str, float]:
    """Measure several functions in alternating rounds so load changes hit them alike."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    if quick():
        rounds, min_batch_seconds = min(rounds, 2), min(min_batch_seconds, 0.005)
    for _ in range(rounds):
        for name, fn in fns.items():
            samples[name].append(measure(fn, batches=3, min_batch_seconds=min_batch_seconds))
    return {name: statistics.median(values) for name, values in samples.items()}


def format_table(rows: list[Row]) -> str:
    header = f"{'operation':<52} {'median':>12} {'baseline':>12} {'ratio':>7}  {'target':<14} met"
    lines = [header, "-" * len(header)]
    for row in rows:
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else ""
        base = _fmt(row.baseline_us) if row.baseline_us is not None else ""
        met = {True: "met", False: "not met", None: ""}[row.met]
        median = _fmt(row.median_us)
        lines.append(f"{row.name:<52} {median:>12} {base:>12} {ratio:>7}  {row.target:<14} {met}")
        if row.baseline:
            lines.append(f"    baseline: {row.baseline}")
        if row.note:
            lines.append(f"    {row.note}")
    return "\n".join(lines)


def _fmt(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.2f} s"
    if us >= 1000:
        return f"{us / 1000:.2f} ms"
    return f"{us:.1f} µs"
