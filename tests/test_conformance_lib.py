"""Conformance causes at library level (issue 18): credentials already in the wild and the
inputs the W3C suites give (didkit's VC-JWT 1.1 tokens, P-521 / ES512, ...)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.conftest import CONTEXTS, NOW, credential, require_shared
from vcred import Verifier, issue, jose, present
from vcred.cli import main
from vcred.did import KeyResolver, Resolver, did_jwk, did_key
from vcred.did.key import did_key_method_id, resolve_did_key
from vcred.errors import (
    DigestMismatchError,
    MalformedError,
    ParsingError,
    UsageError,
    VcredError,
)
from vcred.issuing import signer_for
from vcred.jsonld import ContextLoader, context_digest
from vcred.keys import JWS_ALG_FOR, KeyPair, PublicKey, load_key, load_public_key
from vcred.model import validate_credential
from vcred.multibase import b64url_encode, multibase_decode, multibase_encode, varint_decode
from vcred.related import check_related_resources
from vcred.testing import StaticFetcher

VERIFIER = Verifier(clock=lambda: NOW, checks=("proof", "issuer", "validity"))


def sign_raw(header: dict[str, Any], payload_json: str, key: KeyPair) -> str:
    """A compact JWS over the exact payload text (to keep didkit's float NumericDates)."""
    signing_input = (
        b64url_encode(json.dumps(header).encode()) + "." + b64url_encode(payload_json.encode())
    )
    return signing_input + "." + b64url_encode(key.sign(signing_input.encode()))


def didkit_token(key: KeyPair, *, header: dict[str, Any] | None = None, **claims: str) -> str:
    """A VC-JWT 1.1 token as Spruce's didkit (ssi) writes it: no typ, NumericDates as f64."""
    did = did_key(key.public)
    vc = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"name": "Harbour Lights"},
    }
    times = {"nbf": "1767225600.0", "exp": "1798761600.25", **claims}
    numbers = ",".join(f'"{name}":{value}' for name, value in times.items())
    payload = (
        f'{{"iss":"{did}","sub":"did:example:trader","jti":"urn:uuid:7",{numbers},'
        f'"vc":{json.dumps(vc)}}}'
    )
    head = header if header is not None else {"alg": "EdDSA", "kid": did_key_method_id(key.public)}
    return sign_raw(head, payload, key)


# -- VC-JWT 1.1 as didkit issues it (VCDM 1.1 §6.3.1, RFC 7519 §2) -------------------------------


def test_didkit_vc_jwt_without_typ_and_with_float_dates_verifies() -> None:
    key = KeyPair.generate()
    result = VERIFIER.verify(didkit_token(key))
    assert result.verified, result.errors
    assert result.credential is not None
    assert result.credential["issuanceDate"] == "2026-01-01T00:00:00Z"
    assert result.credential["expirationDate"] == "2027-01-01T00:00:00.25Z"


def test_legacy_typ_if_present_must_be_jwt() -> None:
    key = KeyPair.generate()
    kid = did_key_method_id(key.public)
    for typ in ("JWT", None):
        header = {"alg": "EdDSA", "kid": kid, **({"typ": typ} if typ else {})}
        assert VERIFIER.verify(didkit_token(key, header=header)).verified
    token = didkit_token(key, header={"alg": "EdDSA", "kid": kid, "typ": "JOSE"})
    with pytest.raises(MalformedError, match="typ") as error:
        jose.verify_vc_jwt(token, lookup=lambda m, r: Resolver().resolve_method(m, relationship=r))
    assert error.value.pointer == "/header/typ"


def test_vc_jose_cose_token_still_needs_its_typ() -> None:
    key = KeyPair.generate()
    header = {"alg": "EdDSA", "kid": did_key_method_id(key.public)}
    token = sign_raw(header, json.dumps(credential(issuer=did_key(key.public))), key)
    result = VERIFIER.verify(token)
    assert not result.verified
    assert "MALFORMED" in result.codes


