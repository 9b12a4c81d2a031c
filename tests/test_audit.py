"""The tamper-evident audit chain: each entry carries the hash of the one before."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from vcred.audit import (
    GENESIS,
    PREV_SEQ_JOIN,
    canonical_details,
    entry_hash,
    parse_lines,
    seal,
    stored_entry_hash,
    stored_entry_hash_around_head,
    to_line,
    verify_chain,
)
from vcred.cli import main
from vcred.errors import AuditLineError, UsageError


def chain(n: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        entry = seal(
            seq=seq,
            prev=prev,
            at=f"2026-06-01T12:00:{seq:02d}Z",
            actor="token:abc",
            action="issue",
            target=f"urn:uuid:{seq}",
            details={"format": "vc+jwt", "index": seq * 7, "name": "Bäckerei"},
        )
        entries.append(entry)
        prev = entry["hash"]
    return entries


def test_an_untouched_chain_is_intact() -> None:
    entries = chain(5)
    report = verify_chain(entries, expect_head=entries[-1]["hash"])
    assert report.intact
    assert report.entries == 5
    assert report.head == entries[-1]["hash"]
    assert entries[0]["prev"] == GENESIS
    assert entry_hash(entries[2]) == entries[2]["hash"]


def test_an_altered_entry_is_reported_where_it_is() -> None:
    entries = chain(5)
    entries[2]["details"]["index"] = 999
    report = verify_chain(entries)
    assert [(b.line, b.seq) for b in report.breaks] == [(3, 3)]
    assert "altered" in report.breaks[0].message


def test_an_altered_entry_with_a_recomputed_hash_breaks_the_next_link() -> None:
    entries = chain(5)
    entries[2]["actor"] = "officer:mallory"
    entries[2]["hash"] = entry_hash(entries[2])
    report = verify_chain(entries)
    assert [(b.line, b.seq) for b in report.breaks] == [(4, 4)]
    assert "prev" in report.breaks[0].message


def test_a_removed_entry_is_a_gap_and_a_cut() -> None:
    entries = chain(5)
    del entries[1]
    messages = [str(b) for b in verify_chain(entries).breaks]
    assert messages[0].startswith("line 2 (seq 3): expected seq 2")
    assert "cut" in messages[1]


def test_reordered_entries_are_refused() -> None:
    entries = chain(4)
    entries[1], entries[2] = entries[2], entries[1]
    assert not verify_chain(entries).intact


def test_truncation_shows_only_against_the_expected_head() -> None:
    entries = chain(5)
    head = entries[-1]["hash"]
    assert verify_chain(entries[:3]).intact
    report = verify_chain(entries[:3], expect_head=head)
    assert not report.intact
    assert "cut off the end" in report.breaks[-1].message


def test_unreadable_lines_are_refused_by_their_line_and_malformed_entries_break_the_chain() -> None:
    lines = [to_line(e) for e in chain(3)]
    lines[1] = "{not json"
    with pytest.raises(AuditLineError, match="line 2: ") as raised:
        parse_lines("\n".join(lines) + "\n\n")
    assert raised.value.code == "AUDIT_LINE"
    assert verify_chain([None]).breaks[0].message == "not a JSON object"
    extra = dict(chain(1)[0], note="x")
    assert "unexpected note" in str(verify_chain([extra]).breaks[0])


@pytest.mark.parametrize("tamper", ["none", "edit"])
def test_cli_audit_verify(tmp_path: Path, tamper: str) -> None:
    entries = chain(4)
    if tamper == "edit":
        entries[1]["target"] = "urn:uuid:forged"
    path = tmp_path / "audit.jsonl"
    path.write_text("".join(to_line(e) + "\n" for e in entries), encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", "verify", str(path)])
    if tamper == "none":
        assert result.exit_code == 0, result.output
        assert "intact: 4 entries" in result.output
    else:
        assert result.exit_code == 1
        assert "line 2 (seq 2)" in result.output


def test_cli_audit_verify_checks_the_head(tmp_path: Path) -> None:
    entries = chain(3)
    path = tmp_path / "audit.jsonl"
    path.write_text("".join(to_line(e) + "\n" for e in entries[:2]), encoding="utf-8")
    args = ["audit", "verify", str(path), "--expect-head", entries[-1]["hash"]]
    assert CliRunner().invoke(main, args).exit_code == 1
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert CliRunner().invoke(main, ["audit", "verify", str(empty)]).exit_code == 2
    assert json.loads(to_line(entries[0]))["seq"] == 1


# JSON values JCS must canonicalize, the plain ones (json.dumps' fast path) and the others:
# floats, keys outside the Basic Multilingual Plane, integers beyond 2^53 (refused by both)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(details=st.dictionaries(st.text(), _json_values, max_size=5), target=st.text() | st.none())
def test_an_entry_hash_is_the_sha256_of_its_rfc8785_form(
    details: dict[str, Any], target: str | None
) -> None:
    entry = {"seq": 1, "at": "2026-06-01T12:00:00Z", "actor": "api", "action": "verify"}
    entry |= {"target": target, "details": details, "prev": GENESIS}
    try:
        expected: str | None = hashlib.sha256(rfc8785.dumps(entry)).hexdigest()
    except (rfc8785.CanonicalizationError, TypeError, ValueError):
        expected = None
    if expected is None:
        with pytest.raises(UsageError):
            entry_hash(entry)
    else:
        assert entry_hash(entry) == expected


@settings(max_examples=300, deadline=None)
@given(
    details=st.dictionaries(st.text(), _json_values, max_size=5),
    target=st.text() | st.none() | st.integers(),
    actor=st.text(),
    members=st.fixed_dictionaries(
        {
            "at": st.just("2026-06-01T12:00:00Z") | st.text(),
            "action": st.sampled_from(["issue", "verify-credential"]) | st.text(),
            "prev": st.just(GENESIS) | st.text(),
            "seq": st.integers(min_value=1, max_value=9) | st.integers() | st.booleans(),
        }
    ),
)
def test_an_entry_stored_with_its_details_as_text_hashes_as_the_entry(
    details: dict[str, Any], target: Any, actor: str, members: dict[str, Any]
) -> None:
    """The chain hashes the details' text it stores, spliced into the other members' JCS
    form (written out member by member when they are plain strings and integers): the same
    hash as the whole entry's JCS form (the chain's definition), or the same refusal."""
    entry = {"actor": actor, "target": target, "details": details, **members}
    try:
        expected: str | None = entry_hash(entry)
    except UsageError:
        expected = None
    if expected is None:
        with pytest.raises(UsageError):
            stored_entry_hash(entry | {"details": canonical_details(details)})
    else:
        assert stored_entry_hash(entry | {"details": canonical_details(details)}) == expected
        assert canonical_details(details).encode() == rfc8785.dumps(details)


@settings(max_examples=300, deadline=None)
@given(
    details=st.dictionaries(st.text(), _json_values, max_size=5),
    target=st.text() | st.none(),
    actor=st.text(),
    seq=st.integers(min_value=1, max_value=2**31 - 1),  # the chain's seq column: 32 bits
    prev=st.binary(min_size=32, max_size=32).map(bytes.hex),
)
def test_an_entry_hashed_around_its_head_hashes_as_the_entry(
    details: dict[str, Any], target: str | None, actor: str, seq: int, prev: str
) -> None:
    """The bytes a database holding the head completes (the PostgreSQL issuer seals an entry
    in the statement that takes the head) hash as the whole entry's JCS form, or are refused
    alike."""
    entry = {"seq": seq, "at": "2026-06-01T12:00:00Z", "actor": actor, "action": "issue"}
    entry |= {"target": target, "details": details, "prev": prev}
    try:
        expected: str | None = entry_hash(entry)
    except UsageError:
        expected = None
    stored = {name: entry[name] for name in ("at", "actor", "action", "target")}
    if expected is None:
        with pytest.raises(UsageError):
            stored_entry_hash_around_head(stored | {"details": canonical_details(details)})
        return
    before, after = stored_entry_hash_around_head(stored | {"details": canonical_details(details)})
    completed = before + prev.encode() + PREV_SEQ_JOIN + str(seq).encode() + after
    assert hashlib.sha256(completed).hexdigest() == expected


def test_a_sealed_entry_carries_the_hash_of_its_whole_jcs_form() -> None:
    entry = chain(1)[0]
    body = {name: value for name, value in entry.items() if name != "hash"}
    assert entry["hash"] == hashlib.sha256(rfc8785.dumps(body)).hexdigest()
