"""did:jwk: the DID is the base64url of a public JWK; resolution is offline.

https://github.com/quartzjer/did-jwk/blob/main/spec.md
"""

from __future__ import annotations

import json
from typing import Any, Final

from vcred.did.document import DID_CONTEXT, JWK_CONTEXT, DidDocument
from vcred.errors import MalformedError, ResolutionError, VcredError
from vcred.keys import PublicKey, check_signing_jwk
from vcred.multibase import b64url_decode, b64url_encode

PREFIX = "did:jwk:"

#: The relationships of a did:jwk whose key is not marked for encryption.
SIGNING_RELATIONSHIPS: Final = (
    "authentication",
    "assertionMethod",
    "capabilityInvocation",
    "capabilityDelegation",
)


def did_jwk(public_key: PublicKey) -> str:
    """The did:jwk of a public key (its JWK, members in RFC 7638 order, no whitespace)."""
    return PREFIX + b64url_encode(json.dumps(public_key.jwk(), separators=(",", ":")).encode())


def resolve_did_jwk(did: str) -> DidDocument:
    """Build the DID document of a did:jwk. Raises ResolutionError for a malformed one."""
    if not did.startswith(PREFIX):
        raise ResolutionError(f"not a did:jwk: {did[:200]!r}")
    try:
        jwk = json.loads(b64url_decode(did[len(PREFIX) :]))
        key = PublicKey.from_jwk(jwk)
    except (ValueError, RecursionError, VcredError) as exc:
        # RecursionError: JSON nested past the interpreter's limit is not a JWK either
        raise ResolutionError("malformed did:jwk") from exc
    vm_id = f"{did}#0"
    # did:jwk spec (Read): a key marked "use": "enc" is for key agreement only; never signs.
    # Nor does one whose key_ops or alg say it verifies no signature of its kind.
    signing: tuple[str, ...] = SIGNING_RELATIONSHIPS
    if jwk.get("use") == "enc":
        signing = ("keyAgreement",)
    elif not _verifies_signatures(jwk, key):
        signing = ()
    document = {
        "@context": [DID_CONTEXT, JWK_CONTEXT],
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "JsonWebKey", "controller": did, "publicKeyJwk": key.jwk()}
        ],
        **{name: [vm_id] for name in signing},
    }
    return DidDocument.parse(document, expected_id=did)


def _verifies_signatures(jwk: dict[str, Any], key: PublicKey) -> bool:
    try:
        check_signing_jwk(jwk, key)
    except MalformedError:
        return False
    return True
