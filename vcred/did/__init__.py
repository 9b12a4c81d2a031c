"""Decentralized identifiers: did:key, did:jwk and did:web — create, resolve, find a method.

https://www.w3.org/TR/did-1.0/ · https://w3c-ccg.github.io/did-key-spec/ ·
https://github.com/quartzjer/did-jwk · https://w3c-ccg.github.io/did-method-web/
"""

from vcred.did.document import DidDocument, VerificationMethod, split_did_url
from vcred.did.jwk import did_jwk, resolve_did_jwk
from vcred.did.key import did_key, resolve_did_key
from vcred.did.resolver import KeyResolver, Resolver
from vcred.did.web import did_web_document, did_web_url

__all__ = [
    "DidDocument",
    "KeyResolver",
    "Resolver",
    "VerificationMethod",
    "did_jwk",
    "did_key",
    "did_web_document",
    "did_web_url",
    "resolve_did_jwk",
    "resolve_did_key",
    "split_did_url",
]
