"""JSON-LD value shapes, read one way: a rule on verified data asks for one value and gets it,
or learns that the document does not establish it.

JSON-LD gives one statement several JSON shapes (JSON-LD 1.1 §4.3, §4.5): a value and an
array of one value are the same statement; ``{"@value": "AEOS"}`` is the string ``"AEOS"``;
a node is a string id or an object with an ``id``. A rule that reads one exact shape and
skips the others lets the signer choose, by shape, whether the rule applies. These functions
accept every shape of the same statement and refuse everything else with a
:class:`~vcred.errors.MalformedError` pointing at the value, so the caller can fail closed.

A code (a tier, a role, a programme) is a plain literal: a language-tagged value
``{"@value": "AEOS", "@language": "en"}`` is another RDF literal (``rdf:langString``), not
the code, and is refused. Several *different* values where the rule needs one are refused;
repeats of one value are one value (an RDF graph is a set).
https://www.w3.org/TR/json-ld11/#value-objects
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import MalformedError

__all__ = ["codes", "identifier", "names", "nodes", "one", "values"]


def values(value: Any) -> tuple[Any, ...]:
    """The values of a member: none for an absent member or null, an array's items, or the
    value itself."""
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(value)
    return (value,)


def nodes(value: Any, pointer: str) -> tuple[tuple[Mapping[str, Any], str], ...]:
    """The objects of a member, each with its JSON Pointer. Raises MalformedError for a
    value that is not an object."""
    many = isinstance(value, list)
    found = []
    for i, item in enumerate(values(value)):
        where = f"{pointer}/{i}" if many else pointer
        if not isinstance(item, Mapping):
            raise MalformedError(f"expected an object, found {_kind(item)}", pointer=where)
        found.append((item, where))
    return tuple(found)


def identifier(value: Any, pointer: str) -> str:
    """The one node id of a member: ``"did:…"``, ``{"id": "did:…"}`` or an array of those
    naming one node. Raises MalformedError otherwise."""
    many = isinstance(value, list)
    ids = set()
    for i, item in enumerate(values(value)):
        where = f"{pointer}/{i}" if many else pointer
        found = item.get("id", item.get("@id")) if isinstance(item, Mapping) else item
        if not isinstance(found, str) or not found:
            raise MalformedError(
                f"expected an id (a string, or an object with an id), found {_kind(item)}",
                pointer=where,
            )
        ids.add(found)
    return one(ids, pointer, what="id")


def codes(value: Any, pointer: str) -> frozenset[str]:
    """The codes (plain string literals) of a member, as a set. Raises MalformedError for
    any value that is not a plain string literal."""
    many = isinstance(value, list)
    found = set()
    for i, item in enumerate(values(value)):
        found.add(_code(item, f"{pointer}/{i}" if many else pointer))
    return frozenset(found)


def names(value: Any, pointer: str) -> frozenset[str]:
    """The names (``type`` terms or IRIs: strings only, JSON-LD §4.4) of a member, as a set.
    Raises MalformedError for any value that is not a string."""
    many = isinstance(value, list)
    found = set()
    for i, item in enumerate(values(value)):
        if not isinstance(item, str) or not item:
            raise MalformedError(
                f"expected a name (a string), found {_kind(item)}",
                pointer=f"{pointer}/{i}" if many else pointer,
            )
        found.add(item)
    return frozenset(found)


def one(found: set[str] | frozenset[str], pointer: str, *, what: str = "value") -> str:
    """The single member of ``found``. Raises MalformedError for none or several."""
    if not found:
        raise MalformedError(f"no {what} is stated", pointer=pointer)
    if len(found) > 1:
        raise MalformedError(
            f"several different values where one {what} is required: "
            + ", ".join(sorted(repr(v[:40]) for v in found)),
            pointer=pointer,
        )
    return next(iter(found))


def _code(item: Any, pointer: str) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping) and set(item) == {"@value"} and isinstance(item["@value"], str):
        return item["@value"]
    if isinstance(item, Mapping) and "@language" in item:
        raise MalformedError(
            "expected a code, found text in a language (a different literal)", pointer=pointer
        )
    raise MalformedError(f"expected a code (a string), found {_kind(item)}", pointer=pointer)


def _kind(item: Any) -> str:
    if item is None:
        return "null"
    if isinstance(item, bool):
        return "a boolean"
    if isinstance(item, int | float):
        return "a number"
    if isinstance(item, list):
        return "an array"
    if isinstance(item, Mapping):
        return "an object"
    return "a string" if isinstance(item, str) else type(item).__name__
