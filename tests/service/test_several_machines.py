"""Two issuer processes and two verifier processes (gunicorn, as on four machines) on one
PostgreSQL database, under concurrent load: threads issue at either issuer and verify at
either verifier; a challenge made by one verifier is answered at the other (once); a
revocation sent to one issuer is seen through the other. Afterwards nothing is lost or
duplicated: every credential recorded once with its own status indexes, the audit chain
intact, one history row per verification, every challenge used exactly once."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from issuer_app import IssuerConfig
from issuer_app.service import Issuer
from tests.httpserver import free_port
from tests.issuer.conftest import assert_consistent
from vcred import did_key, present
from vcred.keys import KeyPair
from verifier_app.storage import Storage

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ISSUER_DOMAIN = "customs.example"
ISSUER_DID = f"did:web:{ISSUER_DOMAIN}"
VERIFIER_DOMAIN = "verifier.customs.example"
PASSPHRASE = "correct horse battery staple"  # a test passphrase, not a secret
THREADS = 6
ROUNDS = 8  # per thread: issue, verify, challenge at one verifier and answer at the other


@dataclass
class Machine:
    """One service process: gunicorn with one worker and threads, on a port of its own."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=data, headers=headers)
            answer = connection.getresponse()
            return answer.status, json.loads(answer.read() or b"null")
        finally:
            connection.close()


@dataclass
class Cluster:
    issuers: list[Machine]
    verifiers: list[Machine]
    issuer_prefix: str
    verifier_prefix: str
    tmp: Path
    token: str = ""
    stopped: list[Machine] = field(default_factory=list)


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("VCRED_") and name != "DATABASE_URL"
    }
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=PG_URL, **extra)
    return env


def _start(name: str, app: str, env: dict[str, str], tmp: Path) -> Machine:
    port = free_port()
    log = tmp / f"{name}.log"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn), "-w", "1", "--threads", "4", "-b", f"127.0.0.1:{port}", app]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, env=_environment(env), stdout=output, stderr=subprocess.STDOUT
        )
    return Machine(name, port, process, log)


def _wait_healthy(machine: Machine) -> None:
    for _ in range(240):
        if machine.process.poll() is not None:
            break
        try:
            status, _ = machine.call("GET", "/health")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"{machine.name} did not start:\n{machine.log.read_text()}")


def _issuer_config(cluster: Cluster) -> IssuerConfig:
    return IssuerConfig(
        data_dir=cluster.tmp / "admin",
        database_url=PG_URL,
        table_prefix=cluster.issuer_prefix,
        passphrase=PASSPHRASE,
        domain=ISSUER_DOMAIN,
        public_url=f"https://{ISSUER_DOMAIN}",
    )


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    issuer_prefix = f"m{secrets.token_hex(4)}_"
    verifier_prefix = f"v{secrets.token_hex(4)}_"
    issuer_env = {
        "VCRED_ISSUER_PASSPHRASE": PASSPHRASE,
        "VCRED_ISSUER_TABLE_PREFIX": issuer_prefix,
        "VCRED_ISSUER_DOMAIN": ISSUER_DOMAIN,
        "VCRED_ISSUER_PUBLIC_URL": f"https://{ISSUER_DOMAIN}",
        "VCRED_ISSUER_STATUS_TTL": "0",  # every verification reads the list as it is now
    }
    # both issuers start at once on the fresh database (its first start races too)
    issuers = [
        _start(
            f"issuer{n}",
            "issuer_app:create_app()",
            {**issuer_env, "VCRED_ISSUER_DATA_DIR": str(tmp_path / f"issuer{n}")},
            tmp_path,
        )
        for n in range(2)
    ]
    machines = list(issuers)
    try:
        for machine in issuers:
            _wait_healthy(machine)
        verifiers = []
        for n in range(2):
            # each verifier reads the did:web and the status lists from "its" issuer
            verifiers.append(
                _start(
                    f"verifier{n}",
                    "verifier_app:create_app()",
                    {
                        "VCRED_VERIFIER_DATA_DIR": str(tmp_path / f"verifier{n}"),
                        "VCRED_VERIFIER_TABLE_PREFIX": verifier_prefix,
                        "VCRED_VERIFIER_DOMAIN": VERIFIER_DOMAIN,
                        "VCRED_VERIFIER_HOST_MAP": f"{ISSUER_DOMAIN}={issuers[n].origin}",
                        "VCRED_VERIFIER_RATE_PER_SECOND": "0",
                        "VCRED_VERIFIER_STATUS_CACHE_TTL": "0",
                        "VCRED_VERIFIER_HISTORY_SIZE": "100000",
                    },
                    tmp_path,
                )
            )
        machines += verifiers
        for machine in verifiers:
            _wait_healthy(machine)
        running = Cluster(issuers, verifiers, issuer_prefix, verifier_prefix, tmp_path)
        admin = Issuer.open_existing(_issuer_config(running))
        try:
            running.token = admin.create_token(("issue", "status"), actor="test").token
        finally:
            admin.close()
        yield running
    finally:
        for machine in machines:
            if machine.process.poll() is None:
                machine.process.terminate()  # our own child, by handle
        for machine in machines:
            try:
                machine.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                machine.process.kill()
                machine.process.wait()
        _drop(issuer_prefix, verifier_prefix)


