"""Keys: generation, encodings, and the signature edge cases past attacks used."""

from __future__ import annotations

import hashlib
import json

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.conftest import VECTORS, require_shared
from tests.hardening.corpus import identity_r_signature
from vcred.errors import MalformedError, ParsingError, UnsupportedError, UsageError
from vcred.keys import (
    JWS_ALG_FOR,
    KeyPair,
    LocalSigner,
    PublicKey,
    Signer,
    ecdsa_signature_is_low_s,
    load_key,
)
from vcred.multibase import b64url_encode, multibase_encode, varint_encode

ED_L = 2**252 + 27742317777372353535851937790883648493
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def test_sign_and_verify_every_kind(any_key: KeyPair) -> None:
    signature = any_key.sign(b"export declaration 24US0000000001")
    assert any_key.public.verify(signature, b"export declaration 24US0000000001")
    assert not any_key.public.verify(signature, b"export declaration 24US0000000002")


@pytest.mark.parametrize(("kind", "size"), [("ed25519", 64), ("p256", 64), ("p384", 96)])
def test_signatures_are_raw(kind: str, size: int) -> None:
    assert len(KeyPair.generate(kind).sign(b"x")) == size


def test_jwk_round_trip(any_key: KeyPair) -> None:
    again = KeyPair.from_jwk(any_key.private_jwk())
    assert again.public == any_key.public
    assert PublicKey.from_jwk(any_key.public.jwk()) == any_key.public


def test_multikey_round_trip(any_key: KeyPair) -> None:
    assert PublicKey.from_multikey(any_key.public.multikey()) == any_key.public
    assert KeyPair.from_multikey(any_key.secret_multikey()).public == any_key.public


def test_encrypted_pem_round_trip(any_key: KeyPair) -> None:
    pem = any_key.to_pem(password=b"correct horse")
    assert b"ENCRYPTED" in pem
    assert load_key(pem, password=b"correct horse").public == any_key.public
    with pytest.raises(MalformedError):
        load_key(pem, password=b"wrong")


def test_load_key_reads_jwk_text_and_multikey(ed_key: KeyPair) -> None:
    assert load_key(json.dumps(ed_key.private_jwk())).public == ed_key.public
    assert load_key(ed_key.secret_multikey()).public == ed_key.public
    with pytest.raises(ParsingError):
        load_key("not a key")


@pytest.mark.parametrize(
    ("file", "prefix"),
    [
        ("eddsa/keyPair.json", "z6Mk"),
        ("ecdsa/p256KeyPair.json", "zDna"),
        ("ecdsa/p384KeyPair.json", "z82L"),
    ],
)
def test_w3c_vector_key_pairs(file: str, prefix: str) -> None:
    pair = json.loads((require_shared(VECTORS) / "w3c" / file).read_text())
    secret = pair.get("secretKeyMultibase") or pair["privateKeyMultibase"]
    key = KeyPair.from_multikey(secret)
    assert key.public.multikey() == pair["publicKeyMultibase"]
    assert pair["publicKeyMultibase"].startswith(prefix)


def test_multikey_uses_compressed_points() -> None:
    key = KeyPair.generate("p256")
    assert len(key.public.raw) == 33
    uncompressed = key.public._impl.public_numbers()
    point = b"\x04" + uncompressed.x.to_bytes(32, "big") + uncompressed.y.to_bytes(32, "big")
    with pytest.raises(MalformedError):
        PublicKey.from_multikey(multibase_encode(varint_encode(0x1200) + point))


def test_unknown_multicodec_is_unsupported() -> None:
    with pytest.raises(UnsupportedError):
        PublicKey.from_multikey(multibase_encode(varint_encode(0xE7) + b"\x02" * 33))


def test_public_jwk_with_private_member_is_refused(ed_key: KeyPair) -> None:
    with pytest.raises(MalformedError):
        PublicKey.from_jwk(ed_key.private_jwk())


def test_private_jwk_with_foreign_public_half_is_refused() -> None:
    a, b = KeyPair.generate(), KeyPair.generate()
    mixed = {**a.private_jwk(), "x": b.public.jwk()["x"]}
    with pytest.raises(MalformedError):
        KeyPair.from_jwk(mixed)


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"},
        {"kty": "oct", "k": "c2VjcmV0"},
    ],
)
def test_unsupported_jwk_types(jwk: dict[str, str]) -> None:
    with pytest.raises(UnsupportedError):
        PublicKey.from_jwk(jwk)


