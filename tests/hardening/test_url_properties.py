"""Property: whatever URL a signed credential names, ``vcred.verify`` and
``verify_presentation`` answer with typed codes — they never raise, and never connect to an
address the policy refuses.

Valid credentials of each format are re-signed after every URL-valued member (issuer,
verificationMethod through a did:web, status list URL, schema id, contexts, ids,
relatedResource) is replaced by a generated hostile URL: brackets, ports out of range, numeric
IPv4 spellings, percent-escapes, unicode and A-labels, userinfo, empty hosts, whitespace.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening.corpus import base_credential
from tests.verifier.conftest import NOW
from vcred import Verifier, did_key, present, sdjwt
from vcred.errors import VcredError, error_class
from vcred.integrity import add_proof
from vcred.jose import sign_compact
from vcred.keys import KeyPair, LocalSigner
from vcred.net import GuardedFetcher, address_is_public
from vcred.verifier import Problem

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
KEY = KeyPair.generate("ed25519")
HOLDER = KeyPair.generate("ed25519")

HOSTS = st.sampled_from(
    [
        "example.com",
        "EXAMPLE.com",
        "example.com.",
        "",
        "[::1]",
        "[::1",
        "::1]",
        "[zz]",
        "[fe80::1%25eth0]",
        "[::ffff:127.0.0.1]",
        "[64:ff9b::a9fe:a9fe]",
        "[2002:7f00:1::]",
        "[v1.x]",
        "127.0.0.1",
        "8.8.8.8",
        "2130706433",
        "0x7f.1",
        "0177.0.0.1",
        "127.1",
        "256.0.0.1",
        "a..b",
        "xn--",
        "xn--a",
        "xn--bcher-kva.example",
        "bücher.example",
        "例え.jp",
        "ex%41mple.com",
        "%00",
        "h%zz",
        "exa mple.com",
        "host\t",
        "\u202eevil.example",
        "a" * 64 + ".example",
    ]
) | st.text(max_size=12)
PORTS = st.sampled_from(
    ["", ":", ":0", ":443", ":65535", ":65536", ":99999", ":-1", ":+80", ": 80", ":0x50", ":1e3"]
) | st.integers(-(10**25), 10**25).map(lambda n: f":{n}")
PATHS = st.sampled_from(
    ["", "/", "/x", "/a b", "/%", "/%zz", "/%00", "\\x", "/a?b#c#d", "/é", "/\u200b", "/[x]", "?q"]
) | st.text(max_size=10)
URLS = st.one_of(
    st.builds(
        lambda scheme, user, host, port, path: f"{scheme}://{user}{host}{port}{path}",
        st.sampled_from(["https", "http", "HTTPS", "data", "urn", "ftp", "", "ht tp", "1x"]),
        st.sampled_from(["", "user@", "u:p@", "@", "a@b@", "%00@"]),
        HOSTS,
        PORTS,
        PATHS,
    ),
    st.text(max_size=40),
)
DID_WEBS = st.builds(
    lambda host, port, segments: "did:web:" + host + port + "".join(f":{s}" for s in segments),
    HOSTS,
    st.sampled_from(["", "%3A99999", "%3A-1", "%3A", "%3a443", "%3A0", "%3A65536", "%3A%3A"]),
    st.lists(st.sampled_from(["a", "..", "%2e", "x%2Fy", "", "é", "%00"]), max_size=2),
)

Mutate = Callable[[dict[str, Any], str], None]
MEMBERS: dict[str, Mutate] = {
    "id": lambda c, u: c.__setitem__("id", u),
    "issuer": lambda c, u: c.__setitem__("issuer", u),
    "issuer.id": lambda c, u: c.__setitem__("issuer", {"id": u}),
    "subject": lambda c, u: c["credentialSubject"].__setitem__("id", u),
    "context": lambda c, u: c["@context"].append(u),
    "schema": lambda c, u: c.__setitem__("credentialSchema", {"id": u, "type": "JsonSchema"}),
    "related": lambda c, u: c.__setitem__("relatedResource", [{"id": u, "digestSRI": "sha256-x"}]),
    "status": lambda c, u: c.__setitem__(
        "credentialStatus",
        {
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "3",
            "statusListCredential": u,
        },
    ),
    "status.id": lambda c, u: c.__setitem__(
        "credentialStatus",
        {
            "id": u,
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "3",
            "statusListCredential": "https://status.example/1",
        },
    ),
}
FORMATS = ("vc+jwt", "eddsa-rdfc-2022", "eddsa-jcs-2022", "vc+sd-jwt", "enveloped")


def secure(credential: dict[str, Any], signer: LocalSigner, fmt: str) -> Any:
    """Sign ``credential`` as ``fmt`` for real, whatever it says (issue() would refuse most).

    A document JSON-LD cannot even sign is sent as a vc+jwt instead.
    """
    token = sign_compact(credential, signer, typ="vc+jwt", cty="vc")
    try:
        if fmt.startswith("eddsa-"):
            return add_proof(credential, signer, suite=fmt)
        if fmt == "vc+sd-jwt":
            return sdjwt.issue(credential, signer)
    except VcredError:
        pass
    if fmt == "enveloped":
        return {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": "EnvelopedVerifiableCredential",
            "id": f"data:application/vc+jwt,{token}",
        }
    return token


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No DNS answers and no connection succeeds; a connection the policy should have refused
    is recorded (the test then fails)."""
    refused_but_tried: list[str] = []

    def no_dns(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror("no DNS in tests")

    def no_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        if not address_is_public(str(address[0])):
            refused_but_tried.append(str(address[0]))
        raise ConnectionRefusedError("no network in tests")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr(socket, "create_connection", no_connection)
    return refused_but_tried


def assert_typed(problems: tuple[Problem, ...]) -> None:
    for problem in problems:
        assert error_class(problem.code) is not VcredError, problem


VERIFIER = Verifier(fetcher=GuardedFetcher(), clock=lambda: NOW)


def check(secured: Any, network: list[str]) -> None:
    result = VERIFIER.verify(secured)
    assert result.verified or result.errors
    assert_typed(result.errors)
    presentation = VERIFIER.verify_presentation(present([secured], HOLDER, now=NOW))
    assert presentation.verified or presentation.errors
    assert_typed(presentation.errors)
    assert network == []


@SETTINGS
@given(
    member=st.sampled_from(sorted(MEMBERS)),
    url=URLS,
    fmt=st.sampled_from(FORMATS),
)
def test_any_url_in_any_member_of_a_signed_credential_gets_a_typed_answer(
    network: list[str], member: str, url: str, fmt: str
) -> None:
    signer = LocalSigner(key=KEY, key_id=f"{did_key(KEY.public)}#{did_key(KEY.public)[8:]}")
    credential = base_credential(did_key(KEY.public))
    MEMBERS[member](credential, url)
    check(secure(credential, signer, fmt), network)


@SETTINGS
@given(did=DID_WEBS, fmt=st.sampled_from(FORMATS), status=URLS)
def test_any_did_web_issuer_gets_a_typed_answer(
    network: list[str], did: str, fmt: str, status: str
) -> None:
    # the issuer, and the verificationMethod / kid, name a generated did:web
    signer = LocalSigner(key=KEY, key_id=f"{did}#key-1")
    credential = base_credential(did)
    MEMBERS["status"](credential, status)
    check(secure(credential, signer, fmt), network)
