"""`vcred demo`: start the services, play the scenario, keep serving until Ctrl-C.

With ``check=True`` there is no terminal UI: the scenario runs, the services stop, one line
sums it up (and each unexpected step is named on stderr), and the return value says whether
every step had its expected outcome (`vcred demo --check`).
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vcred._demo import Outcome, play
from vcred_demo.cluster import OFFICER, Cluster, started
from vcred_demo.scenario import Story, steps

DEFAULT_BASE_PORT = 8100


def run(
    *,
    check: bool = False,
    data_dir: Path | None = None,
    base_port: int = DEFAULT_BASE_PORT,
    serve: bool = True,
) -> bool:
    """Run the cross-border demo; True if every step went as expected."""
    console = Console(quiet=check, emoji=False, highlight=False)
    for name in ("issuer_app", "verifier_app", "vcred_service"):
        logging.getLogger(name).setLevel(logging.ERROR)  # the demo reports for them
    folder = data_dir or Path(tempfile.mkdtemp(prefix="vcred-demo-"))
    console.rule("[bold]vcred · cross-border demo")
    began = time.perf_counter()
    try:
        with started(
            folder,
            base_port=base_port,
            progress=lambda text: console.print(f"[dim]· {escape(text)}[/]"),
        ) as cluster:
            outcomes = _play(console, cluster)
            if serve and not check:
                _print_urls(console, cluster)
                _wait_for_interrupt(console)
    finally:
        if data_dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    if check:
        _summarise(outcomes, time.perf_counter() - began)
    return all(outcome.expected for outcome in outcomes)


def _summarise(outcomes: list[Outcome], seconds: float) -> None:
    """`--check`'s output: one line, and each unexpected step on stderr."""
    unexpected = [outcome for outcome in outcomes if not outcome.expected]
    for outcome in unexpected:
        print(
            f"vcred demo: step {outcome.number} did not go as expected: {outcome.title}: "
            f"{outcome.detail}",
            file=sys.stderr,
        )
    if unexpected:
        print(f"vcred demo: {len(unexpected)} of {len(outcomes)} steps did not go as expected")
    else:
        print(f"vcred demo: all {len(outcomes)} steps as expected ({seconds:.0f} s)")


def _play(console: Console, cluster: Cluster) -> list[Outcome]:
    return play(console, steps(Story(cluster)), timed=True)


def _print_urls(console: Console, cluster: Cluster) -> None:
    table = Table(title="The services keep running — try them by hand")
    table.add_column("service")
    table.add_column("officer page")
    table.add_column("identity")
    for handle in cluster.issuers.values():
        table.add_row(f"{handle.agency.label} issuer", handle.url + "/", handle.agency.did)
    for verifier in cluster.verifiers.values():
        table.add_row(
            f"{verifier.agency.label} verifier", verifier.url + "/", "(public; history: sign-in)"
        )
    console.print(table)
    for note in cluster.moved:
        console.print(f"[bold yellow]Note:[/] {escape(note)}")
    # printed whole, outside the table, so they can be copied
    console.print("Issuer sign-in (officer pages) and API tokens for this run:")
    for handle in cluster.issuers.values():
        console.print(f"  {handle.agency.label}: user [bold]{OFFICER}[/]")
        console.print(f"    password {handle.officer_password}", soft_wrap=True)
        console.print(f"    API token {handle.token}", soft_wrap=True)
    console.print("Verifier sign-in (the history of verifications, /recent):")
    for verifier in cluster.verifiers.values():
        console.print(f"  {verifier.agency.label}: user [bold]{OFFICER}[/]")
        console.print(f"    password {verifier.officer_password}", soft_wrap=True)
    console.print(
        "The VC API of each service is described at [bold]/openapi.json[/]; "
        "did:web documents at /.well-known/did.json. Press Ctrl-C to stop."
    )


def _wait_for_interrupt(console: Console) -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        console.print("stopping")
