"""docs/services.md's option tables name every option `vcred serve issuer` and `vcred serve
verifier` take: an option left out of its table is one no operator learns of."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from issuer_app.cli import command as issuer_command
from verifier_app.cli import command as verifier_command

SERVICES = Path(__file__).resolve().parents[1] / "docs" / "services.md"
_OPTION = re.compile(r"`(--[a-z][a-z0-9-]*)")


def tabled_options(section: str) -> set[str]:
    """The options named in the first column of a section's `| option | default | meaning |`
    table."""
    text = SERVICES.read_text(encoding="utf-8")
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    lines = text[start:end].splitlines()
    header = lines.index("| option | default | meaning |")
    named: set[str] = set()
    for line in lines[header + 2 :]:
        if not line.startswith("|"):
            break
        named.update(_OPTION.findall(line.split("|")[1]))
    return named


@pytest.mark.parametrize(
    ("section", "command"),
    [("Issuer", issuer_command), ("Verifier", verifier_command)],
    ids=["issuer", "verifier"],
)
def test_every_option_of_the_service_is_in_its_table(section: str, command: click.Command) -> None:
    options = {name for param in command.params for name in param.opts if name.startswith("--")}
    tabled = tabled_options(section)
    assert options - tabled == set(), f"docs/services.md ({section}) does not name them"
    assert tabled - options == set(), f"docs/services.md ({section}) names options it lacks"
