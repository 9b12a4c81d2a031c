"""vcred — W3C Verifiable Credentials for customs agencies.

The small surface: :func:`generate_key`, :func:`issue`, :func:`verify`, :func:`present`,
:func:`verify_presentation` and :class:`Verifier`; for selective disclosure,
``issue(..., format="vc+sd-jwt", disclosable=[...], holder=...)`` and :func:`present_sd_jwt`,
or ``issue(..., format="ecdsa-sd-2023", mandatory_pointers=[...])`` and :func:`derive`.
No cryptographic choice is needed: the algorithm follows from the key, the key from the DID.
The expert layer below it (:mod:`vcred.formats`, :mod:`vcred.keys`, :mod:`vcred.did`,
:mod:`vcred.jose`, :mod:`vcred.integrity`, :mod:`vcred.sdjwt`, :mod:`vcred.cose` …) is listed
in docs/api.md; importing this package also registers the bundled customs domain.
"""

from vcred import cose as cose  # registers vc+cose and vp+cose
from vcred import customs as customs  # the bundled domain: registers its context, schemas …
from vcred import integrity as integrity  # registers the Data Integrity formats
from vcred import sdjwt
from vcred._surface import verify, verify_presentation
from vcred.batch import verify_many
from vcred.did import Resolver, did_jwk, did_key, did_web_document
from vcred.errors import VcredError
from vcred.integrity import derive
from vcred.issuing import issue, signer_for
from vcred.keys import KeyPair, LocalSigner, PublicKey, Signer, generate_key, load_key
from vcred.net import Fetcher, GuardedFetcher
from vcred.presentation import present
from vcred.sdjwt import present as present_sd_jwt
from vcred.verifier import (
    CHECKS,
    Check,
    PresentationResult,
    Problem,
    VerificationResult,
    Verifier,
)

__version__ = "0.1.0"

__all__ = [
    "CHECKS",
    "Check",
    "Fetcher",
    "GuardedFetcher",
    "KeyPair",
    "LocalSigner",
    "PresentationResult",
    "Problem",
    "PublicKey",
    "Resolver",
    "Signer",
    "VcredError",
    "VerificationResult",
    "Verifier",
    "derive",
    "did_jwk",
    "did_key",
    "did_web_document",
    "generate_key",
    "issue",
    "load_key",
    "present",
    "present_sd_jwt",
    "sdjwt",
    "signer_for",
    "verify",
    "verify_many",
    "verify_presentation",
]
