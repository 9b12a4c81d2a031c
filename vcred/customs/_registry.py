"""Loading registry files: programmes, arrangements and identifier schemes as checked data.

A registry file is JSON following ``registry/registry-v1.schema.json``. Loading checks, past
the schema, what a schema cannot say: every fact a record states names a source (or is
listed in its ``unconfirmed``), countries are ISO 3166-1 codes, an arrangement's parties and
levels exist and its dates are in order, identifier schemes are known. A later file
replaces a record of the same id (an agency correcting a date, ending an arrangement).

Errors are :class:`~vcred.errors.MalformedError` whose pointer is the faulty value's place in
the file, and whose message starts with the file's name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Final

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from .._json import loads_local
from ..errors import MalformedError, UsageError
from ._codes import COUNTRIES
from .identifiers import SCHEMES, IdentifierScheme, lei_check, luhn_check
from .programmes import (
    BENEFITS,
    STANDARD_BENEFITS,
    TRADE_ROLES,
    MutualRecognition,
    Programme,
    Source,
    first_day,
    last_day,
    set_bundled_loader,
)

__all__ = ["Registry", "bundled_registry", "load_registry_file"]

_BUNDLED_FILES: Final = ("programmes.json", "arrangements.json")
_SCHEMA_FILE: Final = "registry-v1.schema.json"
# The checks a registry file may name for its identifier schemes: algorithms implemented here.
_CHECKS: Final = {"luhn": luhn_check, "iso7064-mod97-10": lei_check}
# The facts of a record that must each name a source (or be listed as unconfirmed).
_PROGRAMME_FACTS: Final = ("name", "authority", "levels")
_ARRANGEMENT_FACTS: Final = ("parties", "signed", "inForce", "listedSince", "ended",
                             "recognisedLevels")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Registry:
    """Programmes, arrangements and extra identifier schemes, as loaded (immutable)."""

    programmes: Mapping[str, Programme]
    arrangements: tuple[MutualRecognition, ...]
    schemes: Mapping[str, IdentifierScheme] = field(default_factory=dict)
    files: tuple[str, ...] = ()

    def between(self, a: str, b: str) -> MutualRecognition | None:
        """The arrangement between two programmes, in either order, or None."""
        pair = {a, b}
        return next((m for m in self.arrangements if set(m.programmes) == pair), None)

    def scheme(self, code: str) -> IdentifierScheme | None:
        """An identifier scheme: built in, or added by a registry file."""
        return SCHEMES.get(code) or self.schemes.get(code)

    def with_files(self, paths: Iterable[str | Path]) -> Registry:
        """This registry extended with registry files, or directories of them (``*.json``
        in name order), in order. Raises MalformedError for a bad file, UsageError for a
        path that does not exist."""
        registry = self
        for path in _expand(paths):
            registry = registry.with_data(_read(path), name=str(path))
        return registry

    def with_data(self, data: Any, *, name: str) -> Registry:
        """This registry extended with one registry file's content. Raises MalformedError."""
        _check_schema(data, name)
        schemes = dict(self.schemes)
        for i, item in enumerate(data.get("identifierSchemes", ())):
            scheme = _scheme(item, name, f"/identifierSchemes/{i}")
            if scheme.code in SCHEMES:
                raise MalformedError(
                    f"{name}: {scheme.code} is a built-in identifier scheme; it cannot be "
                    "replaced", pointer=f"/identifierSchemes/{i}/code")  # fmt: skip
            schemes[scheme.code] = scheme
        known_schemes = SCHEMES.keys() | schemes.keys()
        programmes = dict(self.programmes)
        # a later file replaces a record; one file states each once: of two contradictory
        # records (one ended, one not) the order of its lines would choose
        stated: set[object] = set()
        for i, item in enumerate(data.get("programmes", ())):
            found = _programme(item, name, f"/programmes/{i}", known_schemes)
            _once(stated, found.code, f"{name}: {found.code} twice", f"/programmes/{i}/id")
            programmes[found.code] = found
        arrangements = {frozenset(m.programmes): m for m in self.arrangements}
        for i, item in enumerate(data.get("arrangements", ())):
            mra = _arrangement(item, name, f"/arrangements/{i}", programmes)
            pair = frozenset(mra.programmes)
            told = f"{name}: an arrangement between {' and '.join(mra.programmes)} twice"
            _once(stated, pair, told, f"/arrangements/{i}/parties")
            arrangements[pair] = mra
        ids: dict[str, MutualRecognition] = {}
        for mra in arrangements.values():
            if ids.setdefault(mra.id, mra) is not mra:
                raise MalformedError(f"{name}: two arrangements are named {mra.id}")
        for mra in arrangements.values():
            missing = set(mra.programmes) - programmes.keys()
            if missing:  # a programme replaced without an id it had: cannot happen by design
                raise MalformedError(f"{name}: {mra.id} names unknown {sorted(missing)}")
        return Registry(
            programmes=programmes,
            arrangements=tuple(arrangements.values()),
            schemes=schemes,
            files=(*self.files, name),
        )


