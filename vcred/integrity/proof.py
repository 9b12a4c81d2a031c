"""Generic Data Integrity: proof options, adding proofs, verifying proofs, sets and chains.

Verifiable Credential Data Integrity 1.0 (https://www.w3.org/TR/vc-data-integrity/):
§2.1 proofs (``created`` / ``expires`` as XSD dateTimeStamp, ``domain``, ``challenge``,
``previousProof``), §2.2 proof purposes, §4.2 Add Proof, §4.3 Add Proof Set/Chain, §4.4 Verify
Proof and §4.5 Verify Proof Sets and Chains. The cryptosuite-specific steps are in
:mod:`vcred.integrity.suites`.

The verifier names the key: ``verificationMethod`` must be a URL that the verifier resolves
through its DID, under the verification relationship the proof purpose names. Embedded keys are
refused, and the key type must match the cryptosuite.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from vcred import model
from vcred.did.document import VerificationMethod
from vcred.errors import (
    ChallengeError,
    DomainError,
    ExpiredError,
    InvalidProofError,
    MalformedError,
    NotYetValidError,
    ParsingError,
    UnsupportedError,
    UsageError,
    VcredError,
)
from vcred.integrity import ecdsa_sd
from vcred.integrity.legacy import (
    LEGACY_SUITES,
    LegacySuite,
    check_legacy_shape,
    legacy_suite,
    verify_legacy_proof,
)
from vcred.integrity.suites import (
    DEFAULT_SUITE_FOR,
    ECDSA_SD_2023,
    PROOF_TYPE,
    Cryptosuite,
    create_proof,
    cryptosuite,
    verify_proof_with_terms,
)
from vcred.jsonld import ContextLoader
from vcred.keys import Signer

#: §2.2 proof purposes; each names the verification relationship of the same name in the
#: controller's DID document (https://www.w3.org/TR/cid-1.0/#verification-relationships).
PURPOSES: Final = frozenset(
    {
        "assertionMethod",
        "authentication",
        "capabilityInvocation",
        "capabilityDelegation",
        "keyAgreement",
    }
)
#: A bound on the work one document can ask for: each proof is one canonicalization and one
#: DID resolution.
MAX_PROOFS: Final = 16

MethodLookup = Callable[[str, str], VerificationMethod]
"""(method id, relationship) → a method its DID authorises; raises UnknownKeyError etc."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedProof:
    """One proof that verified, with the method (and so the controller) that signed it."""

    proof: Mapping[str, Any]
    suite: Cryptosuite | LegacySuite
    method: VerificationMethod
    pointer: str
    #: the document this proof signs, as verified, passes ``vcred.jsonld.check_read_by_terms``
    #: (the expansion of its RDFC transformation told it; False: not told)
    read_by_terms: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedDocument:
    """A document whose every proof verified: the document without its proofs, and the proofs."""

    document: dict[str, Any]
    proofs: tuple[VerifiedProof, ...]
    #: ``document`` passes ``vcred.jsonld.check_read_by_terms`` as it is (a proof's RDFC
    #: transformation expanded exactly it and told so; False: not told)
    read_by_terms: bool = False

    @property
    def methods(self) -> list[VerificationMethod]:
        return [p.method for p in self.proofs]


def xsd_date_time(moment: datetime) -> str:
    """An aware datetime as an XSD dateTimeStamp in UTC, to the second (``…T12:00:00Z``)."""
    if moment.tzinfo is None:
        raise UsageError("times must be timezone-aware (e.g. datetime.now(UTC))")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def proof_options(
    suite: Cryptosuite,
    verification_method: str,
    *,
    purpose: str = "assertionMethod",
    created: datetime | None = None,
    expires: datetime | None = None,
    domain: str | Sequence[str] | None = None,
    challenge: str | None = None,
    proof_id: str | None = None,
    previous_proof: str | Sequence[str] | None = None,
) -> dict[str, Any]:
    """The proof options of a new proof (§2.1 Proofs).

    https://www.w3.org/TR/vc-data-integrity/#proofs — raises UsageError for options that would
    make a proof verifiers must reject.
    """
    if purpose not in PURPOSES:
        raise UsageError(f"unknown proof purpose {purpose!r}; known: {sorted(PURPOSES)}")
    if not model.is_url(verification_method):
        raise UsageError("the signer's key id must be a verification method URL")
    options: dict[str, Any] = {"type": PROOF_TYPE}
    if proof_id is not None:
        if not model.is_url(proof_id):
            raise UsageError("a proof id must be a URL")
        options["id"] = proof_id
    options["cryptosuite"] = suite.name
    if created is not None:
        options["created"] = xsd_date_time(created)
    if expires is not None:
        if created is not None and expires <= created:
            raise UsageError("a proof must expire after it was created")
        options["expires"] = xsd_date_time(expires)
    options["verificationMethod"] = verification_method
    options["proofPurpose"] = purpose
    if challenge is not None:
        options["challenge"] = challenge
    if domain is not None:
        options["domain"] = domain if isinstance(domain, str) else list(domain)
    if previous_proof is not None:
        options["previousProof"] = (
            previous_proof if isinstance(previous_proof, str) else list(previous_proof)
        )
    return options


