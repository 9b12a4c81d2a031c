"""Data Integrity proofs: VC Data Integrity 1.0 with the EdDSA and ECDSA cryptosuites.

https://www.w3.org/TR/vc-data-integrity/ · https://www.w3.org/TR/vc-di-eddsa/ ·
https://www.w3.org/TR/vc-di-ecdsa/

The documented lower layer under ``vcred.issue(..., format="eddsa-rdfc-2022")`` and
``vcred.verify``: :func:`add_proof` (one proof, a proof set or a proof chain),
:func:`verify_document` (every proof must verify), and the cryptosuites' individual steps in
:mod:`vcred.integrity.suites`. Selective disclosure (ecdsa-sd-2023,
https://www.w3.org/TR/vc-di-ecdsa/#ecdsa-sd-2023): the issuer's :func:`add_base_proof`, the
holder's :func:`derive`, the verifier's :func:`verify_document` as for any proof; the steps
are in :mod:`vcred.integrity.ecdsa_sd` and :mod:`vcred.integrity.selective`. Importing this
package registers the formats ``eddsa-rdfc-2022``, ``eddsa-jcs-2022``, ``ecdsa-rdfc-2019``,
``ecdsa-jcs-2019``, ``ecdsa-sd-2023`` and ``data-integrity`` with issuing, verification and
presentations. Credentials already carrying the proof types that predate Data Integrity
(``Ed25519Signature2018``, ``Ed25519Signature2020``, ``JsonWebSignature2020``) verify through
:func:`verify_document` as well (:mod:`vcred.integrity.legacy`, ``LEGACY_SUITES``); they are
never issued (docs/legacy.md).
"""

from vcred.integrity import formats
from vcred.integrity.ecdsa_sd import derive
from vcred.integrity.legacy import LEGACY_SUITES, LegacySuite
from vcred.integrity.proof import (
    PURPOSES,
    VerifiedDocument,
    VerifiedProof,
    add_base_proof,
    add_proof,
    check_proof_shape,
    proof_options,
    verify_document,
)
from vcred.integrity.suites import (
    DEFAULT_SUITE_FOR,
    ECDSA_JCS_2019,
    ECDSA_RDFC_2019,
    ECDSA_SD_2023,
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    SUITES,
    Cryptosuite,
    cryptosuite,
)

formats.register()

__all__ = [
    "DEFAULT_SUITE_FOR",
    "ECDSA_JCS_2019",
    "ECDSA_RDFC_2019",
    "ECDSA_SD_2023",
    "EDDSA_JCS_2022",
    "EDDSA_RDFC_2022",
    "LEGACY_SUITES",
    "PURPOSES",
    "SUITES",
    "Cryptosuite",
    "LegacySuite",
    "VerifiedDocument",
    "VerifiedProof",
    "add_base_proof",
    "add_proof",
    "check_proof_shape",
    "cryptosuite",
    "derive",
    "proof_options",
    "verify_document",
]
