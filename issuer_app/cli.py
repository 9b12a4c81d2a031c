"""``vcred serve issuer`` (``command``) and ``vcred issuer …`` (``admin``): run and administer
an agency's issuer. Loaded lazily by ``vcred.cli``, so the library never imports Flask.

Secrets: the API token of ``token create`` (and of the first start) is printed once and never
stored or logged; passphrases and private keys are never printed.
"""

from __future__ import annotations

import getpass
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from issuer_app import hashing
from issuer_app.config import IssuerConfig
from issuer_app.keyring import IssuerKey
from issuer_app.service import Issuer
from vcred import audit
from vcred._json import loads_local
from vcred.errors import ParsingError, VcredError
from vcred.keys import KEY_KINDS
from vcred_service.app import database_url as sqlite_url
from vcred_service.commands import StorageCommands, storage_failure_said
from vcred_service.config_file import config_file_option
from vcred_service.db import describe_failure
from vcred_service.oauth_cli import client_group
from vcred_service.oauth_clients import OAuthClients, Recorder
from vcred_service.passwords import read_new_password
from vcred_service.problems import ProblemError
from vcred_service.roles import DEFAULT_ROLE, ROLES, Role

F = TypeVar("F", bound=Callable[..., Any])

_BANNER_WIDTH = 78


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"vcred issuer: {message}", err=True)
    sys.exit(code)


def _loud(lines: list[str]) -> None:
    bar = "!" * _BANNER_WIDTH
    click.secho("\n".join([bar, *lines, bar]), fg="red", bold=True, err=True)


def _show_warnings() -> None:
    # the config and service log warnings (paths, modes — never secrets) for the operator
    logging.basicConfig(level=logging.WARNING, format="vcred issuer: warning: %(message)s")


@click.command("issuer")
@config_file_option
@click.option("--port", type=int, default=8100, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="VCRED_ISSUER_DATA_DIR",
    default="issuer-data",
    show_default=True,
    help="keys (encrypted), SQLite database, passphrase file in development",
)
@click.option("--domain", help="serve did:web:DOMAIN (host or host:port)")
@click.option("--programme", help="the AEO programme, e.g. US-CTPAT, EU-AEO, JP-AEO")
@click.option("--country", help="ISO country of the agency (needed for EU-AEO)")
@click.option("--authority", help="the agency's name (default: the programme's authority)")
@click.option("--public-url", help="base URL clients reach (default http://127.0.0.1:PORT)")
@click.option("--format", "formats", multiple=True, help="offer only these formats (repeat)")
@click.option("--default-format", help="format when a request names none (default vc+jwt)")
@click.option("--status-list-format", help="vc+jwt (default) or a Data Integrity format")
@click.option(
    "--status-message",
    "status_messages",
    multiple=True,
    help="a message status state, 0x0 first (repeat: 2, 4, 8 … of them)",
)
@click.option(
    "--status-reference",
    "status_reference",
    multiple=True,
    help="URL documenting the status messages (repeat for several)",
)
@click.option("--database-url", envvar="DATABASE_URL", help="PostgreSQL URL (default: SQLite)")
@click.option("--no-store-credentials", is_flag=True, help="keep only digests of what is issued")
@click.option("--insecure-no-auth", is_flag=True, help="no API token needed (local tests only)")
@click.option("--dev", is_flag=True, help="development mode (says so loudly)")
@click.option(
    "--contexts-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="JSON-LD contexts known beyond the bundled ones, pinned in its contexts.json",
)
@click.option(
    "--allow-inline-contexts",
    is_flag=True,
    help="sign inline @context objects that do not change what the JSON means",
)
@click.option(
    "--fill-issuer",
    is_flag=True,
    help="fill in a missing credential issuer with this service's DID (else: 400)",
)
@click.option(
    "--four-eyes",
    is_flag=True,
    help="revocations and trust lists need a second officer's approval",
)
@storage_failure_said("vcred issuer")  # lost after the start (first token, keys): one line
def command(
    port: int,
    host: str,
    data_dir: Path,
    domain: str | None,
    programme: str | None,
    country: str | None,
    authority: str | None,
    public_url: str | None,
    formats: tuple[str, ...],
    default_format: str | None,
    status_list_format: str | None,
    status_messages: tuple[str, ...],
    status_reference: tuple[str, ...],
    database_url: str | None,
    no_store_credentials: bool,
    insecure_no_auth: bool,
    dev: bool,
    contexts_dir: Path | None,
    allow_inline_contexts: bool,
    fill_issuer: bool,
    four_eyes: bool,
) -> None:
    """Run an agency's issuer (VC API, status lists, did:web, officer UI) on PORT."""
    from issuer_app.app import create_app, issuer_of
    from vcred_service.runner import listen, serve_forever, writable_folder

    _show_warnings()
    try:  # the port, then the folder: a start that cannot serve writes nothing
        sock = listen(host, port)
    except VcredError as exc:
        _fail(exc.message)
    port = sock.getsockname()[1]  # --port 0: the one the system chose
    overrides: dict[str, Any] = {
        "data_dir": data_dir,
        "public_url": public_url or f"http://127.0.0.1:{port}",
        "domain": domain,
        "programme": programme,
        "country": country,
        "authority_name": authority,
        "formats": formats or None,
        "default_format": default_format,
        "status_list_format": status_list_format,
        "status_messages": status_messages or None,
        "status_reference": status_reference or None,
        "database_url": database_url,
        "store_credentials": False if no_store_credentials else None,
        "insecure_no_auth": insecure_no_auth or None,
        "dev": dev or None,
        "contexts_dir": contexts_dir,
        "allow_inline_contexts": allow_inline_contexts or None,
        "fill_issuer": fill_issuer or None,
        "four_eyes": four_eyes or None,
    }
    try:
        writable_folder(data_dir)
        config = IssuerConfig.from_env(embedded=True, **overrides)
        app = create_app(config)
    except VcredError as exc:
        sock.close()
        _fail(exc.message)
    except SQLAlchemyError as exc:
        sock.close()
        _fail(describe_failure(exc))
    issuer = issuer_of(app)
    try:  # a start stopped before serving (a database lost too) closes what it opened
        _announce(config, issuer, data_dir)
        serve_forever(app, host=host, port=port, sock=sock)
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        issuer.close()