def add_proof(
    document: Mapping[str, Any],
    signer: Signer,
    *,
    suite: Cryptosuite | str | None = None,
    purpose: str = "assertionMethod",
    created: datetime | None = None,
    expires: datetime | None = None,
    domain: str | Sequence[str] | None = None,
    challenge: str | None = None,
    proof_id: str | None = None,
    previous_proof: str | Sequence[str] | None = None,
    loader: ContextLoader | None = None,
) -> dict[str, Any]:
    """Add Proof (§4.2), or Add Proof Set/Chain (§4.3) when ``document`` already has proofs.

    https://www.w3.org/TR/vc-data-integrity/#add-proof ·
    https://www.w3.org/TR/vc-data-integrity/#add-proof-set-chain

    ``suite`` defaults to the RDFC suite of the signer's key. With ``previous_proof`` (an id or
    ids of proofs already on the document) the new proof signs those proofs too: a proof chain.
    ``loader`` resolves JSON-LD contexts (default: :func:`vcred.jsonld.default_loader`).
    Returns a new document; ``document`` is not changed. Raises UsageError for a suite that
    does not fit the key or a previous proof that is not there.
    """
    chosen = _suite_for_signer(suite, signer)
    if chosen.selective:
        raise UsageError(f"{chosen.name} base proofs are added with add_base_proof")
    options = proof_options(
        chosen,
        signer.key_id,
        purpose=purpose,
        created=created,
        expires=expires,
        domain=domain,
        challenge=challenge,
        proof_id=proof_id,
        previous_proof=previous_proof,
    )
    all_proofs = [copy.deepcopy(p) for p in model.as_list(document.get("proof", []))]
    input_document = copy.deepcopy({k: v for k, v in document.items() if k != "proof"})
    output = copy.deepcopy(input_document)
    if previous_proof is not None:
        wanted = [previous_proof] if isinstance(previous_proof, str) else list(previous_proof)
        missing = [w for w in wanted if not any(p.get("id") == w for p in all_proofs)]
        if missing:  # §4.3 steps 4-5: PROOF_GENERATION_ERROR
            raise UsageError(f"previousProof {missing} is not a proof of this document")
        input_document["proof"] = [p for p in all_proofs if p.get("id") in wanted]
    proof = create_proof(chosen, input_document, options, signer, loader=loader)
    _check_created(proof, options, domain=domain, challenge=challenge)
    output["proof"] = [*all_proofs, proof] if all_proofs else proof
    return output


def _check_created(
    proof: Mapping[str, Any],
    options: Mapping[str, Any],
    *,
    domain: str | Sequence[str] | None,
    challenge: str | None,
) -> None:
    for name in ("type", "verificationMethod", "proofPurpose"):  # §4.2 step 2
        if name not in proof:
            raise UsageError(f"the created proof has no {name}")
    if domain is not None and proof.get("domain") != options.get("domain"):  # §4.2 step 3
        raise UsageError("the created proof does not carry the requested domain")
    if challenge is not None and proof.get("challenge") != challenge:  # §4.2 step 4
        raise UsageError("the created proof does not carry the requested challenge")


def add_base_proof(
    document: Mapping[str, Any],
    signer: Signer,
    *,
    mandatory_pointers: Sequence[str] = (),
    purpose: str = "assertionMethod",
    created: datetime | None = None,
    expires: datetime | None = None,
    proof_id: str | None = None,
    loader: ContextLoader | None = None,
) -> dict[str, Any]:
    """Add Proof (§4.2) with an ecdsa-sd-2023 base proof, for the holder to derive from.

    https://www.w3.org/TR/vc-data-integrity/#add-proof and
    https://www.w3.org/TR/vc-di-ecdsa/#create-base-proof-ecdsa-sd-2023 — ``mandatory_pointers``
    (JSON Pointers) select what every derived credential reveals. The signer's key must be
    P-256. The document must not have proofs yet: a derived credential carries only its own
    proof. Returns a new document. Raises UsageError for another key or a document with
    proofs, MalformedError for a mandatory pointer that is not a JSON Pointer, does not match
    the document or selects part of an RDF list.
    """
    if "proof" in document:
        raise UsageError(f"{ECDSA_SD_2023.name} base proofs are not added to documents with proofs")
    chosen = _suite_for_signer(ECDSA_SD_2023, signer)
    options = proof_options(
        chosen, signer.key_id, purpose=purpose, created=created, expires=expires, proof_id=proof_id
    )
    unsecured = copy.deepcopy(dict(document))
    proof = ecdsa_sd.create_base_proof(
        unsecured, options, signer, mandatory_pointers=mandatory_pointers, loader=loader
    )
    _check_created(proof, options, domain=None, challenge=None)
    return {**unsecured, "proof": proof}


