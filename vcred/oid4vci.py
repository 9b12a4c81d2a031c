"""OpenID for Verifiable Credential Issuance 1.0: the messages both sides share, without I/O.

https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html

The issuer service (``issuer_app.oid4vci``) and the wallet (``vcred.wallet``) build and check
the same things here: the credential offer and its ``openid-credential-offer://`` URL (§4.1),
and the JWT proof of possession of the holder's key (Appendix F.1). The proof is the one JWT
whose key legitimately comes from its own header (``jwk``, or a did:key / did:jwk ``kid``): it
proves possession of exactly that key, and the credential is bound to it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Final
from urllib.parse import parse_qs, quote, urlsplit

from vcred import jose
from vcred.did.document import split_did_url
from vcred.did.jwk import did_jwk
from vcred.did.resolver import Resolver
from vcred.errors import VcredError
from vcred.issuing import as_signer
from vcred.keys import JWS_ALG_FOR, KIND_FOR_JWS_ALG, KeyPair, PublicKey, Signer
from vcred.multibase import b64url_decode, b64url_encode

__all__ = [
    "GRANT_PRE_AUTHORIZED",
    "OFFER_SCHEME",
    "PROOF_TYP",
    "CredentialOffer",
    "Possession",
    "ProtocolError",
    "offer_url",
    "parse_offer",
    "parse_offer_url",
    "proof_jwt",
    "verify_proof",
]

#: The grant type of the Pre-Authorized Code Flow (§3.5, §6.1).
GRANT_PRE_AUTHORIZED: Final = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
#: The ``typ`` of a JWT key proof (Appendix F.1).
PROOF_TYP: Final = "openid4vci-proof+jwt"
#: The custom scheme a wallet registers for offers (§4.1.3).
OFFER_SCHEME: Final = "openid-credential-offer://"
#: How far a proof's ``iat`` may lie in the future (clock skew between wallet and issuer).
PROOF_SKEW_SECONDS: Final = 60
#: How old a proof may be: its nonce bounds it too, this bounds a proof without one.
PROOF_MAX_AGE_SECONDS: Final = 300
_KEY_HEADERS: Final = ("jwk", "kid", "x5c", "trust_chain", "key_attestation")


class ProtocolError(VcredError):
    """An OpenID4VCI / OAuth 2.0 error answer: ``error`` is the protocol's code.

    Token endpoint errors are RFC 6749 §5.2's (``invalid_request``, ``invalid_grant`` …),
    credential endpoint errors §8.3.1.2's (``invalid_proof``, ``invalid_nonce`` …), bearer
    token errors RFC 6750 §3.1's (``invalid_token``, 401). The services answer them in the
    protocol's JSON (``{"error", "error_description"}``), not as problem details.
    """

    code: ClassVar[str] = "OID4VCI"
    title: ClassVar[str] = "OpenID4VCI error"

    def __init__(
        self, error: str, message: str, *, status: int = 400, pointer: str | None = None
    ) -> None:
        super().__init__(message, pointer=pointer)
        self.error = error
        self.status = status

    def as_oauth(self) -> dict[str, str]:
        """The error answer's body (RFC 6749 §5.2)."""
        return {"error": self.error, "error_description": self.message}


# -- credential offers (§4.1) ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialOffer:
    """A credential offer with a pre-authorized code (§4.1.1)."""

    credential_issuer: str
    configuration_ids: tuple[str, ...]
    pre_authorized_code: str
    #: the offer's ``tx_code`` object (input_mode, length, description); None: no code needed
    tx_code: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        grant: dict[str, Any] = {"pre-authorized_code": self.pre_authorized_code}
        if self.tx_code is not None:
            grant["tx_code"] = dict(self.tx_code)
        return {
            "credential_issuer": self.credential_issuer,
            "credential_configuration_ids": list(self.configuration_ids),
            "grants": {GRANT_PRE_AUTHORIZED: grant},
        }


def parse_offer(value: Any) -> CredentialOffer:
    """A credential offer object, checked (§4.1.1). Raises ProtocolError ``invalid_request``:
    this library redeems only offers with a pre-authorized code."""
    if not isinstance(value, Mapping):
        raise ProtocolError("invalid_request", "a credential offer is a JSON object")
    issuer = value.get("credential_issuer")
    ids = value.get("credential_configuration_ids")
    if not isinstance(issuer, str) or not issuer.startswith(("https://", "http://")):
        raise ProtocolError("invalid_request", "the offer's credential_issuer must be a URL")
    if (
        not isinstance(ids, list)
        or not ids
        or not all(isinstance(i, str) and i for i in ids)
        or len(set(ids)) != len(ids)
    ):
        raise ProtocolError(
            "invalid_request",
            "credential_configuration_ids must be a non-empty array of unique strings",
        )
    grants = value.get("grants")
    grant = grants.get(GRANT_PRE_AUTHORIZED) if isinstance(grants, Mapping) else None
    if not isinstance(grant, Mapping):
        raise ProtocolError(
            "invalid_request", "the offer has no pre-authorized code grant (only that is redeemed)"
        )
    code = grant.get("pre-authorized_code")
    tx_code = grant.get("tx_code")
    if not isinstance(code, str) or not code:
        raise ProtocolError("invalid_request", "the pre-authorized_code must be a string")
    if tx_code is not None and not isinstance(tx_code, Mapping):
        raise ProtocolError("invalid_request", "tx_code must be an object")
    return CredentialOffer(
        credential_issuer=issuer,
        configuration_ids=tuple(ids),
        pre_authorized_code=code,
        tx_code=tx_code,
    )


