"""``vcred serve verifier``: one agency's verifier on this machine, with embedded defaults.

SQLite in the data folder, no trust list unless given (trust then reported as not
evaluated), the threaded development server on loopback. The ``VCRED_VERIFIER_*`` variables
gunicorn reads apply here too; an option given on the command line wins. Production runs the
same app under gunicorn (see docs/services.md).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import click

from vcred.errors import VcredError
from vcred_service.config_file import config_file_option, duration
from vcred_service.runner import serve_forever
from verifier_app.app import DEV_WARNING, create_app
from verifier_app.config import (
    DEFAULT_DATA_DIR,
    DEFAULT_DOMAIN,
    VerifierConfig,
    parse_host_map,
)


@click.command("verifier")
@config_file_option
@click.option("--port", type=click.IntRange(0, 65535), default=8200, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option(
    "--trust-list",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the agency's signed MRATrustListCredential (JSON or a compact JWS)",
)
@click.option(
    "--trust-issuer", help="the trust anchor: the DID that must have signed the trust list"
)
@click.option(
    "--trust-method",
    help="the anchor's trust-list key (a DID URL or #fragment) [default: its #trust-list-… key]",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"SQLite database and instance files [default: ./{DEFAULT_DATA_DIR}]",
)
@click.option("--domain", help="what presentations must be bound to [default: localhost:PORT]")
@click.option("--name", help="the service name shown to officers")
@click.option("--dev", is_flag=True, help="fetch over http and from private addresses (DANGER)")
@click.option(
    "--host-map",
    multiple=True,
    metavar="HOST=ORIGIN",
    help="send a did:web host to a local origin, e.g. us.example=http://127.0.0.1:8101",
)
@click.option("--offline", is_flag=True, help="never fetch: answer from the caches")
@click.option(
    "--contexts-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="JSON-LD contexts known beyond the bundled ones, pinned in its contexts.json",
)
@click.option(
    "--allow-inline-contexts",
    is_flag=True,
    help="accept inline @context objects that do not change what was signed",
)
@click.option(
    "--allow-caller-challenges",
    is_flag=True,
    help="also accept presentations bound to the caller's options.challenge (not single-use "
    "here: for API clients with their own challenge store)",
)
@click.option(
    "--status-max-age",
    metavar="SECONDS",
    help="oldest status list that may answer when it cannot be fetched again "
    "[default: 86400; env: VCRED_VERIFIER_STATUS_MAX_AGE]",
)
@click.option(
    "--database-url",
    envvar="DATABASE_URL",
    help="SQLAlchemy URL, e.g. postgresql://user@host/db [env: DATABASE_URL]",
)
def command(
    port: int,
    host: str,
    trust_list: Path | None,
    trust_issuer: str | None,
    trust_method: str | None,
    data_dir: Path | None,
    domain: str | None,
    name: str | None,
    dev: bool,
    host_map: tuple[str, ...],
    offline: bool,
    contexts_dir: Path | None,
    allow_inline_contexts: bool,
    allow_caller_challenges: bool,
    status_max_age: str | None,
    database_url: str | None,
) -> None:
    """Run the verifier service (VC API and officer UI)."""
    given: dict[str, Any] = {
        "data_dir": data_dir,
        "trust_list": trust_list,
        "trust_issuer": trust_issuer,
        "trust_method": trust_method,
        "domain": domain,
        "service_name": name,
        "database_url": database_url,
        "contexts_dir": contexts_dir,
    }
    try:
        config = VerifierConfig.from_env()
        changes = {key: value for key, value in given.items() if value is not None}
        if dev:
            changes["dev"] = True
        if offline:
            changes["offline"] = True
        if allow_inline_contexts:
            changes["allow_inline_contexts"] = True
        if allow_caller_challenges:
            changes["allow_caller_challenges"] = True
        if status_max_age is not None:
            changes["status_max_age"] = duration("--status-max-age", status_max_age)
        if host_map:
            changes["host_map"] = {**config.host_map, **parse_host_map(host_map)}
        if domain is None and config.domain == DEFAULT_DOMAIN:
            changes["domain"] = f"localhost:{port}"  # what this server is reached as
        config = dataclasses.replace(config, **changes)
        if config.dev:
            click.secho(f"WARNING: {DEV_WARNING}", fg="red", bold=True, err=True)
        app = create_app(config)
    except VcredError as exc:
        click.echo(f"vcred: the verifier cannot start: {exc.code}: {exc}", err=True)
        sys.exit(2)
    service = app.extensions["vcred_verifier"]
    trust = service.trust_summary()
    click.echo(f"{service.service_name}")
    click.echo(f"  http://{host}:{port}/  (officer UI; VC API at /credentials/verify)")
    click.echo(f"  domain for presentations: {config.domain}")
    if config.allow_caller_challenges:
        click.echo("  caller-supplied challenges accepted: they are not single-use here")
    if trust is None:
        click.echo("  no trust list: issuer trust is reported as not evaluated")
    else:
        click.echo(
            f"  trust list of {trust['authority']} ({trust['programme']}): "
            f"{trust['recognisedIssuers']} recognised issuers"
        )
    click.echo(f"  storage: {_redacted(config.storage_url)}")
    if config.offline:
        click.echo("  OFFLINE: nothing is fetched; answers come from the caches")
    serve_forever(app, host=host, port=port)


def _redacted(url: str) -> str:
    """A database URL without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, location = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{location}" if ":" in credentials else url
