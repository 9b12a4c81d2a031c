"""vcred.jsonld: the offline loader, safe mode, the direct RDF path and the context cache."""

from __future__ import annotations

import copy
import hashlib
import json
import time
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyld import jsonld as pyld_jsonld

from vcred import _jsonld_fast, jsonld, rdfc
from vcred.errors import ContextError, MalformedError, VcredError
from vcred.jsonld import (
    ContextLoader,
    canonicalize_document,
    context_digest,
    expand,
    register_context,
    to_nquads,
    to_quads,
)

V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
CID = "https://www.w3.org/ns/cid/v1"


def vc(**extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": [V2, EXAMPLES],
        "id": "urn:uuid:2b0e8a7c-8c3e-4d6b-9d5e-0a2c1c3b9f10",
        "type": ["VerifiableCredential", "AEOCertificateCredential"],
        "issuer": "did:example:customs-us",
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:trader", "legalName": "ACME Exports"},
    }
    document.update(extra)
    return document


PROOF = {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-rdfc-2022",
    "created": "2025-01-01T00:00:00Z",
    "verificationMethod": "did:example:customs-us#key-1",
    "proofPurpose": "assertionMethod",
    "proofValue": "z3Fk",
}

# Documents exercising what the direct path covers; each must give the same dataset as pyld.
CORPUS: dict[str, dict[str, Any]] = {
    "credential": vc(),
    "with proof": vc(proof=PROOF),
    "proof set": vc(proof=[PROOF, {**PROOF, "proofPurpose": "authentication", "nonce": "abc"}]),
    "proof chain": vc(
        proof=[{**PROOF, "id": "urn:proof:1"}, {**PROOF, "previousProof": "urn:proof:1"}]
    ),
    "status entries": vc(
        credentialStatus=[
            {
                "id": "https://customs.example/status/1#94567",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": "94567",
                "statusListCredential": "https://customs.example/status/1",
            },
            {
                "type": "BitstringStatusListEntry",
                "statusPurpose": "message",
                "statusSize": 2,
                "statusMessage": [
                    {"status": "0x0", "message": "valid"},
                    {"status": "0x1", "message": "suspended"},
                ],
                "statusListIndex": "12",
                "statusListCredential": "https://customs.example/status/2",
            },
        ]
    ),
    "status list credential": {
        "@context": [V2],
        "id": "https://customs.example/status/1",
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "did:example:customs-us",
        "credentialSubject": {
            "id": "https://customs.example/status/1#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",
            "ttl": 500,
        },
    },
    "value objects": vc(
        name={"@value": "Certificat AEO", "@language": "FR-ca"},
        description=[{"@value": "شهادة", "@language": "ar"}, {"@value": "plain"}],
    ),
    "base direction": vc(
        name={"@value": "شهادة المشغل الاقتصادي", "@language": "AR-eg", "@direction": "rtl"},
        description=[
            {"@value": "AEO", "@direction": "ltr"},
            {"@value": "شهادة", "@language": "ar", "@direction": "rtl"},
        ],
    ),
    "typed value object": vc(
        credentialSubject={
            "id": "did:example:t",
            "since": {"@value": "2020-01-01", "@type": "http://www.w3.org/2001/XMLSchema#date"},
        }
    ),
    "natives": vc(
        credentialSubject={
            "count": 5,
            "ratio": 1.5,
            "whole": 5.0,
            "huge": 1e21,
            "bigint": 10**21,
            "negzero": -0.0,
            "yes": True,
            "no": False,
            "nothing": None,
            "empty": [],
            "tiny": 1.25e-7,
        }
    ),
    "json literal": vc(
        credentialSchema={
            "id": "https://customs.example/schemas/aeo.json",
            "type": "JsonSchema",
            "jsonSchema": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "b": [1, 2.5, None, True],
                "a": "é\n",
            },
        },
        _sd=["a", "b"],
    ),
    "blank node ids": vc(
        credentialSubject=[
            {"id": "_:x", "knows": {"id": "_:y"}},
            {"id": "_:y", "knows": {"id": "_:x"}},
        ]
    ),
    "nested nodes": vc(
        credentialSubject={
            "id": "did:example:trader",
            "address": {"street": "1 Quay", "country": {"code": "US", "name": "United States"}},
            "identifiers": [
                {"scheme": "EORI", "value": "US123"},
                {"scheme": "CTPAT", "value": "9"},
            ],
        }
    ),
    "issuer object": vc(
        issuer={
            "id": "did:example:customs-us",
            "name": "US CBP",
            "image": "https://customs.example/logo.png",
        }
    ),
    "inline context": {
        "@context": [
            V2,
            {
                "ex": "https://customs.example/vocab#",
                "@vocab": "https://customs.example/vocab#",
                "programme": {"@id": "ex:programme", "@type": "@vocab"},
                "CTPAT": "ex:CTPAT",
                "since": {"@id": "ex:since", "@type": "http://www.w3.org/2001/XMLSchema#date"},
                "homepage": {"@id": "ex:homepage", "@type": "@id"},
            },
        ],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:customs-us",
        "credentialSubject": {
            "programme": "CTPAT",
            "since": "2019-05-01",
            "homepage": "https://acme.example/",
            "ex:tier": "3",
            "https://customs.example/vocab#full": "iri key",
        },
    },
    "type-scoped context does not propagate": {
        "@context": [
            V2,
            {
                "Certificate": {
                    "@id": "https://customs.example/vocab#Certificate",
                    "@context": {"holderName": "https://customs.example/vocab#holderName"},
                },
                "@vocab": "https://customs.example/fallback#",
            },
        ],
        "type": ["VerifiableCredential", "Certificate"],
        "issuer": "did:example:customs-us",
        "holderName": "outer",
        "credentialSubject": {"holderName": "inner, expands with @vocab"},
    },
    # node objects with the same member names mean other things in other contexts (the direct
    # path reads a node object's names once per context): "kind" is redefined under "inner"
    "same member names in other contexts": {
        "@context": [
            V2,
            {
                "kind": "https://customs.example/vocab#kind",
                "inner": {
                    "@id": "https://customs.example/vocab#inner",
                    "@context": {
                        "kind": {"@id": "https://customs.example/other#kind", "@type": "@id"}
                    },
                },
            },
        ],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:customs-us",
        "credentialSubject": {
            "kind": "outer",
            "inner": {"kind": "did:example:inner", "inner": {"kind": "did:example:deeper"}},
        },
        "evidence": [{"kind": "outer too", "inner": {"kind": "did:example:inner-too"}}],
    },
    "presentation": {
        "@context": [V2],
        "type": "VerifiablePresentation",
        "holder": "did:example:trader",
        "verifiableCredential": [vc(proof=PROOF), vc(id="urn:uuid:second")],
        "proof": {
            **PROOF,
            "proofPurpose": "authentication",
            "challenge": "c-1",
            "domain": "customs.example",
        },
    },
    "enveloped": {
        "@context": [V2],
        "type": "VerifiablePresentation",
        "verifiableCredential": {
            "@context": V2,
            "id": "data:application/vc+jwt,eyJ",
            "type": "EnvelopedVerifiableCredential",
        },
    },
    "vcdm 1.1": {
        "@context": [V1, "https://www.w3.org/2018/credentials/examples/v1"],
        "id": "http://example.edu/credentials/1872",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "issuer": "https://example.edu/issuers/565049",
        "issuanceDate": "2010-01-01T19:23:24Z",
        "credentialSchema": {
            "id": "https://example.org/examples/degree.json",
            "type": "JsonSchemaValidator2018",
        },
        "credentialSubject": {
            "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
            "alumniOf": "<span lang='en'>Example University</span>",
        },
        "proof": {
            "type": "Ed25519Signature2018",
            "created": "2017-06-18T21:19:10Z",
            "proofPurpose": "assertionMethod",
            "verificationMethod": "https://example.edu/issuers/565049#key-1",
            "jws": "eyJhbGciOiJFZERTQSJ9..",
        },
    },
    "controller document": {
        "@context": [CID],
        "id": "did:example:customs-us",
        "verificationMethod": [
            {
                "id": "did:example:customs-us#key-1",
                "type": "Multikey",
                "controller": "did:example:customs-us",
                "publicKeyMultibase": "z6Mk",
            },
            {
                "id": "did:example:customs-us#key-2",
                "type": "JsonWebKey",
                "controller": "did:example:customs-us",
                "publicKeyJwk": {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                },
            },
        ],
        "assertionMethod": ["did:example:customs-us#key-1"],
        "authentication": [
            {
                "id": "did:example:customs-us#key-3",
                "type": "Multikey",
                "controller": "did:example:customs-us",
                "publicKeyMultibase": "z6Mk3",
            }
        ],
        "service": [
            {
                "id": "did:example:customs-us#status",
                "type": "https://customs.example/vocab#StatusService",
                "serviceEndpoint": "https://customs.example/status",
            }
        ],
    },
    "ed25519-2020 proof": {
        "@context": [V2, EXAMPLES, "https://w3id.org/security/suites/ed25519-2020/v1"],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:customs-us",
        "credentialSubject": {"id": "did:example:trader"},
        "proof": {
            "type": "Ed25519Signature2020",
            "created": "2023-02-24T23:36:38Z",
            "verificationMethod": "did:example:customs-us#key-1",
            "proofPurpose": "assertionMethod",
            "proofValue": "z5",
        },
    },
    "special characters": vc(
        credentialSubject={
            "id": "did:example:t",
            "note": 'tab\there "quoted" back\\slash\nline\r\x01\x7f\u2028 é 😀',
        }
    ),
    "keyword aliases": {
        "@context": [V2, EXAMPLES],
        "@id": "urn:uuid:aliases",
        "@type": ["VerifiableCredential"],
        "issuer": {"@id": "did:example:customs-us"},
        "credentialSubject": {"@id": "did:example:trader", "@type": "Trader"},
    },
}