def _announce(config: IssuerConfig, issuer: Issuer, data_dir: Path) -> None:
    """What the operator reads as the issuer starts (the first start's admin token once)."""
    if config.insecure_no_auth:
        _loud(
            [
                "INSECURE: --insecure-no-auth — anyone who can reach this port can issue,",
                "suspend and revoke credentials in the agency's name. Local conformance runs only.",
            ]
        )
    if config.dev:
        _loud(["DEVELOPMENT MODE (--dev): not for production."])
    if issuer.first_start:
        made = issuer.create_token(
            ("issue", "status", "admin"), label="first start", actor="cli:serve"
        )
        kept = "in the HSM" if config.hsm_only else "and encrypted at rest"
        click.echo(
            f"First start: keys generated {kept}.\n"
            f"Admin API token (shown once, never again — keep it safe):\n\n    {made.token}\n\n"
            f"Officers log in after: vcred issuer officer add NAME --data-dir {data_dir}"
        )
    keys = issuer.keyring()
    click.echo(f"issuer of {config.authority} at {config.public_url}")
    for did in keys.dids:
        click.echo(f"  issues as {did}")
    click.echo(f"  formats: {', '.join(issuer.offered)}")
    click.echo(f"  officer UI: {config.public_url}/login · API: {config.public_url}/openapi.json")


# -- administration: vcred issuer … --------------------------------------------------------------


def _admin_options(function: F) -> F:
    function = click.option(
        "--database-url", envvar="DATABASE_URL", help="PostgreSQL URL (default: SQLite in DIR)"
    )(function)
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="VCRED_ISSUER_DATA_DIR",
        default="issuer-data",
        show_default=True,
        help="the issuer's data folder",
    )(function)


