"""`python -m fuzz [TARGET ...] [--seconds N]`: run atheris on each target for a bounded time.

Not part of `make test` (it is open-ended by nature); `make fuzz` runs every target for 60 s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from fuzz.targets import TARGETS

CORPUS = Path(__file__).parent / "corpus"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz")
    known = sorted(TARGETS)
    parser.add_argument("targets", nargs="*", default=known, help="one of: " + ", ".join(known))
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--one", choices=known, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # not `choices` on the positional: argparse 3.11 checks a nargs="*" default list against them
    unknown = [name for name in args.targets if name not in TARGETS]
    if unknown:
        parser.error(f"unknown target {', '.join(unknown)} (choose from {', '.join(known)})")
    if args.one:
        return _run_one(args.one, args.seconds)
    failed = []
    for name in args.targets:
        print(f"== fuzzing {name} for {args.seconds} s", flush=True)
        code = subprocess.call(
            [sys.executable, "-m", "fuzz", "--one", name, "--seconds", str(args.seconds)]
        )
        if code:
            failed.append(name)
    print("crashes in: " + ", ".join(failed) if failed else "no crashes")
    return 1 if failed else 0


def _run_one(name: str, seconds: int) -> int:
    import atheris

    from fuzz.seeds import write_seeds
    from fuzz.targets import guarded

    target = TARGETS[name]
    corpus = CORPUS / name
    write_seeds(name, corpus)
    run = target if name == "verify" else guarded(target)
    atheris.instrument_all()  # coverage feedback from every loaded module (vcred included)
    atheris.Setup(
        [
            sys.argv[0],
            str(corpus),
            f"-max_total_time={seconds}",
            "-rss_limit_mb=2048",
            "-max_len=4096",
        ],
        run,
    )
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
