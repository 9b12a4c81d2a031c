"""The officer pages in the agency's language (Flask-Babel).

The locale is the officer's explicit choice (the picker in every page header, remembered in
the ``vcred_lang`` cookie), else the best match of the browser's ``Accept-Language``, else
English. Message catalogs are the ``.po`` files in ``translations/`` — the only form kept in
the repository: each is compiled in memory the first time its locale is used, so there is no
binary ``.mo`` to go stale. Dates, numbers and amounts go through Babel's locale data
(:func:`local_date`, :func:`local_amount`, ``numberformat``).

``tests/service/test_i18n.py`` extracts the messages of the templates and modules (as
``pybabel extract -F babel.cfg`` does) and checks every locale translates each one.
"""

from __future__ import annotations

import functools
import io
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Blueprint, Flask, redirect, request
from flask_babel import Babel, Domain, format_currency, format_date, format_datetime, get_locale
from werkzeug.wrappers import Response as BaseResponse

from vcred_service.signin import safe_path  # the same open-redirect guard as sign-in

#: The officer pages' languages: English (the source language) first.
LOCALES: Final = ("en", "de", "fr", "es", "ja")
CATALOGS: Final = Path(__file__).parent / "translations"
COOKIE: Final = "vcred_lang"
_COOKIE_AGE: Final = 365 * 24 * 3600


def catalog_path(locale: str) -> Path:
    return CATALOGS / f"{locale}.po"


@functools.cache
def translations(locale: str) -> NullTranslations:
    """``locale``'s catalog, compiled from its ``.po`` file (English: the messages as written).

    Fuzzy entries are left out, as ``pybabel compile`` does without ``--use-fuzzy``.
    """
    if locale not in LOCALES[1:]:
        return NullTranslations()
    with catalog_path(locale).open("rb") as po:
        catalog = read_po(po, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain="messages")


class _CatalogDomain(Domain):  # type: ignore[misc]
    """Flask-Babel's message domain, reading :func:`translations` instead of ``.mo`` files."""

    def get_translations(self) -> NullTranslations:
        return translations(current_locale())


def current_locale() -> str:
    """The request's language code (``en`` outside a request)."""
    locale = get_locale()
    return str(locale.language) if locale is not None else LOCALES[0]


def select_locale() -> str:
    """The officer's choice (cookie), else the browser's preference, else English."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or LOCALES[0]


def language_names() -> dict[str, str]:
    """Each locale named in its own language, for the picker ("Deutsch", "日本語")."""
    return {code: str(Locale.parse(code).get_display_name(code)).capitalize() for code in LOCALES}


def local_date(value: Any, *, with_time: bool = False) -> str:
    """An ISO date or date-time (a string, as credentials carry them) in the locale's form;
    what is not one is returned as it is."""
    if isinstance(value, str):
        try:
            parsed: date = (
                datetime.fromisoformat(value.replace("Z", "+00:00"))
                if with_time or "T" in value
                else date.fromisoformat(value)
            )
        except ValueError:
            return value
        value = parsed
    if isinstance(value, datetime):
        return str(format_datetime(value, "medium")) if with_time else str(format_date(value))
    if isinstance(value, date):
        return str(format_date(value))
    return "" if value is None else str(value)


def local_amount(amount: Any, currency: Any) -> str:
    """``amount`` in ``currency`` as the locale writes it (``48.250,00 €``, ``US$48,250.00``)."""
    try:
        number = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return f"{currency} {amount}"
    if not isinstance(currency, str) or len(currency) != 3:
        return str(amount)
    return str(format_currency(number, currency.upper()))


#: Query parameters of an authorization response (RFC 6749 §4.1.2, OpenID Connect): one-time
#: secrets that a page must not repeat in its links.
_AUTHORIZATION_RESPONSE: Final = frozenset({"code", "state", "id_token", "session_state"})


def return_path() -> str:
    """Where the picker brings the officer back: this page, if it can be asked for again
    with GET (not the answer to a POST such as a verification, nor a sign-in's callback,
    whose code and state are used up and must not stand in the page: those go home)."""
    if request.method == "GET":
        if not _AUTHORIZATION_RESPONSE.isdisjoint(request.args):
            return "/"
        return request.full_path.rstrip("?")
    rule = request.url_rule
    if rule is not None and "GET" in (rule.methods or ()):
        return request.path
    return "/"


language = Blueprint("language", __name__)


@language.get("/_language/<code>")
def choose(code: str) -> BaseResponse:
    """Remember the officer's language and go back to the page they were on."""
    response = redirect(safe_path(request.args.get("next"), fallback="/"))
    if code in LOCALES:
        response.set_cookie(COOKIE, code, max_age=_COOKIE_AGE, samesite="Lax", httponly=True)
    return response


def install(app: Flask) -> None:
    """Flask-Babel on ``app``: locale selection, the catalogs, the template helpers."""
    babel = Babel()
    babel.init_app(app, locale_selector=select_locale)
    babel.domain_instance = _CatalogDomain()
    app.jinja_env.globals.update(
        current_locale=current_locale,
        language_names=language_names(),
        locales=LOCALES,
        language_return_path=return_path,
    )
    app.jinja_env.filters.update(local_date=local_date, local_amount=local_amount)
    app.register_blueprint(language)
