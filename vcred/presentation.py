"""Building and securing presentations (VCDM 2.0 §4.13, VC-JOSE-COSE §3.2).

A holder wraps credentials in a VerifiablePresentation, signs it with an authentication key
and binds it to the verifier's challenge and domain.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from vcred import model
from vcred.did.document import controller_of
from vcred.errors import UsageError
from vcred.formats import (
    COMMON_PRESENT_OPTIONS,
    PRESENTATION_LIFETIME,
    Format,
    PresentationIssuer,
    given_options,
    keyword_options,
    refuse_unused,
    registry,
)
from vcred.issuing import as_signer
from vcred.keys import KeyPair, Signer
from vcred.verifier import utc_now

__all__ = ["PRESENTATION_LIFETIME", "build_presentation", "envelope", "present"]


def register_present_format(name: str, issuer: PresentationIssuer) -> None:
    """Plug a presentation securing format in; its options are its keyword-only parameters
    beyond challenge, domain and now.

    Prefer ``vcred.formats.registry.register(Format(...))``, which names them.
    """
    options = keyword_options(issuer) - COMMON_PRESENT_OPTIONS
    registry.register(Format(name=name, present=issuer, present_options=options))


def envelope(secured: str | bytes) -> dict[str, Any]:
    """An EnvelopedVerifiableCredential for a compact vc+jwt or SD-JWT, or a vc+cose
    COSE_Sign1 (bytes, base64-encoded: VC-JOSE-COSE §3.3.1) (VCDM 2.0 §4.13.1)."""
    if isinstance(secured, bytes):
        url = "data:application/vc+cose;base64," + base64.b64encode(secured).decode("ascii")
    else:
        media_type = "application/vc+sd-jwt" if "~" in secured else "application/vc+jwt"
        url = f"data:{media_type},{secured}"
    return {"@context": [model.V2_CONTEXT], "id": url, "type": "EnvelopedVerifiableCredential"}


def build_presentation(
    credentials: Sequence[str | bytes | Mapping[str, Any]],
    *,
    holder: str,
    id: str | None = None,
) -> dict[str, Any]:
    """An unsecured presentation: compact (and COSE) credentials enveloped, embedded ones as
    they are."""
    items: list[Any] = []
    for credential in credentials:
        if isinstance(credential, bytes):
            items.append(envelope(credential))
        elif isinstance(credential, str):
            items.append(envelope(credential.strip()))
        elif isinstance(credential, Mapping):
            items.append(dict(credential))
        else:
            raise UsageError(f"cannot present a {type(credential).__name__}")
    presentation: dict[str, Any] = {
        "@context": [model.V2_CONTEXT],
        "type": ["VerifiablePresentation"],
        "holder": holder,
        "verifiableCredential": items,
    }
    if id is not None:
        presentation["id"] = id
    return presentation


def present(
    credentials: Sequence[str | bytes | Mapping[str, Any]],
    holder: Signer | KeyPair,
    *,
    challenge: str | None = None,
    domain: str | None = None,
    format: str = "vp+jwt",
    now: datetime | None = None,
    lifetime: timedelta | None = None,
) -> str | bytes | dict[str, Any]:
    """Present ``credentials`` as the holder, bound to ``challenge`` and ``domain``.

    ``vp+jwt`` (default) returns a compact token and ``vp+cose`` a COSE_Sign1 (bytes), valid
    for ``lifetime`` (default ``PRESENTATION_LIFETIME``); Data Integrity formats a
    presentation with an authentication proof valid for ``PRESENTATION_LIFETIME``
    (``lifetime`` is refused: UsageError). A vc+cose credential is passed as bytes.
    """
    entry = registry.get(format)
    if entry is None or entry.present is None:
        raise UsageError(f"unknown presentation format {format!r}")
    extra = given_options(lifetime=lifetime)
    refuse_unused(format, extra, entry.present_options, "present")
    signer = as_signer(holder)
    did = controller_of(signer.key_id)
    presentation = build_presentation(credentials, holder=did)
    return entry.present(
        presentation, signer, challenge=challenge, domain=domain, now=now or utc_now(), **extra
    )
