"""OpenID for Verifiable Presentations 1.0: DCQL queries, signed request objects, VP Tokens.

https://openid.net/specs/openid-4-verifiable-presentations-1_0.html

The verifier signs its Authorization Request as a Request Object (JAR, RFC 9101; ``typ``
``oauth-authz-req+jwt``, §5) passed by reference (``request_uri``); its Client Identifier uses
the ``decentralized_identifier`` prefix (§5.9.3): the request is signed with a key of that DID,
named by ``kid``. The Wallet answers with ``response_mode=direct_post`` (§8.2): a form with the
``vp_token`` — a JSON object from each DCQL Credential Query id to its Presentations (§8.1) —
and the ``state``. Every Presentation must be bound to the request's ``nonce`` and to the
Client Identifier as audience (§14.1.2): the key-binding JWT of an SD-JWT, the ``nonce`` and
``aud`` of a VP JWT.

Formats: ``vc+sd-jwt`` (VC-JOSE-COSE SD-JWT, what vcred issues; its ``meta`` is the W3C
``type_values``), ``dc+sd-jwt`` (SD-JWT VC, ``vct_values``) and ``jwt_vc_json`` (a VP JWT of
a JWT credential, ``type_values``).

This module is pure: the holder side (:func:`read_request`, :func:`answer`) gets its DID
lookups from a handed-in :class:`vcred.did.Resolver`; the verifier side checks the VP Token's
shape against the query (:func:`read_vp_token`) and each Presentation's verified credentials
against its Credential Query (:func:`check_presented`: in the format asked for, at least one,
each of the type and with the claims asked for, of one of their ``values`` where listed), and
verifies Presentations with :meth:`vcred.Verifier.verify_presentation` (``challenge`` =
nonce, ``domain`` = client id). A query with ``trusted_authorities`` is refused
(:func:`check_evaluable`): no type of them is evaluated; so is one with
``require_cryptographic_holder_binding`` false: every Presentation must be bound to its holder's
key, the nonce and the client id, whatever the query says (:func:`refuse_unbound`).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, NoReturn

from vcred import jose, model, sdjwt
from vcred._pointer import from_path
from vcred.customs.builders import AEO_CERTIFICATE_TYPE, CUSTOMS_CONTEXT, EXPORT_BILLING_TYPE
from vcred.did.document import is_did, split_did_url
from vcred.did.resolver import Resolver
from vcred.errors import (
    CryptographicError,
    DomainError,
    MalformedError,
    PresentationError,
    UnsupportedError,
    UsageError,
    VcredError,
)
from vcred.keys import KeyPair, Signer
from vcred.presentation import present
from vcred.verifier import PresentationResult

#: §5: the typ of a Request Object (RFC 9101 §10.8).
REQUEST_TYP: Final = "oauth-authz-req+jwt"
#: §5.8: the aud of a Request Object when the Wallet's metadata is not discovered.
STATIC_AUDIENCE: Final = "https://self-issued.me/v2"
#: §5.9.3: the Client Identifier Prefix of a Verifier named by its DID.
DID_PREFIX: Final = "decentralized_identifier:"
VC_SD_JWT: Final = "vc+sd-jwt"
DC_SD_JWT: Final = "dc+sd-jwt"
JWT_VC_JSON: Final = "jwt_vc_json"
#: What a verified Presentation answering a Credential Query of each format is: the
#: Presentation's format and its credentials' (as ``vcred.Verifier`` names them).
PRESENTED_AS: Final[Mapping[str, tuple[str, str]]] = {
    VC_SD_JWT: (VC_SD_JWT, VC_SD_JWT),
    DC_SD_JWT: (DC_SD_JWT, DC_SD_JWT),
    JWT_VC_JSON: (jose.VP_JWT, jose.VC_JWT),
}
FORMATS: Final = tuple(PRESENTED_AS)
#: §6.1: the Credential Query member saying whether a holder binding proof is required.
HOLDER_BINDING: Final = "require_cryptographic_holder_binding"
#: How long a Request Object may be used (its exp).
REQUEST_LIFETIME: Final = timedelta(minutes=5)
#: How far ahead of the Wallet's clock a Request Object's ``iat`` may be.
CLOCK_SKEW: Final = timedelta(seconds=60)
_ID: Final = re.compile(r"[A-Za-z0-9_-]+")
_NONCE: Final = re.compile(r"[A-Za-z0-9._~-]{22,}")  # §5.2: URL-safe, at least 128 bits
_VC_IRI: Final = "https://www.w3.org/2018/credentials#VerifiableCredential"
_CUSTOMS_IRI: Final = "https://vcred.dev/ns/customs#"
_VC_V2: Final = "https://www.w3.org/ns/credentials/v2"

ClaimPath = Sequence[str | int | None]

#: The claims an AEO certificate is asked for: who, under which programme, at which level.
AEO_CLAIMS: Final[tuple[tuple[str, ...], ...]] = (
    ("credentialSubject", "legalName"),
    ("credentialSubject", "identifier"),
    ("credentialSubject", "certification", "programme"),
    ("credentialSubject", "certification", "tier"),
)


# -- DCQL (§6) ------------------------------------------------------------------------------------


def _type_values(credential_type: str) -> list[list[str]]:
    return [[_VC_IRI, _CUSTOMS_IRI + credential_type]]


def aeo_certificate_query() -> dict[str, Any]:
    """A DCQL query for one AEO certificate, as an SD-JWT or a JWT credential (§6.2, §6.4)."""
    claims = [{"path": list(path)} for path in AEO_CLAIMS]
    meta = {"type_values": _type_values(AEO_CERTIFICATE_TYPE)}
    return {
        "credentials": [
            {"id": "aeo_sd_jwt", "format": VC_SD_JWT, "meta": meta, "claims": claims},
            {"id": "aeo_jwt", "format": JWT_VC_JSON, "meta": meta, "claims": claims},
        ],
        "credential_sets": [{"options": [["aeo_sd_jwt"], ["aeo_jwt"]]}],
    }


def billing_attestation_query(claims: Sequence[ClaimPath]) -> dict[str, Any]:
    """A DCQL query for an export billing attestation revealing only ``claims`` (SD-JWT)."""
    if not claims:
        raise UsageError("ask for at least one claim of the billing attestation")
    return {
        "credentials": [
            {
                "id": "billing",
                "format": VC_SD_JWT,
                "meta": {"type_values": _type_values(EXPORT_BILLING_TYPE)},
                # a path that is no array stays as it is: check_dcql refuses it, located
                "claims": [
                    {"path": list(path) if isinstance(path, list | tuple) else path}
                    for path in claims
                ],
            }
        ]
    }


def check_dcql(query: Any) -> None:
    """Raises MalformedError (with a pointer) unless ``query`` is a DCQL query this module
    handles (§6.1–§6.3, formats of FORMATS).

    Every member this module reads is checked for its type here (a Request Object's query is
    the Verifier's, read by the Wallet; a wrong type was a TypeError out of the Wallet).
    """
    if not isinstance(query, dict) or not isinstance(query.get("credentials"), list):
        raise MalformedError("a DCQL query has a credentials array", pointer="/credentials")
    if not query["credentials"]:
        raise MalformedError("credentials must not be empty", pointer="/credentials")
    ids: set[str] = set()
    for i, entry in enumerate(query["credentials"]):
        where = f"/credentials/{i}"
        if not isinstance(entry, dict):
            raise MalformedError("a Credential Query is an object", pointer=where)
        cid = entry.get("id")
        if not isinstance(cid, str) or not _ID.fullmatch(cid) or cid in ids:
            raise MalformedError("id: unique, alphanumeric, _ or -", pointer=where + "/id")
        ids.add(cid)
        if not isinstance(entry.get("format"), str) or entry["format"] not in FORMATS:
            raise UnsupportedError(
                f"format {str(entry.get('format'))[:40]!r} is not requested here",
                pointer=where + "/format",
            )
        _check_meta(entry.get("meta"), where + "/meta")
        if "trusted_authorities" in entry:
            _check_trusted_authorities(entry["trusted_authorities"], where + "/trusted_authorities")
        if not isinstance(entry.get("multiple", False), bool):  # §6.1
            raise MalformedError("multiple is a boolean", pointer=where + "/multiple")
        if not isinstance(entry.get(HOLDER_BINDING, True), bool):  # §6.1
            raise MalformedError(
                f"{HOLDER_BINDING} is a boolean", pointer=f"{where}/{HOLDER_BINDING}"
            )
        claims = entry.get("claims", [])
        if not isinstance(claims, list) or ("claims" in entry and not claims):  # §6.1
            raise MalformedError("claims is a non-empty array", pointer=where + "/claims")
        for j, claim in enumerate(claims):
            path = claim.get("path") if isinstance(claim, dict) else None
            if not _is_claim_path(path):
                raise MalformedError(
                    "a claims path pointer is a non-empty array of strings, null and indexes",
                    pointer=f"{where}/claims/{j}/path",
                )
            claim_id = claim.get("id")
            if claim_id is not None and not (isinstance(claim_id, str) and _ID.fullmatch(claim_id)):
                raise MalformedError(  # §6.3
                    "a claim's id: alphanumeric, _ or -", pointer=f"{where}/claims/{j}/id"
                )
            if "values" in claim:
                check_claim_values(claim["values"], pointer=f"{where}/claims/{j}/values")
        _check_claim_sets(entry, where)
    sets = query.get("credential_sets", [])
    if not isinstance(sets, list) or ("credential_sets" in query and not sets):  # §6.1
        raise MalformedError("credential_sets is a non-empty array", pointer="/credential_sets")
    for i, entry in enumerate(sets):
        options = entry.get("options") if isinstance(entry, dict) else None
        if not _ids_options(options, ids):
            raise MalformedError(
                "options: non-empty lists of Credential Query ids",
                pointer=f"/credential_sets/{i}/options",
            )
        if not isinstance(entry.get("required", True), bool):  # §6.2
            raise MalformedError("required is a boolean", pointer=f"/credential_sets/{i}/required")


def _check_meta(meta: Any, where: str) -> None:
    """``meta`` (§6.1, required) and the members of it this module reads: ``type_values``,
    arrays of type IRIs (§B.1.1); ``vct_values``, strings (§B.3.5)."""
    if not isinstance(meta, dict):
        raise MalformedError("meta is a required object", pointer=where)
    types = meta.get("type_values", [])
    if not isinstance(types, list) or not all(
        isinstance(option, list) and all(isinstance(t, str) for t in option) for option in types
    ):
        raise MalformedError(
            "type_values is an array of arrays of strings", pointer=where + "/type_values"
        )
    vcts = meta.get("vct_values", [])
    if not isinstance(vcts, list) or not all(isinstance(v, str) for v in vcts):
        raise MalformedError("vct_values is an array of strings", pointer=where + "/vct_values")


def check_claim_values(values: Any, *, pointer: str) -> None:
    """A claims query's ``values`` (§6.3): a non-empty array of strings, integers or booleans
    (no other number, no null, array or object). Raises MalformedError at ``pointer``."""
    if (
        not isinstance(values, list)
        or not values
        or not all(isinstance(v, str | int) for v in values)  # a bool is an int
    ):
        raise MalformedError(
            "values is a non-empty array of strings, integers and booleans", pointer=pointer
        )


def _check_trusted_authorities(authorities: Any, where: str) -> None:
    """§6.1.1: a non-empty array of objects, each a ``type`` string and ``values``, a
    non-empty array of strings."""
    if not isinstance(authorities, list) or not authorities:
        raise MalformedError("trusted_authorities is a non-empty array", pointer=where)
    for i, authority in enumerate(authorities):
        if not isinstance(authority, dict) or not isinstance(authority.get("type"), str):
            raise MalformedError(
                "a Trusted Authorities Query is an object with a type string",
                pointer=f"{where}/{i}/type" if isinstance(authority, dict) else f"{where}/{i}",
            )
        values = authority.get("values")
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            raise MalformedError(
                "a Trusted Authorities Query's values are a non-empty array of strings",
                pointer=f"{where}/{i}/values",
            )


#: Why each type of §6.1.1 is not evaluated.
_UNEVALUATED: Final = {
    "aki": "vcred's credentials carry no X.509 chain (x5c is refused)",
    "etsi_tl": "no ETSI trusted list is read",
    "openid_federation": "no OpenID Federation trust chain is built",
}


def refuse_trusted_authorities(authorities: Any, *, pointer: str = "") -> NoReturn:
    """The verifier evaluates no ``trusted_authorities`` type (§6.1.1), so it refuses a
    query carrying them rather than ignore them: ``aki`` names an X.509 certificate in the
    Credential's chain (vcred's credentials are signed by DIDs; ``x5c`` is refused),
    ``etsi_tl`` an ETSI TS 119 612 list and ``openid_federation`` a Trust Anchor (vcred reads
    neither); any other type is defined by no specification vcred implements. The issuer is
    the trust list's decision (``vcred.trust``) on every Presentation all the same.

    Raises MalformedError (the query's shape), else UnsupportedError naming each type (its
    pointer at the first).
    """
    _check_trusted_authorities(authorities, pointer)
    kinds = list(dict.fromkeys(authority["type"] for authority in authorities))
    reasons = "; ".join(
        f"{kind[:40]!r}: {_UNEVALUATED.get(kind, 'a type no specification vcred implements')}"
        for kind in kinds[:5]
    )
    raise UnsupportedError(
        f"this verifier evaluates no trusted_authorities type ({reasons}); which issuers are "
        "trusted is its trust list's decision",
        pointer=f"{pointer}/0/type",
    )


def refuse_unbound(*, pointer: str = "") -> NoReturn:
    """The verifier does not ask for a Credential without Cryptographic Holder Binding.

    §6.1: "``require_cryptographic_holder_binding``: OPTIONAL. A boolean which indicates
    whether the Verifier requires a Cryptographic Holder Binding proof. The default value is
    ``true``, i.e., a Verifiable Presentation with Cryptographic Holder Binding is required.
    If set to ``false``, the Verifier accepts a Credential without Cryptographic Holder
    Binding proof." §5.3: "A Verifier that requests and accepts a Presentation of a
    Credential without a proof of Holder Binding accepts that the presented Credential may
    have been replayed." A trader's AEO certificate or billing attestation shown without its
    holder's key is a bearer token: whoever saw it once could show it again. vcred's verifier
    accepts none (:func:`check_presented`), so it does not ask for one (a wallet taking it at
    its word would send what is then refused).

    Raises UnsupportedError at ``pointer``.
    https://openid.net/specs/openid-4-verifiable-presentations-1_0.html#section-6.1
    """
    raise UnsupportedError(
        f"{HOLDER_BINDING} false is not asked by this verifier: every Presentation must be "
        "bound to its holder's key, the nonce and the client id (a credential shown without "
        "it may be a replay)",
        pointer=pointer,
    )


def check_evaluable(query: Mapping[str, Any]) -> None:
    """Raises UnsupportedError for what :func:`check_presented` cannot evaluate in a DCQL
    query :func:`check_dcql` accepted: ``trusted_authorities`` of any type (see
    :func:`refuse_trusted_authorities`), and ``require_cryptographic_holder_binding`` false
    (:func:`refuse_unbound`: every Presentation must be bound). What a verifier asks, it
    checks, or does not ask."""
    for i, entry in enumerate(query["credentials"]):
        if "trusted_authorities" in entry:
            refuse_trusted_authorities(
                entry["trusted_authorities"], pointer=f"/credentials/{i}/trusted_authorities"
            )
        if entry.get(HOLDER_BINDING, True) is False:
            refuse_unbound(pointer=f"/credentials/{i}/{HOLDER_BINDING}")


def _ids_options(options: Any, ids: Collection[str]) -> bool:
    """Whether ``options`` is a non-empty array of non-empty arrays of ``ids`` members."""
    return (
        isinstance(options, list)
        and bool(options)
        and all(
            isinstance(option, list)
            and bool(option)
            and all(isinstance(x, str) and x in ids for x in option)
            for option in options
        )
    )


def _check_claim_sets(entry: Mapping[str, Any], where: str) -> None:
    """§6.4.1: ``claim_sets`` are non-empty arrays of the ids of the entry's ``claims``."""
    if "claim_sets" not in entry:
        return
    claims = entry.get("claims", [])
    ids = [c.get("id") for c in claims]  # checked: objects whose id is a string or absent
    named = [i for i in ids if i is not None]
    if not _ids_options(entry["claim_sets"], named) or len(set(named)) != len(ids):
        raise MalformedError(
            "claim_sets: non-empty arrays of the ids of the claims (each named once)",
            pointer=f"{where}/claim_sets",
        )