@pytest.mark.parametrize("value", ["1e400", "-1e400", "253402300800", "1e19", "true", '"1"'])
def test_unrepresentable_numeric_date_is_malformed_not_an_exception(value: str) -> None:
    key = KeyPair.generate()
    result = VERIFIER.verify(didkit_token(key, exp=value))
    assert not result.verified
    assert "MALFORMED" in result.codes
    assert any(problem.path == "/exp" for problem in result.errors)


def test_numeric_date_bounds() -> None:
    assert jose.numeric_date(253402300799.5, pointer="/exp").year == 9999
    assert jose.numeric_date(-62135596800, pointer="/nbf").year == 1
    for value in (float("inf"), float("nan"), 253402300800, -62135596801, 10**400):
        with pytest.raises(MalformedError):
            jose.numeric_date(value, pointer="/exp")


# -- P-521 / ES512 (RFC 7518 §3.4, multicodec p521-pub 0x1202) -----------------------------------


def test_p521_key_encodings_round_trip() -> None:
    key = KeyPair.generate("p521")
    jwk = key.public.jwk()
    assert (jwk["kty"], jwk["crv"]) == ("EC", "P-521")
    assert len(jwk["x"]) == len(jwk["y"]) == 88  # 66 bytes, base64url
    assert PublicKey.from_jwk(jwk) == key.public
    codec, used = varint_decode(multibase_decode(key.public.multikey()))
    assert codec == 0x1202 and len(multibase_decode(key.public.multikey())) - used == 67
    assert PublicKey.from_multikey(key.public.multikey()) == key.public
    assert load_key(json.dumps(key.private_jwk())).public == key.public
    assert load_key(key.secret_multikey()).public == key.public
    assert load_key(key.to_pem()).public == key.public
    assert did_key(key.public).startswith("did:key:z2J9")  # the did:key spec's P-521 prefix
    assert resolve_did_key(did_key(key.public)).id == did_key(key.public)


def test_p521_signature_is_132_bytes_and_checks_r_and_s() -> None:
    key = KeyPair.generate("p521")
    signature = key.sign(b"data")
    assert len(signature) == 132 and key.public.verify(signature, b"data")
    assert not key.public.verify(bytes(132), b"data")
    assert not key.public.verify(signature[:-1], b"data")


@pytest.mark.parametrize("method", ["key", "jwk"])
def test_es512_vc_jwt_issues_and_verifies(method: str) -> None:
    key = KeyPair.generate("p521")
    did = did_key(key.public) if method == "key" else did_jwk(key.public)
    token = issue(credential(), signer_for(key, did=did))
    assert isinstance(token, str)
    assert jose.unverified_header(token)["alg"] == "ES512" == JWS_ALG_FOR["p521"]
    result = VERIFIER.verify(token)
    assert result.verified, result.errors


def test_es512_header_with_another_curve_key_is_refused() -> None:
    p256 = KeyPair.generate("p256")
    header = {"alg": "ES512", "kid": did_key_method_id(p256.public), "typ": "vc+jwt"}
    token = sign_raw(header, json.dumps(credential(issuer=did_key(p256.public))), p256)
    result = VERIFIER.verify(token)
    assert result.codes == ("INVALID_SIGNATURE",)
    assert result.errors[0].path == "/header/alg"


@pytest.mark.parametrize("fmt", ["data-integrity", "ecdsa-rdfc-2019", "ecdsa-jcs-2019"])
def test_p521_is_refused_by_the_data_integrity_suites(fmt: str) -> None:
    # VC DI ECDSA §2.2.1 defines P-256 and P-384 only
    key = KeyPair.generate("p521")
    with pytest.raises(UsageError, match="p521"):
        issue(credential(), key, format=fmt)


# -- issuers known by URL, keys supplied separately (the VC-JOSE-COSE suite's inputs) -------------

URL_ISSUER = "https://example.edu/issuers/14"