# Documents outside the direct path (they must still work, through pyld).
GENERAL_ONLY: dict[str, dict[str, Any]] = {
    "list container": {
        "@context": [
            V2,
            {"route": {"@id": "https://customs.example/vocab#route", "@container": "@list"}},
        ],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:customs-us",
        "credentialSubject": {"route": ["US", "CA", "MX"]},
    },
    "language map": {
        "@context": [
            V2,
            {"label": {"@id": "https://customs.example/vocab#label", "@container": "@language"}},
        ],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:customs-us",
        "credentialSubject": {"label": {"en": "Exporter", "fr": "Exportateur"}},
    },
    "reverse property": {
        "@context": [V2, {"memberOf": {"@reverse": "https://customs.example/vocab#member"}}],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:customs-us",
        "credentialSubject": {
            "id": "did:example:trader",
            "memberOf": {"id": "did:example:programme"},
        },
    },
    "default language": {
        "@context": [V2, EXAMPLES, {"@language": "en"}],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:customs-us",
        "credentialSubject": {"note": "hello"},
    },
}


def canonical(quads: list[rdfc.Quad]) -> str:
    return rdfc.canonicalize(quads, limits=rdfc.Limits(max_work_factor=3)).nquads


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_direct_path_gives_the_same_dataset_as_pyld(name: str) -> None:
    loader = ContextLoader()
    document = copy.deepcopy(CORPUS[name])
    fast = _jsonld_fast.to_quads(document, loader)
    assert canonical(fast) == canonical(jsonld._quads_generic(document, loader))
    assert document == CORPUS[name]  # the input is not modified


