"""Key pairs for Ed25519, P-256, P-384 and P-521: generate, load, save, sign, verify.

This is the only module that touches ``cryptography.hazmat`` and libsodium (PyNaCl's
``nacl.bindings``). Everything above it sees :class:`PublicKey`, :class:`KeyPair` and the
:class:`Signer` protocol. Ed25519 signs and verifies through libsodium (about twice as fast
as OpenSSL here, docs/performance.md); ``cryptography`` keeps the PEM encodings and ECDSA.

Encodings:
- JWK (RFC 7517, RFC 8037 for OKP), thumbprints (RFC 7638);
- Multikey (https://www.w3.org/TR/cid-1.0/#Multikey): base58btc multibase of a multicodec
  header (ed25519-pub 0xed, p256-pub 0x1200, p384-pub 0x1201, p521-pub 0x1202; secret keys
  0x1300, 0x1306, 0x1307, 0x1308) and the raw key, EC points compressed;
- PKCS#8 PEM, encrypted with a passphrase for keys at rest.

Signatures are raw: 64 bytes for Ed25519, r‖s (IEEE P1363) for ECDSA, as JWS (RFC 7518 §3.4)
and the Data Integrity ECDSA suites require; DER is never accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final, Literal, Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from nacl.bindings import crypto_sign, crypto_sign_open, crypto_sign_seed_keypair
from nacl.exceptions import BadSignatureError

from vcred._json import loads_local
from vcred.errors import (
    CryptographicError,
    MalformedError,
    ParsingError,
    UnsupportedError,
    UsageError,
)
from vcred.multibase import (
    b64url_decode,
    b64url_encode,
    multibase_decode,
    multibase_encode,
    varint_decode,
    varint_encode,
)

KeyKind = Literal["ed25519", "p256", "p384", "p521"]
KEY_KINDS: Final[tuple[KeyKind, ...]] = ("ed25519", "p256", "p384", "p521")

#: RFC 8725 §3.1: the verifier names the algorithm, from the key it already trusts.
JWS_ALG_FOR: Final[dict[KeyKind, str]] = {
    "ed25519": "EdDSA",
    "p256": "ES256",
    "p384": "ES384",
    "p521": "ES512",  # RFC 7518 §3.4: ES512 is ECDSA with P-521 and SHA-512
}
KIND_FOR_JWS_ALG: Final[dict[str, KeyKind]] = {alg: kind for kind, alg in JWS_ALG_FOR.items()}

_PUBLIC_CODEC: Final[dict[KeyKind, int]] = {
    "ed25519": 0xED,
    "p256": 0x1200,
    "p384": 0x1201,
    "p521": 0x1202,
}
_SECRET_CODEC: Final[dict[KeyKind, int]] = {
    "ed25519": 0x1300,
    "p256": 0x1306,
    "p384": 0x1307,
    "p521": 0x1308,
}
_KIND_FOR_PUBLIC_CODEC: Final = {codec: kind for kind, codec in _PUBLIC_CODEC.items()}
_KIND_FOR_SECRET_CODEC: Final = {codec: kind for kind, codec in _SECRET_CODEC.items()}

_JWK_CURVE: Final[dict[KeyKind, tuple[str, str]]] = {
    "ed25519": ("OKP", "Ed25519"),
    "p256": ("EC", "P-256"),
    "p384": ("EC", "P-384"),
    "p521": ("EC", "P-521"),
}
_KIND_FOR_JWK_CURVE: Final = {curve: kind for kind, curve in _JWK_CURVE.items()}

_EC_CURVE: Final[dict[str, ec.EllipticCurve]] = {
    "p256": ec.SECP256R1(),
    "p384": ec.SECP384R1(),
    "p521": ec.SECP521R1(),
}
_EC_HASH: Final[dict[str, type[hashes.HashAlgorithm]]] = {
    "p256": hashes.SHA256,
    "p384": hashes.SHA384,
    "p521": hashes.SHA512,
}
#: Bytes of a coordinate / scalar: P-521's 521 bits take 66 (RFC 7518 §6.2.1.2, §3.4).
_FIELD_BYTES: Final[dict[KeyKind, int]] = {"ed25519": 32, "p256": 32, "p384": 48, "p521": 66}
#: the largest public Multikey: a two-byte codec varint and a compressed P-521 point (a did:key
#: or ``publicKeyMultibase`` longer than that is refused before it is decoded)
_MULTIKEY_MAX_BYTES: Final = 2 + 1 + _FIELD_BYTES["p521"]
_EC_ORDER: Final[dict[str, int]] = {
    "p256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "p384": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
    "p521": int(
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA"
        "51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
}

# Ed25519 (RFC 8032 §5.1): field prime and group order.
_ED_P: Final = 2**255 - 19
_ED_L: Final = 2**252 + 27742317777372353535851937790883648493
#: RFC 7638 thumbprints computed so far, by (kind, raw key): a verifier meets the same few
#: issuer keys again and again, and the trust rule asks for one per verified proof (a JSON
#: serialisation and a hash each time). Bounded: emptied when full.
_THUMBPRINTS: dict[tuple[str, bytes], str] = {}
_THUMBPRINTS_MAX: Final = 4096
# y-coordinates of the eight small-order points (orders 1, 2, 4 and 8); a public key on one of
# them lets a forged signature verify for every message ("Taming the many EdDSAs", 2020).
_ED_ORDER8_Y: Final = 0x7A03AC9277FDC74EC6CC392CFA53202A0F67100D760B3CBA4FD84D3D706A17C7
_ED_SMALL_ORDER_Y: Final = frozenset({0, 1, _ED_P - 1, _ED_ORDER8_Y, _ED_P - _ED_ORDER8_Y})


def _check_kind(kind: str) -> KeyKind:
    if kind not in KEY_KINDS:
        raise UsageError(f"unknown key type {kind!r}; expected one of {', '.join(KEY_KINDS)}")
    return kind


@dataclass(frozen=True, slots=True, eq=False)
class PublicKey:
    """A verified-well-formed public key. Compare with ``==`` (by kind and encoded point)."""

    kind: KeyKind
    raw: bytes  # Ed25519: the 32-byte key; EC: the compressed SEC1 point
    _impl: Any = field(repr=False)  # EC: cryptography's key; Ed25519: None (libsodium takes raw)

    @classmethod
    def from_raw(cls, kind: str, raw: bytes) -> PublicKey:
        """A public key from its raw form (Ed25519 bytes, or a SEC1 point for EC).

        Raises MalformedError for an invalid point, a non-canonical or small-order Ed25519 key.
        """
        kind = _check_kind(kind)
        if kind == "ed25519":
            if len(raw) != 32:
                raise MalformedError("an Ed25519 public key is 32 bytes")
            y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
            if y >= _ED_P:
                raise MalformedError("non-canonical Ed25519 public key encoding")
            if y in _ED_SMALL_ORDER_Y:
                raise MalformedError("small-order Ed25519 public key")
            return cls(kind=kind, raw=bytes(raw), _impl=None)
        try:
            impl = ec.EllipticCurvePublicKey.from_encoded_point(_EC_CURVE[kind], raw)
        except ValueError as exc:
            raise MalformedError(f"invalid {kind.upper()} public key point") from exc
        compressed = impl.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )
        return cls(kind=kind, raw=compressed, _impl=impl)

    @classmethod
    def from_multikey(cls, multibase: str) -> PublicKey:
        """Decode a Multikey ``publicKeyMultibase`` value.

        Raises ParsingError / MalformedError / UnsupportedError.
        """
        data = multibase_decode(multibase, max_bytes=_MULTIKEY_MAX_BYTES)
        if not multibase.startswith("z"):
            raise ParsingError("a Multikey public key must be base58btc (z) encoded")
        codec, used = varint_decode(data)
        kind = _KIND_FOR_PUBLIC_CODEC.get(codec)
        if kind is None:
            raise UnsupportedError(f"unsupported Multikey codec 0x{codec:x}")
        raw = data[used:]
        if kind != "ed25519" and len(raw) != _FIELD_BYTES[kind] + 1:
            raise MalformedError("a Multikey EC public key is a compressed point")
        return cls.from_raw(kind, raw)

    @classmethod
    def from_jwk(cls, jwk: Any) -> PublicKey:
        """A public key from a JWK (RFC 7517 / RFC 8037). Private members are refused.

        Raises MalformedError / UnsupportedError.
        """
        if not isinstance(jwk, dict):
            raise MalformedError("a JWK must be a JSON object")
        if "d" in jwk:
            raise MalformedError("a public JWK must not contain the private key (d)")
        kind = _jwk_kind(jwk)
        size = _FIELD_BYTES[kind]
        x = _jwk_member(jwk, "x", size)
        if kind == "ed25519":
            return cls.from_raw(kind, x)
        y = _jwk_member(jwk, "y", size)
        return cls.from_raw(kind, b"\x04" + x + y)

    @classmethod
    def from_signing_jwk(cls, jwk: Any) -> PublicKey:
        """A public key from a JWK that is to verify signatures: :meth:`from_jwk`, and the
        JWK's own restrictions obeyed (:func:`check_signing_jwk`).

        Raises MalformedError / UnsupportedError.
        """
        key = cls.from_jwk(jwk)
        check_signing_jwk(jwk, key)
        return key

    @classmethod
    def from_multicodec(cls, data: bytes) -> PublicKey:
        """A public key from its multicodec bytes (varint header ‖ key, no multibase).

        The form ecdsa-sd-2023 carries its proof-scoped key in (0x80 0x24 ‖ compressed P-256
        point, https://www.w3.org/TR/vc-di-ecdsa/#base-proof-serialization-ecdsa-sd-2023).
        Raises MalformedError / UnsupportedError.
        """
        codec, used = varint_decode(data)
        kind = _KIND_FOR_PUBLIC_CODEC.get(codec)
        if kind is None:
            raise UnsupportedError(f"unsupported Multikey codec 0x{codec:x}")
        raw = data[used:]
        if kind != "ed25519" and len(raw) != _FIELD_BYTES[kind] + 1:
            raise MalformedError("a Multikey EC public key is a compressed point")
        return cls.from_raw(kind, raw)

    @property
    def jws_alg(self) -> str:
        return JWS_ALG_FOR[self.kind]

    def multicodec(self) -> bytes:
        """The multicodec bytes: varint codec header ‖ raw key (compressed EC point)."""
        return varint_encode(_PUBLIC_CODEC[self.kind]) + self.raw

    def jwk(self) -> dict[str, str]:
        """The public JWK, members in RFC 7638 order."""
        kty, crv = _JWK_CURVE[self.kind]
        if self.kind == "ed25519":
            return {"crv": crv, "kty": kty, "x": b64url_encode(self.raw)}
        numbers = self._impl.public_numbers()
        size = _FIELD_BYTES[self.kind]
        return {
            "crv": crv,
            "kty": kty,
            "x": b64url_encode(numbers.x.to_bytes(size, "big")),
            "y": b64url_encode(numbers.y.to_bytes(size, "big")),
        }

    def multikey(self) -> str:
        """The Multikey ``publicKeyMultibase`` (base58btc, compressed EC points)."""
        return _multikey(self.kind, self.raw)

    def thumbprint(self) -> str:
        """RFC 7638 JWK thumbprint (SHA-256, base64url)."""
        known = _THUMBPRINTS.get((self.kind, self.raw))
        if known is None:
            canonical = json.dumps(self.jwk(), separators=(",", ":"), sort_keys=True)
            known = b64url_encode(hashlib.sha256(canonical.encode()).digest())
            if len(_THUMBPRINTS) >= _THUMBPRINTS_MAX:
                _THUMBPRINTS.clear()
            _THUMBPRINTS[(self.kind, self.raw)] = known
        return known

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Check a raw signature over ``data``. Returns False for any invalid signature.

        Ed25519 rejects S ≥ L (RFC 8032 §5.1.7); ECDSA takes only r‖s with 0 < r, s < n
        (zero values are the "psychic signatures" of CVE-2022-21449).
        """
        if self.kind == "ed25519":
            if len(signature) != 64 or int.from_bytes(signature[32:], "little") >= _ED_L:
                return False
            # libsodium's crypto_sign_open checks RFC 8032 §5.1.7's cofactorless equation and
            # is stricter than RFC 8032 and OpenSSL: it refuses an R of small order (the
            # identity among them) too (docs/security.md §2).
            try:
                crypto_sign_open(bytes(signature) + bytes(data), self.raw)
            except BadSignatureError:
                return False
            return True
        size = _FIELD_BYTES[self.kind]
        if len(signature) != 2 * size:
            return False
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        order = _EC_ORDER[self.kind]
        if not (0 < r < order and 0 < s < order):
            return False
        try:
            self._impl.verify(encode_dss_signature(r, s), data, ec.ECDSA(_EC_HASH[self.kind]()))
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, PublicKey)
            and other.kind == self.kind
            and hmac.compare_digest(other.raw, self.raw)
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.raw))


