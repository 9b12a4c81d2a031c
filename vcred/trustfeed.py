"""Trust lists over time: which list may replace which, what changed, and a refreshing feed.

An agency publishes its MRA trust list at a stable URL and replaces it before its
``nextUpdate``; each list carries a ``sequenceNumber`` and names the list it replaces by
sequence number and digest (docs/trust-fabric.md). A verifier holds one list per anchor and:

- accepts a new list only when it verifies under the trust anchor and succeeds the held one
  (:func:`check_succession`): a lower sequence number is a rollback, the same number with
  other content or a successor naming another predecessor is a fork, a successor naming no
  predecessor is not shown to succeed — all refused, the held list staying;
- when a list skips numbers, fetches the lists in between from the publisher (the list
  numbered *m* beside the list's URL, :func:`numbered_url`) and checks each link back to the
  held one (:meth:`TrustListFeed.accept`), at most :data:`MAX_WALK` of them;
- refreshes it before ``nextUpdate`` (:class:`TrustListFeed`), and on demand;
- stops trusting anyone under it after ``nextUpdate`` plus a grace it configures
  (:attr:`vcred.trust.TrustList.grace`), should no newer list arrive.

Fetching goes through a :class:`~vcred.net.Fetcher` handed in (the SSRF-guarded
:class:`~vcred.net.GuardedFetcher` in the services); nothing here opens a socket itself.
"""

from __future__ import annotations

import dataclasses
import hmac
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urljoin

from ._forksafe import renew_locks_in_children
from .errors import TrustListSequenceError, UsageError, VcredError
from .net import Fetcher
from .trust import (
    RecognisedIssuer,
    TrustAnchor,
    TrustList,
    list_digest,
    load_signed_trust_list,
)

__all__ = [
    "RefreshReport",
    "TrustListFeed",
    "check_succession",
    "describe",
    "diff",
    "numbered_url",
]

#: What a trust-list URL is asked for: the VC-JOSE-COSE media type, or JSON (Data Integrity).
ACCEPT: Final = "application/vc+jwt, application/vc+ld+json;q=0.9, application/json;q=0.5"
MAX_LIST_BYTES: Final = 2 * 1024 * 1024
#: How many lists a feed fetches between the one held and one that skips numbers, to show
#: the links between them: past it the list is refused (fail closed) — a verifier that missed
#: so many lists is not walked back an unbounded way by what one answer names.
MAX_WALK: Final = 16


def numbered_url(url: str, sequence: int) -> str:
    """Where the list numbered ``sequence`` is published beside the list at ``url``: the
    relative reference ``<sequence>`` resolved against ``url`` (RFC 3986 §5.2), so
    ``https://cbp.example/trust-lists/current`` gives ``https://cbp.example/trust-lists/7``
    — the issuer service's ``GET /trust-lists/<n>`` (docs/trust-fabric.md)."""
    return urljoin(url, str(sequence))


def check_succession(
    held: TrustList | None, new: TrustList, *, between: Sequence[TrustList] = ()
) -> None:
    """Whether ``new`` may replace ``held`` (all verified under the same anchor).

    ``between``: the lists published between ``held`` and ``new`` (oldest first), when
    ``new`` skips numbers — each must name the one before it, the first the held list, and
    ``new`` the last; the caller fetched them (:class:`TrustListFeed`, ``vcred trust-list
    verify --between``). Pure: no I/O.

    Nothing held: any list is taken (the first one ever loaded). Raises
    TrustListSequenceError for a list without a sequence number replacing one with it, a
    lower sequence number (rollback), the same number with other content (fork), and a
    higher number that cannot be shown to succeed the list held (:func:`_check_successor`);
    when the held list has no number, for one that took effect before it (an earlier
    ``validFrom``: rollback).
    """
    if held is None:
        return
    if held.sequence is None:
        # no numbers to compare: a list that took effect before the held one is older
        if held.valid_from is not None and (
            new.valid_from is None or new.valid_from < held.valid_from
        ):
            raise TrustListSequenceError(
                f"the trust list held ({held.label}) took effect at "
                f"{_iso(held.valid_from)}; one that took effect before is older: refused as "
                "a rollback",
                pointer="/validFrom",
            )
        return
    _check_successor(held.sequence, held.digest, held.label, new, between)