def _drop(issuer_prefix: str, verifier_prefix: str) -> None:
    from issuer_app.store.records import IssuerStore

    store = IssuerStore(PG_URL, prefix=issuer_prefix)
    store.drop_tables()
    store.close()
    storage = Storage(PG_URL, prefix=verifier_prefix)
    storage.drop()
    storage.close()


@dataclass
class Tally:
    issued: list[str] = field(default_factory=list)
    enveloped: dict[str, Any] = field(default_factory=dict)
    verifications: int = 0
    presentations: int = 0
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _credential(holder: str) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": f"urn:uuid:{secrets.token_hex(4)}-0000-4000-8000-{secrets.token_hex(6)}",
        "type": ["VerifiableCredential"],
        "issuer": ISSUER_DID,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": holder, "name": "Harbour Lights Trading"},
    }


def _round(cluster: Cluster, tally: Tally, thread: int, number: int, holder: KeyPair) -> None:
    """Issue at one issuer, verify at one verifier, present with a challenge of the other."""
    issuer = cluster.issuers[(thread + number) % 2]
    first, other = cluster.verifiers[number % 2], cluster.verifiers[(number + 1) % 2]
    document = _credential(did_key(holder.public))
    status, body = issuer.call(
        "POST", "/credentials/issue", {"credential": document}, token=cluster.token
    )
    if status != 201:
        raise AssertionError(f"{issuer.name} issue: {status} {body}")
    enveloped = body["verifiableCredential"]
    with tally.lock:
        tally.issued.append(document["id"])
        tally.enveloped[document["id"]] = enveloped
    status, verdict = first.call("POST", "/credentials/verify", {"verifiableCredential": enveloped})
    with tally.lock:
        tally.verifications += 1
    if status != 200 or not verdict["verified"]:
        raise AssertionError(f"{first.name} verify: {status} {verdict}")
    status, made = first.call("POST", "/challenges")
    if status != 201:
        raise AssertionError(f"{first.name} challenge: {status} {made}")
    token = enveloped["id"].split(",", 1)[1]
    vp = present(
        [token],
        holder,
        challenge=made["challenge"],
        domain=VERIFIER_DOMAIN,
        now=datetime.now(UTC),
    )
    request = {
        "verifiablePresentation": vp,
        "options": {"challenge": made["challenge"], "domain": VERIFIER_DOMAIN},
    }
    status, verdict = other.call("POST", "/presentations/verify", request)
    with tally.lock:
        tally.presentations += 1
    if status != 200 or not verdict["verified"]:
        raise AssertionError(f"{other.name} presentation: {status} {verdict}")


def _thread(cluster: Cluster, tally: Tally, thread: int) -> None:
    holder = KeyPair.generate("ed25519")
    for number in range(ROUNDS):
        try:
            _round(cluster, tally, thread, number, holder)
        except (AssertionError, OSError) as exc:
            with tally.lock:
                tally.failures.append(f"thread {thread} round {number}: {exc}"[:2000])


