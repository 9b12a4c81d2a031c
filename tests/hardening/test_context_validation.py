"""Context validation: the JSON a caller reads is what was signed (w3c/vc-data-integrity#272).

With an RDFC suite, an inline ``@context`` appended to a signed credential can re-map JSON
members to other IRIs — alias a type name, swap two members — and the RDF dataset, so the
signature, stays the same. Each attack goes through ``vcred.verify`` /
``verify_presentation``, the verifier service and the CLI: refused with INVALID_CONTEXT by
default; with inline contexts allowed, what comes back (and what trust reads) is the signed
information.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pytest
from flask import Flask

from tests.verifier.conftest import DOMAIN, NOW, US_DID, Agency
from vcred import Verifier, did_key, issue, jose
from vcred.customs.samples import aeo_certificate
from vcred.errors import ContextError, VcredError
from vcred.integrity import add_proof
from vcred.issuing import signer_for
from vcred.jsonld import ContextLoader, context_digest
from vcred.keys import KeyPair
from vcred.presentation import build_presentation
from vcred.trust import TrustList, build_trust_list, load_trust_list

V2: Final = "https://www.w3.org/ns/credentials/v2"
EXAMPLES: Final = "https://www.w3.org/ns/credentials/examples/v2"
VOCAB: Final = "https://www.w3.org/ns/credentials/examples#"  # the examples context's @vocab
AEO: Final = "AEOCertificateCredential"
RDFC_SUITES: Final = ("eddsa-rdfc-2022", "ecdsa-rdfc-2019", "data-integrity")
ALL_FORMATS: Final = (*RDFC_SUITES, "eddsa-jcs-2022", "vc+jwt")
EXTRA_URL: Final = "https://customs.example/ns/extra/v1"
EXTRA: Final = {"@context": {"@protected": True, "hsCode": "https://customs.example/ns#hsCode"}}


# -- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def issuer_key() -> KeyPair:
    return KeyPair.generate("ed25519")


@pytest.fixture(scope="module")
def p256_key() -> KeyPair:
    return KeyPair.generate("p256")


@pytest.fixture(scope="module")
def trust(issuer_key: KeyPair) -> TrustList:
    """A trust list that accepts AEO certificates, and nothing else, from the issuer."""
    unsigned = build_trust_list(
        [
            {
                "issuer": did_key(issuer_key.public),
                "programme": "US-CTPAT",
                "country": "US",
                "acceptedCredentialTypes": [AEO],
            }
        ],
        issuer="did:example:eu-verifier",
        programme="EU-AEO",
        authority_country="DE",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2027, 1, 1, tzinfo=UTC),
    )
    return load_trust_list(unsigned, now=NOW, expected_issuer="did:example:eu-verifier")


def warehouse_receipt(issuer: str) -> dict[str, Any]:
    """A credential of another type than AEO, with two members an attacker would swap."""
    return {
        "@context": [V2, EXAMPLES],
        "id": "urn:uuid:1d6f0c2e-7a55-4c43-9d1d-3b0f3a1a9e01",
        "type": ["VerifiableCredential", "WarehouseReceiptCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:trader", "consignor": "A", "consignee": "B"},
    }


def secure(document: dict[str, Any], key: KeyPair, fmt: str) -> Any:
    return issue(document, key, format=fmt, now=NOW)


def alias_type(secured: dict[str, Any]) -> dict[str, Any]:
    """The AEO attack: the JSON says AEOCertificateCredential, the IRI is the signed type."""
    forged = copy.deepcopy(secured)
    forged["@context"] = [*forged["@context"], {AEO: f"{VOCAB}WarehouseReceiptCredential"}]
    forged["type"] = ["VerifiableCredential", AEO]
    return forged


def swap_members(secured: dict[str, Any]) -> dict[str, Any]:
    """Swap two members' values and their IRIs: the JSON reads the other way round."""
    forged = copy.deepcopy(secured)
    forged["@context"] = [
        *forged["@context"],
        {"consignor": f"{VOCAB}consignee", "consignee": f"{VOCAB}consignor"},
    ]
    subject = forged["credentialSubject"]
    subject["consignor"], subject["consignee"] = subject["consignee"], subject["consignor"]
    return forged


