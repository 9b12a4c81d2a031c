"""Issuer processes for the concurrency tests: started with multiprocessing (``issue_many``)
or as a subprocess that is killed mid-issue (``python -m tests.issuer.workers``)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from issuer_app import create_app, issuer_of
from tests.issuer.conftest import credential, make_config


def config_of(spec: dict[str, Any]) -> Any:
    return make_config(
        Path(spec["data_dir"]),
        spec["backend"],
        table_prefix=spec["prefix"],
        insecure_no_auth=True,
        status_list_capacity=spec.get("capacity", 131072),
    )


def request_for(worker: int, number: int) -> tuple[dict[str, Any], dict[str, str]]:
    """The n-th request of a worker: its body and its Idempotency-Key (fixed, for retries)."""
    document = credential(id=f"urn:uuid:00000000-0000-4000-8000-{worker:04d}{number:08d}")
    document["credentialSubject"] = {"id": f"did:example:{worker}-{number}", "name": "Worker"}
    return {"credential": document}, {"Idempotency-Key": f"w{worker}-{number}"}


def issue_many(spec: dict[str, Any], worker: int, count: int, gate: Any, results: Any) -> None:
    """Start an issuer (all workers at once: the first start races too), then issue ``count``
    credentials, each request sent twice (a client retrying with its Idempotency-Key)."""
    try:
        gate.wait()
        app = create_app(config_of(spec))
        client = app.test_client()
        gate.wait()
        answers = []
        for number in range(count):
            body, headers = request_for(worker, number)
            first = client.post("/credentials/issue", json=body, headers=headers)
            retry = client.post("/credentials/issue", json=body, headers=headers)
            if first.status_code != 201 or retry.get_json() != first.get_json():
                raise AssertionError(f"{first.status_code} {first.get_data(as_text=True)[:300]}")
            answers.append(body["credential"]["id"])
        issuer_of(app).close()
        results.put(answers)
    except BaseException as exc:
        results.put(f"worker {worker}: {exc!r}")
        raise


def loop_until_killed(spec: dict[str, Any]) -> None:
    """Issue forever, saying ``start N`` / ``done N`` around each request; signing is slowed a
    little so that a kill at a random moment often lands inside the transaction."""
    from issuer_app import service

    real_secure = service.secure

    def slow_secure(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.003)
        return real_secure(*args, **kwargs)

    service.secure = slow_secure  # type: ignore[assignment]
    app = create_app(config_of(spec))
    client = app.test_client()
    number = int(spec.get("start", 0))
    while True:
        body, headers = request_for(0, number)
        print(f"start {number}", flush=True)
        answer = client.post("/credentials/issue", json=body, headers=headers)
        if answer.status_code != 201:
            print(f"failed {number} {answer.status_code}", flush=True)
            return
        print(f"done {number}", flush=True)
        number += 1


if __name__ == "__main__":
    loop_until_killed(json.loads(sys.argv[1]))