@pytest.mark.parametrize("name", sorted(GENERAL_ONLY))
def test_other_json_ld_goes_through_pyld(name: str) -> None:
    loader = ContextLoader()
    with pytest.raises(_jsonld_fast.Unsupported):
        _jsonld_fast.to_quads(GENERAL_ONLY[name], loader)
    quads = to_quads(GENERAL_ONLY[name], loader=loader)
    assert canonical(quads) == canonical(jsonld._quads_generic(GENERAL_ONLY[name], loader))


# Member names and values the direct path memoizes per context (terms, keyword aliases,
# @id/@vocab coercion, type-scoped contexts, literals that do and do not need escaping).
_TERMS = ["name", "description", "legalName", "issuer", "validFrom", "id", "type", "ref", "kind"]
_STRINGS = [
    "did:example:a",
    "urn:uuid:1",
    "VerifiableCredential",
    "ExampleAEOCredential",
    'q"uote',
    "back\\slash",
    "ctl\x01\n\t",
    "\u2028 é 😀",
    "",
    "_:b1",
]
_EXTRA_CONTEXT = {
    "ref": {"@id": "https://customs.example/vocab#ref", "@type": "@id"},
    "kind": {"@id": "https://customs.example/vocab#kind", "@type": "@vocab"},
}


def _nodes(depth: int) -> st.SearchStrategy[Any]:
    leaf = st.sampled_from(_STRINGS) | st.integers(-(2**60), 2**60) | st.booleans()
    value = leaf if depth == 0 else leaf | st.lists(leaf, max_size=3) | _nodes(depth - 1)
    return st.dictionaries(st.sampled_from(_TERMS), value, max_size=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subject=_nodes(2), types=st.lists(st.sampled_from(_STRINGS[2:4]), max_size=2))