def _check_successor(
    sequence: int,
    digest: str | None,
    label: str,
    new: TrustList,
    between: Sequence[TrustList] = (),
) -> None:
    """Whether ``new`` may follow the list numbered ``sequence`` of ``digest`` (None: not
    known), called ``label`` in what is raised: the held list, or one an earlier run
    accepted (:meth:`TrustListFeed.hold_floor`), through the lists ``between`` them.

    A list numbered higher must name the list it replaces (``replaces``, docs/trust-fabric.md):
    the one held — its number and digest — or, when numbers were skipped, the last of
    ``between``, each of which names the one before it and the first the held list. Without
    ``replaces``, naming a list before the one held (a branch that left it out), or naming a
    later one not shown to descend from the held list (not in ``between``: a branch that never
    contained it would pass), it is refused (fail closed). Raises TrustListSequenceError.
    """
    if new.sequence is None:
        raise TrustListSequenceError(
            f"the trust list held is {label}; a list without a sequence number cannot replace it",
            pointer="/credentialSubject/sequenceNumber",
        )
    if new.sequence < sequence:
        raise TrustListSequenceError(
            f"trust list sequence {new.sequence} is older than the {sequence} held "
            f"({label}): refused as a rollback",
            pointer="/credentialSubject/sequenceNumber",
        )
    if new.sequence == sequence:
        # a list of unknown content (no digest) cannot be shown to be the one held
        if digest is not None and not hmac.compare_digest(digest, new.digest or ""):
            raise TrustListSequenceError(
                f"another list with the sequence number {new.sequence} of the one held "
                f"({label}): refused as a fork",
                pointer="/credentialSubject/sequenceNumber",
            )
        return
    named_as = f"the one held ({label})"
    for item in (*between, new):
        _check_link(sequence, digest, named_as, item, new)
        sequence = item.sequence if item.sequence is not None else sequence
        digest = item.digest
        named_as = f"list {item.sequence} published between"


def _check_link(
    sequence: int, digest: str | None, named_as: str, item: TrustList, new: TrustList
) -> None:
    """One link of :func:`_check_successor`: ``item`` names the list numbered ``sequence``
    (of ``digest``, None: not known), called ``named_as``, as the one it replaces."""
    subject = "" if item is new else f" (between the one held and list {new.sequence})"
    if item is not new and item.digest is None:
        # its successor's link could not be checked: a list of unknown content links nothing
        raise TrustListSequenceError(
            f"trust list {item.sequence}{subject} is of unknown content (no digest): it cannot "
            "link the lists around it: refused",
            pointer="/credentialSubject/replaces",
        )
    if item.sequence is None or item.sequence <= sequence:
        raise TrustListSequenceError(
            f"trust list {item.sequence}{subject} is not numbered after {named_as}: refused",
            pointer="/credentialSubject/sequenceNumber",
        )
    if item.replaces is None:
        raise TrustListSequenceError(
            f"trust list {item.sequence}{subject} does not name the list it replaces, so it "
            f"cannot be shown to succeed {named_as}: refused (its replaces must name list "
            f"{sequence}{f' {digest}' if digest else ''})",
            pointer="/credentialSubject/replaces",
        )
    number, named = item.replaces
    if number >= item.sequence:
        raise TrustListSequenceError(
            f"trust list {item.sequence}{subject} claims to replace list {number}, not an "
            "earlier one: refused",
            pointer="/credentialSubject/replaces/sequenceNumber",
        )
    if number < sequence or (
        number == sequence and digest is not None and not hmac.compare_digest(named, digest)
    ):
        raise TrustListSequenceError(
            f"trust list {item.sequence}{subject} replaces list {number} ({named}), not "
            f"{named_as}{f', {digest}' if digest else ''}: refused as a fork",
            pointer="/credentialSubject/replaces",
        )
    if number > sequence:
        # skipped numbers: only the lists in between show that it descends from the one held
        # (one naming a list never published would be a branch that never contained it)
        raise TrustListSequenceError(
            f"trust list {item.sequence}{subject} replaces list {number} ({named}), which "
            f"this verifier has not seen: without the lists between it and {named_as}, it "
            "cannot be shown to descend from it: refused",
            pointer="/credentialSubject/replaces",
        )