def offer_url(*, offer_uri: str | None = None, offer: CredentialOffer | None = None) -> str:
    """The ``openid-credential-offer://`` URL of an offer, by reference (``offer_uri``: small
    enough for any QR code) or by value (§4.1.3). Exactly one of the two."""
    if offer_uri is not None and offer is None:
        return f"{OFFER_SCHEME}?credential_offer_uri={quote(offer_uri, safe='')}"
    if offer is None or offer_uri is not None:
        raise ProtocolError("invalid_request", "give an offer URI or an offer, not both")
    text = json.dumps(offer.to_json(), separators=(",", ":"))
    return f"{OFFER_SCHEME}?credential_offer={quote(text, safe='')}"


def parse_offer_url(url: str) -> tuple[str | None, CredentialOffer | None]:
    """(offer URI, None) or (None, offer) from an offer URL (§4.1.3): either
    ``credential_offer_uri`` or ``credential_offer``, exactly one. Any scheme is accepted (a
    wallet's own, or an https link). Raises ProtocolError ``invalid_request``."""
    if not isinstance(url, str):  # an AttributeError came out
        raise ProtocolError("invalid_request", f"an offer URL is text, not a {type(url).__name__}")
    try:
        query = parse_qs(urlsplit(url.strip()).query, keep_blank_values=True)
    except ValueError as exc:  # urlsplit: an invalid IPv6 host ("x://[")
        raise ProtocolError("invalid_request", "the offer URL cannot be read") from exc
    by_value = query.get("credential_offer", [])
    by_reference = query.get("credential_offer_uri", [])
    if len(by_value) + len(by_reference) != 1:
        raise ProtocolError(
            "invalid_request",
            "an offer URL carries exactly one credential_offer or credential_offer_uri",
        )
    if by_reference:
        return by_reference[0], None
    try:
        # strict: json.loads raised RecursionError past its nesting, and kept the last of
        # two members of one name
        offer = jose.loads_strict(by_value[0], what="credential_offer")
    except VcredError as exc:
        raise ProtocolError("invalid_request", f"credential_offer: {exc.message}") from exc
    return None, parse_offer(offer)


# -- the JWT proof of possession (Appendix F.1) ------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Possession:
    """A verified proof: the key the holder possesses, the DID naming it, the nonce it used."""

    key: PublicKey
    #: did:jwk of a ``jwk`` header, or the did:key / did:jwk of a ``kid``
    holder: str
    #: the method id the credential's holder signs presentations with
    method_id: str
    nonce: str | None


def proof_jwt(
    holder: Signer | KeyPair,
    *,
    audience: str,
    nonce: str | None,
    now: datetime,
    client_id: str | None = None,
    use_kid: bool = False,
) -> str:
    """The holder's key proof for ``audience`` (the credential issuer identifier).

    The key is named by a ``jwk`` header (the default: every issuer understands it), or with
    ``use_kid`` by the signer's did:key / did:jwk DID URL. ``nonce``: the issuer's c_nonce.
    ``client_id`` is left out in the anonymous pre-authorized flow (F.1: ``iss``).
    """
    signer = as_signer(holder)
    header: dict[str, Any] = {"alg": signer.algorithm, "typ": PROOF_TYP}
    if use_kid:
        header["kid"] = signer.key_id
    else:
        header["jwk"] = signer.public_key.jwk()
    payload: dict[str, Any] = {"aud": audience, "iat": int(now.timestamp())}
    if nonce is not None:
        payload["nonce"] = nonce
    if client_id is not None:
        payload["iss"] = client_id
    signing_input = (
        b64url_encode(jose.compact_json(header)) + "." + b64url_encode(jose.compact_json(payload))
    )
    return signing_input + "." + b64url_encode(signer.sign(signing_input.encode("ascii")))