@cache
def bundled_registry() -> Registry:
    """The registry of the files shipped in ``vcred.customs.registry``."""
    registry = Registry(programmes={}, arrangements=())
    folder = files("vcred.customs.registry")
    for name in _BUNDLED_FILES:
        data = json.loads(folder.joinpath(name).read_text(encoding="utf-8"))
        registry = registry.with_data(data, name=f"vcred/customs/registry/{name}")
    return registry


def load_registry_file(path: str | Path) -> Registry:
    """The bundled registry extended with one file (to check a file before deploying it)."""
    return bundled_registry().with_files([path])


# -- reading ---------------------------------------------------------------------------------


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(path.glob("*.json")))
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"no registry file or directory at {path}")
    return found


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MalformedError(f"{path}: not a readable JSON registry file ({exc})") from exc
    # nested past the parser's recursion: a RecursionError (vcred --registry: a traceback)
    return loads_local(text, what=f"the registry file {path}")


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(
        files("vcred.customs.registry").joinpath(_SCHEMA_FILE).read_text(encoding="utf-8")
    )
    return Draft202012Validator(schema)


def _check_schema(data: Any, name: str) -> None:
    error = best_match(_validator().iter_errors(data))
    if error is not None:
        pointer = "".join(f"/{part}" for part in error.absolute_path)
        raise MalformedError(f"{name}: {error.message[:300]}", pointer=pointer or None)


def _sources(item: Mapping[str, Any]) -> tuple[Source, ...]:
    return tuple(
        Source(url=s["url"], confirms=s["confirms"], facts=tuple(s["facts"]))
        for s in item["sources"]
    )


def _require_sources(
    item: Mapping[str, Any], facts: Sequence[str], name: str, pointer: str
) -> None:
    """Every fact the record states names a source, unless it is listed as unconfirmed."""
    sourced = {fact for s in item["sources"] for fact in s["facts"]}
    unconfirmed = set(item.get("unconfirmed", ()))
    for fact in facts:
        if (fact in item or fact == "parties") and fact not in sourced | unconfirmed:
            raise MalformedError(
                f"{name}: no source confirms {fact!r}; name it in a source's facts or list "
                "it in 'unconfirmed'",
                pointer=f"{pointer}/{fact}",
            )


def _programme(item: Mapping[str, Any], name: str, p: str, schemes: Iterable[str]) -> Programme:
    _require_sources(item, _PROGRAMME_FACTS, name, p)
    for i, country in enumerate(item["countries"]):
        if country not in COUNTRIES:
            raise MalformedError(
                f"{name}: {country!r} is not an ISO 3166-1 country", pointer=f"{p}/countries/{i}"
            )
    levels: dict[str, str] = {}
    for i, level in enumerate(item["levels"]):
        if level["code"] in levels:
            raise MalformedError(
                f"{name}: level {level['code']} is listed twice", pointer=f"{p}/levels/{i}/code"
            )
        levels[level["code"]] = level["meaning"]
    for i, role in enumerate(item.get("roles", ())):
        if role not in TRADE_ROLES:
            raise MalformedError(
                f"{name}: {role!r} is not a trade role ({', '.join(TRADE_ROLES)})",
                pointer=f"{p}/roles/{i}",
            )
    known = set(schemes)
    for i, scheme in enumerate(item.get("identifierSchemes", ())):
        if scheme not in known:
            raise MalformedError(
                f"{name}: unknown identifier scheme {scheme!r}; define it in 'identifierSchemes'",
                pointer=f"{p}/identifierSchemes/{i}",
            )
    return Programme(
        code=item["id"],
        name=item["name"],
        authority=item["authority"],
        countries=frozenset(item["countries"]),
        tiers=levels,
        url=item.get("url"),
        roles=tuple(item.get("roles", ())),
        identifier_schemes=tuple(item.get("identifierSchemes", ())),
        sources=_sources(item),
        unconfirmed=tuple(item.get("unconfirmed", ())),
    )


