"""The agency's keys and the DIDs they make: which key signs what, as whom.

Each key is an issuer DID of its own (its did:key); with a domain, all current keys are also
methods of the agency's did:web. A retired key stays in the did:web document under
``assertionMethod`` with ``revoked`` = its retirement time (what it signed before keeps
verifying; verifiers refuse anything it signs after) and no longer signs credentials nor the
did:web's status lists (the current key signs those, as the same did:web). It still signs the
status lists of the credentials it issued as its own did:key: a verifier accepts a list only
from the credential's issuer, and a did:key cannot delegate nor say it was revoked — without
that, those credentials could never be suspended or revoked again.

The trust-list key is apart: it signs the agency's MRA trust lists and nothing else. It is
published in the did:web document as ``did:web:…#trust-list-<tag>`` (under
``assertionMethod`` only), the role a verifier's :class:`vcred.trust.TrustAnchor` asks for;
the issuing lookups below never see it, so ordinary issuance cannot sign with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from vcred.did.document import VerificationMethod, method_entry
from vcred.did.key import did_key
from vcred.did.web import did_web_document
from vcred.errors import MalformedError, UsageError
from vcred.hsm import HsmKey
from vcred.issuing import signer_for
from vcred.keys import KeyKind, LocalSigner, PublicKey, SigningKey
from vcred.model import parse_datetime
from vcred.multibase import b64url_decode
from vcred.trust import TRUST_LIST_KEY_PREFIX

#: The status-list signer name for the agency's did:web (others are key tags).
WEB: Final = "web"


def key_tag(public: PublicKey) -> str:
    """A short, stable name for a key: the first 8 bytes of its RFC 7638 thumbprint, in hex
    (safe in URLs and on a command line — never starts with "-")."""
    return b64url_decode(public.thumbprint())[:8].hex()


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuerKey:
    """One key of the agency, with its state. ``pair`` never appears in a repr."""

    tag: str
    kind: KeyKind
    created: str
    retired: str | None
    #: a key pair decrypted from the database, or a key in the HSM (vcred.hsm.HsmKey)
    pair: SigningKey = field(repr=False)

    @property
    def public(self) -> PublicKey:
        return self.pair.public

    @property
    def did_key(self) -> str:
        return did_key(self.pair.public)

    @property
    def current(self) -> bool:
        return self.retired is None

    @property
    def revoked_at(self) -> datetime | None:
        """The retirement time as a datetime: from then on the key signs nothing new."""
        return None if self.retired is None else parse_datetime(self.retired, pointer="/retired")

    def describe(self) -> dict[str, Any]:
        """Public facts about the key (for the CLI and the UI)."""
        return {
            "id": self.tag,
            "type": self.kind,
            "didKey": self.did_key,
            "publicKeyMultibase": self.public.multikey(),
            "created": self.created,
            "retired": self.retired,
            # where the private key is: its RFC 7512 URI in the HSM, None in the database
            "hsm": self.pair.uri if isinstance(self.pair, HsmKey) else None,
        }


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The keys, in order of preference (configured key types first, newest first)."""

    keys: tuple[IssuerKey, ...]
    did_web: str | None = None
    #: signs trust lists only; never one of ``keys``
    trust_list: IssuerKey | None = None

    @classmethod
    def of(
        cls,
        keys: Iterable[IssuerKey],
        *,
        did_web: str | None,
        preference: Sequence[KeyKind],
        trust_list: IssuerKey | None = None,
    ) -> KeyRing:
        order = {kind: i for i, kind in enumerate(preference)}
        ranked = sorted(keys, key=lambda k: k.created, reverse=True)
        ranked.sort(key=lambda k: order.get(k.kind, len(order)))
        return cls(tuple(ranked), did_web, trust_list)

    @property
    def current(self) -> tuple[IssuerKey, ...]:
        return tuple(k for k in self.keys if k.current)

    @property
    def retired(self) -> tuple[IssuerKey, ...]:
        return tuple(k for k in self.keys if not k.current)

    @property
    def dids(self) -> tuple[str, ...]:
        """Every DID the service issues as: the did:web, then each current key's did:key."""
        web = (self.did_web,) if self.did_web else ()
        return (*web, *(k.did_key for k in self.current))

    def default_did(self) -> str:
        """The DID filled in when a credential names no issuer (the did:web if there is one)."""
        if self.did_web:
            return self.did_web
        return self.first_current(None).did_key

    def first_current(self, kinds: Sequence[KeyKind] | None) -> IssuerKey:
        for key in self.current:
            if kinds is None or key.kind in kinds:
                return key
        wanted = "any" if kinds is None else " or ".join(k.upper() for k in kinds)
        raise MalformedError(
            f"this issuer has no current {wanted} key for the requested format",
            pointer="/issuer",
        )

    def find(self, reference: str) -> IssuerKey | None:
        """A key by tag, did:key, did:web method id or Multikey."""
        for key in self.keys:
            multikey = key.public.multikey()
            names = {key.tag, key.did_key, multikey, f"{key.did_key}#{multikey}"}
            if self.did_web:
                names.add(f"{self.did_web}#{multikey}")
            if reference in names:
                return key
        return None

    def signer_for_issuer(
        self, issuer: str | None, kinds: Sequence[KeyKind]
    ) -> tuple[IssuerKey, LocalSigner]:
        """The key that signs a credential whose issuer is ``issuer`` (None: the default).

        The did:web signs with the first current key the format accepts; a did:key with its
        own key. Raises MalformedError (pointer ``/issuer``) for a DID this service does not
        control, a retired key, or a key the format cannot use.
        """
        if issuer is None:
            if self.did_web:
                issuer = self.did_web
            else:
                key = self.first_current(kinds)
                return key, signer_for(key.pair)
        if issuer == self.did_web:
            key = self.first_current(kinds)
            return key, signer_for(key.pair, did=issuer)
        for key in self.keys:
            if key.did_key != issuer:
                continue
            if not key.current:
                raise MalformedError(
                    f"the key of {issuer[:80]}… was retired on {key.retired}: it no longer "
                    "signs credentials",
                    pointer="/issuer",
                )
            if key.kind not in kinds:
                raise MalformedError(
                    f"{issuer[:80]}… is a {key.kind.upper()} key; the requested format needs "
                    + " or ".join(k.upper() for k in kinds),
                    pointer="/issuer",
                )
            return key, signer_for(key.pair)
        raise MalformedError(
            f"this service does not issue as {issuer[:200]!r}; it issues as "
            + ", ".join(self.dids),
            pointer="/issuer",
        )

    def list_signer(self, name: str, kinds: Sequence[KeyKind]) -> tuple[str, LocalSigner] | None:
        """(issuer DID, signer) for the status lists published under ``name`` (``web`` or a
        key tag), or None when there is no such signer."""
        if name == WEB:
            if not self.did_web:
                return None
            key = self.first_current(kinds)
            return self.did_web, signer_for(key.pair, did=self.did_web)
        for key in self.keys:
            if key.tag == name:
                return key.did_key, signer_for(key.pair)
        return None

    def list_name(self, issuer: str) -> str:
        """The name of the status lists a credential of ``issuer`` points at."""
        if issuer == self.did_web:
            return WEB
        for key in self.keys:
            if key.did_key == issuer:
                return key.tag
        raise UsageError(f"not an issuer of this service: {issuer[:200]}")

    def trust_list_signer(self) -> tuple[str, LocalSigner]:
        """(issuer DID, signer) for the agency's trust lists: the trust-list key, as the
        did:web's ``#trust-list-<tag>`` method (without a domain, as its own did:key).
        Raises UsageError when there is no trust-list key."""
        key = self.trust_list
        if key is None:
            raise UsageError("this issuer has no trust-list key")
        if not self.did_web:
            return key.did_key, signer_for(key.pair)
        return self.did_web, LocalSigner(key=key.pair, key_id=self.trust_list_method(key))

    def trust_list_method(self, key: IssuerKey) -> str:
        return f"{self.did_web}#{TRUST_LIST_KEY_PREFIX}{key.tag}"

    def did_document(self) -> dict[str, Any] | None:
        """The did:web document: every current key, and the retired ones for verification,
        each with its retirement time as CID 1.0 ``revoked`` (verifiers refuse what it signs
        from then on); the trust-list key under ``assertionMethod`` only."""
        if not self.did_web:
            return None
        document = did_web_document(
            self.did_web,
            [k.public for k in self.current],
            retired=[k.public for k in self.retired],
            revoked={k.public: k.revoked_at for k in self.retired if k.revoked_at is not None},
        )
        if self.trust_list is not None:
            method = self.trust_list_method(self.trust_list)
            document["verificationMethod"].append(
                method_entry(
                    VerificationMethod(
                        id=method,
                        type="Multikey",
                        controller=self.did_web,
                        public_key=self.trust_list.public,
                    )
                )
            )
            document["assertionMethod"].append(method)
        return document