def verifier(trust: TrustList | None = None, **options: Any) -> Verifier:
    return Verifier(clock=lambda: NOW, trust=trust, checks=("proof", "issuer", "trust"), **options)


def only_context_error(result: Any, pointer: str) -> None:
    assert not result.verified
    assert result.codes == ("INVALID_CONTEXT",), result.errors
    assert result.errors[0].path == pointer
    assert result.credential is None and result.trust is None


# -- the library ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", RDFC_SUITES)
def test_the_aeo_alias_would_keep_the_signature_but_is_refused(
    issuer_key: KeyPair, p256_key: KeyPair, trust: TrustList, fmt: str
) -> None:
    key = p256_key if fmt == "ecdsa-rdfc-2019" else issuer_key
    receipt = warehouse_receipt(did_key(key.public))
    forged = alias_type(secure(receipt, key, fmt))
    # the signature alone does not notice: the RDF dataset is unchanged
    allowing = verifier(trust, allow_inline_contexts=True)
    assert allowing.verify(forged).check("proof").passed is True
    only_context_error(verifier(trust).verify(forged), "/@context/2")


@pytest.mark.parametrize("fmt", RDFC_SUITES)
def test_with_inline_contexts_allowed_trust_reads_the_signed_type(
    issuer_key: KeyPair, p256_key: KeyPair, trust: TrustList, fmt: str
) -> None:
    key = p256_key if fmt == "ecdsa-rdfc-2019" else issuer_key
    secured = secure(warehouse_receipt(did_key(key.public)), key, fmt)
    result = verifier(trust, allow_inline_contexts=True).verify(alias_type(secured))
    assert result.check("proof").passed is True
    assert result.credential is not None
    assert AEO not in json.dumps(result.credential)
    assert "WarehouseReceiptCredential" in result.credential["type"]
    assert result.trust is not None and result.trust.trusted is False
    assert result.codes == ("UNTRUSTED_ISSUER",)


def test_the_genuine_aeo_certificate_is_still_trusted(
    issuer_key: KeyPair, trust: TrustList
) -> None:
    """Positive control: the trust list does accept this issuer's AEO certificates."""
    genuine = aeo_certificate("us-prairie")
    genuine["issuer"] = did_key(issuer_key.public)
    result = verifier(trust).verify(secure(genuine, issuer_key, "eddsa-rdfc-2022"))
    assert result.verified, result.errors
    assert result.trust is not None and result.trust.trusted


@pytest.mark.parametrize("fmt", RDFC_SUITES)
def test_swapped_members_are_refused_or_read_as_signed(
    issuer_key: KeyPair, p256_key: KeyPair, fmt: str
) -> None:
    key = p256_key if fmt == "ecdsa-rdfc-2019" else issuer_key
    forged = swap_members(secure(warehouse_receipt(did_key(key.public)), key, fmt))
    only_context_error(verifier().verify(forged), "/@context/2")
    result = verifier(allow_inline_contexts=True).verify(forged)
    assert result.check("proof").passed is True
    subject = (result.credential or {})["credentialSubject"]
    assert (subject["consignor"], subject["consignee"]) == ("A", "B")  # as signed


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_an_inline_context_the_issuer_signed_is_refused_in_every_format(
    issuer_key: KeyPair, p256_key: KeyPair, fmt: str
) -> None:
    """JCS and JOSE sign the JSON itself; the rule is the same for every format."""
    key = p256_key if fmt == "ecdsa-rdfc-2019" else issuer_key
    document = alias_type(warehouse_receipt(did_key(key.public)))
    only_context_error(verifier().verify(secure(document, key, fmt)), "/@context/2")


