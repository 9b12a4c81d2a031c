"""One exception hierarchy with stable codes.

Every error vcred reports carries a stable ``code`` (what scripts and tests match on), the
problem-details ``type`` URL the W3C specifications define for that family of failure, an
HTTP status the services answer with, and, where the fault lies in a document, a JSON
Pointer to it::

    VcredError
    ├── UsageError                 USAGE              misuse of the API (raised, never reported)
    ├── MalformedError             MALFORMED          structure breaks VCDM / JOSE / DID rules
    │   ├── ParsingError           PARSING_ERROR      not JSON, not a JWS, not base64url …
    │   │   ├── AuditLineError     AUDIT_LINE         an audit export line is not strict JSON
    │   │   └── InvalidImageError  INVALID_IMAGE      an upload is not a readable PNG/JPEG/WebP
    │   ├── SchemaMismatchError    SCHEMA_MISMATCH    credentialSchema validation failed
    │   │   ├── SchemaViolationsError SCHEMA_MISMATCH  … with every violation and its pointer
    │   │   └── UnknownSchemaError UNKNOWN_SCHEMA     schema id not in the local registry
    │   └── ContextError           INVALID_CONTEXT    unknown or unsafe JSON-LD @context
    ├── CryptographicError         INVALID_SIGNATURE  a signature does not verify
    │   ├── InvalidProofError      INVALID_PROOF      a proof is malformed or mismatched
    │   └── DigestMismatchError    DIGEST_MISMATCH    relatedResource / disclosure digest wrong
    ├── UnknownKeyError            UNKNOWN_KEY        no usable key for the kid / method
    │   └── KeyRevokedError        KEY_REVOKED        signed at or after the method's `revoked`
    │       └── KeyExpiredError    KEY_EXPIRED        … or at or after its `expires` (CID 1.0)
    ├── ResolutionError            DID_RESOLUTION     a DID cannot be resolved
    │   ├── TimeBudgetError        DID_RESOLUTION     … because the verification's time ran out
    │   ├── UnreachableError       DID_RESOLUTION     … because the host could not be reached
    │   ├── ErrorResponseError     DID_RESOLUTION     … an error answer, body read (RFC 6749 §5.2)
    │   └── FetchRefusedError      FETCH_REFUSED      a guarded fetch was refused (SSRF guard)
    ├── ValidityError              (base of the time-window failures)
    │   ├── ExpiredError           EXPIRED
    │   └── NotYetValidError       NOT_YET_VALID
    ├── StatusError                (base of the status failures)
    │   ├── RevokedError           REVOKED
    │   ├── SuspendedError         SUSPENDED
    │   └── StatusUnavailableError STATUS_UNAVAILABLE status unknown: list not retrieved/unusable
    │       ├── StatusMessageError       STATUS_MESSAGE_UNDEFINED  the value read means "undefined"
    │       ├── StatusVerificationError  STATUS_VERIFICATION  list fails verification or mismatches
    │       ├── StatusListLengthError    STATUS_LIST_LENGTH   list under the minimum / over the cap
    │       └── StatusRangeError         STATUS_RANGE         statusListIndex past the list end
    ├── UntrustedIssuerError       UNTRUSTED_ISSUER
    │   ├── TrustInputError        TRUST_INPUT_UNESTABLISHED  a trust rule cannot read its input
    │   ├── TrustAnchorError       TRUST_ANCHOR       a trust list not signed by its anchor
    │   └── TrustListSequenceError TRUST_LIST_SEQUENCE a trust list rolled back or forked
    ├── PresentationError          INVALID_PRESENTATION  holder binding, embedded credentials
    │   ├── HolderMismatchError    HOLDER_MISMATCH    a credential is not the presenter's
    │   ├── ChallengeError         INVALID_CHALLENGE  missing, wrong or replayed challenge / nonce
    │   └── DomainError            INVALID_DOMAIN     wrong domain / audience
    └── UnsupportedError           UNSUPPORTED        a format or algorithm we do not accept

Problem types follow VCDM 2.0 §7.1 (https://www.w3.org/TR/vc-data-model-2.0/#validation),
VC Data Integrity §2.4 and Bitstring Status List §3.5
(https://www.w3.org/TR/vc-bitstring-status-list/#processing-errors).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

_VCDM = "https://www.w3.org/TR/vc-data-model#"
_SECURITY = "https://w3id.org/security#"
_STATUS = "https://www.w3.org/ns/credentials/status-list#"

PARSING_ERROR = _VCDM + "PARSING_ERROR"
CRYPTOGRAPHIC_SECURITY_ERROR = _VCDM + "CRYPTOGRAPHIC_SECURITY_ERROR"
MALFORMED_VALUE_ERROR = _VCDM + "MALFORMED_VALUE_ERROR"
RANGE_ERROR = _VCDM + "RANGE_ERROR"
PROOF_VERIFICATION_ERROR = _SECURITY + "PROOF_VERIFICATION_ERROR"
MALFORMED_PROOF_ERROR = _SECURITY + "MALFORMED_PROOF_ERROR"
INVALID_DOMAIN_ERROR = _SECURITY + "INVALID_DOMAIN_ERROR"
INVALID_CHALLENGE_ERROR = _SECURITY + "INVALID_CHALLENGE_ERROR"
STATUS_RETRIEVAL_ERROR = _STATUS + "STATUS_RETRIEVAL_ERROR"
STATUS_VERIFICATION_ERROR = _STATUS + "STATUS_VERIFICATION_ERROR"
STATUS_LIST_LENGTH_ERROR = _STATUS + "STATUS_LIST_LENGTH_ERROR"


class VcredError(Exception):
    """Root of every vcred error: a stable code, a message, and where it happened."""

    code: ClassVar[str] = "ERROR"
    problem_type: ClassVar[str] = MALFORMED_VALUE_ERROR
    title: ClassVar[str] = "Verifiable credential error"
    http_status: ClassVar[int] = 400

    def __init__(self, message: str, *, pointer: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pointer = pointer

    def __str__(self) -> str:
        return f"{self.message} (at {self.pointer})" if self.pointer else self.message

    def as_dict(self) -> dict[str, Any]:
        """The ``{code, message, path}`` form used in verification results."""
        return {"code": self.code, "message": self.message, "path": self.pointer}

    def as_problem(self) -> dict[str, Any]:
        """RFC 9457 problem details as VCDM 2.0 §7.1 shapes them."""
        problem: dict[str, Any] = {
            "type": self.problem_type,
            "title": self.title,
            "detail": self.message,
            "code": self.code,
        }
        if self.pointer is not None:
            problem["pointer"] = self.pointer
        return problem


class UsageError(VcredError):
    """The API was called wrongly (a bug in the caller, not a bad credential)."""

    code = "USAGE"
    title = "Invalid use of the vcred API"


class MalformedError(VcredError):
    code = "MALFORMED"
    title = "Malformed value"


class ParsingError(MalformedError):
    code = "PARSING_ERROR"
    problem_type = PARSING_ERROR
    title = "Parsing error"


class AuditLineError(ParsingError):
    """A line of an audit export that is not one strict JSON object (named by its line)."""

    code = "AUDIT_LINE"
    title = "Unreadable audit export line"


class InvalidImageError(ParsingError):
    """An uploaded image that is not a PNG, JPEG or WebP picture the service can read."""

    code = "INVALID_IMAGE"
    title = "Unreadable image"


class SchemaMismatchError(MalformedError):
    code = "SCHEMA_MISMATCH"
    title = "Credential does not match its schema"
    http_status = 422


class SchemaViolationsError(SchemaMismatchError):
    """A credential breaks its schema; ``violations`` holds each failure with its own pointer.

    The exception's own message and pointer are those of the first violation (in document
    order), so code that only looks at a ``SchemaMismatchError`` still says where it broke.
    """

    def __init__(
        self,
        message: str,
        *,
        pointer: str | None = None,
        violations: tuple[SchemaMismatchError, ...] = (),
    ) -> None:
        super().__init__(message, pointer=pointer)
        self.violations = violations


class UnknownSchemaError(SchemaMismatchError):
    """A ``credentialSchema`` names a schema the local registry does not hold (never fetched)."""

    code = "UNKNOWN_SCHEMA"
    title = "Unknown credential schema"


class ContextError(MalformedError):
    code = "INVALID_CONTEXT"
    title = "Invalid or unknown JSON-LD context"


class CryptographicError(VcredError):
    code = "INVALID_SIGNATURE"
    problem_type = CRYPTOGRAPHIC_SECURITY_ERROR
    title = "Cryptographic security error"


class InvalidProofError(CryptographicError):
    code = "INVALID_PROOF"
    problem_type = MALFORMED_PROOF_ERROR
    title = "Invalid proof"


class DigestMismatchError(CryptographicError):
    code = "DIGEST_MISMATCH"
    title = "Digest mismatch"


class UnknownKeyError(VcredError):
    code = "UNKNOWN_KEY"
    problem_type = CRYPTOGRAPHIC_SECURITY_ERROR
    title = "Unknown or unauthorised key"


class KeyRevokedError(UnknownKeyError):
    """The proof was made at or after its verification method's ``revoked`` time (CID 1.0 §2.2)."""

    code = "KEY_REVOKED"
    title = "Key revoked when it signed"


