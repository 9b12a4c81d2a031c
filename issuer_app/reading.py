"""What the issuer itself issued, read back from the secured form it keeps (NOT verified).

The credential page shows the officer what was certified; the issuer keeps each secured
credential in its own database (unless configured to keep only digests), so reading it back
needs no verification: the signature protects the credential in the trader's hands, the
database's integrity is the issuer's own.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from issuer_app.formats import BINARY_FORMATS, COMPACT_MEDIA_TYPES
from vcred import cose, jose, sdjwt
from vcred.errors import VcredError


def unverified_issued(secured: str | None, fmt: str) -> dict[str, Any] | None:
    """The credential in ``secured`` (as the service keeps it), or None when it cannot be
    read back (not kept, or a form this reader does not know)."""
    if not secured:
        return None
    try:
        if fmt in BINARY_FORMATS:
            return cose.unverified_payload(base64.b64decode(secured, validate=True))
        if COMPACT_MEDIA_TYPES.get(fmt) == "application/vc+sd-jwt":
            return sdjwt.unverified_claims(secured)
        if fmt in COMPACT_MEDIA_TYPES:
            return jose.unverified_payload(secured)
        document = json.loads(secured)
    except (VcredError, ValueError, binascii.Error):
        return None
    if not isinstance(document, dict):
        return None
    return {k: v for k, v in document.items() if k != "proof"}
