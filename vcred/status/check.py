"""The status check of a credential: every ``BitstringStatusListEntry`` against its list (§3.2).

https://www.w3.org/TR/vc-bitstring-status-list/#validate-algorithm

I/O stays at the edge: the list is retrieved through the ``vcred.net.Fetcher`` handed in
(which does the SSRF guarding), and verified by the ``verify_list`` callable the verification
pipeline hands in (which knows the securing formats). This module only decides what the list
says.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from vcred._json import loads_strict
from vcred.errors import (
    MalformedError,
    ParsingError,
    RevokedError,
    StatusError,
    StatusListLengthError,
    StatusMessageError,
    StatusUnavailableError,
    StatusUnreachableError,
    StatusVerificationError,
    SuspendedError,
    UnreachableError,
    UnsupportedError,
    UsageError,
    VcredError,
)
from vcred.net import Fetcher, budget_left
from vcred.status.cache import CachedList, StatusListCache
from vcred.status.codec import DEFAULT_MAX_BITSTRING_BYTES, MIN_ENTRIES
from vcred.status.entry import (
    PURPOSES,
    UNDEFINED_MESSAGE,
    BitstringStatusListEntry,
    parse_entry,
    status_entries,
)
from vcred.status.listcred import (
    StatusList,
    format_datetime,
    format_moment,
    issuer_id,
    parse_status_list_credential,
)
from vcred.status.versions import ListVersion, ListVersions

#: §4: a list may come in any media type for a secured credential; JSON and JWT forms here.
STATUS_LIST_ACCEPT: Final = (
    "application/vc+jwt, application/vc, application/vc+sd-jwt;q=0.9, "
    "application/ld+json;q=0.8, application/json;q=0.7"
)
#: Largest status list credential we download (a worst-case random 16 KB list is ~22 KB).
DEFAULT_MAX_FETCH_BYTES: Final = 4 * 1024 * 1024
#: How long ago a list may have been fetched and still answer when it cannot be refreshed:
#: past it, a revoked credential must not keep verifying on an old copy.
DEFAULT_STATUS_MAX_AGE: Final = timedelta(hours=24)

_COMPACT: Final = re.compile(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]*){2}(~[A-Za-z0-9_\-.~]*)?")


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedList:
    """What a ``verify_list`` may return instead of the bare credential: the verified list
    credential and the keys that signed it, (JWK thumbprint, signing time), kept on the
    :class:`StatusList` for :attr:`StatusChecker.admit`."""

    credential: Mapping[str, Any]
    signing_keys: tuple[tuple[str, datetime | None], ...] = ()


#: Verifies a fetched list credential (a JSON object, or a compact JWS / SD-JWT string) and
#: returns the verified credential (or a VerifiedList); raises a VcredError when it does not.
VerifyList = Callable[[object], Mapping[str, Any] | VerifiedList]


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryStatus:
    """The outcome for one ``credentialStatus`` entry.

    ``value`` is None when the status could not be determined (then ``error`` says why);
    ``message`` is what the value means (§2.1 ``statusMessage``, else "set"/"unset");
    ``status_reference`` where the issuer documents the messages (the entry's URLs);
    ``fetched_at``/``age``/``stale`` say how fresh the list behind the answer is.
    """

    pointer: str
    purpose: str
    index: int
    list_url: str
    status_size: int = 1
    value: int | None = None
    message: str | None = None
    status_reference: tuple[str, ...] = ()
    fetched_at: datetime | None = None
    #: The ``validFrom`` of the list credential that answered: which version of the list.
    list_valid_from: datetime | None = None
    age: timedelta | None = None
    stale: bool = False
    error: StatusError | None = None

    @property
    def valid(self) -> bool:
        """§3.2 step 13: the ``valid`` of the result (status 0, determined without error)."""
        return self.error is None and self.value == 0

    def as_dict(self) -> dict[str, Any]:
        """JSON form for verification results: what the list said, and how fresh it was.

        ``statusReference`` appears when the entry names where its messages are documented.
        """
        out: dict[str, Any] = {
            "path": self.pointer,
            "purpose": self.purpose,
            "index": self.index,
            "statusListCredential": self.list_url,
            "statusSize": self.status_size,
            "value": self.value,
            "message": self.message,
            "valid": self.valid,
            "fetchedAt": None if self.fetched_at is None else format_datetime(self.fetched_at),
            "ageSeconds": None if self.age is None else int(self.age.total_seconds()),
            "stale": self.stale,
            "error": None if self.error is None else self.error.as_dict(),
        }
        if self.status_reference:
            out["statusReference"] = list(self.status_reference)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusReport:
    """Every status entry of a credential, checked; ``notes`` lists entries not checked."""

    entries: tuple[EntryStatus, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """No entry revoked, suspended or undeterminable."""
        return all(entry.error is None for entry in self.entries)

    @property
    def errors(self) -> tuple[StatusError, ...]:
        return tuple(entry.error for entry in self.entries if entry.error is not None)

    @property
    def oldest_fetch(self) -> datetime | None:
        """When the least recent list behind this report was fetched."""
        times = [e.fetched_at for e in self.entries if e.fetched_at is not None]
        return min(times) if times else None

    def raise_for_status(self) -> None:
        """Raise the gravest error: revoked, then suspended, then unavailable."""
        for kind in (RevokedError, SuspendedError, StatusError):
            for error in self.errors:
                if isinstance(error, kind):
                    raise error


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChecker:
    """Checks the ``credentialStatus`` of credentials; one per verifier, shared across threads.

    ``offline=True`` never fetches: it answers from the cache (each entry then says its age
    and whether it is ``stale``) and reports STATUS_UNAVAILABLE for lists it has never seen.
    ``max_age``: no answer ever comes from a list fetched longer ago — a cached list that old
    is fetched again, and when it cannot be (offline, host unreachable) the status is
    STATUS_UNAVAILABLE, not a stale answer. ``min_entries`` is §3.2's
    ``minimumNumberOfEntries``. ``max_lists`` bounds the distinct lists one credential may
    make us fetch.
    """

    fetcher: Fetcher | None
    verify_list: VerifyList
    cache: StatusListCache = field(default_factory=StatusListCache)
    offline: bool = False
    min_entries: int = MIN_ENTRIES
    max_fetch_bytes: int = DEFAULT_MAX_FETCH_BYTES
    max_list_bytes: int = DEFAULT_MAX_BITSTRING_BYTES
    max_lists: int = 8
    #: Tolerance on the list's validFrom / validUntil (the issuer's clock is not ours).
    clock_skew: timedelta = timedelta(0)
    max_age: timedelta = DEFAULT_STATUS_MAX_AGE
    #: Check the status as of this moment: each list is fetched as the version in force then
    #: (:func:`as_of_url`), which must have been valid then (``now`` is that moment too).
    as_of: datetime | None = None
    #: The time a list is fetched and held at, with ``as_of`` (else ``now`` is that time):
    #: a list fetched today for a past moment was fetched today, and ages from today.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    #: Judges a list on every read, cached or not (raises a VcredError to refuse it): the
    #: cache is shared by checkers whose rules differ (a verifier's trust policy, which pins
    #: the keys a list's issuer may sign with, is replaced while its lists stay held).
    admit: Callable[[StatusList], None] | None = None

    def __post_init__(self) -> None:
        if self.max_age <= timedelta(0):
            raise UsageError("max_age must be positive")
        if self.as_of is not None and self.as_of.tzinfo is None:
            raise UsageError("as_of must be timezone-aware")

    def check(self, credential: Mapping[str, Any], *, now: datetime) -> StatusReport:
        """Check every ``BitstringStatusListEntry`` of a (verified) credential at ``now``.

        https://www.w3.org/TR/vc-bitstring-status-list/#validate-algorithm

        Never raises for a status outcome: revoked (RevokedError), suspended
        (SuspendedError) and undeterminable (StatusUnavailableError and its subclasses) are
        reported per entry. Raises MalformedError when the credential's ``credentialStatus``
        or ``issuer`` is malformed, UnsupportedError when its entries name more than
        ``max_lists`` lists. Entries of other types are ignored with a note.
        """
        if now.tzinfo is None:
            raise UsageError("now must be timezone-aware")
        raw_entries, notes = status_entries(credential)
        if not raw_entries:
            return StatusReport(notes=tuple(notes))
        issuer = issuer_id(credential)
        parsed = [(pointer, parse_entry(raw, pointer=pointer)) for pointer, raw in raw_entries]
        if len({entry.list_url for _, entry in parsed}) > self.max_lists:
            # each list is a fetch: a credential must not make the verifier crawl the web
            raise UnsupportedError(
                f"the credential's status entries name more than {self.max_lists} lists",
                pointer="/credentialStatus",
            )
        results = tuple(self._check_entry(p, e, issuer=issuer, now=now) for p, e in parsed)
        return StatusReport(entries=results, notes=tuple(notes))

    def list_for(self, url: str, *, now: datetime) -> tuple[CachedList, bool]:
        """The verified list at ``url`` and whether it is stale: from the cache or fetched.

        Raises StatusUnavailableError (or a subclass) when it cannot be had, including when
        the only copy held was fetched more than ``max_age`` ago. With ``as_of``, the version
        in force then, cached under its own URL (never taken for the current list).
        """
        base, cache = url, self._cache()
        if self.as_of is not None:
            if self.as_of > now:
                # no version in force then exists yet: a host that serves its current list
                # whatever the timestamp would have it answer for a day to come
                raise StatusUnavailableError(
                    f"the status as of {format_moment(self.as_of)}, after now, is not "
                    f"established: no version of the status list {base} in force then is known"
                )
            url = as_of_url(base, self.as_of)
        if self.offline:
            held = cache.get_stale(url, now=now)
            if held is None:
                raise StatusUnavailableError(f"offline, and the status list {url} is not cached")
            cached = self._young_enough(held[0], now=now)
            return cached, not cached.is_fresh(now)
        try:
            loaded = cache.get_or_load(
                url, lambda: self._load(url, base=base, now=now), now=now, max_age=self.max_age
            )
            return loaded, False
        except StatusUnavailableError as exc:
            # The host is unreachable (not a 404, not a list that failed verification): fall
            # back on the last list seen, reported as stale (RFC 5861 stale-if-error).
            held = (
                cache.get_stale(url, now=now) if isinstance(exc, StatusUnreachableError) else None
            )
            if held is None:
                raise
            return self._young_enough(held[0], now=now, cause=exc), True

    def _cache(self) -> StatusListCache:
        """Where this checker's lists are held: as of a past moment, apart from the current
        ones (:meth:`StatusListCache.past`)."""
        return self.cache if self.as_of is None else self.cache.past()

    def _young_enough(
        self, cached: CachedList, *, now: datetime, cause: StatusError | None = None
    ) -> CachedList:
        """``cached`` when fetched at most ``max_age`` ago; else StatusUnavailableError."""
        age = cached.age(now)
        if age <= self.max_age:
            return cached
        raise StatusUnavailableError(
            f"the status list {cached.status_list.url} cannot be fetched again and the copy "
            f"held is {int(age.total_seconds())} s old, more than the "
            f"{int(self.max_age.total_seconds())} s a status answer may rest on"
        ) from cause

    def _check_entry(
        self, pointer: str, entry: BitstringStatusListEntry, *, issuer: str, now: datetime
    ) -> EntryStatus:
        result = EntryStatus(
            pointer=pointer,
            purpose=entry.purpose,
            index=entry.index,
            list_url=entry.list_url,
            status_size=entry.status_size,
            status_reference=entry.status_reference,
        )
        # the list is fetched (and held, and ages) now; it is read as of ``now``
        fetching = now if self.as_of is None else self.clock()
        try:
            cached, stale = self.list_for(entry.list_url, now=fetching)
        except StatusError as exc:
            return replace(result, error=_located(exc, f"{pointer}/statusListCredential"))
        result = replace(
            result,
            fetched_at=cached.fetched_at,
            list_valid_from=cached.status_list.valid_from,
            age=cached.age(fetching),
            stale=stale,
        )
        try:
            value = self._read(entry, cached, issuer=issuer, now=now, pointer=pointer)
            message = status_message(entry, value, pointer=pointer)
        except StatusError as exc:
            return replace(result, error=exc)
        error: StatusError | None = None
        if value and entry.purpose == "revocation":
            error = RevokedError("the credential has been revoked", pointer=pointer)
        elif value and entry.purpose == "suspension":
            error = SuspendedError("the credential is suspended", pointer=pointer)
        return replace(result, value=value, message=message, error=error)

    def _read(
        self,
        entry: BitstringStatusListEntry,
        cached: CachedList,
        *,
        issuer: str,
        now: datetime,
        pointer: str,
    ) -> int:
        """§3.2 steps 5–10, after the list itself was fetched and verified."""
        status_list = cached.status_list
        where = f"{pointer}/statusListCredential"
        if status_list.entry_type != entry.entry_type:
            # a list of another kind reads its bits another way (purpose, size): never mixed
            raise StatusVerificationError(
                f"a {entry.entry_type} needs a list of its own kind, not one for "
                f"{status_list.entry_type}",
                pointer=where,
            )
        if status_list.issuer != issuer:
            raise StatusVerificationError(
                f"the status list is issued by {status_list.issuer}, not by the credential's "
                f"issuer {issuer}",
                pointer=where,
            )
        if self.admit is not None:
            try:
                self.admit(status_list)
            except VcredError as exc:
                raise StatusVerificationError(
                    f"the status list {status_list.url} is refused: {exc}", pointer=where
                ) from exc
        # the list's issuer stamps validFrom with its own clock, often in the very second
        # this verifier fetched it: tolerate the same skew as for credentials — but not as of
        # a past moment, for which the issuer serves a version by its own stamps: one that
        # came into force after it (a reinstatement a few seconds later) never answers for it
        skew = self.clock_skew if self.as_of is None else timedelta(0)
        if self.as_of is not None and status_list.valid_from is None:
            # only its validFrom tells which version a list is: without one, the list served
            # (the current one, by an issuer ignoring the timestamp) may postdate the moment
            raise StatusVerificationError(
                "the status list states no validFrom: it cannot be the version shown in force "
                f"at {format_datetime(self.as_of)}",
                pointer=where,
            )
        if status_list.valid_from is not None and now + skew < status_list.valid_from:
            raise StatusVerificationError("the status list is not valid yet", pointer=where)
        if status_list.valid_until is not None and now - skew >= status_list.valid_until:
            raise StatusVerificationError("the status list has expired", pointer=where)
        if entry.purpose not in status_list.purposes:
            raise StatusVerificationError(
                f"the status list serves {', '.join(status_list.purposes)}, not {entry.purpose}",
                pointer=f"{pointer}/statusPurpose",
            )
        if status_list.status_size is not None and status_list.status_size != entry.status_size:
            raise StatusVerificationError(
                f"the status list has statusSize {status_list.status_size}, "
                f"the entry {entry.status_size}",
                pointer=f"{pointer}/statusSize",
            )
        entries = status_list.bits.entry_count(entry.status_size)
        if entries < self.min_entries:
            raise StatusListLengthError(
                f"the status list has {entries} entries, fewer than the {self.min_entries} "
                "herd privacy needs",
                pointer=where,
            )
        try:
            return status_list.bits.value(entry.index, entry.status_size)
        except StatusError as exc:
            raise _located(exc, f"{pointer}/statusListIndex") from None

    def _load(self, url: str, *, base: str, now: datetime) -> StatusList:
        """Fetch, verify and read the list at ``url`` (§3.2 step 4), whose id must be
        ``base``: the entry's URL, which an as-of ``url`` adds its query to (the list is then
        held under ``url``, never taken for the current one). Never a version older than the
        newest this verifier accepted (:func:`refuse_older`), which it then becomes; as of a
        moment, never one older than the newest version known of ``base`` when that was in
        force by then (so it, or a later one, was in force then: the version served for that
        moment cannot be older)."""
        status_list = self._load_from(url, base)
        refuse_older(self._cache().versions, status_list, url=url)
        if base == url:
            return status_list
        known = self.cache.versions.newest(base)
        since = None if known is None else known.valid_from
        if since is not None and self.as_of is not None and since <= self.as_of:
            _refuse_below(known, ListVersion.of(status_list), url=url)
        return replace(status_list, url=url)

    def _load_from(self, url: str, base: str) -> StatusList:
        if self.fetcher is None:
            raise StatusUnavailableError(
                f"no fetcher configured: the status list {url} cannot be retrieved"
            )
        try:
            budget_left("the list was not fetched")
            raw = self.fetcher.fetch(url, accept=STATUS_LIST_ACCEPT, max_bytes=self.max_fetch_bytes)
        except StatusError:
            raise
        except (UnreachableError, OSError) as exc:
            raise StatusUnreachableError(
                f"the status list {url} could not be retrieved: {exc}"
            ) from exc
        except VcredError as exc:
            raise StatusUnavailableError(
                f"the status list {url} could not be retrieved: {exc}"
            ) from exc
        try:
            document = parse_fetched(raw)
        except MalformedError as exc:
            raise StatusVerificationError(f"the status list {url} is unreadable: {exc}") from exc
        try:
            answer = self.verify_list(document)
        except VcredError as exc:
            raise StatusVerificationError(f"the status list {url} does not verify: {exc}") from exc
        keys: tuple[tuple[str, datetime | None], ...] = ()
        verified: object = answer
        if isinstance(answer, VerifiedList):
            verified, keys = answer.credential, answer.signing_keys
        if not isinstance(verified, Mapping):
            raise UsageError("verify_list must return the verified credential as a mapping")
        if "credentialStatus" in verified or "status" in verified:
            # A list's own status is never checked (a list answering for lists would recurse,
            # and a list pointing at itself would answer for itself): a list its issuer may
            # have revoked is not believed on the word of a check that did not look
            raise StatusVerificationError(
                f"the status list {url} states a status of its own, which no status check "
                "reads: refused"
            )
        try:
            status_list = parse_status_list_credential(
                verified, url=base, max_bytes=self.max_list_bytes
            )
        except StatusError as exc:
            # its pointer is into the list; the caller points into the credential instead
            raise type(exc)(f"the status list {url}: {exc}") from exc
        except MalformedError as exc:
            raise StatusVerificationError(f"the status list {url} is malformed: {exc}") from exc
        return replace(status_list, signing_keys=keys) if keys else status_list


def refuse_older(versions: ListVersions, fetched: StatusList, *, url: str) -> None:
    """Record ``fetched`` as the newest version of the list at ``url`` in ``versions``, or
    raise StatusVerificationError when a newer one that says something else is recorded.

    A version is told by its ``validFrom`` (:mod:`vcred.status.versions`): one earlier than
    the newest accepted, or none where that one states one, cannot replace it — unless its
    bits and purposes are the newest's (two issuer machines may sign one version a second
    apart; nothing is rolled back then).
    """
    version = ListVersion.of(fetched)
    _refuse_below(versions.advance(url, version), version, url=url)


def _refuse_below(newest: ListVersion | None, version: ListVersion, *, url: str) -> None:
    """StatusVerificationError when ``version`` is older than ``newest`` and says something
    else (:func:`refuse_older`)."""
    if newest is None or newest.valid_from is None or newest == version:
        return
    if version.valid_from is not None and version.valid_from >= newest.valid_from:
        return
    if hmac.compare_digest(version.digest, newest.digest):
        return
    stated = "no validFrom" if version.valid_from is None else format_moment(version.valid_from)
    raise StatusVerificationError(
        f"the status list {url} served is older ({stated}) than the version held "
        f"(validFrom {format_moment(newest.valid_from)}): refused as a rollback"
    )


def as_of_url(list_url: str, moment: datetime) -> str:
    """Where an issuer serves the version of ``list_url`` in force at ``moment``: the URL with
    ``timestamp=<dateTimeStamp>`` added to its query (vcred's issuer answers it; see
    docs/services.md, "Status lists as of a moment"). The moment exactly: to the second, or
    to the microsecond when it has a fraction (a version may be in force for less than a
    second)."""
    separator = "&" if "?" in list_url else "?"
    return f"{list_url}{separator}{urlencode({'timestamp': format_moment(moment)})}"


def status_message(entry: BitstringStatusListEntry, value: int, *, pointer: str) -> str:
    """What ``value`` means (§3.2 step 14): its ``statusMessage`` in the entry, else "set" /
    "unset" for one bit.

    Only the entry says: its messages are committed to at issuance, signed with the
    credential (§2.1), so an issuer cannot give a value another meaning later. A value left
    without one — no message, "undefined" (§2.1), or a set value of a purpose §2.1 does not
    define with no message from the entry — raises StatusMessageError: nobody can act on it.
    """
    if value and entry.purpose not in PURPOSES and not entry.status_messages:
        # a purpose §2.1 does not define, and no message from the entry: "set" tells nobody
        # whether the credential still holds (a "Revocation" or "revoked" typo would pass)
        raise StatusMessageError(
            f"status {hex(value)} under the purpose {entry.purpose[:40]!r}, which this verifier "
            "does not know and the entry gives no message for: its meaning is unknown",
            pointer=f"{pointer}/statusPurpose",
        )
    message = entry.message_for(value)
    if message is None or message == UNDEFINED_MESSAGE:
        at = [i for i, m in enumerate(entry.status_messages) if m.status == value]
        raise StatusMessageError(
            f"status {hex(value)} has no defined message: its meaning is unknown",
            pointer=f"{pointer}/statusMessage/{at[0]}" if at else f"{pointer}/statusMessage",
        )
    return message


def check_status(
    credential: Mapping[str, Any],
    *,
    fetcher: Fetcher | None,
    verify_list: VerifyList,
    now: datetime,
    cache: StatusListCache | None = None,
    offline: bool = False,
    min_entries: int = MIN_ENTRIES,
    max_age: timedelta = DEFAULT_STATUS_MAX_AGE,
) -> StatusReport:
    """One-off form of :meth:`StatusChecker.check` (pass a ``cache`` to reuse lists)."""
    checker = StatusChecker(
        fetcher=fetcher,
        verify_list=verify_list,
        cache=StatusListCache() if cache is None else cache,
        offline=offline,
        min_entries=min_entries,
        max_age=max_age,
    )
    return checker.check(credential, now=now)


def parse_fetched(raw: bytes) -> object:
    """What a list URL returned, as JSON (an object) or a compact JWS / SD-JWT (a string).

    Raises ParsingError for anything else. Duplicate JSON member names are refused: two
    parsers could read two different lists out of one document.
    """
    try:
        text = raw.decode("utf-8-sig").strip()  # a BOM is tolerated, as RFC 8259 §8.1 allows
    except UnicodeDecodeError as exc:
        raise ParsingError("the status list is not UTF-8") from exc
    if text.startswith("{"):
        return loads_strict(text, what="the status list")
    if _COMPACT.fullmatch(text):
        return text
    raise ParsingError("the status list is neither a JSON object nor a compact JWT")


def _located(error: StatusError, pointer: str) -> StatusError:
    if error.pointer is None:
        error.pointer = pointer
    return error