def test_direct_path_gives_the_same_dataset_as_pyld_for_generated_documents(
    subject: dict[str, Any], types: list[str]
) -> None:
    document = {
        "@context": [V2, EXAMPLES, _EXTRA_CONTEXT],
        "type": ["VerifiableCredential", *types],
        "credentialSubject": subject,
    }
    loader = ContextLoader()
    try:
        fast = _jsonld_fast.to_quads(document, loader)
    except _jsonld_fast.Unsupported:  # outside the direct path (an @id that is not a string)
        return
    except VcredError:
        with pytest.raises(VcredError):  # refused here: the general path refuses it too
            jsonld._quads_generic(document, loader)
        return
    twice = _jsonld_fast.to_quads(document, loader)  # over the memoized context
    assert twice == fast
    assert canonical(fast) == canonical(jsonld._quads_generic(document, loader))


def _revalued(node: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Nodes with ``node``'s member names (and so its shape), their values drawn again."""
    leaf = st.sampled_from(_STRINGS) | st.integers(-(2**60), 2**60) | st.booleans()
    value = leaf | st.lists(leaf, max_size=3) | _nodes(1)
    return st.fixed_dictionaries(dict.fromkeys(node, value))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), types=st.lists(st.sampled_from(_STRINGS[2:4]), max_size=2))
def test_what_one_document_memoized_serves_the_next_as_pyld_would(
    data: st.DataObject, types: list[str]
) -> None:
    # documents one after another over one loader, the same member names with other values:
    # what the direct path memoizes per context and per node shape (member names, how a
    # member's string becomes a literal) while converting one is read for the next
    first = data.draw(_nodes(2))
    subjects = [first, *data.draw(st.lists(_revalued(first), min_size=1, max_size=3))]
    loader = ContextLoader()
    for subject in subjects:
        document = {
            "@context": [V2, EXAMPLES, _EXTRA_CONTEXT],
            "type": ["VerifiableCredential", *types],
            "credentialSubject": subject,
        }
        try:
            fast = _jsonld_fast.to_quads(document, loader)
        except _jsonld_fast.Unsupported:
            continue
        except VcredError:
            with pytest.raises(VcredError):
                jsonld._quads_generic(document, ContextLoader())
            continue
        assert canonical(fast) == canonical(jsonld._quads_generic(document, ContextLoader()))


