"""One resolver for every DID method we support, with a TTL cache for did:web.

did:key and did:jwk are pure functions of the DID and are memoised without limit of time;
did:web documents are fetched through the handed-in Fetcher and cached for ``web_ttl``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from vcred.did.document import DidDocument, VerificationMethod, split_did_url
from vcred.did.jwk import resolve_did_jwk
from vcred.did.key import resolve_did_key
from vcred.did.web import did_web_url
from vcred.errors import ResolutionError, UnsupportedError
from vcred.net import Fetcher

DID_DOCUMENT_MAX_BYTES = 100 * 1024


@lru_cache(maxsize=4096)
def _resolve_offline(did: str) -> DidDocument:
    if did.startswith("did:key:"):
        return resolve_did_key(did)
    return resolve_did_jwk(did)


@dataclass(slots=True)
class _TtlCache:
    ttl: float
    size: int = 1024
    clock: Callable[[], float] = time.monotonic
    _items: OrderedDict[str, tuple[float, DidDocument]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: str) -> DidDocument | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] < self.clock():
                return None
            self._items.move_to_end(key)
            return hit[1]

    def put(self, key: str, value: DidDocument) -> None:
        with self._lock:
            self._items[key] = (self.clock() + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass(slots=True)
class Resolver:
    """Resolves did:key, did:jwk (offline) and did:web (through ``fetcher``)."""

    fetcher: Fetcher | None = None
    web_ttl: float = 300.0
    _web_cache: _TtlCache = field(init=False)

    def __post_init__(self) -> None:
        self._web_cache = _TtlCache(ttl=self.web_ttl)

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
        did, _ = split_did_url(did_url)
        return self.resolve(did).method(did_url, relationship=relationship)

    def _resolve_web(self, did: str) -> DidDocument:
        cached = self._web_cache.get(did)
        if cached is not None:
            return cached
        url = did_web_url(did)
        if self.fetcher is None:
            raise ResolutionError(f"resolving {did} needs the network; no fetcher was configured")
        body = self.fetcher.fetch(
            url, accept="application/did+json, application/json", max_bytes=DID_DOCUMENT_MAX_BYTES
        )
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise ResolutionError(f"the DID document of {did} is not JSON") from exc
        parsed = DidDocument.parse(document, expected_id=did)
        self._web_cache.put(did, parsed)
        return parsed