@pytest.mark.parametrize(
    ("place", "pointer"),
    [
        (
            lambda d: d["credentialSubject"].update({"@context": {"x": f"{VOCAB}y"}}),
            "/credentialSubject/@context",
        ),
        (
            lambda d: d["credentialSubject"].update(
                {"address": {"@context": [{"@vocab": VOCAB}], "city": "Rotterdam"}}
            ),
            "/credentialSubject/address/@context/0",
        ),
        (
            lambda d: d.update(
                {
                    "evidence": [
                        {"@context": {"kind": f"{VOCAB}type"}, "type": "Evidence", "kind": "x"}
                    ]
                }
            ),
            "/evidence/0/@context",
        ),
    ],
)
@pytest.mark.parametrize("fmt", ["vc+jwt", "eddsa-jcs-2022", "eddsa-rdfc-2022"])
@pytest.mark.parametrize("as_text", [False, True], ids=["object", "text"])
def test_inline_contexts_anywhere_are_refused(
    issuer_key: KeyPair,
    place: Callable[[dict[str, Any]], None],
    pointer: str,
    fmt: str,
    as_text: bool,
) -> None:
    """Below the top level too, in every format, whether the credential is handed over as
    JSON text or as an object (whose walk tells where ``@context`` members are: a Data
    Integrity proof's own, which eddsa-jcs-2022 copies from the document, is not one of
    the document's)."""
    document = warehouse_receipt(did_key(issuer_key.public))
    place(document)
    secured = secure(document, issuer_key, fmt)
    if as_text and isinstance(secured, dict):
        secured = json.dumps(secured)
    only_context_error(verifier().verify(secured), pointer)


@pytest.mark.parametrize("fmt", ["vc+jwt", "eddsa-jcs-2022", "eddsa-rdfc-2022"])
def test_an_unknown_context_url_is_refused(issuer_key: KeyPair, fmt: str) -> None:
    document = warehouse_receipt(did_key(issuer_key.public))
    document["@context"] = [V2, EXAMPLES, EXTRA_URL]
    loader = ContextLoader({EXTRA_URL: (EXTRA, context_digest(EXTRA))})
    secured = issue(document, issuer_key, format="vc+jwt", now=NOW)
    if fmt != "vc+jwt":  # sign with the context known, verify without it
        from vcred.integrity import add_proof
        from vcred.issuing import signer_for

        secured = add_proof(
            document,
            signer_for(issuer_key),
            suite=fmt,
            purpose="assertionMethod",
            created=NOW,
            loader=loader,
        )
    result = verifier().verify(secured)
    assert result.codes == ("INVALID_CONTEXT",)
    assert result.errors[0].path in ("/@context/2", None) or fmt == "eddsa-rdfc-2022"
    assert result.credential is None
    known = verifier(contexts=loader).verify(secured)
    assert known.verified, known.errors


def test_a_registered_context_whose_content_does_not_match_its_digest_is_refused() -> None:
    swapped = {"@context": {"hsCode": "https://attacker.example/ns#anythingElse"}}
    with pytest.raises(ContextError, match="SHA-256"):
        ContextLoader({EXTRA_URL: (swapped, context_digest(EXTRA))})
    loader = ContextLoader()
    with pytest.raises(ContextError, match="SHA-256"):
        loader.register(EXTRA_URL, json.dumps(swapped), sha256=context_digest(json.dumps(EXTRA)))
    assert EXTRA_URL not in loader


@pytest.mark.parametrize("term", ["issuer", "type", "credentialSubject", "validUntil"])
def test_an_inline_context_redefining_a_protected_term_is_refused(
    issuer_key: KeyPair, term: str
) -> None:
    secured = secure(warehouse_receipt(did_key(issuer_key.public)), issuer_key, "eddsa-rdfc-2022")
    forged = copy.deepcopy(secured)
    forged["@context"] = [V2, EXAMPLES, {term: f"{VOCAB}{term}"}]
    refused = verifier().verify(forged)
    assert refused.codes == ("INVALID_CONTEXT",) and refused.credential is None
    # allowed, it is refused too, or (a type-scoped definition wins in JSON-LD) has no effect:
    # either way what comes back is what was signed
    allowing = verifier(allow_inline_contexts=True).verify(forged)
    if allowing.codes:
        assert allowing.codes == ("INVALID_CONTEXT",) and allowing.credential is None
    else:
        assert allowing.credential is not None
        assert allowing.credential[term] == secured[term]
        assert all(isinstance(c, str) for c in allowing.credential["@context"])