@lru_cache(maxsize=1024)
def _multikey(kind: KeyKind, raw: bytes) -> str:
    # base58 is quadratic-time pure Python: a key's encoding is computed once
    return multibase_encode(varint_encode(_PUBLIC_CODEC[kind]) + raw, "z")


def ecdsa_signature_is_low_s(kind: KeyKind, signature: bytes) -> bool:
    """Whether an r‖s ECDSA signature has s ≤ n/2 (for verifiers that insist on low-S)."""
    size = _FIELD_BYTES[kind]
    return int.from_bytes(signature[size:], "big") <= _EC_ORDER[kind] // 2


@dataclass(frozen=True, slots=True, eq=False)
class KeyPair:
    """A private key with its public half. Never logged: ``repr`` shows only the public key."""

    kind: KeyKind
    public: PublicKey
    _private: Any = field(repr=False)  # cryptography's key: PEM, the raw secret, ECDSA
    #: Ed25519: libsodium's 64-byte secret key (seed ‖ public key), what crypto_sign takes
    _sodium_secret: bytes = field(default=b"", repr=False)

    @classmethod
    def generate(cls, kind: str = "ed25519") -> KeyPair:
        kind = _check_kind(kind)
        if kind == "ed25519":
            return cls._from_private(kind, ed25519.Ed25519PrivateKey.generate())
        return cls._from_private(kind, ec.generate_private_key(_EC_CURVE[kind]))

    @classmethod
    def _from_private(cls, kind: KeyKind, private: Any) -> KeyPair:
        if kind == "ed25519":
            seed = private.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            raw, sodium_secret = crypto_sign_seed_keypair(seed)
            return cls(
                kind=kind,
                public=PublicKey.from_raw(kind, raw),
                _private=private,
                _sodium_secret=sodium_secret,
            )
        raw = private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )
        return cls(kind=kind, public=PublicKey.from_raw(kind, raw), _private=private)

    @classmethod
    def from_secret(cls, kind: str, secret: bytes) -> KeyPair:
        """A key pair from its raw secret (Ed25519 seed, or EC private scalar, big-endian)."""
        kind = _check_kind(kind)
        if len(secret) != _FIELD_BYTES[kind]:
            raise MalformedError(f"a {kind} secret key is {_FIELD_BYTES[kind]} bytes")
        try:
            if kind == "ed25519":
                private: Any = ed25519.Ed25519PrivateKey.from_private_bytes(secret)
            else:
                private = ec.derive_private_key(int.from_bytes(secret, "big"), _EC_CURVE[kind])
        except ValueError as exc:
            raise MalformedError(f"invalid {kind} secret key") from exc
        return cls._from_private(kind, private)

    @classmethod
    def from_multikey(cls, secret_multibase: str) -> KeyPair:
        """A key pair from a Multikey ``secretKeyMultibase``."""
        data = multibase_decode(secret_multibase)
        codec, used = varint_decode(data)
        kind = _KIND_FOR_SECRET_CODEC.get(codec)
        if kind is None:
            raise UnsupportedError(f"unsupported Multikey secret codec 0x{codec:x}")
        return cls.from_secret(kind, data[used:])

    @classmethod
    def from_jwk(cls, jwk: Any) -> KeyPair:
        """A key pair from a private JWK; the public members must match the private one."""
        if not isinstance(jwk, dict) or "d" not in jwk:
            raise MalformedError("a private JWK needs the member d")
        kind = _jwk_kind(jwk)
        pair = cls.from_secret(kind, _jwk_member(jwk, "d", _FIELD_BYTES[kind]))
        public = {k: jwk[k] for k in ("kty", "crv", "x", "y") if k in jwk}
        if PublicKey.from_jwk(public) != pair.public:
            raise MalformedError("the JWK's public members do not belong to its private key")
        return pair

    @classmethod
    def from_pem(cls, data: bytes, *, password: bytes | None = None) -> KeyPair:
        """Load a PKCS#8 PEM private key (encrypted when ``password`` is given)."""
        try:
            private = serialization.load_pem_private_key(data, password=password)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise MalformedError("cannot load the PEM private key (wrong passphrase?)") from exc
        if isinstance(private, ed25519.Ed25519PrivateKey):
            return cls._from_private("ed25519", private)
        if isinstance(private, ec.EllipticCurvePrivateKey):
            for kind, curve in _EC_CURVE.items():
                if private.curve.name == curve.name:
                    return cls._from_private(kind, private)  # type: ignore[arg-type]
        raise UnsupportedError("unsupported private key type; use Ed25519, P-256, P-384 or P-521")

    def secret(self) -> bytes:
        """The raw secret: Ed25519 seed, or EC private scalar (big-endian, fixed width)."""
        if self.kind == "ed25519":
            return bytes(
                self._private.private_bytes(
                    serialization.Encoding.Raw,
                    serialization.PrivateFormat.Raw,
                    serialization.NoEncryption(),
                )
            )
        value: int = self._private.private_numbers().private_value
        return value.to_bytes(_FIELD_BYTES[self.kind], "big")

    def private_jwk(self) -> dict[str, str]:
        return {**self.public.jwk(), "d": b64url_encode(self.secret())}

    def secret_multikey(self) -> str:
        return multibase_encode(varint_encode(_SECRET_CODEC[self.kind]) + self.secret(), "z")

    def to_pem(self, *, password: bytes | None = None) -> bytes:
        """PKCS#8 PEM; encrypted (best available scheme) when a password is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return bytes(
            self._private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
            )
        )

    def sign(self, data: bytes, *, deterministic: bool = False) -> bytes:
        """A raw signature: Ed25519 (64 bytes) or ECDSA r‖s with the curve's hash.

        ``deterministic``: ECDSA nonces per RFC 6979 (https://www.rfc-editor.org/rfc/rfc6979)
        instead of random ones; the same key and data then give the same signature, as the
        W3C ecdsa-sd-2023 test vectors were made. Ed25519 is always deterministic.
        """
        if self.kind == "ed25519":
            return crypto_sign(bytes(data), self._sodium_secret)[:64]  # signature ‖ message
        algorithm = ec.ECDSA(_EC_HASH[self.kind](), deterministic_signing=deterministic)
        der = self._private.sign(data, algorithm)
        r, s = decode_dss_signature(der)
        size = _FIELD_BYTES[self.kind]
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def generate_key(kind: str = "ed25519") -> KeyPair:
    """Generate a key pair: ``"ed25519"`` (default), ``"p256"``, ``"p384"`` or ``"p521"``."""
    return KeyPair.generate(kind)


def load_key(data: str | bytes, *, password: bytes | None = None) -> KeyPair:
    """Load a private key from a JWK (JSON text), a Multikey secret or a PKCS#8 PEM.

    Raises ParsingError / MalformedError / UnsupportedError / CryptographicError.
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:  # a ValueError came out (the bytes not said: they are a secret)
        raise ParsingError("the key file is not UTF-8") from None
    if not isinstance(text, str):  # an AttributeError came out
        raise ParsingError(f"a key is text or bytes, not a {type(text).__name__}")
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        return KeyPair.from_pem(stripped.encode(), password=password)
    if stripped.startswith("{"):
        return KeyPair.from_jwk(loads_local(stripped, what="the key file"))
    if stripped.startswith("z"):
        return KeyPair.from_multikey(stripped)
    raise ParsingError("unrecognised key format: expected a JWK, a Multikey or a PEM")


def load_public_key(data: str | bytes) -> PublicKey:
    """Load a public key: a public JWK, a Multikey ``publicKeyMultibase`` (``z…``), or a
    verification method object carrying ``publicKeyJwk`` or ``publicKeyMultibase``.

    A file with a private key is refused (MalformedError): a verifier's key file holds no secret.
    Raises ParsingError / MalformedError / UnsupportedError.
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise ParsingError("the public key file is not UTF-8") from exc
    stripped = text.strip()
    if stripped.startswith("z"):
        return PublicKey.from_multikey(stripped)
    if not stripped.startswith("{"):
        raise ParsingError("unrecognised public key: expected a JWK or a Multikey")
    document = loads_local(stripped, what="the public key file")
    if not isinstance(document, dict):
        raise ParsingError("the public key file is not a JSON object")
    if "secretKeyMultibase" in document or "privateKeyJwk" in document:
        raise MalformedError("a public key file must not contain the private key")
    if "publicKeyJwk" in document:
        return PublicKey.from_signing_jwk(document["publicKeyJwk"])
    if "publicKeyMultibase" in document:
        multikey = document["publicKeyMultibase"]
        if not isinstance(multikey, str):
            raise MalformedError("publicKeyMultibase must be a string")
        return PublicKey.from_multikey(multikey)
    return PublicKey.from_signing_jwk(document)  # it verifies: its use, key_ops, alg obeyed


#: The JWS ``alg`` values a JWK of each kind may be restricted to (RFC 7517 §4.4): RFC 7518's,
#: and for Ed25519 also RFC 9864's fully specified ``Ed25519``.
_JWK_ALGS_FOR: Final[dict[KeyKind, frozenset[str]]] = {
    kind: frozenset({alg, "Ed25519"} if kind == "ed25519" else {alg})
    for kind, alg in JWS_ALG_FOR.items()
}


def check_signing_jwk(jwk: Any, key: PublicKey) -> None:
    """Raise MalformedError when a JWK's own members say it does not verify ``key``'s
    signatures: a ``use`` other than ``sig`` (RFC 7517 §4.2: ``enc`` is for encryption),
    ``key_ops`` without ``verify`` (§4.3), an ``alg`` of another algorithm (§4.4). Absent
    members restrict nothing.
    """
    if not isinstance(jwk, dict):
        raise MalformedError("a JWK must be a JSON object")
    if "use" in jwk and jwk["use"] != "sig":
        raise MalformedError(
            f"the JWK is for use {_shown(jwk['use'])}, not for signatures (RFC 7517 §4.2)"
        )
    if "key_ops" in jwk:
        ops = jwk["key_ops"]
        if not isinstance(ops, list) or not all(isinstance(op, str) for op in ops):
            raise MalformedError("the JWK's key_ops must be an array of strings (RFC 7517 §4.3)")
        if "verify" not in ops:
            raise MalformedError(
                f"the JWK's key_ops {_shown(ops)} do not include verify (RFC 7517 §4.3)"
            )
    if "alg" in jwk and jwk["alg"] not in _JWK_ALGS_FOR[key.kind]:
        raise MalformedError(
            f"the JWK is for alg {_shown(jwk['alg'])}, not {key.jws_alg} (RFC 7517 §4.4)"
        )


def _shown(value: object) -> str:
    """A JWK member's value in a message: JSON, cut short."""
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _jwk_kind(jwk: dict[str, Any]) -> KeyKind:
    kind = _KIND_FOR_JWK_CURVE.get((str(jwk.get("kty")), str(jwk.get("crv"))))
    if kind is None:
        raise UnsupportedError(
            f"unsupported JWK kty/crv {jwk.get('kty')!r}/{jwk.get('crv')!r}; "
            "expected OKP/Ed25519, EC/P-256, EC/P-384 or EC/P-521"
        )
    return kind


def _jwk_member(jwk: dict[str, Any], name: str, size: int) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise MalformedError(f"JWK member {name} is missing", pointer=f"/{name}")
    raw = b64url_decode(value, pointer=f"/{name}")
    if len(raw) != size:
        raise MalformedError(f"JWK member {name} must be {size} bytes", pointer=f"/{name}")
    return raw


class SigningKey(Protocol):
    """A private key that signs: a :class:`KeyPair` in memory, or a key that never leaves a
    token (:class:`vcred.hsm.HsmKey`)."""

    @property
    def kind(self) -> KeyKind: ...

    @property
    def public(self) -> PublicKey: ...

    def sign(self, data: bytes, *, deterministic: bool = False) -> bytes:
        """A raw signature (Ed25519, or ECDSA r‖s); ``deterministic``: RFC 6979 nonces."""


@runtime_checkable
class Signer(Protocol):
    """What issuing needs from a key: sign bytes, say the algorithm and the method id.

    A local key, an HSM or a KMS all fit; nothing else in vcred touches private keys.
    """

    @property
    def algorithm(self) -> str:
        """The JWS algorithm name (EdDSA, ES256, ES384, ES512)."""

    @property
    def key_id(self) -> str:
        """The verification method id (a DID URL) the signature is checked against."""

    @property
    def public_key(self) -> PublicKey: ...

    def sign(self, data: bytes) -> bytes:
        """A raw signature over ``data`` (Ed25519, or ECDSA r‖s)."""


@dataclass(frozen=True, slots=True)
class LocalSigner:
    """A :class:`Signer` over a :class:`SigningKey` — a key pair in memory or a key in an HSM
    (``deterministic``: RFC 6979 ECDSA, local keys only)."""

    key: SigningKey = field(repr=False)
    key_id: str
    deterministic: bool = False

    @property
    def algorithm(self) -> str:
        return JWS_ALG_FOR[self.key.kind]

    @property
    def public_key(self) -> PublicKey:
        return self.key.public

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data, deterministic=self.deterministic)


