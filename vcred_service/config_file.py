"""``--config FILE`` for the service commands (DESIGN §5): options from a TOML file.

The file holds the same settings as the command-line options, by their long names
(``data-dir = "/var/lib/vcred"``, ``host-map = ["a.example=http://127.0.0.1:8101"]``), at the
top level or under a table named after the command (``[issuer]``, ``[verifier]``). Options
given on the command line win over the file; unknown names are refused.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, Final, TypeVar

import click

from vcred.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])


def _load(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        data = tomllib.loads(Path(value).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise click.BadParameter(f"cannot read {value}: {exc}") from exc
    except RecursionError:  # tomllib recurses once per level (a traceback before)
        raise click.BadParameter(f"cannot read {value}: nested too deeply") from None
    section = data.get(ctx.info_name or "", data) if isinstance(data, dict) else {}
    if not isinstance(section, dict):
        raise click.BadParameter(f"[{ctx.info_name}] in {value} must be a table")
    names: dict[str, str] = {}
    for param in ctx.command.params:
        if param.name is None or param.name == "config":
            continue
        names[param.name.replace("_", "-")] = param.name
        for opt in param.opts:
            names[opt.lstrip("-")] = param.name
    defaults: dict[str, Any] = {}
    for key, setting in section.items():
        if isinstance(setting, dict):
            continue  # another command's table
        name = names.get(key)
        if name is None:
            raise click.BadParameter(f"unknown setting {key!r} in {value}")
        defaults[name] = setting
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return value


def config_file_option(command: F) -> F:
    """Add ``--config FILE`` to a click command (read before the other options)."""
    option = click.option(
        "--config",
        type=click.Path(exists=True, dir_okay=False),
        is_eager=True,
        expose_value=False,
        callback=_load,
        help="a TOML file of these options (options given here win)",
    )
    return option(command)


#: The longest duration a setting may name (timedelta itself would overflow far beyond).
MAX_DURATION: Final = timedelta(days=3650)


def duration(name: str, value: str | float) -> timedelta:
    """A setting in seconds (environment, option, TOML) as a timedelta.

    Raises UsageError naming the setting for anything that is not a finite duration ("x",
    nan, inf, 1e400: a bare ``timedelta(seconds=...)`` would raise ValueError or OverflowError).
    """
    try:
        seconds = float(value)
    except ValueError as exc:
        raise UsageError(f"{name} must be a number of seconds, not {value!r}") from exc
    if not 0 <= seconds <= MAX_DURATION.total_seconds():  # also refuses nan and inf
        raise UsageError(f"{name} must be between 0 and {int(MAX_DURATION.total_seconds())} s")
    return timedelta(seconds=seconds)
