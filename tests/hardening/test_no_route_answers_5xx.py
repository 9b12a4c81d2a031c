"""No request makes either service answer 5xx: every rule of ``app.url_map`` (so a route added
later is walked too), under requests Hypothesis generates — path values, query strings, form,
JSON and multipart bodies of hostile values (numbers past 64 bits as text, non-ASCII digits
that ``str.isdigit()`` accepts, NUL, lone surrogates percent-encoded, long, empty, repeated and
unknown keys, arrays where a scalar is expected) — anonymous, with an API token, and signed in
as an officer of each role, each form carrying its valid CSRF token so the request reaches the
handler. An error of an API route is RFC 9457 problem details (``check`` of test_every_route).

The examples per route are few in CI; ``VCRED_ROUTE_EXAMPLES=200`` runs many more locally.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from issuer_app import create_app as create_issuer_app
from issuer_app import issuer_of
from tests.hardening.test_every_route import check, is_page
from tests.issuer.conftest import PUBLIC_URL, ApiClient, auth, credential, dispose, make_config
from tests.oid4vci_helpers import offer
from tests.verifier.conftest import DATABASE_URL, MakeApp
from vcred_service.oauth import OAuthConfig
from vcred_service.roles import ROLES
from vcred_service.signin import COOKIE_SUFFIX, signin

#: Examples per route and client set (CI: few; set the variable to run many more).
EXAMPLES = int(os.environ.get("VCRED_ROUTE_EXAMPLES", "4"))

#: Text an attacker puts where a number, a name or an identifier is read.
HOSTILE: list[str] = [
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "1e999",
    "NaN",
    "99999999999999999999",
    "-99999999999999999999",
    "9" * 400,
    "²",
    "٣",
    "١٢",
    "𝟙",
    "Ⅻ",
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff\ud800",
    "\ufffe",
    "\u202e",
    "x" * 5000,
    "../../etc/passwd",
    "<script>",
    "true",
    "null",
    "[]",
    "{}",
    "%00",
    "\t1\n",
]
TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.integers().map(str),
)
#: JSON values: scalars of every type, arrays where a scalar is expected, nested objects.
JSON_VALUE = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.floats(),
        TEXT,
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)

_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
#: Names a handler may read: ``.get("x")``, ``.getlist("x")``, ``["x"]`` in its module, and
#: the ``name="x"`` of the service's form fields.
_READ = re.compile(r"""(?:\.get(?:list)?\(\s*|\[\s*)["']([A-Za-z_][\w.\[\]-]{0,40})["']""")
_FIELD = re.compile(r"""name=["']([A-Za-z_][\w.\[\]-]{0,40})["']""")
#: Where a page links to a path (so real record, offer and officer values are walked too),
#: and the values its forms offer (a status, a role, a decision).
_LINK = re.compile(r"""(?:href|action)=["'](?:https?://[^/"']+)?(/[^"'?#]*)""")
_VALUE = re.compile(r"""value=["']([^"']{0,80})["']""")


class Forms(HTMLParser):
    """The fields of each form of a page, by the path it posts to: (name, value) pairs, a
    select's options and a submit button's value each one pair."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, list[tuple[str, str]]] = {}
        self._action: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._action = named.get("action", "").partition("?")[0] or None
        elif self._action is None:
            return
        elif tag == "select":
            self._select = named.get("name")
        elif tag == "option" and self._select:
            self.fields.setdefault(self._action, []).append((self._select, named.get("value", "")))
        elif tag in ("input", "button", "textarea") and named.get("name"):
            pair = (named["name"], named.get("value", ""))
            self.fields.setdefault(self._action, []).append(pair)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._action = None
        elif tag == "select":
            self._select = None


def encoded(text: str) -> str:
    """``text`` percent-encoded as UTF-8, a lone surrogate too (as a browser never would)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@dataclass
class Service:
    """An app, its clients by label, and what to send them."""

    app: Flask
    clients: dict[str, FlaskClient]
    names: list[str]
    #: The values the service's own forms offer.
    offered: list[str] = field(default_factory=list)
    #: The (name, value) fields of the service's own forms, by the endpoint they post to.
    forms: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: The values of each path parameter in the links of the service's pages.
    linked: dict[str, list[str]] = field(default_factory=dict)
    #: Put each signed-in client back as it was (an example may sign it out or change a role).
    restore: Callable[[], None] = lambda: None


def names_read(app: Flask) -> list[str]:
    """Every field name the app's view modules and templates mention."""
    found: set[str] = set()
    modules = {view.__module__ for view in app.view_functions.values()}
    for module in modules:
        file = getattr(__import__(module, fromlist=["_"]), "__file__", None)
        if file and file.endswith(".py"):
            found.update(_READ.findall(Path(file).read_text(encoding="utf-8")))
    folders = {Path(app.root_path) / "templates", Path(app.root_path).parent / "vcred_service"}
    for folder in folders:
        for template in folder.rglob("*.html"):
            found.update(_FIELD.findall(template.read_text(encoding="utf-8")))
    found.discard("csrf_token")
    return sorted(found)


def crawl(service: Service, client: FlaskClient, *, also: Iterable[str] = ()) -> None:
    """Record the path values the app's pages link to, by parameter name, and the fields of
    their forms: from the pages without parameters and the links ``also``, then from the
    pages they link to."""
    adapter = service.app.url_map.bind("localhost")
    rules = {r.endpoint: r for r in service.app.url_map.iter_rules()}

    def note(link: str) -> bool:
        """Record ``link``'s path values; whether it is a page to read next."""
        for method in ("GET", "POST"):
            try:
                endpoint, values = adapter.match(link, method=method)
            except HTTPException:  # another method's rule, or none
                continue
            new = False
            for name, value in values.items():
                known = service.linked.setdefault(name, [])
                if str(value) not in known:
                    known.append(str(value))
                    new = True
            rule = rules[str(endpoint)]
            return new and method == "GET" and is_page(rule) and not walked_past(rule)
        return False

    pages = [
        r.rule
        for r in service.app.url_map.iter_rules()
        if not r.arguments and "GET" in (r.methods or set()) and is_page(r)
    ]
    pages += [link for link in also if note(link)]
    offered: set[str] = set()
    for _hop in range(2):
        found = []
        for page in pages:
            answer = client.get(page)
            if answer.mimetype != "text/html":  # a QR code image, a file
                continue
            html = answer.get_data(as_text=True)
            offered.update(_VALUE.findall(html))
            parser = Forms()
            parser.feed(html)
            for action, fields in parser.fields.items():
                try:
                    endpoint, _ = adapter.match(action, method="POST")
                except HTTPException:
                    continue
                known_fields = service.forms.setdefault(str(endpoint), [])
                known_fields.extend(f for f in fields if f not in known_fields)
            found += [link for link in set(_LINK.findall(html)) if note(link)]
        pages = found
    service.offered = sorted(offered)


def sign_in(app: Flask, client: FlaskClient, name: str) -> None:
    """Give ``client`` a session of the officer ``name`` and a CSRF token, without the login
    form (its rate limit would answer 429 after the walk's own login attempts)."""
    with app.app_context():
        session_id = signin().sessions.start(name)
    client.set_cookie(str(app.config["SESSION_COOKIE_NAME"]) + COOKIE_SUFFIX, session_id)
    with client.session_transaction() as session:
        session["csrf"] = f"csrf-{name}"


def csrf_of(client: FlaskClient) -> str | None:
    with client.session_transaction() as session:
        token = session.get("csrf")
    return token if isinstance(token, str) else None


@st.composite
def requests(draw: st.DrawFn, rule: Rule, service: Service) -> dict[str, Any]:
    """One request to ``rule``: method, path, query, body and client."""
    methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    # now and then a method the rule does not take
    method = draw(st.sampled_from([*methods * 7, "PUT"]))
    # mostly a value the service links to (a real record, offer, officer), else hostile
    values = {}
    for argument in sorted(rule.arguments):
        linked = service.linked.get(argument)
        real = st.sampled_from(linked) if linked else TEXT
        values[argument] = draw(real if draw(st.integers(0, 3)) else TEXT)
    path = _PARAMETER.sub(lambda m: encoded(values[m.group(1)]) or "x", rule.rule)
    names = st.sampled_from(service.names) if service.names else TEXT
    keys = st.one_of(names, names, names.map(lambda n: n + "[]"), TEXT)
    text = st.one_of(TEXT, st.sampled_from(service.offered)) if service.offered else TEXT
    query = draw(st.lists(st.tuples(keys, text), max_size=4))
    if query:
        path += "?" + "&".join(f"{encoded(k)}={encoded(v)}" for k, v in query)
    label = draw(st.sampled_from(sorted(service.clients)))
    request: dict[str, Any] = {"method": method, "path": path, "label": label}
    if method in ("GET", "DELETE"):
        return request
    # the fields of the service's own form for this rule, each value kept or made hostile,
    # then keys of any name; the client's CSRF token (read when sent) in nine forms of ten
    own = service.forms.get(rule.endpoint, [])
    form = [
        (name, draw(st.one_of(st.just(value), text)))
        for name, value in (draw(st.lists(st.sampled_from(own), max_size=8)) if own else [])
        if name != "csrf_token"
    ]
    form += draw(st.lists(st.tuples(keys, text), max_size=4))
    request["csrf"] = draw(st.integers(0, 9)) > 0
    request["kind"] = kind = draw(st.sampled_from(["form", "json", "multipart"]))
    if kind == "json":
        body = draw(st.dictionaries(keys, JSON_VALUE, max_size=5) | JSON_VALUE)
        request["json"] = json.dumps(body).encode()
    else:
        request["form"] = form
    if kind == "multipart":
        request["upload"] = (draw(st.sampled_from(["image", "file"])), draw(st.binary(max_size=64)))
    return request


def send(service: Service, request: dict[str, Any]) -> TestResponse:
    """Send a request of :func:`requests`, with its client's CSRF token now, if asked."""
    client = service.clients[request["label"]]
    kind = request.get("kind")
    if kind is None:
        return client.open(request["path"], method=request["method"])
    if kind == "json":
        return client.open(
            request["path"], method=request["method"], data=request["json"], content_type=JSON
        )
    form = list(request["form"])
    token = csrf_of(client)
    if request["csrf"] and token is not None:
        form.append(("csrf_token", token))
    if kind == "form":
        body = "&".join(f"{encoded(k)}={encoded(v)}" for k, v in form).encode()
        return client.open(request["path"], method=request["method"], data=body, content_type=FORM)
    # multipart/form-data: werkzeug's encoder takes text, so lone surrogates become U+FFFD
    fields: dict[str, Any] = {_text(k): _text(v) for k, v in form}
    name, content = request["upload"]
    fields[name] = (io.BytesIO(content), "a.png")
    return client.open(request["path"], method=request["method"], data=fields)


def _text(value: str) -> str:
    return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def walked_past(rule: Rule) -> bool:
    """Whether the walk leaves ``rule`` out: static files (Flask's own route)."""
    return rule.endpoint.endswith("static") or rule.rule == "/favicon.ico"


def walk_rule(rule: Rule, service: Service) -> None:
    """Send ``rule`` generated requests; raises (shrunk by Hypothesis) on a wrong answer."""

    @given(request=requests(rule, service))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_without_a_server_error(request: dict[str, Any]) -> None:
        answer = send(service, request)
        if request["method"] != "GET":
            service.restore()
        check(request["path"].partition("?")[0], answer, html_page=is_page(rule))

    answers_without_a_server_error()


def walk(service: Service) -> int:
    """Walk every rule but static files; how many were walked. Fails listing each rule
    answered wrongly, with its smallest failing request."""
    walked, failures = 0, []
    for rule in sorted(service.app.url_map.iter_rules(), key=lambda r: r.rule):
        if walked_past(rule):
            continue
        try:
            walk_rule(rule, service)
        except (AssertionError, ValueError, KeyError, TypeError) as failure:
            # (as test_every_route: an answer check() cannot read is a wrong answer too)
            notes = "\n".join(getattr(failure, "__notes__", []))
            where = traceback.format_exception(failure)[-3:]
            failures.append(f"{rule.rule}: {failure!r:.600}\n{''.join(where)}\n{notes:.1500}")
        walked += 1
    assert not failures, "\n\n".join(failures)
    return walked


def issuer_service(app: Flask) -> Service:
    """The issuer with a credential issued, an API token of every scope and an officer of
    each role signed in."""
    headers = auth(app, "issue", "status", "admin", "trust-list")
    issued = ApiClient(app).issue(credential(), headers, {"format": "data-integrity"})
    # its status list's URL, so /status/<signer>/<list_id> is walked at a real list too
    urls = re.findall(re.escape(PUBLIC_URL) + r"(/[^\"#?]*)", issued.get_data(as_text=True))
    offer(app, "aeo", "jwt_vc_json")
    bearer = app.test_client()
    bearer.environ_base["HTTP_AUTHORIZATION"] = headers["Authorization"]
    issuer = issuer_of(app)
    clients = {"anonymous": app.test_client(), "bearer": bearer}
    for role in ROLES:
        issuer.add_officer(role, "a long enough password", role=role, actor="test")
        clients[role] = app.test_client()
        sign_in(app, clients[role], role)

    def restore() -> None:
        for role in ROLES:
            if issuer.roles.role(role) != role:  # an administrator's example changed it
                issuer.set_officer_role(role, role, actor="test")
            if not signed(role):  # signed out, or the session ended by an administrator
                sign_in(app, clients[role], role)

    def signed(role: str) -> bool:
        cookie = clients[role].get_cookie(str(app.config["SESSION_COOKIE_NAME"]) + COOKIE_SUFFIX)
        with app.app_context():
            return cookie is not None and signin().sessions.officer_of(cookie.value) == role

    service = Service(app, clients, names_read(app), restore=restore)
    crawl(service, clients["administrator"], also=urls)
    # a revocation awaiting a second officer (four eyes), so an approval's pages are walked
    record = service.linked["record_id"][0]
    form = {"action": "revoke", "csrf_token": "csrf-supervisor"}
    clients["supervisor"].post(f"/officer/credentials/{record}/status", data=form)
    crawl(service, clients["administrator"])
    return service


@pytest.fixture(
    params=[
        ("sqlite", "api-tokens"),
        ("sqlite", "oauth"),
        # PostgreSQL text holds no NUL: a value SQLite stores, PostgreSQL refuses
        pytest.param(("postgres", "api-tokens"), marks=pytest.mark.postgres),
    ],
    ids=lambda p: "-".join(p),
)
def issuer(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    backend, access = request.param
    # four eyes: a revocation waits for approval, so the approval pages have one; no rate
    # limit: a 429 would keep the generated requests from their handlers
    overrides: dict[str, Any] = {
        "four_eyes": True,
        "login_burst": 10**9,
        "derive_burst": 10**9,
        "auth_failure_burst": 10**9,
    }
    if access == "oauth":
        overrides["oauth"] = OAuthConfig(audience=PUBLIC_URL, token_endpoint=True)
    app = create_issuer_app(make_config(tmp_path / "issuer", backend, **overrides))
    app.config["TESTING"] = True
    yield app
    dispose(app, drop=backend == "postgres")


def test_no_issuer_route_answers_5xx(issuer: Flask) -> None:
    assert walk(issuer_service(issuer)) > 40


def verifier_service(app: Flask) -> Service:
    """The verifier with an officer signed in, who has started a presentation request."""
    verifier = app.extensions["vcred_verifier"]
    verifier.add_officer("vera", "a long enough password")
    officer = app.test_client()
    sign_in(app, officer, "vera")
    clients = {"anonymous": app.test_client(), "officer": officer}

    def restore() -> None:
        cookie = officer.get_cookie(str(app.config["SESSION_COOKIE_NAME"]) + COOKIE_SUFFIX)
        with app.app_context():
            if cookie is None or signin().sessions.officer_of(cookie.value) is None:
                sign_in(app, officer, "vera")

    # a presentation request, so its transaction's pages and OpenID4VP routes are walked
    started = officer.post(
        "/present", data={"query": "aeo-certificate", "csrf_token": csrf_of(officer)}
    )
    assert started.status_code == 200, started.get_data(as_text=True)
    service = Service(app, clients, names_read(app), restore=restore)
    crawl(service, officer, also=_LINK.findall(started.get_data(as_text=True)))
    return service


@pytest.mark.parametrize(
    ("backend", "access"),
    [
        ("sqlite", "api-open"),
        ("sqlite", "oauth"),
        pytest.param("postgres", "api-open", marks=pytest.mark.postgres),
    ],
)
def test_no_verifier_route_answers_5xx(make_app: MakeApp, backend: str, access: str) -> None:
    overrides: dict[str, Any] = {"login_burst": 10**9}
    if access == "oauth":
        overrides["oauth"] = OAuthConfig(audience="https://verifier.example", token_endpoint=True)
    if backend == "postgres":
        overrides.update(database_url=DATABASE_URL, table_prefix=f"t{secrets.token_hex(5)}_")
    app = make_app(**overrides)
    try:
        assert walk(verifier_service(app)) > 20
    finally:
        if backend == "postgres":
            storage = app.extensions["vcred_verifier"].storage
            storage.flush()  # the history is written before the tables go
            storage.drop()
