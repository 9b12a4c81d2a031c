"""did:key: the DID is the Multikey of a public key; resolution is offline.

https://w3c-ccg.github.io/did-key-spec/ (Ed25519, P-256, P-384; Multikey verification methods)
"""

from __future__ import annotations

from vcred.did.document import (
    DID_CONTEXT,
    MULTIKEY_CONTEXT,
    DidDocument,
    VerificationMethod,
    method_entry,
)
from vcred.errors import ResolutionError, VcredError
from vcred.keys import PublicKey

PREFIX = "did:key:"


def did_key(public_key: PublicKey) -> str:
    """The did:key of a public key."""
    return PREFIX + public_key.multikey()


def did_key_method_id(public_key: PublicKey) -> str:
    """The id of a did:key's only verification method: the DID with the key as fragment."""
    multikey = public_key.multikey()
    return f"{PREFIX}{multikey}#{multikey}"


def resolve_did_key(did: str) -> DidDocument:
    """Build the DID document of a did:key. Raises ResolutionError for a malformed did:key."""
    if not did.startswith(PREFIX):
        raise ResolutionError(f"not a did:key: {did[:200]!r}")
    multikey = did[len(PREFIX) :]
    try:
        key = PublicKey.from_multikey(multikey)
    except VcredError as exc:
        raise ResolutionError(f"malformed did:key: {exc.message}") from exc
    if key.multikey() != multikey:  # one key, one DID: refuse alternative encodings
        raise ResolutionError("did:key is not in its canonical form")
    vm = VerificationMethod(id=f"{did}#{multikey}", type="Multikey", controller=did, public_key=key)
    document = {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": [method_entry(vm)],
        "authentication": [vm.id],
        "assertionMethod": [vm.id],
        "capabilityInvocation": [vm.id],
        "capabilityDelegation": [vm.id],
    }
    return DidDocument.parse(document, expected_id=did)