def verify_document(
    secured: Any,
    *,
    purpose: str,
    lookup: MethodLookup,
    now: datetime,
    clock_skew: timedelta = timedelta(0),
    challenge: str | None = None,
    domain: str | None = None,
    loader: ContextLoader | None = None,
    owned: bool = False,
) -> VerifiedDocument:
    """Verify Proof Sets and Chains (§4.5): every proof on ``secured`` must verify.

    https://www.w3.org/TR/vc-data-integrity/#verify-proof-sets-and-chains, each proof by
    Verify Proof (§4.4, https://www.w3.org/TR/vc-data-integrity/#verify-proof) with
    ``purpose`` as the expected proof purpose. A proof naming a ``previousProof`` is verified
    over the document with those proofs. When ``challenge`` / ``domain`` are given, each proof
    must carry them. Proofs of the legacy types (:data:`LEGACY_SUITES`) verify too, by
    :func:`vcred.integrity.legacy.verify_legacy_proof`, in sets but never in chains.

    The verified document is a copy (:func:`vcred.model.copy_json`) of ``secured`` without
    its proofs, unless ``owned``: the caller hands over ``secured``, a copy nobody else holds
    (the verifier makes one before reading its input, :func:`vcred.model.checked_copy`), and
    the verified document shares its values.

    Raises at the first proof that fails: ParsingError / InvalidProofError / UnsupportedError
    (malformed), UnknownKeyError / ResolutionError (the key), CryptographicError (signature),
    NotYetValidError / ExpiredError (``created`` in the future, ``expires`` past),
    ChallengeError / DomainError.
    """
    if not isinstance(secured, Mapping):
        raise ParsingError("a secured document must be a JSON object", pointer="/")
    if "proof" not in secured:
        raise MalformedError("the document has no proof", pointer="/proof")
    raw = secured["proof"]
    all_proofs = model.as_list(raw)
    if not all_proofs:
        raise MalformedError("the proof set is empty", pointer="/proof")
    if len(all_proofs) > MAX_PROOFS:
        raise MalformedError(f"at most {MAX_PROOFS} proofs per document", pointer="/proof")
    unsecured = dict(secured)
    del unsecured["proof"]
    verified: list[VerifiedProof] = []
    for index, proof in enumerate(all_proofs):
        pointer = f"/proof/{index}" if isinstance(raw, list) else "/proof"
        if not isinstance(proof, Mapping):
            raise ParsingError("a proof must be a JSON object", pointer=pointer)
        verified.append(
            _verify_one(
                unsecured,
                proof,
                all_proofs,
                purpose=purpose,
                lookup=lookup,
                now=now,
                clock_skew=clock_skew,
                challenge=challenge,
                domain=domain,
                pointer=pointer,
                loader=loader,
            )
        )
    document = unsecured if owned else model.copy_json(unsecured)
    covered = _covered_context(unsecured.get("@context"), verified)
    if covered is not None:
        document["@context"] = covered
    return VerifiedDocument(
        document=document,
        proofs=tuple(verified),
        read_by_terms=covered is None and any(proof.read_by_terms for proof in verified),
    )


