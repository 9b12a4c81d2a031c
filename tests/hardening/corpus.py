"""A corpus of hostile credentials and presentations, one per attack, each with the code a
clean rejection carries.

Everything is signed for real where the attack needs a valid signature (a forger with a key
of its own, an issuer on a small-order point, a list signed by someone else …), so that each
input fails for the reason its name gives and not for another. Built once per session;
``tests/hardening/test_tally.py`` runs every entry through ``vcred.verify`` /
``verify_presentation`` and through the verifier service.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from tests.hardening.cose_corpus import cose_hostile
from tests.httpserver import LocalServer
from tests.verifier.conftest import LIST_BASE, NOW, US_DID, US_HOST, Agency
from vcred import derive, did_key, issue, present
from vcred.did.key import did_key_method_id
from vcred.integrity import EDDSA_RDFC_2022, add_proof
from vcred.integrity.proof import xsd_date_time
from vcred.integrity.suites import create_proof
from vcred.issuing import signer_for
from vcred.jose import sign_compact
from vcred.keys import KeyPair, LocalSigner
from vcred.multibase import b64url_decode, b64url_encode, multibase_decode, multibase_encode
from vcred.sdjwt import present as present_sd_jwt
from vcred.status import MutableBitstring, build_status_list_credential

Kind = Literal["credential", "presentation"]
CHALLENGE = "n-0S6_WzA2Mj"
DOMAIN = "verifier.eu-customs.example"
#: did:web hosts that name (or resolve to) addresses a verifier must never contact
PRIVATE_HOSTS = ("localhost", "127.0.0.1", "10.0.0.1", "192.168.1.1", "169.254.169.254")


@dataclass(frozen=True, slots=True)
class Hostile:
    """One hostile input: what it attacks, what it is, and the code that refuses it."""

    category: str
    name: str
    kind: Kind
    value: Any
    code: str


def b64json(value: Any) -> str:
    return b64url_encode(json.dumps(value).encode())


def forge(header: Any, payload: Any, key: KeyPair | None, *, raw: bytes | None = None) -> str:
    """A compact JWS over exactly these header and payload bytes, signed by ``key``."""
    head = header if isinstance(header, bytes) else json.dumps(header).encode()
    body = raw if raw is not None else json.dumps(payload).encode()
    signing_input = b64url_encode(head) + "." + b64url_encode(body)
    signature = key.sign(signing_input.encode()) if key is not None else b""
    return signing_input + "." + b64url_encode(signature)


def resign(token: str, key: KeyPair, transform: Callable[[bytes], bytes]) -> str:
    """``token`` with its signature replaced by ``transform`` of a fresh signature by ``key``."""
    head, body, _ = token.split(".")
    signature = key.sign(f"{head}.{body}".encode())
    return f"{head}.{body}.{b64url_encode(transform(signature))}"


def base_credential(issuer: str, **extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:0d2b8f4e-3f5a-4bd6-9a7c-7f1e4a2b9c10",
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:trader", "name": "Harbour Lights Trading"},
    }
    document.update(extra)
    return {k: v for k, v in document.items() if v is not None}


def header(key: KeyPair, **extra: Any) -> dict[str, Any]:
    alg = {"ed25519": "EdDSA", "p256": "ES256", "p384": "ES384"}[key.kind]
    values = {"alg": alg, "kid": did_key_method_id(key.public), "typ": "vc+jwt", "cty": "vc"}
    values.update(extra)
    return {k: v for k, v in values.items() if v is not None}


def der(signature: bytes) -> bytes:
    """An r‖s P-256 signature in DER, as some libraries make them."""
    r, s = (int.from_bytes(signature[i : i + 32], "big") for i in (0, 32))

    def integer(value: int) -> bytes:
        raw = value.to_bytes(33, "big").lstrip(b"\x00")
        raw = b"\x00" + raw if raw[0] & 0x80 else raw
        return b"\x02" + bytes([len(raw)]) + raw

    body = integer(r) + integer(s)
    return b"\x30" + bytes([len(body)]) + body


ED25519_L = 2**252 + 27742317777372353535851937790883648493


def non_canonical_s(signature: bytes) -> bytes:
    """The same Ed25519 signature with S + L (it verifies in lax implementations)."""
    s = int.from_bytes(signature[32:], "little") + ED25519_L
    return signature[:32] + s.to_bytes(32, "little")


#: The Ed25519 neutral point (0, 1), of order 1, encoded
IDENTITY_POINT = bytes([1]) + bytes(31)


def identity_r_signature(key: KeyPair, message: bytes) -> bytes:
    """``key``'s Ed25519 signature of ``message`` with R the neutral point: [S]B = R + [k]A
    holds for S = k·a mod L, so RFC 8032's cofactorless equation (OpenSSL's) accepts it; any
    key holder can make one, with the same R for every message."""
    digest = bytearray(hashlib.sha512(key.secret()).digest()[:32])
    digest[0] &= 248
    digest[31] = (digest[31] & 127) | 64  # RFC 8032 §5.1.5 clamping: the secret scalar a
    a = int.from_bytes(digest, "little")
    k = int.from_bytes(hashlib.sha512(IDENTITY_POINT + key.public.raw + message).digest(), "little")
    return IDENTITY_POINT + (k * a % ED25519_L).to_bytes(32, "little")


def small_order_did_key() -> str:
    """A did:key on the Ed25519 point of order 4 (y = 0): any signature would verify."""
    return "did:key:" + multibase_encode(b"\xed\x01" + bytes(32), "z")


def _sd_jwt_parts(token: str) -> list[str]:
    return token.split("~")


@dataclass
class Keys:
    issuer: KeyPair  # Ed25519 did:key issuer
    p256: KeyPair  # P-256 did:key issuer
    attacker: KeyPair  # a forger with a key of its own
    holder: KeyPair

    @classmethod
    def make(cls) -> Keys:
        return cls(
            issuer=KeyPair.generate("ed25519"),
            p256=KeyPair.generate("p256"),
            attacker=KeyPair.generate("ed25519"),
            holder=KeyPair.generate("ed25519"),
        )


def build(keys: Keys, agency: Agency, server: LocalServer) -> list[Hostile]:
    """Every hostile input of the tally (the agency's did:web and its lists for status)."""
    corpus: list[Hostile] = []
    corpus += _jwt(keys)
    corpus += _signatures(keys)
    corpus += _data_integrity(keys)
    corpus += _selective(keys)
    corpus += _status(agency, server)
    corpus += _ssrf(keys)
    corpus += _presentations(keys)
    corpus += _time(keys)
    corpus += _cose(keys)
    return corpus


def _cose(keys: Keys) -> list[Hostile]:
    items = cose_hostile(
        keys.issuer, keys.attacker, keys.holder, challenge=CHALLENGE, domain=DOMAIN
    )
    return [
        Hostile("cose", name, "credential" if kind == "credential" else "presentation", value, code)
        for name, kind, value, code in items
    ]


def _jwt(keys: Keys) -> list[Hostile]:
    k, did = keys.issuer, did_key(keys.issuer.public)
    payload = base_credential(did)
    hs256_secret = k.public.jwk()["x"].encode()  # the public key as an HMAC secret
    hs_input = b64json({"alg": "HS256", "typ": "vc+jwt"}) + "." + b64json(payload)
    hs_mac = hmac.new(hs256_secret, hs_input.encode(), hashlib.sha256).digest()
    attacker_jwk = keys.attacker.public.jwk()
    dup_payload = json.dumps(payload)[:-1] + ', "issuer": "did:example:other"}'
    dup_header = b'{"alg": "EdDSA", "alg": "none", "kid": "%s", "typ": "vc+jwt"}' % (
        did_key_method_id(k.public).encode()
    )
    vp = present([issue(base_credential(did), k, now=NOW)], k, challenge=CHALLENGE, now=NOW)
    sd = str(issue(base_credential(did), k, format="vc+sd-jwt", now=NOW))
    deep_jwk_did = "did:jwk:" + b64url_encode(b"[" * 5000 + b"]" * 5000)
    deep_jwk_signer = LocalSigner(key=k, key_id=f"{deep_jwk_did}#0")
    legacy = {"vc": {"type": ["VerifiableCredential"], "credentialSubject": {"name": "x"}}}
    items = [
        ("alg none", forge({"alg": "none", "typ": "vc+jwt"}, payload, None), "UNSUPPORTED"),
        (
            "HS256 with the issuer's public key",
            f"{hs_input}.{b64url_encode(hs_mac)}",
            "UNSUPPORTED",
        ),
        ("RS256", forge(header(k, alg="RS256"), payload, None), "UNSUPPORTED"),
        ("key in a jwk header", forge(header(k, jwk=attacker_jwk), payload, k), "MALFORMED"),
        ("jku header", forge(header(k, jku="https://evil.example/k"), payload, k), "MALFORMED"),
        ("x5u header", forge(header(k, x5u="https://evil.example/c"), payload, k), "MALFORMED"),
        ("x5c header", forge(header(k, x5c=["MIIB"]), payload, k), "MALFORMED"),
        (
            "kid of the attacker's DID",
            forge(header(keys.attacker), payload, keys.attacker),
            "UNKNOWN_KEY",
        ),
        ("no kid", forge(header(k, kid=None), payload, k), "UNKNOWN_KEY"),
        ("kid that is not a DID URL", forge(header(k, kid="key-1"), payload, k), "UNKNOWN_KEY"),
        ("unknown crit", forge(header(k, crit=["exp"], exp=1), payload, k), "UNSUPPORTED"),
        ("b64 false", forge(header(k, b64=False, crit=["b64"]), payload, k), "UNSUPPORTED"),
        ("typ vp+jwt as a credential", forge(header(k, typ="vp+jwt"), payload, k), "MALFORMED"),
        ("typ kb+jwt as a credential", forge(header(k, typ="kb+jwt"), payload, k), "MALFORMED"),
        ("typ vc+sd-jwt as vc+jwt", forge(header(k, typ="vc+sd-jwt"), payload, k), "MALFORMED"),
        ("nested JWT (cty JWT)", forge(header(k, cty="JWT"), payload, k), "MALFORMED"),
        (
            "duplicate payload member",
            forge(header(k), None, k, raw=dup_payload.encode()),
            "PARSING_ERROR",
        ),
        ("duplicate header member", forge(dup_header, payload, k), "PARSING_ERROR"),
        ("alg of another key type", forge(header(k, alg="ES256"), payload, k), "INVALID_SIGNATURE"),
        ("a vp+jwt where a credential is expected", vp, "MALFORMED"),
        ("an SD-JWT without its ~ as vc+jwt", sd.split("~")[0], "MALFORMED"),
        ("a vc+jwt with a ~ as an SD-JWT", str(issue(payload, k, now=NOW)) + "~", "MALFORMED"),
        (
            "did:jwk nested past the recursion limit",
            sign_compact(base_credential(deep_jwk_did), deep_jwk_signer, typ="vc+jwt"),
            "DID_RESOLUTION",
        ),
        (
            "VC-JWT 1.1 without iss",
            forge({"alg": "EdDSA", "typ": "JWT"}, legacy, None),
            "UNKNOWN_KEY",
        ),
        (
            "nbf past what a datetime holds",
            forge(header(k), {**payload, "nbf": 10**20}, k),
            "MALFORMED",
        ),
        (
            "exp past what a datetime holds",
            forge(header(k), {**payload, "exp": 1e300}, k),
            "MALFORMED",
        ),
    ]
    return [Hostile("jwt", name, "credential", value, code) for name, value, code in items]


def _signatures(keys: Keys) -> list[Hostile]:
    k, p = keys.issuer, keys.p256
    token = str(issue(base_credential(did_key(k.public)), k, now=NOW))
    es256 = str(issue(base_credential(did_key(p.public)), p, now=NOW))
    small = small_order_did_key()
    small_signer = LocalSigner(key=k, key_id=f"{small}#{small[8:]}")
    psychic = resign(es256, p, lambda _: bytes(64))  # r = 0, s = 0 (CVE-2022-21449)
    di = issue(base_credential(did_key(p.public)), p, format="ecdsa-rdfc-2019", now=NOW)
    assert isinstance(di, dict)
    raw = multibase_decode(di["proof"]["proofValue"])
    di_der = copy.deepcopy(di)
    di_der["proof"]["proofValue"] = multibase_encode(der(raw), "z")
    head, body, _ = token.split(".")
    neutral_r = identity_r_signature(k, f"{head}.{body}".encode())
    items: list[tuple[str, Any, str]] = [
        ("Ed25519 S + L (non-canonical)", resign(token, k, non_canonical_s), "INVALID_SIGNATURE"),
        (
            "Ed25519 R the neutral point (small order)",
            f"{head}.{body}.{b64url_encode(neutral_r)}",
            "INVALID_SIGNATURE",
        ),
        (
            "did:key on a small-order Ed25519 point",
            sign_compact(base_credential(small), small_signer, typ="vc+jwt"),
            "DID_RESOLUTION",
        ),
        ("ECDSA r = 0, s = 0", psychic, "INVALID_SIGNATURE"),
        ("ECDSA DER signature in a JWS", resign(es256, p, der), "INVALID_SIGNATURE"),
        ("ECDSA DER signature in a DI proof", di_der, "INVALID_PROOF"),
        ("truncated signature", token[:-10], "INVALID_SIGNATURE"),
    ]
    return [Hostile("signatures", n, "credential", v, c) for n, v, c in items]


def _di(keys: Keys, **extra: Any) -> dict[str, Any]:
    secured = issue(
        base_credential(did_key(keys.issuer.public), **extra),
        keys.issuer,
        format="eddsa-rdfc-2022",
        now=NOW,
    )
    assert isinstance(secured, dict)
    return secured


def _data_integrity(keys: Keys) -> list[Hostile]:
    examples = "https://www.w3.org/ns/credentials/examples/v2"
    changed_suite = _di(keys)
    changed_suite["proof"]["cryptosuite"] = "eddsa-jcs-2022"
    purpose = issue(
        base_credential(did_key(keys.issuer.public)), keys.issuer, format="eddsa-rdfc-2022", now=NOW
    )
    assert isinstance(purpose, dict)
    purpose["proof"]["proofPurpose"] = "authentication"
    # a valid proof by the attacker's key on a credential naming the victim as its issuer
    foreign = add_proof(
        base_credential(did_key(keys.issuer.public)), signer_for(keys.attacker), created=NOW
    )
    unknown_context = _di(keys)
    unknown_context["@context"] = [*unknown_context["@context"], "https://evil.example/ctx"]
    redefine = _di(keys)
    redefine["@context"] = [
        *redefine["@context"],
        {"name": "https://evil.example/vocab#name"},  # a protected term of the v2 context
    ]
    undefined = _di(keys)
    undefined["credentialSubject"]["@bankAccount"] = "pay to 666"
    future = issue(
        base_credential(did_key(keys.issuer.public)),
        keys.issuer,
        format="eddsa-rdfc-2022",
        now=NOW + timedelta(hours=1),
    )
    expired = issue(
        base_credential(did_key(keys.issuer.public)),
        keys.issuer,
        format="eddsa-rdfc-2022",
        now=NOW - timedelta(days=2),
        expires=NOW - timedelta(days=1),
    )
    injected = _di(keys)
    injected["@included"] = [{"id": "urn:uuid:other", "type": ["VerifiableCredential"]}]
    size = 10  # blank nodes told apart only by their links to each other: RDFC's worst case
    poison_subjects = [
        {"id": f"_:k{i}", "knows": [{"id": f"_:k{j}"} for j in range(size) if j != i]}
        for i in range(size)
    ]
    poison = _di(keys)
    poison["@context"] = [*poison["@context"], examples]
    poison["credentialSubject"] = poison_subjects
    embedded = _di(keys)
    embedded["proof"]["verificationMethod"] = {
        "id": "urn:uuid:key",
        "type": "Multikey",
        "publicKeyMultibase": keys.attacker.public.multikey(),
    }
    # created 30 s ahead, expires 30 s ago: each end within the clock skew, the whole never
    # valid (§13.30); add_proof refuses to make it, so the options are written here
    unsigned = base_credential(did_key(keys.issuer.public))
    backwards = {
        **unsigned,
        "proof": create_proof(
            EDDSA_RDFC_2022,
            unsigned,
            {
                "type": "DataIntegrityProof",
                "cryptosuite": "eddsa-rdfc-2022",
                "created": xsd_date_time(NOW + timedelta(seconds=30)),
                "expires": xsd_date_time(NOW - timedelta(seconds=30)),
                "verificationMethod": signer_for(keys.issuer).key_id,
                "proofPurpose": "assertionMethod",
            },
            signer_for(keys.issuer),
        ),
    }
    long_value = _di(keys)
    long_value["proof"]["proofValue"] = "z" + "2" * 400_000  # decoded before: about a second
    deep = _di(keys)
    nested: Any = "x"
    for _ in range(600):
        nested = {"name": nested}
    deep["credentialSubject"]["description"] = nested
    items: list[tuple[str, Any, str]] = [
        ("changed cryptosuite", changed_suite, "INVALID_SIGNATURE"),
        ("proofPurpose authentication on a credential", purpose, "INVALID_PROOF"),
        ("verification method of another controller", foreign, "UNKNOWN_KEY"),
        ("unknown remote @context", unknown_context, "INVALID_CONTEXT"),
        ("inline context redefining a protected term", redefine, "INVALID_CONTEXT"),
        ("a term that does not expand", undefined, "INVALID_CONTEXT"),
        ("proof created in the future", future, "NOT_YET_VALID"),
        ("expired proof", expired, "EXPIRED"),
        ("proof that expires before it was created", backwards, "INVALID_PROOF"),
        ("proofValue longer than any signature", long_value, "INVALID_PROOF"),
        ("injected graph", injected, "INVALID_SIGNATURE"),
        ("RDFC poison: blank nodes told apart only by each other", poison, "MALFORMED"),
        ("embedded verification method", embedded, "INVALID_PROOF"),
        ("document nested 600 deep", deep, "MALFORMED"),
    ]
    return [Hostile("data-integrity", n, "credential", v, c) for n, v, c in items]


def _selective(keys: Keys) -> list[Hostile]:
    k, did = keys.issuer, did_key(keys.issuer.public)
    attestation = base_credential(
        did,
        credentialSubject={
            "id": did_key(keys.holder.public),
            "invoice": {"totalAmount": "48250.00", "currency": "EUR"},
        },
    )
    attestation["@context"] = [
        *attestation["@context"],
        "https://www.w3.org/ns/credentials/examples/v2",
    ]
    sd = str(
        issue(
            attestation,
            k,
            format="vc+sd-jwt",
            disclosable=["/credentialSubject/invoice/totalAmount"],
            holder=keys.holder.public,
            now=NOW,
        )
    )
    parts = _sd_jwt_parts(sd)
    salt, name, _ = json.loads(b64url_decode(parts[1]))
    altered = "~".join([parts[0], b64json([salt, name, "1.00"]), *parts[2:]])
    presented = present_sd_jwt(
        sd,
        keys.holder,
        disclose=["/credentialSubject/invoice/totalAmount"],
        nonce=CHALLENGE,
        aud=DOMAIN,
        now=NOW,
    )
    replayed = present_sd_jwt(sd, keys.holder, nonce="an-old-nonce", aud=DOMAIN, now=NOW)
    elsewhere = present_sd_jwt(sd, keys.holder, nonce=CHALLENGE, aud="other.example", now=NOW)
    unbound = sd  # no KB-JWT
    bad_alg_payload = {**base_credential(did), "_sd_alg": "md5"}
    bad_alg = forge(header(k, typ="vc+sd-jwt"), bad_alg_payload, k) + "~"
    added = (
        presented.rsplit("~", 1)[0]
        + "~"
        + b64json(["c2FsdA", "extra", 1])
        + "~"
        + presented.rsplit("~", 1)[1]
    )
    p = keys.p256
    base = issue(
        {
            **base_credential(did_key(p.public)),
            "credentialSubject": {"name": "x", "id": "did:example:t"},
        },
        p,
        format="ecdsa-sd-2023",
        now=NOW,
    )
    assert isinstance(base, dict)
    derived = derive(base, ["/credentialSubject/name"])
    tampered = copy.deepcopy(derived)
    tampered["credentialSubject"]["name"] = "Someone Else"
    bad_value = copy.deepcopy(derived)
    bad_value["proof"]["proofValue"] = "u" + b64url_encode(b"\xd9\x5d\x01" + b"\x85" + b"\x40" * 5)
    items: list[tuple[str, Kind, Any, str]] = [
        ("SD-JWT altered disclosure", "credential", altered, "DIGEST_MISMATCH"),
        ("SD-JWT _sd_alg md5", "credential", bad_alg, "UNSUPPORTED"),
        ("SD-JWT disclosure added after key binding", "presentation", added, "DIGEST_MISMATCH"),
        ("SD-JWT key binding with an old nonce", "presentation", replayed, "INVALID_CHALLENGE"),
        ("SD-JWT key binding for another audience", "presentation", elsewhere, "INVALID_DOMAIN"),
        ("SD-JWT without key binding", "presentation", unbound, "INVALID_PRESENTATION"),
        ("ecdsa-sd-2023 base proof shown to a verifier", "credential", base, "INVALID_PROOF"),
        ("ecdsa-sd-2023 revealed value changed", "credential", tampered, "INVALID_SIGNATURE"),
        ("ecdsa-sd-2023 proof value of wrong sizes", "credential", bad_value, "INVALID_PROOF"),
    ]
    return [Hostile("selective-disclosure", n, kind, v, c) for n, kind, v, c in items]


def _status(agency: Agency, server: LocalServer) -> list[Hostile]:
    """Credentials of the agency (did:web) whose status lists are hostile."""
    forger = KeyPair.generate("ed25519")
    out: list[Hostile] = []

    def list_credential(url: str, bits: MutableBitstring | bytes, **extra: Any) -> dict[str, Any]:
        return build_status_list_credential(
            list_url=url,
            issuer=US_DID,
            purpose="revocation",
            bitstring=bits,
            valid_from=NOW - timedelta(days=1),
            ttl=timedelta(minutes=5),
            **extra,
        )

    def credential_at(path: str, index: int = 7) -> str:
        url = LIST_BASE + path
        entry = {
            "id": f"{url}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": url,
        }
        document = base_credential(US_DID, credentialStatus=entry)
        return str(issue(document, agency.signer, now=NOW))

    # a list of the right shape, signed by someone else (naming the agency as its issuer)
    unsigned = list_credential(LIST_BASE + "hostile-forged", MutableBitstring())
    forged = forge(
        {"alg": "EdDSA", "kid": f"{US_DID}#{agency.key.public.multikey()}", "typ": "vc+jwt"},
        unsigned,
        forger,
    )
    server.serve("/status/hostile-forged", forged.encode())
    out.append(
        Hostile(
            "status",
            "list not signed by the issuer",
            "credential",
            credential_at("hostile-forged"),
            "STATUS_VERIFICATION",
        )
    )
    # a list the agency really signed, replayed at another list's URL
    genuine = str(
        issue(list_credential(LIST_BASE + "hostile-a", MutableBitstring()), agency.signer, now=NOW)
    )
    server.serve("/status/hostile-b", genuine.encode())
    out.append(
        Hostile(
            "status",
            "validly signed list served at another list's URL",
            "credential",
            credential_at("hostile-b"),
            "STATUS_VERIFICATION",
        )
    )
    # an index past the end of a genuine list
    server.serve(
        "/status/hostile-range",
        str(
            issue(
                list_credential(LIST_BASE + "hostile-range", MutableBitstring()),
                agency.signer,
                now=NOW,
            )
        ).encode(),
    )
    out.append(
        Hostile(
            "status",
            "index out of range",
            "credential",
            credential_at("hostile-range", index=10**9),
            "STATUS_RANGE",
        )
    )
    # a gzip bomb: 32 MiB of zeros in 32 KiB, past the 16 MiB bitstring cap
    bomb = (
        "u"
        + base64.urlsafe_b64encode(zlib.compress(bytes(32 * 1024 * 1024), 9, 31))
        .rstrip(b"=")
        .decode()
    )
    bombed = list_credential(LIST_BASE + "hostile-bomb", MutableBitstring())
    bombed["credentialSubject"]["encodedList"] = bomb
    server.serve("/status/hostile-bomb", str(issue(bombed, agency.signer, now=NOW)).encode())
    out.append(
        Hostile(
            "status", "gzip bomb", "credential", credential_at("hostile-bomb"), "STATUS_LIST_LENGTH"
        )
    )
    # a list that is JSON nested past the recursion limit
    server.serve("/status/hostile-deep", b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    out.append(
        Hostile(
            "status",
            "list nested past the recursion limit",
            "credential",
            credential_at("hostile-deep"),
            "STATUS_VERIFICATION",
        )
    )
    # a list URL on a private address (SSRF through credentialStatus)
    private_entry = {
        "id": "https://169.254.169.254/latest/meta-data#7",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": "https://169.254.169.254/latest/meta-data",
    }
    metadata = str(
        issue(base_credential(US_DID, credentialStatus=private_entry), agency.signer, now=NOW)
    )
    out.append(
        Hostile(
            "ssrf",
            "status list URL on the metadata address",
            "credential",
            metadata,
            "STATUS_UNAVAILABLE",
        )
    )
    assert US_HOST in LIST_BASE
    return out


def _ssrf(keys: Keys) -> list[Hostile]:
    out = []
    for host in PRIVATE_HOSTS:
        did = f"did:web:{host}"
        signer = LocalSigner(key=keys.attacker, key_id=f"{did}#key-1")
        token = sign_compact(base_credential(did), signer, typ="vc+jwt", cty="vc")
        out.append(Hostile("ssrf", f"did:web:{host}", "credential", token, "FETCH_REFUSED"))
    did = "did:web:localhost%3A8443:agency"
    signer = LocalSigner(key=keys.attacker, key_id=f"{did}#key-1")
    token = sign_compact(base_credential(did), signer, typ="vc+jwt", cty="vc")
    out.append(
        Hostile(
            "ssrf", "did:web:localhost%3A8443 with a path", "credential", token, "FETCH_REFUSED"
        )
    )
    return out


def _presentations(keys: Keys) -> list[Hostile]:
    holder, did = keys.holder, did_key(keys.holder.public)
    mine = issue(
        base_credential(did_key(keys.issuer.public), credentialSubject={"id": did, "name": "x"}),
        keys.issuer,
        now=NOW,
    )
    theirs = issue(base_credential(did_key(keys.issuer.public)), keys.issuer, now=NOW)
    other_subject = issue(
        base_credential(
            did_key(keys.issuer.public),
            credentialSubject={"id": did_key(keys.attacker.public), "name": "y"},
        ),
        keys.issuer,
        now=NOW,
    )
    replay = present([mine], holder, challenge="an-old-challenge", domain=DOMAIN, now=NOW)
    elsewhere = present([mine], holder, challenge=CHALLENGE, domain="other.example", now=NOW)
    stolen = present([other_subject], holder, challenge=CHALLENGE, domain=DOMAIN, now=NOW)
    too_many = present([theirs] * 65, holder, challenge=CHALLENGE, domain=DOMAIN, now=NOW)
    by_attacker = forge(
        {"alg": "EdDSA", "kid": did_key_method_id(keys.attacker.public), "typ": "vp+jwt"},
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "holder": did,
            "nonce": CHALLENGE,
            "aud": DOMAIN,
        },
        keys.attacker,
    )
    old = present([mine], holder, challenge=CHALLENGE, domain=DOMAIN, now=NOW - timedelta(days=1))
    di_vp = present(
        [mine], holder, challenge=CHALLENGE, domain=DOMAIN, format="eddsa-rdfc-2022", now=NOW
    )
    assert isinstance(di_vp, dict)
    di_vp["proof"]["proofPurpose"] = "assertionMethod"
    items: list[tuple[str, Any, str]] = [
        ("replayed challenge", replay, "INVALID_CHALLENGE"),
        ("wrong domain", elsewhere, "INVALID_DOMAIN"),
        ("someone else's credential inside", stolen, "HOLDER_MISMATCH"),
        ("65 credentials in one presentation", too_many, "MALFORMED"),
        ("holder's presentation signed by another key", by_attacker, "UNKNOWN_KEY"),
        ("expired presentation", old, "EXPIRED"),
        ("assertionMethod proof on a presentation", di_vp, "INVALID_PROOF"),
        ("a credential where a presentation is expected", str(theirs), "MALFORMED"),
    ]
    return [Hostile("presentations", n, "presentation", v, c) for n, v, c in items]


def _time(keys: Keys) -> list[Hostile]:
    k, did = keys.issuer, did_key(keys.issuer.public)
    at = int(NOW.timestamp())
    items: list[tuple[str, Any, str]] = [
        (
            "validFrom in the future",
            issue(base_credential(did, validFrom="2026-06-02T00:00:00Z"), k),
            "NOT_YET_VALID",
        ),
        (
            "validUntil passed",
            issue(base_credential(did, validUntil="2026-05-31T00:00:00Z"), k),
            "EXPIRED",
        ),
        (
            "JWT exp disagreeing with validUntil",
            forge(header(k), {**base_credential(did), "exp": at + 10}, k),
            "MALFORMED",
        ),
        (
            "JWT nbf disagreeing with validFrom",
            forge(header(k), {**base_credential(did), "nbf": at}, k),
            "MALFORMED",
        ),
        (
            "JWT nbf beyond the clock skew",
            forge(header(k), {**base_credential(did, validFrom=None), "nbf": at + 120}, k),
            "NOT_YET_VALID",
        ),
        (
            "JWT exp beyond the clock skew",
            forge(header(k), {**base_credential(did, validUntil=None), "exp": at - 120}, k),
            "EXPIRED",
        ),
        (
            "issuanceDate of a VC 1.1 credential in the future",
            issue(
                {
                    **base_credential(did, validFrom=None, validUntil=None),
                    "@context": ["https://www.w3.org/2018/credentials/v1"],
                    "issuanceDate": "2026-06-02T00:00:00Z",
                },
                k,
            ),
            "NOT_YET_VALID",
        ),
    ]
    return [Hostile("time", n, "credential", v, c) for n, v, c in items]
