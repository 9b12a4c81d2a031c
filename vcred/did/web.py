"""did:web: a DID document served over HTTPS at the agency's domain.

https://w3c-ccg.github.io/did-method-web/ — ``did:web:customs.example`` →
``https://customs.example/.well-known/did.json``; ``did:web:host%3A8443:agency:us`` →
``https://host:8443/agency/us/did.json``. Fetching is the :class:`~vcred.net.Fetcher`'s job
(SSRF guard, size cap, no redirects); this module only maps names and builds documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from vcred.did.document import (
    DID_CONTEXT,
    JWK_CONTEXT,
    MULTIKEY_CONTEXT,
    VerificationMethod,
    method_entry,
)
from vcred.errors import MalformedError, ResolutionError, UsageError
from vcred.keys import PublicKey
from vcred.urls import parse_url

PREFIX = "did:web:"
_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?::[0-9]{1,5})?"
)
_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")


def did_web(domain: str, *path: str) -> str:
    """The did:web for ``domain`` (host[:port]) and optional path segments."""
    if not _HOST.fullmatch(domain):
        raise UsageError(f"not a host name: {domain!r}")
    did = PREFIX + ":".join([domain.replace(":", "%3A"), *path])
    try:
        did_web_url(did)
    except ResolutionError as exc:
        raise UsageError(exc.message) from exc
    return did


def did_web_url(did: str) -> str:
    """The HTTPS URL of a did:web's document. Raises ResolutionError for a malformed one.

    Only ``%3A`` (the port separator) is decoded in the host; the URL is read back by
    :func:`vcred.urls.parse_url`, so the fetcher is handed exactly what was checked.
    """
    if not isinstance(did, str) or not did.startswith(PREFIX):
        raise ResolutionError(f"not a did:web: {str(did)[:200]!r}")
    parts = did[len(PREFIX) :].split(":")
    host = parts[0].replace("%3A", ":").replace("%3a", ":")
    bad_segment = any(not _SEGMENT.fullmatch(p) or p in (".", "..") for p in parts[1:])
    if not _HOST.fullmatch(host) or bad_segment:
        raise ResolutionError(f"malformed did:web: {did[:200]!r}")
    path = "/".join(parts[1:]) if parts[1:] else ".well-known"
    try:
        return parse_url(f"https://{host}/{path}/did.json").text
    except MalformedError as exc:
        raise ResolutionError(f"malformed did:web {did[:200]!r}: {exc.message}") from exc


def method_id(did: str, key: PublicKey) -> str:
    """The id we give a key's method in our did:web documents: the DID + ``#`` + its Multikey."""
    return f"{did}#{key.multikey()}"


def did_web_document(
    did: str,
    keys: Sequence[PublicKey],
    *,
    retired: Iterable[PublicKey] = (),
    revoked: Mapping[PublicKey, datetime] | None = None,
    jwk: bool = False,
) -> dict[str, Any]:
    """A DID document for an agency: each current key may sign credentials and presentations.

    ``retired`` keys stay listed as verification methods and under assertionMethod, so
    credentials they signed keep verifying; they are not used for new signatures (authentication
    and capability relationships list only the current keys). ``revoked`` gives a retired key
    its CID 1.0 ``revoked`` time: verifiers then refuse anything it signed from then on.
    """
    did_web_url(did)  # validates the DID
    if not keys:
        raise UsageError("a did:web document needs at least one current key")
    current = [
        VerificationMethod(id=method_id(did, k), type="", controller=did, public_key=k)
        for k in keys
    ]
    revoked = revoked or {}
    if any(k in keys for k in revoked):
        raise UsageError("a current key cannot be revoked; retire it first")
    old = [
        VerificationMethod(
            id=method_id(did, k), type="", controller=did, public_key=k, revoked=revoked.get(k)
        )
        for k in retired
        if k not in keys
    ]
    return {
        "@context": [DID_CONTEXT, JWK_CONTEXT if jwk else MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": [method_entry(vm, jwk=jwk) for vm in current + old],
        "authentication": [vm.id for vm in current],
        "assertionMethod": [vm.id for vm in current + old],
        "capabilityInvocation": [vm.id for vm in current],
        "capabilityDelegation": [vm.id for vm in current],
    }
