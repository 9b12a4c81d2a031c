"""The customs vocabulary's JSON-LD context and JSON Schemas, shipped as package data.

The files live in the repository's top-level ``schemas/`` directory and are installed as
the package ``vcred.schemas`` (see ``[tool.setuptools.package-dir]`` in pyproject.toml).
Read them with :func:`importlib.resources.files`::

    files("vcred.schemas").joinpath("customs-v1.jsonld")

- ``customs-v1.jsonld``: the JSON-LD context https://vcred.dev/ns/customs/v1
- ``aeo-certificate-v1.json``: https://vcred.dev/schemas/aeo-certificate/v1.json
- ``export-billing-attestation-v1.json``:
  https://vcred.dev/schemas/export-billing-attestation/v1.json
- ``mra-trust-list-v1.json``: https://vcred.dev/schemas/mra-trust-list/v1.json
- ``defs-v1.json``: https://vcred.dev/schemas/defs/v1.json (shared definitions, code lists)

Terms of the vocabulary are IRIs under ``https://vcred.dev/ns/customs#``; terms whose meaning
is the same as in schema.org, UN/CEFACT or the W3C-CCG Traceability Vocabulary use those IRIs.
"""

CONTEXT_URL = "https://vcred.dev/ns/customs/v1"
VOCAB_IRI = "https://vcred.dev/ns/customs#"
CONTEXT_FILE = "customs-v1.jsonld"
