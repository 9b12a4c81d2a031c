"""``vcred wallet``: the trader's wallet — keys and credentials in an encrypted file.

The wallet holds one holder key (P-256 by default, as did:jwk), receives credentials over
OpenID4VCI (:mod:`vcred.wallet.client`), verifies them with the library's :class:`Verifier`
(proof, issuer, validity: what it could not show to anyone later is not kept), keeps them
sealed (:mod:`vcred.wallet.store`) and presents them: an SD-JWT as SD-JWT+KB revealing only
the chosen claims, a vc+jwt or Data Integrity credential in a presentation bound to the
verifier's nonce and audience.

It also answers an OpenID4VP 1.0 request (:meth:`Wallet.respond`): the request object is
fetched from its ``request_uri``, verified (:func:`vcred.openid4vp.read_request`), answered
from the held credentials with only the claims the DCQL query names, and posted to the
verifier's ``response_uri`` (``direct_post``).

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
from urllib.parse import parse_qs, urlencode, urlsplit

from vcred import jose, openid4vp, sdjwt
from vcred.did.jwk import did_jwk
from vcred.did.resolver import Resolver
from vcred.errors import (
    HolderMismatchError,
    MalformedError,
    NotYetValidError,
    PresentationError,
    UsageError,
    VcredError,
)
from vcred.issuing import signer_for
from vcred.keys import KeyPair, LocalSigner, PublicKey
from vcred.presentation import present as present_vp
from vcred.status.listcred import format_datetime
from vcred.verifier import Verifier, utc_now
from vcred.wallet.client import redeem
from vcred.wallet.store import SealedStore
from vcred.wallet.transport import Answer, HttpTransport, Transport, TransportFetcher

__all__ = ["Held", "Responded", "Wallet", "request_uri_of"]

_KEY: Final = "key"
_CREDENTIAL: Final = "credential"
_HOLDER: Final = "holder"
#: OpenID4VCI formats whose credentials are key-bound SD-JWTs (presented with SD-JWT+KB).
SD_JWT_FORMATS: Final = frozenset({"vc+sd-jwt", "dc+sd-jwt"})
#: How a wallet is handed an OpenID4VP request (§13.1 openid4vp://; haip-vp:// in HAIP).
_REQUEST_SCHEMES: Final = ("openid4vp", "haip-vp")
#: What a credential must pass to be kept. Status is not among them: a credential suspended
#: today may be reinstated, and a verifier checks status when it is shown anyway.
RECEIPT_CHECKS: Final = ("proof", "issuer", "validity")


@dataclass(frozen=True, slots=True, kw_only=True)
class Held:
    """A credential in the wallet (as issued: its proof is the issuer's, unchanged).

    ``pending``: why it was not valid yet when received (``not valid before …``), kept all
    the same since it will be; empty when it was valid then.
    """

    id: str
    format: str
    configuration_id: str
    credential_issuer: str
    received: str
    credential: str | dict[str, Any]
    pending: str = ""

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
        """Redeem an OpenID4VCI offer and keep the credentials, bound to this wallet's key
        and verified (:meth:`keep`); the issuer's DID is resolved through ``transport``, under
        its guard and host map.

        Raises UsageError, ProtocolError (the issuer refused), HolderMismatchError (a
        credential not bound to this wallet's key), the error verification found (a proof
        that fails, an issuer that cannot be resolved, an expired credential: none is kept),
        the transport's errors.
        """
        transport = transport or HttpTransport()
        issued = redeem(link, holder=self.signer, tx_code=tx_code, transport=transport, now=now)
        verifier = Verifier(fetcher=TransportFetcher(transport), clock=now, checks=RECEIPT_CHECKS)
        # all accepted, or none kept
        pending = [self._accept(item.credential, item.format, verifier) for item in issued]
        return [
            self._store_held(
                item.credential,
                format=item.format,
                configuration_id=item.configuration_id,
                credential_issuer=item.credential_issuer,
                pending=why,
                now=now,
            )
            for item, why in zip(issued, pending, strict=True)
        ]

    def keep(
        self,
        credential: str | dict[str, Any],
        *,
        format: str,
        credential_issuer: str,
        configuration_id: str = "",
        verifier: Verifier | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> Held:
        """Keep a credential handed over otherwise (a file), on the terms a received one is
        kept: bound to this wallet's key, its proof, issuer and validity verified.

        ``verifier`` resolves the issuer and reads the contexts (the wallet chooses the
        checks, :data:`RECEIPT_CHECKS`); by default one without network, for did:key and
        did:jwk issuers, on ``now``. A credential not valid yet is kept, with ``pending``
        saying since when it will be. Raises HolderMismatchError, the error verification
        found (CryptographicError, ResolutionError, ExpiredError, MalformedError …).
        """
        chosen = verifier or Verifier(clock=now, checks=RECEIPT_CHECKS)
        pending = self._accept(credential, format, chosen)
        return self._store_held(
            credential,
            format=format,
            configuration_id=configuration_id,
            credential_issuer=credential_issuer,
            pending=pending,
            now=now,
        )

    def _accept(self, credential: str | dict[str, Any], fmt: str, verifier: Verifier) -> str:
        """Check a credential before it is kept: bound to this wallet, verified. Returns why
        it is not valid yet ("" when it is). Raises as :meth:`keep`."""
        _check_bound(credential, fmt, did=self.did, key=self._key.public)
        result = verifier.verify(credential, checks=RECEIPT_CHECKS)
        early = [p for p in result.errors if p.code == NotYetValidError.code]
        refusals = [p for p in result.errors if p.code != NotYetValidError.code]
        if refusals:
            raise refusals[0].as_error("the credential received is refused")
        if not result.verified and not early:  # not verified, and no error says why
            raise MalformedError("the credential received is refused: not verified")
        return early[0].message if early else ""

    def _store_held(
        self,
        credential: str | dict[str, Any],
        *,
        format: str,
        configuration_id: str,
        credential_issuer: str,
        pending: str,
        now: Callable[[], datetime],
    ) -> Held:
        entry = Held(
            id=secrets.token_hex(6),
            format=format,
            configuration_id=configuration_id,
            credential_issuer=credential_issuer,
            received=format_datetime(now()),
            credential=credential,
            pending=pending,
        )
        self._store.put(_CREDENTIAL, entry.id, _to_json(entry), created=entry.received)
        return entry

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

    def respond(
        self,
        link: str,
        *,
        transport: Transport | None = None,
        resolver: Resolver | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> Responded:
        """Answer an OpenID4VP request (a link or its request URI): fetch and verify the
        signed request object, present what its DCQL query asks from the held credentials
        (SD-JWT+KB disclosing only the claims it names) and post it to the response URI.

        ``resolver`` resolves the verifier's DID (default: did:key and did:jwk, no network).
        Raises MalformedError, UsageError (nothing held satisfies the query),
        PresentationError (the verifier refused the answer), the transport's errors.
        https://openid.net/specs/openid-4-verifiable-presentations-1_0.html#section-8.2
        """
        transport = transport or HttpTransport()
        request_uri, link_client = request_uri_of(link)
        fetched = transport.request(
            "GET", request_uri, headers={"Accept": f"application/{openid4vp.REQUEST_TYP}"}
        )
        if fetched.status != 200:
            raise PresentationError(f"the request object could not be fetched ({fetched.status})")
        try:
            token = fetched.body.decode("ascii").strip()
        except UnicodeDecodeError as exc:
            raise MalformedError("the request object is not a compact JWS") from exc
        request = openid4vp.read_request(token, resolver=resolver or Resolver(), now=now())
        if link_client is not None and link_client != request.client_id:
            # §5.10: the signed request must be the one the link's client asked for
            raise MalformedError("the request object is signed for another client_id")
        held = {c.id: c.credential for c in self.credentials() if isinstance(c.credential, str)}
        form = openid4vp.answer(request, list(held.values()), self.signer, now=now())
        answered = transport.request(
            "POST",
            request.response_uri,
            body=urlencode(form).encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if answered.status != 200:
            raise PresentationError(f"the verifier refused the presentation: {_why(answered)}")
        presented = json.loads(form["vp_token"])
        return Responded(
            client_id=request.client_id,
            response_uri=request.response_uri,
            presented=tuple(
                cid
                for cid, credential in held.items()
                if any(_presents(p, credential) for ps in presented.values() for p in ps)
            ),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Responded:
    """An OpenID4VP request answered: to whom, with which held credentials."""

    client_id: str
    response_uri: str
    presented: tuple[str, ...]


def request_uri_of(link: str) -> tuple[str, str | None]:
    """The request URI of an ``openid4vp://?client_id=…&request_uri=…`` link (and its client
    id), or the link itself when it is the https(s) request URI. Raises MalformedError."""
    if not isinstance(link, str):  # an AttributeError or TypeError came out
        raise MalformedError(f"an OpenID4VP link is text, not a {type(link).__name__}")
    if link.startswith(("https://", "http://")):
        return link, None
    try:
        parts = urlsplit(link)
    except ValueError as exc:  # an invalid IPv6 host ("openid4vp://[")
        raise MalformedError("the OpenID4VP link cannot be read") from exc
    if parts.scheme not in _REQUEST_SCHEMES:
        raise MalformedError("an OpenID4VP request is an openid4vp:// link or its request_uri")
    params = parse_qs(parts.query)
    uris, clients = params.get("request_uri", []), params.get("client_id", [])
    if len(uris) != 1 or len(clients) != 1:
        # §5: by reference only; one request_uri and the client_id it is signed as
        raise MalformedError("the link needs exactly one request_uri and one client_id")
    return uris[0], clients[0]


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
    if not isinstance(claims, dict):
        raise HolderMismatchError("the credential received is not a JSON object")
    # the issuer's word, of any type: a "vc" that is no object, an id or sub that is an array
    # (unhashable) were an AttributeError / TypeError out of receive() and keep()
    legacy = claims.get("vc")
    subjects = claims.get("credentialSubject") or (
        legacy.get("credentialSubject") if isinstance(legacy, dict) else None
    )
    listed = subjects if isinstance(subjects, list) else [subjects]
    named = [s.get("id") for s in listed if isinstance(s, dict)] + [claims.get("sub")]
    if did not in named:
        raise HolderMismatchError("the credential received names another subject than this wallet")


def _presents(presentation: Any, credential: str) -> bool:
    """Whether ``presentation`` (SD-JWT+KB or a vp+jwt) carries ``credential``."""
    if not isinstance(presentation, str):
        return False
    if "~" in credential:
        return presentation.split("~", 1)[0] == credential.split("~", 1)[0]
    try:
        vp = jose.unverified_payload(presentation).get("vp")
    except VcredError:
        return False
    carried = vp.get("verifiableCredential") if isinstance(vp, dict) else None
    return isinstance(carried, list) and credential in carried


def _why(answer: Answer) -> str:
    """The verifier's reason (problem details: code and detail) in one line."""
    try:
        body = jose.loads_strict(answer.body, what="the answer")
    except VcredError:  # not JSON (json.loads raised RecursionError past its nesting)
        return f"HTTP {answer.status}"
    if not isinstance(body, dict):
        return f"HTTP {answer.status}"
    details = body.get("problemDetails")
    details = details if isinstance(details, list) else []
    codes = [p.get("code") for p in details if isinstance(p, dict)]
    detail = str(body.get("detail") or body.get("error_description") or "")[:300]
    return f"{body.get('code') or body.get('error') or answer.status}: {detail}" + (
        f" ({', '.join(str(c) for c in codes)})" if codes else ""
    )


def _to_json(held: Held) -> dict[str, Any]:
    return {
        "id": held.id,
        "format": held.format,
        "configuration_id": held.configuration_id,
        "credential_issuer": held.credential_issuer,
        "received": held.received,
        "credential": held.credential,
        "pending": held.pending,
    }


def _from_json(value: Any) -> Held:
    return Held(
        id=str(value["id"]),
        format=str(value["format"]),
        configuration_id=str(value["configuration_id"]),
        credential_issuer=str(value["credential_issuer"]),
        received=str(value["received"]),
        credential=value["credential"],
        pending=str(value.get("pending", "")),  # absent in wallets written before it
    )
