"""POST /credentials/verify-batch: one result per item, in order, through the single pipeline;
limits; NDJSON streaming; rate limits that count items."""

from __future__ import annotations

import http.client
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.serving import make_server

from tests.httpserver import LocalServer
from tests.verifier.conftest import DATABASE_URL, Agency, MakeApp, tamper
from vcred.errors import UsageError
from vcred_service.db import LocalStorageError
from vcred_service.ratelimit import RateLimiter
from verifier_app import VerifierConfig
from verifier_app import batch as batch_module
from verifier_app.service import LIMITER

NDJSON = "application/x-ndjson"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def post_batch(
    client: FlaskClient, items: list[Any], *, accept: str | None = None, **options: Any
) -> Any:
    body: dict[str, Any] = {"verifiableCredentials": items}
    if options:
        body["options"] = options
    headers = {"Accept": accept} if accept else {}
    return client.post("/credentials/verify-batch", json=body, headers=headers)


def codes(result: dict[str, Any]) -> list[str]:
    return [problem["code"] for problem in result.get("problemDetails", [])]


@pytest.fixture
def mixed(agency: Agency) -> list[Any]:
    """A valid credential, a forged one, a number, a string holding JSON, a revoked one."""
    revoked = agency.aeo_certificate()
    revoked_token = agency.issue(revoked)
    agency.set(revoked, "revoked")
    good = agency.issue(agency.aeo_certificate())
    return [good, tamper(good), 42, '{"not": "a credential"}', revoked_token]


def test_a_mixed_batch_answers_every_item_in_order_with_its_own_verdict(
    client: FlaskClient, mixed: list[Any]
) -> None:
    response = post_batch(client, mixed)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["summary"] == {"total": 5, "verified": 1, "notVerified": 4}
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["verified"] for r in results] == [True, False, False, False, False]
    assert codes(results[1]) == ["INVALID_SIGNATURE"]
    assert codes(results[2]) == ["MALFORMED"]
    assert results[2]["problemDetails"][0]["pointer"] == "/verifiableCredentials/2"
    assert codes(results[3]) == ["PARSING_ERROR"]
    assert codes(results[4]) == ["REVOKED"]


def test_each_batch_result_is_the_single_verification_answer_plus_its_index(
    client: FlaskClient, mixed: list[Any]
) -> None:
    results = post_batch(client, mixed).get_json()["results"]
    for index in (0, 1, 4):  # the items a single request accepts
        single = client.post("/credentials/verify", json={"verifiableCredential": mixed[index]})
        assert {k: v for k, v in results[index].items() if k != "index"} == single.get_json()


def test_every_item_of_a_batch_is_recorded_in_the_history(app: Flask, mixed: list[Any]) -> None:
    post_batch(app.test_client(), mixed)
    recent = app.extensions["vcred_verifier"].storage.recent()
    assert [entry.verified for entry in reversed(recent)] == [True, False, False, False, False]
    assert recent[0].codes == ("REVOKED",)


def test_options_checks_apply_to_every_item(client: FlaskClient, mixed: list[Any]) -> None:
    results = post_batch(client, mixed, checks=["proof"]).get_json()["results"]
    # status not asked for: the revoked credential's proof is all that is checked
    assert [r["verified"] for r in results] == [True, False, False, False, True]
    assert [c["check"] for c in results[0]["checks"]] == ["proof"]


def test_an_unknown_check_refuses_the_whole_batch(client: FlaskClient, mixed: list[Any]) -> None:
    response = post_batch(client, mixed, checks=["astrology"])
    assert response.status_code == 422
    assert response.get_json()["code"] == "UNKNOWN_CHECK"


def post_text(client: FlaskClient, body: Any, *, accept: str | None = None) -> Any:
    """POST ``body`` as JSON text with every non-ASCII character escaped: a lone surrogate
    is sent as the escape ``\\ud800``, as a client's JSON encoder writes it."""
    headers = {"Accept": accept} if accept else {}
    return client.post(
        "/credentials/verify-batch",
        data=json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


@pytest.fixture
def with_lone_surrogates(agency: Agency) -> list[Any]:
    """Two good credentials around three items each holding a lone surrogate: in a nested
    string, in a member name, in a compact JWS string."""
    good = agency.issue(agency.aeo_certificate())
    return [
        good,
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "credentialSubject": {"n": "\ud800"},
        },
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "\udfff": 1},
        "eyJ\ud800",
        good,
    ]