@pytest.mark.parametrize(
    "name", ["ref", "kind", "name", "validFrom", "issuer"], ids=lambda name: name
)
def test_a_member_seen_before_converts_each_kind_of_value_as_pyld_does(name: str) -> None:
    # one loader: the first document teaches the direct path how the member's string
    # becomes RDF (an IRI for ref / issuer / kind, a typed literal for validFrom …), the
    # next ones give the same member another string, an object, a list and a number
    loader = ContextLoader()
    for value in ["did:example:a", "urn:uuid:1", {"id": "did:example:b"}, ["did:example:c"], 7]:
        document = {
            "@context": [V2, EXAMPLES, _EXTRA_CONTEXT],
            "type": ["VerifiableCredential"],
            "credentialSubject": {name: value},
        }
        try:
            fast = _jsonld_fast.to_quads(document, loader)
        except VcredError:
            with pytest.raises(VcredError):
                jsonld._quads_generic(document, ContextLoader())
            continue
        assert canonical(fast) == canonical(jsonld._quads_generic(document, ContextLoader()))


def test_native_literals_follow_json_ld_to_rdf() -> None:
    nquads = to_nquads(CORPUS["natives"])
    ex = "<https://www.w3.org/ns/credentials/examples#"
    assert f'{ex}count> "5"^^<http://www.w3.org/2001/XMLSchema#integer>' in nquads
    assert f'{ex}whole> "5"^^<http://www.w3.org/2001/XMLSchema#integer>' in nquads
    assert f'{ex}ratio> "1.5E0"^^<http://www.w3.org/2001/XMLSchema#double>' in nquads
    assert f'{ex}huge> "1.0E21"^^<http://www.w3.org/2001/XMLSchema#double>' in nquads
    assert f'{ex}tiny> "1.25E-7"^^<http://www.w3.org/2001/XMLSchema#double>' in nquads
    assert f'{ex}yes> "true"^^<http://www.w3.org/2001/XMLSchema#boolean>' in nquads
    assert "nothing" not in nquads
    assert "empty" not in nquads


def test_base_direction_becomes_an_i18n_datatype() -> None:
    """JSON-LD 1.1 toRDF with rdfDirection "i18n-datatype" (what Digital Bazaar's rdfc suites
    use): the direction is kept in the datatype, never dropped (this used to be refused)."""
    nquads = to_nquads(CORPUS["base direction"])
    i18n = "https://www.w3.org/ns/i18n#"
    assert f'"شهادة المشغل الاقتصادي"^^<{i18n}ar-eg_rtl>' in nquads
    assert f'"AEO"^^<{i18n}_ltr>' in nquads
    assert f'"شهادة"^^<{i18n}ar_rtl>' in nquads


@pytest.mark.parametrize(
    ("value", "pointer"),
    [
        ({"@value": "x", "@language": "ar", "@direction": "up"}, "/description"),
        ({"@value": "x", "@language": "ar> <x", "@direction": "rtl"}, "/description"),
    ],
)
def test_base_direction_needs_ltr_or_rtl_and_a_well_formed_language(
    value: dict[str, Any], pointer: str
) -> None:
    document = vc(description=value)
    with pytest.raises(VcredError) as info:
        canonicalize_document(document)
    assert isinstance(info.value, ContextError) and info.value.pointer == pointer
    with pytest.raises(VcredError):
        jsonld._quads_generic(document, ContextLoader())


def test_language_tags_are_lower_cased() -> None:
    nquads = to_nquads(CORPUS["value objects"])
    assert '"Certificat AEO"@fr-ca' in nquads
    assert '"شهادة"@ar' in nquads


def test_type_scoped_context_does_not_reach_nested_nodes() -> None:
    nquads = to_nquads(CORPUS["type-scoped context does not propagate"])
    assert '<https://customs.example/vocab#holderName> "outer"' in nquads
    assert '<https://customs.example/fallback#holderName> "inner, expands with @vocab"' in nquads


