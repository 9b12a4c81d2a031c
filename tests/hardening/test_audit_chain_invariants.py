"""The audit chain's export, reviewed as invariants (docs/security.md §13.31).

``vcred audit verify`` refuses, with a message and an exit status, never a traceback, an
export in which any entry was removed, duplicated, reordered or altered in any member —
written otherwise than the chain hashed it included (``7.0`` or ``7e0`` for ``7``, ``-0``
for ``0``: one JCS form, RFC 8785 §3.2.2.3, so the same hash); and an export cut at its end
when the head is given. Whatever an export holds where a hash belongs (text that is not
ASCII) is a break, not a ``TypeError``.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from vcred.audit import GENESIS, entry_hash, parse_lines, seal, to_line, verify_chain
from vcred.cli import main

_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _chain(n: int, number: int = 7) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        entry = seal(
            seq=seq,
            prev=prev,
            at=f"2026-06-01T12:00:{seq:02d}.250000Z",
            actor="api:tk3f",
            action="verify-credential",
            target=f"sha256-{seq}",
            details={"verified": seq % 2 == 0, "n": number, "name": "Bäckerei Müller"},
        )
        entries.append(entry)
        prev = entry["hash"]
    return entries


def _run(tmp_path: Path, text: str, *extra: str) -> Result:
    path = tmp_path / "chain.jsonl"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", "verify", str(path), *extra])
    # refused or not, the command ends by its exit status: never with a traceback
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def _export(entries: list[dict[str, Any]]) -> str:
    return "".join(to_line(entry) + "\n" for entry in entries)


# -- written otherwise than hashed ----------------------------------------------------------------


def _other_forms(n: int) -> list[str]:
    """Numbers JSON writes otherwise than JCS does, each read as the value ``n``."""
    forms = [f"{n}.0", f"{n}e0", f"{n}E+0", f"{n}.000", f"{n * 10}e-1", f"{n * 100}E-2"]
    if n == 0:
        forms += ["-0", "-0.0", "0e7", "-0E-3"]
    return forms


@_SETTINGS
@given(
    n=st.integers(min_value=-(10**6), max_value=10**6),
    pick=st.integers(min_value=0),
    line=st.integers(min_value=0, max_value=2),
)
def test_a_number_written_otherwise_than_hashed_is_refused(
    tmp_path: Path, n: int, pick: int, line: int
) -> None:
    entries = _chain(3, number=n)
    lines = _export(entries).splitlines()
    form = _other_forms(n)[pick % len(_other_forms(n))]
    tampered = lines[line].replace(f'"n":{n},', f'"n":{form},', 1)
    assert tampered != lines[line]
    # the attack: the hash cannot see it (JCS writes the number as it did before) ...
    read = json.loads(tampered)
    assert entry_hash(read) == read["hash"]
    lines[line] = tampered
    # ... and the entry now reads as another value (a float, or -0.0) to many readers
    result = _run(tmp_path, "\n".join(lines) + "\n")
    assert result.exit_code == 2, result.output
    assert f"audit export line {line + 1}: the number {form} is not written as the chain " in (
        result.stderr
    )
    assert "intact" not in result.stdout


def test_seq_written_as_a_float_is_refused_too(tmp_path: Path) -> None:
    lines = _export(_chain(2)).splitlines()
    lines[1] = lines[1].replace('"seq":2,', '"seq":2.0,', 1)
    result = _run(tmp_path, "\n".join(lines) + "\n")
    assert result.exit_code == 2
    assert "the number 2.0 is not written as the chain hashed it (2)" in result.stderr


@_SETTINGS
@given(
    value=st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e-7, 1e21, 1e16, 100.0, -0.0, 5e-324, 0.1])
)
def test_an_entry_holding_any_float_is_exported_as_hashed_and_verifies(value: float) -> None:
    """The export writes every number in its JCS form (``1e-7``, not Python's ``1e-07``;
    ``100``, not ``100.0``), so a genuine chain of any numbers verifies from its export."""
    entry = seal(
        seq=1, prev=GENESIS, at="2026-06-01T12:00:00Z", actor="a", action="issue",
        target=None, details={"x": value, "xs": [value, {"y": value}]},
    )  # fmt: skip
    entries = parse_lines(to_line(entry) + "\n")
    assert verify_chain(entries, expect_head=entry["hash"]).intact


# -- text where a hash belongs -------------------------------------------------------------------

_NOT_ASCII = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=70
).filter(lambda text: not text.isascii())


@_SETTINGS
@given(member=st.sampled_from(["prev", "hash"]), text=_NOT_ASCII, line=st.integers(0, 2))
def test_a_hash_member_holding_text_beyond_ascii_is_a_break_not_a_traceback(
    tmp_path: Path, member: str, text: str, line: int
) -> None:
    entries = _chain(3)
    entries[line][member] = text
    result = _run(tmp_path, _export(entries))
    assert result.exit_code == 1, result.output
    assert "audit chain BROKEN" in result.stdout
    assert f"line {line + 1} (seq {line + 1})" in result.stdout


@_SETTINGS
@given(head=_NOT_ASCII)
def test_an_expected_head_beyond_ascii_is_a_break_not_a_traceback(
    tmp_path: Path, head: str
) -> None:
    result = _run(tmp_path, _export(_chain(2)), "--expect-head", head)
    assert result.exit_code == 1, result.output
    assert "entries were cut off the end" in result.stdout
    report = verify_chain(_chain(2), expect_head=head)  # the library alike
    assert not report.intact


# -- pinned: what held already -------------------------------------------------------------------


def _altered(entry: dict[str, Any], member: str, how: int) -> dict[str, Any]:
    changed = dict(entry)
    value = entry[member]
    if member == "seq":
        changed[member] = value + 1 + how % 3
    elif member == "details":
        details = dict(value)
        if how % 3 == 0:
            details["name"] = unicodedata.normalize("NFD", details["name"])  # looks the same
        elif how % 3 == 1:
            details["verified"] = not details["verified"]
        else:
            details["n"] = details["n"] + 1
        changed[member] = details
    elif member == "at":
        changed[member] = value.replace(".250000Z", ".25Z")  # the same moment, other text
    else:
        changed[member] = (value or "") + ("\u0301" if how % 2 else "0")
    return changed


@_SETTINGS
@given(
    member=st.sampled_from(["seq", "at", "actor", "action", "target", "details", "prev", "hash"]),
    how=st.integers(min_value=0, max_value=5),
    line=st.integers(min_value=0, max_value=3),
    rehash=st.booleans(),
)
def test_an_entry_altered_in_any_member_is_refused(
    tmp_path: Path, member: str, how: int, line: int, rehash: bool
) -> None:
    """Also a change no reader sees (a name decomposed, NFD: Unicode text is hashed as it is,
    never normalised) and a moment written otherwise; with its hash recomputed (``rehash``),
    the next entry's link breaks — or the head, for the last."""
    entries = _chain(4)
    head = entries[-1]["hash"]
    changed = _altered(entries[line], member, how)
    assume(changed != entries[line])
    if rehash and member != "hash":
        changed["hash"] = entry_hash(changed)
    entries[line] = changed
    result = _run(tmp_path, _export(entries), "--expect-head", head)
    assert result.exit_code == 1, result.output
    assert "audit chain BROKEN" in result.stdout


