"""Data Integrity in the pipeline: ``issue``, ``verify``, ``present`` and ``verify_presentation``.

Registers the formats ``eddsa-rdfc-2022``, ``eddsa-jcs-2022``, ``ecdsa-rdfc-2019``,
``ecdsa-jcs-2019``, ``ecdsa-sd-2023`` (issuing base proofs; verifying derived ones) and
``data-integrity`` (the suite follows from the key: Ed25519 → eddsa-rdfc-2022, P-256 / P-384
→ ecdsa-rdfc-2019; ``cryptosuite=`` names another). Credentials are signed for the proof
purpose ``assertionMethod``, presentations for ``authentication`` with the verifier's
``challenge`` and ``domain`` (VC Data Integrity §2.2,
https://www.w3.org/TR/vc-data-integrity/#proof-purposes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from vcred import model
from vcred.errors import ParsingError, UnknownKeyError, UsageError
from vcred.formats import ISSUE_OPTIONS as ALL_ISSUE_OPTIONS
from vcred.formats import PRESENTATION_LIFETIME, Format, registry
from vcred.integrity.legacy import LEGACY_SUITES, LegacySuite
from vcred.integrity.proof import VerifiedDocument, add_base_proof, add_proof, verify_document
from vcred.integrity.suites import ECDSA_SD_2023, SUITES, Cryptosuite
from vcred.jsonld import ContextLoader
from vcred.keys import Signer
from vcred.verifier import ProofState, Verifier, utc_now

FORMAT: Final = "data-integrity"
CREDENTIAL_PURPOSE: Final = "assertionMethod"
PRESENTATION_PURPOSE: Final = "authentication"
#: ecdsa-sd-2023 without mandatory pointers: what a verifier needs to check any credential
#: (who issued it, when it is valid, its status and its schema) is always disclosed.
DEFAULT_MANDATORY: Final = (
    "/issuer",
    "/validFrom",
    "/validUntil",
    "/issuanceDate",  # VC 1.1: required, so a derived credential without it is malformed
    "/expirationDate",
    "/credentialStatus",
    "/credentialSchema",
)


MandatoryPointers = Callable[[Mapping[str, Any]], tuple[str, ...]]
#: Credential type → its mandatory pointers when the issuer names none
#: (:func:`register_default_mandatory`).
DEFAULT_MANDATORY_FOR: Final[dict[str, MandatoryPointers]] = {}


def register_default_mandatory(credential_type: str, pointers: MandatoryPointers) -> None:
    """Set what an ecdsa-sd-2023 credential of ``credential_type`` always reveals when issued
    without mandatory pointers (``pointers(credential)``: JSON Pointers)."""
    DEFAULT_MANDATORY_FOR[credential_type] = pointers


def default_mandatory_pointers(credential: Mapping[str, Any]) -> tuple[str, ...]:
    """The mandatory pointers of an ecdsa-sd-2023 credential issued without any.

    Those registered for one of its types (customs: an ExportBillingAttestation reveals
    everything but its amounts); for any other credential the members of DEFAULT_MANDATORY
    it has.
    """
    for credential_type in model.as_list(credential.get("type", [])):
        if isinstance(credential_type, str) and credential_type in DEFAULT_MANDATORY_FOR:
            return DEFAULT_MANDATORY_FOR[credential_type](credential)
    return tuple(p for p in DEFAULT_MANDATORY if p[1:] in credential)


def issue_ecdsa_sd(
    credential: Mapping[str, Any],
    signer: Signer,
    *,
    mandatory_pointers: Sequence[str] | None = None,
    now: datetime | None = None,
    created: datetime | None = None,
    expires: datetime | None = None,
    proof_id: str | None = None,
    cryptosuite: str | None = None,
    loader: ContextLoader | None = None,
) -> dict[str, Any]:
    """Secure a credential with an ecdsa-sd-2023 base proof (the holder derives from it).

    https://www.w3.org/TR/vc-di-ecdsa/#create-base-proof-ecdsa-sd-2023 — ``mandatory_pointers``
    (JSON Pointers) default to :func:`default_mandatory_pointers`; ``[]`` makes every claim
    selectively disclosable. The key must be P-256. ``loader``: the contexts (default:
    :func:`vcred.jsonld.default_loader`).
    """
    if cryptosuite not in (None, ECDSA_SD_2023.name):
        raise UsageError(f"format {ECDSA_SD_2023.name} contradicts cryptosuite={cryptosuite!r}")
    document = with_data_integrity_context(credential)
    pointers = (
        default_mandatory_pointers(document) if mandatory_pointers is None else mandatory_pointers
    )
    return add_base_proof(
        document,
        signer,
        mandatory_pointers=pointers,
        purpose=CREDENTIAL_PURPOSE,
        created=created or now or utc_now(),
        expires=expires,
        proof_id=proof_id,
        loader=loader,
    )


def with_data_integrity_context(credential: Mapping[str, Any]) -> dict[str, Any]:
    """A VC 1.1 credential gets the Data Integrity v2 context appended (DESIGN §6).

    The v1 context does not define DataIntegrityProof; the v2 context of VCDM 2.0 does.
    https://www.w3.org/TR/vc-data-integrity/#contexts-and-vocabularies — raises UsageError for
    a credential that already has proofs without it (changing @context would break them).
    """
    document = dict(credential)
    if model.context_version(document) != "1.1":
        return document
    contexts = model.as_list(document["@context"])
    if model.DATA_INTEGRITY_V2_CONTEXT not in contexts:
        if "proof" in document:
            raise UsageError(
                "this VC 1.1 credential's proofs were made without the Data Integrity "
                "context; adding it now would invalidate them"
            )
        document["@context"] = [*contexts, model.DATA_INTEGRITY_V2_CONTEXT]
    return document


def _issuer(suite: Cryptosuite | None) -> Callable[..., dict[str, Any]]:
    def issue_data_integrity(
        credential: Mapping[str, Any],
        signer: Signer,
        *,
        now: datetime | None = None,
        created: datetime | None = None,
        expires: datetime | None = None,
        proof_id: str | None = None,
        previous_proof: str | Sequence[str] | None = None,
        cryptosuite: str | None = None,
        mandatory_pointers: Sequence[str] | None = None,
        loader: ContextLoader | None = None,
    ) -> dict[str, Any]:
        """Secure a credential with an assertionMethod Data Integrity proof (VC DI §4.2, §4.3).

        ``created`` defaults to ``now``. A credential that already has proofs gets one more
        (a proof set); ``previous_proof`` makes it a proof chain. With ``format=
        "data-integrity"``, ``cryptosuite`` overrides the suite the key implies
        (``"ecdsa-sd-2023"`` with ``mandatory_pointers``, as the VC API's options have it).
        ``loader``: the JSON-LD contexts (default: :func:`vcred.jsonld.default_loader`).
        https://www.w3.org/TR/vc-data-integrity/#add-proof
        """
        if suite is not None and cryptosuite not in (None, suite.name):
            raise UsageError(f"format {suite.name} contradicts cryptosuite={cryptosuite!r}")
        if suite is None and cryptosuite == ECDSA_SD_2023.name:
            if previous_proof is not None:
                raise UsageError(f"{ECDSA_SD_2023.name} proofs do not chain")
            return issue_ecdsa_sd(
                credential,
                signer,
                mandatory_pointers=mandatory_pointers,
                now=now,
                created=created,
                expires=expires,
                proof_id=proof_id,
                loader=loader,
            )
        if mandatory_pointers is not None:
            raise UsageError(f"mandatory_pointers apply to {ECDSA_SD_2023.name} only")
        return add_proof(
            with_data_integrity_context(credential),
            signer,
            suite=suite or cryptosuite,
            purpose=CREDENTIAL_PURPOSE,
            created=created or now or utc_now(),
            expires=expires,
            proof_id=proof_id,
            previous_proof=previous_proof,
            loader=loader,
        )

    return issue_data_integrity


def _presenter(suite: Cryptosuite | None) -> Callable[..., dict[str, Any]]:
    def present_data_integrity(
        presentation: Mapping[str, Any],
        signer: Signer,
        *,
        challenge: str | None = None,
        domain: str | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Secure a presentation with an authentication proof bound to challenge and domain.

        The proof expires after the same lifetime as a vp+jwt presentation.
        """
        created = now or utc_now()
        return add_proof(
            presentation,
            signer,
            suite=suite,
            purpose=PRESENTATION_PURPOSE,
            created=created,
            expires=created + PRESENTATION_LIFETIME,
            challenge=challenge,
            domain=domain,
        )

    return present_data_integrity


def prove_credential(verifier: Verifier, document: Any, state: ProofState) -> None:
    """The proof stage for a credential with Data Integrity proofs (all of them must verify).

    Fills in the document without its proofs and the methods that signed it (the pipeline's
    context stage then decides what of it is signed information).
    """
    if not isinstance(document, dict):
        raise ParsingError("a Data Integrity credential must be a JSON object", pointer="/")
    verified = verify_document(
        document,
        purpose=CREDENTIAL_PURPOSE,
        lookup=verifier.method_lookup,
        now=verifier.clock_time(),
        clock_skew=verifier.clock_skew,
        loader=verifier.context_loader,
        owned=True,  # the pipeline's own copy of its input (vcred.verifier.detect)
    )
    state.claimed = verified.document
    state.read_by_terms = verified.read_by_terms
    state.methods = verified.methods
    _record_signing_times(verified, state)


def _record_signing_times(verified: VerifiedDocument, state: ProofState) -> None:
    """Each method's signing time is its proof's ``created`` (the latest, if it signed twice);
    the pipeline refuses a method used at or after its ``revoked`` / ``expires`` time."""
    for proof in verified.proofs:
        if "created" not in proof.proof:
            continue
        pointer = f"{proof.pointer}/created"
        created = model.parse_datetime(proof.proof["created"], pointer=pointer)
        earlier = state.signed_at.get(proof.method.id)
        if earlier is None or earlier[0] < created:
            state.signed_at[proof.method.id] = (created, pointer)


def prove_presentation(verifier: Verifier, document: Any, state: ProofState) -> tuple[Any, Any]:
    """The proof stage for a presentation: authentication proofs by the holder.

    Returns the (challenge, domain) every proof was made for (None where they differ); the
    pipeline compares them with the ones the verifier expects.
    """
    if not isinstance(document, dict):
        raise ParsingError("a Data Integrity presentation must be a JSON object", pointer="/")
    verified = verify_document(
        document,
        purpose=PRESENTATION_PURPOSE,
        lookup=verifier.method_lookup,
        now=verifier.clock_time(),
        clock_skew=verifier.clock_skew,
        loader=verifier.context_loader,
    )
    holder = document.get("holder")
    holder = holder.get("id") if isinstance(holder, dict) else holder
    for proof in verified.proofs:
        if holder is not None and proof.method.controller != holder:
            raise UnknownKeyError(
                f"the presentation key {proof.method.id} is controlled by "
                f"{proof.method.controller}, not by the holder {holder}",
                pointer="/holder",
            )
    state.claimed = verified.document
    state.methods = verified.methods
    _record_signing_times(verified, state)
    return (
        _agreed([p.proof.get("challenge") for p in verified.proofs]),
        _agreed([p.proof.get("domain") for p in verified.proofs]),
    )


def _agreed(values: list[Any]) -> Any:
    return values[0] if all(v == values[0] for v in values) else None


def _legacy_refusal(suite: LegacySuite) -> str:
    # docs/legacy.md: a legacy signature is not bound to a cryptosuite name, and each of these
    # suites has a Data Integrity successor that verifiers everywhere accept
    successor = "eddsa-rdfc-2022" if suite.key_kinds == {"ed25519"} else "data-integrity"
    return (
        f"{suite.name} is verified, never issued: it predates Data Integrity 1.0; issue new "
        f"credentials with format={successor!r}"
    )


#: The options of :func:`vcred.issue` Data Integrity uses: all but the SD-JWT ones.
ISSUE_OPTIONS: Final = frozenset(ALL_ISSUE_OPTIONS) - {"disclosable", "holder", "resolver"}
#: ecdsa-sd-2023 base proofs do not chain; the other suites have no mandatory pointers.
SELECTIVE_ISSUE_OPTIONS: Final = ISSUE_OPTIONS - {"previous_proof"}
SUITE_ISSUE_OPTIONS: Final = ISSUE_OPTIONS - {"mandatory_pointers"}


def register() -> None:
    """Plug Data Integrity into issue(), verify(), present() and verify_presentation()."""
    for name, suite in SUITES.items():
        if suite.selective:  # base proofs for holders; presentations are never selective
            registry.register(
                Format(name=name, issue=issue_ecdsa_sd, issue_options=SELECTIVE_ISSUE_OPTIONS)
            )
            continue
        registry.register(
            Format(
                name=name,
                issue=_issuer(suite),
                issue_options=SUITE_ISSUE_OPTIONS,
                present=_presenter(suite),
            )
        )
    for legacy in LEGACY_SUITES.values():
        registry.register(Format(name=legacy.name, issue_refusal=_legacy_refusal(legacy)))
    registry.register(
        Format(
            name=FORMAT,
            issue=_issuer(None),
            issue_options=ISSUE_OPTIONS,
            present=_presenter(None),
            verify=prove_credential,
            verify_presentation=prove_presentation,
        )
    )
