"""The credential schemas, completed with the registry: which programmes and levels exist.

``schemas/aeo-certificate-v1.json`` checks a programme code's and a level's form only; which
codes exist is registry data. :func:`schema_registry` gives a
:class:`~vcred.schema.SchemaRegistry` in which the AEO certificate schema (same ``$id``) also
requires the programme to be one of the registry in use and the tier one of its levels, so a
credential naming a programme an agency added by a registry file validates, and one naming
an unknown programme or tier fails with the pointer of the value.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from ..schema import SchemaRegistry, bundled_registry
from .builders import AEO_CERTIFICATE_SCHEMA
from .programmes import Programme, active_registry

__all__ = ["certification_rules", "schema_registry"]

_DRAFT: Final = "https://json-schema.org/draft/2020-12/schema"
# base id → (registry, base, extended): holding the base keeps its id from being reused
_memo: dict[int, tuple[object, SchemaRegistry, SchemaRegistry]] = {}


def certification_rules(programmes: dict[str, Programme] | None = None) -> dict[str, Any]:
    """The JSON Schema of an AEO certificate's ``certification`` under the registry:
    ``programme`` one of its codes, ``tier`` one of that programme's levels."""
    found = dict(active_registry().programmes) if programmes is None else programmes
    return {
        "properties": {"programme": {"enum": sorted(found)}},
        "allOf": [
            {
                "if": {"properties": {"programme": {"const": code}}, "required": ["programme"]},
                "then": {"properties": {"tier": {"enum": list(p.tiers)}}},
            }
            for code, p in sorted(found.items())
        ],
    }


def schema_registry(base: SchemaRegistry | None = None) -> SchemaRegistry:
    """``base`` (default: the bundled schemas) with the AEO certificate schema completed by
    the registry in use. Built once per registry (the validators are compiled once)."""
    registry = active_registry()
    start = bundled_registry() if base is None else base
    key = id(start)
    cached = _memo.get(key)
    if cached is not None and cached[0] is registry and cached[1] is start:
        return cached[2]
    schema = copy.deepcopy(dict(start.schema(AEO_CERTIFICATE_SCHEMA)))
    schema.setdefault("$schema", _DRAFT)
    schema["allOf"] = [
        *schema.get("allOf", []),
        {
            "properties": {
                "credentialSubject": {
                    "properties": {"certification": certification_rules(dict(registry.programmes))}
                }
            }
        },
    ]
    extended = start.with_schemas([schema])
    _memo[key] = (registry, start, extended)
    return extended