def _is_claim_path(path: Any) -> bool:
    return (
        isinstance(path, list)
        and bool(path)
        and all(
            p is None
            or isinstance(p, str)
            or (isinstance(p, int) and not isinstance(p, bool) and p >= 0)
            for p in path
        )
    )


def select_claims(document: Any, path: ClaimPath) -> list[Any]:
    """The claims a claims path pointer selects (§7.1.1); empty when it selects none.

    Raises MalformedError where the path meets a value of the wrong kind.
    """
    return [value for _, value in _select_located(document, path)]


def selected_claims(document: Any, path: ClaimPath) -> list[Any]:
    """:func:`select_claims`, a path meeting a value of the wrong kind selecting none (as
    §7.1.1 processing "abort[s] … and return[s] an error": no claim answers there)."""
    try:
        return select_claims(document, path)
    except MalformedError:
        return []


def _select_located(document: Any, path: ClaimPath) -> list[tuple[tuple[str | int, ...], Any]]:
    """Each claim a claims path pointer selects (§7.1.1) with its concrete path (a null
    component made the index of each element). Raises MalformedError as select_claims."""
    selected: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    for component in path:
        following: list[tuple[tuple[str | int, ...], Any]] = []
        for where, node in selected:
            if isinstance(component, str):
                if not isinstance(node, dict):
                    raise MalformedError(f"{component!r} is looked up in a non-object")
                if component in node:
                    following.append(((*where, component), node[component]))
            elif component is None:
                if not isinstance(node, list):
                    raise MalformedError("null selects the elements of a non-array")
                following.extend(((*where, i), item) for i, item in enumerate(node))
            else:
                if not isinstance(node, list):
                    raise MalformedError(f"index {component} of a non-array")
                if component < len(node):
                    following.append(((*where, component), node[component]))
        selected = following
    return selected


