"""OpenID4VP and OpenID4VCI as a hostile peer plays them: a Verifier's Request Object whose
DCQL query carries a wrong type at any member, an offer or offer URL of any shape, an
issuer answering the wallet with anything. Every failure is a VcredError (the wallet's
ProtocolError, MalformedError …), never a TypeError, AttributeError or ValueError.

Found by this sweep: ``check_dcql`` let TypeError out for ``claims`` or ``credential_sets``
that are no arrays (null, a number) and for ids that are arrays (unhashable), and accepted
``type_values`` / ``vct_values`` / ``multiple`` / ``required`` of any type, which the wallet
then read (``_has_types``, ``_matches_query``, ``check_credential``: TypeError);
``parse_offer_url`` and ``request_uri_of`` AttributeError for a link that is no str; a
credential issuer or authorization server such as ``https://[`` a ValueError out of
``redeem``; the wallet's holder-binding check a TypeError or AttributeError for a
credential whose subject id, ``sub`` or ``vc`` has another type.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_properties import json_values
from vcred import oid4vci, openid4vp
from vcred.errors import HolderMismatchError, MalformedError, VcredError
from vcred.issuing import signer_for
from vcred.jose import sign_compact
from vcred.keys import KeyPair
from vcred.multibase import b64url_encode
from vcred.wallet import Wallet, request_uri_of
from vcred.wallet.client import redeem
from vcred.wallet.transport import Answer

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HOLDER = KeyPair.generate("p256")

#: any JSON value, and the odd strings a peer may send
hostile = (
    json_values
    | st.sampled_from(["", "\x00", "a\x00b", "\ud800", "https://[", "é" * 300, "x" * 5000])
    | st.recursive(st.just([]), lambda c: st.lists(c, min_size=1, max_size=1), max_leaves=80)
)


def maybe(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A member's value: four times in five well formed (so the parser goes on to the next
    member), else anything."""
    return st.integers(0, 4).flatmap(lambda i: hostile if i == 0 else good)


ids = st.sampled_from(["a", "b", "c"])
claim_paths = st.lists(st.text(max_size=3) | st.none() | st.integers(0, 3), min_size=1, max_size=3)
claim_values = st.lists(st.text(max_size=3) | st.integers(-2, 2) | st.booleans(), max_size=3)
claims = st.fixed_dictionaries(
    {"path": maybe(claim_paths)}, optional={"id": maybe(ids), "values": maybe(claim_values)}
)
authorities = st.lists(
    st.fixed_dictionaries(
        {"type": maybe(st.sampled_from(["aki", "etsi_tl", "x"])), "values": maybe(st.lists(ids))}
    ),
    max_size=2,
)
metas = st.fixed_dictionaries(
    {},
    optional={
        "type_values": maybe(st.lists(st.lists(st.text(max_size=5), max_size=2), max_size=2)),
        "vct_values": maybe(st.lists(st.text(max_size=5), max_size=2)),
    },
)
entries = st.fixed_dictionaries(
    {
        "id": maybe(ids),
        "format": maybe(st.sampled_from(openid4vp.FORMATS)),
        "meta": maybe(metas),
    },
    optional={
        "claims": maybe(st.lists(maybe(claims), max_size=3)),
        "claim_sets": maybe(st.lists(st.lists(maybe(ids), max_size=2), max_size=2)),
        "multiple": maybe(st.booleans()),
        "trusted_authorities": maybe(authorities),
    },
)
queries = st.fixed_dictionaries(
    {"credentials": maybe(st.lists(maybe(entries), min_size=1, max_size=3))},
    optional={
        "credential_sets": maybe(
            st.lists(
                st.fixed_dictionaries(
                    {"options": maybe(st.lists(st.lists(maybe(ids), max_size=2), max_size=2))},
                    optional={"required": maybe(st.booleans())},
                ),
                max_size=2,
            )
        )
    },
)
credentials = st.dictionaries(
    st.sampled_from(["@context", "type", "vct", "credentialSubject", "sub", "vc", "a"]),
    hostile,
    max_size=5,
)