@pytest.mark.parametrize(("kind", "fmt"), [("p521", "vc+jwt"), ("p256", "ecdsa-rdfc-2019")])
def test_an_https_issuer_verifies_against_its_given_key_only(kind: str, fmt: str) -> None:
    key = KeyPair.generate(kind)
    secured = issue(
        credential(issuer=URL_ISSUER), signer_for(key, did=URL_ISSUER), format=fmt, now=NOW
    )
    with_key = Verifier(clock=lambda: NOW, resolver=KeyResolver(key=key.public))
    result = with_key.verify(secured)
    assert result.verified, result.errors
    assert result.issuer == URL_ISSUER
    # without the key nothing is looked up on the web: the key is unknown
    assert Verifier(clock=lambda: NOW).verify(secured).codes == ("UNKNOWN_KEY",)
    other = Verifier(clock=lambda: NOW, resolver=KeyResolver(key=KeyPair.generate(kind).public))
    assert other.verify(secured).codes == ("INVALID_SIGNATURE",)


def test_a_given_key_signs_only_for_the_issuer_its_method_belongs_to() -> None:
    key = KeyPair.generate("p256")
    header = {"alg": "ES256", "kid": "https://evil.example/issuer#k", "typ": "vc+jwt"}
    token = sign_raw(header, json.dumps(credential(issuer=URL_ISSUER)), key)
    result = Verifier(clock=lambda: NOW, resolver=KeyResolver(key=key.public)).verify(token)
    assert result.codes == ("UNKNOWN_KEY",)


def test_signer_for_an_https_issuer_names_a_method_of_it() -> None:
    key = KeyPair.generate()
    assert signer_for(key, did=URL_ISSUER).key_id == f"{URL_ISSUER}#{key.public.thumbprint()}"
    assert signer_for(key, did=URL_ISSUER, key_id=f"{URL_ISSUER}#k1").key_id.endswith("#k1")
    for wrong in ("https://other.example#k1", URL_ISSUER, f"{URL_ISSUER}/sub#k"):
        with pytest.raises(UsageError):
            signer_for(key, did=URL_ISSUER, key_id=wrong)
    with pytest.raises(UsageError):
        signer_for(key, key_id=f"{did_key(key.public)}#other")
    with pytest.raises(UsageError):
        signer_for(key, did="http://example.edu/issuer")


def test_load_public_key_reads_jwk_multikey_and_methods_but_no_secret() -> None:
    key = KeyPair.generate("p521")
    public = key.public
    assert load_public_key(json.dumps({**public.jwk(), "kid": "key-1", "alg": "ES512"})) == public
    assert load_public_key(public.multikey() + "\n") == public
    method = {"type": "Multikey", "publicKeyMultibase": public.multikey()}
    assert load_public_key(json.dumps(method)) == public
    assert load_public_key(json.dumps({"publicKeyJwk": public.jwk()})) == public
    for secret in (json.dumps(key.private_jwk()), key.secret_multikey()):
        with pytest.raises(VcredError):
            load_public_key(secret)
    with pytest.raises(VcredError):
        load_public_key(json.dumps({**method, "secretKeyMultibase": key.secret_multikey()}))
    with pytest.raises(ParsingError):
        load_public_key("-----BEGIN PUBLIC KEY-----")


