"""Service processes that start at once on a fresh database, round after round (spawned by
tests/service/test_first_start.py): what each start saw, or the error that stopped it."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def start(service: str, backend: str, data_dir: Path, prefix: str) -> dict[str, Any]:
    """Start one app as a gunicorn worker would (the app factory) and close it again; with
    the OAuth token endpoint on, so that every table a worker may create is made at once."""
    from vcred_service.oauth import OAuthConfig

    oauth = OAuthConfig(audience=f"https://{service}.example", token_endpoint=True)
    if service == "issuer":
        from issuer_app import create_app, issuer_of
        from tests.issuer.conftest import PG_URL, make_config

        extra = {"database_url": PG_URL, "table_prefix": prefix} if backend == "postgres" else {}
        app = create_app(make_config(data_dir, "sqlite", oauth=oauth, **extra))
        issuer = issuer_of(app)
        seen = {"first": issuer.first_start, "secret": issuer.session_secret()}
        issuer.close()
        return seen
    from tests.verifier.conftest import PG_URL as VERIFIER_PG
    from verifier_app import VerifierConfig
    from verifier_app import create_app as create_verifier

    options: dict[str, Any] = {"data_dir": data_dir, "rate_per_second": 0, "oauth": oauth}
    if backend == "postgres":
        options.update(database_url=VERIFIER_PG, table_prefix=prefix)
    app = create_verifier(VerifierConfig(**options))
    seen = {"first": None, "secret": app.config["SECRET_KEY"]}
    app.extensions["vcred_verifier"].close()
    return seen


def start_rounds(
    service: str, backend: str, rounds: list[tuple[str, str]], gate: Any, results: Any
) -> None:
    """For each (data folder, table prefix): wait for the others, start, say what happened."""
    for data_dir, prefix in rounds:
        gate.wait()
        try:
            results.put(start(service, backend, Path(data_dir), prefix))
        except BaseException as exc:
            results.put({"error": repr(exc)})
