"""A verifier worker killed (SIGKILL) right after answering loses no verification: gunicorn
starts another, which writes what the dead one had journaled and not yet written; every
verification answered ``200`` is in the audit chain exactly once, and the chain verifies.
On SQLite (in the data folder) and on PostgreSQL."""

from __future__ import annotations

import collections
import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.httpserver import free_port
from tests.service.test_several_machines import ROOT
from tests.verifier.conftest import PG_URL
from vcred import did_key, issue
from vcred.audit import verify_chain
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from verifier_app.receipts import input_digest
from verifier_app.storage import HISTORY_SPOOL, Storage

pytestmark = pytest.mark.slow

VERIFICATIONS = 20


class Verifier:
    """``gunicorn -w 1 'verifier_app:create_app()'``: a master and its one worker."""

    def __init__(self, tmp: Path, database_url: str, prefix: str) -> None:
        self.port = free_port()
        self.log = tmp / "verifier.log"
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("VCRED_") and name != "DATABASE_URL"
        }
        env.update(
            PYTHONPATH=str(ROOT),
            DATABASE_URL=database_url,
            VCRED_VERIFIER_DATA_DIR=str(tmp / "data"),
            VCRED_VERIFIER_TABLE_PREFIX=prefix,
            VCRED_VERIFIER_DOMAIN="verifier.example",
            VCRED_VERIFIER_RATE_PER_SECOND="0",
        )
        gunicorn = Path(sys.executable).parent / "gunicorn"
        command = [str(gunicorn), "-w", "1", "-b", f"127.0.0.1:{self.port}"]
        with self.log.open("w") as output:
            self.master = subprocess.Popen(
                [*command, "verifier_app:create_app()"],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def post(self, path: str, body: object) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            data = json.dumps(body).encode()
            connection.request("POST", path, data, {"Content-Type": "application/json"})
            answer = connection.getresponse()
            answer.read()
            return answer.status
        finally:
            connection.close()

    def worker(self) -> int:
        """The worker's process id (the master's one child)."""
        for _ in range(240):
            children = Path(f"/proc/{self.master.pid}/task/{self.master.pid}/children")
            found = children.read_text().split()
            if found:
                return int(found[0])
            time.sleep(0.25)
        raise AssertionError(f"no worker:\n{self.log.read_text()}")

    def wait_healthy(self) -> None:
        for _ in range(240):
            if self.master.poll() is not None:
                break
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                connection.close()
            time.sleep(0.25)
        raise AssertionError(f"the verifier did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.master.poll() is None:
            self.master.terminate()  # our own child, by handle
        try:
            self.master.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.master.kill()
            self.master.wait()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'verifier.db'}"
    return PG_URL


@pytest.fixture
def verifier(tmp_path: Path, database_url: str) -> Iterator[tuple[Verifier, Storage]]:
    prefix = f"k{secrets.token_hex(4)}_"
    running = Verifier(tmp_path, database_url, prefix)
    storage = Storage(database_url, prefix=prefix)  # the test's view: no spool of its own
    try:
        running.wait_healthy()
        yield running, storage
    finally:
        running.stop()
        storage.drop()
        storage.close()


def _credentials(count: int) -> list[str]:
    key = KeyPair.generate("ed25519")
    issuer = did_key(key.public)
    signer = signer_for(key, did=issuer)
    return [
        issue(
            {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiableCredential"],
                "issuer": issuer,
                "credentialSubject": {"id": "did:example:trader", "name": f"Trader {n}"},
            },
            signer=signer,
            format="vc+jwt",
        )
        for n in range(count)
    ]


def test_a_killed_worker_loses_no_answered_verification(
    verifier: tuple[Verifier, Storage], tmp_path: Path
) -> None:
    running, storage = verifier
    worker = running.worker()
    tokens = _credentials(VERIFICATIONS)
    answered = [
        token
        for token in tokens
        if running.post("/credentials/verify", {"verifiableCredential": token}) == 200
    ]
    # killed within the history's two seconds: nothing answered is written yet
    os.kill(worker, signal.SIGKILL)
    assert len(answered) == VERIFICATIONS
    assert storage.audit.head()[0] == 0
    assert [path.name for path in (tmp_path / "data" / HISTORY_SPOOL).glob("*/*.jsonl")]
    # gunicorn starts another worker: at its start it writes what the dead one journaled
    for _ in range(240):
        if running.worker() != worker:
            break
        time.sleep(0.25)
    running.wait_healthy()
    chain = list(storage.audit.entries())
    recorded = collections.Counter(entry["target"] for entry in chain)
    assert recorded == collections.Counter(input_digest(token) for token in answered)
    assert verify_chain(chain, expect_head=storage.audit.head()[1]).intact
    assert not list((tmp_path / "data" / HISTORY_SPOOL).glob("*/*.jsonl"))