def test_json_literal_is_canonical_json() -> None:
    nquads = to_nquads(CORPUS["json literal"])
    assert (
        '"{\\"$schema\\":\\"https://json-schema.org/draft/2020-12/schema\\",\\"a\\":\\"é\\\\n\\",'
        '\\"b\\":[1,2.5,null,true],\\"type\\":\\"object\\"}"^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON>'
    ) in nquads


def test_expand_matches_pyld() -> None:
    document = CORPUS["with proof"]
    loader = ContextLoader()
    reference = pyld_jsonld.expand(copy.deepcopy(document), loader.pyld_options())
    assert expand(document, loader=loader) == reference


# -- offline loader ------------------------------------------------------------------------


def test_unknown_context_url_is_refused_without_fetching(monkeypatch: pytest.MonkeyPatch) -> None:
    def network(url: str, options: Any = None) -> Any:
        raise AssertionError(f"fetched {url}")

    monkeypatch.setattr(pyld_jsonld, "_default_document_loader", network)
    document = vc()
    document["@context"] = [V2, "https://evil.example/context.jsonld"]
    with pytest.raises(
        ContextError, match=r"unknown JSON-LD context https://evil\.example/context\.jsonld"
    ):
        canonicalize_document(document)
    with pytest.raises(ContextError):
        expand(document)
    with pytest.raises(ContextError):
        ContextLoader().load("https://evil.example/context.jsonld")


def test_register_context_adds_a_document() -> None:
    url = "https://customs.example/contexts/test-register/v1"
    context = {
        "@context": {"@protected": True, "tariffCode": "https://customs.example/vocab#tariffCode"}
    }
    document = vc(credentialSubject={"id": "did:example:t", "tariffCode": "8471.30"})
    document["@context"] = [V2, EXAMPLES, url]
    loader = ContextLoader()
    with pytest.raises(ContextError):
        canonicalize_document(document, loader=loader)
    loader.register(url, context, sha256=context_digest(context))
    assert "<https://customs.example/vocab#tariffCode>" in canonicalize_document(
        document, loader=loader
    )
    register_context(url, context, sha256=context_digest(context))
    assert url in jsonld.default_loader()
    assert "<https://customs.example/vocab#tariffCode>" in canonicalize_document(document)


def test_loader_constructed_with_extra_documents() -> None:
    url = "https://customs.example/contexts/extra/v1"
    context = {"@context": {"hs": "https://customs.example/vocab#hs"}}
    loader = ContextLoader({url: (context, context_digest(context))})
    assert url in loader.urls()
    assert V2 in loader.urls()
    assert url not in ContextLoader().urls()


@pytest.mark.parametrize(
    ("url", "document"),
    [
        ("relative/context", {"@context": {}}),
        ("https://customs.example/c", {"terms": {}}),
        ("https://customs.example/c", {"@context": {"@base": "relative/"}}),
        ("https://customs.example/c", {"@context": {"@import": V2}}),
    ],
)
def test_register_refuses_bad_documents(url: str, document: dict[str, Any]) -> None:
    with pytest.raises(ContextError):
        ContextLoader().register(url, document, sha256=context_digest(document))


def test_a_context_is_known_by_its_content_digest() -> None:
    """The SHA-256 pins the content: of the bytes as published, or of a document's JCS form."""
    url = "https://customs.example/contexts/pinned/v1"
    content = b'{"@context": {"hs": "https://customs.example/vocab#hs"}}\n'
    loader = ContextLoader()
    loader.register(url, content, sha256=hashlib.sha256(content).hexdigest().upper())
    assert loader.load(url) == json.loads(content)
    parsed = json.loads(content)
    assert context_digest(parsed) == hashlib.sha256(rfc8785.dumps(parsed)).hexdigest()
    assert context_digest(content.decode()) == hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize(
    "digest",
    [
        hashlib.sha256(b"another document").hexdigest(),  # swapped content
        "0" * 64,
        "not-a-digest",
        hashlib.sha256(b"x").hexdigest()[:63],
        "",
    ],
)
def test_a_document_that_does_not_match_its_digest_is_refused_at_registration(
    digest: str,
) -> None:
    url = "https://customs.example/contexts/pinned/v1"
    content = b'{"@context": {"hs": "https://customs.example/vocab#hs"}}'
    loader = ContextLoader()
    with pytest.raises(ContextError, match="SHA-256"):
        loader.register(url, content, sha256=digest)
    with pytest.raises(ContextError, match="SHA-256"):
        ContextLoader({url: (content, digest)})
    assert url not in loader