def _typed(call: Any, *args: Any, **kwargs: Any) -> Any:
    """The call's answer, or None for a typed refusal; anything else fails the test."""
    with contextlib.suppress(VcredError):
        return call(*args, **kwargs)
    return None


@SETTINGS
@given(query=queries, credential=credentials)
def test_a_dcql_query_of_any_shape_is_refused_typed_or_read_safely(
    query: Any, credential: dict[str, Any]
) -> None:
    try:
        openid4vp.check_dcql(query)
    except VcredError:
        return
    # accepted: everything the wallet and the verifier do with it must hold
    _typed(openid4vp.check_evaluable, query)
    for entry in query["credentials"]:
        _typed(openid4vp.check_credential, credential, entry)
    token = json.dumps({entry["id"]: [credential] for entry in query["credentials"]})
    _typed(openid4vp.read_vp_token, token, query)
    # a credential no holder can sign (a lone surrogate) is refused typed, and goes no further
    jwt = _typed(sign_compact, credential, signer_for(HOLDER), typ="vc+jwt")
    if jwt is None:
        return
    request = openid4vp.AuthorizationRequest(
        client_id="decentralized_identifier:did:example:v",
        response_uri="https://verifier.example/r",
        nonce="n" * 22,
        state="s",
        dcql_query=query,
    )
    _typed(openid4vp.answer, request, [jwt, jwt + "~"], HOLDER, now=NOW)


