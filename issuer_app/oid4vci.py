"""OpenID for Verifiable Credential Issuance 1.0, the issuer's side: the pre-authorized code
flow with a transaction code.

https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html

An officer makes an offer (:meth:`Offers.create`) for a credential built from the form; the
trader's wallet fetches the offer (§4.1.3, by reference), trades its pre-authorized code and
the transaction code the officer gave out of band for an access token (§6), takes a c_nonce
(§7) and asks for the credential with a proof of possession of its key (§8). Only then is
the credential signed, bound to that key (``cnf`` for SD-JWT, ``credentialSubject.id`` = the
holder's DID for the others), through :meth:`Issuer.issue_request` — the same checks, record,
status entries and audit entry as every other issuance. Offers expire, are single use, and
each step is in the audit chain.

The pre-authorized code and transaction code of an offer are derived from the issuer's
session secret and the offer id (HMAC): only their digests are stored, and the officer's page
can show them again. Nonces are stateless (HMAC over an expiry).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import Connection

from issuer_app import formats
from issuer_app.oid4vci_store import OfferStore, load_credential
from issuer_app.service import Issuer
from issuer_app.store.records import dump_json
from vcred.customs.builders import AEO_CERTIFICATE_TYPE, CUSTOMS_CONTEXT, EXPORT_BILLING_TYPE
from vcred.errors import UsageError
from vcred.integrity.suites import DEFAULT_SUITE_FOR
from vcred.keys import JWS_ALG_FOR, KIND_FOR_JWS_ALG, KeyKind
from vcred.multibase import b64url_encode
from vcred.oid4vci import (
    GRANT_PRE_AUTHORIZED,
    CredentialOffer,
    Possession,
    ProtocolError,
    offer_url,
    verify_proof,
)
from vcred.status.listcred import format_datetime
from vcred_service.problems import ProblemError
from vcred_service.roles import allows

OFFER_TTL: Final = timedelta(hours=1)
TOKEN_TTL: Final = timedelta(minutes=10)
NONCE_TTL: Final = timedelta(minutes=5)
#: Wrong transaction codes an offer survives: 6 digits and 5 tries give a guesser 1 in 200000.
MAX_TX_FAILURES: Final = 5
TX_CODE_LENGTH: Final = 6
#: Where the endpoints live under the issuer's public URL.
TOKEN_PATH: Final = "/oid4vci/token"  # noqa: S105 - a path, not a token
NONCE_PATH: Final = "/oid4vci/nonce"
CREDENTIAL_PATH: Final = "/oid4vci/credential"
OFFER_PATH: Final = "/oid4vci/offers/"
#: The pre-authorized code flow's authorization server is named apart from the service's own
#: (its client-credentials token endpoint, vcred_service.oauth_http, answers at the root's
#: metadata): RFC 8414 §3.1 puts this one's metadata at the well-known URL plus this path.
AUTHORIZATION_SERVER_PATH: Final = "/oid4vci"

#: OpenID4VCI format identifier → the vcred format that secures it (Appendix A).
FORMAT_FOR: Final[dict[str, str]] = {
    "vc+sd-jwt": "vc+sd-jwt",  # VCDM 2.0 secured as SD-JWT (VC-JOSE-COSE §3.2), key-bound by cnf
    "jwt_vc_json": "vc+jwt",
    "ldp_vc": formats.DATA_INTEGRITY,
}
#: The credential types offered, with the name wallets show.
TYPES: Final[dict[str, str]] = {
    AEO_CERTIFICATE_TYPE: "AEO certificate",
    EXPORT_BILLING_TYPE: "Export billing attestation",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Configuration:
    """One entry of ``credential_configurations_supported`` (§12.2.4)."""

    id: str
    credential_type: str
    format: str

    @property
    def vcred_format(self) -> str:
        return FORMAT_FOR[self.format]


def configuration_id(credential_type: str, fmt: str) -> str:
    return f"{credential_type}_{fmt}"


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferView:
    """What the officer's page shows of an offer."""

    offer_id: str
    configuration: str
    url: str
    offer_uri: str
    tx_code: str
    state: str
    expires: str
    expired: bool
    record_id: str | None
    credential_id: str | None


