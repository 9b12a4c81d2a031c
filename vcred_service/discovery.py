"""The agency's service endpoints, listed as services of its did:web document (DID Core §5.4).

A party that knows the agency's DID finds where to call it: the VC API issuer (this service's
public URL, always), and — as configured — its OpenID4VCI credential issuer, its OpenID4VP
verifier, its VC API verifier and its trust list. Each service is ``{id: <did>#<kind>, type,
serviceEndpoint}``; the types are listed in docs/oauth.md (the OpenID ones as other
implementations write them, the others vcred's own, as no registry defines them yet).

https://www.w3.org/TR/did-1.0/#services
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from vcred.errors import UsageError
from vcred.urls import http_url

#: kind (the fragment of the service id) → service type
SERVICE_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "vc-api": "VcApiIssuerService",
        "vc-api-verifier": "VcApiVerifierService",
        "oid4vci": "OID4VCI",
        "oid4vp": "OID4VP",
        "trust-list": "MRATrustList",
    }
)
#: The kind this service fills in itself (its own public URL).
OWN_KIND: Final = "vc-api"


def parse_services(entries: str | tuple[str, ...] | list[str]) -> dict[str, str]:
    """``KIND=URL`` pairs (a list, or one comma-separated string) as a mapping.

    Raises UsageError for an unknown kind, the kind filled in by the service itself, a kind
    given twice or an endpoint that is not an absolute http(s) URL.
    """
    items = entries.split(",") if isinstance(entries, str) else list(entries)
    found: dict[str, str] = {}
    for raw in items:
        entry = raw.strip()
        if not entry:
            continue
        kind, sep, url = (part.strip() for part in entry.partition("="))
        if not sep or kind not in SERVICE_TYPES or kind == OWN_KIND:
            known = ", ".join(k for k in SERVICE_TYPES if k != OWN_KIND)
            raise UsageError(f"a DID service is KIND=URL with KIND one of {known}, not {entry!r}")
        if kind in found:
            raise UsageError(f"the DID service {kind!r} is given twice")
        check_endpoint(url, kind)
        found[kind] = url
    return found


def check_endpoint(url: str, kind: str) -> None:
    """Raises UsageError unless ``url`` is an absolute http(s) URL."""
    if http_url(url) is None:
        raise UsageError(f"the {kind} endpoint must be an http(s) URL, not {url[:200]!r}")


def did_services(
    did: str, *, public_url: str, endpoints: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The ``service`` entries of ``did``'s document, in the order of SERVICE_TYPES."""
    urls = {OWN_KIND: public_url, **endpoints}
    return [
        {"id": f"{did}#{kind}", "type": kind_type, "serviceEndpoint": urls[kind]}
        for kind, kind_type in SERVICE_TYPES.items()
        if kind in urls
    ]