@_SETTINGS
@given(
    change=st.sampled_from(["remove", "duplicate", "swap", "move-to-end"]),
    at=st.integers(min_value=0, max_value=4),
)
def test_an_entry_removed_duplicated_or_reordered_is_refused(
    tmp_path: Path, change: str, at: int
) -> None:
    entries = _chain(5)
    if change == "remove":
        del entries[at]
    elif change == "duplicate":
        entries.insert(at, entries[at])
    elif change == "swap":
        other = (at + 1) % 5
        entries[at], entries[other] = entries[other], entries[at]
    else:
        entries.append(entries.pop(at))
        assume(at != 4)
    # the head is not given: what is left must show it on its own, but for the last removed
    result = _run(tmp_path, _export(entries))
    if change == "remove" and at == 4:
        assert result.exit_code == 0  # a cut at the end shows only against the head:
        result = _run(tmp_path, _export(entries), "--expect-head", _chain(5)[-1]["hash"])
    assert result.exit_code == 1, result.output
    assert "audit chain BROKEN" in result.stdout


def test_a_chain_cut_at_its_end_is_refused_against_its_head(tmp_path: Path) -> None:
    entries = _chain(4)
    result = _run(tmp_path, _export(entries[:2]), "--expect-head", entries[-1]["hash"])
    assert result.exit_code == 1
    assert "line 2 (seq 2): the last entry is not the expected head" in result.stdout
    assert _run(tmp_path, _export(entries), "--expect-head", entries[-1]["hash"]).exit_code == 0


@_SETTINGS
@given(at=st.integers(min_value=0, max_value=4), insert=st.booleans())
def test_a_chain_rewritten_from_an_entry_on_is_refused_against_its_head(
    tmp_path: Path, at: int, insert: bool
) -> None:
    """Whoever rewrites the chain from an entry on (or inserts one), every later link and
    seq recomputed, makes a chain that holds together: only the head kept elsewhere (the
    export's stderr, ``--expect-head``) shows it."""
    genuine = _chain(5)
    entries = [dict(entry) for entry in genuine[:at]]
    forged = dict(genuine[at], actor="officer:mallory")
    rest = [forged, *([dict(genuine[at])] if insert else []), *genuine[at + 1 :]]
    prev = entries[-1]["hash"] if entries else GENESIS
    for entry in rest:
        entry = dict(entry, seq=len(entries) + 1, prev=prev)
        entry["hash"] = entry_hash(entry)
        entries.append(entry)
        prev = entry["hash"]
    assert _run(tmp_path, _export(entries)).exit_code == 0  # holds together on its own
    result = _run(tmp_path, _export(entries), "--expect-head", genuine[-1]["hash"])
    assert result.exit_code == 1
    assert "entries were cut off the end" in result.stdout or "expected head" in result.stdout