def _open(data_dir: Path, database_url: str | None) -> Issuer:
    """The issuer of an existing data folder / database (never set up here)."""
    _show_warnings()
    if database_url is None and not _sqlite_file(data_dir).exists():
        # before the passphrase: a mistyped --data-dir is not a missing passphrase
        _fail(
            f"no issuer is set up in {data_dir}: check --data-dir, or start it once "
            f"with `vcred serve issuer --data-dir {data_dir}`"
        )
    try:
        config = IssuerConfig.from_env(data_dir=data_dir, database_url=database_url)
        issuer = Issuer.open_existing(config)
    except VcredError as exc:
        _fail(exc.message)
    except SQLAlchemyError as exc:
        _fail(describe_failure(exc))
    return issuer


def _sqlite_file(data_dir: Path) -> Path:
    """The SQLite database an issuer keeps in its data folder when no DATABASE_URL is set."""
    return Path(sqlite_url(data_dir, environ={}).removeprefix("sqlite:///"))


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


class _Commands(StorageCommands):
    """``vcred issuer …``: a database lost midway is one line (``vcred issuer: …``)."""

    said_as = "vcred issuer"


@click.group("issuer", cls=_Commands)
def admin() -> None:
    """Administer an issuer: API tokens, keys, officers, the audit log."""


@admin.group()
def token() -> None:
    """API tokens (scopes: issue, status, admin, trust-list; admin includes issue and status,
    never trust-list)."""


@token.command("create")
@click.option("--scope", "scopes", default="issue,status", show_default=True)
@click.option("--label", default="", help="what the token is for")
@_admin_options
def token_create(scopes: str, label: str, data_dir: Path, database_url: str | None) -> None:
    """Create a token; it is printed once (only its hash is stored)."""
    issuer = _open(data_dir, database_url)
    try:
        made = issuer.create_token(scopes.split(","), label=label, actor=_actor())
    except ValueError as exc:
        _fail(str(exc))
    finally:
        issuer.close()
    click.echo(f"token {made.id} ({scopes}) — shown once:", err=True)
    click.echo(made.token)


@token.command("list")
@_admin_options
def token_list(data_dir: Path, database_url: str | None) -> None:
    """List tokens (ids and scopes; the tokens themselves are not stored)."""
    issuer = _open(data_dir, database_url)
    try:
        for row in issuer.store.tokens():
            state = f"revoked {row.revoked}" if row.revoked else "active"
            click.echo(f"{row.id}  {row.scopes:<20} {state:<30} {row.created}  {row.label}")
    finally:
        issuer.close()


@token.command("revoke")
@click.argument("token_id")
@_admin_options
def token_revoke(token_id: str, data_dir: Path, database_url: str | None) -> None:
    """Revoke a token by its id (the part after vci_)."""
    issuer = _open(data_dir, database_url)
    try:
        issuer.revoke_token(token_id, actor=_actor())
    except VcredError as exc:
        _fail(exc.message)
    finally:
        issuer.close()
    click.echo(f"token {token_id} revoked")


@contextmanager
def _clients(data_dir: Path, database_url: str | None) -> Iterator[tuple[OAuthClients, Recorder]]:
    """The issuer's OAuth clients; each change goes into its audit log."""
    issuer = _open(data_dir, database_url)
    actor = _actor()

    def record(conn: Connection, action: str, client_id: str, details: dict[str, Any]) -> None:
        issuer.store.append_audit(
            conn,
            at=issuer.stamp(),
            actor=actor,
            action=action,
            target=client_id,
            details={"client_id": client_id, **details},
        )

    try:
        yield OAuthClients(issuer.store.engine, prefix=issuer.config.table_prefix), record
    finally:
        issuer.close()


admin.add_command(
    client_group(
        service="issuer",
        commands=_Commands,
        opener=_clients,
        options=_admin_options,
        scopes=hashing.SCOPES,
        default_scopes="issue,status",
    )
)


@admin.group()
def key() -> None:
    """Signing keys: add, list, retire."""


