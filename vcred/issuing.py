"""Issuing: secure a credential in one of our formats with a Signer.

The surface needs no cryptographic choices: the algorithm follows from the key, the key id
from the DID. ``issue(credential, key)`` with a bare key pair signs as its did:key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from vcred import jose, model
from vcred.did.document import split_did_url
from vcred.did.jwk import did_jwk
from vcred.did.key import did_key, did_key_method_id
from vcred.did.web import method_id as did_web_method_id
from vcred.errors import UsageError
from vcred.keys import KeyPair, LocalSigner, Signer

Secured = str | bytes | dict[str, Any]
FormatIssuer = Callable[..., Secured]

FORMATS: Final[dict[str, FormatIssuer]] = {}


def register_issue_format(name: str, issuer: FormatIssuer) -> None:
    """Plug a securing format into :func:`issue` (used by vcred.integrity and vcred.sdjwt)."""
    FORMATS[name] = issuer


def signer_for(key: KeyPair, *, did: str | None = None) -> LocalSigner:
    """A signer for ``key`` acting as ``did`` (default: the key's did:key).

    Method ids: did:key → ``did#<multikey>``; did:jwk → ``did#0``; did:web → ``did#<multikey>``
    (the ids our did:web documents use).
    """
    if did is None or did == did_key(key.public):
        return LocalSigner(key=key, key_id=did_key_method_id(key.public))
    if did.startswith("did:jwk:"):
        if did != did_jwk(key.public):
            raise UsageError("the did:jwk is not the one of this key")
        return LocalSigner(key=key, key_id=f"{did}#0")
    if did.startswith("did:web:"):
        return LocalSigner(key=key, key_id=did_web_method_id(did, key.public))
    if did.startswith("did:key:"):
        raise UsageError("the did:key is not the one of this key")
    raise UsageError(f"cannot sign as {did[:100]!r}: use did:key, did:jwk or did:web")


def as_signer(signer: Signer | KeyPair) -> Signer:
    return signer_for(signer) if isinstance(signer, KeyPair) else signer


def with_issuer(credential: Mapping[str, Any], signer: Signer) -> dict[str, Any]:
    """A copy of ``credential`` whose issuer is the signer's DID (filled in if absent).

    Raises UsageError if the credential names another issuer.
    """
    did, _ = split_did_url(signer.key_id)
    document = dict(credential)  # shallow: only the top-level issuer is ever set
    issuer = document.get("issuer")
    if issuer is None:
        document["issuer"] = did
    else:
        named = issuer.get("id") if isinstance(issuer, dict) else issuer
        if named != did:
            raise UsageError(
                f"the credential's issuer {str(named)[:100]!r} is not the signer's DID {did}"
            )
    return document


def issue(
    credential: Mapping[str, Any],
    signer: Signer | KeyPair,
    *,
    format: str = "vc+jwt",
    now: datetime | None = None,
    **options: Any,
) -> Secured:
    """Secure ``credential`` as ``format``: a compact string for JOSE formats, the COSE_Sign1
    bytes for ``vc+cose``, a dict otherwise.

    The credential is checked against VCDM first (MalformedError with a pointer); its issuer
    must be the signer's DID (filled in when absent). Raises UsageError for an unknown format.
    """
    signer = as_signer(signer)
    document = with_issuer(credential, signer)
    model.validate_credential(document)
    if format == "vc+jwt":
        return jose.issue_vc_jwt(document, signer)
    issuer = FORMATS.get(format)
    if issuer is None:
        known = ", ".join(["vc+jwt", *sorted(FORMATS)])
        raise UsageError(f"unknown format {format!r}; known: {known}")
    return issuer(document, signer, now=now, **options)