def describe(trust_list: TrustList) -> dict[str, Any]:
    """A summary of a verified trust list (``vcred trust-list show``)."""
    return {
        "id": trust_list.id,
        "issuer": trust_list.issuer,
        "authority": trust_list.authority,
        "programme": trust_list.programme,
        "sequenceNumber": trust_list.sequence,
        "validFrom": _iso(trust_list.valid_from),
        "nextUpdate": _iso(trust_list.next_update),
        "validUntil": _iso(trust_list.valid_until),
        "replaces": (
            None
            if trust_list.replaces is None
            else {"sequenceNumber": trust_list.replaces[0], "digest": trust_list.replaces[1]}
        ),
        "digest": trust_list.digest,
        "recognisedIssuers": [_describe_entry(entry) for entry in trust_list.entries],
    }


def diff(old: TrustList, new: TrustList) -> dict[str, Any]:
    """What changed from ``old`` to ``new``: issuers added, removed, and per issuer kept the
    members that differ (``vcred trust-list diff``)."""
    before = {entry.issuer: _describe_entry(entry) for entry in old.entries}
    after = {entry.issuer: _describe_entry(entry) for entry in new.entries}
    changed: dict[str, dict[str, Any]] = {}
    for issuer in sorted(before.keys() & after.keys()):
        members = {
            name: {"from": before[issuer].get(name), "to": after[issuer].get(name)}
            for name in sorted(before[issuer].keys() | after[issuer].keys())
            if before[issuer].get(name) != after[issuer].get(name)
        }
        if members:
            changed[issuer] = members
    return {
        "sequenceNumber": {"from": old.sequence, "to": new.sequence},
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": changed,
    }


def _describe_entry(entry: RecognisedIssuer) -> dict[str, Any]:
    mra = entry.mra
    return {
        "id": entry.issuer,
        "dids": sorted(entry.dids),
        "country": entry.country,
        "programme": entry.programme,
        "acceptedCredentialTypes": sorted(entry.accepted_types),
        "pinnedKeys": [key.as_dict() for key in entry.pinned_keys],
        "mutualRecognition": {
            "id": mra.id,
            "since": mra.since.isoformat(),
            "until": mra.until.isoformat() if mra.until else None,
            "recognisedTiers": sorted(mra.recognised_tiers) if mra.recognised_tiers else None,
        },
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshReport:
    """What one refresh did: the list held after it, and what went wrong, if anything."""

    at: datetime
    sequence: int | None
    changed: bool
    source: str | None = None
    errors: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": _iso(self.at),
            "sequenceNumber": self.sequence,
            "changed": self.changed,
            "source": self.source,
            "errors": list(self.errors),
        }