# -- the request (§5) ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationRequest:
    """What the verifier asks: the Request Object's parameters (§5.1, §5.2, §8.2)."""

    client_id: str
    response_uri: str
    nonce: str
    state: str
    dcql_query: Mapping[str, Any]
    client_metadata: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def new(
        cls, *, did: str, response_uri: str, dcql_query: Mapping[str, Any]
    ) -> AuthorizationRequest:
        """A request with a fresh nonce and state (each 256 random bits), for a query the
        verifier can check a response against (:func:`check_dcql`, :func:`check_evaluable`)."""
        check_dcql(dcql_query)
        check_evaluable(dcql_query)
        return cls(
            client_id=DID_PREFIX + did,
            response_uri=response_uri,
            nonce=secrets.token_urlsafe(32),
            state=secrets.token_urlsafe(32),
            dcql_query=dcql_query,
            client_metadata={"vp_formats_supported": vp_formats_supported()},
        )

    def claims(self) -> dict[str, Any]:
        return {
            "response_type": "vp_token",
            "response_mode": "direct_post",
            "client_id": self.client_id,
            "response_uri": self.response_uri,
            "nonce": self.nonce,
            "state": self.state,
            "dcql_query": dict(self.dcql_query),
            "client_metadata": dict(self.client_metadata),
        }


