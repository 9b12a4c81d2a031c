"""DID documents and verification methods (DID Core 1.0 §5, Controlled Identifiers 1.0 §2).

A parsed :class:`DidDocument` knows its verification methods by absolute id and which ids are
listed under each verification relationship; :meth:`DidDocument.method` is the one place that
decides whether a key may be used for a purpose.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final

from vcred import model
from vcred.errors import (
    KeyExpiredError,
    KeyRevokedError,
    MalformedError,
    ResolutionError,
    UnknownKeyError,
    UsageError,
    VcredError,
)
from vcred.keys import PublicKey
from vcred.multibase import multibase_decode, multibase_encode
from vcred.urls import parse_url

RELATIONSHIPS: Final = (
    "authentication",
    "assertionMethod",
    "keyAgreement",
    "capabilityInvocation",
    "capabilityDelegation",
)
DID_CONTEXT: Final = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT: Final = "https://w3id.org/security/multikey/v1"
JWK_CONTEXT: Final = "https://w3id.org/security/jwk/v1"

# DID Core §3.1 syntax: did:method-name:method-specific-id (pct-encoded allowed).
_DID: Final = re.compile(
    r"did:[a-z0-9]+:(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2}|:)*(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})"
)
_MULTIBASE_TYPES: Final = frozenset({"Multikey", "Ed25519VerificationKey2020"})
_JWK_TYPES: Final = frozenset({"JsonWebKey", "JsonWebKey2020"})
#: https://w3c-ccg.github.io/lds-ed25519-2018/#the-ed25519-key-format: the raw 32-byte key in
#: base58btc, without a multibase prefix.
_BASE58_TYPES: Final = frozenset({"Ed25519VerificationKey2018"})
_ED25519_TYPES: Final = frozenset({"Ed25519VerificationKey2018", "Ed25519VerificationKey2020"})
#: A method states its key in exactly one of these members (CID 1.0 §2.2).
_KEY_MEMBERS: Final = ("publicKeyMultibase", "publicKeyJwk", "publicKeyBase58")


def is_did(value: object) -> bool:
    return isinstance(value, str) and _is_did_string(value)


@lru_cache(maxsize=4096)
def _is_did_string(value: str) -> bool:
    return _DID.fullmatch(value) is not None


def split_did_url(did_url: str) -> tuple[str, str]:
    """Split a DID URL into (DID, fragment). Raises MalformedError if it is not a DID URL."""
    did, _, fragment = did_url.partition("#")
    did = did.split("?", 1)[0].split("/", 1)[0] if did.count(":") >= 2 else did
    if not is_did(did):
        raise MalformedError(f"not a DID URL: {did_url[:200]!r}")
    return did, fragment


#: Controlled Identifiers 1.0 §2.2: no proof made with a method at or after these times verifies.
LIFETIME_PROPERTIES: Final = ("revoked", "expires")


def is_https_url(value: object) -> bool:
    """Whether ``value`` is an https URL that may name an issuer or holder (not a DID).

    An issuer or holder known by an https URL (VCDM 2.0 §4.7 allows any URL), whose key the
    verifier is given out of band: parsed by :func:`vcred.urls.parse_url` (host, optional
    port and path); no query, no fragment, no user info.
    """
    if not isinstance(value, str):
        return False
    try:
        url = parse_url(value)
    except MalformedError:
        return False
    return (
        url.scheme == "https"
        and bool(url.host)
        and url.userinfo is None
        and url.query is None
        and url.fragment is None
    )


def controller_of(method_id: str) -> str:
    """Who a verification method id belongs to: the DID of a DID URL, or the https URL before
    the fragment of ``https://issuer.example/path#key-1`` (a key supplied out of band).

    Raises MalformedError for anything else (no fragment on an https method id).
    """
    base, sep, fragment = method_id.partition("#")
    if not base.startswith("did:") and is_https_url(base):  # a DID is never an https URL
        if not sep or not fragment:
            raise MalformedError(f"a key of {base[:200]!r} is named by a #fragment")
        return base
    return split_did_url(method_id)[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationMethod:
    """A public key with its id and the DID that controls it.

    ``revoked`` / ``expires``: when the controller stopped the key (CID 1.0 §2.2); no proof
    made at or after either time verifies (:meth:`check_signed_at`).
    """

    id: str
    type: str
    controller: str
    public_key: PublicKey
    revoked: datetime | None = None
    expires: datetime | None = None

    def check_signed_at(
        self, signed_at: datetime | None, *, now: datetime, pointer: str | None = None
    ) -> None:
        """Refuse a proof made with this method at or after its ``revoked`` / ``expires`` time.

        https://www.w3.org/TR/cid-1.0/#verification-methods — ``signed_at`` is when the proof
        says it was made (``pointer``: where it says so); None when it does not say, and then
        it may have been made as late as ``now``: a method revoked (expired) by now refuses it
        (fail closed). Raises KeyRevokedError / KeyExpiredError.
        """
        moment = now if signed_at is None else signed_at
        for name, limit, error in (
            ("revoked", self.revoked, KeyRevokedError),
            ("expires", self.expires, KeyExpiredError),
        ):
            if limit is None or moment < limit:
                continue
            when = (
                "does not say when it was made"
                if signed_at is None
                else f"was made at {signed_at.isoformat()}"
            )
            stopped = "was revoked" if name == "revoked" else "expired"
            raise error(
                f"the proof {when}; its key {self.id} {stopped} at {limit.isoformat()}",
                pointer=pointer,
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class DidDocument:
    """A resolved DID document, parsed and checked."""

    id: str
    methods: Mapping[str, VerificationMethod]
    relationships: Mapping[str, frozenset[str]]
    document: Mapping[str, Any] = field(repr=False)

    @classmethod
    def parse(cls, document: Any, *, expected_id: str) -> DidDocument:
        """Parse a DID document; its ``id`` must equal the DID that was resolved.

        Methods whose keys cannot be read are skipped (another method may still be usable);
        a method referenced under a relationship but never defined is simply absent.
        Raises ResolutionError for a document that is not a DID document for ``expected_id``.
        """
        if not isinstance(document, dict):
            raise ResolutionError("a DID document must be a JSON object")
        if document.get("id") != expected_id:
            raise ResolutionError(
                f"DID document id {str(document.get('id'))[:200]!r} is not {expected_id!r}"
            )
        methods: dict[str, VerificationMethod] = {}
        vms = document.get("verificationMethod", [])
        if not isinstance(vms, list):
            raise ResolutionError(
                "verificationMethod must be an array", pointer="/verificationMethod"
            )
        for i, entry in enumerate(vms):
            _add_method(methods, entry, expected_id, f"/verificationMethod/{i}")
        relationships: dict[str, frozenset[str]] = {}
        for name in RELATIONSHIPS:
            refs = document.get(name, [])
            if not isinstance(refs, list):
                raise ResolutionError(f"{name} must be an array", pointer=f"/{name}")
            ids = set()
            for i, ref in enumerate(refs):
                if isinstance(ref, str):
                    ids.add(_absolute(ref, expected_id))
                elif isinstance(ref, dict):  # an embedded method, usable only for this purpose
                    added = _add_method(methods, ref, expected_id, f"/{name}/{i}")
                    if added is not None:
                        ids.add(added)
            relationships[name] = frozenset(ids)
        return cls(
            id=expected_id,
            methods=MappingProxyType(methods),
            relationships=MappingProxyType(relationships),
            document=document,
        )

    def method(self, method_id: str, *, relationship: str) -> VerificationMethod:
        """The method ``method_id`` if this DID authorises it for ``relationship``.

        Raises UnknownKeyError if the method is unknown, not listed under the relationship, or
        controlled by someone else.
        """
        absolute = _absolute(method_id, self.id)
        vm = self.methods.get(absolute)
        if vm is None:
            raise UnknownKeyError(f"{self.id} has no verification method {absolute!r}")
        if absolute not in self.relationships.get(relationship, frozenset()):
            raise UnknownKeyError(f"{absolute} is not authorised for {relationship} by {self.id}")
        if vm.controller != self.id:
            raise UnknownKeyError(f"{absolute} is controlled by {vm.controller}, not by {self.id}")
        return vm

    def methods_for(self, relationship: str) -> list[VerificationMethod]:
        """Every usable method listed under ``relationship``, in document order: those
        :meth:`method` would give (one controlled by someone else is not this DID's)."""
        ids = self.relationships.get(relationship, frozenset())
        return [
            vm for vm_id, vm in self.methods.items() if vm_id in ids and vm.controller == self.id
        ]


def method_entry(vm: VerificationMethod, *, jwk: bool = False) -> dict[str, Any]:
    """The JSON form of a method: Multikey (default) or JsonWebKey, with its lifetime."""
    if jwk:
        entry: dict[str, Any] = {
            "id": vm.id,
            "type": "JsonWebKey",
            "controller": vm.controller,
            "publicKeyJwk": vm.public_key.jwk(),
        }
    else:
        entry = {
            "id": vm.id,
            "type": "Multikey",
            "controller": vm.controller,
            "publicKeyMultibase": vm.public_key.multikey(),
        }
    for name, moment in (("revoked", vm.revoked), ("expires", vm.expires)):
        if moment is not None:
            entry[name] = _date_time_stamp(moment)
    return entry


def _date_time_stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise UsageError("key lifetimes must be timezone-aware (e.g. datetime.now(UTC))")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _absolute(ref: str, did: str) -> str:
    return did + ref if ref.startswith("#") else ref


def _add_method(
    methods: dict[str, VerificationMethod], entry: Any, did: str, pointer: str
) -> str | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise ResolutionError("a verification method needs an id", pointer=pointer)
    vm_id = _absolute(entry["id"], did)
    vm_type = entry.get("type")
    controller = entry.get("controller")
    if not isinstance(controller, str) or not isinstance(vm_type, str):
        raise ResolutionError(
            "a verification method needs a type and a controller", pointer=pointer
        )
    revoked, expires = (_lifetime(entry, name, pointer) for name in LIFETIME_PROPERTIES)
    if sum(name in entry for name in _KEY_MEMBERS) != 1:
        return None  # no key, or two that could differ: which one was meant is not ours to pick
    try:
        if vm_type in _MULTIBASE_TYPES and "publicKeyMultibase" in entry:
            key = PublicKey.from_multikey(entry["publicKeyMultibase"])
        elif vm_type in _JWK_TYPES and "publicKeyJwk" in entry:
            key = PublicKey.from_signing_jwk(entry["publicKeyJwk"])
        elif vm_type in _BASE58_TYPES and "publicKeyBase58" in entry:
            key = _ed25519_from_base58(entry["publicKeyBase58"])
        else:
            return None  # a key type we do not use (e.g. X25519 key agreement)
    except VcredError:
        return None
    if vm_type in _ED25519_TYPES and key.kind != "ed25519":
        return None
    if vm_id in methods:  # a second entry would replace the first, and could lift its revoked
        raise ResolutionError(f"verification method {vm_id!r} is defined twice", pointer=pointer)
    methods[vm_id] = VerificationMethod(
        id=vm_id,
        type=vm_type,
        controller=controller,
        public_key=key,
        revoked=revoked,
        expires=expires,
    )
    return vm_id


def _lifetime(entry: Mapping[str, Any], name: str, pointer: str) -> datetime | None:
    """A method's ``revoked`` / ``expires``: an XML Schema dateTimeStamp (CID 1.0 §2.2).

    A malformed value makes the whole document unusable (ResolutionError with its pointer):
    skipping it would silently lift the controller's own restriction.
    """
    if name not in entry:
        return None
    try:
        return model.parse_datetime(entry[name], pointer=f"{pointer}/{name}")
    except MalformedError as exc:
        raise ResolutionError(
            f"the verification method's {name} {exc.message}", pointer=exc.pointer
        ) from exc


def _ed25519_from_base58(value: object) -> PublicKey:
    """An Ed25519VerificationKey2018 ``publicKeyBase58``: 32 bytes, one encoding only.

    Raises MalformedError (ParsingError) for anything else.
    """
    if not isinstance(value, str):
        raise MalformedError("publicKeyBase58 must be a string")
    raw = multibase_decode("z" + value, max_bytes=32)  # a longer one is refused undecoded
    if multibase_encode(raw, "z")[1:] != value:
        raise MalformedError("publicKeyBase58 is not in its canonical form")
    return PublicKey.from_raw("ed25519", raw)