@pytest.mark.parametrize(
    ("query", "pointer"),
    [
        ({"credentials": [{"id": "a", "format": "jwt_vc_json", "meta": {}, "claims": None}]},
         "/credentials/0/claims"),
        ({"credentials": [{"id": "a", "format": "jwt_vc_json", "meta": {}, "claims": 5}]},
         "/credentials/0/claims"),
        ({"credentials": [{"id": "a", "format": "jwt_vc_json", "meta": {}}],
          "credential_sets": 5}, "/credential_sets"),
        ({"credentials": [{"id": "a", "format": "jwt_vc_json", "meta": {}}],
          "credential_sets": [{"options": [[["a"]]]}]}, "/credential_sets/0/options"),
        ({"credentials": [{"id": "a", "format": "jwt_vc_json", "meta": {},
          "claims": [{"path": ["x"], "id": []}], "claim_sets": [[[]]]}]},
         "/credentials/0/claims/0/id"),
        ({"credentials": [{"id": "a", "format": "jwt_vc_json", "meta": {"type_values": 5}}]},
         "/credentials/0/meta/type_values"),
        ({"credentials": [{"id": "a", "format": "jwt_vc_json", "meta": {"type_values": [[[]]]}}]},
         "/credentials/0/meta/type_values"),
        ({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": "abc"}}]},
         "/credentials/0/meta/vct_values"),
        ({"credentials": [{"id": "a", "format": "jwt_vc_json", "meta": {}, "multiple": "yes"}]},
         "/credentials/0/multiple"),
        ({"credentials": [{"id": "a", "format": "jwt_vc_json", "meta": {}}],
          "credential_sets": [{"options": [["a"]], "required": "no"}]},
         "/credential_sets/0/required"),
    ],
)  # fmt: skip
def test_a_dcql_member_of_the_wrong_type_is_malformed_where_it_is(
    query: dict[str, Any], pointer: str
) -> None:
    with pytest.raises(MalformedError) as caught:
        openid4vp.check_dcql(query)
    assert caught.value.pointer == pointer


offers = st.fixed_dictionaries(
    {},
    optional={
        "credential_issuer": maybe(st.sampled_from(["https://issuer.example", "http://["])),
        "credential_configuration_ids": maybe(st.lists(ids, max_size=2)),
        "grants": maybe(
            st.fixed_dictionaries(
                {
                    oid4vci.GRANT_PRE_AUTHORIZED: maybe(
                        st.fixed_dictionaries(
                            {"pre-authorized_code": maybe(st.text(max_size=5))},
                            optional={"tx_code": hostile},
                        )
                    )
                }
            )
        ),
    },
)


@SETTINGS
@given(offer=offers | hostile, text=st.text(max_size=60) | st.binary(max_size=20))
def test_an_offer_of_any_shape_is_a_protocol_error_or_an_offer(offer: Any, text: Any) -> None:
    _typed(oid4vci.parse_offer, offer)
    encoded = quote(json.dumps(offer), safe="")
    _typed(oid4vci.parse_offer_url, f"openid-credential-offer://?credential_offer={encoded}")
    _typed(oid4vci.parse_offer_url, text)
    _typed(oid4vci.parse_offer_url, f"openid-credential-offer://?credential_offer={text!s}")
    _typed(request_uri_of, text)
    _typed(request_uri_of, f"openid4vp://?client_id=a&request_uri={text!s}")


@pytest.mark.parametrize("link", [None, 7, b"openid-credential-offer://?x=1", ["a"], {"a": 1}])
def test_a_link_that_is_no_text_is_refused_typed(link: Any) -> None:
    with pytest.raises(VcredError):
        oid4vci.parse_offer_url(link)
    with pytest.raises(VcredError):
        request_uri_of(link)


class ScriptedIssuer:
    """A wallet transport answering as an issuer would, but with ``changes`` made to its
    answers: (path, member) → value, or (path, None) → the whole body."""

    BASE = "https://issuer.example"

    def __init__(self, changes: Mapping[tuple[str, str | None], Any]) -> None:
        self.changes = changes

    def request(
        self, method: str, url: str, *, body: bytes | None = None, headers: Mapping[str, str]
    ) -> Answer:
        path = url.removeprefix(self.BASE)
        answers: dict[str, dict[str, Any]] = {
            "/offers/1": {
                "credential_issuer": self.BASE,
                "credential_configuration_ids": ["a"],
                "grants": {oid4vci.GRANT_PRE_AUTHORIZED: {"pre-authorized_code": "code"}},
            },
            "/.well-known/openid-credential-issuer": {
                "credential_issuer": self.BASE,
                "credential_endpoint": f"{self.BASE}/credential",
                "nonce_endpoint": f"{self.BASE}/nonce",
                "credential_configurations_supported": {"a": {"format": "jwt_vc_json"}},
            },
            "/.well-known/oauth-authorization-server": {
                "issuer": self.BASE,
                "token_endpoint": f"{self.BASE}/token",
            },
            "/token": {"access_token": "t", "token_type": "Bearer"},
            "/nonce": {"c_nonce": "n"},
            "/credential": {"credentials": [{"credential": "e30.e30.e30"}]},
        }
        answer: Any = answers.get(path, {"error": "not_found"})
        status = 200 if path in answers else 404
        for (where, member), value in self.changes.items():
            if where != path:
                continue
            if member is None:
                answer = value  # bytes: the body as they are (not JSON, not UTF-8 …)
            elif isinstance(answer, dict):
                answer = {**answer, member: value.hex() if isinstance(value, bytes) else value}
        data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        return Answer(status=status, content_type="application/json", body=data)


PATHS_AND_MEMBERS = [
    ("/offers/1", "credential_issuer"),
    ("/offers/1", "credential_configuration_ids"),
    ("/offers/1", "grants"),
    ("/.well-known/openid-credential-issuer", "credential_issuer"),
    ("/.well-known/openid-credential-issuer", "credential_endpoint"),
    ("/.well-known/openid-credential-issuer", "nonce_endpoint"),
    ("/.well-known/openid-credential-issuer", "credential_configurations_supported"),
    ("/.well-known/openid-credential-issuer", "authorization_servers"),
    ("/.well-known/oauth-authorization-server", "issuer"),
    ("/.well-known/oauth-authorization-server", "token_endpoint"),
    ("/token", "access_token"),
    ("/token", "token_type"),
    ("/token", "error"),
    ("/nonce", "c_nonce"),
    ("/credential", "credentials"),
    ("/credential", "error"),
    *((path, None) for path in ("/offers/1", "/token", "/nonce", "/credential")),
]


@SETTINGS
@given(
    changes=st.dictionaries(
        st.sampled_from(PATHS_AND_MEMBERS), hostile | st.binary(max_size=8), max_size=3
    )
)
def test_an_issuer_answering_anything_is_a_typed_refusal(
    changes: dict[tuple[str, str | None], Any],
) -> None:
    link = "openid-credential-offer://?credential_offer_uri=" + quote(
        f"{ScriptedIssuer.BASE}/offers/1", safe=""
    )
    _typed(
        redeem,
        link,
        holder=signer_for(HOLDER),
        tx_code=None,
        transport=ScriptedIssuer(changes),
        now=lambda: NOW,
    )


@pytest.mark.parametrize(
    ("path", "member"),
    [
        ("/offers/1", "credential_issuer"),
        ("/.well-known/openid-credential-issuer", "authorization_servers"),
    ],
)
def test_an_issuer_url_no_url_parser_reads_is_a_protocol_error(path: str, member: str) -> None:
    value: Any = "https://[" if member == "credential_issuer" else ["https://["]
    link = "openid-credential-offer://?credential_offer_uri=" + quote(
        f"{ScriptedIssuer.BASE}/offers/1", safe=""
    )
    with pytest.raises(oid4vci.ProtocolError):
        redeem(
            link,
            holder=signer_for(HOLDER),
            tx_code=None,
            transport=ScriptedIssuer({(path, member): value}),
            now=lambda: NOW,
        )


@pytest.fixture(scope="module")
def wallet(tmp_path_factory: pytest.TempPathFactory) -> Wallet:
    return Wallet.create(tmp_path_factory.mktemp("wallet") / "w.db", "a trader's passphrase")


@pytest.mark.parametrize(
    "claims",
    [
        {"vc": "x"},
        {"vc": None},
        {"vc": {"credentialSubject": 5}},
        {"credentialSubject": {"id": []}},
        {"credentialSubject": [{"id": {}}]},
        {"sub": []},
        {"sub": {"a": 1}},
    ],
)
@pytest.mark.parametrize("as_jwt", [False, True])
def test_a_received_credential_naming_its_subject_with_any_type_is_a_holder_mismatch(
    wallet: Wallet, claims: dict[str, Any], as_jwt: bool
) -> None:
    credential: Any = sign_compact(claims, signer_for(HOLDER), typ="vc+jwt") if as_jwt else claims
    with pytest.raises(HolderMismatchError, match="names another subject"):
        wallet.keep(credential, format="jwt_vc_json", credential_issuer="https://issuer.example")


proof_headers = st.fixed_dictionaries(
    {
        "alg": maybe(st.just("ES256")),
        "typ": maybe(st.just(oid4vci.PROOF_TYP)),
    },
    optional={
        "jwk": maybe(st.just(HOLDER.public.jwk())),
        "kid": maybe(st.just(signer_for(HOLDER).key_id)),
        "crit": hostile,
        "x5c": hostile,
    },
)
proof_payloads = st.fixed_dictionaries(
    {},
    optional={
        "aud": maybe(st.just("https://issuer.example")),
        "iat": maybe(st.just(int(NOW.timestamp()))),
        "nonce": maybe(st.just("n")),
        "iss": hostile,
    },
)


@SETTINGS
@given(header=proof_headers, payload=proof_payloads)
def test_a_key_proof_with_any_member_of_any_type_is_a_protocol_error_or_verified(
    header: dict[str, Any], payload: dict[str, Any]
) -> None:
    signer = signer_for(HOLDER)
    signing_input = (
        b64url_encode(json.dumps(header).encode())
        + "."
        + b64url_encode(json.dumps(payload).encode())
    )
    token = signing_input + "." + b64url_encode(signer.sign(signing_input.encode("ascii")))
    _typed(
        oid4vci.verify_proof,
        token,
        audience="https://issuer.example",
        now=NOW,
        nonce_valid=lambda nonce: nonce == "n",
    )