def _vp_jwt(presentation: dict[str, Any], holder: KeyPair, nonce: str) -> str:
    signer = KeyPair.signer(holder) if hasattr(KeyPair, "signer") else None
    from vcred.issuing import signer_for

    issued = int(NOW.timestamp())
    return jose.issue_vp_jwt(
        presentation,
        signer or signer_for(holder),
        challenge=nonce,
        domain=DOMAIN,
        issued_at=issued,
        expires_at=issued + 300,
    )


def test_an_inline_context_in_a_presentation_is_refused(issuer_key: KeyPair) -> None:
    holder = KeyPair.generate("ed25519")
    credential = secure(warehouse_receipt(did_key(issuer_key.public)), issuer_key, "vc+jwt")
    presentation = build_presentation([credential], holder=did_key(holder.public))
    presentation["@context"] = [V2, {"holder": f"{VOCAB}holder"}]
    result = Verifier(clock=lambda: NOW).verify_presentation(
        _vp_jwt(presentation, holder, "n-1"), challenge="n-1", domain=DOMAIN
    )
    assert not result.verified
    assert ("INVALID_CONTEXT", "/@context/1") in [(p.code, p.path) for p in result.errors]


def test_an_inline_context_in_a_credential_inside_a_presentation_is_refused(
    issuer_key: KeyPair,
) -> None:
    holder = KeyPair.generate("ed25519")
    receipt = warehouse_receipt(did_key(issuer_key.public))
    receipt["credentialSubject"]["id"] = did_key(holder.public)
    forged = alias_type(secure(receipt, issuer_key, "eddsa-rdfc-2022"))
    presentation = build_presentation([forged], holder=did_key(holder.public))
    result = Verifier(clock=lambda: NOW).verify_presentation(
        _vp_jwt(presentation, holder, "n-2"), challenge="n-2", domain=DOMAIN
    )
    assert not result.verified
    assert result.check("proof").passed is True  # the presentation itself is fine
    assert ("INVALID_CONTEXT", "/verifiableCredential/0/@context/2") in [
        (p.code, p.path) for p in result.errors
    ]
    assert result.credentials[0].credential is None


def test_with_inline_contexts_allowed_a_presentation_is_read_as_signed(
    issuer_key: KeyPair,
) -> None:
    """VCDM 2.0 §4.3: later ``@context`` items may be objects. Allowed, a presentation's own
    inline context is read as a credential's is: through the known contexts alone, a term it
    defines as its signed IRI; the credentials inside stay as they came, left to their own
    verification (the W3C VCDM 2.0 suite's "objects in the `@context` Array in a VP")."""
    holder = KeyPair.generate("ed25519")
    receipt = warehouse_receipt(did_key(issuer_key.public))
    receipt["credentialSubject"]["id"] = did_key(holder.public)
    inner = secure(receipt, issuer_key, "eddsa-rdfc-2022")
    presentation = build_presentation([inner], holder=did_key(holder.public))
    presentation["@context"] = [V2, {"CustomsPresentation": f"{EXTRA_URL}#CustomsPresentation"}]
    presentation["type"] = ["VerifiablePresentation", "CustomsPresentation"]
    signed = add_proof(
        presentation, signer_for(holder), purpose="authentication", challenge="n-3", domain=DOMAIN
    )
    refused = Verifier(clock=lambda: NOW).verify_presentation(
        signed, challenge="n-3", domain=DOMAIN
    )
    assert ("INVALID_CONTEXT", "/@context/1") in [(p.code, p.path) for p in refused.errors]

    result = Verifier(clock=lambda: NOW, allow_inline_contexts=True).verify_presentation(
        signed, challenge="n-3", domain=DOMAIN
    )
    assert result.verified, result.errors
    assert result.presentation is not None
    assert result.presentation["@context"] == [V2]
    assert result.presentation["type"] == [
        "VerifiablePresentation",
        f"{EXTRA_URL}#CustomsPresentation",
    ]
    assert result.presentation["verifiableCredential"] == [inner]
    assert result.credentials[0].verified, result.credentials[0].errors


