"""Property-based tests: every parser answers arbitrary input with a VcredError or a result.

A parser that lets another exception escape (KeyError, TypeError, RecursionError …) is a crash
a hostile client could trigger; these tests throw generated input at each entry point.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import cbor2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vcred import Verifier, issue, jose, model
from vcred.did import Resolver, did_key, did_web_url
from vcred.errors import InvalidProofError, VcredError
from vcred.integrity import ecdsa_sd
from vcred.keys import KeyPair, PublicKey
from vcred.multibase import b64url_encode, multibase_decode
from vcred.status import BitstringStatusListEntry, decode_bitstring

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)
credential_values = st.fixed_dictionaries(
    {"type": st.just(["VerifiableCredential"]), "credentialSubject": st.just({"name": "x"})}
)
#: numbers past what a datetime holds, where JWT NumericDates are read
huge_numbers = st.sampled_from([10**20, -(10**15), 1e300, 10**400, 2**63])
VC_KEYS = [
    "@context",
    "vc",
    "vp",
    "iss",
    "nbf",
    "exp",
    "id",
    "type",
    "issuer",
    "validFrom",
    "validUntil",
    "credentialSubject",
    "credentialStatus",
    "credentialSchema",
    "proof",
    "name",
    "description",
    "evidence",
    "relatedResource",
    "holder",
]
credential_like = st.dictionaries(
    st.sampled_from(VC_KEYS), json_values | huge_numbers | credential_values, max_size=10
)
VERIFIER = Verifier()


def b64(value: Any) -> str:
    return b64url_encode(json.dumps(value).encode())


tokens = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda h, p, s: f"{b64(h)}.{b64(p)}.{s}", json_values, credential_like, st.text(max_size=20)
    ),
    st.builds(
        lambda h, p: f"{b64(h)}.{b64(p)}.AAAA",
        st.dictionaries(
            st.sampled_from(["alg", "kid", "typ", "cty", "crit", "jwk", "b64"]), json_values
        ),
        credential_like,
    ),
)


@SETTINGS
@given(tokens)
def test_jwt_parser_raises_only_vcred_errors(token: str) -> None:
    with contextlib.suppress(VcredError):
        jose.verify_vc_jwt(token, lookup=lambda m, r: Resolver().resolve_method(m, relationship=r))


@SETTINGS
@given(st.one_of(tokens, credential_like, json_values.map(json.dumps)))
def test_verify_never_raises_for_bad_input(value: Any) -> None:
    if not isinstance(value, str | dict):
        return
    result = VERIFIER.verify(value)
    assert not result.verified


@SETTINGS
@given(st.one_of(tokens, credential_like))
def test_verify_presentation_never_raises_for_bad_input(value: Any) -> None:
    result = VERIFIER.verify_presentation(value, challenge="c")
    assert not result.verified


@SETTINGS
@given(json_values)
def test_structure_rules_raise_only_malformed(value: Any) -> None:
    for check in (model.validate_credential, model.validate_presentation):
        with contextlib.suppress(VcredError):
            check(value)


@SETTINGS
@given(credential_like)
def test_structure_rules_on_credential_shaped_input(value: dict[str, Any]) -> None:
    with contextlib.suppress(VcredError):
        model.validate_credential(value)


@SETTINGS
@given(st.text(max_size=120))
def test_multibase_and_multikey_raise_only_vcred_errors(text: str) -> None:
    for parse in (multibase_decode, PublicKey.from_multikey):
        with contextlib.suppress(VcredError):
            parse(text)


@SETTINGS
@given(st.text(max_size=120))
def test_did_parsers_raise_only_vcred_errors(text: str) -> None:
    for did in (f"did:key:{text}", f"did:jwk:{text}", text):
        with contextlib.suppress(VcredError):
            Resolver().resolve(did)
    with contextlib.suppress(VcredError):
        did_web_url(f"did:web:{text}")


@SETTINGS
@given(
    st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda b: "u" + b64url_encode(b)))
)
def test_status_list_decoder_raises_only_vcred_errors(text: str) -> None:
    with contextlib.suppress(VcredError):
        decode_bitstring(text)


@SETTINGS
@given(json_values)
def test_status_entry_parser_raises_only_vcred_errors(value: Any) -> None:
    with contextlib.suppress(VcredError):
        BitstringStatusListEntry.parse(value, pointer="/credentialStatus")


_cbor_items = st.recursive(
    st.none() | st.booleans() | st.integers() | st.binary(max_size=70) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(st.integers(min_value=-2, max_value=40), children, max_size=4)
    ),
    max_leaves=40,
)
_sd_proof_values = st.one_of(
    st.binary(max_size=200),
    st.builds(
        lambda header, body: header + cbor2.dumps(body),
        st.sampled_from([b"\xd9\x5d\x00", b"\xd9\x5d\x01"]),
        _cbor_items,
    ),
)


@SETTINGS
@given(_sd_proof_values)
def test_ecdsa_sd_proof_value_parsers_raise_only_invalid_proof(data: bytes) -> None:
    value = "u" + b64url_encode(data)
    for parse in (ecdsa_sd.parse_base_proof_value, ecdsa_sd.parse_derived_proof_value):
        with contextlib.suppress(InvalidProofError):
            parse(value)


# -- added for issue 11: JSON-LD, SD-JWT, status list credentials -------------------------------

CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/ns/credentials/examples/v2",
    "https://www.w3.org/2018/credentials/v1",
    "https://evil.example/context",
]
TERMS = [
    "id",
    "type",
    "name",
    "description",
    "knows",
    "@id",
    "@type",
    "@value",
    "@list",
    "@graph",
    "@included",
    "@context",
    "@vocab",
    "@base",
    "@language",
    "@reverse",
]
json_ld_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=12)
    | st.sampled_from(["_:b0", "_:b1", "did:example:x", "urn:uuid:1", "relative"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(TERMS), children, max_size=4)
    ),
    max_leaves=25,
)
json_ld_documents = st.builds(
    lambda contexts, inline, body: {
        "@context": [*contexts, *inline],
        **body,
    },
    st.lists(st.sampled_from(CONTEXTS), min_size=1, max_size=3),
    st.lists(st.dictionaries(st.sampled_from(TERMS), json_ld_values, max_size=3), max_size=1),
    st.dictionaries(st.sampled_from(TERMS + VC_KEYS), json_ld_values, max_size=6),
)


@SETTINGS
@given(json_ld_documents)
def test_json_ld_canonicalization_raises_only_vcred_errors(document: dict[str, Any]) -> None:
    from vcred.jsonld import canonicalize_document, to_quads

    for step in (to_quads, canonicalize_document):
        with contextlib.suppress(VcredError):
            step(document)


disclosures = st.one_of(
    st.text(max_size=30),
    st.lists(json_values, max_size=4).map(b64),
    st.tuples(st.text(max_size=8), st.text(max_size=8), json_values).map(lambda t: b64(list(t))),
)
sd_jwts = st.builds(
    lambda jwt, parts, kb: "~".join([jwt, *parts]) + "~" + kb,
    tokens,
    st.lists(disclosures, max_size=4),
    st.one_of(st.just(""), tokens),
)


@SETTINGS
@given(sd_jwts)
def test_sd_jwt_credentials_and_presentations_raise_nothing(token: str) -> None:
    from vcred import sdjwt

    with contextlib.suppress(VcredError):
        sdjwt.parse(token)
    assert not VERIFIER.verify(token).verified
    assert not VERIFIER.verify_presentation(token, challenge="c", domain="d").verified


status_subjects = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=30),
        "type": st.sampled_from(["BitstringStatusList", "Other"]) | json_values,
        "statusPurpose": st.sampled_from(["revocation", "suspension"]) | json_values,
        "encodedList": st.one_of(
            st.text(max_size=40),
            st.binary(max_size=60).map(lambda b: "u" + b64url_encode(b)),
        ),
        "ttl": json_values,
        "statusSize": json_values,
        "statusMessage": json_values,
    },
)
status_list_credentials = st.fixed_dictionaries(
    {},
    optional={
        "@context": st.just(["https://www.w3.org/ns/credentials/v2"]) | json_values,
        "id": st.just("https://x.example/status/1") | json_values,
        "type": st.just(["VerifiableCredential", "BitstringStatusListCredential"]) | json_values,
        "issuer": json_values,
        "validFrom": st.sampled_from(["2026-01-01T00:00:00Z", "not a date"]) | json_values,
        "validUntil": json_values,
        "credentialSubject": status_subjects | json_values,
    },
)


@SETTINGS
@given(status_list_credentials)
def test_status_list_credential_parser_raises_only_vcred_errors(credential: dict[str, Any]) -> None:
    from vcred.status import parse_status_list_credential

    with contextlib.suppress(VcredError):
        parse_status_list_credential(credential, url="https://x.example/status/1")


# -- Python values no JSON text carries, in signed credentials handed over as dicts -------------

#: leaves and member names JSON has none of (a caller's dict may hold them all the same)
not_json_leaves = st.one_of(
    st.tuples(st.text(max_size=4)),
    st.binary(max_size=4),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.frozensets(st.integers(), max_size=2),
    st.dates(),
)
python_values = st.recursive(
    json_values | not_json_leaves,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.text(max_size=6) | st.integers() | st.binary(max_size=3) | st.none(),
            children,
            max_size=3,
        )
    ),
    max_leaves=12,
)
_SIGNED_WITH = [
    ("eddsa-rdfc-2022", KeyPair.generate("ed25519")),
    ("eddsa-jcs-2022", KeyPair.generate("ed25519")),
]


def _signed(suite: str, key: KeyPair) -> dict[str, Any]:
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did_key(key.public),
        "credentialSubject": {"id": "did:example:x", "name": "n"},
    }
    signed = issue(document, key, format=suite)
    assert isinstance(signed, dict)
    return signed


_SIGNED = [_signed(suite, key) for suite, key in _SIGNED_WITH]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(range(len(_SIGNED))),
    st.sampled_from(["issuer", "credentialSubject", "proof", "@context", "validFrom", "name"]),
    python_values,
)
def test_a_signed_credential_holding_python_values_is_refused_not_a_crash(
    which: int, member: str, value: Any
) -> None:
    # a member name that is an int reached RDF canonicalization (AttributeError), a Decimal
    # or a tuple in a context json.dumps (TypeError): verify() raised
    secured = dict(_SIGNED[which])
    if member == "proof":
        secured["proof"] = {**secured["proof"], "x": value}
    elif member == "@context":
        secured["@context"] = [*secured["@context"], {"x": value}]
    else:
        secured[member] = value
    # (eddsa-jcs-2022 admits contexts appended after the signed ones: a result may verify)
    json.dumps(VERIFIER.verify(secured).to_dict())  # a result a service can answer
    json.dumps(VERIFIER.verify_presentation(secured).to_dict())


_SUBJECT_ID = "did:example:trader"
_CREDENTIAL_ID = "urn:uuid:0d2b8f4e-3f5a-4bd6-9a7c-7f1e4a2b9c10"
#: member names and values that the terms check looks at, or that it reads past
_TERMS_CHECK_NAMES = st.sampled_from(
    ["id", "@id", "type", "@type", "name", "description", "@set", "@nest", "@included",
     "@reverse", "@value", "@index", "@language", "@json", "ex:thing", "cred:validUntil",
     "https://www.w3.org/2018/credentials#validUntil", "https://schema.org/name", "expiration",
     "relatedResource", "credentialSubject", "digestSRI", "validUntil"]
)  # fmt: skip
_TERMS_CHECK_VALUES = st.recursive(
    st.sampled_from(
        [_CREDENTIAL_ID, _SUBJECT_ID, "ex:Thing", "VerifiableCredential", "A",
         "https://www.w3.org/2018/credentials#VerifiableCredential", 1, None, True]
    ),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(_TERMS_CHECK_NAMES, children, max_size=3)
    ),
    max_leaves=8,
)  # fmt: skip


@SETTINGS
@given(
    where=st.integers(min_value=0, max_value=20),
    name=_TERMS_CHECK_NAMES,
    value=_TERMS_CHECK_VALUES,
)
def test_the_expansion_walk_vouches_for_the_terms_check_only_when_it_passes(
    where: int, name: str, value: Any
) -> None:
    # the verifier skips check_read_by_terms when the walk that expanded the document says
    # the check passes: a member written anywhere must never make it say so wrongly
    from vcred import _jsonld_fast
    from vcred.jsonld import check_read_by_terms, default_loader

    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": _CREDENTIAL_ID,
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": _SUBJECT_ID, "name": "A", "description": "B"},
        "relatedResource": [{"id": "urn:uuid:1", "digestSRI": "sha256-x"}],
    }
    objects, stack = [], [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            objects.append(item)
            stack.extend(v for k, v in item.items() if k != "@context")
        elif isinstance(item, list):
            stack.extend(item)
    objects[where % len(objects)][name] = value
    loader = default_loader()
    try:
        quads, passes = _jsonld_fast.to_quads_read_by_terms(document, loader)
    except (VcredError, _jsonld_fast.Unsupported):
        return
    assert quads == _jsonld_fast.to_quads(document, loader)
    if passes:
        check_read_by_terms(document, loader=loader)