def _arrangement(
    item: Mapping[str, Any], name: str, p: str, programmes: Mapping[str, Programme]
) -> MutualRecognition:
    _require_sources(item, _ARRANGEMENT_FACTS, name, p)
    for i, party in enumerate(item["parties"]):
        if party not in programmes:
            raise MalformedError(
                f"{name}: unknown programme {party!r}; add it to 'programmes'",
                pointer=f"{p}/parties/{i}",
            )
    first, second = sorted(item["parties"])
    tiers: dict[str, frozenset[str]] = {}
    for party, levels in item.get("recognisedLevels", {}).items():
        where = f"{p}/recognisedLevels/{party}"
        if party not in (first, second):
            raise MalformedError(f"{name}: {party} is not a party", pointer=where)
        unknown = sorted(set(levels) - programmes[party].tiers.keys())
        if unknown:
            raise MalformedError(
                f"{name}: {', '.join(unknown)} not a level of {party}", pointer=where
            )
        tiers[party] = frozenset(levels)
    benefits = tuple(item["benefits"]) if "benefits" in item else STANDARD_BENEFITS
    for i, benefit in enumerate(benefits):
        if benefit not in BENEFITS:
            raise MalformedError(
                f"{name}: unknown benefit {benefit!r} ({', '.join(BENEFITS)})",
                pointer=f"{p}/benefits/{i}",
            )
    _check_dates(item, name, p)
    # a date as precise as its source: fail closed, trust begins on the last day a partial
    # start can mean and ends on the first day a partial end can mean (MutualRecognition.since)
    signed = item.get("signed")
    effective = last_day(item["inForce"]) if "inForce" in item else None
    listed = last_day(item["listedSince"]) if "listedSince" in item else None
    until = first_day(item["ended"]) if "ended" in item else None
    return MutualRecognition(
        id=item["id"],
        programmes=(first, second),
        name=item["name"],
        signed=signed,
        effective=effective,
        listed_since=listed,
        until=until,
        recognised_tiers=tiers,
        benefits=benefits,
        sources=_sources(item),
        unconfirmed=tuple(item.get("unconfirmed", ())),
        note=item.get("note", ""),
    )


def _once(seen: set[object], key: object, message: str, pointer: str) -> None:
    """Note ``key`` as stated by the file read; MalformedError when it was stated before."""
    if key in seen:
        raise MalformedError(message, pointer=pointer)
    seen.add(key)


def _check_dates(item: Mapping[str, Any], name: str, p: str) -> None:
    """Refuse dates that contradict each other whatever day each partial date means: in
    force before it was signed, ended before it began (dates that may agree pass)."""
    signed, in_force, ended = item.get("signed"), item.get("inForce"), item.get("ended")
    if signed is not None and in_force is not None and last_day(in_force) < first_day(signed):
        raise MalformedError(f"{name}: in force before it was signed", pointer=f"{p}/inForce")
    start = in_force or signed or item.get("listedSince")
    if ended is not None and (start is None or last_day(ended) < first_day(start)):
        raise MalformedError(
            f"{name}: an arrangement ends before the day it took effect", pointer=f"{p}/ended"
        )


def _scheme(item: Mapping[str, Any], name: str, p: str) -> IdentifierScheme:
    try:
        pattern = re.compile(item["pattern"])
    except re.error as exc:
        raise MalformedError(
            f"{name}: not a regular expression ({exc})", pointer=f"{p}/pattern"
        ) from exc
    check = _CHECKS.get(item["check"]) if "check" in item else None
    scheme = IdentifierScheme(
        item["code"], item["name"], pattern, item["example"], check, item["sources"][0]["url"]
    )
    if not pattern.fullmatch(scheme.example) or (check and not check(scheme.example)):
        raise MalformedError(
            f"{name}: the example {scheme.example!r} is not valid under this scheme",
            pointer=f"{p}/example",
        )
    return scheme


set_bundled_loader(bundled_registry)