def vp_formats_supported() -> dict[str, Any]:
    """The verifier's ``vp_formats_supported`` (§11.1): the algorithms vcred verifies."""
    algs = ["EdDSA", "ES256", "ES384", "ES512"]
    return {
        VC_SD_JWT: {"sd-jwt_alg_values": algs, "kb-jwt_alg_values": algs},
        DC_SD_JWT: {"sd-jwt_alg_values": algs, "kb-jwt_alg_values": algs},
        JWT_VC_JSON: {"alg_values": algs},
    }


def sign_request(
    request: AuthorizationRequest,
    signer: Signer,
    *,
    now: datetime,
    lifetime: timedelta = REQUEST_LIFETIME,
) -> str:
    """The signed Request Object (§5, JAR): ``typ`` oauth-authz-req+jwt, ``kid`` a method of
    the client's DID (§5.9.3), ``aud`` the static one (§5.8), ``iat`` and ``exp``."""
    did = request.client_id.removeprefix(DID_PREFIX)
    if not request.client_id.startswith(DID_PREFIX) or split_did_url(signer.key_id)[0] != did:
        raise UsageError("the request is signed with a key of the client's DID")
    issued = int(now.timestamp())
    payload = {
        **request.claims(),
        "aud": STATIC_AUDIENCE,
        "iat": issued,
        "exp": issued + int(lifetime.total_seconds()),
    }
    return jose.sign_compact(payload, signer, typ=REQUEST_TYP)