def test_credentials_under_another_term_are_refused_even_with_inline_contexts_allowed(
    issuer_key: KeyPair,
) -> None:
    """A presentation's credentials are verified where ``verifiableCredential`` names them:
    an inline term for the same IRI would move them out of the member left to their own
    verification, so the view refuses rather than compact them."""
    holder = KeyPair.generate("ed25519")
    receipt = warehouse_receipt(did_key(issuer_key.public))
    receipt["credentialSubject"]["id"] = did_key(holder.public)
    presentation = build_presentation([], holder=did_key(holder.public))
    presentation["@context"] = [
        V2,
        {
            "credentials": {
                "@id": "https://www.w3.org/2018/credentials#verifiableCredential",
                "@type": "@id",
                "@container": "@graph",
            }
        },
    ]
    presentation["credentials"] = [secure(receipt, issuer_key, "eddsa-rdfc-2022")]
    signed = add_proof(
        presentation, signer_for(holder), purpose="authentication", challenge="n-4", domain=DOMAIN
    )
    result = Verifier(clock=lambda: NOW, allow_inline_contexts=True).verify_presentation(
        signed, challenge="n-4", domain=DOMAIN
    )
    assert not result.verified
    assert ("INVALID_CONTEXT", "/@context/1") in [(p.code, p.path) for p in result.errors]


def test_a_status_list_with_an_inline_context_is_refused(issuer_key: KeyPair) -> None:
    """Status and trust lists go through the same pipeline: the same rule applies."""
    document = warehouse_receipt(did_key(issuer_key.public))
    document["@context"] = [V2, EXAMPLES, {"extra": f"{VOCAB}extra"}]
    with pytest.raises(VcredError) as caught:
        Verifier(clock=lambda: NOW)._verify_status_list(secure(document, issuer_key, "vc+jwt"))
    assert "inline @context" in str(caught.value)


# -- the verifier service ------------------------------------------------------------------------


