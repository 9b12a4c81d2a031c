"""``vcred issuer client …`` / ``vcred verifier client …``: the clients of the built-in token
endpoint. The secret is printed once (stdout, for scripts); only its hash is stored."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, NoReturn

import click

from vcred.errors import VcredError
from vcred.status.listcred import format_datetime
from vcred.verifier import utc_now
from vcred_service.commands import StorageCommands
from vcred_service.oauth_clients import OAuthClients, Recorder

#: Opens a service's client store from the admin options; (clients, audit recorder or None).
Opener = Callable[..., AbstractContextManager[tuple[OAuthClients, Recorder | None]]]


def client_group(
    *,
    service: str,
    commands: type[StorageCommands],
    opener: Opener,
    options: Callable[[Any], Any],
    scopes: tuple[str, ...],
    default_scopes: str,
) -> click.Group:
    """The ``client`` command group of a service whose API knows ``scopes``; ``commands``:
    the service's group class (a storage failure midway said as its other commands say it)."""

    def fail(message: str) -> NoReturn:
        click.echo(f"vcred {service}: {message}", err=True)
        sys.exit(2)

    @click.group(
        "client",
        cls=commands,
        help=f"OAuth 2.0 clients of the token endpoint (scopes: {', '.join(scopes)}).",
    )
    def group() -> None:
        pass

    @group.command("create")
    @click.option(
        "--scope", "wanted", default=default_scopes, show_default=True, help="comma-separated"
    )
    @click.option("--label", default="", help="what the client is")
    @options
    def create(wanted: str, label: str, **admin: Any) -> None:
        """Register a client; its secret is printed once (only its hash is stored)."""
        names = [s.strip() for s in wanted.split(",") if s.strip()]
        unknown = [s for s in names if s not in scopes]
        if unknown:
            fail(f"unknown scope {unknown[0]!r} (known: {', '.join(scopes)})")
        with _opened(opener, admin, fail) as (clients, record):
            try:
                made = clients.register(
                    names, label=label[:200], created=format_datetime(utc_now()), record=record
                )
            except VcredError as exc:
                fail(exc.message)
        click.echo(
            f"client {made.client_id} ({' '.join(made.scopes)}) — secret shown once:", err=True
        )
        click.echo(f"client_id={made.client_id}")
        click.echo(f"client_secret={made.secret}")

    @group.command("list")
    @options
    def list_clients(**admin: Any) -> None:
        """List clients (ids, scopes, state; the secrets are not stored)."""
        with _opened(opener, admin, fail) as (clients, _):
            for row in clients.rows():
                state = f"revoked {row.revoked}" if row.revoked else "active"
                click.echo(
                    f"{row.client_id}  {row.scopes:<20} {state:<30} {row.created}  {row.label}"
                )

    @group.command("revoke")
    @click.argument("client_id")
    @options
    def revoke(client_id: str, **admin: Any) -> None:
        """Revoke a client: it gets no new token (those issued expire on their own)."""
        with _opened(opener, admin, fail) as (clients, record):
            try:
                clients.revoke(client_id, at=format_datetime(utc_now()), record=record)
            except VcredError as exc:
                fail(exc.message)
        click.echo(f"client {client_id} revoked")

    return group


def _opened(
    opener: Opener, admin: dict[str, Any], fail: Callable[[str], NoReturn]
) -> AbstractContextManager[tuple[OAuthClients, Recorder | None]]:
    try:
        return opener(**admin)
    except VcredError as exc:
        fail(exc.message)
