"""The officer pages' languages: complete catalogs, no untranslated template text, the
locale chosen by the officer or the browser, and locale formats (vcred_service/i18n.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from flask import Flask

from vcred.customs.programmes import BENEFITS, TRADE_ROLES
from vcred.errors import VcredError
from vcred_service import i18n
from vcred_service.explanations import CUSTOMS_TERMS, OFFICER_SENTENCES
from verifier_app import VerifierConfig
from verifier_app import create_app as create_verifier

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = i18n.LOCALES[1:]
TEMPLATES = sorted(
    path
    for package in ("vcred_service", "issuer_app", "verifier_app")
    for path in (ROOT / package / "templates").rglob("*.html")
)
_PLACEHOLDER = re.compile(r"%\(\w+\)s")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The messages of the templates and modules, as `pybabel extract -F babel.cfg` finds
    them (Babel's own command line, run in-process)."""
    pot = tmp_path_factory.mktemp("messages") / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(pot), str(ROOT)]
    )
    with pot.open("rb") as file:
        return read_po(file)


def _catalog(locale: str) -> Catalog:
    with i18n.catalog_path(locale).open("rb") as file:
        return read_po(file, locale=locale)


def _ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id for m in catalog if m.id}


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_message_has_a_translation(extracted: Catalog, locale: str) -> None:
    catalog = _catalog(locale)
    assert _ids(extracted) - _ids(catalog) == set(), "run `make messages` and translate"
    assert _ids(catalog) - _ids(extracted) == set(), "messages no page uses any more"
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{locale}: no translation of {message.id!r}"
        assert not message.fuzzy, f"{locale}: fuzzy translation of {message.id!r}"
        source = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set(_PLACEHOLDER.findall(source[-1]))
        for text in strings:
            assert set(_PLACEHOLDER.findall(text)) == wanted, (locale, message.id, text)


def test_the_customs_terms_follow_the_programme_data() -> None:
    # the trade roles and MRA benefits the pages show are in the catalogs
    assert set(TRADE_ROLES.values()) | set(BENEFITS.values()) == set(CUSTOMS_TERMS)


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_error_code_has_a_translated_officer_sentence(locale: str) -> None:
    pending: list[type[VcredError]] = [VcredError]
    codes = set()
    while pending:
        cls = pending.pop()
        codes.add(cls.code)
        pending.extend(cls.__subclasses__())
    catalog = i18n.translations(locale)
    for code in codes:
        sentence = OFFICER_SENTENCES[code]
        assert catalog.ugettext(sentence) != sentence, (locale, code)


def test_no_compiled_catalog_is_kept() -> None:
    # the .po files are compiled in memory at first use: no .mo can go stale beside them
    assert not list((ROOT / "vcred_service").rglob("*.mo"))
    assert sorted(p.stem for p in i18n.CATALOGS.glob("*.po")) == sorted(TRANSLATED)


# What may stay as it is in a template's text: technical words shown to every officer alike.
_UNTRANSLATED_WORDS = {"eyJhbGciOi", "context", "vcred", "NAME", "DIR"}
_JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
_CODE = re.compile(r"<(code|script|style)\b.*?</\1>", re.S)
_VISIBLE_ATTRIBUTE = re.compile(r'\s(?:placeholder|title|alt|aria-label|data-[\w-]+)="([^"]*)"')
_TAG = re.compile(r"<[^>]*>", re.S)
_WORD = re.compile(r"[^\W\d_]{2,}")


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_have_no_untranslated_text(template: Path) -> None:
    text = _CODE.sub(" ", _JINJA.sub(" ", template.read_text()))
    visible = [unescape(part) for part in (*_VISIBLE_ATTRIBUTE.findall(text), _TAG.sub(" ", text))]
    words = {w for part in visible for w in _WORD.findall(part)} - _UNTRANSLATED_WORDS
    assert words == set(), f"text outside _(…) in {template.name}: {sorted(words)}"


