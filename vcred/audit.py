"""A tamper-evident audit log: an append-only chain in which each entry carries the hash of
the entry before it.

The issuer service appends one entry per issuance, status change and administrative act;
``vcred audit verify FILE`` checks an exported chain (JSON lines) with no access to the
service. Changing, removing, inserting or reordering any entry breaks the chain at that entry;
cutting entries off the end is only visible against a head hash kept elsewhere
(``verify_chain(..., expect_head=…)``).

An entry is a JSON object::

    {"seq": 1, "at": "2026-06-01T12:00:00Z", "actor": "api:tk3f…", "action": "issue",
     "target": "urn:uuid:…", "details": {…}, "prev": "000…0", "hash": "…"}

``seq`` counts from 1 without gaps; ``prev`` is the ``hash`` of entry ``seq - 1`` (64 zeros
for the first); ``hash`` is the SHA-256 (hex) of the RFC 8785 (JCS) canonical JSON of the entry
without its ``hash`` member. https://www.rfc-editor.org/rfc/rfc8785
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from vcred._json import loads_strict
from vcred.errors import AuditLineError, MalformedError, UsageError
from vcred.integrity.suites import JCS_INT_MAX, canonical_json

GENESIS: Final = "0" * 64
FIELDS: Final = ("seq", "at", "actor", "action", "target", "details", "prev", "hash")


#: A JSON string's text as ``json.dumps(ensure_ascii=False)`` writes it.
_string: Final[Callable[[str], str]] = json.encoder.encode_basestring

#: The members of an entry whose names sort before ``details`` in JCS, and those after.
_BEFORE_DETAILS: Final = ("action", "actor", "at")
_AFTER_DETAILS: Final = ("prev", "seq", "target")


def entry_hash(entry: Mapping[str, Any]) -> str:
    """The hash an entry must carry: SHA-256 of its JCS form without ``hash``.

    Raises UsageError for values JCS cannot represent (non-finite floats, non-string keys).
    """
    body = {name: value for name, value in entry.items() if name != "hash"}
    return hashlib.sha256(_canonical(body)).hexdigest()


def canonical_details(details: Mapping[str, Any]) -> str:
    """An entry's ``details`` in their JCS form: the text a chain stores, and the one its hash
    covers (:func:`stored_entry_hash`). Raises UsageError as :func:`entry_hash` does."""
    return _canonical(dict(details)).decode()


def stored_entry_hash(stored: Mapping[str, Any]) -> str:
    """:func:`entry_hash` of an entry held as a chain stores it: its ``details`` the text of
    :func:`canonical_details` (and no ``hash``), hashed as it is, not encoded again.

    JCS writes an object's members in the order of their names (RFC 8785 §3.2.3), each
    member's text its own; ``details`` sorts between ``at`` and ``prev``, so the entry's JCS
    form is that of the members before it, ``"details":`` and the text, then the members after.
    """
    text = _plain_stored_text(stored)
    if text is None:
        before = _canonical({name: stored[name] for name in _BEFORE_DETAILS})
        after = _canonical({name: stored[name] for name in _AFTER_DETAILS})
        details = stored["details"].encode()
        text = b"".join((before[:-1], b',"details":', details, b",", after[1:]))
    return hashlib.sha256(text).hexdigest()


def _plain_stored_text(stored: Mapping[str, Any]) -> bytes | None:
    """The JCS form of a stored entry whose members are what every service writes — strings,
    an integer ``seq`` JCS holds exactly, a string or null ``target`` — written out member by
    member (the chain seals each entry on a worker's flush, and canonicalising its members as
    an object costs more than hashing it); None for any other entry, or for text that is not
    Unicode (a lone surrogate), for the general path to take, or refuse.

    The members' names are ASCII, so their JCS order is that of their names, and a string's
    JCS text is ``json.dumps(ensure_ascii=False)``'s (RFC 8785 §3.2.2.2; what
    :func:`vcred.integrity.suites.canonical_json` writes for such an object too).
    """
    action, actor, at = stored["action"], stored["actor"], stored["at"]
    prev, seq, target = stored["prev"], stored["seq"], stored["target"]
    if not (
        type(action) is str
        and type(actor) is str
        and type(at) is str
        and type(prev) is str
        and type(seq) is int
        and -JCS_INT_MAX <= seq <= JCS_INT_MAX
        and (target is None or type(target) is str)
        and type(stored["details"]) is str
    ):
        return None
    text = (
        f'{{"action":{_string(action)},"actor":{_string(actor)},"at":{_string(at)},'
        f'"details":{stored["details"]},"prev":{_string(prev)},"seq":{seq},'
        f'"target":{"null" if target is None else _string(target)}}}'
    )
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None


#: What joins a head's hash (``prev``) to the next ``seq`` in an entry's JCS form.
PREV_SEQ_JOIN: Final = b'","seq":'


def stored_entry_hash_around_head(stored: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """The bytes :func:`stored_entry_hash` hashes, but for the chain's head: ``(before,
    after)`` such that the entry sealed after a head of hash ``prev`` (64 hex digits) and
    number ``seq - 1`` hashes ``before + prev + PREV_SEQ_JOIN + str(seq) + after`` — so that a
    database holding the head can seal the entry in the statement that takes it. ``stored``
    needs no ``prev`` or ``seq``. Raises UsageError as :func:`entry_hash` does.

    JCS (RFC 8785 §3.2.3) writes ``prev`` and ``seq`` one after the other, between
    ``details`` and ``target``; a hex string and an integer are written as they are.
    """
    before = _canonical({name: stored[name] for name in _BEFORE_DETAILS})
    target = _canonical({"target": stored["target"]})
    details = stored["details"].encode()
    return b"".join((before[:-1], b',"details":', details, b',"prev":"')), b"," + target[1:]


def _canonical(value: dict[str, Any]) -> bytes:
    try:
        # json.dumps where that is JCS (every entry the services write), else rfc8785
        return canonical_json(value)
    except MalformedError as exc:
        raise UsageError(f"an audit entry must be plain JSON: {exc.message}") from exc


def seal(
    *,
    seq: int,
    prev: str,
    at: str,
    actor: str,
    action: str,
    target: str | None,
    details: Mapping[str, Any],
) -> dict[str, Any]:
    """The next entry of a chain whose last entry has number ``seq - 1`` and hash ``prev``."""
    entry: dict[str, Any] = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "target": target,
        "details": dict(details),
        "prev": prev,
    }
    entry["hash"] = stored_entry_hash(entry | {"details": canonical_details(details)})
    return entry


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainBreak:
    """Where a chain breaks: the line of the export (from 1), the entry's seq, and why."""

    line: int
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" (seq {self.seq})" if self.seq is not None else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainReport:
    """The outcome of checking a chain; ``intact`` when there is no break."""

    entries: int
    head: str
    breaks: tuple[ChainBreak, ...] = ()

    @property
    def intact(self) -> bool:
        return not self.breaks

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "entries": self.entries,
            "head": self.head,
            "breaks": [{"line": b.line, "seq": b.seq, "message": b.message} for b in self.breaks],
        }


