"""relatedResource integrity (VCDM 2.0 §5.3): the digests of the resources a party relies on.

https://www.w3.org/TR/vc-data-model-2.0/#integrity-of-related-resources — "A conforming
verifier implementation that makes use of a resource based on the id of a relatedResource
object [...] MUST compute the digest of the retrieved resource" and produce an error when it
does not match.

What verification makes use of are the JSON-LD contexts: a relatedResource whose ``id`` is a
context the loader knows is always checked, against that context as published
(:meth:`vcred.jsonld.ContextLoader.published_digest`; vcred never fetches a context). Any other
resource is not used, so it is not retrieved — fetching every URL a credential names would tell
its issuer who verifies it, and costs a request each — unless the caller asks for it by handing
in a fetcher: then every https resource is retrieved through it (its SSRF guards and size cap
apply) and must match, and one that cannot be retrieved fails the check with the fetch error
(the caller asked to rely on it: fail closed). A resource neither known nor retrieved is
reported as not checked.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from vcred.errors import DigestMismatchError, MalformedError, UnsupportedError, VcredError
from vcred.jsonld import ContextLoader
from vcred.model import as_list, check_related_resource, claimed_digests
from vcred.net import Fetcher

#: At most this many related resources are retrieved for one credential, each this large.
MAX_FETCHED_RESOURCES: Final = 8
MAX_RESOURCE_BYTES: Final = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class RelatedResources:
    """Which relatedResource ids were checked (their digests matched) and which were not."""

    checked: tuple[str, ...] = ()
    unchecked: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = [f"{len(self.checked)} related resource(s) match their digests"]
        if self.unchecked:
            parts.append(f"{len(self.unchecked)} not retrieved, not checked")
        return "; ".join(parts)


def check_related_resources(
    document: Mapping[str, Any], *, contexts: ContextLoader, fetcher: Fetcher | None = None
) -> RelatedResources:
    """Check the digests of ``document``'s relatedResource entries that can be computed.

    Raises DigestMismatchError (with the pointer of the digest) for a mismatch,
    MalformedError for an entry or digest that cannot be read, and — with a ``fetcher`` —
    the fetch error of a resource that cannot be retrieved.
    """
    value = document.get("relatedResource")
    if value is None:
        return RelatedResources()
    checked: list[str] = []
    unchecked: list[str] = []
    to_fetch: list[tuple[Mapping[str, Any], str]] = []
    for index, entry in enumerate(as_list(value)):
        where = f"/relatedResource/{index}" if isinstance(value, list) else "/relatedResource"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
            raise MalformedError("a related resource needs a URL id", pointer=where)
        url = entry["id"]
        if url in contexts:
            done = _check_context(entry, contexts, pointer=where)
            (checked if done else unchecked).append(url)
        elif fetcher is not None and url.startswith("https://"):
            to_fetch.append((entry, where))
        else:
            claimed_digests(entry, pointer=where)  # readable, even if not checked
            unchecked.append(url)
    if fetcher is not None and to_fetch:
        if len(to_fetch) > MAX_FETCHED_RESOURCES:
            raise UnsupportedError(
                f"more than {MAX_FETCHED_RESOURCES} related resources to retrieve",
                pointer="/relatedResource",
            )
        for entry, where in to_fetch:
            _check_fetched(entry, fetcher, pointer=where)
            checked.append(entry["id"])
    return RelatedResources(checked=tuple(checked), unchecked=tuple(unchecked))


def _check_context(entry: Mapping[str, Any], contexts: ContextLoader, *, pointer: str) -> bool:
    """Compare each digest of a context's entry with the published context; False when none
    could be computed (a context registered as a parsed document)."""
    compared = False
    for name, expected, where in claimed_digests(entry, pointer=pointer):
        actual = contexts.published_digest(entry["id"], name)
        if actual is None:
            continue
        if not hmac.compare_digest(actual, expected):
            raise DigestMismatchError(
                f"the context {entry['id']} is not the one its {name} digest names",
                pointer=where,
            )
        compared = True
    return compared


def _check_fetched(entry: Mapping[str, Any], fetcher: Fetcher, *, pointer: str) -> None:
    media_type = entry.get("mediaType")
    try:
        content = fetcher.fetch(
            entry["id"],
            accept=media_type if isinstance(media_type, str) else "*/*",
            max_bytes=MAX_RESOURCE_BYTES,
        )
    except VcredError as error:
        if error.pointer is None:
            error.pointer = f"{pointer}/id"
        raise
    check_related_resource(entry, content, pointer=pointer)
