"""URLs read once, strictly (vcred/urls.py): what a credential, a DID, a status entry or an
enveloped data: URL may name, through the library and the services. A URL the parser cannot
read is MALFORMED where it sits (DID_RESOLUTION for a did:web), never a crash or a 500, and
never a DNS lookup or a connection."""

from __future__ import annotations

import copy
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from issuer_app import issuer_of
from tests.hardening.corpus import base_credential
from tests.verifier.conftest import NOW, MakeApp
from vcred import Verifier, did_key, present, sdjwt
from vcred.cli import main
from vcred.errors import MalformedError, UsageError
from vcred.integrity import add_proof
from vcred.issuing import signer_for
from vcred.jose import sign_compact
from vcred.keys import KeyPair, LocalSigner
from vcred.net import GuardedFetcher
from vcred.urls import http_url, parse_data_url, parse_url

#: URLs no two parsers read alike, or that no parser should read at all; each with why.
HOSTILE = {
    "https://[::1/x": "missing its ']'",
    "https://::1]/x": "host is empty",
    "https://a]b/x": "not a host name",
    "https://[zz]/x": "not an IPv6 address",
    "https://[fe80::1%25eth0]/x": "zone identifier",
    "https://[v1.x]/x": "not an IPv6 address",
    "https://[::1]x/x": "only a port",
    "https://host:99999/x": "out of range",
    "https://host:65536/x": "out of range",
    "https://host:0/x": "out of range",
    "https://host:-1/x": "not a number",
    "https://host:+80/x": "not a number",
    "https://host:/x": "not a number",
    "https://host:8o/x": "not a number",
    "https://host:99999999999999999999999/x": "not a number",
    "https://2130706433/x": "dotted quad",
    "https://0x7f.1/x": "dotted quad",
    "https://0x7F000001/x": "dotted quad",
    "https://0177.0.0.1/x": "dotted quad",
    "https://127.1/x": "dotted quad",
    "https://1.2.3.04/x": "dotted quad",
    "https://256.1.1.1/x": "dotted quad",
    "https:///x": "host is empty",
    "https://@/x": "host is empty",
    "https://a..b/x": "not a host name",
    "https://-a.example/x": "not a host name",
    "https://a_b.example/x": "not a host name",
    "https://example.com./x": "not a host name",
    "https://xn--/x": "not a host name",
    "https://xn--a.example/x": "not a valid A-label",
    "https://exa%6Dple.com/x": "not a host name",
    "https://h%00/x": "%00",
    "https://example.com/%00": "%00",
    "https://example.com/%zz": "two hexadecimal digits",
    "https://example.com/%": "two hexadecimal digits",
    "https://ex ample.com/x": "contains ' '",
    "https://example.com/a b": "contains ' '",
    " https://example.com/x": "no scheme",
    "https://example.com/x\n": "contains '\\n'",
    "https://example.com\t/x": "contains '\\t'",
    "https://exämple.com/x": "not ASCII",
    "https://例え.jp/x": "not ASCII",
    "https://example.com\\@evil.example/x": "contains '\\\\'",
    "https://a@b@example.com/x": "user information",
    "https://example.com/x#a#b": "twice",
    "https://example.com/\u202ex": "contains '\\u202e'",
    "https://example.com/[x]": "brackets",
    "http s://example.com": "no scheme",
    "1https://example.com": "no scheme",
    "://example.com": "no scheme",
    "https:": "nothing follows",
    "urn:uuid:\x00": "contains '\\x00'",
}


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host a fetch looks up (none answers: tests never leave the machine)."""
    looked_up: list[str] = []

    def fail(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        looked_up.append(host)
        raise socket.gaierror("no DNS in tests")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    return looked_up


@pytest.fixture
def verifier(dns: list[str], connections: list[tuple[str, int]]) -> Verifier:
    return Verifier(fetcher=GuardedFetcher(), clock=lambda: NOW)


KEY = KeyPair.generate("ed25519")
HOLDER = KeyPair.generate("ed25519")
ISSUER = did_key(KEY.public)
Sign = Callable[[dict[str, Any]], Any]
#: each securing format, signing whatever it is given (issue() would refuse these documents)
SIGNERS: dict[str, Sign] = {
    "vc+jwt": lambda c: sign_compact(c, signer_for(KEY), typ="vc+jwt", cty="vc"),
    "data-integrity": lambda c: add_proof(c, signer_for(KEY)),
    "vc+sd-jwt": lambda c: sdjwt.issue(c, signer_for(KEY)),
}


def with_status(url: str) -> dict[str, Any]:
    entry = {
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": url,
    }
    return base_credential(ISSUER, credentialStatus=entry)


def test_every_hostile_url_is_refused_with_its_reason() -> None:
    for url, reason in HOSTILE.items():
        with pytest.raises(MalformedError) as refused:
            parse_url(url, pointer="/x")
        assert reason in refused.value.message, (url, refused.value.message)
        assert refused.value.pointer == "/x"


@pytest.mark.parametrize(
    ("url", "host", "port", "target"),
    [
        ("https://Example.COM/a/b?c=d#e", "example.com", None, "/a/b?c=d"),
        ("https://example.com", "example.com", None, "/"),
        ("https://example.com:8443/x", "example.com", 8443, "/x"),
        ("https://[2001:db8::1]:443/x", "2001:db8::1", 443, "/x"),
        ("https://8.8.8.8/x", "8.8.8.8", None, "/x"),
        ("https://xn--bcher-kva.example/x", "xn--bcher-kva.example", None, "/x"),
        ("https://u@example.com/x", "example.com", None, "/x"),
        ("https://example.com/%C3%A9t%C3%A9", "example.com", None, "/%C3%A9t%C3%A9"),
    ],
)
def test_well_formed_urls_are_read_into_typed_values(
    url: str, host: str, port: int | None, target: str
) -> None:
    parsed = parse_url(url)
    assert (parsed.scheme, parsed.host, parsed.port, parsed.request_target) == (
        "https",
        host,
        port,
        target,
    )
    assert parsed.text == url


@pytest.mark.parametrize(
    "url",
    ["urn:uuid:0d2b8f4e-3f5a-4bd6-9a7c-7f1e4a2b9c10", "did:web:a.example%3A8443:x", "mailto:a@b"],
)
def test_urls_without_an_authority_have_no_host(url: str) -> None:
    assert parse_url(url).host is None


@pytest.mark.parametrize(
    "value",
    [
        *HOSTILE,
        "https://",
        "http://exa mple.org",
        "ftp://example.org/x",
        "urn:uuid:0d2b8f4e-3f5a-4bd6-9a7c-7f1e4a2b9c10",
        "file:///etc/passwd",
        "//example.org/x",
        None,
    ],
)
def test_a_setting_that_must_be_an_http_url_takes_no_other(value: Any) -> None:
    """One reading for every origin, endpoint and address a service is configured with or a
    wallet fetches (``vcred.urls.http_url``): the strict parser's, http(s), with a host —
    a prefix check let "https://" and "http://exa mple.org" through."""
    assert http_url(value) is None


def test_an_http_url_is_the_parsed_url() -> None:
    assert http_url("https://Customs.example:8443/x") == parse_url("https://Customs.example:8443/x")
    assert http_url("http://127.0.0.1:8001") is not None


@pytest.mark.parametrize("value", ["https://", "http://exa mple.org"])
def test_the_services_refuse_a_url_setting_no_parser_reads(tmp_path: Path, value: str) -> None:
    from issuer_app.config import IssuerConfig
    from vcred_service.oauth import OAuthConfig

    with pytest.raises(UsageError, match=r"http\(s\) URL"):
        IssuerConfig(data_dir=tmp_path, passphrase="x" * 40, public_url=value)
    with pytest.raises(UsageError, match=r"http\(s\) URL"):
        OAuthConfig(audience=value)


def test_long_urls_are_read_every_time_not_held_in_the_cache() -> None:
    from vcred import urls

    before = urls._parse_cached.cache_info().currsize
    for i in range(50):
        assert urls.is_url(f"urn:x:{i}:" + "a" * 300_000)
    assert urls._parse_cached.cache_info().currsize == before


# -- through the library ------------------------------------------------------------------------


@pytest.mark.parametrize("url", [u for u in HOSTILE if u.startswith("https://")])
def test_a_hostile_status_list_url_is_malformed_where_it_sits(
    verifier: Verifier, url: str, dns: list[str], connections: list[tuple[str, int]]
) -> None:
    result = verifier.verify(SIGNERS["vc+jwt"](with_status(url)))
    problems = {(p.code, p.path) for p in result.errors}
    assert ("MALFORMED", "/credentialStatus/statusListCredential") in problems, result.errors
    assert dns == [] and connections == []


@pytest.mark.parametrize("fmt", ["data-integrity", "vc+sd-jwt"])
@pytest.mark.parametrize(
    "url", ["https://[::1/x", "https://host:99999/x", "https://0x7f.1/x", "https://h%00/x"]
)
def test_a_hostile_status_list_url_is_malformed_in_every_format(
    verifier: Verifier, fmt: str, url: str, connections: list[tuple[str, int]]
) -> None:
    result = verifier.verify(SIGNERS[fmt](with_status(url)))
    assert result.check("proof") is not None and result.check("proof").passed  # type: ignore[union-attr]
    assert "MALFORMED" in result.codes
    assert any(p.path == "/credentialStatus/statusListCredential" for p in result.errors)
    assert connections == []


URL_MEMBERS: dict[str, Callable[[dict[str, Any], str], None]] = {
    "/id": lambda c, u: c.__setitem__("id", u),
    "/credentialSubject/id": lambda c, u: c["credentialSubject"].__setitem__("id", u),
    "/credentialSchema/id": lambda c, u: c.__setitem__(
        "credentialSchema", {"id": u, "type": "JsonSchema"}
    ),
    "/relatedResource/0": lambda c, u: c.__setitem__(
        "relatedResource", [{"id": u, "digestSRI": "sha256-x"}]
    ),
    "/@context/1": lambda c, u: c["@context"].append(u),
    "/evidence/id": lambda c, u: c.__setitem__("evidence", {"id": u, "type": "Evidence"}),
    "/credentialStatus/id": lambda c, u: c.__setitem__(
        "credentialStatus", {**with_status("https://s.example/1")["credentialStatus"], "id": u}
    ),
}


@pytest.mark.parametrize("member", sorted(URL_MEMBERS))
@pytest.mark.parametrize(
    "url",
    ["https://host:99999/x", "https://[::1/x", "https://2130706433/x", "https://h%00/", "a b:c"],
)
def test_a_hostile_url_in_any_member_is_malformed_at_its_pointer(
    verifier: Verifier, member: str, url: str
) -> None:
    credential = base_credential(ISSUER)
    URL_MEMBERS[member](credential, url)
    result = verifier.verify(SIGNERS["vc+jwt"](credential))
    # an @context entry is first a context: one nobody registered is INVALID_CONTEXT there
    expected = "INVALID_CONTEXT" if member.startswith("/@context") else "MALFORMED"
    assert expected in result.codes, result.errors
    assert any((p.path or "").startswith(member) for p in result.errors), result.errors
    assert not result.verified


def test_a_hostile_issuer_url_is_malformed_at_the_issuer(verifier: Verifier) -> None:
    for url in ("https://host:99999/", "https://[::1/", "https://0x7f.1/"):
        token = sign_compact(base_credential(url), signer_for(KEY), typ="vc+jwt", cty="vc")
        result = verifier.verify(token)
        # refused at the issuer: malformed, or (the proof stage first) no key of that issuer
        found = {(p.code, p.path) for p in result.errors}
        assert found & {("MALFORMED", "/issuer"), ("UNKNOWN_KEY", "/issuer")}, found
        assert not result.verified


DID_WEBS = {
    "did:web:host%3A99999": "out of range",
    "did:web:host%3A0": "out of range",
    "did:web:host%3A65536:agency": "out of range",
    "did:web:2130706433": "dotted quad",
    "did:web:0x7f.1": "dotted quad",
    "did:web:127.1": "dotted quad",
    "did:web:a..b": "malformed",
    "did:web:xn--a.example": "A-label",
    "did:web:exa%6Dple.com": "malformed",
    "did:web:%5B::1%5D": "malformed",
    "did:web:host%3A": "malformed",
    "did:web:a.example:%2e%2e": "malformed",
}


def did_web_token(did: str) -> str:
    signer = LocalSigner(key=KeyPair.generate(), key_id=f"{did}#key-1")
    return sign_compact(base_credential(did), signer, typ="vc+jwt", cty="vc")


@pytest.mark.parametrize("did", sorted(DID_WEBS))
def test_a_did_web_that_names_no_url_fails_resolution_before_any_lookup(
    verifier: Verifier, did: str, dns: list[str], connections: list[tuple[str, int]]
) -> None:
    result = verifier.verify(did_web_token(did))
    (problem,) = [p for p in result.errors if p.code == "DID_RESOLUTION"]
    assert DID_WEBS[did] in problem.message
    assert problem.path == "/header/kid"  # where the DID to resolve was named
    assert dns == [] and connections == []


ENVELOPES = {
    "data:application/vc+jwt,%zz": "MALFORMED",
    "data:application/vc+jwt,%": "MALFORMED",
    "data:application/vc+jwt,%00": "MALFORMED",
    "data:application/vc+jwt,%C3%28": "MALFORMED",
    "data:application/vc+jwt;base64,!!!!": "MALFORMED",
    "data:application/vc+jwt;charset,x": "MALFORMED",
    "data:,x": "MALFORMED",
    "data:application/vc+jwt": "MALFORMED",
    "data:text/html,x": "UNSUPPORTED",
    "https://example.com/x": "MALFORMED",
}


def enveloped(url: str, kind: str = "EnvelopedVerifiableCredential") -> dict[str, Any]:
    return {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": kind, "id": url}


@pytest.mark.parametrize("url", sorted(ENVELOPES))
def test_a_hostile_enveloped_data_url_is_refused_at_its_id(verifier: Verifier, url: str) -> None:
    result = verifier.verify(enveloped(url))
    assert [(p.code, p.path) for p in result.errors] == [(ENVELOPES[url], "/id")]
    presentation = verifier.verify_presentation(
        enveloped(url.replace("vc+jwt", "vp+jwt"), "EnvelopedVerifiablePresentation")
    )
    assert presentation.codes and set(presentation.codes) <= {"MALFORMED", "UNSUPPORTED"}
    assert not presentation.verified


def test_data_urls_are_decoded_one_way() -> None:
    assert parse_data_url("data:application/vc+jwt,a%2Eb.c").data == b"a.b.c"
    assert parse_data_url("data:Application/VC+JWT;base64,YS5iLmM=").media_type == (
        "application/vc+jwt"
    )


def test_a_presentation_of_a_credential_with_a_hostile_status_url_reports_it(
    verifier: Verifier,
) -> None:
    token = SIGNERS["vc+jwt"](with_status("https://host:99999/x"))
    vp = present([token], HOLDER, now=NOW)
    result = verifier.verify_presentation(vp)
    assert (
        "MALFORMED",
        "/verifiableCredential/0/credentialStatus/statusListCredential",
    ) in {(p.code, p.path) for p in result.errors}


@pytest.mark.parametrize(
    "origin", ["http://[::1", "http://127.0.0.1:99999", "ftp://127.0.0.1", "127.0.0.1:8000"]
)
def test_a_host_map_origin_that_is_no_http_url_is_refused_when_configured(origin: str) -> None:
    with pytest.raises(UsageError, match="host_map"):
        GuardedFetcher(host_map={"us.example": origin})


def test_the_cli_refuses_a_bad_host_map_origin_in_one_line() -> None:
    result = CliRunner().invoke(main, ["verify", "--host-map", "a=http://[::1", "-"], input="{}")
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "--host-map" in result.output
    assert "Traceback" not in result.output


# -- through the services -----------------------------------------------------------------------


def codes(response: Any) -> list[str]:
    body = response.get_json()
    return [p["code"] for p in body.get("problemDetails", [])] + (
        [body["code"]] if "code" in body else []
    )


SERVICE_CASES = [
    (SIGNERS["vc+jwt"](with_status("https://host:99999/x")), "MALFORMED"),
    (SIGNERS["vc+jwt"](with_status("https://[::1/x")), "MALFORMED"),
    (SIGNERS["vc+jwt"](with_status("https://[zz]/x")), "MALFORMED"),
    (SIGNERS["vc+jwt"](with_status("https://℀/x")), "MALFORMED"),
    (SIGNERS["data-integrity"](with_status("https://host:-1/x")), "MALFORMED"),
    (did_web_token("did:web:host%3A99999"), "DID_RESOLUTION"),
    (did_web_token("did:web:0x7f.1"), "DID_RESOLUTION"),
    (enveloped("data:application/vc+jwt,%zz"), "MALFORMED"),
    (enveloped("data:text/html,x"), "UNSUPPORTED"),
]


@pytest.mark.parametrize(("secured", "code"), SERVICE_CASES)
def test_hostile_urls_through_the_verifier_service_are_a_clean_400(
    make_app: MakeApp,
    secured: Any,
    code: str,
    dns: list[str],
    connections: list[tuple[str, int]],
) -> None:
    client = make_app().test_client()
    response = client.post("/credentials/verify", json={"verifiableCredential": secured})
    assert response.status_code == 400, response.get_json()
    assert code in codes(response)
    assert dns == [] and connections == []


def test_hostile_urls_in_a_presentation_through_the_verifier_service_are_a_clean_4xx(
    make_app: MakeApp, dns: list[str], connections: list[tuple[str, int]]
) -> None:
    client = make_app().test_client()
    secured = [case for case, _ in SERVICE_CASES if isinstance(case, str)]
    for body in (
        {"verifiablePresentation": present(secured, HOLDER, now=NOW)},
        {
            "verifiablePresentation": enveloped(
                "data:application/vp+jwt,%zz", "EnvelopedVerifiablePresentation"
            )
        },
    ):
        response = client.post("/presentations/verify", json=body)
        assert 400 <= response.status_code < 500, response.get_json()
        assert set(codes(response)) & {"MALFORMED", "DID_RESOLUTION"}
    assert dns == [] and connections == []


@pytest.mark.parametrize(
    ("member", "url"),
    [
        ("/id", "https://host:99999/x"),
        ("/credentialSubject/id", "https://[::1/x"),
        ("/credentialSchema/id", "https://2130706433/schema.json"),
        ("/relatedResource/0", "https://h%00/x"),
    ],
)
def test_hostile_urls_sent_to_the_issuer_service_are_a_clean_400(
    issuer_app: Flask, member: str, url: str
) -> None:
    credential = copy.deepcopy(base_credential(None))
    URL_MEMBERS[member](credential, url)
    token = issuer_of(issuer_app).create_token(("issue",), actor="t").token
    response = issuer_app.test_client().post(
        "/credentials/issue",
        json={"credential": credential},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert body["code"] == "MALFORMED"
    assert body["pointer"].startswith(f"/credential{member}")


@pytest.mark.parametrize(
    "target", ["//[", "//[::1", "/\\evil.example", "/\t/evil.example", "/\n/evil.example", "//x"]
)
def test_the_issuer_login_never_crashes_on_or_follows_a_hostile_next(
    issuer_app: Flask, target: str
) -> None:
    issuer_of(issuer_app).add_officer("ana", "a long officer password", actor="test")
    client = issuer_app.test_client()
    page = client.get("/login", query_string={"next": target})
    assert page.status_code == 200  # urllib raised ValueError on //[: a 500
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(
        "/login",
        data={
            "name": "ana",
            "password": "a long officer password",
            "csrf_token": token,
            "next": target,
        },
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/officer/credentials"


def test_the_issuer_login_still_follows_a_path_on_this_site(issuer_app: Flask) -> None:
    issuer_of(issuer_app).add_officer("ana", "a long officer password", actor="test")
    client = issuer_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(
        "/login",
        data={
            "name": "ana",
            "password": "a long officer password",
            "csrf_token": token,
            "next": "/officer/credentials?q=x",
        },
    )
    assert answer.headers["Location"] == "/officer/credentials?q=x"
