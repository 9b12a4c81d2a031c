"""``vcred wallet``: the trader's wallet — keys and credentials in an encrypted file.

The wallet holds one holder key (P-256 by default, as did:jwk), receives credentials over
OpenID4VCI (:mod:`vcred.wallet.client`), keeps them sealed (:mod:`vcred.wallet.store`) and
presents them: an SD-JWT as SD-JWT+KB revealing only the chosen claims, a vc+jwt or Data
Integrity credential in a presentation bound to the verifier's nonce and audience.

This package does file and network I/O: it is an application on top of the library, as
the CLI is (the network only through the :class:`~vcred.wallet.transport.Transport` handed in).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from vcred import jose, sdjwt
from vcred.did.jwk import did_jwk
from vcred.errors import HolderMismatchError, UsageError, VcredError
from vcred.issuing import signer_for
from vcred.keys import KeyPair, LocalSigner, PublicKey
from vcred.presentation import present as present_vp
from vcred.status.listcred import format_datetime
from vcred.verifier import utc_now
from vcred.wallet.client import redeem
from vcred.wallet.store import SealedStore
from vcred.wallet.transport import HttpTransport, Transport

__all__ = ["Held", "Wallet"]

_KEY: Final = "key"
_CREDENTIAL: Final = "credential"
_HOLDER: Final = "holder"
#: OpenID4VCI formats whose credentials are key-bound SD-JWTs (presented with SD-JWT+KB).
SD_JWT_FORMATS: Final = frozenset({"vc+sd-jwt", "dc+sd-jwt"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Held:
    """A credential in the wallet (as issued: its proof is the issuer's, unchanged)."""

    id: str
    format: str
    configuration_id: str
    credential_issuer: str
    received: str
    credential: str | dict[str, Any]

    @property
    def claims(self) -> dict[str, Any]:
        """The credential's claims, unverified (an SD-JWT's issuer-signed payload)."""
        if isinstance(self.credential, dict):
            return self.credential
        token = self.credential.split("~", 1)[0]
        try:
            return jose.unverified_payload(token)
        except VcredError:
            return {}

    @property
    def types(self) -> list[str]:
        found = self.claims.get("type") or self.claims.get("vc", {}).get("type") or []
        return [found] if isinstance(found, str) else [str(t) for t in found]

    @property
    def disclosable(self) -> list[str]:
        """The paths the holder may choose to reveal (SD-JWT only)."""
        if self.format not in SD_JWT_FORMATS or not isinstance(self.credential, str):
            return []
        return sdjwt.unverified_disclosable(self.credential)

    def export(self) -> str:
        """The secured credential as text: a compact token, or JSON."""
        if isinstance(self.credential, str):
            return self.credential
        return json.dumps(self.credential, indent=2, ensure_ascii=False)


class Wallet:
    """An open wallet file."""

    def __init__(self, store: SealedStore, key: KeyPair) -> None:
        self._store = store
        self._key = key

    @classmethod
    def create(cls, path: Path, passphrase: str, *, kind: str = "p256") -> Wallet:
        """A new wallet file with a fresh holder key. Raises UsageError."""
        key = KeyPair.generate(kind)
        store = SealedStore.create(path, passphrase)
        store.put(_KEY, _HOLDER, key.private_jwk(), created=format_datetime(utc_now()))
        return cls(store, key)

    @classmethod
    def open(cls, path: Path, passphrase: str) -> Wallet:
        """The wallet at ``path``. Raises UsageError (no wallet, wrong passphrase)."""
        store = SealedStore.open(path, passphrase)
        jwk = store.get(_KEY, _HOLDER)
        if jwk is None:
            raise UsageError(f"{path} holds no holder key")
        return cls(store, KeyPair.from_jwk(jwk))

    @property
    def public_key(self) -> PublicKey:
        return self._key.public

    @property
    def did(self) -> str:
        """The holder's DID (did:jwk): the credentials' subject and the presentations' holder."""
        return did_jwk(self._key.public)

    @property
    def signer(self) -> LocalSigner:
        return signer_for(self._key, did=self.did)

    def receive(
        self,
        link: str,
        *,
        tx_code: str | None = None,
        transport: Transport | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> list[Held]:
        """Redeem an OpenID4VCI offer and keep the credentials, bound to this wallet's key.

        Raises UsageError, ProtocolError (the issuer refused), HolderMismatchError (a
        credential not bound to this wallet's key: none is kept), the transport's errors.
        """
        issued = redeem(
            link,
            holder=self.signer,
            tx_code=tx_code,
            transport=transport or HttpTransport(),
            now=now,
        )
        held = []
        for item in issued:
            _check_bound(item.credential, item.format, did=self.did, key=self._key.public)
        for item in issued:
            entry = Held(
                id=secrets.token_hex(6),
                format=item.format,
                configuration_id=item.configuration_id,
                credential_issuer=item.credential_issuer,
                received=format_datetime(now()),
                credential=item.credential,
            )
            self._store.put(_CREDENTIAL, entry.id, _to_json(entry), created=entry.received)
            held.append(entry)
        return held

    def credentials(self) -> list[Held]:
        return [_from_json(value) for _, _, value in self._store.items(_CREDENTIAL)]

    def get(self, credential_id: str) -> Held:
        """The credential ``credential_id`` (or the one credential whose id starts with it).
        Raises UsageError."""
        found = [c for c in self.credentials() if c.id.startswith(credential_id)]
        if len(found) != 1 or not credential_id:
            raise UsageError(
                f"no credential {credential_id!r} in the wallet (see `vcred wallet list`)"
                if not found
                else f"{credential_id!r} names {len(found)} credentials: give more of the id"
            )
        return found[0]

    def present(
        self,
        credential_id: str,
        *,
        audience: str,
        nonce: str,
        disclose: Iterable[str] = (),
        now: datetime | None = None,
    ) -> str | dict[str, Any]:
        """A presentation of one credential for the verifier ``audience`` and its ``nonce``.

        An SD-JWT: SD-JWT+KB revealing the ``disclose`` paths only. Otherwise a presentation
        (vp+jwt for a vc+jwt credential, Data Integrity for an ``ldp_vc`` one) with
        ``challenge`` = nonce and ``domain`` = audience; ``disclose`` is refused for them
        (they reveal everything). Raises UsageError.
        """
        held = self.get(credential_id)
        disclose = tuple(disclose)
        if held.format in SD_JWT_FORMATS and isinstance(held.credential, str):
            return sdjwt.present(
                held.credential,
                self.signer,
                disclose=disclose,
                nonce=nonce,
                aud=audience,
                now=now,
            )
        if disclose:
            raise UsageError(
                f"a {held.format} credential reveals all its claims: only SD-JWT chooses"
            )
        fmt = "data-integrity" if isinstance(held.credential, dict) else "vp+jwt"
        presented = present_vp(
            [held.credential], self.signer, challenge=nonce, domain=audience, format=fmt, now=now
        )
        if isinstance(presented, bytes):  # pragma: no cover - vp+cose is not chosen here
            raise UsageError("unexpected binary presentation")
        return presented


def _check_bound(credential: str | dict[str, Any], fmt: str, *, did: str, key: PublicKey) -> None:
    """A credential the wallet keeps must be bound to its key: an SD-JWT by ``cnf``, any
    other by naming the wallet's DID as its subject. Raises HolderMismatchError."""
    if isinstance(credential, str) and (fmt in SD_JWT_FORMATS or "~" in credential):
        try:
            cnf = jose.unverified_payload(credential.split("~", 1)[0]).get("cnf")
            jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
            if not isinstance(jwk, dict):
                raise HolderMismatchError("the SD-JWT received has no cnf key")
            bound = PublicKey.from_jwk({k: v for k, v in jwk.items() if k != "kid"})
        except VcredError as exc:
            raise HolderMismatchError(f"the SD-JWT received has no usable cnf key: {exc}") from exc
        if bound != key:
            raise HolderMismatchError("the SD-JWT received is bound to another key (cnf)")
        return
    try:
        claims = jose.unverified_payload(credential) if isinstance(credential, str) else credential
    except VcredError as exc:
        raise HolderMismatchError("the credential received cannot be read") from exc
    subjects = claims.get("credentialSubject") or claims.get("vc", {}).get("credentialSubject")
    listed = subjects if isinstance(subjects, list) else [subjects]
    named = {s.get("id") for s in listed if isinstance(s, dict)} | {claims.get("sub")}
    if did not in named:
        raise HolderMismatchError("the credential received names another subject than this wallet")


def _to_json(held: Held) -> dict[str, Any]:
    return {
        "id": held.id,
        "format": held.format,
        "configuration_id": held.configuration_id,
        "credential_issuer": held.credential_issuer,
        "received": held.received,
        "credential": held.credential,
    }


def _from_json(value: Any) -> Held:
    return Held(
        id=str(value["id"]),
        format=str(value["format"]),
        configuration_id=str(value["configuration_id"]),
        credential_issuer=str(value["credential_issuer"]),
        received=str(value["received"]),
        credential=value["credential"],
    )