def _verify_one(
    unsecured: Mapping[str, Any],
    proof: Mapping[str, Any],
    all_proofs: Sequence[Any],
    *,
    purpose: str,
    lookup: MethodLookup,
    now: datetime,
    clock_skew: timedelta,
    challenge: str | None,
    domain: str | None,
    pointer: str,
    loader: ContextLoader | None,
) -> VerifiedProof:
    """Verify Proof (§4.4) for one proof of a set or chain (§4.5 step 3)."""
    suite = check_proof_shape(proof, pointer=pointer)
    if proof["proofPurpose"] != purpose:  # §4.4 step 4
        raise InvalidProofError(
            f"the proof purpose is {proof['proofPurpose']}, but {purpose} is expected here",
            pointer=f"{pointer}/proofPurpose",
        )
    method = _retrieve_method(proof["verificationMethod"], purpose, lookup, pointer=pointer)
    read_by_terms = False
    input_document = dict(unsecured)
    previous = previous_proofs(proof, all_proofs, pointer=pointer)
    if previous:  # §4.5 step 3.3: a chain signs the proofs it follows
        input_document["proof"] = previous
    # Linked Data Signatures have no chains, and a derived ecdsa-sd-2023 proof signs the
    # revealed document only: for either, the proofs it names as previous would go unsigned
    if previous and (isinstance(suite, LegacySuite) or suite.selective):
        raise InvalidProofError(
            f"a {suite.name} proof cannot follow other proofs",
            pointer=f"{pointer}/previousProof",
        )
    if isinstance(suite, LegacySuite):
        verify_legacy_proof(
            suite, unsecured, proof, method.public_key, pointer=pointer, loader=loader
        )
    elif suite.selective:  # ecdsa-sd-2023: only derived proofs are for verifiers
        ecdsa_sd.verify_derived_proof(
            unsecured, proof, method.public_key, pointer=pointer, loader=loader
        )
    else:
        read_by_terms = verify_proof_with_terms(
            suite, input_document, proof, method.public_key, pointer=pointer, loader=loader
        )[1]
    _check_time_window(proof, now=now, clock_skew=clock_skew, pointer=pointer)
    if challenge is not None and proof.get("challenge") != challenge:  # §4.4 step 6
        raise ChallengeError(
            "the proof was not made for this challenge", pointer=f"{pointer}/challenge"
        )
    if domain is not None and domain not in model.as_list(proof.get("domain", [])):  # step 5
        raise DomainError("the proof was not made for this domain", pointer=f"{pointer}/domain")
    return VerifiedProof(
        proof=proof,
        suite=suite,
        method=method,
        pointer=pointer,
        # a chain's proof signs the document with the proofs it follows: not the one verified
        read_by_terms=read_by_terms and not previous,
    )


def check_proof_shape(
    proof: Mapping[str, Any], *, pointer: str = "/proof"
) -> Cryptosuite | LegacySuite:
    """Check a proof's members (§2.1 Proofs, §4.4 step 3) and return its cryptosuite.

    https://www.w3.org/TR/vc-data-integrity/#proofs — a proof of a legacy type
    (:mod:`vcred.integrity.legacy`) returns its :class:`LegacySuite`. Raises
    InvalidProofError for a missing or malformed member, UnsupportedError for a proof type or
    cryptosuite we do not implement.
    """
    proof_type = proof.get("type")
    if proof_type is None:
        raise InvalidProofError("the proof has no type", pointer=f"{pointer}/type")
    legacy = legacy_suite(proof_type)
    if legacy is not None:
        _check_shared_members(proof, pointer=pointer)
        check_legacy_shape(legacy, proof, pointer=pointer)
        return legacy
    if proof_type != PROOF_TYPE:
        known = ", ".join([PROOF_TYPE, *sorted(LEGACY_SUITES)])
        raise UnsupportedError(
            f"proof type {str(proof_type)[:60]!r} is not supported; known: {known}",
            pointer=f"{pointer}/type",
        )
    if "cryptosuite" not in proof:
        raise InvalidProofError("the proof has no cryptosuite", pointer=f"{pointer}/cryptosuite")
    suite = cryptosuite(proof["cryptosuite"], pointer=f"{pointer}/cryptosuite")
    _check_shared_members(proof, pointer=pointer)
    if not isinstance(proof.get("proofValue"), str):
        raise InvalidProofError("the proof has no proofValue", pointer=f"{pointer}/proofValue")
    return suite


def _check_shared_members(proof: Mapping[str, Any], *, pointer: str) -> None:
    """The members every proof type shares: purpose, method, times, id, challenge, domain."""
    purpose = proof.get("proofPurpose")
    if not isinstance(purpose, str) or purpose not in PURPOSES:
        raise InvalidProofError(
            "proofPurpose must be one of " + ", ".join(sorted(PURPOSES)),
            pointer=f"{pointer}/proofPurpose",
        )
    if not model.is_url(proof.get("verificationMethod")):
        # the verifier finds the key itself: an embedded method would let a proof bring its own
        raise InvalidProofError(
            "verificationMethod must be the URL of a verification method",
            pointer=f"{pointer}/verificationMethod",
        )
    for name in ("created", "expires"):
        if name in proof:
            _proof_time(proof, name, pointer=pointer)
    if "id" in proof and not model.is_url(proof["id"]):
        raise InvalidProofError("a proof id must be a URL", pointer=f"{pointer}/id")
    for name in ("challenge", "nonce"):
        if name in proof and not isinstance(proof[name], str):
            raise InvalidProofError(f"{name} must be a string", pointer=f"{pointer}/{name}")
    for name in ("domain", "previousProof"):
        if name in proof and not _is_strings(proof[name]):
            raise InvalidProofError(
                f"{name} must be a string or an array of strings", pointer=f"{pointer}/{name}"
            )


