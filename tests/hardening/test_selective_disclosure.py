"""Selective disclosure reviewed as invariants (docs/security.md §13.29).

SD-JWT (RFC 9901, SD-JWT VC) and ecdsa-sd-2023 (W3C vc-di-ecdsa §3.3): no input makes
``verify()`` / ``verify_presentation()`` raise; everything a check or a caller reads was
signed, or disclosed under a digest that was; a rule that cannot establish its input says no.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import sys
from collections.abc import Callable
from typing import Any

import cbor2
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.conftest import NOW, billing_attestation
from tests.integrity.test_ecdsa_sd import SELECTED, _credential, _with_value
from tests.test_sdjwt import bind, disclosure, forge, signed_payload
from vcred import Verifier, derive, issue, jose, sdjwt
from vcred.did import did_key
from vcred.errors import VcredError
from vcred.integrity import ecdsa_sd
from vcred.integrity.selective import label_replacement_canonicalize_json_ld
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.multibase import b64url_decode, b64url_encode
from vcred.sdjwt import SdJwtParts

AT = Verifier(clock=lambda: NOW)
SKEW = 60  # Verifier's default clock skew, in seconds
_NOW = int(NOW.timestamp())


@pytest.fixture(scope="module")
def agency() -> KeyPair:
    return KeyPair.generate("ed25519")


@pytest.fixture(scope="module")
def trader() -> KeyPair:
    return KeyPair.generate("p256")


@pytest.fixture(scope="module")
def issued(agency: KeyPair, trader: KeyPair) -> str:
    return str(issue(billing_attestation(), agency, format="vc+sd-jwt", holder=trader.public))


# -- SD-JWT: the key-binding JWT's own validity window ---------------------------------------


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    exp=st.none() | st.integers(-3 * SKEW, 3 * SKEW),
    nbf=st.none() | st.integers(-3 * SKEW, 3 * SKEW),
)
def test_a_key_binding_is_held_to_the_exp_and_nbf_its_holder_signed(
    issued: str, trader: KeyPair, exp: int | None, nbf: int | None
) -> None:
    """RFC 7519 §4.1.4-5: a KB-JWT whose holder bounded it in time is refused outside that
    window (with the verifier's skew). Both were read by nobody: a binding its holder said had
    expired verified for as long as its iat was fresh."""
    window = {
        name: _NOW + offset for name, offset in (("exp", exp), ("nbf", nbf)) if offset is not None
    }
    token = bind(issued, trader, extra=window)
    result = AT.verify_presentation(token, challenge="n-1", domain="customs.jp.example")
    expected = []
    if exp is not None and exp <= -SKEW:
        expected.append(("EXPIRED", "/kb/exp"))
    elif nbf is not None and nbf > SKEW:
        expected.append(("NOT_YET_VALID", "/kb/nbf"))
    assert [(e.code, e.path) for e in result.errors] == expected
    assert result.verified is not expected


@pytest.mark.parametrize("value", ["1767225600", True, [1], {"t": 1}, 10**20, None])
@pytest.mark.parametrize("name", ["exp", "nbf"])
def test_a_key_binding_exp_or_nbf_that_is_no_numeric_date_is_malformed(
    issued: str, trader: KeyPair, name: str, value: Any
) -> None:
    token = bind(issued, trader, extra={name: value})
    result = AT.verify_presentation(token, challenge="n-1", domain="customs.jp.example")
    assert "MALFORMED" in result.codes
    assert any(e.path == f"/kb/{name}" for e in result.errors)
    assert not result.verified


# -- SD-JWT: what a verified credential shows was disclosed under a signed digest -------------

_PATHS = [
    "/credentialSubject/exporter",
    "/credentialSubject/exporter/legalName",
    "/credentialSubject/invoice/totalAmount",
    "/credentialSubject/lineItems/*",
    "/credentialSubject/lineItems/*/amount",
]


def _part_of(shown: Any, full: Any) -> bool:
    """Whether ``shown`` is ``full`` with members and array elements left out, nothing else:
    each member as in ``full``, each array a subsequence of ``full``'s."""
    if isinstance(shown, dict):
        return isinstance(full, dict) and all(
            k in full and _part_of(v, full[k]) for k, v in shown.items()
        )
    if isinstance(shown, list):
        if not isinstance(full, list):
            return False
        rest = iter(full)
        return all(any(_part_of(item, candidate) for candidate in rest) for item in shown)
    return type(shown) is type(full) and shown == full


@pytest.fixture(scope="module")
def two_issuances(agency: KeyPair, trader: KeyPair) -> tuple[str, str]:
    """The same credential issued twice: the same claims, other salts and digests."""
    first, second = (
        str(
            issue(
                billing_attestation(),
                agency,
                format="vc+sd-jwt",
                holder=trader.public,
                disclosable=_PATHS,
            )
        )
        for _ in range(2)
    )
    return first, second


def _mutated(text: str, how: str) -> str:
    decoded = sdjwt.decode_disclosure(text)
    if how == "value":
        value: Any = {"forged": True}
    elif how == "salt":
        value = decoded.value
        return disclosure(decoded.salt + "A", decoded.name, value)[0]
    else:  # as the other kind: a property as an element, an element as a property
        if decoded.name is not None:
            return disclosure(decoded.salt, decoded.value)[0]
        return disclosure(decoded.salt, "legalName", decoded.value)[0]
    items = [decoded.salt, value] if decoded.name is None else [decoded.salt, decoded.name, value]
    return disclosure(*items)[0]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_what_a_verified_sd_jwt_shows_was_issued(two_issuances: tuple[str, str], data: Any) -> None:
    """Any choice of disclosures — left out, repeated, reordered, taken from another issuance
    of the same credential, altered, used as the other kind — verifies only as a part of the
    issued credential, and raises nothing."""
    first, second = (sdjwt.parse(token) for token in two_issuances)
    full = sdjwt.unverified_claims(two_issuances[0])
    own = st.sampled_from(first.disclosures)
    foreign = st.sampled_from(second.disclosures)
    altered = st.tuples(own, st.sampled_from(["value", "salt", "kind"])).map(
        lambda pair: _mutated(*pair)
    )
    kept = data.draw(st.lists(own, unique=True, max_size=12), label="kept")
    hostile = data.draw(st.lists(own | foreign | altered, max_size=2), label="added")
    chosen = data.draw(st.permutations(kept + hostile), label="disclosures")
    result = AT.verify(str(SdJwtParts(first.jwt, tuple(chosen))))
    event("verified" if result.verified else "refused")
    if not set(chosen) <= set(first.disclosures) or len(set(chosen)) != len(chosen):
        assert not result.verified and result.credential is None
        return
    if result.verified:
        assert result.credential is not None
        shown = {k: v for k, v in result.credential.items() if k != "issuer"}
        assert _part_of(shown, full), result.credential


# -- SD-JWT: no input makes verify() or verify_presentation() raise ----------------------------

_LEAF = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5)
)
_JSON = st.recursive(
    _LEAF,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(subject_id=_JSON, listed=st.booleans())
def test_a_subject_id_of_any_type_in_a_key_bound_sd_jwt_is_a_typed_failure(
    agency: KeyPair, trader: KeyPair, subject_id: Any, listed: bool
) -> None:
    """The presenter of an SD-JWT+KB is looked for among the subjects' ids: an id that was an
    object or an array (signed by anyone with a did:key) made ``verify_presentation`` raise
    TypeError (unhashable) instead of failing the structure check."""
    subject = {"id": subject_id}
    payload = {
        **signed_payload(agency, [subject] if listed else subject),
        "_sd_alg": "sha-256",
        "cnf": {"jwk": trader.public.jwk()},
    }
    token = bind(forge(payload, [], agency), trader, nonce="c", aud="a")
    result = AT.verify_presentation(token, challenge="c", domain="a")
    if not isinstance(subject_id, str):
        assert not result.verified
        where = "/verifiableCredential/0/credentialSubject" + ("/0" if listed else "") + "/id"
        assert any(e.path == where for e in result.errors), result.errors


_NAMES = st.sampled_from(
    [
        "a",
        "b",
        "",
        "0",
        "_sd",
        "...",
        "_sd_alg",
        "iss",
        "cnf",
        "vct",
        "status",
        "exp",
        "type",
        "issuer",
        "validUntil",
        "credentialStatus",
        "id",
        "@context",
        "@id",
    ]
)


@st.composite
def _hostile_sd_jwt_claims(draw: Any) -> tuple[Any, list[str]]:
    """Claims with ``_sd`` arrays and ``...`` elements of every kind — real digests of property
    and element disclosures (recursive), decoys, non-digests, repeats, a non-array ``_sd``,
    ``...`` beside another member — and the disclosures made on the way."""
    disclosures: list[str] = []

    def disclosed(*items: Any) -> str:
        text, digest = disclosure(*items)
        disclosures.append(text)
        return digest

    def node(depth: int) -> Any:
        kind = draw(st.sampled_from(["leaf", "object", "array"] if depth < 4 else ["leaf"]))
        if kind == "leaf":
            return draw(_LEAF)
        if kind == "object":
            obj = {draw(_NAMES): node(depth + 1) for _ in range(draw(st.integers(0, 3)))}
            digests: list[Any] = []
            for _ in range(draw(st.integers(0, 3))):
                how = draw(st.sampled_from(["property", "element", "decoy", "junk", "repeat"]))
                if how == "property":
                    digests.append(
                        disclosed(draw(st.text(max_size=3)), draw(_NAMES), node(depth + 1))
                    )
                elif how == "element":
                    digests.append(disclosed("c2FsdA", node(depth + 1)))
                elif how == "decoy":
                    digests.append(sdjwt.digest(draw(st.text(alphabet="xyz", max_size=4))))
                elif how == "junk":
                    digests.append(draw(_LEAF))
                elif digests:
                    digests.append(digests[0])
            if digests or draw(st.booleans()):
                obj["_sd"] = digests if draw(st.integers(0, 9)) else draw(_LEAF)
            return obj
        items: list[Any] = []
        for _ in range(draw(st.integers(0, 3))):
            how = draw(st.sampled_from(["plain", "element", "property", "beside"]))
            if how == "plain":
                items.append(node(depth + 1))
            elif how == "element":
                items.append({"...": disclosed("c2FsdA", node(depth + 1))})
            elif how == "property":
                items.append({"...": disclosed("c2FsdA", draw(_NAMES), node(depth + 1))})
            else:
                items.append({"...": draw(_LEAF), "other": 1})
        return items

    return node(1), disclosures


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(claims=_hostile_sd_jwt_claims(), vcdm=st.booleans(), data=st.data())
def test_no_sd_jwt_structure_makes_verify_raise(
    agency: KeyPair, trader: KeyPair, claims: tuple[Any, list[str]], vcdm: bool, data: Any
) -> None:
    """vc+sd-jwt and dc+sd-jwt, signed with a did:key, their disclosures in any order (one
    maybe twice), alone and key-bound: ``verify`` and ``verify_presentation`` answer."""
    tree, made = claims
    extra = data.draw(st.lists(st.sampled_from(made), max_size=1)) if made else []
    disclosures = data.draw(st.permutations(made + extra), label="disclosures")
    members = tree if isinstance(tree, dict) else {"value": tree}
    cnf = {"cnf": {"jwk": trader.public.jwk()}}
    if vcdm:
        token = forge(
            {**signed_payload(agency, members), "_sd_alg": "sha-256", **cnf}, disclosures, agency
        )
    else:
        payload = {"iss": did_key(agency.public), "vct": "https://x.example/t", **cnf, **members}
        jwt = jose.sign_compact(payload, signer_for(agency), typ="dc+sd-jwt")
        token = str(SdJwtParts(jwt, tuple(disclosures)))
    AT.verify(token)
    AT.verify_presentation(bind(token, trader, nonce="c", aud="a"), challenge="c", domain="a")


# -- SD-JWT: resource bounds -------------------------------------------------------------------


def _many(agency: KeyPair, count: int) -> str:
    """A self-issued (did:key) SD-JWT: ``count`` disclosures, four times as many digests."""
    encoded, digests = [], []
    for i in range(count):
        text, digest = disclosure("c2FsdA", f"claim{i}", i)
        encoded.append(text)
        digests.append(digest)
    decoys = [sdjwt.digest(f"decoy {i}") for i in range(3 * count)]
    subject = {"id": "did:example:x", "_sd": digests + decoys}
    return forge(signed_payload(agency, subject), encoded, agency)


def _calls(token: str) -> int:
    """Function calls (Python and C) one verification makes: work, not time."""
    count = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        verified = sdjwt.verify(token, lookup=AT.method_lookup)
    finally:
        sys.setprofile(None)
    assert len(verified.disclosed) > 0
    return count


def test_checking_disclosures_is_linear_in_their_number(agency: KeyPair) -> None:
    """Each digest was compared with each disclosure: 4,096 digests and 1,024 disclosures
    (the limits) made four million comparisons, a quarter of a second per request, for a token
    anyone signs with a did:key before trust is asked. Eight times the disclosures and digests
    now cost at most ten times the calls (it was 37 times)."""
    _calls(_many(agency, 4))  # the issuer's key resolved and cached once
    small, large = _calls(_many(agency, 32)), _calls(_many(agency, 256))
    assert large <= 10 * small, (small, large)


def test_the_largest_token_the_limits_allow_verifies(agency: KeyPair) -> None:
    token = _many(agency, sdjwt.MAX_DISCLOSURES)
    assert AT.verify(token).verified
    too_many = sdjwt.parse(token)
    extra = disclosure("c2FsdA", "one more", 1)[0]
    result = AT.verify(str(SdJwtParts(too_many.jwt, (*too_many.disclosures, extra))))
    assert result.codes == ("PARSING_ERROR",)


# -- SD-JWT: what already held, pinned ---------------------------------------------------------


def _kb(sd_jwt: str, key: KeyPair, header: dict[str, Any], **claims: Any) -> str:
    """A key-binding JWT whose header is written by hand (alg, typ, crit as given)."""
    payload = {"iat": _NOW, "aud": "a", "nonce": "c", "sd_hash": sdjwt.digest(sd_jwt), **claims}
    signing_input = (
        b64url_encode(json.dumps(header).encode())
        + "."
        + b64url_encode(json.dumps(payload).encode())
    )
    return f"{sd_jwt}{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"


ES256_KB = {"alg": "ES256", "typ": "kb+jwt"}


@pytest.mark.parametrize(
    ("header", "claims", "code", "path"),
    [
        ({"alg": "none", "typ": "kb+jwt"}, {}, "UNSUPPORTED", "/kb/header/alg"),
        ({"alg": "HS256", "typ": "kb+jwt"}, {}, "UNSUPPORTED", "/kb/header/alg"),
        ({"alg": "ES256", "typ": "application/kb+jwt"}, {}, "MALFORMED", "/kb/header/typ"),
        ({**ES256_KB, "crit": ["x"], "x": 1}, {}, "UNSUPPORTED", "/kb/header/crit"),
        (ES256_KB, {"sd_hash": "\ud800"}, "MALFORMED", None),
        (ES256_KB, {"nonce": "\ud800"}, "MALFORMED", None),
        (ES256_KB, {"iat": _NOW + 0.5}, "MALFORMED", "/kb/iat"),
        (ES256_KB, {"iat": 10**15}, "MALFORMED", "/kb/iat"),
        (ES256_KB, {"aud": []}, "INVALID_DOMAIN", None),
        (ES256_KB, {"aud": 5}, "MALFORMED", "/kb/aud"),
        (ES256_KB, {"aud": ["a", 5]}, "MALFORMED", "/kb/aud"),
        (ES256_KB, {"nonce": 5}, "MALFORMED", "/kb/nonce"),
        (ES256_KB, {"sd_hash": None}, "MALFORMED", "/kb/sd_hash"),
        (ES256_KB, {"aud": ["b", "a"]}, None, None),
    ],
)
def test_key_binding_jwts_that_held(
    issued: str,
    trader: KeyPair,
    header: dict[str, Any],
    claims: dict[str, Any],
    code: str | None,
    path: str | None,
) -> None:
    token = _kb(sdjwt.parse(issued).sd_jwt, trader, header, **claims)
    result = AT.verify_presentation(token, challenge="c", domain="a")
    if code is None:
        assert result.verified, result.errors
        return
    assert code in result.codes and not result.verified
    if path is not None:
        assert any(e.path == path for e in result.errors), result.errors


@pytest.mark.parametrize("cut", ["last ~", "padded"])
def test_an_sd_hash_over_another_text_of_the_sd_jwt_is_refused(
    issued: str, trader: KeyPair, cut: str
) -> None:
    sd_jwt = sdjwt.parse(issued).sd_jwt
    other = sdjwt.digest(sd_jwt[:-1]) if cut == "last ~" else sdjwt.digest(sd_jwt) + "="
    result = AT.verify_presentation(
        _kb(sd_jwt, trader, ES256_KB, sd_hash=other), challenge="c", domain="a"
    )
    assert "DIGEST_MISMATCH" in result.codes


def test_a_key_binding_nobody_asked_for_is_still_checked(issued: str, trader: KeyPair) -> None:
    sd_jwt = sdjwt.parse(issued).sd_jwt
    assert AT.verify(_kb(sd_jwt, trader, ES256_KB)).verified
    wrong = _kb(sd_jwt, trader, ES256_KB, sd_hash=sdjwt.digest("x"))
    assert AT.verify(wrong).codes == ("DIGEST_MISMATCH",)


def _canonical_b64(text: str) -> str:
    """``text`` with the unused low bits of its last base64url character set: another
    encoding of the same bytes."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert len(text) % 4 in (2, 3)
    return text[:-1] + alphabet[alphabet.index(text[-1]) | 1]


@pytest.mark.parametrize(
    ("subject", "disclosed", "code"),
    [
        ({"_sd": None}, [], "MALFORMED"),
        ({"_sd": [{"digest": "x"}]}, [], "MALFORMED"),
        ({"_sd": [sdjwt.digest("x")], "n": [{"...": sdjwt.digest("x")}]}, [], "MALFORMED"),
        # a disclosure's value that holds an array digest outside an array
        ("inner ...", None, "MALFORMED"),
        # the same bytes, encoded with padding or with non-zero unused bits
        ("padded", None, "PARSING_ERROR"),
        ("loose bits", None, "PARSING_ERROR"),
    ],
)
def test_disclosure_structures_that_held(
    agency: KeyPair, subject: Any, disclosed: Any, code: str
) -> None:
    if isinstance(subject, str):
        text = disclosure("c2FsdA", "name", "A")[0]
        if subject == "inner ...":
            text = disclosure("c2FsdA", "name", {"...": sdjwt.digest("x")})[0]
        elif subject == "padded":
            text += "=" * (-len(text) % 4)
        else:
            text = _canonical_b64(text)
        subject, disclosed = {"id": "did:example:x", "_sd": [sdjwt.digest(text)]}, [text]
    result = AT.verify(forge(signed_payload(agency, subject), disclosed, agency))
    assert result.codes == (code,)


@pytest.mark.parametrize("alg", [["sha-256"], {"name": "sha-256"}, 1.0])
def test_an_sd_alg_of_another_type_is_unsupported(agency: KeyPair, alg: Any) -> None:
    payload = {**signed_payload(agency, {"id": "did:example:x"}), "_sd_alg": alg}
    assert AT.verify(forge(payload, [], agency)).codes == ("UNSUPPORTED",)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("nbf", _NOW - 60),
        ("exp", _NOW + 3600),
        ("vct#integrity", "sha256-x"),
        ("status", {"status_list": {"idx": 0, "uri": "https://x.example/l"}}),
        ("cnf", {"jwk": {"kty": "EC"}}),
    ],
)
def test_an_sd_jwt_vc_claim_never_disclosable_delivered_by_a_disclosure_is_refused(
    agency: KeyPair, trader: KeyPair, name: str, value: Any
) -> None:
    """SD-JWT VC, "Claims": iss, nbf, exp, cnf, vct, vct#integrity and status are never
    selectively disclosable (iss and vct are needed in the clear to find the key and type,
    so a disclosed one overwrites them, refused as well)."""
    text, digest = disclosure("c2FsdA", name, value)
    payload: dict[str, Any] = {
        "iss": did_key(agency.public),
        "vct": "https://credentials.example/identity_credential",
        "iat": _NOW - 60,
        "_sd_alg": "sha-256",
        "_sd": [digest],
    }
    if name != "cnf":
        payload["cnf"] = {"jwk": trader.public.jwk()}
    jwt = jose.sign_compact(payload, signer_for(agency), typ="dc+sd-jwt")
    result = AT.verify(str(SdJwtParts(jwt, (text,))))
    assert result.codes == ("MALFORMED",)
    assert result.errors[0].path == f"/{name.replace('~', '~0').replace('/', '~1')}"
    for plain in ("iss", "vct"):
        text, digest = disclosure("c2FsdA", plain, "other")
        jwt = jose.sign_compact({**payload, "_sd": [digest]}, signer_for(agency), typ="dc+sd-jwt")
        assert AT.verify(str(SdJwtParts(jwt, (text,)))).codes == ("MALFORMED",)


# -- ecdsa-sd-2023 -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def derived() -> dict[str, Any]:
    """A derived credential with two blank nodes (the subject and its address)."""
    key = KeyPair.generate("p256")
    base = issue(
        _credential(), key, format="ecdsa-sd-2023", mandatory_pointers=["/issuer"], now=NOW
    )
    assert isinstance(base, dict)
    return derive(base, [*SELECTED, "/credentialSubject/address/locality"])


def _split_subject(derived: dict[str, Any]) -> dict[str, Any]:
    """The holder's forgery: the one subject shown as two, both given its HMAC label, each
    repeated statement signed with the signature its one statement has."""
    document = {k: v for k, v in derived.items() if k != "proof"}
    value = ecdsa_sd.parse_derived_proof_value(derived["proof"]["proofValue"])
    verify_data = ecdsa_sd.create_verify_data(document, derived["proof"])
    signature_of = dict(zip(verify_data.non_mandatory, value.signatures, strict=True))
    mandatory = {verify_data.nquads[i] for i in value.mandatory_indexes}
    subject_label = next(q.split()[2][2:] for q in verify_data.nquads if "#credentialSubject>" in q)
    address_label = next(q.split()[2][2:] for q in verify_data.nquads if "#address>" in q)
    forged = copy.deepcopy(document)
    subject = forged["credentialSubject"]
    forged["credentialSubject"] = [
        {"country": subject["country"]},
        {"address": subject["address"]},
    ]
    # canonicalized with its own labels first: the address is the node an address names
    plain, _ = label_replacement_canonicalize_json_ld(forged, lambda ids: dict(ids))
    address = next(q.split()[2][2:] for q in plain if "#address>" in q)
    nodes = {q.split()[0][2:] for q in plain if q.startswith("_:")} | {address}
    label_map = {c: address_label if c == address else subject_label for c in nodes}
    nquads, _ = label_replacement_canonicalize_json_ld(
        forged, lambda ids: {k: label_map[c] for k, c in ids.items()}
    )
    forged_value = dataclasses.replace(
        value,
        label_map=label_map,
        mandatory_indexes=tuple(i for i, q in enumerate(nquads) if q in mandatory),
        signatures=tuple(signature_of[q] for q in nquads if q not in mandatory),
    )
    forged["proof"] = {
        **derived["proof"],
        "proofValue": ecdsa_sd.serialize_derived_proof_value(forged_value),
    }
    return forged


def test_a_subject_split_in_two_by_a_label_map_that_repeats_a_label_is_refused(
    derived: dict[str, Any],
) -> None:
    """A derived proof's label map gave two of the document's blank nodes one HMAC label:
    the issuer's one subject verified as two subjects (each statement linking it repeated,
    with its signature repeated), a credential the issuer never made."""
    forged = _split_subject(derived)
    result = AT.verify(forged)
    assert not result.verified and result.credential is None
    assert result.codes == ("INVALID_PROOF",)
    assert "one label" in result.errors[0].message


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_a_label_map_that_is_no_bijection_is_refused(derived: dict[str, Any], data: Any) -> None:
    """The label map must pair each of the document's blank nodes with its own label: one
    more entry (a blank node not in the document), or one label given twice, is refused."""
    extra = data.draw(st.integers(0, 3), label="extra entries")
    merge = data.draw(st.booleans(), label="one label twice")
    if not extra and not merge:
        merge = True

    def change(value: ecdsa_sd.DerivedProofValue) -> Any:
        labels = dict(value.label_map)
        if merge:
            first, second = list(labels)[:2]
            labels[second] = labels[first]
        for i in range(extra):
            number = data.draw(st.integers(len(value.label_map), 2**20), label=f"key {i}")
            raw = data.draw(st.binary(min_size=32, max_size=32), label=f"label {i}")
            labels[f"c14n{number}"] = "u" + b64url_encode(raw)
        return dataclasses.replace(value, label_map=labels)

    result = AT.verify(_with_value(derived, change))
    assert result.codes == ("INVALID_PROOF",)
    assert "label map" in result.errors[0].message


def _head(major: int, value: int, long: bool) -> bytes:
    """A CBOR head (RFC 8949 §3): the shortest form, or the next longer one when ``long``."""
    forms = [(24, 1), (25, 2), (26, 4), (27, 8)]
    fitting = [(info, size) for info, size in forms if value < 256**size]
    if value < 24 and not long:
        return bytes([major << 5 | value])
    info, size = fitting[1] if long and value >= 24 else fitting[0]
    return bytes([major << 5 | info]) + value.to_bytes(size, "big")


def _encode(value: Any, draw: Callable[[Any], Any], changes: list[str]) -> bytes:
    """``value`` in CBOR, each item written, as ``draw`` picks, preferred or otherwise."""
    how = draw(st.sampled_from(["preferred"] * 6 + ["long", "indefinite", "repeat"]))
    if isinstance(value, bool) or not isinstance(value, int | bytes | list | dict):
        raise AssertionError(f"no {type(value).__name__} in a derived proof value")
    if isinstance(value, int):
        if how == "long":
            changes.append("a long integer")
        return _head(0, value, how == "long")
    if isinstance(value, bytes):
        if how == "indefinite" and value:
            changes.append("indefinite bytes")
            cut = draw(st.integers(0, len(value)))
            return (
                b"\x5f"
                + _head(2, cut, False)
                + value[:cut]
                + _head(2, len(value) - cut, False)
                + value[cut:]
                + b"\xff"
            )
        if how == "long":
            changes.append("a long byte string length")
        return _head(2, len(value), how == "long") + value
    items = list(value.items()) if isinstance(value, dict) else value
    if isinstance(value, dict):
        if how == "repeat" and items:
            changes.append("a key twice")
            items = [*items, items[0]]
        body = b"".join(_encode(k, draw, changes) + _encode(v, draw, changes) for k, v in items)
        major = 5
    else:
        body = b"".join(_encode(item, draw, changes) for item in items)
        major = 4
    if how == "indefinite":
        changes.append("an indefinite length")
        return bytes([major << 5 | 31]) + body + b"\xff"
    if how == "long":
        changes.append("a long length")
    return _head(major, len(items), how == "long") + body


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_proof_value_in_another_cbor_encoding_is_refused(
    derived: dict[str, Any], data: Any
) -> None:
    """One encoding per proof value (preferred serialization, RFC 8949 §4.1): indefinite
    lengths, longer heads than needed and a label map key given twice all decoded to the
    same proof, another text of it (a repeated key: a decoder keeps either value)."""
    raw = b64url_decode(derived["proof"]["proofValue"][1:])
    components = cbor2.loads(raw[3:])
    changes: list[str] = []
    encoded = raw[:3] + _encode(components, data.draw, changes)
    changed = copy.deepcopy(derived)
    changed["proof"]["proofValue"] = "u" + b64url_encode(encoded)
    result = AT.verify(changed)
    if not changes:
        assert encoded == raw and result.verified
        return
    assert result.codes == ("INVALID_PROOF",), changes
    assert "preferred serialization" in result.errors[0].message


def test_a_derived_credential_from_another_implementation_still_verifies(
    derived: dict[str, Any],
) -> None:
    """The label map's keys in another order are preferred serialization too (RFC 8949
    §4.1 does not sort keys; Digital Bazaar's writer keeps its insertion order)."""

    def reverse(value: ecdsa_sd.DerivedProofValue) -> Any:
        return dataclasses.replace(value, label_map=dict(reversed(value.label_map.items())))

    assert AT.verify(_with_value(derived, reverse)).verified