def _post(app: Flask, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = app.test_client().post(path, json=body)
    return response.status_code, response.get_json()


def _codes(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(p["code"], p.get("pointer")) for p in body.get("problemDetails", [])]


def _aeo_from_the_us_agency(agency: Agency) -> dict[str, Any]:
    """A credential of another type from the issuer the trust list recognises, aliased to AEO."""
    receipt = warehouse_receipt(US_DID)
    secured = agency.issue(receipt, fmt="eddsa-rdfc-2022", now=NOW)
    return alias_type(secured)


def test_the_service_refuses_the_aeo_alias_with_a_400(
    make_app: Callable[..., Flask], agency: Agency
) -> None:
    status, body = _post(
        make_app(), "/credentials/verify", {"verifiableCredential": _aeo_from_the_us_agency(agency)}
    )
    assert status == 400
    assert body["verified"] is False
    assert _codes(body) == [("INVALID_CONTEXT", "/@context/2")]
    assert body["trust"].get("trusted") is not True


def test_a_service_allowing_inline_contexts_does_not_trust_the_alias(
    make_app: Callable[..., Flask], agency: Agency
) -> None:
    app = make_app(allow_inline_contexts=True)
    status, body = _post(
        app, "/credentials/verify", {"verifiableCredential": _aeo_from_the_us_agency(agency)}
    )
    assert status == 400
    assert [code for code, _ in _codes(body)] == ["UNTRUSTED_ISSUER"]
    assert AEO not in json.dumps(body.get("credential"))
    assert body["trust"]["trusted"] is False


def test_the_service_refuses_inline_contexts_in_presentations(
    make_app: Callable[..., Flask], agency: Agency
) -> None:
    app = make_app()
    client = app.test_client()
    holder = KeyPair.generate("ed25519")
    receipt = warehouse_receipt(US_DID)
    receipt["credentialSubject"]["id"] = did_key(holder.public)
    inner = alias_type(agency.issue(receipt, fmt="eddsa-rdfc-2022", now=NOW))
    for presentation, pointer in (
        (build_presentation([inner], holder=did_key(holder.public)), "/verifiableCredential/0"),
        (
            {
                **build_presentation([], holder=did_key(holder.public)),
                "@context": [V2, {"holder": f"{VOCAB}holder"}],
            },
            "",
        ),
    ):
        nonce = client.post("/challenges").get_json()["challenge"]
        token = _vp_jwt(presentation, holder, nonce)
        status, body = _post(
            app,
            "/presentations/verify",
            {"verifiablePresentation": token, "options": {"challenge": nonce, "domain": DOMAIN}},
        )
        assert status == 400, body
        problems = [*body.get("problemDetails", [])]
        for inner_body in body.get("credentials", []):
            problems += inner_body.get("problemDetails", [])
        assert any(
            p["code"] == "INVALID_CONTEXT" and (p.get("pointer") or "").startswith(pointer)
            for p in problems
        ), body


def _context_folder(tmp_path: Path, digest: str | None = None) -> Path:
    folder = tmp_path / "contexts"
    folder.mkdir()
    content = json.dumps(EXTRA).encode()
    (folder / "extra-v1.jsonld").write_bytes(content)
    manifest = {
        EXTRA_URL: {
            "file": "extra-v1.jsonld",
            "sha256": digest or hashlib.sha256(content).hexdigest(),
        }
    }
    (folder / "contexts.json").write_text(json.dumps(manifest))
    return folder


def test_the_service_knows_the_contexts_of_its_folder(
    make_app: Callable[..., Flask], agency: Agency, tmp_path: Path
) -> None:
    receipt = warehouse_receipt(US_DID)
    receipt["@context"] = [V2, EXAMPLES, EXTRA_URL]
    receipt["credentialSubject"]["hsCode"] = "8471.30"
    token = agency.issue(receipt, now=NOW)
    status, body = _post(make_app(), "/credentials/verify", {"verifiableCredential": token})
    assert status == 400 and _codes(body) == [("INVALID_CONTEXT", "/@context/2")]
    app = make_app(contexts_dir=_context_folder(tmp_path))
    status, body = _post(app, "/credentials/verify", {"verifiableCredential": token})
    assert [code for code, _ in _codes(body)] == ["UNTRUSTED_ISSUER"]  # known: only trust left


@pytest.mark.parametrize(
    "damage",
    [
        "wrong digest",
        "file outside the folder",
        "no manifest",
        "manifest not an object",
        "manifest nested past the parser",  # a RecursionError, a traceback at start, before
    ],
)
def test_a_contexts_folder_that_does_not_match_stops_the_service(
    make_app: Callable[..., Flask], tmp_path: Path, damage: str
) -> None:
    folder = _context_folder(tmp_path, "0" * 64 if damage == "wrong digest" else None)
    manifest = folder / "contexts.json"
    if damage == "file outside the folder":
        entry = {"file": "../extra-v1.jsonld", "sha256": "0" * 64}
        manifest.write_text(json.dumps({EXTRA_URL: entry}))
    elif damage == "no manifest":
        manifest.unlink()
    elif damage == "manifest not an object":
        manifest.write_text("[]")
    elif damage == "manifest nested past the parser":
        manifest.write_text('{"a": ' * 20_000 + "1" + "}" * 20_000)
    with pytest.raises(ContextError):
        make_app(contexts_dir=folder)


# -- the CLI -------------------------------------------------------------------------------------


def _vcred(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vcred.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ},
    )


