"""Several issuer processes on one database, and an issuer killed with SIGKILL mid-issue:
no status index is ever handed out twice, nothing issued is lost or duplicated, the audit
chain stays intact, and a retried request succeeds exactly once."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from issuer_app import create_app, issuer_of
from issuer_app.service import Issuer
from tests.issuer.conftest import BACKENDS, assert_consistent, dispose, table_prefix
from tests.issuer.workers import config_of, issue_many, request_for

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
PER_WORKER = 25


@pytest.mark.postgres
@pytest.mark.slow
def test_four_processes_issue_at_once_on_postgresql(tmp_path: Path) -> None:
    # small lists, so that the processes also race to open the next list
    spec = {
        "data_dir": str(tmp_path),
        "backend": "postgres",
        "prefix": table_prefix(),
        "capacity": 40,
    }
    ctx = multiprocessing.get_context("spawn")
    gate = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    processes = [
        ctx.Process(target=issue_many, args=(spec, worker, PER_WORKER, gate, results))
        for worker in range(WORKERS)
    ]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=120) for _ in processes]
        for process in processes:
            process.join(timeout=30)
        errors = [o for o in outcomes if isinstance(o, str)]
        assert errors == []
        issued = sorted(i for outcome in outcomes for i in outcome)
        assert len(issued) == len(set(issued)) == WORKERS * PER_WORKER

        service = Issuer.open_existing(config_of(spec))
        try:
            assert assert_consistent(service) == WORKERS * PER_WORKER
            creds = service.store.t.credentials
            with service.store.engine.connect() as conn:
                recorded = sorted(conn.execute(select(creds.c.credential_id)).scalars())
                keys = conn.execute(
                    select(func.count()).select_from(service.store.t.idempotency)
                ).scalar_one()
            assert recorded == issued  # none lost, none twice
            assert keys == WORKERS * PER_WORKER
            assert len(service.store.index.lists("revocation")) >= 3  # lists rolled over
            assert [k.kind for k in service.keyring().current].count("ed25519") == 1
        finally:
            service.store.drop_tables()
            service.close()
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()  # our own child, by handle
                process.join()


def _kill_mid_issue(spec: dict[str, Any], rng: random.Random) -> tuple[int, int]:
    """Run the looping issuer, SIGKILL it at a random moment; (last started, last done) as
    it printed them before it died."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.issuer.workers", json.dumps(spec)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    started = done = -1
    target = int(spec.get("start", 0)) + rng.randint(2, 10)

    def read(line: str) -> None:
        nonlocal started, done
        kind, _, number = line.strip().partition(" ")
        if kind == "start":
            started = int(number)
        elif kind == "done":
            done = int(number)
        else:
            raise AssertionError(line)

    try:
        for line in process.stdout:
            read(line)
            if line.startswith("start") and done >= target:
                # somewhere inside the next issuance: allocating, signing or committing
                time.sleep(rng.uniform(0.0, 0.008))
                os.kill(process.pid, signal.SIGKILL)
                break
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for line in process.stdout:  # what it printed between our read and its death
            read(line)
        process.stdout.close()
    return started, done


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_an_issuer_killed_mid_issue_leaves_a_consistent_store(tmp_path: Path, backend: str) -> None:
    spec = {"data_dir": str(tmp_path), "backend": backend, "prefix": table_prefix()}
    rng = random.Random()
    create = create_app(config_of(spec))  # set up once, so the kills land in issuing
    dispose(create, drop=False)
    next_number = 0
    try:
        for _ in range(2):
            started, done = _kill_mid_issue({**spec, "start": next_number}, rng)
            assert started in (done, done + 1)
            in_flight = done + 1  # killed while issuing it (or just before it started)
            app = create_app(config_of(spec))
            try:
                service = issuer_of(app)
                count = assert_consistent(service)
                assert count in (in_flight, in_flight + 1)  # the killed one: all or nothing
                client = app.test_client()
                body, headers = request_for(0, in_flight)
                first = client.post("/credentials/issue", json=body, headers=headers)
                retry = client.post("/credentials/issue", json=body, headers=headers)
                assert first.status_code == retry.status_code == 201
                assert retry.get_json() == first.get_json()
                assert retry.headers["Idempotent-Replayed"] == "true"
                assert assert_consistent(service) == in_flight + 1
                earlier, earlier_headers = request_for(0, 0)
                replay = client.post("/credentials/issue", json=earlier, headers=earlier_headers)
                assert replay.headers["Idempotent-Replayed"] == "true"
                next_number = in_flight + 1
            finally:
                dispose(app, drop=False)
    finally:
        last = create_app(config_of(spec))
        dispose(last, drop=backend == "postgres")
