"""The format registry: every option either used or refused, a verifier's accepted formats."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import vcred
from tests.conftest import NOW, billing_attestation, credential
from vcred import Verifier, issue, model, present
from vcred.errors import MalformedError, UsageError, VcredError
from vcred.formats import (
    COMMON_ISSUE_OPTIONS,
    COMMON_PRESENT_OPTIONS,
    ISSUE_OPTIONS,
    PRESENT_OPTIONS,
    Format,
    FormatRegistry,
    registry,
)
from vcred.jsonld import default_loader
from vcred.keys import KeyPair
from vcred.testing import StaticFetcher

AT = Verifier(clock=lambda: NOW)
#: A value of the right type for each option (whether it makes sense is not the point).
SAMPLE: dict[str, Any] = {
    "now": NOW,
    "loader": None,  # given below as the default loader
    "disclosable": ["/credentialSubject/name"],
    "holder": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "resolver": object(),
    "created": NOW,
    "expires": NOW + timedelta(days=1),
    "proof_id": "urn:uuid:0b3c4f3e-4f0c-4b43-9a5b-7f3b1c1d2e3f",
    "previous_proof": "urn:uuid:1b3c4f3e-4f0c-4b43-9a5b-7f3b1c1d2e3f",
    "cryptosuite": "eddsa-rdfc-2022",
    "mandatory_pointers": ["/issuer"],
}


@pytest.fixture(scope="module")
def p256() -> KeyPair:
    return KeyPair.generate("p256")


def _walk(operation: str, options: tuple[str, ...], common: frozenset[str]) -> list[Any]:
    """(format, option, used) for every format that can ``operation`` × every option."""
    cases: list[Any] = []
    for name in registry.names(operation):
        entry = registry[name]
        used = getattr(entry, f"{operation}_options") | common
        cases.extend(
            pytest.param(name, option, option in used, id=f"{name}-{option}") for option in options
        )
    return cases


@pytest.mark.parametrize(
    ("fmt", "option", "used"), _walk("issue", ISSUE_OPTIONS, COMMON_ISSUE_OPTIONS)
)
def test_every_issue_option_is_used_or_refused(
    p256: KeyPair, fmt: str, option: str, used: bool
) -> None:
    options: dict[str, Any] = {option: default_loader() if option == "loader" else SAMPLE[option]}
    if not used:
        with pytest.raises(UsageError, match=f"does not use the issue option '{option}'"):
            issue(credential(), p256, format=fmt, **options)
        return
    refusal = ""
    try:  # a used option's sample may not fit the credential or key: that is not a refusal
        issue(credential(), p256, format=fmt, **options)
    except VcredError as error:
        refusal = str(error)
    assert "does not use" not in refusal


@pytest.mark.parametrize(
    ("fmt", "option", "used"),
    _walk("present", tuple(set(PRESENT_OPTIONS) - COMMON_PRESENT_OPTIONS), frozenset()),
)
def test_every_present_option_is_used_or_refused(
    p256: KeyPair, fmt: str, option: str, used: bool
) -> None:
    vc = issue(credential(), p256)
    options: dict[str, Any] = {option: timedelta(minutes=1)}
    if used:
        assert present([vc], p256, format=fmt, **options)
    else:
        with pytest.raises(UsageError, match=f"does not use the present option '{option}'"):
            present([vc], p256, format=fmt, **options)


def test_disclosable_with_the_default_vc_jwt_is_refused_not_disclosed(p256: KeyPair) -> None:
    """The privacy bug of issue 16: the prices went to every verifier, with no error."""
    with pytest.raises(UsageError, match="'vc\\+jwt' does not use the issue option 'disclosable'"):
        issue(billing_attestation(), p256, disclosable=["/credentialSubject/invoice"])


def test_mandatory_pointers_with_a_suite_that_has_none_is_refused(ed_key: KeyPair) -> None:
    with pytest.raises(UsageError, match="does not use the issue option 'mandatory_pointers'"):
        issue(credential(), ed_key, format="eddsa-rdfc-2022", mandatory_pointers=["/issuer"])


def test_every_format_is_in_the_one_registry() -> None:
    assert {"vc+jwt", "vc+sd-jwt", "data-integrity", "vc+cose"} <= set(registry.names("verify"))
    assert {"vp+jwt", "vc+sd-jwt", "data-integrity", "vp+cose"} <= set(
        registry.names("verify_presentation")
    )
    assert {"vp+jwt", "vp+cose", "data-integrity"} <= set(registry.names("present"))
    assert "vc+jwt" in registry.names("issue") and "Ed25519Signature2020" not in registry.names(
        "issue"
    )


def test_a_verifier_accepts_every_registered_format_by_default() -> None:
    assert AT.formats == {*registry.names("verify"), *registry.names("verify_presentation")}


def test_a_verifier_refuses_a_format_it_does_not_accept(p256: KeyPair) -> None:
    jwt_only = Verifier(clock=lambda: NOW, formats={"vc+jwt", "vp+jwt"})
    assert jwt_only.verify(issue(credential(), p256)).verified
    result = jwt_only.verify(issue(credential(), p256, format="data-integrity"))
    assert not result.verified and result.codes == ("UNSUPPORTED",)
    assert "does not accept the format data-integrity" in result.errors[0].message
    vp = present([issue(credential(), p256)], p256, format="vp+cose", challenge="c")
    presented = jwt_only.verify_presentation(vp, challenge="c")
    assert not presented.verified and "UNSUPPORTED" in presented.codes


def test_a_verifier_refuses_unknown_format_names() -> None:
    with pytest.raises(UsageError, match="unknown formats \\['vc\\+jwtt'\\]"):
        Verifier(formats={"vc+jwtt"})
    with pytest.raises(UsageError, match="not one string"):
        Verifier(formats="vc+jwt")  # type: ignore[arg-type]


def test_a_registry_refuses_options_no_operation_has() -> None:
    with pytest.raises(UsageError, match="unknown options \\['disclose'\\]"):
        FormatRegistry().register(Format(name="x", issue_options=frozenset({"disclose"})))


def test_registering_again_completes_the_entry() -> None:
    own = FormatRegistry()
    own.register(Format(name="x", issue_refusal="never"))
    own.register(Format(name="x", verify=lambda verifier, document, state: None))
    assert own["x"].issue_refusal == "never" and own["x"].verify is not None
    assert list(own) == ["x"] and own.names("verify") == ("x",)


def test_a_replaced_issuer_does_not_inherit_that_its_predecessor_checked_text() -> None:
    # issue() walks the document for lone surrogates unless the format's issuer says it
    # refuses them itself: a new issuer must say so again
    own = FormatRegistry()
    own.register(Format(name="x", issue=lambda document, signer: "", issue_checks_text=True))
    own.register(Format(name="x", verify=lambda verifier, document, state: None))
    assert own["x"].issue_checks_text
    own.register(Format(name="x", issue=lambda document, signer: ""))
    assert not own["x"].issue_checks_text


@pytest.mark.parametrize("option", ["fetcher", "trust", "now"])
def test_verify_refuses_options_a_given_verifier_would_ignore(p256: KeyPair, option: str) -> None:
    vc = issue(credential(), p256)
    value = {"fetcher": StaticFetcher({}), "trust": object(), "now": NOW}[option]
    with pytest.raises(UsageError, match=f"{option} cannot be given with a verifier"):
        vcred.verify(vc, verifier=AT, **{option: value})
    with pytest.raises(UsageError, match=f"{option} cannot be given with a verifier"):
        vcred.verify_presentation(vc, verifier=AT, **{option: value})


def test_checks_given_with_a_verifier_are_the_ones_run(p256: KeyPair) -> None:
    result = vcred.verify(issue(credential(), p256), verifier=AT, checks=["validity"])
    assert [c.name for c in result.checks] == ["validity"] and result.verified


@pytest.mark.parametrize("fmt", ["vc+jwt", "vc+sd-jwt", "vc+cose", "eddsa-rdfc-2022"])
def test_issuing_a_lone_surrogate_is_malformed_with_its_pointer(fmt: str) -> None:
    # UTF-8 cannot carry it: signing raised UnicodeEncodeError (a 500 at the issuer service
    # for a caller other than its JSON body)
    document = credential()
    document["credentialSubject"]["name"] = "\ud800"
    with pytest.raises(MalformedError) as caught:
        issue(document, KeyPair.generate("ed25519"), format=fmt, now=NOW)
    assert caught.value.pointer == "/credentialSubject/name"


@pytest.mark.parametrize("fmt", sorted(registry.issuers()))
def test_a_credential_nested_past_the_stack_is_malformed_in_every_format(fmt: str) -> None:
    # JSON encoding, JCS and JSON-LD recurse once per level: 5,000 levels raised a bare
    # RecursionError out of issue() (900 were enough for the Data Integrity suites)
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(5000):
        inner["a"] = {}
        inner = inner["a"]
    document = credential(credentialSubject={"id": "did:example:trader", "deep": deep})
    key = KeyPair.generate("p256" if fmt.startswith("ecdsa") else "ed25519")
    with pytest.raises(MalformedError, match="too deeply"):
        issue(document, key, format=fmt)


def _nested_credential(levels: int) -> dict[str, Any]:
    """A credential whose objects nest ``levels`` deep as ``model.check_depth`` counts (the
    credential is level 1), each with an id (no chain of blank nodes for RDFC to refuse)."""
    subject: dict[str, Any] = {"id": "did:example:trader"}  # level 2
    inner = subject
    for i in range(levels - 3):
        inner["knows"] = {"id": f"urn:example:{i}"}
        inner = inner["knows"]
    inner["knows"] = {}  # the innermost, empty: it counts all the same
    return credential(
        **{"@context": ["https://www.w3.org/ns/credentials/v2", EXAMPLES_CONTEXT]},
        credentialSubject=subject,
    )


EXAMPLES_CONTEXT = "https://www.w3.org/ns/credentials/examples/v2"


@pytest.mark.parametrize("fmt", sorted(registry.issuers()))
def test_a_credential_nested_one_past_the_depth_limit_is_malformed_in_every_format(
    fmt: str,
) -> None:
    """One limit, ``model.MAX_DEPTH``, in every format: a VC-JWT or COSE payload had none (600
    levels verified), an SD-JWT's claims passed one level more when the innermost was empty."""
    assert model.check_depth(_nested_credential(model.MAX_DEPTH)) is None
    key = KeyPair.generate("p256" if fmt.startswith("ecdsa") else "ed25519")
    within = AT.verify(issue(_nested_credential(model.MAX_DEPTH), key, format=fmt, now=NOW))
    if fmt == "ecdsa-sd-2023":  # a base proof is for the holder: not verified, but not refused
        assert within.codes == ("INVALID_PROOF",)
    else:
        assert within.verified, within.errors
    past = AT.verify(issue(_nested_credential(model.MAX_DEPTH + 1), key, format=fmt, now=NOW))
    assert past.codes == ("MALFORMED",)
    assert "nested deeper than 64 levels" in past.errors[0].message
    assert past.errors[0].path == "/credentialSubject" + "/knows" * (model.MAX_DEPTH - 1)