@key.command("add")
@click.option("--type", "kind", type=click.Choice(KEY_KINDS), default="ed25519", show_default=True)
@click.option(
    "--hsm",
    is_flag=True,
    help="make it in the HSM (VCRED_ISSUER_HSM_*); the default in HSM-only mode",
)
@_admin_options
def key_add(kind: str, hsm: bool, data_dir: Path, database_url: str | None) -> None:
    """Generate a key (encrypted at rest, or in the HSM); it signs from the next request on."""
    issuer = _open(data_dir, database_url)
    try:
        made = issuer.add_key(kind, actor=_actor(), hsm=True if hsm else None)
    except VcredError as exc:
        _fail(exc.message)
    finally:
        issuer.close()
    where = f" in the HSM ({made.describe()['hsm']})" if made.describe()["hsm"] else ""
    click.echo(f"key {made.tag} ({made.kind}) added{where}: {made.did_key}")


@key.command("list")
@_admin_options
def key_list(data_dir: Path, database_url: str | None) -> None:
    """List the keys, current and retired, then the trust-list key: one line each, its id,
    type, creation time, RFC 7638 thumbprint (as a trust list's pinnedKeys name it), state,
    and DID (the trust-list key: its verification method); (HSM) when it is in the token."""
    issuer = _open(data_dir, database_url)
    try:
        ring = issuer.keyring()
        for item in ring.keys:
            state = f"retired {item.retired}" if item.retired else "current"
            click.echo(_key_line(item, state, item.did_key))
        if ring.trust_list is not None:
            _, signer = ring.trust_list_signer()
            click.echo(_key_line(ring.trust_list, "trust lists only", signer.key_id))
    finally:
        issuer.close()


def _key_line(item: IssuerKey, state: str, named: str) -> str:
    # the columns without spaces first: scripts read them by position (docs/services.md)
    where = "  (HSM)" if item.describe()["hsm"] else ""
    return (
        f"{item.tag}  {item.kind:<8} {item.created}  {item.public.thumbprint()}  "
        f"{state:<30} {named}{where}"
    )


@key.command("retire")
@click.argument("key_id")
@_admin_options
def key_retire(key_id: str, data_dir: Path, database_url: str | None) -> None:
    """Stop signing with a key; what it signed keeps verifying (it stays in the DID document,
    revoked from now on: verifiers refuse anything it signs later)."""
    issuer = _open(data_dir, database_url)
    try:
        retired = issuer.retire_key(key_id, actor=_actor())
    except VcredError as exc:
        _fail(exc.message)
    finally:
        issuer.close()
    click.echo(f"key {retired.tag} retired; revoked from {retired.retired}")


@admin.group("trust-list")
def trust_list() -> None:
    """The agency's MRA trust lists, signed with the trust-list key (never an issuing key)."""


@trust_list.command("issue")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", default="vc+jwt", show_default=True, help="vc+jwt or eddsa-*")
@_admin_options
def trust_list_issue(source: Path, fmt: str, data_dir: Path, database_url: str | None) -> None:
    """Sign an unsigned MRATrustListCredential (JSON; `vcred.trust.build_trust_list`)."""
    try:
        credential = loads_local(source.read_text(encoding="utf-8"), what=str(source))
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {source}: {exc}")
    except ParsingError as exc:
        _fail(exc.message)
    issuer = _open(data_dir, database_url)
    try:
        answer = issuer.issue_trust_list(
            {"credential": credential, "options": {"format": fmt}}, actor=_actor()
        )
    except ProblemError as exc:
        where = f" (at {exc.extra['pointer']})" if exc.extra.get("pointer") else ""
        _fail(f"{exc.extra.get('code', exc.status)}: {exc.detail}{where}")
    except VcredError as exc:
        _fail(f"{exc.code}: {exc}")
    finally:
        issuer.close()
    click.echo(json.dumps(answer.body["verifiableCredential"]))


@admin.group()
def officer() -> None:
    """Officer accounts of the web UI."""


