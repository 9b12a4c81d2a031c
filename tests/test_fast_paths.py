"""Fast paths of the verification (issue 21) against the slow paths they stand in for."""

from __future__ import annotations

import contextlib
import json

import pytest

from tests.conftest import NOW, credential
from vcred import Verifier, issue
from vcred._json import loads_strict, names_at_most_once
from vcred.errors import ContextError
from vcred.jose import split_compact, two_dots
from vcred.jsonld import signed_view
from vcred.keys import KeyPair
from vcred.verifier import Check

V2 = "https://www.w3.org/ns/credentials/v2"


def _members_named(value: object, name: str) -> int:
    if isinstance(value, dict):
        return (name in value) + sum(_members_named(v, name) for v in value.values())
    if isinstance(value, list):
        return sum(_members_named(v, name) for v in value)
    return 0


@pytest.mark.parametrize(
    "text",
    [
        '{"@context":[1],"a":{"@context":2}}',
        '{"@context":[1],"a":{"\\u0040context":2}}',
        '{"@context":[1],"a":{"@cont\\u0065xt":2}}',
        '{"@context":[1],"a":"\\\\u","b":{"@context":2}}',
        '{"@context":[1],"a":"x\\"@context\\"y"}',
        '{"a":{"@context":1}}',
        '{"@context" :1, "b" : [ {"c":"@context"} ]}',
        "{}",
    ],
)
def test_names_at_most_once_is_never_wrong_when_true(text: str) -> None:
    data = text.encode()
    if names_at_most_once(data, b"@context"):
        assert _members_named(loads_strict(data), "@context") <= 1


def test_an_escaped_context_member_is_not_told_once() -> None:
    assert not names_at_most_once(b'{"@context":[1],"a":{"\\u0040context":2}}', b"@context")
    assert names_at_most_once(b'{"@context":[1],"a":{"b":"c"}}', b"@context")


def test_one_context_still_refuses_an_unknown_top_context() -> None:
    document = json.loads('{"@context":["https://unknown.example/ctx"],"a":1}')
    with pytest.raises(ContextError):
        signed_view(document, one_context=True)


def test_one_context_without_a_top_context_walks_the_document() -> None:
    document = {"a": {"@context": "https://unknown.example/ctx"}}
    with pytest.raises(ContextError):
        signed_view(document, one_context=True)


def test_one_context_matches_the_walk_for_known_contexts() -> None:
    document = {"@context": [V2], "type": ["VerifiableCredential"]}
    assert signed_view(document, one_context=True) == signed_view(document)


@pytest.mark.parametrize(
    "text",
    ["", ".", "..", "...", "a.b", "a.b.c", "a.b.c.d", "a..b", ".a.b", "a.b.", "..a", "a~b.c.d"],
)
def test_two_dots_are_the_dots_split_finds(text: str) -> None:
    parts = text.split(".")
    assert (two_dots(text) is not None) is (len(parts) == 3)
    if len(parts) == 3:
        assert split_compact(text) == tuple(parts)


def test_shared_passed_checks_say_what_a_fresh_check_would() -> None:
    result = Verifier(clock=lambda: NOW).verify(issue(credential(), KeyPair.generate("ed25519")))
    assert result.verified
    assert result.checks[0] == Check(name="proof", passed=True, detail="vc+jwt proof verified")
    assert result.check("status") == Check(name="status", passed=True, detail="no credentialStatus")
    assert result.check("schema") == Check(name="schema", passed=True, detail="no credentialSchema")


# -- the terms check told by the expansion walk ----------------------------------------------

_OWN_ID = "urn:uuid:0d2b8f4e-3f5a-4bd6-9a7c-7f1e4a2b9c10"


@pytest.mark.parametrize(
    "extra",
    [
        {"relatedResource": [{"id": _OWN_ID, "digestSRI": "sha256-x"}]},  # its own id again
        {"credentialSubject": {"id": "did:example:a", "type": "ex:Thing"}},  # a type with a colon
        {"credentialSubject": {"id": "did:example:a", "ex:thing": "B"}},  # a name with a colon
        {"credentialSubject": {"@id": "did:example:a"}},  # a keyword a term stands for
        {"credentialSubject": {"id": "did:example:a", "name": {"@value": "A", "@index": [1]}}},
    ],
)
def test_the_expansion_walk_does_not_vouch_for_what_the_terms_check_looks_at(
    extra: dict[str, object],
) -> None:
    from vcred import _jsonld_fast
    from vcred.jsonld import check_read_by_terms, default_loader

    document = credential(**extra)
    loader = default_loader()
    try:
        quads, passes = _jsonld_fast.to_quads_read_by_terms(document, loader)
    except (ContextError, _jsonld_fast.Unsupported):
        return  # no dataset: nothing to vouch for
    assert not passes
    assert quads == _jsonld_fast.to_quads(document, loader)
    with contextlib.suppress(ContextError):
        check_read_by_terms(document)  # the check itself decides (ex:thing names no term)


def test_an_rdfc_credential_is_walked_for_its_terms_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # the expansion of the document and of the proof options tells that the terms check
    # passes: neither the proof stage nor the context stage walks them again
    from vcred import _jsonld_fast

    key = KeyPair.generate("ed25519")
    plain = issue(credential(), key, format="eddsa-rdfc-2022", now=NOW)
    colon = issue(
        credential(credentialSubject={"id": "did:example:a", "ex:thing": "B"}),
        key,
        format="eddsa-rdfc-2022",
        now=NOW,
    )
    walked: list[object] = []
    check = _jsonld_fast.check_read_by_terms
    monkeypatch.setattr(
        _jsonld_fast,
        "check_read_by_terms",
        lambda document, *args: walked.append(document) or check(document, *args),
    )
    verifier = Verifier(clock=lambda: NOW)
    assert verifier.verify(plain).verified
    assert walked == []
    assert verifier.verify(colon).verified  # not told: the check walks it, and passes it
    assert len(walked) == 1