@pytest.mark.parametrize("secure", ["vp+jwt", "vp+cose"])
def test_a_presentation_nested_one_past_the_depth_limit_is_malformed(secure: str) -> None:
    # the payload of a VP-JWT or VP-COSE had no limit either (the credentials it carries
    # are enveloped, each parsed on its own)
    from vcred import cose, jose
    from vcred.issuing import signer_for

    holder = KeyPair.generate("ed25519")
    signer = signer_for(holder)

    def presentation(levels: int) -> dict[str, Any]:
        deep: dict[str, Any] = {}
        for _ in range(levels - 1):  # the presentation is level 1
            deep = {"a": deep}
        return {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "holder": signer.key_id.partition("#")[0],
            "deep": deep["a"],
        }

    make = jose.issue_vp_jwt if secure == "vp+jwt" else cose.issue_vp_cose
    past = AT.verify_presentation(
        make(presentation(model.MAX_DEPTH + 1), signer, challenge="c"), challenge="c"
    )
    assert not past.verified and past.codes[0] == "MALFORMED", past.errors
    assert "nested deeper than 64 levels" in past.errors[0].message
    within = AT.verify_presentation(
        make(presentation(model.MAX_DEPTH), signer, challenge="c"), challenge="c"
    )
    assert "MALFORMED" not in within.codes, within.errors
