"""Hardening tests: the verifier service of tests/verifier (a US issuer on did:web served by a
local server, an EU verifier with its trust list) and an issuer service."""

from __future__ import annotations

from tests.verifier.conftest import (  # noqa: F401 - fixtures used by the tests here
    agency,
    eu_key,
    make_app,
    trust_list_file,
    us_server,
)