def verify_chain(
    entries: Iterable[Mapping[str, Any] | None], *, expect_head: str | None = None
) -> ChainReport:
    """Check a whole chain, from its first entry, and report every place it breaks.

    ``None`` items stand for lines that could not be read (they break the chain there).
    Each entry is checked against its own neighbours, so one altered entry is reported once
    (its hash) and a removed one where the gap is. ``expect_head``: the hash the last entry
    must have (detects entries cut off the end).
    """
    breaks: list[ChainBreak] = []
    previous_hash, previous_seq, count = GENESIS, 0, 0
    for line, entry in enumerate(entries, start=1):
        count += 1
        if entry is None or not isinstance(entry, Mapping):
            breaks.append(ChainBreak(line=line, seq=None, message="not a JSON object"))
            previous_seq += 1
            continue
        missing = [name for name in FIELDS if name not in entry]
        extra = sorted(set(entry) - set(FIELDS))
        seq = entry.get("seq")
        seq_value = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
        if missing or extra:
            detail = ", ".join(
                [*(f"missing {m}" for m in missing), *(f"unexpected {e}" for e in extra)]
            )
            breaks.append(ChainBreak(line=line, seq=seq_value, message=f"malformed: {detail}"))
        if seq_value is None:
            breaks.append(ChainBreak(line=line, seq=None, message="seq is not an integer"))
        elif seq_value != previous_seq + 1:
            breaks.append(
                ChainBreak(
                    line=line,
                    seq=seq_value,
                    message=f"expected seq {previous_seq + 1}: entries are missing or reordered",
                )
            )
        if not _same_text(entry.get("prev"), previous_hash):
            breaks.append(
                ChainBreak(
                    line=line,
                    seq=seq_value,
                    message="prev is not the hash of the entry before: the chain is cut here",
                )
            )
        recorded = entry.get("hash")
        try:
            computed = entry_hash(entry)
        except UsageError as exc:
            breaks.append(ChainBreak(line=line, seq=seq_value, message=exc.message))
            computed = ""
        if not _same_text(recorded, computed):
            breaks.append(
                ChainBreak(
                    line=line,
                    seq=seq_value,
                    message="hash does not match the entry: it was altered",
                )
            )
        previous_hash = recorded if isinstance(recorded, str) else computed
        previous_seq = seq_value if seq_value is not None else previous_seq + 1
    if expect_head is not None and not _same_text(expect_head, previous_hash):
        breaks.append(
            ChainBreak(
                line=count,
                seq=previous_seq or None,
                message="the last entry is not the expected head: entries were cut off the end",
            )
        )
    return ChainReport(entries=count, head=previous_hash, breaks=tuple(breaks))


