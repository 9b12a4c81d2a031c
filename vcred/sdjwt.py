"""Selective disclosure: SD-JWT (RFC 9901), ``application/vc+sd-jwt`` and SD-JWT VC.

- RFC 9901, Selective Disclosure for JSON Web Tokens: https://www.rfc-editor.org/rfc/rfc9901
- W3C VC-JOSE-COSE §3.2.1, Securing JSON-LD Verifiable Credentials with SD-JWT
  (``typ`` ``vc+sd-jwt``, ``cty`` ``vc``; the unsecured credential is the input claim set):
  https://www.w3.org/TR/vc-jose-cose/#securing-with-sd-jwt
- IETF SD-JWT-based Verifiable Credentials (``typ`` ``dc+sd-jwt``, ``vct``, ``iss``), verified
  only: https://datatracker.ietf.org/doc/draft-ietf-oauth-sd-jwt-vc/

The issuer chooses which claims are disclosable with paths: JSON Pointers (RFC 6901) in which
a ``*`` token stands for every element of an array (``/credentialSubject/lineItems/*/unitPrice``),
or the equivalent RFC 9535 JSONPath subset (``$.credentialSubject.lineItems[*].unitPrice``).
Object properties and array elements are disclosable at any depth; a disclosable claim inside
another one becomes a recursive disclosure (RFC 9901 §4.2.6). The holder picks disclosures by
the same paths (:func:`present`) and binds the result to the verifier's nonce and audience with
a key-binding JWT signed by the ``cnf`` key (RFC 9901 §4.3).

Errors carry JSON Pointers: into the (Issuer-signed JWT) payload for claims, and, for the parts
of the token that are not JSON documents, ``/disclosures/<i>`` (the i-th disclosure as
presented) and ``/kb/...`` (the key-binding JWT: ``/kb/header/typ``, ``/kb/sd_hash``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from vcred import jose, model, values
from vcred._pointer import escape, from_path, unescape
from vcred.did.document import VerificationMethod, is_did, split_did_url
from vcred.did.jwk import did_jwk
from vcred.did.key import did_key, did_key_method_id
from vcred.did.resolver import Resolver
from vcred.errors import (
    ChallengeError,
    DigestMismatchError,
    DomainError,
    ExpiredError,
    MalformedError,
    NotYetValidError,
    ParsingError,
    PresentationError,
    UnknownKeyError,
    UnsupportedError,
    UsageError,
    VcredError,
)
from vcred.formats import Format, registry
from vcred.issuing import as_signer
from vcred.keys import KeyPair, PublicKey, Signer
from vcred.multibase import b64url_decode, b64url_encode
from vcred.verifier import (
    DEFAULT_KEY_BINDING_MAX_AGE,
    ProofState,
    Verifier,
    utc_now,
)

__all__ = [
    "DC_SD_JWT",
    "DEFAULT_DISCLOSABLE",
    "KB_JWT",
    "MEDIA_TYPE",
    "SD_ALG",
    "VC_SD_JWT",
    "Disclosure",
    "KeyBinding",
    "SdJwtParts",
    "VerifiedSdJwt",
    "check_key_binding",
    "decode_disclosure",
    "digest",
    "issue",
    "parse",
    "present",
    "register_default_disclosable",
    "unverified_disclosable",
    "verify",
]

VC_SD_JWT: Final = "vc+sd-jwt"
"""``typ`` of a W3C credential secured with SD-JWT (VC-JOSE-COSE §3.2.1)."""
DC_SD_JWT: Final = "dc+sd-jwt"
"""``typ`` of an IETF SD-JWT VC (draft-ietf-oauth-sd-jwt-vc, JOSE header)."""
KB_JWT: Final = "kb+jwt"
"""``typ`` of a key-binding JWT (RFC 9901 §4.3)."""
MEDIA_TYPE: Final = "application/vc+sd-jwt"
SD_ALG: Final = "sha-256"
"""The only ``_sd_alg`` we issue or accept (RFC 9901 §4.1.1; IANA hash name)."""

SALT_BYTES: Final = 16  # RFC 9901 §9.3: at least 128 bits of entropy per salt
MAX_DISCLOSURES: Final = 1024
MAX_DIGESTS: Final = 4096  # embedded digests (real and decoy) one SD-JWT may carry
_MAX_TOKEN_LENGTH: Final = 1024 * 1024

_DIGEST: Final = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256 digest
_INDEX: Final = re.compile(r"0|[1-9][0-9]*")
_JSONPATH_STEP: Final = re.compile(
    r"\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)|\.(?P<dotstar>\*)|\[(?P<index>0|[1-9][0-9]*)\]"
    r"|\[(?P<star>\*)\]|\['(?P<single>[^'\\]*)'\]|\[\"(?P<double>[^\"\\]*)\"\]"
)

# VC-JOSE-COSE §3.2.1: properties needed to validate a credential MUST be disclosed; RFC 9901
# §9.7: nor may validity claims be selectively disclosable. Nothing at or below these.
_ALWAYS_VISIBLE_VC: Final = frozenset(
    {
        "@context",
        "type",
        "issuer",
        "validFrom",
        "validUntil",
        "issuanceDate",
        "expirationDate",
        "credentialStatus",
        "credentialSchema",
        "cnf",
        "_sd_alg",
        "iss",
        "nbf",
        "exp",
        "iat",
    }
)
# SD-JWT VC, "Claims": iss, nbf, exp, cnf, vct, vct#integrity and status are never disclosable;
# nor the VCDM members the pipeline's checks read in any credential (a holder withholding one
# would choose whether its check runs).
_ALWAYS_VISIBLE_DC: Final = frozenset(
    {"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status", "_sd_alg"}
) | (_ALWAYS_VISIBLE_VC - {"@context", "iat"})

DEFAULT_DISCLOSABLE: Final[dict[str, tuple[str, ...]]] = {}
"""Credential type → the paths disclosable when the issuer names none (see :func:`issue`);
a domain fills it with :func:`register_default_disclosable` (customs: an export billing
attestation's amounts and prices, DESIGN §7)."""


def register_default_disclosable(credential_type: str, paths: Iterable[str]) -> None:
    """Set the default disclosable paths for credentials of ``credential_type``.

    Paths are JSON Pointers with ``*`` or RFC 9535 JSONPath (``$.a.b[*].c``); they are
    checked now. Raises UsageError for a malformed path.
    """
    checked = tuple(paths)
    for path in checked:
        _parse_path(path)
    DEFAULT_DISCLOSABLE[credential_type] = checked


# -- the serialisation: parts, disclosures, digests ---------------------------------------------


@dataclass(frozen=True, slots=True)
class SdJwtParts:
    """An SD-JWT split at its ``~`` separators (RFC 9901 §4), NOT verified."""

    jwt: str
    disclosures: tuple[str, ...]
    kb_jwt: str | None = None

    @property
    def sd_jwt(self) -> str:
        """The SD-JWT without key binding, ending in ``~``: the input of ``sd_hash``."""
        return "".join(f"{part}~" for part in (self.jwt, *self.disclosures))

    def __str__(self) -> str:
        return self.sd_jwt + (self.kb_jwt or "")


def parse(token: str) -> SdJwtParts:
    """Split ``<JWT>~<Disclosure>~…~[<KB-JWT>]`` into its parts (RFC 9901 §4, compact form).

    Only the shape is checked: three-part compact JWTs, no empty disclosure, nothing after a
    key-binding JWT. Raises ParsingError.
    """
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_LENGTH:
        raise ParsingError("an SD-JWT must be a string of at most 1 MiB")
    pieces = token.split("~")
    if len(pieces) < 2:
        raise ParsingError("an SD-JWT has the form <JWT>~<Disclosures>~[<KB-JWT>]")
    jwt, *disclosures, last = pieces
    jose.split_compact(jwt)
    if len(disclosures) > MAX_DISCLOSURES:
        raise ParsingError(f"an SD-JWT may carry at most {MAX_DISCLOSURES} disclosures")
    for i, disclosure in enumerate(disclosures):
        if not disclosure:
            raise ParsingError("a disclosure is never empty (~~)", pointer=f"/disclosures/{i}")
    if last:
        try:
            jose.split_compact(last)
        except ParsingError as exc:
            raise ParsingError(
                "after the last ~ comes nothing or a key-binding JWT", pointer="/kb"
            ) from exc
    return SdJwtParts(jwt=jwt, disclosures=tuple(disclosures), kb_jwt=last or None)


def digest(text: str) -> str:
    """base64url(SHA-256(ASCII(text))): a disclosure's digest, or ``sd_hash`` (RFC 9901 §4.2.3).

    Raises ParsingError for ``text`` that is not a str of ASCII (no disclosure or SD-JWT is).
    """
    if not isinstance(text, str) or not text.isascii():
        shown = "non-ASCII text" if isinstance(text, str) else f"a {type(text).__name__}"
        raise ParsingError(f"an SD-JWT or disclosure is ASCII text, not {shown}")
    return b64url_encode(hashlib.sha256(text.encode("ascii")).digest())


@dataclass(frozen=True, slots=True)
class Disclosure:
    """A decoded disclosure: ``[salt, name, value]`` for a property, ``[salt, value]`` for an
    array element (``name`` is None), RFC 9901 §4.2.1–4.2.2."""

    encoded: str
    salt: str
    name: str | None
    value: Any
    digest: str


def decode_disclosure(encoded: str, *, index: int = 0) -> Disclosure:
    """Decode one disclosure (RFC 9901 §4.2.1, §4.2.2; reserved names per §4.2.1).

    Raises ParsingError (not base64url, not JSON) or MalformedError (not a JSON array of two
    or three elements, salt not a string, claim name not a string or ``_sd`` / ``...``).
    """
    where = f"/disclosures/{index}"
    try:
        value = jose.loads_strict(
            b64url_decode(encoded, pointer=where), what="a disclosure", pointer=where
        )
    except ParsingError as exc:
        raise ParsingError(exc.message, pointer=where) from exc
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise MalformedError("a disclosure is a JSON array of 2 or 3 elements", pointer=where)
    salt = value[0]
    if not isinstance(salt, str):
        raise MalformedError("a disclosure's salt must be a string", pointer=f"{where}/0")
    if len(value) == 2:
        return Disclosure(encoded, salt, None, value[1], digest(encoded))
    name = value[1]
    if not isinstance(name, str):
        raise MalformedError("a disclosure's claim name must be a string", pointer=f"{where}/1")
    if name in ("_sd", "..."):
        raise MalformedError(f"{name} is reserved: it cannot be a claim name", pointer=f"{where}/1")
    return Disclosure(encoded, salt, name, value[2], digest(encoded))


def _encode_disclosure(items: list[Any]) -> str:
    return b64url_encode(json.dumps(items, separators=(",", ":"), ensure_ascii=False).encode())


def _salt() -> str:
    return b64url_encode(secrets.token_bytes(SALT_BYTES))


def _decoy() -> str:
    """RFC 9901 §4.2.5: a digest over a random value, indistinguishable from a real one."""
    return digest(_salt())


# -- paths -----------------------------------------------------------------------------------------


class _Wildcard:
    def __repr__(self) -> str:
        return "*"


WILDCARD: Final = _Wildcard()
Token = str | int | _Wildcard
Path = tuple[str | int, ...]


def _parse_path(path: str) -> tuple[Token, ...]:
    """A JSON Pointer (``*`` = every array element) or a JSONPath subset → tokens.

    Raises UsageError.
    """
    if not isinstance(path, str):
        raise UsageError(f"a disclosable path must be a string, not {type(path).__name__}")
    if path.startswith("$"):
        tokens: list[Token] = []
        position = 1
        while position < len(path):
            step = _JSONPATH_STEP.match(path, position)
            if step is None:
                raise UsageError(
                    f"unsupported JSONPath {path!r}: use $.name, ['name'], [n] or [*] steps"
                )
            if step["name"] is not None:
                tokens.append(step["name"])
            elif step["index"] is not None:
                tokens.append(int(step["index"]))
            elif step["dotstar"] is not None or step["star"] is not None:
                tokens.append(WILDCARD)
            else:
                tokens.append(step["single"] if step["single"] is not None else step["double"])
            position = step.end()
        return tuple(tokens)
    if not path.startswith("/"):
        raise UsageError(f"a path is a JSON Pointer (/a/b) or a JSONPath ($.a.b), not {path!r}")
    return tuple(WILDCARD if raw == "*" else unescape(raw) for raw in path[1:].split("/"))


def _expand(node: Any, tokens: Sequence[Token], prefix: Path = ()) -> list[Path]:
    """The concrete paths ``tokens`` names in ``node`` (wildcards expanded); [] if none."""
    if not tokens:
        return [prefix]
    head, rest = tokens[0], tokens[1:]
    if isinstance(head, _Wildcard):
        if not isinstance(node, list):
            return []
        return [p for i, item in enumerate(node) for p in _expand(item, rest, (*prefix, i))]
    if isinstance(node, dict) and isinstance(head, str):
        return _expand(node[head], rest, (*prefix, head)) if head in node else []
    if isinstance(node, list):
        index = head if isinstance(head, int) else int(head) if _INDEX.fullmatch(head) else None
        if index is not None and index < len(node):
            return _expand(node[index], rest, (*prefix, index))
    return []


def _matches(pattern: Sequence[Token], path: Path) -> bool:
    """Whether ``path`` is at or below what ``pattern`` names."""
    if len(path) < len(pattern):
        return False
    for token, step in zip(pattern, path, strict=False):
        if isinstance(token, _Wildcard):
            if not isinstance(step, int):
                return False
        elif isinstance(step, int):
            if not (token == step or (isinstance(token, str) and token == str(step))):
                return False
        elif token != step:
            return False
    return True


# -- issuing -------------------------------------------------------------------------------------


def issue(
    credential: Mapping[str, Any],
    signer: Signer | KeyPair,
    *,
    disclosable: Iterable[str] | None = None,
    holder: PublicKey | KeyPair | Signer | str | None = None,
    resolver: Resolver | None = None,
    decoys: bool = True,
) -> str:
    """Secure a credential as ``application/vc+sd-jwt`` (VC-JOSE-COSE §3.2.1, RFC 9901 §4).

    ``disclosable``: paths of the claims the holder may withhold; when None, the defaults of
    the credential's types (:data:`DEFAULT_DISCLOSABLE`). ``holder``: the key the holder will
    prove possession of (RFC 9901 §4.1.2), as a key, or a DID / DID URL whose authentication
    key is used (resolved with ``resolver``; did:key and did:jwk need none). The payload gets
    ``_sd_alg`` ``sha-256``, the holder's ``cnf`` and decoy digests wherever there are real
    ones: 1–3 per object, 1–2 per array (RFC 9901 §4.2.5). The credential is not checked here
    (``vcred.issue`` does).
    Raises UsageError for a path that names nothing, an always-visible claim or reserved names.
    """
    signer = as_signer(signer)
    document = dict(credential)
    _refuse_reserved(document, "")
    for name in ("cnf", "_sd_alg"):
        if name in document:
            raise UsageError(f"the credential must not contain the JWT claim {name}")
    selected = _selected_paths(document, disclosable)
    disclosures: list[str] = []
    payload = _conceal(document, (), selected, disclosures, decoys=decoys)
    payload["_sd_alg"] = SD_ALG
    if holder is not None:
        payload["cnf"] = _confirmation(holder, resolver)
    token = jose.sign_compact(payload, signer, typ=VC_SD_JWT, cty="vc")
    # The order of disclosures would tell which claims are near each other: shuffle it.
    secrets.SystemRandom().shuffle(disclosures)
    return str(SdJwtParts(jwt=token, disclosures=tuple(disclosures)))


def _refuse_reserved(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for name, item in value.items():
            if name in ("_sd", "..."):
                raise UsageError(f"{name} is reserved by SD-JWT (at {where}/{name})")
            _refuse_reserved(item, f"{where}/{from_path((name,))[1:]}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _refuse_reserved(item, f"{where}/{i}")


def _selected_paths(document: Mapping[str, Any], disclosable: Iterable[str] | None) -> set[Path]:
    explicit = disclosable is not None
    if disclosable is None:
        types = document.get("type")
        names = [types] if isinstance(types, str) else types if isinstance(types, list) else []
        paths: list[str] = [p for t in names for p in DEFAULT_DISCLOSABLE.get(str(t), ())]
    elif isinstance(disclosable, str):
        raise UsageError("disclosable is a list of paths, not one string")
    else:
        paths = list(disclosable)
    selected: set[Path] = set()
    for path in paths:
        found = _expand(document, _parse_path(path))
        if not found and explicit:
            raise UsageError(f"the disclosable path {path!r} names no claim in the credential")
        for concrete in found:
            if not concrete:
                raise UsageError("the whole credential cannot be selectively disclosable")
            if concrete[0] in _ALWAYS_VISIBLE_VC or concrete == ("credentialSubject",):
                raise UsageError(
                    f"{from_path(concrete)} must always be disclosed: it is needed to validate "
                    "the credential (VC-JOSE-COSE §3.2.1, RFC 9901 §9.7)"
                )
            selected.add(concrete)
    return selected


def _conceal(value: Any, path: Path, selected: set[Path], out: list[str], *, decoys: bool) -> Any:
    """Replace the selected claims below ``value`` by digests (RFC 9901 §4.2.4), innermost first.

    A selected claim inside another becomes a recursive disclosure (RFC 9901 §4.2.6).
    """
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        digests: list[str] = []
        for name, item in value.items():
            child = _conceal(item, (*path, name), selected, out, decoys=decoys)
            if (*path, name) in selected:
                encoded = _encode_disclosure([_salt(), name, child])
                out.append(encoded)
                digests.append(digest(encoded))
            else:
                result[name] = child
        if digests:
            if decoys:
                digests.extend(_decoy() for _ in range(1 + secrets.randbelow(3)))
            # RFC 9901 §4.2.4.1: sorted, so the order does not reveal the claims' order
            result["_sd"] = sorted(digests)
        return result
    if isinstance(value, list):
        items: list[Any] = []
        hidden = False
        for i, item in enumerate(value):
            child = _conceal(item, (*path, i), selected, out, decoys=decoys)
            if (*path, i) in selected:
                encoded = _encode_disclosure([_salt(), child])
                out.append(encoded)
                items.append({"...": digest(encoded)})
                hidden = True
            else:
                items.append(child)
        if hidden and decoys:
            for _ in range(1 + secrets.randbelow(2)):
                items.insert(secrets.randbelow(len(items) + 1), {"...": _decoy()})
        return items
    return value


def _confirmation(
    holder: PublicKey | KeyPair | Signer | str, resolver: Resolver | None
) -> dict[str, Any]:
    """The ``cnf`` claim (RFC 7800 §3.2): the holder's public JWK; ``kid`` names its DID URL."""
    if isinstance(holder, KeyPair):
        return {"jwk": holder.public.jwk()}
    if isinstance(holder, PublicKey):
        return {"jwk": holder.jwk()}
    if isinstance(holder, str):
        method = _holder_method(holder, resolver or Resolver())
        return {"jwk": {**method.public_key.jwk(), "kid": method.id}}
    if isinstance(holder, Signer):
        jwk: dict[str, Any] = holder.public_key.jwk()
        if "#" in holder.key_id and is_did(holder.key_id.split("#")[0]):
            jwk["kid"] = holder.key_id
        return {"jwk": jwk}
    raise UsageError(f"holder must be a key, a signer or a DID, not {type(holder).__name__}")


def _holder_method(holder: str, resolver: Resolver) -> VerificationMethod:
    did, fragment = split_did_url(holder)
    if fragment:
        return resolver.resolve_method(holder, relationship="authentication")
    methods = resolver.resolve(did).methods_for("authentication")
    if len(methods) != 1:
        raise UsageError(
            f"{did} has {len(methods)} authentication keys: name one with a DID URL (did#key)"
        )
    return methods[0]


def _issue_format(
    document: dict[str, Any],
    signer: Signer,
    *,
    disclosable: Iterable[str] | None = None,
    holder: PublicKey | KeyPair | Signer | str | None = None,
    resolver: Resolver | None = None,
) -> str:
    return issue(document, signer, disclosable=disclosable, holder=holder, resolver=resolver)


# -- processing disclosures (issuer's payload + disclosures → claims) -----------------------------


@dataclass(slots=True)
class _Unfolder:
    """RFC 9901 §7.1, processing: replace digests by the disclosed claims, recursively.

    Also records where each disclosure went (``placements``: index → (pointer, the index of
    the disclosure it sits in)), for the holder's selection.

    Digests are looked up in a dict: they are no secret (the holder presents the disclosures
    and holds the payload that lists them), so nothing calls for a constant-time comparison,
    and comparing each digest with each disclosure made the work grow with their product
    (4,096 digests × 1,024 disclosures, in a token anyone can sign with a did:key).
    """

    disclosures: Sequence[Disclosure]
    used: list[bool] = field(init=False)
    seen: set[str] = field(default_factory=set)
    disclosed: list[str] = field(default_factory=list)
    placements: dict[int, tuple[Path, int | None]] = field(default_factory=dict)
    _inside: int | None = None
    _index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.used = [False] * len(self.disclosures)
        # _decode_all refuses a disclosure given twice, so each digest names one
        self._index = {d.digest: i for i, d in enumerate(self.disclosures)}

    def find(self, value: Any, where: str) -> int | None:
        """The disclosure whose digest is ``value``, or None (a decoy, or not disclosed)."""
        if not isinstance(value, str) or not _DIGEST.fullmatch(value):
            raise MalformedError("a digest is the base64url SHA-256 of a disclosure", pointer=where)
        # RFC 9901 §7.1: a digest may appear only once, directly or via disclosures.
        if value in self.seen:
            raise MalformedError("the same digest appears more than once", pointer=where)
        if len(self.seen) >= MAX_DIGESTS:
            raise MalformedError(f"more than {MAX_DIGESTS} digests", pointer=where)
        self.seen.add(value)
        index = self._index.get(value)
        if index is not None:
            self.used[index] = True
        return index

    def unfold(self, value: Any, path: Path, where: str, depth: int = 1) -> Any:
        """``value``, disclosed; ``depth``: its level as :func:`vcred.model.check_depth` counts
        (the payload is level 1; only objects and arrays count): the claims nest at most
        ``model.MAX_DEPTH`` deep, the limit of a document in every format."""
        if not isinstance(value, dict | list):
            return value
        if depth > model.MAX_DEPTH:
            raise MalformedError(f"nested deeper than {model.MAX_DEPTH} levels", pointer=where)
        if isinstance(value, dict):
            return self._object(value, path, where, depth)
        return self._array(value, path, where, depth)

    def _object(self, obj: dict[str, Any], path: Path, where: str, depth: int) -> dict[str, Any]:
        if "..." in obj:
            raise MalformedError(
                "... is reserved for array element digests ({'...': digest})",
                pointer=f"{where}/...",
            )
        result: dict[str, Any] = {}
        for name, item in obj.items():
            if name == "_sd":
                continue
            if not isinstance(item, dict | list):
                result[name] = item  # a leaf: what unfold would return
            else:
                result[name] = self.unfold(
                    item, (*path, name), f"{where}/{escape(name)}", depth + 1
                )
        digests = obj.get("_sd", [])
        if not isinstance(digests, list):
            raise MalformedError("_sd must be an array of digests", pointer=f"{where}/_sd")
        for j, value in enumerate(digests):
            index = self.find(value, f"{where}/_sd/{j}")
            if index is None:
                continue
            disclosure = self.disclosures[index]
            if disclosure.name is None:
                raise MalformedError(
                    "an _sd digest must refer to an object property disclosure",
                    pointer=f"/disclosures/{index}",
                )
            if disclosure.name in result:
                raise MalformedError(
                    f"the disclosure would overwrite the claim {disclosure.name!r}",
                    pointer=f"/disclosures/{index}",
                )
            claim = (*path, disclosure.name)
            result[disclosure.name] = self._disclosed(index, claim, depth)
        return result

    def _array(self, items: list[Any], path: Path, where: str, depth: int) -> list[Any]:
        result: list[Any] = []
        for j, item in enumerate(items):
            if isinstance(item, dict) and "..." in item:
                if len(item) != 1:
                    raise MalformedError(
                        "an array element digest is an object with the single key ...",
                        pointer=f"{where}/{j}",
                    )
                index = self.find(item["..."], f"{where}/{j}/...")
                if index is None:
                    continue  # RFC 9901 §7.1: undisclosed and decoy elements go
                if self.disclosures[index].name is not None:
                    raise MalformedError(
                        "a ... digest must refer to an array element disclosure",
                        pointer=f"/disclosures/{index}",
                    )
                result.append(self._disclosed(index, (*path, len(result)), depth))
            elif not isinstance(item, dict | list):
                result.append(item)  # a leaf: what unfold would return
            else:
                result.append(self.unfold(item, (*path, len(result)), f"{where}/{j}", depth + 1))
        return result

    def _disclosed(self, index: int, path: Path, depth: int) -> Any:
        self.placements[index] = (path, self._inside)
        self.disclosed.append(from_path(path))
        outer, self._inside = self._inside, index
        position = 2 if self.disclosures[index].name is not None else 1
        try:
            return self.unfold(
                self.disclosures[index].value, path, f"/disclosures/{index}/{position}", depth + 1
            )
        finally:
            self._inside = outer


def _decode_all(parts: SdJwtParts) -> list[Disclosure]:
    decoded = [decode_disclosure(text, index=i) for i, text in enumerate(parts.disclosures)]
    first: dict[str, int] = {}
    for i, text in enumerate(parts.disclosures):
        if text in first:
            raise MalformedError(
                f"disclosure {i} repeats disclosure {first[text]}", pointer=f"/disclosures/{i}"
            )
        first[text] = i
    return decoded


def _hash_algorithm(payload: Mapping[str, Any]) -> None:
    """RFC 9901 §4.1.1: ``_sd_alg`` (default sha-256); we accept nothing else (§9.4)."""
    if "_sd_alg" in payload and payload["_sd_alg"] != SD_ALG:
        raise UnsupportedError(
            f"_sd_alg {str(payload['_sd_alg'])[:40]!r} is not accepted: only {SD_ALG}",
            pointer="/_sd_alg",
        )


def _process(
    payload: Mapping[str, Any], disclosures: Sequence[Disclosure], *, always_visible: frozenset[str]
) -> tuple[dict[str, Any], _Unfolder]:
    """RFC 9901 §7.1: the claims, every disclosure used exactly once."""
    _hash_algorithm(payload)
    unfolder = _Unfolder(disclosures)
    claims = unfolder.unfold({k: v for k, v in payload.items() if k != "_sd_alg"}, (), "")
    for i, used in enumerate(unfolder.used):
        if not used:
            raise DigestMismatchError(
                f"disclosure {i} matches no digest of the credential: altered, or never "
                "disclosable",
                pointer=f"/disclosures/{i}",
            )
    for path, _ in unfolder.placements.values():
        if len(path) >= 1 and path[0] in always_visible:
            raise MalformedError(
                f"{from_path(path)} was selectively disclosable, but it must always be disclosed",
                pointer=from_path(path),
            )
    return claims, unfolder


# -- the holder ----------------------------------------------------------------------------------


def unverified_disclosable(sd_jwt: str) -> list[str]:
    """JSON Pointers of the claims this SD-JWT lets its holder disclose, NOT verified.

    Raises ParsingError / MalformedError / DigestMismatchError.
    """
    parts = parse(sd_jwt)
    payload = jose.unverified_payload(parts.jwt)
    _, unfolder = _process(payload, _decode_all(parts), always_visible=frozenset())
    return list(unfolder.disclosed)


def unverified_claims(sd_jwt: str) -> dict[str, Any]:
    """The claims of an SD-JWT with every disclosure it carries applied, NOT verified: for an
    issuer reading back what it issued. Raises ParsingError / MalformedError /
    DigestMismatchError.
    """
    parts = parse(sd_jwt)
    claims, _ = _process(
        jose.unverified_payload(parts.jwt), _decode_all(parts), always_visible=frozenset()
    )
    return claims


def present(
    sd_jwt: str,
    holder: Signer | KeyPair,
    *,
    disclose: Iterable[str] = (),
    nonce: str,
    aud: str,
    now: datetime | None = None,
) -> str:
    """The holder's SD-JWT+KB revealing only ``disclose`` (RFC 9901 §7.2, key binding §4.3).

    ``disclose``: paths (as for :func:`issue`); each reveals the claim it names with
    everything below it, and the disclosures that contain it. A path naming an always-visible
    claim reveals nothing more. ``nonce`` and ``aud`` are the verifier's; ``iat`` is ``now``.
    The holder key must be the credential's ``cnf`` key. Raises UsageError (a path that names
    nothing, another key, no ``cnf``) or the errors of a malformed SD-JWT.
    """
    if isinstance(disclose, str):
        raise UsageError("disclose is a list of paths, not one string")
    for name, value in (("nonce", nonce), ("aud", aud)):
        if not isinstance(value, str) or not value:
            raise UsageError(f"{name} must be a non-empty string (the verifier's)")
    signer = as_signer(holder)
    parts = parse(sd_jwt.strip())
    if parts.kb_jwt is not None:
        raise UsageError("this SD-JWT is already key-bound: present the issued one")
    payload = jose.unverified_payload(parts.jwt)
    disclosures = _decode_all(parts)
    full, unfolder = _process(payload, disclosures, always_visible=frozenset())
    bound = _cnf_key(payload)
    if bound is None:
        raise UsageError("the SD-JWT has no cnf key: it cannot be key-bound")
    if signer.public_key != bound:
        raise UsageError("the holder key is not the key this SD-JWT is bound to (cnf)")
    chosen: set[int] = set()
    for path in disclose:
        pattern = _parse_path(path)
        if not _expand(full, pattern):
            raise UsageError(f"the path {path!r} names no claim in the credential")
        for index, (where, _) in unfolder.placements.items():
            if _matches(pattern, where):
                chosen.add(index)
    for index in list(chosen):  # a nested disclosure needs the ones that contain it
        parent = unfolder.placements[index][1]
        while parent is not None:
            chosen.add(parent)
            parent = unfolder.placements[parent][1]
    presented = SdJwtParts(
        jwt=parts.jwt, disclosures=tuple(d for i, d in enumerate(parts.disclosures) if i in chosen)
    )
    issued_at = int((now or utc_now()).timestamp())
    binding = {"iat": issued_at, "aud": aud, "nonce": nonce, "sd_hash": digest(presented.sd_jwt)}
    return presented.sd_jwt + jose.sign_compact(binding, signer, typ=KB_JWT)


# -- verifying -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyBinding:
    """A key-binding JWT whose signature (by the ``cnf`` key) and ``sd_hash`` verified.

    Its ``nonce``, ``aud`` and ``iat`` still have to be compared with what the verifier
    expects (:func:`check_key_binding`), as its ``nbf`` and ``exp`` when the holder signed
    them (``not_before``, ``expires``).
    """

    nonce: str
    aud: str | list[str]
    iat: int
    header: Mapping[str, Any]
    not_before: datetime | None = None
    expires: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedSdJwt:
    """An SD-JWT whose issuer signature and disclosures verified (RFC 9901 §7.1).

    ``claims``: the always-visible claims and the disclosed ones, without ``_sd``,
    ``_sd_alg``, ``cnf`` or any digest. ``disclosed``: JSON Pointers of the disclosed claims.
    ``holder_key``: the ``cnf`` key, and ``holder_kid`` the DID URL the issuer named for it.
    """

    typ: str
    header: Mapping[str, Any]
    claims: dict[str, Any]
    method: VerificationMethod
    disclosed: tuple[str, ...]
    holder_key: PublicKey | None
    holder_kid: str | None
    key_binding: KeyBinding | None
    parts: SdJwtParts


def verify(token: str, *, lookup: jose.MethodLookup) -> VerifiedSdJwt:
    """Verify an SD-JWT (RFC 9901 §7.1) and, when present, its key-binding JWT's integrity.

    The issuer-signed JWT must be ``vc+sd-jwt`` (its key a method of the credential's issuer
    DID, kid rules as for vc+jwt) or ``dc+sd-jwt`` (the key a method of the DID in ``iss``).
    A key-binding JWT is checked for ``typ`` ``kb+jwt``, its signature by the ``cnf`` key and
    ``sd_hash`` (RFC 9901 §7.3); nonce, audience and freshness are the caller's
    (:func:`check_key_binding`). Raises VcredError subclasses.
    """
    parts = parse(token)
    jws = jose.parse_unverified(parts.jwt)
    typ = jws.header.get("typ")
    if typ == DC_SD_JWT:
        verified = jose.verify_compact(
            jws,
            typs=frozenset({DC_SD_JWT}),
            ctys=frozenset({None}),
            controller=_sd_jwt_vc_issuer,
            lookup=lookup,
            relationship="assertionMethod",
        )
        if not isinstance(verified.payload.get("vct"), str):
            raise MalformedError("an SD-JWT VC needs its type in vct (a string)", pointer="/vct")
        always_visible = _ALWAYS_VISIBLE_DC
    else:
        verified = jose.verify_compact(
            jws,
            typs=frozenset({VC_SD_JWT}),
            ctys=frozenset({None, "vc"}),
            controller=_credential_issuer,
            lookup=lookup,
            relationship="assertionMethod",
        )
        always_visible = _ALWAYS_VISIBLE_VC
    claims, unfolder = _process(verified.payload, _decode_all(parts), always_visible=always_visible)
    if typ == DC_SD_JWT and "issuer" in claims:
        _check_named_issuer(claims["issuer"], str(verified.payload["iss"]))
    cnf = claims.pop("cnf", None)
    holder_key = _cnf_key(verified.payload)
    kid = cnf["jwk"].get("kid") if holder_key is not None and isinstance(cnf, dict) else None
    key_binding = None
    if parts.kb_jwt is not None:
        key_binding = _verify_key_binding(parts.kb_jwt, parts.sd_jwt, holder_key)
    return VerifiedSdJwt(
        typ=str(typ),
        header=verified.header,
        claims=claims,
        method=verified.method,
        disclosed=tuple(unfolder.disclosed),
        holder_key=holder_key,
        holder_kid=kid if isinstance(kid, str) else None,
        key_binding=key_binding,
        parts=parts,
    )


def _credential_issuer(payload: Mapping[str, Any]) -> str:
    issuer = payload.get("issuer")
    issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(issuer, str) or not is_did(issuer):
        raise UnknownKeyError("a vc+sd-jwt issuer must be a DID to find its key", pointer="/issuer")
    if "iss" in payload and payload["iss"] != issuer:
        raise MalformedError("the iss claim contradicts the credential's issuer", pointer="/iss")
    return issuer


def _sd_jwt_vc_issuer(payload: Mapping[str, Any]) -> str:
    iss = payload.get("iss")
    if not isinstance(iss, str) or not is_did(iss):
        raise UnknownKeyError(
            "an SD-JWT VC's iss must be a DID: issuer metadata and x5c keys are not supported",
            pointer="/iss",
        )
    return iss


def _check_named_issuer(issuer: Any, iss: str) -> None:
    """An SD-JWT VC is signed for its ``iss``: an ``issuer`` claim (which the trust check
    reads, as in any credential) must name the same party. Raises MalformedError."""
    try:
        named = values.identifier(issuer, "/issuer")
    except MalformedError as exc:
        raise MalformedError(f"issuer: {exc.message}", pointer=exc.pointer) from exc
    if named != iss:
        raise MalformedError(
            "the issuer claim names another party than iss, for whom it was signed",
            pointer="/issuer",
        )


def _cnf_key(payload: Mapping[str, Any]) -> PublicKey | None:
    """The holder's key from ``cnf`` (RFC 7800 §3.2, ``jwk`` only). Raises MalformedError."""
    if "cnf" not in payload:
        return None
    cnf = payload["cnf"]
    if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
        raise MalformedError("cnf must hold the holder's public key as jwk", pointer="/cnf")
    try:
        return PublicKey.from_signing_jwk(cnf["jwk"])
    except VcredError as exc:
        raise MalformedError(f"the cnf key is unusable: {exc.message}", pointer="/cnf/jwk") from exc


def _verify_key_binding(kb_jwt: str, sd_jwt: str, key: PublicKey | None) -> KeyBinding:
    """RFC 9901 §7.3 (and §4.3): typ, signature by the cnf key, required claims and ``sd_hash``
    (over ``sd_jwt``: the presented SD-JWT up to and including its last ``~``, §4.3.1)."""
    if key is None:
        raise PresentationError(
            "a key-binding JWT was presented but the credential has no cnf key", pointer="/kb"
        )
    try:
        header, claims = jose.verify_with_key(kb_jwt, key, typs=frozenset({KB_JWT}))
    except VcredError as exc:
        raise type(exc)(exc.message, pointer="/kb" + (exc.pointer or "")) from exc
    for name in ("nonce", "sd_hash"):
        if not isinstance(claims.get(name), str):
            raise MalformedError(
                f"the key-binding JWT needs {name} (a string)", pointer=f"/kb/{name}"
            )
    aud = claims.get("aud")
    if not (
        isinstance(aud, str) or (isinstance(aud, list) and all(isinstance(a, str) for a in aud))
    ):
        raise MalformedError("the key-binding JWT needs aud (a string)", pointer="/kb/aud")
    iat = claims.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise MalformedError("the key-binding JWT needs iat (a NumericDate)", pointer="/kb/iat")
    # RFC 7519 §4.1.4-5: a holder that bounds its binding in time is held to it
    window = {
        name: jose.numeric_date(claims[name], pointer=f"/kb/{name}")
        for name in ("nbf", "exp")
        if name in claims
    }
    expected = digest(sd_jwt).encode("ascii")
    if not hmac.compare_digest(expected, claims["sd_hash"].encode("utf-8")):
        raise DigestMismatchError(
            "sd_hash does not match the presented SD-JWT: disclosures were added, removed or "
            "changed after the key binding",
            pointer="/kb/sd_hash",
        )
    return KeyBinding(
        nonce=claims["nonce"],
        aud=aud,
        iat=iat,
        header=header,
        not_before=window.get("nbf"),
        expires=window.get("exp"),
    )


def check_key_binding(
    binding: KeyBinding,
    *,
    now: datetime,
    max_age: timedelta = DEFAULT_KEY_BINDING_MAX_AGE,
    skew: timedelta = timedelta(seconds=60),
    nonce: str | None = None,
    aud: str | None = None,
) -> str:
    """Check a key binding's freshness and, when given, its nonce and audience.

    RFC 9901 §7.3: ``iat`` no older than ``max_age`` and not in the future (both
    with ``skew``); the holder's own ``nbf`` / ``exp`` when it signed them (RFC 7519 §4.1.4-5,
    with ``skew``); nonce and aud equal to what the verifier expects. Raises ExpiredError,
    NotYetValidError, ChallengeError or DomainError; returns a detail line.
    """
    try:
        issued = datetime.fromtimestamp(binding.iat, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedError("iat is out of range", pointer="/kb/iat") from exc
    if issued > now + skew:
        raise NotYetValidError(
            f"the key-binding JWT is dated {issued.isoformat()}, in the future", pointer="/kb/iat"
        )
    if issued < now - max_age - skew:
        raise ExpiredError(
            f"the key-binding JWT was made at {issued.isoformat()}, more than "
            f"{int(max_age.total_seconds())} s ago",
            pointer="/kb/iat",
        )
    if binding.expires is not None and binding.expires <= now - skew:
        raise ExpiredError(
            f"the key-binding JWT expired at {binding.expires.isoformat()} (its exp)",
            pointer="/kb/exp",
        )
    if binding.not_before is not None and binding.not_before > now + skew:
        raise NotYetValidError(
            f"the key-binding JWT is not valid before {binding.not_before.isoformat()} (its nbf)",
            pointer="/kb/nbf",
        )
    if nonce is not None and not hmac.compare_digest(nonce.encode(), binding.nonce.encode()):
        raise ChallengeError(
            f"the key binding is for nonce {binding.nonce[:100]!r}, expected {nonce!r}",
            pointer="/kb/nonce",
        )
    audiences = [binding.aud] if isinstance(binding.aud, str) else binding.aud
    if aud is not None and aud not in audiences:
        raise DomainError(
            f"the key binding is for audience {json.dumps(binding.aud)[:100]}, expected {aud!r}",
            pointer="/kb/aud",
        )
    return f"key binding made at {issued.isoformat()}"


# -- the pipeline ----------------------------------------------------------------------------------


def _prove(verifier: Verifier, token: Any, state: ProofState) -> None:
    """The proof stage for SD-JWTs (``vc+sd-jwt`` and ``dc+sd-jwt``)."""
    state.vcdm = _unverified_typ(token) != DC_SD_JWT
    if not state.vcdm:
        state.format = DC_SD_JWT
    verified = verify(token, lookup=verifier.method_lookup)
    state.claimed = verified.claims
    state.methods = [verified.method]
    state.jwt_claims = {
        k: verified.claims[k] for k in ("nbf", "exp", "iat") if k in verified.claims
    }
    state.disclosed = verified.disclosed
    if verified.holder_key is not None:
        state.confirmation = verified.holder_key.jwk()
    if not state.vcdm:
        state.issuer = str(verified.claims["iss"])


def _unverified_typ(token: Any) -> Any:
    try:
        return jose.unverified_header(str(token).split("~", 1)[0]).get("typ")
    except VcredError:
        return None


def _prove_presentation(verifier: Verifier, token: Any, state: ProofState) -> tuple[Any, Any]:
    """An SD-JWT+KB as a presentation (RFC 9901 §7.3): returns the signed (nonce, aud).

    The presentation seen by the rest of the pipeline holds the SD-JWT (without its key
    binding) as an enveloped credential, so the credential is verified like any other; its
    holder is the owner of the ``cnf`` key.
    """
    parts = parse(token)
    typ = _unverified_typ(token)
    media_type = "application/dc+sd-jwt" if typ == DC_SD_JWT else MEDIA_TYPE
    presentation: dict[str, Any] = {
        "@context": [model.V2_CONTEXT],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [
            {
                "@context": [model.V2_CONTEXT],
                "type": "EnvelopedVerifiableCredential",
                "id": f"data:{media_type},{parts.sd_jwt}",
            }
        ],
    }
    state.claimed = presentation
    verified = verify(token, lookup=verifier.method_lookup)
    binding = verified.key_binding
    if binding is None:
        if verifier.require_key_binding:
            raise PresentationError(
                "this verifier requires key binding: the SD-JWT has no key-binding JWT",
                pointer="/kb",
            )
        return None, None  # no key signed: nobody presented it (only bearer types pass)
    method = _presenting_method(verifier, verified)
    presentation["holder"] = method.controller
    state.methods = [method]
    state.signed_at[method.id] = (jose.numeric_date(binding.iat, pointer="/kb/iat"), "/kb/iat")
    now = verifier.clock_time()
    state.extra_checks.append(
        (
            "validity",
            lambda: check_key_binding(
                binding, now=now, max_age=verifier.key_binding_max_age, skew=verifier.clock_skew
            ),
        )
    )
    return binding.nonce, binding.aud


def _presenting_method(verifier: Verifier, verified: VerifiedSdJwt) -> VerificationMethod:
    """The ``cnf`` key that signed the key binding, as a method of its owner: the DID the
    issuer named for it (resolved, and the key must match), else a subject's did:key /
    did:jwk of that very key, else the key's did:jwk."""
    key = verified.holder_key
    if key is None:  # pragma: no cover - a key binding verified only with a cnf key
        raise PresentationError("the credential has no cnf key", pointer="/cnf")
    if verified.holder_kid is not None and is_did(verified.holder_kid.split("#")[0]):
        method = verifier.method_lookup(verified.holder_kid, "authentication")
        if method.public_key != key:
            raise PresentationError(
                f"the cnf key is not {verified.holder_kid}'s authentication key",
                pointer="/cnf/jwk/kid",
            )
        return method
    own = {did_key(key): did_key_method_id(key), did_jwk(key): f"{did_jwk(key)}#0"}
    owner = did_jwk(key)
    for subject in model.as_list(verified.claims.get("credentialSubject", [])):
        subject_id = subject.get("id") if isinstance(subject, dict) else None
        if isinstance(subject_id, str) and subject_id in own:  # an object or array: no DID
            owner = str(subject_id)
            break
    kind = "Multikey" if owner.startswith("did:key:") else "JsonWebKey"
    return VerificationMethod(id=own[owner], type=kind, controller=owner, public_key=key)


_ISSUE_OPTIONS: Final = frozenset({"disclosable", "holder", "resolver"})
registry.register(
    Format(
        name=VC_SD_JWT,
        issue=_issue_format,
        issue_options=_ISSUE_OPTIONS,
        verify=_prove,
        verify_presentation=_prove_presentation,
    )
)
# the name VC API clients send in options.format
registry.register(Format(name="sd-jwt", issue=_issue_format, issue_options=_ISSUE_OPTIONS))
