"""Which securing format a VC API request asks for, and how the answer is wrapped.

The formats come from the library: every format ``vcred.formats.registry`` can issue
(vc+jwt, SD-JWT, vc+cose and the Data Integrity suites, registered when vcred is imported).
A request names one with ``options.format``, or with ``options.type = "DataIntegrityProof"``
and ``options.cryptosuite`` (https://w3c-ccg.github.io/vc-api/#issue-credential); without
either, the configured default.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any, Final

from vcred.errors import MalformedError, UnsupportedError
from vcred.integrity.suites import DEFAULT_SUITE_FOR, SUITES
from vcred.issuing import FORMATS, VERIFY_ONLY
from vcred.keys import KEY_KINDS, KeyKind
from vcred_service.explanations import N_

VC_JWT: Final = "vc+jwt"
DATA_INTEGRITY: Final = "data-integrity"
DATA_INTEGRITY_PROOF: Final = "DataIntegrityProof"
VC_V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
ENVELOPED_TYPE: Final = "EnvelopedVerifiableCredential"

#: The options that choose the format (:func:`choose`).
FORMAT_OPTIONS: Final = ("format", "type", "cryptosuite")
#: Every option POST /credentials/issue takes; any other is refused (the VC API's
#: IssueCredentialOptions has additionalProperties: false).
ISSUE_OPTIONS: Final = (
    *FORMAT_OPTIONS,
    "mandatoryPointers",
    "credentialId",
    "credentialStatus",
    "holder",
)

#: Media types of the compact (enveloping) formats (VC-JOSE-COSE §3.1.1, §3.2.1).
COMPACT_MEDIA_TYPES: Final[dict[str, str]] = {
    "vc+jwt": "application/vc+jwt",
    "vc+sd-jwt": "application/vc+sd-jwt",
    "sd-jwt": "application/vc+sd-jwt",
    "vc+cose": "application/vc+cose",
}
#: Formats whose secured form is bytes: they travel base64-encoded (VC-JOSE-COSE §3.3.1).
BINARY_FORMATS: Final = frozenset({"vc+cose"})
#: Other names clients use for the same formats.
ALIASES: Final[dict[str, str]] = {
    "jwt": "vc+jwt",
    "vc-jwt": "vc+jwt",
    "application/vc+jwt": "vc+jwt",
    "application/vc+sd-jwt": "vc+sd-jwt",
    "vc-sd-jwt": "vc+sd-jwt",
    "application/vc+cose": "vc+cose",
}


#: What the officer form says of each format: a human name and when to choose it (the
#: technical name follows in brackets). Marked for translation; translated where shown.
FORMAT_GUIDE: Final[dict[str, tuple[str, str]]] = {
    "vc+jwt": (
        N_("Signed JSON Web Token"),
        N_("Compact and widely supported; fits a QR code. The usual choice."),
    ),
    "vc+sd-jwt": (
        N_("Selective disclosure JWT"),
        N_("The trader can withhold fields (such as invoice amounts) when presenting it."),
    ),
    "sd-jwt": (
        N_("Selective disclosure JWT (older media type)"),
        N_("As above, for verifiers that still expect the older name."),
    ),
    "vc+cose": (
        N_("Signed CBOR (COSE)"),
        N_("Binary and compact, for systems that read COSE; handed over as a file."),
    ),
    "data-integrity": (
        N_("JSON with an embedded proof"),
        N_("Readable JSON-LD with the default proof for the issuer's key."),
    ),
    "eddsa-rdfc-2022": (
        N_("JSON with an Ed25519 proof"),
        N_("Readable JSON-LD; for verifiers that ask for this suite."),
    ),
    "eddsa-jcs-2022": (
        N_("JSON with an Ed25519 proof (JCS)"),
        N_("Readable JSON; for verifiers that ask for this suite."),
    ),
    "ecdsa-rdfc-2019": (
        N_("JSON with an ECDSA proof"),
        N_("Readable JSON-LD; for verifiers that ask for this suite."),
    ),
    "ecdsa-jcs-2019": (
        N_("JSON with an ECDSA proof (JCS)"),
        N_("Readable JSON; for verifiers that ask for this suite."),
    ),
    "ecdsa-sd-2023": (
        N_("JSON with selective disclosure"),
        N_(
            "The trader's wallet makes the copy shown to customs; this copy itself cannot be "
            "verified as it is."
        ),
    ),
}


def implemented() -> tuple[str, ...]:
    """Every format vcred can issue, vc+jwt first (importing vcred registers them all)."""
    return (VC_JWT, *sorted(name for name in FORMATS if name != VC_JWT))


def is_selective(fmt: str) -> bool:
    """Whether ``fmt`` makes a base proof a holder derives from (ecdsa-sd-2023)."""
    suite = SUITES.get(fmt)
    return suite is not None and suite.selective


def mandatory_pointers(options: Mapping[str, Any], fmt: str) -> dict[str, Any]:
    """The issue() keywords ``options.mandatoryPointers`` gives a selective suite. Raises
    MalformedError when it is not a list of strings, or sent for a format that reveals the
    whole credential (it would do nothing there)."""
    pointers = options.get("mandatoryPointers")
    if pointers is None:
        return {}
    if not is_selective(fmt):
        raise MalformedError(
            f"mandatoryPointers is for a selective cryptosuite (ecdsa-sd-2023); {fmt} "
            "reveals the whole credential",
            pointer="/options/mandatoryPointers",
        )
    if not isinstance(pointers, list) or not all(isinstance(p, str) for p in pointers):
        raise MalformedError(
            "mandatoryPointers must be an array of JSON Pointers",
            pointer="/options/mandatoryPointers",
        )
    return {"mandatory_pointers": tuple(pointers)}


def holder_binding(options: Mapping[str, Any], fmt: str, credential: Any) -> dict[str, Any]:
    """The issue() keyword that binds an SD-JWT to its holder's key (the ``cnf`` claim).

    ``options.holder`` names the holder's DID (did:key or did:jwk: resolved without the
    network); without it, a subject identified by such a DID is the holder. Other formats
    bind no holder: for them the option is refused. Raises MalformedError for a holder that
    is not such a DID.
    """
    holder = options.get("holder")
    if COMPACT_MEDIA_TYPES.get(fmt) != "application/vc+sd-jwt":
        if holder is not None:
            raise MalformedError(
                f"options.holder binds an SD-JWT to its holder; {fmt} binds none",
                pointer="/options/holder",
            )
        return {}
    if holder is None and isinstance(credential, dict):
        subject = credential.get("credentialSubject")
        candidate = subject.get("id") if isinstance(subject, dict) else None
        if isinstance(candidate, str) and candidate.startswith(("did:key:", "did:jwk:")):
            holder = candidate
    if holder is None:
        return {}
    if not isinstance(holder, str) or not holder.startswith(("did:key:", "did:jwk:")):
        raise MalformedError(
            "options.holder must be the holder's did:key or did:jwk",
            pointer="/options/holder",
        )
    return {"holder": holder}


def is_data_integrity(fmt: str) -> bool:
    return fmt == DATA_INTEGRITY or fmt in SUITES


def key_kinds(fmt: str) -> tuple[KeyKind, ...]:
    """The key types that can secure ``fmt`` (a cryptosuite names its own; ``data-integrity``
    those with a default suite: no Data Integrity suite takes P-521)."""
    if fmt == DATA_INTEGRITY:
        return tuple(kind for kind in KEY_KINDS if kind in DEFAULT_SUITE_FOR)
    suite = SUITES.get(fmt)
    if suite is None:
        return KEY_KINDS
    return tuple(kind for kind in KEY_KINDS if kind in suite.key_kinds)


def check_offered(formats: Iterable[str]) -> tuple[str, ...]:
    """The offered formats, each implemented; raises UnsupportedError for one that is not."""
    known = implemented()
    chosen = tuple(formats) or known
    for fmt in chosen:
        if fmt not in known:
            raise UnsupportedError(f"format {fmt!r} is not implemented; known: {', '.join(known)}")
    return chosen


def choose(options: Mapping[str, Any], *, offered: tuple[str, ...], default: str) -> str:
    """The format a request's ``options`` ask for (``format``, or ``type`` + ``cryptosuite``).

    ``options`` is as :func:`vcred_service.requests.request_options` reads it. Raises
    MalformedError for a member of the wrong type, UnsupportedError for a format or proof type
    this issuer does not offer. Pointers are relative to the request body.
    """
    named = options.get("format")
    proof_type = options.get("type")
    suite = options.get("cryptosuite")
    for key, value in (("format", named), ("type", proof_type), ("cryptosuite", suite)):
        if value is not None and not isinstance(value, str):
            raise MalformedError(f"options.{key} must be a string", pointer=f"/options/{key}")
    fmt = None if named is None else ALIASES.get(named, named)
    for value in (proof_type, fmt):
        # Ed25519Signature2020 & co: docs/legacy.md
        if isinstance(value, str) and value in VERIFY_ONLY:
            where = "/options/type" if value == proof_type else "/options/format"
            raise UnsupportedError(VERIFY_ONLY[value], pointer=where)
    if proof_type is not None and proof_type != DATA_INTEGRITY_PROOF:
        raise UnsupportedError(
            f"proof type {proof_type!r} is not supported; use {DATA_INTEGRITY_PROOF} or "
            "options.format",
            pointer="/options/type",
        )
    if suite is not None:
        if fmt is None or fmt == DATA_INTEGRITY:
            fmt = suite
        elif fmt != suite:
            raise MalformedError(
                f"options.format {named!r} contradicts options.cryptosuite {suite!r}",
                pointer="/options/format",
            )
    elif proof_type is not None:
        if fmt is None:
            fmt = DATA_INTEGRITY
        elif not is_data_integrity(fmt):
            raise MalformedError(
                f"options.format {named!r} contradicts options.type {proof_type!r}",
                pointer="/options/format",
            )
    if fmt is None:
        fmt = default
    if fmt not in offered:
        pointer = "/options/format" if named is not None else "/options/cryptosuite"
        raise UnsupportedError(
            f"{fmt!r} is not offered by this issuer; offered: {', '.join(offered)}",
            pointer=pointer,
        )
    return fmt


def as_text(secured: str | bytes | dict[str, Any]) -> str | dict[str, Any]:
    """A secured credential as the service keeps and sends it: bytes (vc+cose) as base64,
    the text of their ``data:`` URL; every other form unchanged."""
    return base64.b64encode(secured).decode("ascii") if isinstance(secured, bytes) else secured


def wrap(secured: str | dict[str, Any], fmt: str) -> dict[str, Any]:
    """The ``verifiableCredential`` of the answer: a Data Integrity credential as is, a compact
    (or base64 COSE, see :func:`as_text`) one as an ``EnvelopedVerifiableCredential``
    (VCDM 2.0 §4.13, VC-JOSE-COSE §3)."""
    if isinstance(secured, dict):
        return secured
    media = COMPACT_MEDIA_TYPES.get(fmt, "application/vc+jwt")
    if fmt in BINARY_FORMATS:
        media += ";base64"
    return {"@context": [VC_V2_CONTEXT], "id": f"data:{media},{secured}", "type": ENVELOPED_TYPE}


def media_type(fmt: str) -> str:
    """The media type of a secured credential of ``fmt`` on its own."""
    return COMPACT_MEDIA_TYPES.get(fmt, "application/vc")