class Offers:
    """The OpenID4VCI side of one :class:`Issuer` (one per app)."""

    def __init__(self, issuer: Issuer) -> None:
        self.issuer = issuer
        self.store = OfferStore(issuer.store.engine, prefix=issuer.config.table_prefix)
        self._secret = hashlib.sha256(
            b"vcred-oid4vci\x00" + issuer.session_secret().encode()
        ).digest()

    # -- metadata ------------------------------------------------------------------------------

    @property
    def issuer_id(self) -> str:
        """The Credential Issuer Identifier (§12.2.1): the public URL."""
        return self.issuer.config.public_url

    @property
    def authorization_server_id(self) -> str:
        """The issuer of the pre-authorized code flow's tokens (§12.2.4 authorization_servers)."""
        return self.issuer_id + AUTHORIZATION_SERVER_PATH

    def configurations(self) -> dict[str, Configuration]:
        """The offered configurations: each credential type in each format the issuer offers."""
        found = {}
        for credential_type in TYPES:
            for fmt, vcred_format in FORMAT_FOR.items():
                if vcred_format in self.issuer.offered:
                    made = Configuration(
                        id=configuration_id(credential_type, fmt),
                        credential_type=credential_type,
                        format=fmt,
                    )
                    found[made.id] = made
        return found

    def configuration_for(self, credential_type: str, vcred_format: str) -> Configuration:
        """The configuration a credential of this type, issued in this vcred format, is
        offered in. Raises UsageError when there is none."""
        for made in self.configurations().values():
            if made.credential_type == credential_type and made.vcred_format == vcred_format:
                return made
        raise UsageError(f"{credential_type} in {vcred_format} is not offered over OpenID4VCI")

    def metadata(self) -> dict[str, Any]:
        """The Credential Issuer Metadata (§12.2.4)."""
        base = self.issuer_id
        proof_algs = sorted(KIND_FOR_JWS_ALG)
        configurations = {}
        for made in self.configurations().values():
            kinds = formats.key_kinds(made.vcred_format)
            held = [k.kind for k in self.issuer.keyring().current if k.kind in kinds]
            entry: dict[str, Any] = {
                "format": made.format,
                "scope": made.id,
                "cryptographic_binding_methods_supported": (
                    ["jwk"] if made.format == "vc+sd-jwt" else ["did:jwk", "did:key"]
                ),
                "credential_signing_alg_values_supported": sorted({JWS_ALG_FOR[k] for k in held}),
                "proof_types_supported": {
                    "jwt": {"proof_signing_alg_values_supported": proof_algs}
                },
                "credential_definition": {"type": ["VerifiableCredential", made.credential_type]},
                "credential_metadata": {
                    "display": [{"name": TYPES[made.credential_type], "locale": "en"}]
                },
            }
            if made.format == "ldp_vc":
                entry["credential_definition"]["@context"] = [
                    formats.VC_V2_CONTEXT,
                    CUSTOMS_CONTEXT,
                ]
                entry["credential_signing_alg_values_supported"] = sorted(_suites_for(held))
            configurations[made.id] = entry
        return {
            "credential_issuer": base,
            "authorization_servers": [self.authorization_server_id],
            "credential_endpoint": base + CREDENTIAL_PATH,
            "nonce_endpoint": base + NONCE_PATH,
            "display": [{"name": self.issuer.config.authority, "locale": "en"}],
            "credential_configurations_supported": configurations,
        }

    def authorization_server_metadata(self) -> dict[str, Any]:
        """RFC 8414 metadata of the pre-authorized code flow's authorization server (§12.3)."""
        base = self.issuer_id
        return {
            "issuer": self.authorization_server_id,
            "token_endpoint": base + TOKEN_PATH,
            "grant_types_supported": [GRANT_PRE_AUTHORIZED],
            "token_endpoint_auth_methods_supported": ["none"],
            "response_types_supported": [],
            "pre-authorized_grant_anonymous_access_supported": True,
        }

    # -- offers --------------------------------------------------------------------------------

    def create(
        self,
        credential: Mapping[str, Any],
        configuration: str,
        *,
        actor: str,
        ttl: timedelta = OFFER_TTL,
    ) -> OfferView:
        """Offer ``credential`` (unsigned) in ``configuration``; audited ``oid4vci-offer``.

        The credential is checked now as it will be issued (a holder DID stands in for the
        one the proof will name), so the officer hears of a mistake before the trader does.
        Raises UsageError for an unknown configuration, ProblemError for a credential that
        cannot be issued.
        """
        made = self.configurations().get(configuration)
        if made is None:
            raise UsageError(f"unknown credential configuration {configuration!r}")
        subject = credential.get("credentialSubject")
        if isinstance(subject, Mapping) and "id" in subject:
            raise ProblemError(
                400,
                "Bad request",
                "an offered credential has no credentialSubject.id: the holder's key is bound "
                "to it when the wallet collects it",
                code="MALFORMED",
                pointer="/credential/credentialSubject/id",
            )
        document = json.loads(json.dumps(dict(credential)))
        sd_jwt = made.vcred_format == "vc+sd-jwt"
        trial = document if sd_jwt else _bound(document, "did:example:holder")
        self.issuer.check_request({"credential": trial, "options": {"format": made.vcred_format}})
        offer_id = secrets.token_urlsafe(24)
        now = self.issuer.now()
        credential_id = document.get("id")
        with self.issuer.store.engine.begin() as conn:
            if isinstance(credential_id, str) and self.issuer.store.credential_id_taken(
                conn, credential_id
            ):
                raise ProblemError(
                    409,
                    "Conflict",
                    f"a credential with id {credential_id[:200]!r} was already issued",
                    code="DUPLICATE_CREDENTIAL_ID",
                    pointer="/credential/id",
                )
            at = format_datetime(now)
            expires = format_datetime(now + ttl)
            self.store.insert(
                conn,
                {
                    "offer_id": offer_id,
                    "code_digest": _digest(self._code(offer_id)),
                    "tx_digest": _digest(offer_id + ":" + self._tx_code(offer_id)),
                    "configuration": made.id,
                    "credential": dump_json(document),
                    "credential_id": credential_id if isinstance(credential_id, str) else None,
                    "created": at,
                    "expires": expires,
                    "actor": actor[:256],
                },
            )
            self.issuer.store.append_audit(
                conn,
                at=at,
                actor=actor,
                action="oid4vci-offer",
                target=credential_id if isinstance(credential_id, str) else offer_id,
                details={"offerId": offer_id, "configuration": made.id, "expires": expires},
            )
        view = self.view(offer_id)
        if view is None:  # pragma: no cover - just inserted
            raise UsageError("the offer was not stored")
        return view

    def view(self, offer_id: str) -> OfferView | None:
        row = self.store.by_id(offer_id)
        if row is None:
            return None
        uri = self.issuer_id + OFFER_PATH + offer_id
        return OfferView(
            offer_id=offer_id,
            configuration=row.configuration,
            url=offer_url(offer_uri=uri),
            offer_uri=uri,
            tx_code=self._tx_code(offer_id),
            state=row.state,
            expires=row.expires,
            expired=row.state == "offered" and row.expires <= self.issuer.stamp(),
            record_id=row.record_id,
            credential_id=row.credential_id,
        )

    def view_for_record(self, record_id: str) -> OfferView | None:
        row = self.store.by_record(record_id)
        return None if row is None else self.view(row.offer_id)

    def recent(self, *, limit: int = 50) -> list[OfferView]:
        """The latest offers, newest first."""
        found = (self.view(row.offer_id) for row in self.store.recent(limit=limit))
        return [view for view in found if view is not None]

    def offer_document(self, offer_id: str) -> dict[str, Any]:
        """The credential offer behind an offer URI (§4.1.3). Only an offer still to be
        redeemed is served. Raises ProblemError 404."""
        row = self.store.by_id(offer_id) if len(offer_id) <= 64 else None
        if row is None or row.state != "offered" or row.expires <= self.issuer.stamp():
            raise ProblemError(404, "Not Found", "no such credential offer, or no longer open")
        return CredentialOffer(
            credential_issuer=self.issuer_id,
            configuration_ids=(row.configuration,),
            pre_authorized_code=self._code(offer_id),
            tx_code={
                "input_mode": "numeric",
                "length": TX_CODE_LENGTH,
                "description": "The code the customs officer gave you with this offer",
            },
        ).to_json()

    # -- token endpoint (§6) -------------------------------------------------------------------

    def token(self, form: Mapping[str, str]) -> dict[str, Any]:
        """Trade a pre-authorized code (and its transaction code) for an access token.

        Raises ProtocolError: ``unsupported_grant_type``; ``invalid_request`` (no code, or no
        tx_code); ``invalid_grant`` for an unknown, expired, already redeemed or blocked
        code and a wrong tx_code (RFC 6749 §5.2, OpenID4VCI §6.3).
        """
        if form.get("grant_type") != GRANT_PRE_AUTHORIZED:
            raise ProtocolError(
                "unsupported_grant_type", f"this issuer grants only {GRANT_PRE_AUTHORIZED}"
            )
        code = form.get("pre-authorized_code")
        if not code:
            raise ProtocolError("invalid_request", "pre-authorized_code is missing")
        tx_code = form.get("tx_code")
        now = self.issuer.now()
        at = format_datetime(now)
        with self.issuer.store.engine.begin() as conn:
            row = self.store.by_code(conn, _digest(code)) if len(code) <= 256 else None
            if row is None:
                raise ProtocolError("invalid_grant", "the pre-authorized code is not known")
            refusal, details = self._check_grant(conn, row, tx_code, at=at)
            if details is not None:  # a replayed, expired or guessed code: kept in the chain
                self._audit(conn, row, "oid4vci-code-refused", at=at, details=details)
        if refusal is not None:  # the failure count is committed, the answer refused
            raise refusal
        self._refuse_if_withdrawn(row, "invalid_grant", at=at)
        access_token = self._access_token(form.get("client_id") or None)
        with self.issuer.store.engine.begin() as conn:
            if not self.store.move(
                conn,
                row.offer_id,
                frm="offered",
                to="redeemed",
                token_digest=_digest(access_token),
                token_expires=format_datetime(now + TOKEN_TTL),
            ):
                raise ProtocolError("invalid_grant", "the pre-authorized code was used already")
            self._audit(conn, row, "oid4vci-token", at=at)
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": int(TOKEN_TTL.total_seconds()),
        }

    def _access_token(self, client_id: str | None) -> str:
        """A fresh access token. One asked for with a ``client_id`` carries a MAC of it, so a
        key proof's ``iss`` is held to that client without storing it (F.1); one asked for
        anonymously carries none, and a proof naming a client is refused."""
        token = secrets.token_urlsafe(32)  # base64url: no "."
        if client_id is None:
            return token
        return token + "." + self._mac("client_id", f"{token}\x00{client_id}")

    def _issued_to(self, access_token: str, client_id: str) -> bool:
        """Whether ``access_token`` was asked for by ``client_id`` (:meth:`_access_token`)."""
        token, _, tag = access_token.partition(".")
        expected = self._mac("client_id", f"{token}\x00{client_id}")
        return hmac.compare_digest(tag.encode(), expected.encode())

    def _check_grant(
        self, conn: Connection, row: Any, tx_code: str | None, *, at: str
    ) -> tuple[ProtocolError | None, dict[str, Any] | None]:
        """(the refusal, what the audit entry says of it) of a known code; (None, None) for
        a code that may be redeemed. A wrong tx_code counts toward blocking the offer."""
        if row.state != "offered":
            used = ProtocolError(
                "invalid_grant", f"the pre-authorized code was used already ({row.state})"
            )
            return used, {"reason": f"code presented again ({row.state})"}
        if row.expires <= at:
            expired = ProtocolError("invalid_grant", "the pre-authorized code has expired")
            return expired, {"reason": "expired"}
        if not tx_code:
            return ProtocolError("invalid_request", "this offer needs its tx_code"), None
        # the try is taken before the comparison (counting after it let every guess of a
        # burst read the offer as open and be compared: the limit held only one at a time)
        tries = self.store.take_try(conn, row.offer_id, limit=MAX_TX_FAILURES)
        if tries is None:
            closed = ProtocolError("invalid_grant", "the pre-authorized code is no longer open")
            return closed, {"reason": "code presented again (no tries left)"}
        expected = row.tx_digest or ""
        if hmac.compare_digest(_digest(row.offer_id + ":" + tx_code[:64]), expected):
            self.store.give_back_try(conn, row.offer_id)
            return None, None
        if tries >= MAX_TX_FAILURES:
            self.store.move(conn, row.offer_id, frm="offered", to="blocked")
        wrong = ProtocolError("invalid_grant", "the tx_code is wrong")
        return wrong, {"reason": "wrong tx_code", "failures": tries}

    def _refuse_if_withdrawn(self, row: Any, error: str, *, at: str) -> None:
        """Raise ProtocolError ``error`` (audited ``oid4vci-withdrawn``) when whoever made
        the offer of ``row`` may no longer issue: the offer is withdrawn with their access.

        An offer is signed when the wallet collects it, up to an hour later: an officer
        disabled, or whose role no longer issues, and an API token revoked in between must
        not issue through it (as a four-eyes request ends with its requester's access). An
        OAuth client's offer lasts, as its access tokens do, until it expires."""
        kind, _, name = row.actor.partition(":")
        why = None
        if kind == "token":
            with self.issuer.store.engine.connect() as conn:
                if self.issuer.store.token_revoked(conn, name):
                    why = "the API token that made it was revoked"
        elif kind == "officer" and not (
            self.issuer.officer_active(name) and allows(self.issuer.roles.role(name), "issue")
        ):
            why = f"the officer {name!r} who made it may no longer issue"
        if why is None:
            return
        with self.issuer.store.engine.begin() as conn:
            self._audit(conn, row, "oid4vci-withdrawn", at=at, details={"reason": why})
        raise ProtocolError(error, f"the offer was withdrawn: {why}")

    def _audit(
        self,
        conn: Connection,
        row: Any,
        action: str,
        *,
        at: str,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """An audit entry of the wallet's side of offer ``row`` (``actor`` oid4vci)."""
        self.issuer.store.append_audit(
            conn,
            at=at,
            actor="oid4vci",
            action=action,
            target=row.credential_id or row.offer_id,
            details={"offerId": row.offer_id, **(details or {})},
        )

    # -- nonce endpoint (§7) -------------------------------------------------------------------

    def nonce(self) -> str:
        """A fresh c_nonce: ``<expiry>.<random>.<mac>`` (no state to keep)."""
        expiry = int((self.issuer.now() + NONCE_TTL).timestamp())
        body = f"{expiry}.{secrets.token_urlsafe(16)}"
        return f"{body}.{self._mac('nonce', body)}"

    def nonce_valid(self, nonce: str) -> bool:
        body, _, mac = nonce.rpartition(".")
        expiry, _, _ = body.partition(".")
        # ASCII first: isdigit takes other scripts' digits, compare_digest raises on non-ASCII
        if not nonce.isascii() or not expiry.isdigit() or len(nonce) > 200:
            return False
        if not hmac.compare_digest(mac, self._mac("nonce", body)):
            return False
        return int(expiry) > self.issuer.now().timestamp()

    # -- credential endpoint (§8) --------------------------------------------------------------

    def credential(self, authorization: str, body: Any) -> dict[str, Any]:
        """Issue the offered credential to the key the proof names.

        Raises ProtocolError: ``invalid_token`` (401) for a missing, unknown, expired or
        spent access token; ``invalid_credential_request``; ``unknown_credential_configuration``;
        ``unknown_credential_identifier``; ``invalid_encryption_parameters``;
        ``invalid_proof`` / ``invalid_nonce`` (§8.3.1.2).
        """
        row = self.authorised(authorization)
        self._refuse_if_withdrawn(row, "credential_request_denied", at=self.issuer.stamp())
        request = _credential_request(body, row.configuration, self.configurations())
        possession = self._possession(request, access_token=authorization.partition(" ")[2])
        made = self.configurations()[row.configuration]
        options: dict[str, Any] = {"format": made.vcred_format}
        if made.vcred_format == "vc+sd-jwt":
            # cnf binds an SD-JWT to the key (RFC 9901 §4.1.2); its subject stays what it is
            document = load_credential(row)
            options["holder"] = possession.holder
        else:
            document = _bound(load_credential(row), possession.holder)
        try:
            answer = self.issuer.issue_request(
                {"credential": document, "options": options},
                actor=f"oid4vci:{row.offer_id}",
                # one credential per offer: of two racing requests one is signed (the other,
                # with another proof, refused); after a crash between signing and "collected"
                # the same request gets the same credential back (nothing lost or duplicated)
                idempotency_key=f"oid4vci:{row.offer_id}",
            )
        except ProblemError as exc:
            raise ProtocolError(
                "credential_request_denied", f"the credential cannot be issued: {exc.detail}"
            ) from exc
        secured = _unwrap(answer.body["verifiableCredential"])
        at = self.issuer.stamp()
        with self.issuer.store.engine.begin() as conn:
            if self.store.move(
                conn,
                row.offer_id,
                frm="redeemed",
                to="collected",
                record_id=answer.record_id,
                holder=possession.holder[:2048],
                collected=at,
            ):
                self._audit(
                    conn,
                    row,
                    "oid4vci-collect",
                    at=at,
                    details={
                        "recordId": answer.record_id,
                        "holder": possession.holder,
                        "configuration": row.configuration,
                    },
                )
        return {"credentials": [{"credential": secured}]}

    def authorised(self, authorization: str) -> Any:
        """The offer row of a live access token. Raises ProtocolError ``invalid_token``."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ProtocolError("invalid_token", "send the access token (Bearer)", status=401)
        row = self.store.by_token(_digest(token.strip()))
        if row is None or row.state not in ("redeemed", "collected"):
            raise ProtocolError("invalid_token", "the access token is not known", status=401)
        if row.state == "collected":
            raise ProtocolError(
                "invalid_token", "the credential of this access token was collected", status=401
            )
        if (row.token_expires or "") <= self.issuer.stamp():
            raise ProtocolError("invalid_token", "the access token has expired", status=401)
        return row

    def _possession(self, request: Mapping[str, Any], *, access_token: str) -> Possession:
        proofs = request["proofs"]["jwt"]
        token = access_token.strip()
        return verify_proof(
            proofs[0],
            audience=self.issuer_id,
            now=self.issuer.now(),
            nonce_valid=self.nonce_valid,
            # a token without a client's MAC was asked for anonymously: no iss then (F.1)
            client_valid=(
                (lambda client_id: self._issued_to(token, client_id)) if "." in token else None
            ),
        )

    # -- secrets derived per offer -------------------------------------------------------------

    def _mac(self, purpose: str, value: str) -> str:
        tag = hmac.new(self._secret, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()
        return b64url_encode(tag)

    def _code(self, offer_id: str) -> str:
        return self._mac("pre-authorized_code", offer_id)

    def _tx_code(self, offer_id: str) -> str:
        tag = hmac.new(self._secret, f"tx_code\x00{offer_id}".encode(), hashlib.sha256).digest()
        return str(int.from_bytes(tag[:8], "big") % 10**TX_CODE_LENGTH).zfill(TX_CODE_LENGTH)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _bound(credential: Mapping[str, Any], holder: str) -> dict[str, Any]:
    """The credential about its holder: ``credentialSubject.id`` is the holder's DID (the
    binding of jwt_vc_json and ldp_vc: a presentation's holder must be that subject)."""
    document: dict[str, Any] = json.loads(json.dumps(dict(credential)))
    subject = document.get("credentialSubject")
    if isinstance(subject, dict):
        subject["id"] = holder
    return document


def _credential_request(
    body: Any, offered: str, configurations: Mapping[str, Configuration]
) -> dict[str, Any]:
    """The credential request (§8.2), checked against the offer. Raises ProtocolError."""
    if not isinstance(body, dict):
        raise ProtocolError("invalid_credential_request", "the request must be a JSON object")
    if "credential_identifier" in body:
        raise ProtocolError(
            "unknown_credential_identifier",
            "this issuer issues by credential_configuration_id (no authorization_details)",
        )
    if "credential_response_encryption" in body:
        raise ProtocolError(
            "invalid_encryption_parameters", "this issuer does not encrypt credential responses"
        )
    if "proof" in body:
        raise ProtocolError(
            "invalid_credential_request", "OpenID4VCI 1.0 sends key proofs as proofs, not proof"
        )
    named = body.get("credential_configuration_id")
    if not isinstance(named, str):
        raise ProtocolError("invalid_credential_request", "credential_configuration_id is missing")
    if named not in configurations:
        raise ProtocolError(
            "unknown_credential_configuration", f"no credential configuration {named[:100]!r}"
        )
    if named != offered:
        raise ProtocolError(
            "invalid_credential_request", f"the access token is for {offered}, not {named[:100]}"
        )
    proofs = body.get("proofs")
    if not isinstance(proofs, dict) or set(proofs) != {"jwt"}:
        raise ProtocolError(
            "invalid_proof", "send one key proof of type jwt: proofs = {jwt: [<proof>]}"
        )
    listed = proofs["jwt"]
    if not isinstance(listed, list) or len(listed) != 1:
        raise ProtocolError(
            "invalid_proof", "this issuer makes one credential per request: send one proof"
        )
    return body


def _unwrap(wrapped: Mapping[str, Any]) -> str | dict[str, Any]:
    """The credential as the protocol carries it: a compact token as a string (from its
    enveloping data: URL), a Data Integrity credential as an object (Appendix A)."""
    if wrapped.get("type") == formats.ENVELOPED_TYPE:
        return str(wrapped["id"]).partition(",")[2]
    return dict(wrapped)


def _suites_for(kinds: list[KeyKind]) -> set[str]:
    return {DEFAULT_SUITE_FOR[k].name for k in kinds if k in DEFAULT_SUITE_FOR}