@officer.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default=DEFAULT_ROLE,
    show_default=True,
    help="officer: issue; supervisor: also suspend, revoke, approve; administrator: all",
)
@click.option("--password-stdin", is_flag=True, help="read the password from stdin")
@click.option(
    "--no-password",
    is_flag=True,
    help="the officer signs in through the agency's identity provider only",
)
@_admin_options
def officer_add(
    name: str,
    role: Role,
    password_stdin: bool,
    no_password: bool,
    data_dir: Path,
    database_url: str | None,
) -> None:
    """Create an officer account (the password is hashed with scrypt)."""
    if no_password and password_stdin:
        _fail("--no-password and --password-stdin exclude each other")
    issuer = _open(data_dir, database_url)  # first: no prompts for an issuer that is not there
    try:
        password = None if no_password else read_new_password(from_stdin=password_stdin)
        issuer.add_officer(name, password, role=role, actor=_actor())
    except VcredError as exc:
        _fail(exc.message)
    finally:
        issuer.close()
    click.echo(f"officer {name} added ({role})")


@officer.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@_admin_options
def officer_role(name: str, role: Role, data_dir: Path, database_url: str | None) -> None:
    """Give an officer another role (it applies from their next request)."""
    issuer = _open(data_dir, database_url)
    try:
        before = issuer.set_officer_role(name, role, actor=_actor())
    except VcredError as exc:
        _fail(exc.message)
    finally:
        issuer.close()
    click.echo(f"officer {name}: {before or DEFAULT_ROLE} -> {role}")


@officer.command("list")
@_admin_options
def officer_list(data_dir: Path, database_url: str | None) -> None:
    """List officer accounts and their roles."""
    issuer = _open(data_dir, database_url)
    try:
        roles = issuer.roles.roles()
        for row in issuer.officers.rows():
            state = "disabled" if row.disabled else "active"
            role = roles.get(row.name, DEFAULT_ROLE)
            click.echo(f"{row.name}  {state:<9} {role:<14} {row.created}")
    finally:
        issuer.close()


@admin.group()
def session() -> None:
    """Officers' sessions of the web UI: list them, end them (server-side)."""


@session.command("list")
@_admin_options
def session_list(data_dir: Path, database_url: str | None) -> None:
    """List live sessions: handle, officer, since, last request (never the session id)."""
    issuer = _open(data_dir, database_url)
    try:
        for live in issuer.sessions.live():
            click.echo(
                f"{live.handle}  {live.officer:<20} {live.created.isoformat(timespec='seconds')}"
                f"  {live.last_seen.isoformat(timespec='seconds')}"
            )
    finally:
        issuer.close()


@session.command("end")
@click.argument("handle", required=False)
@click.option("--officer", "officer_name", help="end every session of this officer")
@_admin_options
def session_end(
    handle: str | None, officer_name: str | None, data_dir: Path, database_url: str | None
) -> None:
    """End a session by its listed handle, or every session of --officer NAME."""
    if (handle is None) == (officer_name is None):
        _fail("give a session handle or --officer NAME (one of them)")
    issuer = _open(data_dir, database_url)
    try:
        if handle is not None:
            whose = issuer.end_session(handle, actor=_actor())
            message = f"session {handle} of {whose} ended"
        else:
            ended = issuer.end_sessions_of(str(officer_name), actor=_actor())
            message = f"{ended} session(s) of {officer_name} ended"
    except VcredError as exc:
        _fail(exc.message)
    finally:
        issuer.close()
    click.echo(message)


@admin.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log (check an export with `vcred audit verify FILE`)."""


@audit_group.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="default: stdout")
@_admin_options
def audit_export(out: Path | None, data_dir: Path, database_url: str | None) -> None:
    """Write the whole audit chain as JSON lines; the head hash goes to stderr."""
    issuer = _open(data_dir, database_url)
    try:
        head_seq, head = issuer.store.audit_head()
        handle = out.open("w", encoding="utf-8") if out else sys.stdout
        try:
            for entry in issuer.store.audit_entries():
                handle.write(audit.to_line(entry) + "\n")
                if entry["seq"] == head_seq:
                    break
        finally:
            if out:
                handle.close()
    finally:
        issuer.close()
    click.echo(f"{head_seq} entries; head {head}", err=True)