def read_request(
    token: str, *, resolver: Resolver, now: datetime, wallet_issuer: str | None = None
) -> AuthorizationRequest:
    """The holder's view of a signed Request Object, verified (§5, §5.9.3).

    Its ``typ`` must be oauth-authz-req+jwt, its Client Identifier a DID with the
    ``decentralized_identifier`` prefix, and its signature by the method ``kid`` names, which
    that DID authorises for authentication; it must be unexpired (``exp``), not issued ahead
    of ``now`` by more than :data:`CLOCK_SKEW` (``iat``, when present), for this Wallet
    (``aud``, when present: :func:`check_request_audience`), for ``direct_post`` with a
    ``response_uri``, a nonce and a DCQL query.
    Raises MalformedError, DomainError, UnsupportedError, UnknownKeyError, CryptographicError,
    ResolutionError.
    """
    payload = jose.unverified_payload(token)
    client_id = payload.get("client_id")
    if not isinstance(client_id, str) or not client_id.startswith(DID_PREFIX):
        raise UnsupportedError(
            "only the decentralized_identifier client id prefix is supported",
            pointer="/payload/client_id",
        )
    did = client_id.removeprefix(DID_PREFIX)
    if not is_did(did):
        raise MalformedError("the client id is not a DID", pointer="/payload/client_id")
    verified = jose.verify_compact(
        token,
        typs=frozenset({REQUEST_TYP}),
        ctys=frozenset({None}),
        controller=lambda _: did,
        lookup=lambda method_id, relationship: resolver.resolve_method(
            method_id, relationship=relationship
        ),
        relationship="authentication",
    )
    claims = verified.payload
    if jose.numeric_date(claims.get("exp"), pointer="/payload/exp") <= now:
        raise MalformedError("the request object has expired", pointer="/payload/exp")
    # RFC 9101 §10.2 leaves iat optional; one ahead of the clock is a request minted for later
    if "iat" in claims and jose.numeric_date(claims["iat"], pointer="/payload/iat") > (
        now + CLOCK_SKEW
    ):
        raise MalformedError("the request object is issued in the future", pointer="/payload/iat")
    check_request_audience(claims, wallet_issuer=wallet_issuer)
    for name, expected in (("response_type", "vp_token"), ("response_mode", "direct_post")):
        if claims.get(name) != expected:
            raise UnsupportedError(f"{name} must be {expected}", pointer=f"/payload/{name}")
    for name in ("response_uri", "nonce", "state"):
        if not isinstance(claims.get(name), str) or not claims[name]:
            raise MalformedError(f"the request has no {name}", pointer=f"/payload/{name}")
    if "redirect_uri" in claims:  # §8.2: with direct_post, invalid_request
        raise MalformedError("redirect_uri is not allowed with direct_post", pointer="/payload")
    check_dcql(claims.get("dcql_query"))
    return AuthorizationRequest(
        client_id=client_id,
        response_uri=claims["response_uri"],
        nonce=claims["nonce"],
        state=claims["state"],
        dcql_query=claims["dcql_query"],
        client_metadata=claims.get("client_metadata") or {},
    )


def check_request_audience(claims: Mapping[str, Any], *, wallet_issuer: str | None = None) -> None:
    """A Request Object's ``aud`` must name this Wallet (§5.8): the static
    ``https://self-issued.me/v2``, or ``wallet_issuer`` — the Wallet's issuer identifier,
    when it published metadata a Verifier discovered. RFC 7519 §4.1.3: a JWT whose ``aud``
    (a string or an array of them) does not name its reader is rejected; RFC 9101 makes
    ``aud`` a SHOULD, so a Request Object without one is read.
    Raises DomainError (another audience), MalformedError (not a string or strings).

    https://openid.net/specs/openid-4-verifiable-presentations-1_0.html#section-5.8
    """
    if "aud" not in claims:
        return
    aud = claims["aud"]
    named = [aud] if isinstance(aud, str) else aud
    if not isinstance(named, list) or not all(isinstance(item, str) for item in named):
        raise MalformedError("aud must be a string or an array of strings", pointer="/payload/aud")
    ours = {STATIC_AUDIENCE} if wallet_issuer is None else {STATIC_AUDIENCE, wallet_issuer}
    if ours.isdisjoint(named):
        raise DomainError(
            "the request object is for another audience: its aud must name "
            + " or ".join(sorted(ours)),
            pointer="/payload/aud",
        )


# -- the holder's answer -------------------------------------------------------------------------


def answer(
    request: AuthorizationRequest,
    held: Sequence[str],
    holder: KeyPair | Signer,
    *,
    now: datetime | None = None,
) -> dict[str, str]:
    """The direct_post form (§8.2): ``vp_token`` and ``state``, presenting from ``held``
    (compact vc+jwt and vc+sd-jwt credentials) what the DCQL query asks, with only the
    claims it names disclosed, bound to the nonce and the client id.

    Every Presentation is bound to the holder's key, whatever a Credential Query's
    ``require_cryptographic_holder_binding`` says (:func:`_binds`): an SD-JWT always with its
    key-binding JWT; a ``jwt_vc_json`` query that asks for none is not answered.

    Raises UsageError when the query cannot be satisfied from ``held``.
    """
    query = request.dcql_query
    found: dict[str, str] = {}
    unbound: list[str] = []
    for entry in query["credentials"]:
        if not _binds(entry):
            unbound.append(entry["id"])
            continue
        credential = next((c for c in held if _matches_query(c, entry)), None)
        if credential is not None:
            found[entry["id"]] = credential
    chosen = _chosen_ids(query, set(found))
    if chosen is None:
        if unbound:
            raise UsageError(
                f"no held credential satisfies the query: {', '.join(unbound)[:200]} ask "
                f"({HOLDER_BINDING} false) for a jwt_vc_json credential without holder "
                "binding, which this wallet does not hand out"
            )
        raise UsageError("no held credential satisfies the query")
    vp_token: dict[str, list[Any]] = {}
    for entry in query["credentials"]:
        if entry["id"] not in chosen:
            continue
        vp_token[entry["id"]] = [_presentation(found[entry["id"]], entry, holder, request, now)]
    return {"vp_token": json.dumps(vp_token), "state": request.state}


def _binds(entry: Mapping[str, Any]) -> bool:
    """Whether the wallet answers a Credential Query with a Presentation bound to its key.

    With ``require_cryptographic_holder_binding`` true (the default) it must (§6.1). With
    false, an SD-JWT is bound all the same — §B.3: "If
    ``require_cryptographic_holder_binding`` is set to ``false``, an SD-JWT without the Key
    Binding JWT MAY be returned" — but for W3C credentials §B.1 leaves no choice: "If
    ``require_cryptographic_holder_binding`` is set to ``true`` in the Credential Query, the
    Wallet MUST return a Verifiable Presentation of a Verifiable Credential. Otherwise, a
    Verifiable Credential without Holder Binding MUST be returned." The bare credential is a
    bearer token for whoever receives it, so a ``jwt_vc_json`` query asking for it is not
    answered (as if no credential matched it, §6.4.2).

    https://openid.net/specs/openid-4-verifiable-presentations-1_0.html#appendix-B.1
    """
    return entry.get(HOLDER_BINDING, True) is not False or entry["format"] != JWT_VC_JSON