def test_context_content_that_is_not_json_is_refused() -> None:
    content = b"\xff not json"
    with pytest.raises(ContextError, match="not JSON"):
        ContextLoader().register(
            "https://customs.example/c", content, sha256=hashlib.sha256(content).hexdigest()
        )


def test_loaded_documents_are_copies() -> None:
    loader = ContextLoader()
    loader.load(V2)["@context"]["name"] = "http://evil.example/name"
    assert loader.load(V2)["@context"]["name"] == "https://schema.org/name"


# -- safe mode -----------------------------------------------------------------------------


def _strict(document: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(document)
    document["@context"] = [V2]
    document["type"] = ["VerifiableCredential"]
    document["credentialSubject"] = {"id": "did:example:trader"}
    return document


def test_undefined_term_is_an_error_with_its_location() -> None:
    document = _strict(vc())
    document["credentialSubject"]["legalName"] = "ACME"
    with pytest.raises(ContextError, match="legalName") as info:
        canonicalize_document(document)
    assert info.value.pointer == "/credentialSubject/legalName"


def test_undefined_term_is_an_error_on_the_general_path_too() -> None:
    document = _strict(vc())
    document["credentialSubject"]["legalName"] = "ACME"
    with pytest.raises(ContextError) as info:
        jsonld._quads_generic(document, ContextLoader())
    assert info.value.pointer == "/credentialSubject/legalName"


def test_undefined_type_is_an_error() -> None:
    document = _strict(vc())
    document["type"] = ["VerifiableCredential", "AEOCertificateCredential"]
    with pytest.raises(ContextError) as info:
        canonicalize_document(document)
    assert info.value.pointer == "/type/1"


def test_relative_id_is_an_error() -> None:
    document = vc(id="credentials/1")
    with pytest.raises(ContextError, match="relative IRI") as info:
        canonicalize_document(document)
    assert info.value.pointer == "/id"
    with pytest.raises(ContextError, match="relative IRI"):
        jsonld._quads_generic(document, ContextLoader())


def test_relative_iri_value_is_an_error() -> None:
    with pytest.raises(ContextError, match="relative IRI"):
        canonicalize_document(vc(issuer="issuers/1"))


def test_relative_base_is_an_error() -> None:
    document = vc()
    document["@context"] = [V2, EXAMPLES, {"@base": "credentials/"}]
    with pytest.raises(ContextError, match="relative @base") as info:
        canonicalize_document(document)
    assert info.value.pointer == "/@context/2/@base"


def test_relative_vocab_drops_every_term_and_is_an_error() -> None:
    document = vc()
    document["@context"] = [V2, {"@vocab": "terms#"}]
    with pytest.raises(ContextError):
        canonicalize_document(document)


def test_protected_term_redefinition_is_an_error() -> None:
    document = vc()
    document["@context"] = [V2, {"name": "https://evil.example/name"}]
    document["name"] = "looks like a name"
    with pytest.raises(ContextError, match="@protected"):
        canonicalize_document(document)


def test_protected_term_redefinition_inside_a_node_is_an_error() -> None:
    document = vc()
    document["credentialSubject"]["@context"] = {"id": "https://evil.example/notid"}
    with pytest.raises(ContextError, match="@protected"):
        canonicalize_document(document)


def test_identical_redefinition_of_a_protected_term_is_allowed() -> None:
    document = vc(name="ok")
    document["@context"] = [V2, EXAMPLES, {"name": "https://schema.org/name"}]
    assert "<https://schema.org/name>" in canonicalize_document(document)


def test_import_is_refused() -> None:
    document = vc()
    document["@context"] = [{"@import": V2, "name": "https://evil.example/name"}]
    with pytest.raises(ContextError, match="@import"):
        canonicalize_document(document)


def test_null_value_object_is_an_error() -> None:
    with pytest.raises(ContextError, match="null @value"):
        canonicalize_document(vc(name={"@value": None}))


def test_document_that_expands_to_nothing_is_an_error() -> None:
    with pytest.raises(ContextError, match="nothing"):
        canonicalize_document({"@context": [V2], "id": "urn:uuid:only-an-id"})
    with pytest.raises(ContextError, match="nothing"):
        expand({"@context": [V2]})


@pytest.mark.parametrize("document", [[1, 2], "text", None])
def test_a_document_must_be_an_object(document: Any) -> None:
    with pytest.raises(MalformedError):
        canonicalize_document(document)


def test_non_finite_number_is_malformed() -> None:
    with pytest.raises(MalformedError):
        canonicalize_document(vc(credentialSubject={"id": "did:example:t", "x": float("nan")}))


def test_invalid_json_ld_is_malformed() -> None:
    with pytest.raises(MalformedError):
        canonicalize_document(vc(id=["urn:a", "urn:b"]))


def test_poison_credential_is_refused_quickly() -> None:
    """Blank nodes that only differ by their links to each other: exponential without limits."""
    size = 10
    subjects = [
        {"id": f"_:k{i}", "knows": [{"id": f"_:k{j}"} for j in range(size) if j != i]}
        for i in range(size)
    ]
    start = time.perf_counter()
    with pytest.raises(MalformedError, match="poison"):
        canonicalize_document(vc(credentialSubject=subjects))
    assert time.perf_counter() - start < 1.0


# -- caching -------------------------------------------------------------------------------


def test_processed_contexts_are_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    original = pyld_jsonld.JsonLdProcessor._process_context

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(args[1])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pyld_jsonld.JsonLdProcessor, "_process_context", counting)
    loader = ContextLoader()
    first = json.loads(json.dumps(CORPUS["with proof"]))
    canonicalize_document(first, loader=loader)
    assert calls  # the contexts were processed once …
    calls.clear()
    second = vc(proof={**PROOF, "created": "2026-01-01T00:00:00Z"}, id="urn:uuid:another")
    canonicalize_document(second, loader=loader)
    assert calls == []  # … and not again for another document with the same @context


