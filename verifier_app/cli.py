"""``vcred serve verifier`` (``command``): one agency's verifier on this machine, with embedded
defaults; ``vcred verifier …`` (``admin``): its officer accounts.

SQLite in the data folder, no trust list unless given (trust then reported as not
evaluated), the threaded development server on loopback. The ``VCRED_VERIFIER_*`` variables
gunicorn reads apply here too; an option given on the command line wins. Production runs the
same app under gunicorn (see docs/services.md).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from vcred import audit
from vcred.errors import VcredError
from vcred.net import host_map_of
from vcred.status.listcred import format_datetime as stamp
from vcred.verifier import utc_now
from vcred_service.commands import StorageCommands, storage_failure_said
from vcred_service.config_file import config_file_option, duration
from vcred_service.db import describe_failure, redacted_url
from vcred_service.oauth_cli import client_group
from vcred_service.oauth_clients import OAuthClients, Recorder
from vcred_service.officers import OfficerAccounts
from vcred_service.passwords import read_new_password
from vcred_service.registry import use_registry_from_env
from vcred_service.runner import listen, serve_forever, writable_folder
from verifier_app.api import VERIFY_SCOPE
from verifier_app.app import DEV_WARNING, create_app
from verifier_app.config import (
    DEFAULT_DATA_DIR,
    DEFAULT_DOMAIN,
    VerifierConfig,
)
from verifier_app.recognition_views import RECOGNITIONS_SCOPE
from verifier_app.service import VerifierService
from verifier_app.storage import HISTORY_SPOOL, Storage

F = TypeVar("F", bound=Callable[..., Any])


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
    "--trust-list-url",
    "trust_list_urls",
    multiple=True,
    metavar="URL",
    help="where the anchor's agency publishes its trust list (refreshed before nextUpdate); "
    "repeat for mirrors",
)
@click.option(
    "--trust-grace",
    metavar="SECONDS",
    help="how long past nextUpdate a list still decides [default: 3600]",
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
    "--bearer-type",
    "bearer_types",
    multiple=True,
    metavar="TYPE",
    help="a credential type anyone may present (no holder binding; never a customs type)",
)
@click.option(
    "--database-url",
    envvar="DATABASE_URL",
    help="SQLAlchemy URL, e.g. postgresql://user@host/db [env: DATABASE_URL]",
)
@storage_failure_said("vcred: the verifier cannot start")  # as when it cannot be opened
def command(
    port: int,
    host: str,
    trust_list: Path | None,
    trust_issuer: str | None,
    trust_method: str | None,
    trust_list_urls: tuple[str, ...],
    trust_grace: str | None,
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
    bearer_types: tuple[str, ...],
    database_url: str | None,
) -> None:
    """Run the verifier service (VC API and officer UI)."""
    try:
        sock = listen(host, port)  # first: a busy port stops the start before anything is written
    except VcredError as exc:
        _cannot_start(exc)
    port = sock.getsockname()[1]  # --port 0: the one the system chose
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
            changes["host_map"] = {**config.host_map, **host_map_of(host_map)}
        if bearer_types:
            changes["bearer_types"] = frozenset(bearer_types)
        if trust_list_urls:
            changes["trust_list_urls"] = trust_list_urls
        if trust_grace is not None:
            changes["trust_grace"] = duration("--trust-grace", trust_grace)
        if domain is None and config.domain == DEFAULT_DOMAIN:
            changes["domain"] = f"localhost:{port}"  # what this server is reached as
        config = dataclasses.replace(config, **changes)
        if config.dev:
            click.secho(f"WARNING: {DEV_WARNING}", fg="red", bold=True, err=True)
        writable_folder(config.data_dir)
        app = create_app(config)
    except VcredError as exc:
        sock.close()
        _cannot_start(exc)
    except SQLAlchemyError as exc:
        sock.close()
        click.echo(f"vcred: the verifier cannot start: {describe_failure(exc)}", err=True)
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
    click.echo(f"  storage: {redacted_url(config.storage_url)}")
    if config.offline:
        click.echo("  OFFLINE: nothing is fetched; answers come from the caches")
    serve_forever(app, host=host, port=port, sock=sock)


def _cannot_start(error: VcredError) -> NoReturn:
    click.echo(f"vcred: the verifier cannot start: {error.code}: {error}", err=True)
    sys.exit(2)


# -- administration: vcred verifier … ------------------------------------------------------------


def _admin_options(function: F) -> F:
    function = click.option(
        "--database-url",
        envvar="DATABASE_URL",
        help="SQLAlchemy URL [env: DATABASE_URL; default: SQLite in DIR]",
    )(function)
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help=f"the verifier's data folder [default: ./{DEFAULT_DATA_DIR}]",
    )(function)


def _storage(data_dir: Path | None, database_url: str | None) -> Storage:
    """The verifier's storage for ``data_dir`` / ``database_url`` (tables made if missing)."""
    try:
        config = VerifierConfig.from_env()
        given: dict[str, Any] = {"data_dir": data_dir, "database_url": database_url}
        config = dataclasses.replace(config, **{k: v for k, v in given.items() if v is not None})
        config.data_dir.mkdir(parents=True, exist_ok=True)
        # the spool too: an export includes what a killed worker had not written
        storage = Storage(
            config.storage_url,
            prefix=config.table_prefix,
            spool=config.data_dir / HISTORY_SPOOL,
        )
        storage.create()
    except VcredError as exc:
        click.echo(f"vcred verifier: {exc.message}", err=True)
        sys.exit(2)
    except SQLAlchemyError as exc:  # an unreachable or unusable database: said in one line
        click.echo(f"vcred verifier: {describe_failure(exc)}", err=True)
        sys.exit(2)
    return storage