def _chosen_ids(query: Mapping[str, Any], available: set[str]) -> set[str] | None:
    """The Credential Query ids to answer: the first satisfiable option of every set (§6.3);
    without sets, every query."""
    sets = query.get("credential_sets")
    if not sets:
        wanted = {entry["id"] for entry in query["credentials"]}
        return wanted if wanted <= available else None
    chosen: set[str] = set()
    for entry in sets:
        option = next((set(o) for o in entry["options"] if set(o) <= available), None)
        if option is None:
            if entry.get("required", True):
                return None
            continue
        chosen |= option
    return chosen


def _one_option_each(query: Mapping[str, Any], answered: set[str]) -> bool:
    """Whether the Credential Queries ``answered`` are one option of each required credential
    set and at most one of each other (§6.4.2): Credentials of a second option — a second
    certificate, perhaps of another tier — are more than was asked. Without sets, every
    Credential Query is asked for."""
    sets = query.get("credential_sets")
    if not sets:
        return answered == {entry["id"] for entry in query["credentials"]}
    # the unions one option of each set so far can make, of options inside ``answered`` only
    # (one outside it cannot be part of the answer): at most 2^len(answered) of them, where
    # every combination of the options would be exponential in the number of sets
    reachable: set[frozenset[str]] = {frozenset()}
    for entry in sets:
        options = {frozenset(option) for option in entry["options"]}
        inside = {option for option in options if option <= answered}
        if not entry.get("required", True):
            inside.add(frozenset())
        reachable = {union | option for union in reachable for option in inside}
        if not reachable:
            return False
    return frozenset(answered) in reachable


def _matches_query(credential: str, entry: Mapping[str, Any]) -> bool:
    """Whether a held credential answers a Credential Query, as far as its holder tells
    before presenting: its format and type, and the claims asked, each present and of a
    value asked where ``values`` are listed (:func:`_delivers`)."""
    fmt = entry["format"]
    try:
        if "~" in credential:
            token = sdjwt.parse(credential).jwt
            typ = jose.unverified_header(token).get("typ")
            payload = jose.unverified_payload(token)
            if fmt == VC_SD_JWT and typ == sdjwt.VC_SD_JWT:
                of_type = _has_types(payload, entry["meta"])
            elif fmt == DC_SD_JWT and typ == sdjwt.DC_SD_JWT:
                of_type = payload.get("vct") in entry["meta"].get("vct_values", [])
            else:
                return False
            return of_type and _delivers(sdjwt.unverified_claims(credential), entry)
        if fmt == JWT_VC_JSON and credential.count(".") == 2:
            payload = jose.unverified_payload(credential)
            return _has_types(payload, entry["meta"]) and _delivers(payload, entry)
    except (MalformedError, CryptographicError):
        return False
    return False


def _delivers(document: Mapping[str, Any], entry: Mapping[str, Any]) -> bool:
    """Whether a held credential can deliver the claims a Credential Query asks (§6.4.1):
    every claim listed, or with ``claim_sets`` every claim of one option — each present and,
    where ``values`` are listed, of one of them (a claim of another value is as one it
    lacks). Without ``claim_sets`` "the Verifier requests all claims listed in claims"; with
    them, "if the Wallet cannot satisfy any of the options, it MUST NOT return any claims".
    A credential that cannot deliver them does not answer the query, and is not presented:
    the verifier learns neither a value it did not ask nor what is missing.
    """
    claims = entry.get("claims", [])
    delivered = [
        bool(selected_claims(document, claim["path"])) and not _of_another_value(document, claim)
        for claim in claims
    ]
    sets = entry.get("claim_sets")
    if not sets:
        return all(delivered)
    by_id = {claim.get("id"): ok for claim, ok in zip(claims, delivered, strict=True)}
    return any(all(by_id[name] for name in option) for option in sets)


def _presentation(
    credential: str,
    entry: Mapping[str, Any],
    holder: KeyPair | Signer,
    request: AuthorizationRequest,
    now: datetime | None,
) -> Any:
    if "~" in credential:
        return sdjwt.present(
            credential,
            holder,
            disclose=_requested(credential, entry, holder),
            nonce=request.nonce,
            aud=request.client_id,
            now=now,
        )
    return present([credential], holder, challenge=request.nonce, domain=request.client_id, now=now)


def _requested(credential: str, entry: Mapping[str, Any], holder: KeyPair | Signer) -> list[str]:
    """The pointers of the claims to disclose: those the Credential Query names that the
    credential has, of a value asked where ``values`` are listed — with ``claim_sets``, those
    of the first option it has all of (§6.4.1: one option, not every claim listed; none when
    no option is satisfied). With ``values``, only the claims selected that match
    (:func:`_disclosed_for`)."""
    claims = entry.get("claims", [])
    document = sdjwt.unverified_claims(credential)
    usable = [
        _names_a_claim(credential, _pointer(claim["path"]), holder)
        and not _of_another_value(document, claim)
        for claim in claims
    ]
    sets = entry.get("claim_sets")
    if not sets:
        chosen = [claim for claim, ok in zip(claims, usable, strict=True) if ok]
    else:
        by_id = {claim.get("id"): (claim, ok) for claim, ok in zip(claims, usable, strict=True)}
        option: list[str] = next((o for o in sets if all(by_id[name][1] for name in o)), [])
        chosen = [by_id[name][0] for name in option]
    return [pointer for claim in chosen for pointer in _disclosed_for(document, claim)]


