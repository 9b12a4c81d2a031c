"""One resolver for every DID method we support, with a TTL cache for did:web.

did:key and did:jwk are pure functions of the DID and are memoised without limit of time;
did:web documents are fetched through the handed-in Fetcher and cached for ``web_ttl``.

Offline use (``max_stale``): when refreshing an expired did:web document fails because the
network is unreachable, the cached copy is used for up to ``max_stale`` seconds past its
expiry (RFC 5861's stale-if-error); :meth:`Resolver.freshness` tells the caller how old the
copy it was given is, so a verification result can say so. Only an unreachable host
(:class:`~vcred.errors.UnreachableError`) falls back; a 404 or a refused fetch (SSRF guard, a
redirect, an oversized answer) never does.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from vcred._forksafe import renew_locks_in_children
from vcred._json import loads_strict
from vcred.did.document import (
    DidDocument,
    VerificationMethod,
    controller_of,
    is_https_url,
    split_did_url,
)
from vcred.did.jwk import resolve_did_jwk
from vcred.did.key import resolve_did_key
from vcred.did.web import did_web_url
from vcred.errors import (
    ResolutionError,
    UnknownKeyError,
    UnreachableError,
    UnsupportedError,
    UsageError,
    VcredError,
)
from vcred.keys import PublicKey
from vcred.net import Fetcher, budget_left

DID_DOCUMENT_MAX_BYTES = 100 * 1024


@lru_cache(maxsize=4096)
def _offline_method(did_url: str, relationship: str) -> VerificationMethod:
    """did:key and did:jwk methods are pure functions of their DID URL: found once.

    Failures (UnknownKeyError …) are not cached by lru_cache and are raised every time.
    """
    did, _ = split_did_url(did_url)
    return _resolve_offline(did).method(did_url, relationship=relationship)


@lru_cache(maxsize=4096)
def _resolve_offline(did: str) -> DidDocument:
    if did.startswith("did:key:"):
        return resolve_did_key(did)
    return resolve_did_jwk(did)


@dataclass(frozen=True, slots=True, kw_only=True)
class Freshness:
    """How old a cached DID document is (seconds) and whether it is past its TTL."""

    age: float
    stale: bool


# eq=False: hashable (a weak set holds it, vcred._forksafe) and equal only to itself, as
# before, when its own lock was compared
@dataclass(slots=True, weakref_slot=True, eq=False)
class _TtlCache:
    ttl: float
    size: int = 1024
    clock: Callable[[], float] = time.monotonic
    # key -> (expires at, fetched at, value), by the monotonic clock
    _items: OrderedDict[str, tuple[float, float, DidDocument]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        renew_locks_in_children(self)

    def _new_locks(self) -> None:
        # here and in every forked child (vcred._forksafe)
        self._lock = threading.Lock()

    def get(self, key: str) -> DidDocument | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] < self.clock():
                return None
            self._items.move_to_end(key)
            return hit[2]

    def get_stale(self, key: str, *, max_stale: float) -> DidDocument | None:
        """The entry even if expired, unless it expired more than ``max_stale`` seconds ago."""
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] + max_stale < self.clock():
                return None
            return hit[2]

    def freshness(self, key: str) -> Freshness | None:
        with self._lock:
            hit = self._items.get(key)
        if hit is None:
            return None
        now = self.clock()
        return Freshness(age=max(0.0, now - hit[1]), stale=hit[0] < now)

    def put(self, key: str, value: DidDocument) -> None:
        with self._lock:
            now = self.clock()
            self._items[key] = (now + self.ttl, now, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass(slots=True)
class Resolver:
    """Resolves did:key, did:jwk (offline) and did:web (through ``fetcher``).

    ``web_ttl``: seconds a did:web document is used before it is fetched again.
    ``max_stale``: seconds past that a cached document may still be used when the refresh
    fails for want of a network (0, the default: never). ``clock``: monotonic seconds.
    One Resolver is meant to be shared (it is thread-safe) so its cache lives across calls.
    """

    fetcher: Fetcher | None = None
    web_ttl: float = 300.0
    max_stale: float = 0.0
    clock: Callable[[], float] = time.monotonic
    _web_cache: _TtlCache = field(init=False)

    def __post_init__(self) -> None:
        self._web_cache = _TtlCache(ttl=self.web_ttl, clock=self.clock)

    def resolve(self, did: str) -> DidDocument:
        """The DID document of ``did``. Raises ResolutionError / UnsupportedError."""
        if did.startswith(("did:key:", "did:jwk:")):
            return _resolve_offline(did)
        if did.startswith("did:web:"):
            return self._resolve_web(did)
        raise UnsupportedError(f"unsupported DID method: {did.split(':')[:2]}")

    def resolve_method(self, did_url: str, *, relationship: str) -> VerificationMethod:
        """The verification method ``did_url`` if its DID authorises it for ``relationship``.

        Raises ResolutionError, UnsupportedError or UnknownKeyError.
        """
        if did_url.startswith(("did:key:", "did:jwk:")):
            return _offline_method(did_url, relationship)
        if is_https_url(did_url.partition("#")[0]):  # nothing to resolve: no web key lookup
            raise UnknownKeyError(
                f"{did_url[:200]!r} is not a DID URL; its key must be given (KeyResolver)"
            )
        did, _ = split_did_url(did_url)
        return self.resolve(did).method(did_url, relationship=relationship)

    def freshness(self, did: str) -> Freshness | None:
        """How old the cached did:web document of ``did`` is (None: not cached, or offline
        methods, which need no network)."""
        return self._web_cache.freshness(did)

    def _resolve_web(self, did: str) -> DidDocument:
        cached = self._web_cache.get(did)
        if cached is not None:
            return cached
        url = did_web_url(did)
        if self.fetcher is None:
            raise ResolutionError(f"resolving {did} needs the network; no fetcher was configured")
        budget_left(f"the DID document of {did} was not fetched")
        try:
            body = self.fetcher.fetch(
                url,
                accept="application/did+json, application/json",
                max_bytes=DID_DOCUMENT_MAX_BYTES,
            )
        except UnreachableError:
            # the network is down or the host unreachable: an expired copy beats no answer,
            # within max_stale (the caller sees its age through freshness()). A 404 or a
            # refused fetch is an answer about the document: no fallback then.
            stale = self._web_cache.get_stale(did, max_stale=self.max_stale)
            if stale is None or self.max_stale <= 0:
                raise
            return stale
        try:
            # the one strict parser: a member named twice is two documents to two parsers
            document = loads_strict(body, what="its text")
        except VcredError as exc:
            raise ResolutionError(f"the DID document of {did} is not JSON: {exc.message}") from exc
        parsed = DidDocument.parse(document, expected_id=did)
        self._web_cache.put(did, parsed)
        return parsed


@dataclass(slots=True)
class KeyResolver(Resolver):
    """Every verification method is ``key``: verification against one key the caller holds.

    For issuers known by an https URL and for test suites that hand the verifier the issuer's
    public key (``vcred verify --key``). No DID is resolved and nothing is fetched; a method's
    controller is the DID or https URL its id belongs to, so the issuer binding still requires
    the proof to name a method of the credential's issuer. Every relationship is granted: the
    caller vouches for the key (a presentation's holder would need the same key).
    """

    key: PublicKey = field(kw_only=True)

    def __post_init__(self) -> None:
        Resolver.__post_init__(self)
        if not isinstance(self.key, PublicKey):
            raise UsageError("KeyResolver needs key=PublicKey")

    def resolve(self, did: str) -> DidDocument:
        raise ResolutionError(f"verifying with a given key: {did[:200]!r} is not resolved")

    def resolve_method(self, did_url: str, *, relationship: str) -> VerificationMethod:
        """The given key as ``did_url``. Raises MalformedError for a method id that names
        neither a DID nor an https URL."""
        return VerificationMethod(
            id=did_url, type="Multikey", controller=controller_of(did_url), public_key=self.key
        )

    def freshness(self, did: str) -> Freshness | None:
        return None