class TrustListFeed:
    """The trust list of one anchor, refreshed from its published URLs (thread-safe).

    ``urls``: where the agency publishes the list (mirrors, tried in order until one gives
    an acceptable list). ``verifier``: checks the lists' proofs (a :class:`vcred.Verifier`,
    for did:web resolution). ``grace``: how long past ``nextUpdate`` a list still decides.
    ``refresh_before``: how long before ``nextUpdate`` to fetch the next one; ``retry``: how
    long to wait after a failed refresh. ``on_accept``: called with each list accepted and
    its secured text (the verifier keeps them, :mod:`verifier_app.trust_history`). Raises
    UsageError for no URL or a naive clock.
    """

    def __init__(
        self,
        *,
        anchor: TrustAnchor,
        urls: Sequence[str],
        fetcher: Fetcher,
        verifier: Any = None,
        grace: timedelta = timedelta(hours=1),
        refresh_before: timedelta = timedelta(minutes=10),
        retry: timedelta = timedelta(minutes=1),
        clock: Callable[[], datetime],
        on_accept: Callable[[TrustList, str], None] | None = None,
    ) -> None:
        if not urls:
            raise UsageError("a trust list feed needs at least one URL")
        if grace < timedelta(0) or refresh_before < timedelta(0) or retry < timedelta(0):
            raise UsageError("grace, refresh_before and retry are not negative")
        self.anchor = anchor
        self.urls = tuple(urls)
        self.grace = grace
        self.refresh_before = refresh_before
        self.retry = retry
        self._fetcher = fetcher
        self._verifier = verifier
        self._clock = clock
        self._on_accept = on_accept
        renew_locks_in_children(self)
        self._current: TrustList | None = None
        #: (sequence number, digest) of a list accepted before that can no longer be held
        self._floor: tuple[int, str] | None = None
        self._last_failure: datetime | None = None
        self._last: RefreshReport | None = None

    def _new_locks(self) -> None:
        # here and in every forked child (vcred._forksafe)
        self._lock = threading.Lock()

    @property
    def current(self) -> TrustList | None:
        """The list held (None before the first one was accepted)."""
        return self._current

    @property
    def last_report(self) -> RefreshReport | None:
        return self._last

    def accept(self, secured: str, *, source: str) -> TrustList:
        """Verify ``secured`` under the anchor and hold it if it succeeds the list held.

        A list that skips numbers is linked to the list held (or the floor) through the lists
        in between, fetched from the publisher (:meth:`_between`). Raises what
        :func:`vcred.trust.load_signed_trust_list` raises (bad proof, another issuer, not the
        anchor's key, expired …) and TrustListSequenceError (rollback, fork, a list in between
        that cannot be fetched, verified or linked, more than :data:`MAX_WALK` of them).
        """
        now = self._clock()
        loaded = load_signed_trust_list(
            secured, now=now, anchor=self.anchor, verifier=self._verifier
        )
        loaded = dataclasses.replace(loaded, grace=self.grace)
        with self._lock:
            held, floor = self._current, self._floor
        bound = held.sequence if held is not None else floor[0] if floor is not None else None
        # fetched outside the lock; checked under it against what is held then
        between = self._between(loaded, bound, source=source, now=now)
        with self._lock:
            if self._current is None and self._floor is not None:
                _check_floor(self._floor, loaded, between)
            check_succession(self._current, loaded, between=between)
            changed = self._current is None or self._current.digest != loaded.digest
            self._current = loaded
            self._floor = None  # the list held bounds what follows from now on
            self._last_failure = None
            self._last = RefreshReport(
                at=now, sequence=loaded.sequence, changed=changed, source=source
            )
        if self._on_accept is not None:
            self._on_accept(loaded, secured)
        return loaded

    def _between(
        self, new: TrustList, bound: int | None, *, source: str, now: datetime
    ) -> tuple[TrustList, ...]:
        """The lists between the one numbered ``bound`` (held, or the floor) and ``new``,
        oldest first: followed back from ``new`` through ``replaces`` while it names a list
        after ``bound``, each fetched from :func:`numbered_url` of ``source`` (then of the
        other URLs) through the feed's fetcher (:meth:`_fetch_between`). Whether they link up
        is :func:`check_succession`'s to say. Raises TrustListSequenceError past
        :data:`MAX_WALK` lists, or for one that cannot be fetched and verified."""
        found: list[TrustList] = []
        cursor = new
        while (
            bound is not None
            and cursor.sequence is not None
            and cursor.replaces is not None
            and bound < cursor.replaces[0] < cursor.sequence
        ):
            if len(found) == MAX_WALK:
                raise TrustListSequenceError(
                    f"trust list {new.sequence} is more than {MAX_WALK} lists after list "
                    f"{bound} (the list held): the links between them are not followed that "
                    "far, so it cannot be shown to descend from it: refused",
                    pointer="/credentialSubject/replaces",
                )
            number, digest = cursor.replaces
            found.append(
                self._fetch_between(number, digest, cursor, new, bound, source=source, now=now)
            )
            cursor = found[-1]
        return tuple(reversed(found))

    def _fetch_between(
        self,
        number: int,
        digest: str,
        successor: TrustList,
        new: TrustList,
        bound: int,
        *,
        source: str,
        now: datetime,
    ) -> TrustList:
        """The list ``successor`` replaces (numbered ``number``, of ``digest``), fetched and
        verified under the anchor as of the moment ``successor`` took effect (it was in force
        until then; it need not be now). Raises TrustListSequenceError naming what each URL
        answered."""
        as_of = min(successor.valid_from or now, now)
        verifier = self._verifier
        if verifier is not None:
            verifier = dataclasses.replace(verifier, at=as_of)
        # the URL that answered ``new`` first (it publishes that branch), then the mirrors
        urls = (
            (source, *(u for u in self.urls if u != source)) if source in self.urls else self.urls
        )
        errors: list[str] = []
        for url in urls:
            where = numbered_url(url, number)
            try:
                body = self._fetcher.fetch(where, accept=ACCEPT, max_bytes=MAX_LIST_BYTES)
                text = body.decode("utf-8").strip()
                if not hmac.compare_digest(list_digest(text), digest):
                    errors.append(
                        f"{where}: another list than the one list {successor.sequence} names"
                    )
                    continue
                return load_signed_trust_list(
                    text, now=as_of, anchor=self.anchor, verifier=verifier
                )
            except UnicodeDecodeError:
                errors.append(f"{where}: MALFORMED: the trust list is not UTF-8 text")
            except VcredError as exc:
                errors.append(f"{where}: {exc.code}: {exc.message}")
        raise TrustListSequenceError(
            f"trust list {new.sequence} skips lists after list {bound} (the list held); list "
            f"{number} ({digest}), which list {successor.sequence} replaces, could not be "
            f"fetched and verified to show it descends from list {bound}: refused "
            f"({'; '.join(errors)})",
            pointer="/credentialSubject/replaces",
        )

    def resume(self, secured: str, *, accepted_at: datetime) -> TrustList:
        """Hold again the list an earlier run accepted at ``accepted_at`` (the newest its
        caller kept), so that no older list replaces it after a restart: the feed would start
        empty and take whatever list its URLs answered first, one the kept list had replaced.

        Verified under the anchor as of ``accepted_at`` (a list that has expired since still
        bounds what may follow it; it decides nothing now, :meth:`TrustList.refusal_at`).
        Raises what :func:`vcred.trust.load_signed_trust_list` raises; UsageError when a list
        is held already.
        """
        verifier = self._verifier
        if verifier is not None:
            verifier = dataclasses.replace(verifier, at=accepted_at)
        loaded = load_signed_trust_list(
            secured, now=accepted_at, anchor=self.anchor, verifier=verifier
        )
        with self._lock:
            if self._current is not None:
                raise UsageError("a feed resumes before it holds a list")
            self._current = dataclasses.replace(loaded, grace=self.grace)
            return self._current

    def hold_floor(self, sequence: int, digest: str) -> None:
        """Accept no list older than ``sequence`` (nor another list numbered ``sequence``
        than the one of ``digest``) while none is held: what an earlier run accepted, when
        :meth:`resume` can no longer hold it (its key removed from the anchor since, another
        anchor configured). Without it the feed would start empty and take whatever list its
        URLs answered, one the kept list had replaced (fail closed). Raises UsageError when
        a list is held already."""
        with self._lock:
            if self._current is not None:
                raise UsageError("a feed takes a floor before it holds a list")
            self._floor = (sequence, digest)

    def due(self, now: datetime | None = None) -> bool:
        """Whether a refresh is due: no list yet, or within ``refresh_before`` of its
        ``nextUpdate`` (or past it) — but not sooner than ``retry`` after a failure."""
        moment = now or self._clock()
        if self._last_failure is not None and moment < self._last_failure + self.retry:
            return False
        held = self._current
        if held is None:
            return True
        if held.next_update is None:
            return False
        return moment >= held.next_update - self.refresh_before

    def refresh(self, *, force: bool = False) -> RefreshReport:
        """Fetch the list from its URLs (in order) if due, or always when ``force``; hold
        the first acceptable one. Never raises for a bad or unreachable list: the report
        says what each URL answered, and the list held stays (until it goes stale)."""
        now = self._clock()
        if not force and not self.due(now):
            held = self._current
            return RefreshReport(at=now, sequence=held.sequence if held else None, changed=False)
        errors: list[str] = []
        for url in self.urls:
            try:
                body = self._fetcher.fetch(url, accept=ACCEPT, max_bytes=MAX_LIST_BYTES)
                text = body.decode("utf-8").strip()
                self.accept(text, source=url)
            except UnicodeDecodeError:
                errors.append(f"{url}: MALFORMED: the trust list is not UTF-8 text")
            except VcredError as exc:
                errors.append(f"{url}: {exc.code}: {exc.message}")
            else:
                report = dataclasses.replace(self._last or _empty(now), errors=tuple(errors))
                self._last = report
                return report
        with self._lock:
            self._last_failure = now
            held = self._current
            self._last = RefreshReport(
                at=now,
                sequence=held.sequence if held else None,
                changed=False,
                errors=tuple(errors),
            )
        return self._last


def _check_floor(floor: tuple[int, str], new: TrustList, between: Sequence[TrustList] = ()) -> None:
    """:func:`check_succession` against a list known only by its number and digest."""
    sequence, digest = floor
    _check_successor(sequence, digest, f"list {sequence} an earlier run accepted", new, between)


def _empty(now: datetime) -> RefreshReport:
    return RefreshReport(at=now, sequence=None, changed=False)