class KeyExpiredError(KeyRevokedError):
    """The proof was made at or after its verification method's ``expires`` time (CID 1.0 §2.2)."""

    code = "KEY_EXPIRED"
    title = "Key expired when it signed"


class ResolutionError(VcredError):
    code = "DID_RESOLUTION"
    title = "DID resolution failed"


class TimeBudgetError(ResolutionError):
    """The verification's time budget ran out before a fetch; no stale copy may stand in."""


class UnreachableError(ResolutionError):
    """The host could not be reached (DNS, connection, timeout, a 5xx answer).

    Unlike a 404 or a refused fetch, this says nothing about the document itself: a caller
    working offline may fall back on a cached copy (RFC 5861 stale-if-error).
    """


class ErrorResponseError(ResolutionError):
    """An error answer whose body the caller asked to read (vcred.net's ``post_form`` with
    ``error_statuses``: a token endpoint's error response, RFC 6749 §5.2), capped as any.

    ``body`` is the peer's, unverified and unsanitized: read it, never show it as it is.
    """

    def __init__(self, message: str, *, status: int = 0, body: bytes = b"") -> None:
        super().__init__(message)
        self.status, self.body = status, body


class FetchRefusedError(ResolutionError):
    code = "FETCH_REFUSED"
    title = "Fetch refused"