def test_ec_point_not_on_curve_is_refused() -> None:
    with pytest.raises(MalformedError):
        PublicKey.from_jwk({"kty": "EC", "crv": "P-256", "x": "A" * 43, "y": "A" * 43})


SMALL_ORDER_ED25519 = [
    "0100000000000000000000000000000000000000000000000000000000000000",  # identity, order 1
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
    "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
    "0000000000000000000000000000000000000000000000000000000000000080",  # order 4, sign bit
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
]


@pytest.mark.parametrize("hex_key", SMALL_ORDER_ED25519)
def test_ed25519_small_order_public_keys_are_refused(hex_key: str) -> None:
    with pytest.raises(MalformedError, match="small-order"):
        PublicKey.from_raw("ed25519", bytes.fromhex(hex_key))


def test_ed25519_non_canonical_key_encoding_is_refused() -> None:
    p_plus_one = (2**255 - 19 + 1).to_bytes(32, "little")
    with pytest.raises(MalformedError, match="non-canonical"):
        PublicKey.from_raw("ed25519", p_plus_one)


def test_ed25519_non_canonical_s_is_rejected(ed_key: KeyPair) -> None:
    signature = ed_key.sign(b"m")
    s = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s + ED_L).to_bytes(32, "little")
    assert not ed_key.public.verify(malleated, b"m")