def test_registering_a_context_clears_the_cache() -> None:
    url = "https://customs.example/contexts/changing/v1"
    first = {"@context": {"code": "https://customs.example/v1#code"}}
    loader = ContextLoader({url: (first, context_digest(first))})
    document = {
        "@context": [V2, url],
        "type": "VerifiableCredential",
        "issuer": "did:example:i",
        "credentialSubject": {"code": "1"},
    }
    assert "v1#code" in canonicalize_document(document, loader=loader)
    second = {"@context": {"code": "https://customs.example/v2#code"}}
    loader.register(url, second, sha256=context_digest(second))
    assert "v2#code" in canonicalize_document(document, loader=loader)


def test_canonical_dataset_exposes_issued_labels() -> None:
    dataset = jsonld.canonical_dataset(vc(proof=PROOF))
    assert sorted(dataset.issued.values()) == ["c14n0", "c14n1"]
    assert all(label.startswith("b") for label in dataset.issued)


def test_customs_credentials_canonicalize_with_the_bundled_customs_context() -> None:
    from vcred.customs.samples import EXPORTS, aeo_certificate, export_billing_attestation
    from vcred.jsonld import canonicalize_document

    documents = [aeo_certificate("us-prairie"), export_billing_attestation(next(iter(EXPORTS)))]
    for document in documents:
        assert "https://vcred.dev/ns/customs#" in canonicalize_document(document)