# -- the pages in each language --------------------------------------------------------------


@pytest.fixture
def verifier(tmp_path: Path) -> Iterator[Flask]:
    app = create_verifier(VerifierConfig(data_dir=tmp_path, rate_per_second=0))
    yield app
    app.extensions["vcred_verifier"].close()


@pytest.mark.parametrize(
    ("header", "lang", "word"),
    [
        ("de-AT,de;q=0.9,en;q=0.5", "de", "Prüfen"),
        ("fr-CA,fr;q=0.8", "fr", "Vérifier"),
        ("es-MX", "es", "Verificar"),
        ("ja,en-US;q=0.7", "ja", "検証"),
        ("ko-KR", "en", "Verify"),  # no Korean catalog yet: the source language
    ],
)
def test_the_browser_language_is_followed(
    verifier: Flask, header: str, lang: str, word: str
) -> None:
    html = verifier.test_client().get("/", headers={"Accept-Language": header}).text
    assert f'<html lang="{lang}">' in html
    assert f'id="verify-paste">{word}</button>' in html


def test_the_officers_choice_wins_over_the_browser_and_is_remembered(verifier: Flask) -> None:
    client = verifier.test_client()
    answer = client.get("/_language/ja?next=/recent", headers={"Accept-Language": "de"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/recent"
    assert "vcred_lang=ja" in answer.headers["Set-Cookie"]
    assert "HttpOnly" in answer.headers["Set-Cookie"]
    html = client.get("/", headers={"Accept-Language": "de"}).text
    assert '<html lang="ja">' in html and "証明書を検証" in html
    # the picker names each language in itself and marks the current one
    assert '<strong lang="ja" aria-current="true">日本語</strong>' in html
    assert 'hreflang="de"' in html and ">Deutsch</a>" in html


def test_the_language_picker_refuses_other_sites_and_unknown_languages(verifier: Flask) -> None:
    client = verifier.test_client()
    answer = client.get("/_language/de?next=//evil.example/")
    assert answer.headers["Location"] == "/"
    unknown = client.get("/_language/xx?next=/")
    assert "Set-Cookie" not in unknown.headers


@pytest.mark.parametrize(
    ("locale", "amount", "day"),
    [
        ("en", "€48,250.00", "Jun 1, 2026"),
        ("de", "48.250,00\xa0€", "01.06.2026"),
        ("fr", "48\u202f250,00\xa0€", "1 juin 2026"),
        ("es", "48.250,00\xa0€", "1 jun 2026"),
        ("ja", "€48,250.00", "2026/06/01"),
    ],
)
def test_dates_and_amounts_are_written_as_the_locale_writes_them(
    verifier: Flask, locale: str, amount: str, day: str
) -> None:
    with verifier.test_request_context("/", headers={"Accept-Language": locale}):
        assert i18n.local_amount("48250.00", "EUR") == amount
        assert i18n.local_date("2026-06-01") == day
        assert i18n.local_date("not a date") == "not a date"


def test_the_sign_in_error_is_in_the_officers_language(verifier: Flask) -> None:
    client = verifier.test_client()
    german = {"Accept-Language": "de"}
    page = client.get("/login", headers=german).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    answer = client.post(
        "/login",
        data={"name": "nobody", "password": "wrong password", "csrf_token": token.group(1)},
        headers=german,
    )
    assert "Unbekannte Person oder falsches Passwort." in answer.text


def test_the_picker_on_a_verdict_goes_home_not_to_a_post_only_url(verifier: Flask) -> None:
    client = verifier.test_client()
    html = client.post("/verify", data={"credential": "not a credential"}).text
    links = re.findall(r'href="(/_language/\w+\?next=[^"]*)"', html)
    assert links and all(link.endswith("next=/") for link in links)
    on_index = client.get("/?x=1").text
    assert "/_language/de?next=/?x%3D1" in unescape(on_index)