def _same_text(value: object, expected: str) -> bool:
    """Whether ``value`` is the text ``expected``, compared in constant time.

    ``hmac.compare_digest`` raises TypeError for a ``str`` holding anything but ASCII: an
    export whose ``prev`` or ``hash`` (or an ``--expect-head``) holds one must be a break, not
    a traceback. Both are compared as their UTF-8 bytes (a lone surrogate kept as it is).
    """
    if not isinstance(value, str):
        return False
    return hmac.compare_digest(
        value.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def parse_lines(data: str | bytes) -> list[dict[str, Any]]:
    """The entries of a JSON-lines export, each line parsed strictly.

    Blank lines are skipped; the line numbers of :class:`ChainBreak` count the others.
    Raises AuditLineError naming the line (as counted in the file, from 1) that is not
    UTF-8, not JSON, has a repeated member, NaN/Infinity or a number no double can hold
    (``jose.loads_strict``; its pointer within the entry is in the message), or is not an
    object: a repeated member would be read as its last value, so an entry could
    show one thing and hash as another. Likewise a number written otherwise than the chain
    hashed it (``7.0`` for ``7``, ``-0`` for ``0``: :data:`_NUMBERS_AS_HASHED`).
    """
    # only "\n" ends a line: str.splitlines would also cut at U+2028 and other separators,
    # which an entry may hold inside a string (the export keeps UTF-8 as it is)
    lines: list[str | bytes] = [
        *(data.split(b"\n") if isinstance(data, bytes) else data.split("\n"))
    ]
    entries: list[dict[str, Any]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        entries.append(_parse_line(raw, number, index=len(entries)))
    return entries


def _parse_line(raw: str | bytes, number: int, *, index: int) -> dict[str, Any]:
    raw = raw[:-1] if raw[-1:] in ("\r", b"\r") else raw
    try:
        value = loads_strict(raw, what="the entry")
    except MalformedError as exc:  # ParsingError, or a number out of range (with its pointer)
        raise AuditLineError(f"audit export line {number}: {exc}", pointer=f"/{index}") from exc
    if not isinstance(value, dict):
        raise AuditLineError(f"audit export line {number}: not a JSON object", pointer=f"/{index}")
    try:
        _NUMBERS_AS_HASHED.decode(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except RecursionError as exc:  # as deep as the strict parse just allowed: a frame more
        raise AuditLineError(
            f"audit export line {number}: the entry is nested too deeply", pointer=f"/{index}"
        ) from exc
    except _NumberNotAsHashedError as exc:
        raise AuditLineError(
            f"audit export line {number}: the number {exc.written[:40]} is not written as the "
            f"chain hashed it ({exc.hashed[:40]}): the entry's text was altered",
            pointer=f"/{index}",
        ) from exc
    return value


class _NumberNotAsHashedError(ValueError):
    def __init__(self, written: str, hashed: str) -> None:
        super().__init__(written)
        self.written, self.hashed = written, hashed


def _integer_as_hashed(written: str) -> int:
    if written == "-0":  # the only integer JSON writes two ways
        raise _NumberNotAsHashedError(written, "0")
    return int(written)


def _float_as_hashed(written: str) -> float:
    value = float(written)
    if value.is_integer() and abs(value) <= JCS_INT_MAX:
        raise _NumberNotAsHashedError(written, str(int(value)))
    return value


#: Reads a line again, told each number as written. An entry's hash is of its JCS form, which
#: writes an integral double as an integer (RFC 8785 §3.2.2.3: ``7.0``, ``7e0``, ``70e-1`` as
#: ``7``; ``-0``, ``-0.0`` as ``0``): such a number written otherwise hashes as the one the
#: chain wrote, yet reads as another value to a reader that keeps a float apart from an
#: integer (Python) or ``-0`` apart from ``0``. Other doubles read as the same double whatever
#: their form. The chain writes integral doubles as integers (:func:`to_line`).
_NUMBERS_AS_HASHED: Final = json.JSONDecoder(
    parse_int=_integer_as_hashed, parse_float=_float_as_hashed
)


def _as_hashed(value: Any) -> Any:
    """``value`` with each double JCS writes as an integer (an integral one within 2^53)
    made that integer, the form :data:`_NUMBERS_AS_HASHED` reads."""
    kind = type(value)
    if kind is float and value.is_integer() and abs(value) <= JCS_INT_MAX:
        return int(value)
    if kind is dict:
        return {name: _as_hashed(member) for name, member in value.items()}
    if kind is list:
        return [_as_hashed(item) for item in value]
    return value


def to_line(entry: Mapping[str, Any]) -> str:
    """One entry as a line of the export (compact JSON, UTF-8 kept), an integral double
    written as the integer JCS hashed (``100``, not ``100.0``): as :func:`parse_lines`
    insists on."""
    return json.dumps(_as_hashed(dict(entry)), ensure_ascii=False, separators=(",", ":"))