def previous_proofs(
    proof: Mapping[str, Any], all_proofs: Sequence[Any], *, pointer: str = "/proof"
) -> list[Any]:
    """The proofs ``proof`` chains to through ``previousProof`` (§4.5 step 3.2).

    Raises InvalidProofError if an id it names is not a proof of the document, or is its own.
    """
    if "previousProof" not in proof:
        return []
    wanted = model.as_list(proof["previousProof"])
    if "id" in proof and proof["id"] in wanted:
        raise InvalidProofError("a proof cannot follow itself", pointer=f"{pointer}/previousProof")
    for item in wanted:
        if not any(isinstance(p, Mapping) and p.get("id") == item for p in all_proofs):
            raise InvalidProofError(
                f"previousProof {str(item)[:100]!r} is not a proof of this document",
                pointer=f"{pointer}/previousProof",
            )
    return [p for p in all_proofs if isinstance(p, Mapping) and p.get("id") in wanted]


def _retrieve_method(
    method_id: str, purpose: str, lookup: MethodLookup, *, pointer: str
) -> VerificationMethod:
    """Retrieve Verification Method (Controlled Identifiers 1.0 §3.3), for ``purpose``.

    https://www.w3.org/TR/cid-1.0/#retrieve-verification-method
    """
    try:
        return lookup(method_id, purpose)
    except VcredError as error:
        if error.pointer is None:
            error.pointer = f"{pointer}/verificationMethod"
        raise


def _check_time_window(
    proof: Mapping[str, Any], *, now: datetime, clock_skew: timedelta, pointer: str
) -> None:
    """``created`` must not be in the future, ``expires`` not in the past (§2.1), nor before
    ``created``: such a proof says it was never valid, though the clock skew let both ends
    pass at once."""
    created = None
    if "created" in proof:
        created = _proof_time(proof, "created", pointer=pointer)
        if created > now + clock_skew:
            raise NotYetValidError(
                f"the proof claims to be created at {proof['created']}, in the future",
                pointer=f"{pointer}/created",
            )
    if "expires" in proof:
        expires = _proof_time(proof, "expires", pointer=pointer)
        if created is not None and expires < created:
            raise InvalidProofError(
                f"the proof expires at {proof['expires']}, before it was created",
                pointer=f"{pointer}/expires",
            )
        if expires < now - clock_skew:
            raise ExpiredError(
                f"the proof expired at {proof['expires']}", pointer=f"{pointer}/expires"
            )


def _proof_time(proof: Mapping[str, Any], name: str, *, pointer: str) -> datetime:
    try:
        return model.parse_datetime(proof[name], pointer=f"{pointer}/{name}")
    except MalformedError as exc:
        raise InvalidProofError(f"{name} {exc.message}", pointer=exc.pointer) from exc


def _suite_for_signer(suite: Cryptosuite | str | None, signer: Signer) -> Cryptosuite:
    kind = signer.public_key.kind
    if suite is None:
        default = DEFAULT_SUITE_FOR.get(kind)
        if default is None:  # P-521: no Data Integrity cryptosuite defines it
            raise UsageError(f"no Data Integrity cryptosuite signs with a {kind} key")
        return default
    try:
        chosen = suite if isinstance(suite, Cryptosuite) else cryptosuite(suite)
    except UnsupportedError as exc:
        raise UsageError(exc.message) from exc
    if kind not in chosen.key_kinds:
        raise UsageError(f"{chosen.name} cannot be used with a {kind} key")
    return chosen


def _covered_context(context: Any, proofs: Sequence[VerifiedProof]) -> Any:
    """The @context the proofs vouch for (JCS proofs may sign a prefix of it, §3.3.2 step 4).

    None when some proof covers the whole document's @context.
    """
    prefixes = []
    for verified in proofs:
        signed = verified.proof.get("@context")
        if verified.suite.transformation == "rdfc" or signed is None or signed == context:
            return None
        prefixes.append(signed)
    return max(prefixes, key=lambda p: len(model.as_list(p)))


def _is_strings(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)
