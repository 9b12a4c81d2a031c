"""Hostile audit exports: every line is read with the strict JSON parser, so a line with a
repeated member (which a lenient reader takes as its last value — the entry would show one
actor and hash as another), NaN or Infinity, bad UTF-8 or anything but an object is
refused with AUDIT_LINE naming its line; ``vcred audit verify`` prints that as one line on
stderr and exits 2, never with a traceback.

Through the library (``vcred.audit.parse_lines``) and the CLI (a subprocess, as an operator
runs it), over a chain exported by a real issuer service.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from issuer_app import create_app, issuer_of
from tests.issuer.conftest import make_config
from vcred.audit import parse_lines, to_line, verify_chain
from vcred.cli import main
from vcred.errors import AuditLineError


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """The audit chain of an issuer that did a few things, as export lines."""
    app = create_app(make_config(tmp_path_factory.mktemp("issuer"), "sqlite"))
    service = issuer_of(app)
    made = service.create_token(("issue",), label="erp", actor="cli:test")
    service.revoke_token(made.id, actor="cli:test")
    service.add_officer("ana", "a long officer password", actor="cli:test")
    yield [to_line(entry) for entry in service.store.audit_entries()]
    service.close()


def _with_repeated_actor(line: str) -> str:
    # the forger puts their actor first: a lenient parser keeps the last, genuine one
    return line.replace('{"seq"', '{"actor":"officer:mallory","seq"', 1)


def _with_repeated_detail(line: str) -> str:
    return line.replace('"details":{', '"details":{"id":"forged","id":"x",', 1)


def _replace_number(line: str, value: str) -> str:
    head, _, rest = line.partition('"seq":')
    digits = len(rest) - len(rest.lstrip("0123456789"))
    return f'{head}"seq":{value}{rest[digits:]}'


#: name → (how the chosen line is changed, as bytes) for lines that must be refused
HOSTILE: dict[str, Callable[[str], bytes]] = {
    "repeated top-level member": lambda line: _with_repeated_actor(line).encode(),
    "repeated member inside details": lambda line: _with_repeated_detail(line).encode(),
    "NaN": lambda line: _replace_number(line, "NaN").encode(),
    "Infinity": lambda line: _replace_number(line, "Infinity").encode(),
    "-Infinity": lambda line: _replace_number(line, "-Infinity").encode(),
    "invalid UTF-8 byte": lambda line: line.encode().replace(b'"actor":"', b'"actor":"\xff', 1),
    "overlong UTF-8": lambda line: line.encode().replace(b'"actor":"', b'"actor":"\xc0\xaf', 1),
    "UTF-8 encoded surrogate": lambda line: line.encode().replace(
        b'"actor":"', b'"actor":"\xed\xa0\x80', 1
    ),
    "a JSON array": lambda line: f"[{line}]".encode(),
    "a JSON string": lambda line: b'"an entry"',
    "a number": lambda line: b"42",
    "null": lambda line: b"null",
    "true": lambda line: b"true",
    "truncated": lambda line: line[: len(line) // 2].encode(),
    "two objects on one line": lambda line: (line + line).encode(),
    "a byte-order mark": lambda line: b"\xef\xbb\xbf" + line.encode(),
    "nested 100000 deep": lambda line: b"[" * 100_000 + b"]" * 100_000,
    "an integer of 5000 digits": lambda line: _replace_number(line, "9" * 5000).encode(),
}


def _export(lines: list[str], changed: int, change: Callable[[str], bytes]) -> bytes:
    raw = [line.encode() for line in lines]
    raw[changed] = change(lines[changed])
    return b"\n".join(raw) + b"\n"


def _cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vcred.cli", "audit", "verify", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
        check=False,
    )


@pytest.mark.parametrize("variant", sorted(HOSTILE))
def test_a_hostile_line_is_refused_with_its_line_number(lines: list[str], variant: str) -> None:
    data = _export(lines, 2, HOSTILE[variant])
    with pytest.raises(AuditLineError) as raised:
        parse_lines(data)
    assert raised.value.code == "AUDIT_LINE"
    assert raised.value.message.startswith("audit export line 3: ")
    assert raised.value.pointer == "/2"


@pytest.mark.parametrize("variant", sorted(HOSTILE))
def test_vcred_audit_verify_names_the_line_and_exits_2(
    lines: list[str], tmp_path: Path, variant: str
) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(_export(lines, 1, HOSTILE[variant]))
    result = CliRunner().invoke(main, ["audit", "verify", str(path)])
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert result.exit_code == 2, result.output
    (message,) = result.stderr.strip().splitlines()
    assert message.startswith("vcred: audit export line 2: ")
    assert "intact" not in result.stdout


def test_the_command_refuses_a_hostile_stdin_in_one_line(lines: list[str]) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "vcred.cli", "audit", "verify", "-"],
        input=_export(lines, 0, HOSTILE["invalid UTF-8 byte"]),
        capture_output=True,
        timeout=60,
        env=dict(os.environ),
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.decode().startswith("vcred: audit export line 1: ")
    assert len(completed.stderr.decode().strip().splitlines()) == 1


def test_a_repeated_member_no_longer_verifies(lines: list[str], tmp_path: Path) -> None:
    """The attack itself: before, the forged line verified as the genuine entry."""
    forged = _with_repeated_actor(lines[1])
    assert json.loads(forged) == json.loads(lines[1])  # what a lenient reader sees
    path = tmp_path / "audit.jsonl"
    path.write_text("\n".join([lines[0], forged, *lines[2:]]) + "\n", encoding="utf-8")
    completed = _cli(path)
    assert completed.returncode == 2
    assert "line 2" in completed.stderr and "duplicate member" in completed.stderr


def test_an_honest_export_still_verifies_with_crlf_and_unicode_separators(
    issuer_app: Flask, tmp_path: Path
) -> None:
    service = issuer_of(issuer_app)
    # U+2028 / U+2029 / U+0085 are line breaks to str.splitlines, not to JSON lines
    service.create_token(("issue",), label="line\u2028sep\u2029para\x85nel", actor="cli:test")
    lines = [to_line(entry) for entry in service.store.audit_entries()]
    report = verify_chain(parse_lines("\r\n".join(lines) + "\r\n"))
    assert report.intact and report.entries == len(lines)
    path = tmp_path / "audit.jsonl"
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    completed = _cli(path)
    assert completed.returncode == 0, completed.stderr
    assert f"intact: {len(lines)} entries" in completed.stdout


def test_a_number_too_large_for_jcs_is_refused_with_its_line_without_a_traceback(
    lines: list[str], tmp_path: Path
) -> None:
    """1e400 has no double (JCS could not hash it): the strict parser refuses the line."""
    path = tmp_path / "audit.jsonl"
    path.write_bytes(_export(lines, 1, lambda line: _replace_number(line, "1e400").encode()))
    completed = _cli(path)
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    (message,) = completed.stderr.strip().splitlines()
    assert message.startswith("vcred: audit export line 2: ")
    assert "(at /seq)" in message
    assert "intact" not in completed.stdout
