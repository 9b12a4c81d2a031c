"""Fuzz targets: each feeds arbitrary bytes to one parser and fails on anything but a
VcredError (or a verification result). Crashes found become regression tests in
tests/test_fuzz_regressions.py.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from vcred import Verifier, cose, jose, sdjwt
from vcred.did import Resolver, did_web_url
from vcred.errors import VcredError
from vcred.integrity import ecdsa_sd
from vcred.jsonld import canonicalize_document
from vcred.keys import PublicKey
from vcred.multibase import b64url_encode, multibase_decode
from vcred.status import decode_bitstring
from vcred.urls import parse_data_url, parse_url

_VERIFIER = Verifier()
_RESOLVER = Resolver()


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def jwt(data: bytes) -> None:
    jose.verify_vc_jwt(_text(data), lookup=lambda m, r: _RESOLVER.resolve_method(m, relationship=r))


def cose_sign1(data: bytes) -> None:
    """vc+cose: the strict CBOR decoding of a COSE_Sign1 and its header rules."""
    cose.verify_vc_cose(
        cose.TAGGED_SIGN1_PREFIX + data,
        lookup=lambda m, r: _RESOLVER.resolve_method(m, relationship=r),
    )


def sd_jwt(data: bytes) -> None:
    sdjwt.parse(_text(data))


def multibase(data: bytes) -> None:
    text = _text(data)
    multibase_decode(text)
    PublicKey.from_multikey(text)


def did(data: bytes) -> None:
    text = _text(data)
    _RESOLVER.resolve("did:key:" + text)
    _RESOLVER.resolve("did:jwk:" + text)
    did_web_url("did:web:" + text)


def status_list(data: bytes) -> None:
    decode_bitstring(_text(data))


def json_ld(data: bytes) -> None:
    document = _json(data)
    if isinstance(document, dict):
        canonicalize_document(document)


def sd_proof_value(data: bytes) -> None:
    """ecdsa-sd-2023 proof values: base64url multibase of a header and CBOR."""
    value = "u" + b64url_encode(data)
    with contextlib.suppress(VcredError):
        ecdsa_sd.parse_base_proof_value(value)
    ecdsa_sd.parse_derived_proof_value(value)


def sd_jwt_presentation(data: bytes) -> None:
    """An SD-JWT+KB as a presentation: reports, never raises."""
    _VERIFIER.verify_presentation(_text(data), challenge="n-0S6_WzA2Mj", domain="verifier.example")


_SERVICE_APP: Any = None


def service_request(data: bytes) -> None:
    """The services' request parsing (vcred_service.requests.read_json) on a raw body: a value
    or a ProblemError (a 4xx), nothing else."""
    global _SERVICE_APP  # built once per fuzzing process
    from flask import Flask

    from vcred_service.problems import ProblemError
    from vcred_service.requests import read_json

    if _SERVICE_APP is None:
        _SERVICE_APP = Flask("fuzz")
    content_type = "application/json" if data[:1] != b"\x00" else "text/plain"
    with _SERVICE_APP.test_request_context(
        "/credentials/verify", method="POST", data=data, content_type=content_type
    ):
        try:
            read_json(max_depth=64)
        except ProblemError as error:
            if not 400 <= error.status < 500:
                raise


def url(data: bytes) -> None:
    """The one URL reader: a MalformedError, or a typed Url whose host, written back with its
    port, path and query, reads as the same host, port and request target."""
    text = _text(data)
    with contextlib.suppress(VcredError):
        parse_data_url(text)
    parsed = parse_url(text)
    if parsed.host is None or parsed.scheme == "file":
        return
    again = parse_url(f"{parsed.scheme}://{parsed.authority}{parsed.request_target}")
    if (again.host, again.port, again.request_target) != (
        parsed.host,
        parsed.port,
        parsed.request_target,
    ) or not parsed.host.isascii():
        raise AssertionError(f"parse_url does not read back what it read from {text!r}")


def verify(data: bytes) -> None:
    """The whole pipeline: whatever the input, it reports; it never raises."""
    document = _json(data)
    _VERIFIER.verify(document if isinstance(document, dict) else _text(data))


TARGETS: dict[str, Callable[[bytes], None]] = {
    "jwt": jwt,
    "sd-jwt": sd_jwt,
    "cose": cose_sign1,
    "multibase": multibase,
    "did": did,
    "status-list": status_list,
    "json-ld": json_ld,
    "sd-proof-value": sd_proof_value,
    "sd-jwt-presentation": sd_jwt_presentation,
    "service-request": service_request,
    "url": url,
}


def guarded(target: Callable[[bytes], None]) -> Callable[[bytes], None]:
    """Accept VcredError (a clean rejection); let anything else crash the fuzzer."""

    def run(data: bytes) -> None:
        with contextlib.suppress(VcredError):
            target(data)

    return run


TARGETS["verify"] = verify  # reports, never raises: not guarded