class _Commands(StorageCommands):
    """``vcred verifier …``: a database lost midway is one line (``vcred verifier: …``)."""

    said_as = "vcred verifier"


@click.group("verifier", cls=_Commands)
def admin() -> None:
    """Administer a verifier: the officer accounts that may read its history."""


@contextmanager
def _clients(
    data_dir: Path | None, database_url: str | None
) -> Iterator[tuple[OAuthClients, Recorder | None]]:
    storage = _storage(data_dir, database_url)
    try:
        yield OAuthClients(storage.engine, prefix=storage.prefix), None
    finally:
        storage.close()


admin.add_command(
    client_group(
        service="verifier",
        commands=_Commands,
        opener=_clients,
        options=_admin_options,
        scopes=(VERIFY_SCOPE, RECOGNITIONS_SCOPE),
        default_scopes=VERIFY_SCOPE,
    )
)


@admin.group()
def officer() -> None:
    """Officer accounts (the history of verifications is theirs to read)."""


@officer.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="read the password from stdin")
@_admin_options
def officer_add(
    name: str, password_stdin: bool, data_dir: Path | None, database_url: str | None
) -> None:
    """Create an officer account (the password is hashed with scrypt)."""
    storage = _storage(data_dir, database_url)
    accounts = OfficerAccounts(storage.engine, storage.officers)
    try:
        password = read_new_password(from_stdin=password_stdin)
        accounts.add(name=name, password=password, created=stamp(utc_now()))
    except VcredError as exc:
        click.echo(f"vcred verifier: {exc.message}", err=True)
        sys.exit(2)
    finally:
        storage.close()
    click.echo(f"officer {name} added")


@officer.command("list")
@_admin_options
def officer_list(data_dir: Path | None, database_url: str | None) -> None:
    """List officer accounts."""
    storage = _storage(data_dir, database_url)
    try:
        for row in OfficerAccounts(storage.engine, storage.officers).rows():
            click.echo(f"{row.name}  {'disabled' if row.disabled else 'active':<9} {row.created}")
    finally:
        storage.close()


@admin.group("audit")
def audit_group() -> None:
    """The tamper-evident chain of every verification (`vcred audit verify FILE` checks it)."""


@audit_group.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="default: stdout")
@_admin_options
def audit_export(out: Path | None, data_dir: Path | None, database_url: str | None) -> None:
    """Write the whole chain as JSON lines; the head hash goes to stderr."""
    storage = _storage(data_dir, database_url)
    try:
        storage.flush()
        head_seq, head = storage.audit.head()
        handle = out.open("w", encoding="utf-8") if out else sys.stdout
        try:
            for entry in storage.audit.entries():
                if entry["seq"] > head_seq:  # appended while exporting: the next export's
                    break
                handle.write(audit.to_line(entry) + "\n")
        finally:
            if out:
                handle.close()
    finally:
        storage.close()
    click.echo(f"{head_seq} entries; head {head}", err=True)


@admin.group("recognitions")
def recognitions_group() -> None:
    """Recognitions of foreign AEO traders (docs/recognition.md)."""


@recognitions_group.command("refresh")
@_admin_options
@click.option(
    "--host-map",
    multiple=True,
    metavar="HOST=ORIGIN",
    help="as the service's: send a status list host to a local origin (repeat)",
)
def recognitions_refresh(
    data_dir: Path | None, database_url: str | None, host_map: tuple[str, ...]
) -> None:
    """Re-check the status of every live recognition now (for cron; the service's own
    refresher and other runs share a lease: one works at a time). Prints what it did as
    JSON; exit 1 when a status could not be determined."""
    try:
        use_registry_from_env()
        config = VerifierConfig.from_env()
        given: dict[str, Any] = {"data_dir": data_dir, "database_url": database_url}
        if host_map:
            given["host_map"] = {**config.host_map, **host_map_of(host_map)}
        config = dataclasses.replace(config, **{k: v for k, v in given.items() if v is not None})
        service = VerifierService(config)
    except VcredError as exc:
        click.echo(f"vcred verifier: {exc.message}", err=True)
        sys.exit(2)
    except SQLAlchemyError as exc:
        click.echo(f"vcred verifier: {describe_failure(exc)}", err=True)
        sys.exit(2)
    try:
        report = service.refresh_recognitions()
    finally:
        service.close()
    click.echo(json.dumps(report.as_dict()))
    if report.errors:
        sys.exit(1)