def _disclosed_for(document: Mapping[str, Any], claim: Mapping[str, Any]) -> list[str]:
    """The pointers disclosing a claims query the credential answers: its path (a null
    component: every element), or with ``values`` the claims it selects that match one of
    them, each at its own index — the others are claims of a value not asked.

    §6.3: "If the ``values`` property is present, the Wallet SHOULD return the claim only if
    the type and value of the claim both match exactly for at least one of the elements in
    the array"; §6.4.1: such a claim "should be treated the same as if it did not exist in
    the Credential", and "Wallets MUST NOT send selectively disclosable claims that have not
    been selected". A null component selects each element of an array (§7.1.1), so each is a
    claim of its own: asked which line item is "Monitors", the wallet discloses that line's
    description, not every line's. The verifier's check (:func:`check_credential`) needs
    one selected claim of a value asked, which it then has.

    Only an SD-JWT discloses claim by claim, and only where the issuer made each one
    disclosable: an element that is always visible is shown whatever is asked, and a
    ``jwt_vc_json`` credential shows every claim it has.
    """
    if "values" not in claim:
        return [_pointer(claim["path"])]
    return [
        from_path(where)
        for where, value in _select_located(document, claim["path"])
        if matches_values(value, claim["values"])
    ]


def _names_a_claim(credential: str, pointer: str, holder: KeyPair | Signer) -> bool:
    """Whether the credential has the claim (else the verifier learns it is missing)."""
    try:
        sdjwt.present(credential, holder, disclose=[pointer], nonce="probe", aud="probe")
    except UsageError:
        return False
    return True


def _pointer(path: ClaimPath) -> str:
    return "".join(
        "/*" if p is None else "/" + str(p).replace("~", "~0").replace("/", "~1") for p in path
    )


# -- the verifier's side of the response --------------------------------------------------------