_MEMBER = st.text(min_size=1, max_size=12).filter(lambda name: name not in ("proof", "@context"))
# not null nor []: JSON-LD makes no statement of them, under RDFC as here (§13.24's class)
_VALUE = st.booleans() | st.integers() | st.text(max_size=12)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_member_added_anywhere_in_a_derived_credential_is_refused(
    derived: dict[str, Any], data: Any
) -> None:
    """Whatever member (a term, an IRI, a keyword, anything) with a value is added to any
    object of a derived document, the verification fails with a typed code and raises nothing: the
    statement it makes is not among the signed ones, or the context stage refuses it."""
    changed = copy.deepcopy(derived)
    objects = [changed, changed["credentialSubject"], changed["credentialSubject"]["address"]]
    target = data.draw(st.sampled_from(objects), label="object")
    name = data.draw(_MEMBER.filter(lambda n: n not in target), label="member")
    target[name] = data.draw(_VALUE, label="value")
    result = AT.verify(changed)
    assert not result.verified and result.credential is None
    assert result.codes


@pytest.mark.parametrize(
    "pointer",
    ["", "/", "~", "/~2", "/proof", "/@context", "/credentialSubject/address/0", "/issuer/x"],
)
def test_deriving_from_a_base_proof_with_hostile_mandatory_pointers_raises_only_typed_errors(
    pointer: str,
) -> None:
    """The holder's side: mandatory pointers come from the issuer's base proof value."""
    base = issue(_credential(), KeyPair.generate("p256"), format="ecdsa-sd-2023", now=NOW)
    assert isinstance(base, dict)
    raw = b64url_decode(base["proof"]["proofValue"][1:])
    components = cbor2.loads(raw[3:])
    components[4] = [pointer]
    base["proof"]["proofValue"] = "u" + b64url_encode(raw[:3] + cbor2.dumps(components))
    for selected in ([], ["/credentialSubject/country"], ["/credentialSubject"]):
        with pytest.raises(VcredError):
            derive(base, selected)