# -- sealing data at rest under a passphrase (the wallet's store) ------------------------------

#: scrypt cost (RFC 7914 §2): N = 2**15, r = 8, p = 1 (about 32 MiB, as RFC 7914 §12 suggests
#: for interactive logins); kept with the salt so a store made with other costs still opens.
SCRYPT_COST: Final = {"n": 2**15, "r": 8, "p": 1}
_SEAL_NONCE_BYTES: Final = 12


def derive_sealing_key(
    passphrase: str, salt: bytes, *, n: int = 2**15, r: int = 8, p: int = 1
) -> bytes:
    """A 256-bit AES key from ``passphrase`` with scrypt (RFC 7914). Raises UsageError for an
    empty passphrase or a salt under 16 bytes."""
    if not passphrase:
        raise UsageError("the passphrase must not be empty")
    if len(salt) < 16:
        raise UsageError("the salt must be at least 16 bytes")
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def seal(key: bytes, plaintext: bytes, *, aad: bytes) -> bytes:
    """AES-256-GCM: a random 96-bit nonce, then the ciphertext and its tag. ``aad`` binds
    the sealed value to where it is kept (a row cannot be moved to another)."""
    nonce = os.urandom(_SEAL_NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, sealed: bytes, *, aad: bytes) -> bytes:
    """The plaintext of :func:`seal`. Raises CryptographicError for a wrong key (a wrong
    passphrase), altered data or another ``aad``."""
    try:
        return AESGCM(key).decrypt(sealed[:_SEAL_NONCE_BYTES], sealed[_SEAL_NONCE_BYTES:], aad)
    except (InvalidTag, ValueError) as exc:
        raise CryptographicError("the sealed data does not open with this key") from exc