class ValidityError(VcredError):
    code = "VALIDITY"
    problem_type = RANGE_ERROR
    title = "Outside the validity period"


class ExpiredError(ValidityError):
    code = "EXPIRED"
    title = "Credential expired"


class NotYetValidError(ValidityError):
    code = "NOT_YET_VALID"
    title = "Credential not yet valid"


class StatusError(VcredError):
    code = "STATUS"
    problem_type = STATUS_VERIFICATION_ERROR
    title = "Credential status check failed"


class RevokedError(StatusError):
    code = "REVOKED"
    title = "Credential revoked"


class SuspendedError(StatusError):
    code = "SUSPENDED"
    title = "Credential suspended"


class StatusUnavailableError(StatusError):
    code = "STATUS_UNAVAILABLE"
    problem_type = STATUS_RETRIEVAL_ERROR
    title = "Credential status unavailable"


class StatusMessageError(StatusUnavailableError):
    """The status value read has no message, or its message is "undefined" (§2.1)."""

    code = "STATUS_MESSAGE_UNDEFINED"
    problem_type = STATUS_VERIFICATION_ERROR
    title = "Status value without a meaning"


class StatusUnreachableError(StatusUnavailableError):
    """The status list's host could not be reached; a cached list may stand in (stale)."""


class StatusVerificationError(StatusUnavailableError):
    """The status list credential does not verify, or does not fit the entry pointing to it."""

    code = "STATUS_VERIFICATION"
    problem_type = STATUS_VERIFICATION_ERROR
    title = "Status list verification failed"


class StatusListLengthError(StatusUnavailableError):
    """The bitstring is shorter than the herd-privacy minimum, or expands past the size cap."""

    code = "STATUS_LIST_LENGTH"
    problem_type = STATUS_LIST_LENGTH_ERROR
    title = "Status list length error"


class StatusRangeError(StatusUnavailableError):
    """The entry's statusListIndex points past the end of the list."""

    code = "STATUS_RANGE"
    problem_type = RANGE_ERROR
    title = "Status list index out of range"


class UntrustedIssuerError(VcredError):
    code = "UNTRUSTED_ISSUER"
    title = "Issuer not trusted"


class TrustInputError(UntrustedIssuerError):
    """What a trust rule needs is absent, ambiguous or unreadable: the rule fails closed."""

    code = "TRUST_INPUT_UNESTABLISHED"
    title = "Trust rule input not established"


class TrustAnchorError(UntrustedIssuerError):
    """A trust list not signed by the configured trust anchor's trust-list key."""

    code = "TRUST_ANCHOR"
    title = "Trust list not signed by its anchor"


class TrustListSequenceError(UntrustedIssuerError):
    """A trust list whose sequence number goes backwards, that forks the list held (same
    number, other content; or a successor naming another predecessor), or a successor that
    names no predecessor (``replaces``): it cannot be shown to follow the list held."""

    code = "TRUST_LIST_SEQUENCE"
    title = "Trust list out of sequence"


class PresentationError(VcredError):
    code = "INVALID_PRESENTATION"
    problem_type = PROOF_VERIFICATION_ERROR
    title = "Invalid presentation"


class HolderMismatchError(PresentationError):
    """A presented credential is not bound to the party whose key signed the presentation."""

    code = "HOLDER_MISMATCH"
    title = "Credential not bound to the presenter"


class ChallengeError(PresentationError):
    code = "INVALID_CHALLENGE"
    problem_type = INVALID_CHALLENGE_ERROR
    title = "Invalid challenge"


class DomainError(PresentationError):
    code = "INVALID_DOMAIN"
    problem_type = INVALID_DOMAIN_ERROR
    title = "Invalid domain"


class UnsupportedError(VcredError):
    code = "UNSUPPORTED"
    title = "Unsupported format or algorithm"


@lru_cache(maxsize=256)
def error_class(code: str) -> type[VcredError]:
    """The error class whose stable ``code`` this is: the most general one when subclasses
    share it (ResolutionError for DID_RESOLUTION); :class:`VcredError` for an unknown code.

    Lets a service turn a reported ``{code, message, path}`` back into problem details with
    the right ``type`` and ``title``.
    """
    pending: list[type[VcredError]] = [VcredError]
    while pending:
        cls = pending.pop(0)  # breadth first: a parent before the subclasses sharing its code
        if cls.code == code:
            return cls
        pending.extend(cls.__subclasses__())
    return VcredError
