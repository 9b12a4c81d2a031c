"""The customs JSON-LD context: every term the samples use expands to an absolute IRI."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pyld import jsonld

from vcred.customs.samples import all_samples, sample_trust_list

from .conftest import OUR_CONTEXTS

# Appended after every other context: a term no context defines expands under this
# prefix instead of silently disappearing, so the test can find it.
UNDEFINED = "urn:vcred:test:undefined#"
SAMPLES = {**all_samples(), "trust-list:us": sample_trust_list("US-CTPAT")}


def _iris(node: Any) -> Iterator[str]:
    if isinstance(node, list):
        for item in node:
            yield from _iris(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "@type":
                yield from value if isinstance(value, list) else [value]
            elif key == "@id":
                yield value
            elif not key.startswith("@"):
                yield key
            yield from _iris(value)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_term_expands_to_an_absolute_iri(
    name: str, document_loader: Callable[[str, Any], dict[str, Any]]
) -> None:
    credential = json.loads(json.dumps(SAMPLES[name]))
    credential["@context"] = [*credential["@context"], {"@vocab": UNDEFINED}]
    expanded = jsonld.expand(credential, {"documentLoader": document_loader})
    iris = set(_iris(expanded))
    undefined = sorted(i.removeprefix(UNDEFINED) for i in iris if i.startswith(UNDEFINED))
    assert undefined == [], f"terms without a definition: {undefined}"
    relative = sorted(i for i in iris if ":" not in i)
    assert relative == []


def test_our_terms_live_under_one_base_iri(
    document_loader: Callable[[str, Any], dict[str, Any]],
) -> None:
    expanded = jsonld.expand(SAMPLES["export:de-to-us"], {"documentLoader": document_loader})
    ours = {i for i in _iris(expanded) if i.startswith("https://vcred.dev/ns/")}
    assert ours
    assert all(i.startswith("https://vcred.dev/ns/customs#") for i in ours)


@pytest.mark.parametrize(
    ("term", "iri"),
    [
        ("legalName", "https://schema.org/legalName"),
        ("address", "https://schema.org/address"),
        ("addressCountry", "https://schema.org/addressCountry"),
        ("Organization", "https://schema.org/Organization"),
        ("CTPATCertificate", "https://w3id.org/traceability#CTPATCertificate"),
        (
            "CommercialInvoiceCredential",
            "https://w3id.org/traceability#CommercialInvoiceCredential",
        ),
    ],
)
def test_terms_align_with_prior_art(term: str, iri: str) -> None:
    context = json.loads(OUR_CONTEXTS["https://vcred.dev/ns/customs/v1"].read_text())["@context"]
    definition = context[term]
    raw = definition if isinstance(definition, str) else definition["@id"]
    prefix, _, suffix = raw.partition(":")
    assert context.get(prefix, prefix + ":") + suffix == iri


def test_context_is_protected_and_does_not_redefine_vc_terms(
    document_loader: Callable[[str, Any], dict[str, Any]],
) -> None:
    context = json.loads(OUR_CONTEXTS["https://vcred.dev/ns/customs/v1"].read_text())["@context"]
    assert context["@protected"] is True
    vc = document_loader("https://www.w3.org/ns/credentials/v2")["document"]["@context"]
    vc_terms = set(vc) | set(vc["VerifiableCredential"]["@context"])
    redefined = (set(context) & vc_terms) - {"id", "type", "@protected"}
    assert redefined == set()


def test_a_credential_redefining_a_protected_term_is_refused(
    document_loader: Callable[[str, Any], dict[str, Any]],
) -> None:
    credential = json.loads(json.dumps(SAMPLES["aeo:de-beispiel"]))
    credential["@context"].append({"legalName": "https://attacker.example/legalName"})
    with pytest.raises(jsonld.JsonLdError):
        jsonld.expand(credential, {"documentLoader": document_loader})