def test_two_issuers_and_two_verifiers_share_one_database_under_load(cluster: Cluster) -> None:
    tally = Tally()
    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(_thread, cluster, tally, n) for n in range(THREADS)]:
            future.result()
    assert tally.failures == []
    total = THREADS * ROUNDS
    assert len(tally.issued) == len(set(tally.issued)) == total

    # a challenge answered once is used up at every machine
    status, made = cluster.verifiers[0].call("POST", "/challenges")
    holder = KeyPair.generate("ed25519")
    document = _credential(did_key(holder.public))
    _, body = cluster.issuers[0].call(
        "POST", "/credentials/issue", {"credential": document}, token=cluster.token
    )
    tally.issued.append(document["id"])
    token = body["verifiableCredential"]["id"].split(",", 1)[1]
    vp = present([token], holder, challenge=made["challenge"], domain=VERIFIER_DOMAIN)
    request = {
        "verifiablePresentation": vp,
        "options": {"challenge": made["challenge"], "domain": VERIFIER_DOMAIN},
    }
    answers = [
        machine.call("POST", "/presentations/verify", request)
        for machine in (cluster.verifiers[1], cluster.verifiers[0])
    ]
    assert answers[0][0] == 200 and answers[0][1]["verified"] is True
    assert answers[1][1]["verified"] is False  # the replay, at the other machine
    tally.presentations += 2

    # revocations sent to one issuer are seen through the other (and by both verifiers)
    revoked = tally.issued[: total // 4]
    for number, credential_id in enumerate(revoked):
        status, body = cluster.issuers[number % 2].call(
            "POST",
            "/credentials/status",
            {
                "credentialId": credential_id,
                "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
            },
            token=cluster.token,
        )
        assert status == 200, body
    for number, credential_id in enumerate(tally.issued[: total // 2]):
        verifier = cluster.verifiers[number % 2]
        status, verdict = verifier.call(
            "POST", "/credentials/verify", {"verifiableCredential": tally.enveloped[credential_id]}
        )
        tally.verifications += 1
        codes = [problem["code"] for problem in verdict.get("problemDetails", [])]
        if credential_id in revoked:
            assert verdict["verified"] is False and "REVOKED" in codes, verdict
        else:
            assert verdict["verified"] is True, verdict

    # the issuers' shared records: none lost, none twice, the chain intact
    admin = Issuer.open_existing(_issuer_config(cluster))
    try:
        assert assert_consistent(admin) == len(tally.issued)
        credentials = admin.store.t.credentials
        with admin.store.engine.connect() as conn:
            recorded = sorted(conn.execute(select(credentials.c.credential_id)).scalars())
            statuses = dict(
                conn.execute(
                    select(credentials.c.status, func.count()).group_by(credentials.c.status)
                ).all()
            )
        assert recorded == sorted(tally.issued)
        assert statuses.get("revoked") == len(revoked)
        actions = [entry["action"] for entry in admin.store.audit_entries()]
        assert actions.count("status-revoked") == len(revoked)
        assert actions.count("initialise") == 1  # the two issuers started at once
        assert len(admin.store.key_rows()) == len(admin.config.key_types)
    finally:
        admin.close()

    # the verifiers' shared history and challenges
    storage = Storage(PG_URL, prefix=cluster.verifier_prefix)
    try:
        expected = tally.verifications + tally.presentations
        table, challenges = storage.verifications, storage.challenges
        count = select(func.count()).select_from(table)
        found = 0
        for _ in range(60):  # each worker writes its history every 2 s
            with storage.engine.connect() as conn:
                found = conn.execute(count).scalar_one()
            if found >= expected:
                break
            time.sleep(0.5)
        assert found == expected
        with storage.engine.connect() as conn:
            used = conn.execute(select(func.count(challenges.c.used_at))).scalar_one()
            made = conn.execute(select(func.count()).select_from(challenges)).scalar_one()
        assert used == made == THREADS * ROUNDS + 1
    finally:
        storage.close()
    for machine in [*cluster.issuers, *cluster.verifiers]:
        log = machine.log.read_text()
        assert "Traceback" not in log and "Exception in worker" not in log, log
