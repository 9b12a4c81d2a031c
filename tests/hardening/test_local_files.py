"""The JSON files an operator hands vcred (key files, trust lists and their specifications,
registry files, credentials to sign) are read by one helper, ``vcred._json.loads_local``: any
text that is not JSON — nested past the parser's recursion included — is a ParsingError in
the library and one line on the command line, never a RecursionError or a traceback.

Found with it: ``vcred.trust.load_trust_list(path)`` let RecursionError and FileNotFoundError
out, the registry files (``vcred --registry``, ``VCRED_REGISTRY``) RecursionError (a
traceback), ``load_key`` a UnicodeDecodeError for bytes that are not UTF-8.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from vcred._json import loads_local
from vcred.cli import main
from vcred.customs._registry import load_registry_file
from vcred.errors import MalformedError, ParsingError
from vcred.keys import load_key, load_public_key
from vcred.trust import load_trust_list

NESTED = '{"a": ' * 20_000 + "1" + "}" * 20_000


@pytest.fixture
def deep(tmp_path: Path) -> Path:
    path = tmp_path / "deep.json"
    path.write_text(NESTED)
    return path


@pytest.mark.parametrize("text", [NESTED, "[" * 100_000, "{not json", "", b"\xff{}"])
def test_loads_local_refuses_what_is_not_json_as_a_parsing_error(text: str | bytes) -> None:
    with pytest.raises(ParsingError, match=r"^the file is not JSON: "):
        loads_local(text, what="the file")


def test_loads_local_reads_a_local_file_as_json_loads_does() -> None:
    # the operator's own files: duplicate members read as they always were (the last counts)
    assert loads_local('{"a": 1, "a": 2}', what="the file") == {"a": 2}
    assert loads_local(b'{"a": [1.5, null]}', what="the file") == {"a": [1.5, None]}


def test_a_trust_list_file_nested_past_the_parser_is_a_parsing_error(deep: Path) -> None:
    with pytest.raises(ParsingError, match=re.escape(f"{deep} is not JSON")):
        load_trust_list(deep, now=datetime(2026, 6, 1, tzinfo=UTC))


def test_a_missing_trust_list_file_is_malformed_not_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(MalformedError, match="cannot read the trust list"):
        load_trust_list(tmp_path / "absent.json", now=datetime(2026, 6, 1, tzinfo=UTC))


def test_a_registry_file_nested_past_the_parser_is_a_parsing_error(deep: Path) -> None:
    with pytest.raises(ParsingError, match=re.escape(f"the registry file {deep} is not JSON")):
        load_registry_file(deep)


def test_vcred_registry_nested_past_the_parser_is_one_line(deep: Path) -> None:
    run = CliRunner().invoke(main, ["--registry", str(deep), "key", "generate"])
    assert run.exit_code == 2, run.output
    assert isinstance(run.exception, SystemExit), run.exception
    assert "the registry is refused: the registry file" in run.output
    assert "Traceback" not in run.output


@pytest.mark.parametrize("data", [b"\xff\xfe{}", None, 7])
def test_a_key_that_is_not_text_is_a_parsing_error(data: object) -> None:
    with pytest.raises(ParsingError):
        load_key(data)  # type: ignore[arg-type]


def test_key_files_not_json_name_the_file_kind() -> None:
    with pytest.raises(ParsingError, match=r"^the key file is not JSON"):
        load_key("{" * 50_000)
    with pytest.raises(ParsingError, match=r"^the public key file is not JSON"):
        load_public_key("{" * 50_000)