def read_vp_token(raw: Any, query: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The VP Token of a direct_post response, checked against the query (§8.1, §8.6 step 1):
    a JSON object of Credential Query ids (no other), each an array of Presentations (one
    unless ``multiple``), together satisfying the query's credential sets, each by one option.

    Raises MalformedError / PresentationError.
    """
    if not isinstance(raw, str) or not raw:
        raise MalformedError("the response has no vp_token", pointer="/vp_token")
    token = jose.loads_strict(raw, what="vp_token", pointer="/vp_token")
    if not isinstance(token, dict) or not token:
        raise MalformedError("vp_token is a non-empty JSON object", pointer="/vp_token")
    model.check_depth(token)
    queries = {entry["id"]: entry for entry in query["credentials"]}
    for cid, presentations in token.items():
        where = f"/vp_token/{cid}"
        if cid not in queries:
            raise PresentationError(
                f"{cid[:60]!r} is no Credential Query of the request", pointer=where
            )
        if not isinstance(presentations, list) or not presentations:
            raise MalformedError("each entry is a non-empty array of Presentations", pointer=where)
        if len(presentations) > 1 and not queries[cid].get("multiple", False):
            raise PresentationError("one Presentation was asked for, not several", pointer=where)
        for i, presentation in enumerate(presentations):
            if not isinstance(presentation, str | dict):  # §8.1: a string or an object
                raise MalformedError(
                    "a Presentation is a string or an object", pointer=f"{where}/{i}"
                )
    if _chosen_ids(query, set(token)) is None:
        raise PresentationError("the Presentations do not satisfy the query", pointer="/vp_token")
    if not _one_option_each(query, set(token)):
        raise PresentationError(
            "the Presentations answer more than one option of a credential set",
            pointer="/vp_token",
        )
    return token


def check_presented(result: PresentationResult, entry: Mapping[str, Any]) -> None:
    """A verified Presentation against its Credential Query: in the format the query asked for
    (§6.1: ``format`` names the format of what is presented), presenting at least one
    credential (a Presentation of nothing answers no query, §8.6) and only one unless the
    query allows ``multiple``, each of that format and as :func:`check_credential`.

    Whatever the query's ``require_cryptographic_holder_binding`` says, the Presentation must
    have Cryptographic Holder Binding (:func:`unbound_because`): false is never honoured
    (:func:`refuse_unbound`), and a bound Presentation answers a query asking false too.

    Raises PresentationError, its pointer into the presentation.
    """
    if "trusted_authorities" in entry:  # fail closed: asked for, never evaluated
        try:
            refuse_trusted_authorities(entry["trusted_authorities"])
        except VcredError as error:
            raise PresentationError(error.message) from error
    why = unbound_because(result)
    if why is not None:
        raise PresentationError(f"the Presentation has no cryptographic holder binding: {why}")
    presentation_format, credential_format = PRESENTED_AS[entry["format"]]
    if result.format != presentation_format:
        raise PresentationError(
            f"the Credential Query asks for {entry['format']}, presented as {result.format}"
        )
    if not result.credentials:
        raise PresentationError(
            "the Presentation presents no credential", pointer="/verifiableCredential"
        )
    # §6.1 multiple (default false): one Credential answers the query, however it is wrapped
    if len(result.credentials) > 1 and not entry.get("multiple", False):
        raise PresentationError(
            "the Credential Query asks for one credential, not several",
            pointer="/verifiableCredential",
        )
    for i, credential in enumerate(result.credentials):
        where = f"/verifiableCredential/{i}"
        if credential.format != credential_format:
            raise PresentationError(
                f"the Credential Query asks for {entry['format']}, not {credential.format}",
                pointer=where,
            )
        try:
            check_credential(credential.credential or {}, entry)
        except PresentationError as error:
            raise PresentationError(error.message, pointer=where + (error.pointer or "")) from error


#: The checks of Verifier.verify_presentation that together are holder binding (§14.1.2):
#: the nonce and the client id signed by a key, every credential bound to that key's owner.
_BINDING_CHECKS: Final = ("challenge", "domain", "holder")


def unbound_because(result: PresentationResult) -> str | None:
    """Why a verified Presentation lacks Cryptographic Holder Binding, or None when it has it:
    a holder's key signed it (``holder``), over the request's nonce (``challenge``) and the
    Client Identifier (``domain``), and every credential in it is bound to that holder
    (``holder`` check). §8.6 steps 2.3 and 2.4: "Validate that all Presentations contain a
    cryptographic proof of Holder Binding (i.e., that they are Verifiable Presentations),
    unless specifically requested otherwise" — this verifier never requests otherwise — and
    "For Verifiable Presentations, validate the Holder Binding, including the checks required
    to prevent replay". A Verifier that was not given the nonce, or that takes a key-less
    SD-JWT (``require_key_binding=False``), can pass a Presentation without it: this catches
    it here, whatever the query says.

    A credential of one of the Verifier's configured ``bearer_types`` passes its ``holder``
    check unbound: the operator's explicit choice (the customs types are never bearer).
    """
    if result.holder is None:
        return "no holder's key signed it"
    for name in _BINDING_CHECKS:
        check = result.check(name)
        if check is None or check.passed is not True:
            return f"its {name} was not verified"
    return None


def check_credential(credential: Mapping[str, Any], entry: Mapping[str, Any]) -> None:
    """A verified, presented credential against its Credential Query (§8.6 step 2.2): its
    types (``type_values`` / ``vct_values``) and every claim asked for, present and, where
    the claims query lists ``values``, of one of them (§6.3, :func:`matches_values`; §6.4.1:
    a claim of another value is as one the credential does not have); with ``claim_sets``,
    every claim of one option.

    Raises PresentationError naming the first claim that does not answer.
    """
    meta = entry.get("meta", {})
    if entry.get("format") == DC_SD_JWT:
        if credential.get("vct") not in meta.get("vct_values", []):
            raise PresentationError("the credential is not of a requested vct", pointer="/vct")
    elif not _has_types(credential, meta):
        raise PresentationError("the credential is not of a requested type", pointer="/type")
    claims = entry.get("claims", [])
    unanswered = [(claim, why) for claim in claims if (why := _unanswered(credential, claim))]
    sets = entry.get("claim_sets")
    if sets:  # §6.4.1: every claim of one option
        absent = {claim.get("id") for claim, _ in unanswered}
        if any(not absent & set(option) for option in sets):
            return
    if unanswered:
        claim, why = unanswered[0]
        raise PresentationError(
            f"the claim {json.dumps(claim['path'])} {why}", pointer=_pointer(claim["path"])
        )


def _unanswered(credential: Mapping[str, Any], claim: Mapping[str, Any]) -> str | None:
    """Why the credential does not answer a claims query, or None when it does."""
    if not selected_claims(credential, claim["path"]):
        return "is not presented"
    if _of_another_value(credential, claim):
        return "is presented with a value the query does not ask for"
    return None


def _of_another_value(credential: Mapping[str, Any], claim: Mapping[str, Any]) -> bool:
    """Whether the credential has the claim, and none of what it selects is of the claims
    query's ``values`` (False without ``values``)."""
    if "values" not in claim:
        return False
    selected = selected_claims(credential, claim["path"])
    return bool(selected) and not any(matches_values(v, claim["values"]) for v in selected)


def matches_values(claim: Any, values: Sequence[Any]) -> bool:
    """Whether a claim's value is one of a claims query's ``values`` (§6.3): "the type and
    value of the claim both match exactly" — a string only a string, a boolean only a
    boolean, a number only a number of that value (``1`` is neither ``"1"`` nor ``true``;
    JSON has one number type, so ``1.0`` is ``1``). An array or object matches nothing.

    https://openid.net/specs/openid-4-verifiable-presentations-1_0.html#section-6.3
    """
    return any(_same_value(claim, wanted) for wanted in values)


def _same_value(claim: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool) or isinstance(claim, bool):
        return isinstance(wanted, bool) and isinstance(claim, bool) and claim == wanted
    if isinstance(wanted, int):
        return isinstance(claim, int | float) and claim == wanted
    return isinstance(wanted, str) and isinstance(claim, str) and claim == wanted


def _has_types(credential: Mapping[str, Any], meta: Mapping[str, Any]) -> bool:
    """W3C ``type_values`` (§B.1.1): one alternative's expanded types all present."""
    present_types = _expanded_types(credential)
    alternatives = meta.get("type_values", [])
    return any(isinstance(a, list) and set(a) <= present_types for a in alternatives)


def _expanded_types(credential: Mapping[str, Any]) -> set[str]:
    """The credential's types as IRIs under the contexts vcred's credentials use (the base
    context and the customs one); any other term stays relative, as §B.1.1 allows."""
    contexts = model.as_list(credential.get("@context"))
    found: set[str] = set()
    for name in model.as_list(credential.get("type")):
        if not isinstance(name, str):
            continue
        if name == "VerifiableCredential" and _VC_V2 in contexts:
            found.add(_VC_IRI)
        elif name in (AEO_CERTIFICATE_TYPE, EXPORT_BILLING_TYPE) and CUSTOMS_CONTEXT in contexts:
            found.add(_CUSTOMS_IRI + name)
        else:
            found.add(name)
    return found
