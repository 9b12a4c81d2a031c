"""What `schemathesis run --checks all` checks, in process, for any of our Flask apps: no 5xx,
every status, content type and header documented, every body valid against its schema."""

from __future__ import annotations

from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings


def fuzz_every_operation(app: Flask, *, examples: int) -> list[str]:
    """Fuzz each operation of ``app``'s /openapi.json; the labels of the operations fuzzed."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: Any) -> None:
            # a schema-valid body is still no genuine credential: refusing it is its answer
            case.call_and_validate(excluded_checks=[schemathesis.checks.positive_data_acceptance])

        conforms()
    # (schemathesis leaves out the document's own GET /openapi.json)
    return sorted(labels)