@pytest.mark.parametrize("accept", [None, NDJSON], ids=["json", "ndjson"])
def test_a_lone_surrogate_in_one_item_refuses_that_item_alone(
    app: Flask, with_lone_surrogates: list[Any], accept: str | None
) -> None:
    """Attack: one item that is not Unicode text (I-JSON, RFC 7493 §2.1) refused the whole
    batch; it now fails alone (MALFORMED, located) and the others are verified."""
    response = post_text(
        app.test_client(), {"verifiableCredentials": with_lone_surrogates}, accept=accept
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    results = (
        [json.loads(line) for line in text.splitlines()] if accept else json.loads(text)["results"]
    )
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["verified"] for r in results] == [True, False, False, False, True]
    for result in results[1:4]:
        assert codes(result) == ["MALFORMED"]
        assert "lone surrogate" in result["problemDetails"][0]["detail"]
    pointers = [r["problemDetails"][0]["pointer"] for r in results[1:4]]
    assert pointers == [
        "/verifiableCredentials/1/credentialSubject/n",
        "/verifiableCredentials/2",
        "/verifiableCredentials/3",
    ]
    # every item is in the history, the refused ones too
    recent = app.extensions["vcred_verifier"].storage.recent()
    assert [entry.verified for entry in reversed(recent)] == [True, False, False, False, True]


def test_a_lone_surrogate_outside_the_items_still_refuses_the_batch(
    client: FlaskClient, agency: Agency
) -> None:
    good = agency.issue(agency.aeo_certificate())
    for body, pointer in (
        ({"verifiableCredentials": [good], "options": {"checks": ["\ud800"]}}, "/options/checks/0"),
        ({"verifiableCredentials": "\ud800"}, "/verifiableCredentials"),
        ({"verifiableCredentials": [good], "\ud800": 1}, "/"),  # the root, as vcred points at it
    ):
        response = post_text(client, body)
        assert response.status_code == 400, body
        problem = response.get_json()
        assert problem["code"] == "MALFORMED"
        assert problem["pointer"] == pointer
        assert "lone surrogate" in problem["detail"]


#: where the tests below put a number no double holds, in the JSON text
HUGE = 987654321


def post_huge(client: FlaskClient, body: Any, huge: str, *, accept: str | None = None) -> Any:
    """POST ``body`` with every :data:`HUGE` written as ``huge`` (no JSON encoder writes one)."""
    headers = {"Accept": accept} if accept else {}
    return client.post(
        "/credentials/verify-batch",
        data=json.dumps(body).replace(str(HUGE), huge),
        content_type="application/json",
        headers=headers,
    )


