"""What the services' commands share: a database lost at any point of a command is one line
on stderr and exit 2, never a traceback.

Opening the database is said by each command's own opener (``issuer_app.cli._open``,
``verifier_app.cli._storage``); what follows — a statement of the command's work, a commit,
a page of an export — can still meet a database that went away, and
:func:`storage_failure_said` / :class:`StorageCommands` say that the same way. Only what
:func:`~vcred_service.db.storage_unavailable` calls unavailable (the database cannot be
reached or cannot take the work now: retry later) is said so; a statement that is wrong (a
missing table, a constraint, a program limit) is a bug and keeps its traceback.

``vcred`` (the library's command) mounts these groups without knowing any of this.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import click
from sqlalchemy.exc import SQLAlchemyError

from vcred_service.db import describe_failure, storage_unavailable


@contextmanager
def storage_failure_said(said_as: str) -> Iterator[None]:
    """Within it, a database that cannot be reached or take the work ends the command with
    ``{said_as}: the database cannot be reached: {what the driver said}`` and exit 2.

    The line is :func:`~vcred_service.db.describe_failure`'s: the driver's first line, never
    the statement or its parameters (engines hide them), nor the URL (the driver never
    repeats its password). Usable as a decorator too.
    """
    try:
        yield
    except SQLAlchemyError as exc:
        if not storage_unavailable(exc):
            raise  # a wrong statement: a bug, shown with its traceback
        click.echo(f"{said_as}: {describe_failure(exc)}", err=True)
        sys.exit(2)


class StorageCommands(click.Group):
    """A service's command group whose every command — in its subgroups too, which are of the
    same class — says a storage failure in one line (:func:`storage_failure_said`).

    A service subclasses it with its ``said_as`` (``"vcred issuer"``). The guard sits on
    every group, not only the top one: ``vcred issuer …`` is mounted by the library's lazy
    group, which runs the service's subgroups without invoking their parent.
    """

    said_as: ClassVar[str] = "vcred"
    group_class = type  # `@group.group()` makes one of this same class

    def invoke(self, ctx: click.Context) -> Any:
        with storage_failure_said(self.said_as):
            return super().invoke(ctx)