def test_the_cli_takes_contexts_by_url_and_file(issuer_key: KeyPair, tmp_path: Path) -> None:
    document = warehouse_receipt(did_key(issuer_key.public))
    document["@context"] = [V2, EXAMPLES, EXTRA_URL]
    token = str(issue(document, issuer_key, format="vc+jwt", now=datetime.now(UTC)))
    refused = _vcred("verify", "--checks", "proof", "-", stdin=token)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert json.loads(refused.stdout)["errors"][0]["code"] == "INVALID_CONTEXT"
    (tmp_path / "extra.jsonld").write_text(json.dumps(EXTRA))
    known = _vcred(
        "verify",
        "--checks",
        "proof",
        "--context",
        f"{EXTRA_URL}={tmp_path / 'extra.jsonld'}",
        "-",
        stdin=token,
    )
    assert known.returncode == 0, known.stdout + known.stderr


@pytest.mark.parametrize(
    "entry",
    ["no-equals-sign", f"{EXTRA_URL}=/nonexistent/file.jsonld", "relative=ctx.jsonld"],
)
def test_a_bad_context_option_is_a_one_line_error(entry: str, tmp_path: Path) -> None:
    (tmp_path / "ctx.jsonld").write_text(json.dumps(EXTRA))
    result = subprocess.run(
        [sys.executable, "-m", "vcred.cli", "verify", "--context", entry, "-"],
        input="x.y.z",
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# -- the issuer service --------------------------------------------------------------------------


def _issue_on(app: Flask, document: dict[str, Any], fmt: str) -> tuple[int, dict[str, Any]]:
    from tests.issuer.conftest import auth

    body = {"credential": document, "options": {"format": fmt}}
    response = app.test_client().post("/credentials/issue", json=body, headers=auth(app))
    return response.status_code, response.get_json()


@pytest.mark.parametrize("fmt", ["vc+jwt", "eddsa-rdfc-2022", "eddsa-jcs-2022"])
@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        (lambda d: d.update({"@context": [V2, EXAMPLES, {AEO: f"{VOCAB}Other"}]}), "/@context/2"),
        (lambda d: d.update({"@context": [V2, EXAMPLES, EXTRA_URL]}), "/@context/2"),
        (
            lambda d: d["credentialSubject"].update({"@context": {"name": f"{VOCAB}alias"}}),
            "/credentialSubject/@context",
        ),
    ],
)
def test_the_issuer_refuses_to_sign_unknown_or_inline_contexts(
    issuer_app: Flask, fmt: str, change: Callable[[dict[str, Any]], None], pointer: str
) -> None:
    from tests.issuer.conftest import credential

    document = credential()
    change(document)
    status, body = _issue_on(issuer_app, document, fmt)
    assert status == 400, body
    assert body["code"] == "INVALID_CONTEXT"
    assert body["pointer"] == f"/credential{pointer}"


def test_the_issuer_signs_with_the_contexts_of_its_folder(tmp_path: Path) -> None:
    from issuer_app import create_app as create_issuer_app
    from issuer_app import issuer_of
    from tests.issuer.conftest import AppFetcher, credential, make_config

    folder = _context_folder(tmp_path)
    app = create_issuer_app(make_config(tmp_path / "issuer", "sqlite", contexts_dir=folder))
    try:
        document = credential(**{"@context": [V2, EXAMPLES, EXTRA_URL]})
        document["credentialSubject"]["hsCode"] = "8471.30"
        status, body = _issue_on(app, document, "eddsa-rdfc-2022")
        assert status == 201, body
        secured = body["verifiableCredential"]
        plain = Verifier(checks=("proof",), fetcher=AppFetcher(app), clock=issuer_of(app).now)
        knowing = dataclasses.replace(plain, contexts=issuer_of(app).contexts)
        assert knowing.verify(secured).verified, knowing.verify(secured).errors
        assert plain.verify(secured).codes == ("INVALID_CONTEXT",)
    finally:
        issuer_of(app).close()
