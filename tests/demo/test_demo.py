"""`vcred demo --check`: the whole cross-border scenario over real HTTP, every step as expected."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_demo_check_exits_0() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "vcred.cli", "demo", "--check", "--base-port", "0"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "120"},
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    # no terminal UI, one line of summary
    assert re.fullmatch(r"vcred demo: all \d+ steps as expected \(\d+ s\)\n", completed.stdout)


def test_demo_steps_report_what_they_saw(tmp_path: object) -> None:
    from pathlib import Path

    from vcred_demo.cluster import started
    from vcred_demo.scenario import Story, steps

    with started(Path(str(tmp_path)), base_port=0) as cluster:
        outcomes = [(step.title, *step.run()) for step in steps(Story(cluster))]
    failed = [(title, detail) for title, ok, detail in outcomes if not ok]
    assert failed == []
    details = {title: detail for title, _, detail in outcomes}
    assert "REVOKED" in details["Revoked: the EU sees it"]
    assert (
        "takes effect on"
        in details[
            "A Mexican OEA credential is untrusted in the EU: the EU–Mexico arrangement "
            "(demo data) is signed, not yet in force"
        ]
    )
    assert (
        "ended on" in details["… and in Japan: the Japan–Mexico arrangement (demo data) has ended"]
    )
    assert (
        "list #2"
        in details["The US publishes list #2 pinning it; its verifier refreshes without a restart"]
    )
    assert (
        "withheld" in details["An export billing attestation, amounts withheld, verified in Japan"]
    )
    assert (
        "EU-AEO rec-"
        in details[
            "The US trader requests benefits in the EU and Japan from its wallet (OpenID4VP)"
        ]
    )
    said = details["The EU border asks about the trader's MID: recognised"]
    assert ": recognised · US-CTPAT TIER3 under urn:vcred:mra:eu-aeo:us-ctpat" in said
    assert (
        "SUSPENDED_BY_HOME_AGENCY"
        in details[
            "Within the freshness bound the EU border hears: not recognised, suspended at home"
        ]
    )


def test_the_demo_prints_every_sign_in_whole(tmp_path: object) -> None:
    from pathlib import Path

    from flask import Flask
    from rich.console import Console

    from vcred_demo.cluster import OFFICER, Cluster, IssuerHandle, VerifierHandle
    from vcred_demo.runner import _print_urls
    from vcred_demo.topology import AGENCIES

    cluster = Cluster(data_dir=Path(str(tmp_path)))
    unused = Flask(__name__)
    cluster.issuers["US"] = IssuerHandle(AGENCIES[0], "http://127.0.0.1:1", "vci_x", "i-pw", unused)
    cluster.verifiers["EU"] = VerifierHandle(AGENCIES[1], "http://127.0.0.1:2", "v-pw", unused)
    console = Console(record=True, width=50)
    _print_urls(console, cluster)
    text = console.export_text()
    assert "Verifier sign-in" in text and f"user {OFFICER}" in text
    assert "password v-pw" in text and "password i-pw" in text
