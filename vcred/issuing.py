"""Issuing: secure a credential in one of our formats with a Signer.

The surface needs no cryptographic choices: the algorithm follows from the key, the key id
from the DID. ``issue(credential, key)`` with a bare key pair signs as its did:key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from vcred import model
from vcred.did.document import controller_of, is_https_url
from vcred.did.jwk import did_jwk
from vcred.did.key import did_key, did_key_method_id
from vcred.did.resolver import Resolver
from vcred.did.web import method_id as did_web_method_id
from vcred.errors import MalformedError, UsageError
from vcred.formats import (
    COMMON_ISSUE_OPTIONS,
    CredentialIssuer,
    Format,
    Secured,
    given_options,
    keyword_options,
    refuse_unused,
    registry,
)
from vcred.jsonld import ContextLoader, default_loader
from vcred.keys import KeyPair, LocalSigner, PublicKey, Signer, SigningKey
from vcred.related import check_related_resources

FormatIssuer = CredentialIssuer


class _RegistryView(Mapping[str, Any]):
    """A read-only mapping computed live from :data:`vcred.formats.registry`."""

    def __init__(self, read: Callable[[], Mapping[str, Any]]) -> None:
        self._read = read

    def __getitem__(self, name: str) -> Any:
        return self._read()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())


#: Every format :func:`issue` makes (a view of :data:`vcred.formats.registry`).
FORMATS: Final[Mapping[str, CredentialIssuer]] = _RegistryView(registry.issuers)
#: Formats vcred verifies but will not make → the refusal (with the reason) whoever asks gets.
VERIFY_ONLY: Final[Mapping[str, str]] = _RegistryView(registry.issue_refusals)


def register_issue_format(name: str, issuer: CredentialIssuer) -> None:
    """Plug a securing format into :func:`issue`; its options are its keyword-only parameters.

    Prefer ``vcred.formats.registry.register(Format(...))``, which names them.
    """
    registry.register(Format(name=name, issue=issuer, issue_options=keyword_options(issuer)))


def refuse_issue_format(name: str, reason: str) -> None:
    """Name a format :func:`issue` refuses, with the message ``reason`` (verify-only formats)."""
    registry.register(Format(name=name, issue_refusal=reason))


def signer_for(
    key: SigningKey, *, did: str | None = None, key_id: str | None = None
) -> LocalSigner:
    """A signer for ``key`` acting as ``did`` (default: the key's did:key).

    Method ids: did:key → ``did#<multikey>``; did:jwk → ``did#0``; did:web → ``did#<multikey>``
    (the ids our did:web documents use). ``did`` may also be an https URL (an issuer or holder
    whose verifiers are given the key out of band, as the VC-JOSE-COSE suite does): the
    method id is ``key_id`` (it must be ``<url>#<fragment>``), by default ``<url>#<JWK
    thumbprint>``. Raises UsageError.
    """
    if did is not None and is_https_url(did):
        chosen = key_id if key_id is not None else f"{did}#{key.public.thumbprint()}"
        if not chosen.startswith(did + "#") or controller_of(chosen) != did:
            raise UsageError(f"the key id {chosen[:200]!r} must be {did}#<fragment>")
        return LocalSigner(key=key, key_id=chosen)
    if key_id is not None:
        raise UsageError("a key id is chosen only for an issuer or holder known by an https URL")
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
    raise UsageError(f"cannot sign as {did[:100]!r}: use did:key, did:jwk, did:web or an https URL")


def as_signer(signer: Signer | KeyPair) -> Signer:
    return signer_for(signer) if isinstance(signer, KeyPair) else signer


def with_issuer(credential: Mapping[str, Any], signer: Signer) -> dict[str, Any]:
    """A copy of ``credential`` whose issuer is the signer's DID (filled in if absent).

    Raises UsageError if the credential names another issuer.
    """
    did = controller_of(signer.key_id)
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


#: Formats whose signing time is the JWT ``iat`` claim (Data Integrity has ``created``).
JOSE_FORMATS: Final = frozenset({"vc+jwt", "vc+sd-jwt", "sd-jwt"})


def with_issued_at(document: dict[str, Any], now: datetime | None) -> dict[str, Any]:
    """``document`` with the JWT ``iat`` claim (RFC 7519 §4.1.6) set to ``now`` unless present."""
    if "iat" in document:
        return document
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        raise UsageError("times must be timezone-aware (e.g. datetime.now(UTC))")
    return {**document, "iat": int(moment.timestamp())}


def issue(
    credential: Mapping[str, Any],
    signer: Signer | KeyPair,
    *,
    format: str = "vc+jwt",
    now: datetime | None = None,
    loader: ContextLoader | None = None,
    disclosable: Iterable[str] | None = None,
    holder: PublicKey | KeyPair | Signer | str | None = None,
    resolver: Resolver | None = None,
    created: datetime | None = None,
    expires: datetime | None = None,
    proof_id: str | None = None,
    previous_proof: str | Sequence[str] | None = None,
    cryptosuite: str | None = None,
    mandatory_pointers: Sequence[str] | None = None,
) -> Secured:
    """Secure ``credential`` as ``format``: a compact string for JOSE formats, the COSE_Sign1
    bytes for ``vc+cose``, a dict otherwise.

    The credential is checked against VCDM first (MalformedError with a pointer; also for a
    string holding a lone surrogate, which is not Unicode text); its issuer
    must be the signer's DID (filled in when absent); a relatedResource digest of a known
    JSON-LD context must match it (DigestMismatchError). JOSE formats (vc+jwt, SD-JWT) carry
    ``iat`` = ``now`` (default: the clock): the signing time a verifier compares with the
    key's ``revoked`` / ``expires`` (CID 1.0 §2.2). Raises UsageError for an unknown format
    or one vcred only verifies (:data:`VERIFY_ONLY`: the proof types that predate Data
    Integrity), and for an option the format does not use (``disclosable`` is SD-JWT's,
    ``mandatory_pointers`` ecdsa-sd-2023's, ``created`` … Data Integrity's): an option is
    never ignored.
    """
    options = given_options(
        now=now,
        loader=loader,
        disclosable=disclosable,
        holder=holder,
        resolver=resolver,
        created=created,
        expires=expires,
        proof_id=proof_id,
        previous_proof=previous_proof,
        cryptosuite=cryptosuite,
        mandatory_pointers=mandatory_pointers,
    )
    signer = as_signer(signer)
    document = with_issuer(credential, signer)
    entry = registry.get(format)
    if entry is None or not entry.issue_checks_text:  # else its UTF-8 encoding is the check
        model.check_text(document)  # UTF-8 carries no lone surrogate: nothing could sign it
    model.validate_credential(document)
    if format in JOSE_FORMATS:
        document = with_issued_at(document, now)
    # VCDM 2.0 §5.3: never sign a digest of a context that does not match the context as
    # published (what the issuer can compute; other resources are not fetched here)
    check_related_resources(document, contexts=loader or default_loader())
    if entry is not None and entry.issue_refusal is not None:
        raise UsageError(entry.issue_refusal)
    if entry is None or entry.issue is None:
        known = ", ".join(["vc+jwt", *(n for n in registry.issuers() if n != "vc+jwt")])
        raise UsageError(f"unknown format {format!r}; known: {known}")
    refuse_unused(format, options, entry.issue_options | COMMON_ISSUE_OPTIONS, "issue")
    passed = {name: value for name, value in options.items() if name in entry.issue_options}
    try:
        return entry.issue(document, signer, **passed)
    except RecursionError:
        # JSON encoding, JCS and JSON-LD recurse once per level: a document nested past
        # Python's stack is refused like any other document no format can carry (the
        # walks before this one are iterative; the verifier refuses far less deep ones)
        raise MalformedError(
            "the credential nests objects and arrays too deeply to be secured"
        ) from None
