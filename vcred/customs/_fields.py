"""Field checks for the builders: each returns the checked value or raises MalformedError.

Every check takes the JSON Pointer the value will have in the finished credential, so an
error says where it broke in the document the caller is building.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from .._pointer import child as child_pointer
from ..errors import MalformedError
from ._codes import COUNTRIES, CURRENCIES, INCOTERMS_2020, TRANSPORT_MODES

_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_DECIMAL: Final = re.compile(r"(0|[1-9]\d{0,17})(\.\d{1,6})?")
_HS_CODE: Final = re.compile(r"\d{6,10}")
_UNIT_CODE: Final = re.compile(r"[A-Z0-9]{2,3}")
_URI: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_MAX_TEXT: Final = 512


def mapping(value: Any, pointer: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedError("expected a JSON object", pointer=pointer)
    return value


def sequence(value: Any, pointer: str, *, min_items: int = 0) -> Sequence[Any]:
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise MalformedError("expected a JSON array", pointer=pointer)
    if len(value) < min_items:
        raise MalformedError(f"expected at least {min_items} item(s)", pointer=pointer)
    return value


def text(value: Any, pointer: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MalformedError("expected a non-empty string", pointer=pointer)
    if len(value) > _MAX_TEXT:
        raise MalformedError(f"at most {_MAX_TEXT} characters", pointer=pointer)
    return value


def uri(value: Any, pointer: str) -> str:
    if not isinstance(value, str) or not _URI.fullmatch(value):
        raise MalformedError("expected an absolute URI (for example a DID)", pointer=pointer)
    return value


def country(value: Any, pointer: str) -> str:
    if not isinstance(value, str) or value not in COUNTRIES:
        raise MalformedError(
            f"{value!r} is not an ISO 3166-1 alpha-2 country code (such as 'DE' or 'JP')",
            pointer=pointer,
        )
    return value


def currency(value: Any, pointer: str) -> str:
    if not isinstance(value, str) or value not in CURRENCIES:
        raise MalformedError(
            f"{value!r} is not an ISO 4217 currency code (such as 'EUR' or 'USD')",
            pointer=pointer,
        )
    return value


def incoterms(value: Any, pointer: str) -> str:
    if not isinstance(value, str) or value not in INCOTERMS_2020:
        raise MalformedError(
            f"{value!r} is not an Incoterms 2020 rule; expected one of {', '.join(INCOTERMS_2020)}",
            pointer=pointer,
        )
    return value


def transport_mode(value: Any, pointer: str) -> str:
    if not isinstance(value, str) or value not in TRANSPORT_MODES:
        raise MalformedError(
            f"{value!r} is not a UN/ECE Recommendation 19 transport mode code; expected one of "
            f"{', '.join(TRANSPORT_MODES)} (1 sea, 2 rail, 3 road, 4 air …)",
            pointer=pointer,
        )
    return value


def hs_code(value: Any, pointer: str) -> str:
    if not isinstance(value, str) or not _HS_CODE.fullmatch(value):
        raise MalformedError(
            f"{value!r} is not an HS code: expected 6 to 10 digits, no dots or spaces",
            pointer=pointer,
        )
    return value


def unit_code(value: Any, pointer: str) -> str:
    if not isinstance(value, str) or not _UNIT_CODE.fullmatch(value):
        raise MalformedError(
            f"{value!r} is not a UN/ECE Recommendation 20 unit code (such as 'KGM', 'C62')",
            pointer=pointer,
        )
    return value


def decimal(value: Any, pointer: str, *, positive: bool = False) -> str:
    """A non-negative decimal written as a string; floats are refused (they round)."""
    if not isinstance(value, str):
        raise MalformedError(
            "amounts are decimal strings such as '1250.00', not JSON numbers", pointer=pointer
        )
    if not _DECIMAL.fullmatch(value):
        raise MalformedError(
            f"{value!r} is not a decimal amount: digits, an optional '.', at most 6 decimals, "
            "no sign, exponent or thousands separator",
            pointer=pointer,
        )
    try:
        number = Decimal(value)
    except InvalidOperation as exc:  # unreachable after the pattern, kept as a guard
        raise MalformedError(f"{value!r} is not a decimal amount", pointer=pointer) from exc
    if positive and number <= 0:
        raise MalformedError("must be greater than zero", pointer=pointer)
    return value


def iso_date(value: Any, pointer: str) -> str:
    """A calendar date ``YYYY-MM-DD`` (accepts a :class:`datetime.date`)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise MalformedError(f"{value!r} is not a date of the form YYYY-MM-DD", pointer=pointer)
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        raise MalformedError(f"{value!r} is not a calendar date", pointer=pointer) from exc
    return value


def date_time_stamp(value: datetime, pointer: str) -> str:
    """An aware datetime as an XML Schema dateTimeStamp in UTC (VCDM 2.0 §4.9)."""
    if not isinstance(value, datetime):
        raise MalformedError("expected a datetime", pointer=pointer)
    if value.utcoffset() is None:
        raise MalformedError("the datetime must be timezone-aware (UTC)", pointer=pointer)
    return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def one_of(value: Any, allowed: Mapping[str, object], pointer: str, what: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise MalformedError(
            f"{value!r} is not a known {what}; expected one of {', '.join(allowed)}",
            pointer=pointer,
        )
    return value


def no_extra(value: Mapping[str, Any], allowed: set[str] | frozenset[str], pointer: str) -> None:
    for key in value:
        if key not in allowed:
            raise MalformedError(
                f"unexpected member {key!r}; allowed: {', '.join(sorted(allowed))}",
                pointer=child(pointer, key),
            )


def required(value: Mapping[str, Any], key: str, pointer: str) -> Any:
    if key not in value or value[key] is None:
        raise MalformedError(f"{key!r} is required", pointer=child(pointer, key))
    return value[key]


def child(pointer: str, key: str | int) -> str:
    """``pointer`` extended by one step (RFC 6901 escaping)."""
    return child_pointer(pointer, key)
