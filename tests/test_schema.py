"""vcred.schema: local registry, compiled validators, located violations, never a fetch."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

import pytest

from vcred.customs.samples import aeo_certificate
from vcred.errors import (
    SchemaMismatchError,
    SchemaViolationsError,
    UnknownSchemaError,
    UnsupportedError,
    UsageError,
)
from vcred.schema import SchemaRegistry, bundled_registry, check_schema

CUSTOM_ID = "https://schemas.example/weird/v1.json"
CUSTOM: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": CUSTOM_ID,
    "type": "object",
    "required": ["credentialSubject"],
    "properties": {
        "credentialSubject": {
            "type": "object",
            "required": ["a/b", "c~d"],
            "properties": {"a/b": {"type": "string"}, "c~d": {"type": "integer"}},
        }
    },
}


def with_schema(schema_id: str, *, kind: str = "JsonSchema") -> dict[str, Any]:
    credential = aeo_certificate("us-prairie")
    credential["credentialSchema"] = {"id": schema_id, "type": kind}
    return credential


def test_bundled_registry_holds_our_four_schemas() -> None:
    assert bundled_registry().ids == {
        "https://vcred.dev/schemas/aeo-certificate/v1.json",
        "https://vcred.dev/schemas/export-billing-attestation/v1.json",
        "https://vcred.dev/schemas/mra-trust-list/v1.json",
        "https://vcred.dev/schemas/defs/v1.json",
    }


def test_validators_are_compiled_once() -> None:
    registry = bundled_registry()
    schema_id = "https://vcred.dev/schemas/aeo-certificate/v1.json"
    assert registry.validator(schema_id) is registry.validator(schema_id)


def test_no_credential_schema_means_nothing_checked() -> None:
    credential = aeo_certificate("us-prairie")
    del credential["credentialSchema"]
    assert check_schema(credential) == ()


def test_unknown_schema_id_is_a_clean_error_and_nothing_is_fetched() -> None:
    with pytest.raises(UnknownSchemaError, match="never fetched") as caught:
        check_schema(with_schema("https://vcred.dev/schemas/aeo-certificate/v9.json"))
    assert caught.value.code == "UNKNOWN_SCHEMA"
    assert caught.value.pointer == "/credentialSchema/id"
    assert isinstance(caught.value, SchemaMismatchError)


def test_schema_entries_in_an_array_are_located_by_index() -> None:
    credential = aeo_certificate("us-prairie")
    credential["credentialSchema"] = [
        credential["credentialSchema"],
        {"id": "https://elsewhere.example/s.json", "type": "JsonSchema"},
    ]
    with pytest.raises(UnknownSchemaError) as caught:
        check_schema(credential)
    assert caught.value.pointer == "/credentialSchema/1/id"


def test_json_schema_credential_is_refused_as_unsupported() -> None:
    with pytest.raises(UnsupportedError) as caught:
        check_schema(with_schema(CUSTOM_ID, kind="JsonSchemaCredential"))
    assert caught.value.pointer == "/credentialSchema/type"


@pytest.mark.parametrize(
    ("entry", "pointer"),
    [
        ("https://vcred.dev/schemas/aeo-certificate/v1.json", "/credentialSchema"),
        ([], "/credentialSchema"),
        (["x"], "/credentialSchema/0"),
        ({"type": "JsonSchema"}, "/credentialSchema/id"),
    ],
)
def test_malformed_credential_schema(entry: Any, pointer: str) -> None:
    credential = aeo_certificate("us-prairie")
    credential["credentialSchema"] = entry
    with pytest.raises(SchemaMismatchError) as caught:
        check_schema(credential)
    assert caught.value.pointer == pointer


def test_a_registered_schema_is_used_and_pointers_are_escaped() -> None:
    registry = bundled_registry().with_schemas([CUSTOM])
    credential = with_schema(CUSTOM_ID)
    credential["credentialSubject"] = {"a/b": 1}
    with pytest.raises(SchemaViolationsError) as caught:
        check_schema(credential, registry=registry)
    assert {v.pointer for v in caught.value.violations} == {
        "/credentialSubject/a~1b",
        "/credentialSubject/c~0d",
    }
    assert CUSTOM_ID not in bundled_registry(), "with_schemas returns a new registry"


def test_an_unregistered_ref_is_not_fetched() -> None:
    schema = {**deepcopy(CUSTOM), "$ref": "https://schemas.example/elsewhere.json"}
    registry = SchemaRegistry([schema])
    with pytest.raises(UnknownSchemaError, match=r"elsewhere\.json") as caught:
        check_schema(with_schema(CUSTOM_ID), registry=registry)
    assert caught.value.pointer == "/credentialSchema/id"


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object"},
        {"$id": "relative.json"},
        {"$id": "https://schemas.example/bad.json", "type": "no-such-type"},
    ],
)
def test_registering_a_bad_schema_is_misuse(schema: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        SchemaRegistry([schema])


def test_check_schema_wants_a_mapping() -> None:
    with pytest.raises(UsageError):
        check_schema("{}")  # type: ignore[arg-type]


def test_date_format_is_checked_beyond_the_pattern() -> None:
    credential = aeo_certificate("us-prairie")
    credential["credentialSubject"]["certification"]["certifiedSince"] = "2016-02-30"
    with pytest.raises(SchemaMismatchError) as caught:
        check_schema(credential)
    assert caught.value.pointer == "/credentialSubject/certification/certifiedSince"
