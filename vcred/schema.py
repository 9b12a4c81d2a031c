"""The schema check: validate a credential against its ``credentialSchema`` (JSON Schema 2020-12).

Verifiable Credentials JSON Schema §2 defines ``credentialSchema`` entries of type
``JsonSchema`` whose ``id`` names a JSON Schema the whole credential must satisfy.
https://www.w3.org/TR/vc-json-schema/#jsonschema

Schemas come only from a local :class:`SchemaRegistry` (our bundled schemas plus those a caller
registers); nothing is ever fetched, and an unknown schema id or ``$ref`` fails with
:class:`~vcred.errors.UnknownSchemaError`. Validators are compiled once per registry and
schema id, and every violation is reported with the JSON Pointer of the failing value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from importlib.resources import files
from typing import Any, Final

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError, best_match
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from vcred._pointer import escape

from .errors import (
    SchemaMismatchError,
    SchemaViolationsError,
    UnknownSchemaError,
    UnsupportedError,
    UsageError,
)

__all__ = ["SchemaRegistry", "bundled_registry", "check_schema"]

_SCHEMA_TYPE: Final = "JsonSchema"
_MAX_MESSAGE: Final = 300
_MAX_LISTED: Final = 12


class SchemaRegistry:
    """JSON Schemas known by ``$id``, with a compiled validator per schema (built once).

    Immutable: :meth:`with_schemas` returns a new registry. Raises UsageError for a schema
    without an absolute ``$id`` or that is not a valid 2020-12 schema.
    """

    __slots__ = ("_registry", "_schemas", "_validators")

    def __init__(self, schemas: Iterable[Mapping[str, Any]] = ()) -> None:
        self._schemas: dict[str, Mapping[str, Any]] = {}
        for schema in schemas:
            schema_id = _schema_id(schema)
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as exc:
                raise UsageError(f"{schema_id} is not a valid JSON Schema: {exc.message}") from exc
            self._schemas[schema_id] = schema
        self._registry: Registry[Any] = Registry().with_resources(
            (schema_id, Resource.from_contents(schema, default_specification=DRAFT202012))
            for schema_id, schema in self._schemas.items()
        )
        self._validators: dict[str, Draft202012Validator] = {}

    def with_schemas(self, schemas: Iterable[Mapping[str, Any]]) -> SchemaRegistry:
        """A registry holding these schemas as well (a later one replaces the same ``$id``)."""
        return SchemaRegistry([*self._schemas.values(), *schemas])

    def __contains__(self, schema_id: object) -> bool:
        return schema_id in self._schemas

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self._schemas)

    def schema(self, schema_id: str) -> Mapping[str, Any]:
        """The schema registered under ``schema_id``. Raises UnknownSchemaError."""
        found = self._schemas.get(schema_id)
        if found is None:
            raise UnknownSchemaError(
                f"unknown credential schema {schema_id}: it is not in the local schema "
                "registry, and schemas are never fetched"
            )
        return found

    def validator(self, schema_id: str) -> Draft202012Validator:
        """The compiled validator for ``schema_id`` (cached). Raises UnknownSchemaError."""
        validator = self._validators.get(schema_id)
        if validator is None:
            validator = Draft202012Validator(
                self.schema(schema_id),
                registry=self._registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
            self._validators[schema_id] = validator
        return validator


#: Packages whose ``*.json`` files are bundled schemas (:func:`register_schema_package`).
SCHEMA_PACKAGES: Final[list[str]] = []


def register_schema_package(package: str) -> None:
    """Bundle the JSON Schemas (``*.json``) a domain ships in ``package``.

    The customs domain registers ``vcred.schemas``; :func:`bundled_registry` holds them all.
    """
    if package not in SCHEMA_PACKAGES:
        SCHEMA_PACKAGES.append(package)
        bundled_registry.cache_clear()


@cache
def bundled_registry() -> SchemaRegistry:
    """The registry of the JSON Schemas shipped in the registered schema packages."""
    return SchemaRegistry(_bundled_schemas())


def _bundled_schemas() -> Iterator[dict[str, Any]]:
    for package in SCHEMA_PACKAGES:
        for entry in sorted(files(package).iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".json"):
                loaded: dict[str, Any] = json.loads(entry.read_text(encoding="utf-8"))
                yield loaded


def check_schema(
    credential: Mapping[str, Any], *, registry: SchemaRegistry | None = None
) -> tuple[str, ...]:
    """Validate ``credential`` against each of its ``credentialSchema`` entries (VC JSON Schema §2).

    https://www.w3.org/TR/vc-json-schema/#jsonschema

    Returns the ids of the schemas checked (empty when the credential names none). Raises
    SchemaViolationsError (code SCHEMA_MISMATCH) listing every violation with its JSON
    Pointer; UnknownSchemaError when a schema or a ``$ref`` is not in the registry;
    UnsupportedError for a ``JsonSchemaCredential`` or another entry type; MalformedError
    subclasses for a malformed ``credentialSchema``.
    """
    if not isinstance(credential, Mapping):
        raise UsageError("check_schema expects the credential as a JSON object (a Mapping)")
    registry = registry if registry is not None else bundled_registry()
    checked: list[str] = []
    for pointer, entry in _schema_entries(credential):
        schema_id = _entry_id(entry, pointer)
        try:
            validator = registry.validator(schema_id)
        except UnknownSchemaError as exc:
            raise UnknownSchemaError(exc.message, pointer=f"{pointer}/id") from exc
        _validate(validator, credential, schema_id, pointer)
        checked.append(schema_id)
    return tuple(checked)


def _schema_entries(credential: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    entries = credential.get("credentialSchema")
    if entries is None:
        return
    if isinstance(entries, Mapping):
        yield "/credentialSchema", entries
        return
    if not isinstance(entries, list) or not entries:
        raise SchemaMismatchError(
            "credentialSchema must be an object or a non-empty array of objects",
            pointer="/credentialSchema",
        )
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise SchemaMismatchError(
                "a credentialSchema entry must be an object", pointer=f"/credentialSchema/{index}"
            )
        yield f"/credentialSchema/{index}", entry


def _entry_id(entry: Mapping[str, Any], pointer: str) -> str:
    entry_type = entry.get("type")
    if entry_type != _SCHEMA_TYPE:
        # A JsonSchemaCredential wraps the schema in a credential that must itself be
        # verified before its schema is trusted; until that exists, refuse it plainly.
        raise UnsupportedError(
            f"credentialSchema type {entry_type!r} is not supported; only {_SCHEMA_TYPE!r}",
            pointer=f"{pointer}/type",
        )
    schema_id = entry.get("id")
    if not isinstance(schema_id, str) or not schema_id:
        raise SchemaMismatchError(
            "a credentialSchema entry needs an id (the URL of the schema)", pointer=f"{pointer}/id"
        )
    return schema_id


def _validate(
    validator: Draft202012Validator,
    credential: Mapping[str, Any],
    schema_id: str,
    entry_pointer: str,
) -> None:
    try:
        errors = list(validator.iter_errors(credential))
    except Unresolvable as exc:
        raise UnknownSchemaError(
            f"schema {schema_id} refers to {exc.ref}, which is not in the local schema registry",
            pointer=f"{entry_pointer}/id",
        ) from exc
    if not errors:
        return
    violations = sorted(
        {(v.pointer, v.message): v for e in errors for v in _violations(e)}.values(),
        key=lambda v: (v.pointer or "", v.message),
    )
    first = violations[0]
    summary = first.message
    if len(violations) > 1:
        summary += f" (and {len(violations) - 1} more violations of {schema_id})"
    raise SchemaViolationsError(summary, pointer=first.pointer, violations=tuple(violations))


def _violations(error: ValidationError) -> Iterator[SchemaMismatchError]:
    where = _pointer(error.absolute_path)
    if error.validator == "required":
        missing = _missing_property(error)
        if missing is None:
            yield SchemaMismatchError(error.message, pointer=where)
        else:
            yield SchemaMismatchError(f"{missing!r} is required", pointer=_join(where, missing))
    elif error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        known = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        for name in error.instance:
            if name not in known:
                yield SchemaMismatchError(
                    f"{name!r} is not allowed here", pointer=_join(where, name)
                )
    elif error.validator in {"oneOf", "anyOf"} and error.context:
        # Report the alternative that came closest: one whose type matched, then
        # jsonschema's relevance heuristic among those.
        typed = [e for e in error.context if e.validator != "type"]
        yield from _violations(best_match(typed or error.context))
    else:
        yield SchemaMismatchError(_describe(error), pointer=where)


def _missing_property(error: ValidationError) -> str | None:
    required = error.validator_value
    if not isinstance(required, Sequence) or not isinstance(error.instance, Mapping):
        return None
    for name in required:
        if isinstance(name, str) and error.message == f"{name!r} is a required property":
            return name
    return None


def _describe(error: ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    about = schema.get("description")
    value = _short(error.instance)
    if error.validator == "enum":
        allowed = error.validator_value
        message = f"{value} is not one of the allowed values"
        if isinstance(allowed, list) and len(allowed) <= _MAX_LISTED:
            message += f" {', '.join(str(a) for a in allowed)}"
    elif error.validator == "const":
        message = f"expected {_short(error.validator_value)}, found {value}"
    elif error.validator == "pattern":
        message = f"{value} does not have the expected form"
    else:
        message = error.message
    if about and error.validator in {"enum", "pattern", "format"}:
        message += f" ({about})"
    return message[:_MAX_MESSAGE]


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _pointer(path: Iterable[str | int]) -> str:
    return "".join(f"/{escape(part)}" for part in path)


def _join(pointer: str, name: str) -> str:
    return f"{pointer}/{escape(name)}"


def _schema_id(schema: Mapping[str, Any]) -> str:
    if not isinstance(schema, Mapping):
        raise UsageError("a JSON Schema must be a JSON object")
    schema_id = schema.get("$id")
    if not isinstance(schema_id, str) or ":" not in schema_id:
        raise UsageError("a registered JSON Schema needs an absolute $id")
    return schema_id