def test_cli_issues_for_an_https_issuer_and_verifies_with_a_public_key_file(
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    key = KeyPair.generate("p521")
    (tmp_path / "k.jwk").write_text(json.dumps(key.private_jwk()))
    (tmp_path / "pub.jwk").write_text(json.dumps({**key.public.jwk(), "kid": "key-1"}))
    (tmp_path / "other.jwk").write_text(json.dumps(KeyPair.generate("p521").public.jwk()))
    (tmp_path / "c.json").write_text(json.dumps(credential(issuer=URL_ISSUER)))
    issued = runner.invoke(
        main,
        [
            *("issue", str(tmp_path / "c.json"), "--key", str(tmp_path / "k.jwk")),
            *("--issuer", URL_ISSUER, "--key-id", f"{URL_ISSUER}#key-1"),
        ],
    )
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip()
    assert jose.unverified_header(token)["kid"] == f"{URL_ISSUER}#key-1"
    verified = runner.invoke(main, ["verify", "-", "--key", str(tmp_path / "pub.jwk")], token)
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["issuer"] == URL_ISSUER
    refused = runner.invoke(main, ["verify", "-", "--key", str(tmp_path / "other.jwk")], token)
    assert refused.exit_code == 1
    assert [e["code"] for e in json.loads(refused.output)["errors"]] == ["INVALID_SIGNATURE"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["verify", "-", "--key", "{k}"], "private key"),
        (["verify", "-", "--key", "{pub}", "--trust-list", "{pub}"], "cannot be combined"),
        (["issue", "{c}", "--key", "{k}", "--key-id", "https://x.example#1"], "https URL"),
        (["issue", "{c}", "--key", "{k}", "--format", "ecdsa-rdfc-2019"], "p521"),
    ],
)
def test_cli_key_usage_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    key = KeyPair.generate("p521")
    files = {"k": tmp_path / "k.jwk", "pub": tmp_path / "pub.jwk", "c": tmp_path / "c.json"}
    files["k"].write_text(json.dumps(key.private_jwk()))
    files["pub"].write_text(json.dumps(key.public.jwk()))
    files["c"].write_text(json.dumps(credential()))
    argv = [arg.format(**{name: str(path) for name, path in files.items()}) for arg in args]
    result = CliRunner().invoke(main, argv, "{}")
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


# -- relatedResource digests (VCDM 2.0 §5.3) ------------------------------------------------------

V2 = "https://www.w3.org/ns/credentials/v2"
INVOICE = "https://docs.example/invoices/INV-1"


def published_v2() -> bytes:
    """The W3C's own bytes of the v2 context (skips without the shared folder)."""
    return (require_shared(CONTEXTS) / "credentials-v2.jsonld").read_bytes()


INVOICE_BYTES = b'{"invoice": "INV-1", "total": "100.00"}'


def sri(content: bytes, name: str = "sha384") -> str:
    return f"{name}-" + base64.b64encode(hashlib.new(name, content).digest()).decode()


def multihash(content: bytes) -> str:
    return multibase_encode(bytes([0x12, 32]) + hashlib.sha256(content).digest(), "u")


def with_related(*entries: dict[str, Any]) -> dict[str, Any]:
    return credential(relatedResource=list(entries))


def test_a_context_digest_is_checked_against_the_published_context() -> None:
    key = KeyPair.generate()
    good = with_related(
        {"id": V2, "digestSRI": sri(published_v2())},
        {"id": INVOICE, "digestMultibase": multihash(INVOICE_BYTES)},
    )
    result = VERIFIER.verify(issue(good, key))
    assert result.verified, result.errors
    check = result.check("relatedResource")
    assert check is not None and check.passed is True
    assert "1 related resource(s) match" in check.detail and "1 not retrieved" in check.detail


@pytest.mark.parametrize("member", ["digestSRI", "digestMultibase"])
def test_a_wrong_context_digest_is_digest_mismatch_with_pointer(member: str) -> None:
    key = KeyPair.generate()
    wrong = published_v2() + b" "
    digest = sri(wrong) if member == "digestSRI" else multihash(wrong)
    document = with_related({"id": INVOICE, "digestSRI": sri(INVOICE_BYTES)}, {"id": V2})
    document["relatedResource"][1][member] = digest
    with pytest.raises(DigestMismatchError) as error:  # the issuer refuses to sign it
        issue(document, key)
    assert error.value.pointer == f"/relatedResource/1/{member}"
    token = jose.issue_vc_jwt({**document, "issuer": did_key(key.public)}, signer_for(key))
    result = VERIFIER.verify(token)
    assert not result.verified
    assert result.codes == ("DIGEST_MISMATCH",)
    assert result.errors[0].path == f"/relatedResource/1/{member}"


