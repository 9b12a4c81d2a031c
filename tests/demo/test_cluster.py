"""Stopping the demo cluster closes what it started: servers, and each issuer and verifier
service behind them (their background threads, database engines, history spools)."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest

from vcred.customs import samples
from vcred_demo.cluster import started
from vcred_demo.http import post

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc (Linux)")


def _open_under(folder: Path) -> list[str]:
    """The files under ``folder`` this process holds open."""
    held = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue  # closed meanwhile (the listing's own descriptor)
        if target.startswith(f"{folder}/"):
            held.append(target)
    return held


def _alive_after(started_threads: set[threading.Thread], seconds: float) -> list[str]:
    """The names of ``started_threads`` still alive once each was given until the deadline."""
    deadline = time.monotonic() + seconds
    for thread in started_threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return sorted(thread.name for thread in started_threads if thread.is_alive())


def test_stop_leaves_no_thread_running_and_no_file_open(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    with started(tmp_path, base_port=0) as cluster:
        issuer, verifier = cluster.issuers["EU-AEO"], cluster.verifiers["JP-AEO"]
        certificate = {**samples.aeo_certificate("de-beispiel"), "id": f"urn:uuid:{uuid.uuid4()}"}
        issued = post(
            f"{issuer.url}/credentials/issue",
            {"credential": certificate, "options": {"format": "vc+jwt"}},
            token=issuer.token,
        )
        assert issued.status == 201, issued.body
        # a verification: its history is written by the verifier's flusher thread
        verified = post(
            f"{verifier.url}/credentials/verify",
            {"verifiableCredential": issued.body["verifiableCredential"]},
        )
        assert verified.status == 200, verified.body
        running = set(threading.enumerate()) - before
        names = {thread.name for thread in running}
        assert {"vcred-recognitions", "vcred-history-flush"} <= names
        assert _open_under(tmp_path)  # the services' databases
    assert _alive_after(running, 5.0) == []
    assert _open_under(tmp_path) == []
