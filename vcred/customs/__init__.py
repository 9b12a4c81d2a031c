"""The customs domain: AEO programmes and MRAs, credential builders, sample data.

https://www.wcoomd.org/en/topics/facilitation/instrument-and-tools/tools/safe_package.aspx

The domain plugs into the generic core through its public registration points, once, when
this package is imported (``vcred`` imports it): its JSON-LD context and JSON Schemas, the
claims an export billing attestation keeps selectively disclosable (SD-JWT) or mandatory
(ecdsa-sd-2023), and the credential types never accepted as bearer credentials. Its trust
rules are :class:`vcred.trust.TrustList`, a :class:`vcred.verifier.TrustPolicy`.
"""

from __future__ import annotations

from vcred.integrity.formats import register_default_mandatory
from vcred.jsonld import register_bundled_context
from vcred.schema import register_schema_package
from vcred.sdjwt import register_default_disclosable
from vcred.verifier import register_never_bearer_type

from . import _registry  # noqa: F401 - installs the reader of the bundled registry files
from .builders import (
    AEO_CERTIFICATE_TYPE,
    CUSTOMS_CONTEXT,
    DISCLOSABLE_BILLING_PATHS,
    EXPORT_BILLING_TYPE,
    MRA_TRUST_LIST_TYPE,
    mandatory_billing_pointers,
)

#: The package the customs vocabulary and schemas ship in (the top-level schemas/ folder).
PACKAGE = "vcred.schemas"


def _register() -> None:
    register_bundled_context(CUSTOMS_CONTEXT, PACKAGE, "customs-v1.jsonld")
    register_schema_package(PACKAGE)
    # DESIGN §7: an export billing attestation's amounts and prices are the commercially
    # sensitive part; everything else stays visible
    register_default_disclosable(EXPORT_BILLING_TYPE, DISCLOSABLE_BILLING_PATHS)
    register_default_mandatory(EXPORT_BILLING_TYPE, mandatory_billing_pointers)
    # customs officers act on these: only the party they are bound to may present them
    for credential_type in (AEO_CERTIFICATE_TYPE, EXPORT_BILLING_TYPE, MRA_TRUST_LIST_TYPE):
        register_never_bearer_type(credential_type)


_register()