@pytest.mark.parametrize("huge", ["1e400", "-1" + "0" * 5000], ids=["exponent", "digits"])
@pytest.mark.parametrize("accept", [None, NDJSON], ids=["json", "ndjson"])
def test_a_number_out_of_range_in_one_item_refuses_that_item_alone(
    app: Flask, agency: Agency, huge: str, accept: str | None
) -> None:
    """Attack: one item holding a number no double can hold refused the whole batch, as a
    lone surrogate did; it now fails alone (MALFORMED, located) and the others are verified."""
    good = agency.issue(agency.aeo_certificate())
    bad = {"@context": ["https://www.w3.org/ns/credentials/v2"], "credentialSubject": {"n": HUGE}}
    response = post_huge(
        app.test_client(), {"verifiableCredentials": [good, bad, good]}, huge, accept=accept
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    results = (
        [json.loads(line) for line in text.splitlines()] if accept else json.loads(text)["results"]
    )
    assert [r["verified"] for r in results] == [True, False, True]
    assert codes(results[1]) == ["MALFORMED"]
    problem = results[1]["problemDetails"][0]
    assert problem["pointer"] == "/verifiableCredentials/1/credentialSubject/n"
    assert "out of range" in problem["detail"]
    recent = app.extensions["vcred_verifier"].storage.recent()
    assert [entry.verified for entry in reversed(recent)] == [True, False, True]


def test_a_number_out_of_range_outside_the_items_still_refuses_the_batch(
    client: FlaskClient, agency: Agency
) -> None:
    good = agency.issue(agency.aeo_certificate())
    for body, pointer in (
        ({"verifiableCredentials": [good], "options": {"x": HUGE}}, "/options/x"),
        ({"verifiableCredentials": HUGE}, "/verifiableCredentials"),
    ):
        response = post_huge(client, body, "1e400")
        assert response.status_code == 400, body
        problem = response.get_json()
        assert problem["code"] == "MALFORMED"
        assert problem["pointer"] == pointer
        assert "out of range" in problem["detail"]


def test_an_empty_batch_is_answered_with_no_results(client: FlaskClient) -> None:
    body = post_batch(client, []).get_json()
    assert body == {"summary": {"total": 0, "verified": 0, "notVerified": 0}, "results": []}


@pytest.mark.parametrize(
    "body",
    [{}, {"verifiableCredentials": "eyJ"}, {"verifiableCredentials": {"a": 1}}],
    ids=["missing", "a-string", "an-object"],
)
def test_a_body_without_an_array_of_credentials_is_malformed(
    client: FlaskClient, body: dict[str, Any]
) -> None:
    response = client.post("/credentials/verify-batch", json=body)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "MALFORMED"


def test_options_that_are_not_an_object_are_malformed(client: FlaskClient) -> None:
    response = client.post(
        "/credentials/verify-batch", json={"verifiableCredentials": [], "options": [1]}
    )
    assert response.status_code == 400
    assert response.get_json()["pointer"] == "/options"


def test_a_batch_over_the_configured_size_is_refused_with_413(
    make_app: MakeApp, agency: Agency
) -> None:
    app = make_app(max_batch_size=3)
    token = agency.issue(agency.aeo_certificate())
    assert post_batch(app.test_client(), [token] * 3).status_code == 200
    response = post_batch(app.test_client(), [token] * 4)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "BATCH_TOO_LARGE" and problem["maxItems"] == 3
    # nothing of a refused batch was verified
    assert len(app.extensions["vcred_verifier"].storage.recent()) == 3


def test_a_batch_body_over_its_byte_limit_is_refused_with_413(
    make_app: MakeApp, agency: Agency
) -> None:
    token = agency.issue(agency.aeo_certificate())
    app = make_app(max_batch_body_bytes=len(token) * 3)
    response = post_batch(app.test_client(), [token] * 4)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_a_batch_may_be_larger_than_one_credential_request(
    make_app: MakeApp, agency: Agency
) -> None:
    token = agency.issue(agency.aeo_certificate())
    app = make_app(max_body_bytes=len(token) * 2)
    assert post_batch(app.test_client(), [token] * 5).status_code == 200
    single = app.test_client().post(
        "/credentials/verify", json={"verifiableCredential": token, "pad": token * 2}
    )
    assert single.status_code == 413  # the single route keeps its own cap


def test_ndjson_streams_one_line_per_item_in_order(
    client: FlaskClient, mixed: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_module, "STREAM_CHUNK", 2)
    response = post_batch(client, mixed, accept=NDJSON)
    assert response.status_code == 200
    assert response.mimetype == NDJSON
    assert response.is_streamed
    chunks = [chunk.decode() for chunk in response.response]
    assert [chunk.count("\n") for chunk in chunks] == [2, 2, 1]  # written chunk by chunk
    lines = [json.loads(line) for line in "".join(chunks).splitlines()]
    assert [line["index"] for line in lines] == [0, 1, 2, 3, 4]
    assert [line["verified"] for line in lines] == [True, False, False, False, False]
    as_document = post_batch(client, mixed).get_json()["results"]
    assert lines == as_document


def test_json_is_answered_when_the_client_prefers_it(client: FlaskClient, mixed: list[Any]) -> None:
    response = post_batch(client, mixed, accept=f"application/json, {NDJSON};q=0.5")
    assert response.mimetype == "application/json"


def test_a_batch_costs_one_request_per_item(make_app: MakeApp, agency: Agency) -> None:
    app = make_app(rate_per_second=1, rate_burst=10)
    clock = FakeClock()
    app.extensions[LIMITER].clock = clock
    client = app.test_client()
    token = agency.issue(agency.aeo_certificate())
    assert post_batch(client, [token] * 8).status_code == 200
    # two requests' worth left: a batch of three waits for one more
    refused = post_batch(client, [token] * 3)
    assert refused.status_code == 429
    # the refused batch cost one request (its body was read): two seconds more for three
    assert refused.headers["Retry-After"] == "2"
    clock.now += 2.0
    assert post_batch(client, [token] * 3).status_code == 200
    # three were there, three are spent
    assert client.post("/credentials/verify", json={"verifiableCredential": token}).status_code == (
        429
    )


def test_a_batch_larger_than_the_burst_goes_ahead_on_a_full_bucket_and_leaves_debt(
    make_app: MakeApp, agency: Agency
) -> None:
    app = make_app(rate_per_second=5, rate_burst=30)
    clock = FakeClock()
    app.extensions[LIMITER].clock = clock
    client = app.test_client()
    token = agency.issue(agency.aeo_certificate())
    assert post_batch(client, [token] * 100).status_code == 200
    # 100 items cost 100 requests: 70 in debt, 14 s at 5/s before the next one
    clock.now += 14.0
    assert client.post("/credentials/verify", json={"verifiableCredential": token}).status_code == (
        429
    )
    clock.now += 0.2
    assert client.post("/credentials/verify", json={"verifiableCredential": token}).status_code == (
        200
    )


def test_a_batch_over_several_processes_fetches_each_list_once(
    make_app: MakeApp, agency: Agency, us_server: LocalServer
) -> None:
    token = agency.issue(agency.aeo_certificate())
    app = make_app(batch_processes=2)
    before = len(us_server.hits)
    body = post_batch(app.test_client(), [token] * 100).get_json()
    assert body["summary"]["verified"] == 100
    fetched = us_server.hits[before:]
    # the first item, verified before forking, filled the caches both workers inherit
    assert sorted(fetched) == sorted(set(fetched))
    assert len([path for path in fetched if path.startswith("/status/")]) == 2


def test_a_batch_over_several_processes_answers_like_one(make_app: MakeApp, agency: Agency) -> None:
    good = agency.issue(agency.aeo_certificate())
    items = [good, tamper(good), 7] * 40  # 80 to verify: past vcred.batch.MIN_PARALLEL_BATCH
    forked = post_batch(make_app(batch_processes=2).test_client(), items).get_json()
    alone = post_batch(make_app(batch_processes=1).test_client(), items).get_json()
    assert forked == alone
    assert forked["summary"] == {"total": 120, "verified": 40, "notVerified": 80}


def test_an_unreadable_batch_costs_one_request(make_app: MakeApp) -> None:
    app = make_app(rate_per_second=1, rate_burst=2)
    app.extensions[LIMITER].clock = FakeClock()
    client = app.test_client()
    statuses = [client.post("/credentials/verify-batch", json={}).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]


def test_a_request_costing_nothing_is_refused() -> None:
    limiter = RateLimiter(rate=1.0, burst=2)
    with pytest.raises(UsageError):
        limiter.allow("client", cost=0)


def test_the_batch_limits_are_read_from_the_environment(tmp_path: Path) -> None:
    config = VerifierConfig.from_env(
        {
            "VCRED_VERIFIER_DATA_DIR": str(tmp_path),
            "VCRED_VERIFIER_MAX_BATCH_SIZE": "50",
            "VCRED_VERIFIER_MAX_BATCH_BODY_BYTES": "100000",
            "VCRED_VERIFIER_BATCH_PROCESSES": "2",
        }
    )
    assert (config.max_batch_size, config.max_batch_body_bytes, config.batch_processes) == (
        50,
        100000,
        2,
    )


@pytest.mark.parametrize("name", ["max_batch_size", "max_batch_body_bytes", "batch_processes"])
def test_a_batch_limit_below_one_is_refused(name: str) -> None:
    with pytest.raises(UsageError, match=name):
        VerifierConfig(**{name: 0})


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every string and number of a JSON value."""
    if isinstance(value, dict):
        return [p for key, child in value.items() for p in _leaves(child, (*path, key))]
    if isinstance(value, list):
        return [p for index, child in enumerate(value) for p in _leaves(child, (*path, index))]
    return [path]


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


def test_no_value_out_of_i_json_anywhere_makes_the_batch_fail_on_the_server(
    client: FlaskClient, agency: Agency
) -> None:
    """The invariant behind the two attacks above, at every string and number of a body: a
    number no double holds or a lone surrogate is a 200 with that item refused, or a 400 with
    its pointer — never a 5xx, never an item lost."""
    body = {
        "verifiableCredentials": [
            agency.issue(agency.aeo_certificate()),
            {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiableCredential"],
                "credentialSubject": {"n": 1, "m": ["a", 2.5]},
            },
        ],
        "options": {"checks": ["proof"]},
    }
    for path in _leaves(body):
        for answer in (
            post_huge(client, _replaced(body, path, HUGE), "1e400"),
            post_text(client, _replaced(body, path, "\ud800")),
        ):
            assert answer.status_code in (200, 400), (path, answer.get_data(as_text=True))
            if answer.status_code == 200:
                results = answer.get_json()["results"]
                assert [r["index"] for r in results] == [0, 1]
                assert results[path[1]]["verified"] is False  # the item holding it
            else:
                assert answer.get_json()["code"] == "MALFORMED"
                assert path[0] == "options"


def test_a_client_gone_mid_stream_leaves_each_verified_item_recorded_once(
    app: Flask, mixed: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Attack: drop the connection after the first chunk of a streamed batch. What was verified
    # (and answered) is in the audit chain once; what was never verified is not in it; the
    # stream stops at a chunk's end, so no item is recorded without its line having been made.
    monkeypatch.setattr(batch_module, "STREAM_CHUNK", 2)
    service = app.extensions["vcred_verifier"]
    response = app.test_client().post(
        "/credentials/verify-batch",
        json={"verifiableCredentials": mixed},
        headers={"Accept": NDJSON},
        buffered=False,
    )
    first = next(iter(response.response))
    response.close()  # the server closes the generator when the client has gone
    service.storage.flush()
    entries = [e for e in service.storage.audit.entries() if e["action"] == "verify-credential"]
    assert first.decode().count("\n") == len(entries) == 2
    chained = [e["target"] for e in entries]
    assert len(set(chained)) == 2  # the two first items, each once


@pytest.mark.parametrize(
    ("error", "status"),
    [(LocalStorageError("the disk is full"), 503), (RuntimeError("a bug"), 500)],
    ids=["storage", "unexpected"],
)
def test_a_stream_whose_later_chunk_fails_ends_with_a_line_saying_why(
    app: Flask, mixed: list[Any], monkeypatch: pytest.MonkeyPatch, error: Exception, status: int
) -> None:
    """A chunk refused after the answer began (the history unwritable, a receipt unsigned, a
    bug) cut the stream short, which a client cannot tell from a network fault: the stream
    now ends with the problem the single route would answer and the items left unanswered."""
    monkeypatch.setattr(batch_module, "STREAM_CHUNK", 2)
    real = batch_module.verify_batch

    def failing(service: Any, batch_request: Any, *, start: int = 0, stop: Any = None) -> Any:
        if start >= 2:
            raise error
        return real(service, batch_request, start=start, stop=stop)

    monkeypatch.setattr(batch_module, "verify_batch", failing)
    response = post_batch(app.test_client(), mixed, accept=NDJSON)
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert [line.get("index") for line in lines[:-1]] == [0, 1]
    assert lines[-1]["unanswered"] == [2, len(mixed)]
    assert lines[-1]["problem"]["status"] == status
    assert "the disk is full" not in json.dumps(lines[-1])  # the log's, not the client's


# -- an item the whole body's parse cannot read: nested too deep, duplicate member names --

#: how deep an item may nest: as deep as POST /credentials/verify takes it (its body nests
#: the credential one level down, and the default max_json_depth counts the body)
ITEM_DEPTH = VerifierConfig().max_json_depth - 1


def nested(depth: int) -> str:
    """A credential-shaped JSON object nesting ``depth`` levels (the object itself is one)."""
    inner = "[" * (depth - 1) + "]" * (depth - 1)
    return '{"@context":["https://www.w3.org/ns/credentials/v2"],"n":' + inner + "}"


DUPLICATE = '{"@context":["https://www.w3.org/ns/credentials/v2"],"id":"urn:x:1","id":"urn:x:2"}'


def post_items(client: FlaskClient, items: list[str], *, accept: str | None = None) -> Any:
    """POST a batch of items each given as JSON text (which no encoder would write)."""
    headers = {"Accept": accept} if accept else {}
    return client.post(
        "/credentials/verify-batch",
        data='{"verifiableCredentials":[' + ",".join(items) + "]}",
        content_type="application/json",
        headers=headers,
    )


def results_of(response: Any) -> list[dict[str, Any]]:
    text = response.get_data(as_text=True)
    if response.mimetype == NDJSON:
        return [json.loads(line) for line in text.splitlines()]
    results: list[dict[str, Any]] = json.loads(text)["results"]
    return results


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stored_app(request: pytest.FixtureRequest, make_app: MakeApp) -> Iterator[Flask]:
    """A verifier app whose history is on SQLite or PostgreSQL (tables of its own)."""
    options: dict[str, Any] = {}
    if request.param == "postgres":
        options = {"database_url": DATABASE_URL, "table_prefix": f"t{secrets.token_hex(5)}_"}
    app = make_app(**options)
    yield app
    if request.param == "postgres":
        storage = app.extensions["vcred_verifier"].storage
        storage.flush()
        storage.drop()


@pytest.mark.parametrize("accept", [None, NDJSON], ids=["json", "ndjson"])
def test_an_item_nested_too_deep_or_with_duplicate_names_fails_alone(
    stored_app: Flask, agency: Agency, accept: str | None
) -> None:
    """Attack: one item nested past the depth limit, or holding a member name twice, made the
    whole body's parse fail and refused the whole batch (400). Each now fails alone, as POST
    /credentials/verify answers it (MALFORMED located / PARSING_ERROR at the item), every
    item is in the history once, and the others are verified."""
    good = json.dumps(agency.issue(agency.aeo_certificate()))
    items = [good, nested(ITEM_DEPTH + 1), DUPLICATE, nested(600), "42", good]
    response = post_items(stored_app.test_client(), items, accept=accept)
    assert response.status_code == 200, response.get_data(as_text=True)
    results = results_of(response)
    assert [r["index"] for r in results] == list(range(6))
    assert [r["verified"] for r in results] == [True, False, False, False, False, True]
    assert [codes(r) for r in results[1:5]] == [
        ["MALFORMED"],
        ["PARSING_ERROR"],
        ["MALFORMED"],
        ["MALFORMED"],
    ]
    pointers = [r["problemDetails"][0]["pointer"] for r in results[1:5]]
    assert pointers == [
        "/verifiableCredentials/1/n" + "/0" * (ITEM_DEPTH - 1),
        "/verifiableCredentials/2",
        "/verifiableCredentials/3/n" + "/0" * (ITEM_DEPTH - 1),
        "/verifiableCredentials/4",
    ]
    assert f"nested deeper than {ITEM_DEPTH} levels" in results[1]["problemDetails"][0]["detail"]
    assert "duplicate member name" in results[2]["problemDetails"][0]["detail"]
    storage = stored_app.extensions["vcred_verifier"].storage
    storage.flush()
    recent = storage.recent()
    assert [entry.verified for entry in reversed(recent)] == [r["verified"] for r in results]


def test_an_item_within_the_depth_limit_is_not_refused_for_its_depth(client: FlaskClient) -> None:
    results = post_items(client, [nested(ITEM_DEPTH), nested(ITEM_DEPTH + 1)]).get_json()
    within, past = (r["problemDetails"][0]["detail"] for r in results["results"])
    assert "nested deeper" not in within  # refused for what it lacks (a proof), not its depth
    assert f"nested deeper than {ITEM_DEPTH} levels" in past


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("hello", 400, "PARSING_ERROR"),
        ('{"verifiableCredentials":[{"a":1,"a":2}', 400, "PARSING_ERROR"),  # cut short
        ('{"verifiableCredentials":[{"a":1,"a":2} 42]}', 400, "PARSING_ERROR"),
        ('{"verifiableCredentials":[{"a":1,"a":2},]}', 400, "PARSING_ERROR"),
        ('{"verifiableCredentials":[{"a":1,"a":2},{"b":tru}]}', 400, "PARSING_ERROR"),
        (
            '{"verifiableCredentials":[{"a":1,"a":2}],"options":{},"options":{}}',
            400,
            "PARSING_ERROR",
        ),
        (
            '{"verifiableCredentials":[{"a":1,"a":2}],"verifiableCredentials":[]}',
            400,
            "PARSING_ERROR",
        ),
        ('[{"a":1,"a":2}]', 400, "PARSING_ERROR"),
        (
            '{"verifiableCredentials":[{"a":1,"a":2}],"options":' + "[" * 70 + "]" * 70 + "}",
            400,
            "MALFORMED",
        ),
        ('{"verifiableCredentials":[' + "[" * 5000 + "]" * 5000 + "]}", 400, "MALFORMED"),
        (
            '{"verifiableCredentials":[' + ",".join(['{"a":1,"a":2}'] * 4) + "]}",
            413,
            "BATCH_TOO_LARGE",
        ),
    ],
    ids=[
        "not-json",
        "cut-short",
        "no-separator",
        "trailing-comma",
        "not-json-in-an-item",
        "options-twice",
        "items-twice",
        "not-an-object",
        "options-too-deep",
        "past-the-parser",
        "too-many",
    ],
)
def test_a_body_refused_whole_stays_refused_whole(
    make_app: MakeApp, body: str, status: int, code: str
) -> None:
    """Items are read one by one only in a JSON body of a batch's shape: a body that is no
    JSON (an item holding no JSON either), or faulty outside its items, or with too many of
    them, or nested past what the parser reads at all, is refused whole as before."""
    app = make_app(max_batch_size=3)
    response = app.test_client().post(
        "/credentials/verify-batch", data=body, content_type="application/json"
    )
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == code
    assert app.extensions["vcred_verifier"].storage.recent() == []


def test_a_too_deep_option_is_refused_with_its_pointer(client: FlaskClient) -> None:
    body = '{"verifiableCredentials":[],"options":{"x":' + "[" * 70 + "]" * 70 + "}}"
    response = client.post("/credentials/verify-batch", data=body, content_type="application/json")
    assert response.status_code == 400
    problem = response.get_json()
    assert problem["code"] == "MALFORMED"
    # the body counts 64 levels, as the single route's does: the 65th is refused
    assert problem["pointer"] == "/options/x" + "/0" * 62


def test_refused_items_cost_one_request_each_and_a_refused_body_one(
    make_app: MakeApp, agency: Agency
) -> None:
    app = make_app(rate_per_second=1, rate_burst=6)
    clock = FakeClock()
    app.extensions[LIMITER].clock = clock
    client = app.test_client()
    good = json.dumps(agency.issue(agency.aeo_certificate()))
    # four items, three refused: four requests
    assert post_items(client, [good, nested(ITEM_DEPTH + 1), DUPLICATE, "42"]).status_code == 200
    # a body refused whole (not JSON): one
    refused = client.post("/credentials/verify-batch", data="{", content_type="application/json")
    assert refused.status_code == 400
    # one left: a batch of two is refused, and costs one (as in the test above)
    waiting = post_items(client, [DUPLICATE, DUPLICATE])
    assert waiting.status_code == 429
    assert waiting.headers["Retry-After"] == "2"
    clock.now += 2.0
    assert post_items(client, [DUPLICATE, DUPLICATE]).status_code == 200


#: items whose answers the property below compares: JSON text, as sent
_ITEMS = st.one_of(
    st.sampled_from(["good", "forged"]),
    st.sampled_from([ITEM_DEPTH - 1, ITEM_DEPTH, ITEM_DEPTH + 1, ITEM_DEPTH + 2, 300]).map(nested),
    st.sampled_from(["42", "null", "true", "[1,2]", '"{\\"a\\":1}"', DUPLICATE, "{}"]),
    st.from_regex(
        r"eyJ[A-Za-z0-9_-]{0,12}\.[A-Za-z0-9_-]{0,12}\.[A-Za-z0-9_-]{0,8}", fullmatch=True
    ).map(json.dumps),
)


def as_a_batch_item(single: Any, index: int) -> dict[str, Any]:
    """What the batch answers for item ``index`` given the single route's answer for it:
    the same body with its index, or — for a request the single route refuses with a problem
    — a failed item with the problem's code, pointing at the same place in the item (at the
    item itself when the problem points nowhere: the whole body)."""
    if single.mimetype != "application/problem+json":
        return {"index": index, **single.get_json()}
    problem = single.get_json()
    item = f"/verifiableCredentials/{index}"
    pointer = problem.get("pointer")
    return {
        "verified": False,
        "codes": [problem["code"]],
        "pointer": item + pointer.removeprefix("/verifiableCredential") if pointer else item,
    }


def test_each_item_is_answered_in_the_batch_as_the_single_route_answers_it(
    app: Flask, agency: Agency
) -> None:
    """The property behind the per-item refusals: whatever a batch holds (valid, forged,
    nested around the depth limit, of the wrong type, a malformed JWT, duplicate names), each
    item's answer is the one POST /credentials/verify gives that item alone — an item
    verifies in the batch if and only if it verifies alone — in JSON and NDJSON alike."""
    client = app.test_client()
    token = agency.issue(agency.aeo_certificate())
    named = {"good": json.dumps(token), "forged": json.dumps(tamper(token))}

    @settings(max_examples=30, deadline=None)
    @given(items=st.lists(_ITEMS, min_size=1, max_size=6), ndjson=st.booleans())
    def check(items: list[str], ndjson: bool) -> None:
        texts = [named.get(item, item) for item in items]
        response = post_items(client, texts, accept=NDJSON if ndjson else None)
        assert response.status_code == 200, response.get_data(as_text=True)
        results = results_of(response)
        assert len(results) == len(texts)
        for index, (text, result) in enumerate(zip(texts, results, strict=True)):
            single = client.post(
                "/credentials/verify",
                data='{"verifiableCredential":' + text + "}",
                content_type="application/json",
            )
            expected = as_a_batch_item(single, index)
            if "codes" in expected:
                assert {
                    "verified": result["verified"],
                    "codes": codes(result),
                    "pointer": result["problemDetails"][0]["pointer"],
                } == expected, text
            else:
                assert result == expected, text

    check()


# -- a body over the byte limit sent chunked (no Content-Length) ------------------------------


@contextmanager
def served(app: Flask) -> Iterator[int]:
    """``app`` behind a real HTTP server (Werkzeug's, which reads a chunked body to its end
    and tells the app so, as gunicorn does); yields its port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def post_over_http(port: int, path: str, body: bytes, *, chunked: bool) -> tuple[int, Any]:
    """POST ``body`` as JSON, in chunks of 100 bytes without Content-Length or whole with it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        if chunked:
            parts = iter([body[i : i + 100] for i in range(0, len(body), 100)])
            connection.request("POST", path, body=parts, headers=_JSON_TYPE, encode_chunked=True)
        else:
            connection.request("POST", path, body=body, headers=_JSON_TYPE)
        answer = connection.getresponse()
        return answer.status, (answer.getheader("Content-Type"), json.loads(answer.read()))
    finally:
        connection.close()


_JSON_TYPE = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("path", "member", "limit"),
    [
        ("/credentials/verify-batch", "verifiableCredentials", "max_batch_body_bytes"),
        ("/credentials/verify", "verifiableCredential", "max_body_bytes"),
    ],
    ids=["batch", "single"],
)
def test_a_chunked_body_over_the_byte_limit_is_refused_with_413(
    make_app: MakeApp, agency: Agency, path: str, member: str, limit: str
) -> None:
    """Attack: Werkzeug stops reading a body without Content-Length at the cap and hands on
    what it read as the body: one too large, sent chunked, was answered 400 (invalid JSON, cut
    short) where a declared length over the cap is 413. It is now 413 alike, problem details
    the same; a body of exactly the cap is still read; the refusal costs one request."""
    token = agency.issue(agency.aeo_certificate())
    items: Any = [token] if member.endswith("s") else token
    body = json.dumps({member: items}).encode()
    app = make_app(**{limit: len(body)}, rate_per_second=1, rate_burst=3)
    clock = FakeClock()
    app.extensions[LIMITER].clock = clock
    seen: list[tuple[str | None, str | None]] = []

    @app.before_request
    def _how_sent() -> None:
        seen.append(
            (request.headers.get("Transfer-Encoding"), request.headers.get("Content-Length"))
        )

    over = body[:-1] + b" " * 200 + body[-1:]  # the same JSON, 200 bytes past the cap
    with served(app) as port:
        declared = post_over_http(port, path, over, chunked=False)
        chunked = post_over_http(port, path, over, chunked=True)
        at_the_cap = post_over_http(port, path, body, chunked=True)
        refused = post_over_http(port, path, body, chunked=True)
    assert seen[1:3] == [("chunked", None), ("chunked", None)]  # really sent chunked
    assert declared[0] == chunked[0] == 413
    assert chunked[1] == declared[1]
    assert chunked[1][0] == "application/problem+json"
    assert at_the_cap[0] == 200
    # three requests' worth: the two refused bodies cost one each, the batch one item
    assert refused[0] == 429