# Ed25519 verification is libsodium's (crypto_sign_open): besides RFC 8032 §5.1.7 it refuses an
# R of small order, which RFC 8032's cofactorless equation [S]B = R + [k]A lets through and
# OpenSSL accepts. Such a signature can only come from a signer who wants it to be odd (one
# R for many messages, or batch and single verification disagreeing, "Taming the many
# EdDSAs", 2020); refusing it costs honest signers nothing, since their R = [r]B is never small.
def _openssl_accepts(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def test_ed25519_identity_r_is_rejected() -> None:
    # with R the identity, [S]B = [k]A holds for S = k·a mod L: a valid RFC 8032 signature
    # that any key holder can make, the same R for every message
    key = KeyPair.from_secret("ed25519", bytes(range(32)))
    message = b"m"
    signature = identity_r_signature(key, message)
    assert _openssl_accepts(key.public.raw, signature, message)
    assert not key.public.verify(signature, message)


def test_ed25519_small_order_r_under_mixed_order_key_is_rejected() -> None:
    # ed25519-speccheck case 2 ("Taming the many EdDSAs", Chalkias et al. 2020, table 6.1):
    # A = a full-order point plus a point of order 8, R of order 8, 0 < S < L; valid under
    # the cofactorless equation, so OpenSSL accepts it
    public = bytes.fromhex("f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43")
    message = bytes.fromhex("aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab")
    signature = bytes.fromhex(
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"  # R, order 8
        "8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e"  # S
    )
    key = PublicKey.from_raw("ed25519", public)  # mixed order: not one of the eight refused
    assert _openssl_accepts(public, signature, message)
    assert not key.verify(signature, message)


@pytest.mark.parametrize("kind", ["p256", "p384"])
def test_ecdsa_psychic_signatures_are_rejected(kind: str) -> None:
    key = KeyPair.generate(kind)
    size = 32 if kind == "p256" else 48
    assert not key.public.verify(bytes(2 * size), b"m")
    good = key.sign(b"m")
    assert not key.public.verify(bytes(size) + good[size:], b"m")  # r = 0
    assert not key.public.verify(good[:size] + bytes(size), b"m")  # s = 0


def test_ecdsa_r_or_s_at_group_order_is_rejected() -> None:
    key = KeyPair.generate("p256")
    n = P256_N.to_bytes(32, "big")
    good = key.sign(b"m")
    assert not key.public.verify(n + good[32:], b"m")
    assert not key.public.verify(good[:32] + n, b"m")


def test_ecdsa_der_signature_is_rejected() -> None:
    key = KeyPair.generate("p256")
    raw = key.sign(b"m")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    assert not key.public.verify(der, b"m")


def test_ecdsa_high_s_is_detectable_and_still_mathematically_valid() -> None:
    key = KeyPair.generate("p256")
    raw = key.sign(b"m")
    s = int.from_bytes(raw[32:], "big")
    flipped = raw[:32] + (P256_N - s).to_bytes(32, "big")
    assert key.public.verify(flipped, b"m")  # ECDSA malleability: (r, n - s) is valid too
    assert ecdsa_signature_is_low_s("p256", raw) != ecdsa_signature_is_low_s("p256", flipped)


def test_local_signer_is_a_signer(ed_key: KeyPair) -> None:
    signer = LocalSigner(key=ed_key, key_id="did:example:1#k")
    assert isinstance(signer, Signer)
    assert signer.algorithm == JWS_ALG_FOR["ed25519"] == "EdDSA"
    assert ed_key.private_jwk()["d"] not in repr(signer)


def test_unknown_key_kind_is_usage_error() -> None:
    with pytest.raises(UsageError):
        KeyPair.generate("rsa")


def test_thumbprint_matches_rfc7638_example() -> None:
    # RFC 8037 appendix A.3: the thumbprint of the Ed25519 example key.
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert PublicKey.from_jwk(jwk).thumbprint() == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_a_remembered_thumbprint_is_the_key_own(any_key: KeyPair) -> None:
    # thumbprints are remembered by (kind, raw key): a fresh object of the same key gets the
    # same one, another key its own, and each is what RFC 7638 computes
    again = PublicKey.from_jwk(any_key.public.jwk())
    other = KeyPair.generate(any_key.kind).public
    for key in (any_key.public, again, other, any_key.public):
        canonical = json.dumps(key.jwk(), separators=(",", ":"), sort_keys=True).encode()
        expected = b64url_encode(hashlib.sha256(canonical).digest())
        assert key.thumbprint() == expected
    assert any_key.public.thumbprint() == again.thumbprint() != other.thumbprint()


@pytest.mark.parametrize("kind", ["p256", "p384"])
def test_peers_high_s_ecdsa_signatures_are_accepted_in_jws_and_data_integrity(kind: str) -> None:
    # None of our suites forbids high-S: RFC 7518 §3.4 (ES256/ES384) and the Data Integrity
    # ECDSA suites take any (r, s) with 0 < s < n, and peers' libraries (node's crypto, Go's
    # ecdsa) do not normalise. Rejecting (r, n - s) would refuse their valid credentials;
    # malleability gives a forger nothing here, because a credential is identified by its id,
    # never by its signature bytes. The detection helper is there for callers who insist.
    from vcred import issue, verify
    from vcred.multibase import b64url_decode, b64url_encode, multibase_decode, multibase_encode

    key = KeyPair.generate(kind)
    size = {"p256": 32, "p384": 48}[kind]
    order = {"p256": P256_N, "p384": _P384_N}[kind]

    def high_s(raw: bytes) -> bytes:
        s = int.from_bytes(raw[size:], "big")
        flipped = raw[:size] + (order - s).to_bytes(size, "big")
        return flipped if not ecdsa_signature_is_low_s(kind, flipped) else raw

    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"name": "Harbour Lights Trading"},
    }
    token = str(issue(credential, key))
    head, body, signature = token.split(".")
    peer_token = f"{head}.{body}.{b64url_encode(high_s(b64url_decode(signature)))}"
    assert not ecdsa_signature_is_low_s(kind, b64url_decode(peer_token.split(".")[2]))
    assert verify(peer_token).verified
    secured = issue(credential, key, format="ecdsa-rdfc-2019")
    assert isinstance(secured, dict)
    raw = multibase_decode(secured["proof"]["proofValue"])
    secured["proof"]["proofValue"] = multibase_encode(high_s(raw), "z")
    assert not ecdsa_signature_is_low_s(kind, multibase_decode(secured["proof"]["proofValue"]))
    assert verify(secured).verified


_P384_N = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
    16,
)


def test_a_key_file_nested_past_the_parser_is_a_parsing_error() -> None:
    # json.loads's RecursionError came out of load_key (vcred keys, the services' key files)
    with pytest.raises(ParsingError, match="the key file is not JSON"):
        load_key('{"a":' * 100_000)