def verify_proof(
    token: Any,
    *,
    audience: str,
    now: datetime,
    nonce_valid: Callable[[str], bool],
    client_valid: Callable[[str], bool] | None = None,
    algorithms: frozenset[str] = frozenset(KIND_FOR_JWS_ALG),
) -> Possession:
    """Check a JWT key proof (Appendix F.4) and return the key it proves possession of.

    The key is the one the header names (``jwk``, or a did:key / did:jwk DID URL in ``kid``;
    ``x5c`` and others are refused): the signature must verify with it, with the algorithm
    that key implies (RFC 8725 §3.1). ``aud`` must be ``audience``, ``iat`` recent,
    ``nonce`` one that ``nonce_valid`` accepts. ``iss``, when present, must be a client id
    ``client_valid`` accepts: the client the access token was issued to; without
    ``client_valid`` the token was obtained anonymously and the proof must name no client
    (F.1).
    Raises ProtocolError ``invalid_proof``, or ``invalid_nonce`` for a missing, unknown or
    expired nonce (the wallet fetches a fresh one and tries again, §8.3.1.2).
    """
    try:
        header_b64, payload_b64, signature_b64 = jose.split_compact(token)
        header = jose.unverified_header(token)
        payload = jose.unverified_payload(token)
    except VcredError as exc:
        raise _invalid(f"the proof is not a compact JWT: {exc.message}") from exc
    if header.get("typ") != PROOF_TYP:
        raise _invalid(f"the proof's typ must be {PROOF_TYP}", "/header/typ")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms:
        raise _invalid(f"proof alg {str(alg)[:40]!r} is not accepted", "/header/alg")
    for name in ("crit", "b64", "jku", "x5u"):
        if name in header:
            raise _invalid(f"the proof header {name} is refused", f"/header/{name}")
    named = [name for name in _KEY_HEADERS if name in header]
    if len(named) != 1 or named[0] not in ("jwk", "kid"):
        raise _invalid("the proof must name its key with exactly one of jwk or kid", "/header")
    key, holder, method_id = _proof_key(header)
    # RFC 8725 §3.1: the algorithm follows from the key, never from the header alone
    if alg != JWS_ALG_FOR[key.kind]:
        raise _invalid(f"alg {alg} does not match the {key.kind} key", "/header/alg")
    try:
        signature = b64url_decode(signature_b64, pointer="/signature")
    except VcredError as exc:
        raise _invalid("the proof's signature is not base64url", "/signature") from exc
    if not key.verify(signature, f"{header_b64}.{payload_b64}".encode("ascii")):
        raise _invalid("the proof's signature does not verify with the key it names", "/signature")
    _check_claims(payload, audience=audience, now=now)
    _check_client(payload, client_valid)
    nonce = payload.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise ProtocolError("invalid_nonce", "the proof carries no c_nonce", pointer="/nonce")
    if not nonce_valid(nonce):
        raise ProtocolError(
            "invalid_nonce",
            "the proof's nonce is unknown or expired: fetch a new one from the nonce endpoint",
            pointer="/nonce",
        )
    return Possession(key=key, holder=holder, method_id=method_id, nonce=nonce)


def _invalid(message: str, pointer: str | None = None) -> ProtocolError:
    return ProtocolError("invalid_proof", message, pointer=pointer)


def _proof_key(header: Mapping[str, Any]) -> tuple[PublicKey, str, str]:
    """(key, holder DID, method id) the proof header names."""
    if "jwk" in header:
        jwk = header["jwk"]
        if isinstance(jwk, Mapping) and "d" in jwk:
            raise _invalid("the proof's jwk carries a private key", "/header/jwk")
        try:
            key = PublicKey.from_signing_jwk(dict(jwk) if isinstance(jwk, Mapping) else jwk)
        except VcredError as exc:
            raise _invalid(f"the proof's jwk: {exc.message}", "/header/jwk") from exc
        did = did_jwk(key)
        return key, did, f"{did}#0"
    kid = header["kid"]
    if not isinstance(kid, str) or not kid.startswith(("did:key:", "did:jwk:")) or "#" not in kid:
        raise _invalid("a proof's kid must be a did:key or did:jwk DID URL", "/header/kid")
    try:
        method = Resolver().resolve_method(kid, relationship="authentication")
    except VcredError as exc:
        raise _invalid(f"the proof's kid: {exc.message}", "/header/kid") from exc
    return method.public_key, split_did_url(kid)[0], method.id


def _check_client(payload: Mapping[str, Any], client_valid: Callable[[str], bool] | None) -> None:
    """F.1: ``iss`` is the client_id of the Client asking; it MUST be omitted when the access
    token came from anonymous access to the token endpoint (pre-authorized code, no
    client_id)."""
    if "iss" not in payload:
        return
    iss = payload["iss"]
    if client_valid is None:
        raise _invalid(
            "the access token was obtained anonymously: the proof must carry no iss", "/iss"
        )
    if not isinstance(iss, str) or not client_valid(iss):
        raise _invalid("the proof's iss is not the client the access token was issued to", "/iss")


def _check_claims(payload: Mapping[str, Any], *, audience: str, now: datetime) -> None:
    aud = payload.get("aud")
    if not (aud == audience or (isinstance(aud, list) and aud == [audience])):
        raise _invalid(f"the proof's aud must be {audience}", "/aud")
    try:
        issued = jose.numeric_date(payload.get("iat"), pointer="/iat")
    except VcredError as exc:
        raise _invalid("the proof needs an iat (a NumericDate)", "/iat") from exc
    age = (now - issued).total_seconds()
    if age < -PROOF_SKEW_SECONDS:
        raise _invalid("the proof's iat is in the future", "/iat")
    if age > PROOF_MAX_AGE_SECONDS:
        raise _invalid("the proof is too old: make a new one", "/iat")