def test_a_registered_context_is_checked_against_its_registered_bytes() -> None:
    url = "https://contexts.example/trade/v1"
    content = b'{"@context": {"tariff": "https://contexts.example/trade#tariff"}}'
    loader = ContextLoader({url: (content, hashlib.sha256(content).hexdigest())})
    assert loader.published_digest(url, "sha512") == hashlib.sha512(content).digest()
    parsed = ContextLoader({url: (json.loads(content), context_digest(json.loads(content)))})
    assert parsed.published_digest(url, "sha256") is None  # the published bytes are unknown
    entry = {"relatedResource": [{"id": url, "digestSRI": sri(content + b"\n")}]}
    with pytest.raises(DigestMismatchError):
        check_related_resources(entry, contexts=loader)
    report = check_related_resources(entry, contexts=parsed)
    assert report.unchecked == (url,) and report.checked == ()


def test_other_resources_are_fetched_and_checked_only_when_asked() -> None:
    key = KeyPair.generate()
    fetcher = StaticFetcher()
    fetcher.publish(INVOICE, INVOICE_BYTES)
    document = with_related({"id": INVOICE, "digestSRI": sri(INVOICE_BYTES, "sha512")})
    token = issue(document, key)
    assert Verifier(clock=lambda: NOW, fetcher=fetcher).verify(token).verified
    assert fetcher.hits == []  # not used by verification: not retrieved
    fetching = Verifier(clock=lambda: NOW, fetcher=fetcher, fetch_related_resources=True)
    assert fetching.verify(token).verified
    assert fetcher.hits == [INVOICE]
    fetcher.publish(INVOICE, INVOICE_BYTES + b" ")
    changed = fetching.verify(token)
    assert changed.codes == ("DIGEST_MISMATCH",)
    assert changed.errors[0].path == "/relatedResource/0/digestSRI"
    del fetcher.documents[INVOICE]  # cannot be retrieved: fails closed, the caller asked
    missing = fetching.verify(token)
    assert not missing.verified
    assert missing.errors[0].path == "/relatedResource/0/id"


def test_fetch_related_resources_needs_a_fetcher() -> None:
    with pytest.raises(UsageError):
        Verifier(fetch_related_resources=True)


@pytest.mark.parametrize(
    "digest",
    [
        {"digestSRI": "md5-AAAA"},
        {"digestSRI": "sha384-" + base64.b64encode(b"short").decode()},
        {"digestSRI": ["sha256-!!"]},
        {"digestMultibase": "uAAAA"},
        {"digestMultibase": 7},
    ],
)
def test_an_unreadable_digest_is_malformed_with_pointer(digest: dict[str, Any]) -> None:
    with pytest.raises(MalformedError) as error:
        validate_credential({**with_related({"id": INVOICE, **digest}), "issuer": "did:ex:1"})
    assert error.value.pointer is not None
    assert error.value.pointer.startswith("/relatedResource/0/digest")


def test_a_data_integrity_proof_naming_a_p521_key_is_an_invalid_proof() -> None:
    p256, p521 = KeyPair.generate("p256"), KeyPair.generate("p521")
    signed = issue(credential(), p256, format="ecdsa-rdfc-2019", now=NOW)
    assert isinstance(signed, dict)
    signed["issuer"] = did_key(p521.public)
    signed["proof"]["verificationMethod"] = did_key_method_id(p521.public)
    result = VERIFIER.verify(signed)
    assert result.codes == ("INVALID_PROOF",)
    assert "P256 or P384" in result.errors[0].message


def test_an_https_holder_presents_and_verifies_with_its_given_key() -> None:
    key = KeyPair.generate("p521")
    holder = "https://trader.example/holder"
    token = issue(
        credential(issuer=URL_ISSUER, credentialSubject={"id": holder, "name": "Harbour"}),
        signer_for(key, did=URL_ISSUER),
    )
    vp = present([token], signer_for(key, did=holder), challenge="c-1", domain="d.example")
    assert isinstance(vp, str) and jose.unverified_payload(vp)["holder"] == holder
    verifier = Verifier(clock=lambda: NOW, resolver=KeyResolver(key=key.public))
    result = verifier.verify_presentation(vp, challenge="c-1", domain="d.example")
    assert result.verified, result.errors
    other = Verifier(clock=lambda: NOW, resolver=KeyResolver(key=KeyPair.generate("p521").public))
    assert not other.verify_presentation(vp, challenge="c-1", domain="d.example").verified
