"""Batch verification, our VC API extension: ``POST /credentials/verify-batch``.

A border system checks every party of an entry at once: ``{"verifiableCredentials": [...],
"options": {...}}`` with up to ``max_batch_size`` items. Each item goes through the same
pipeline as ``POST /credentials/verify`` (the service's verifier, so its DID and status-list
caches serve the whole batch, and :func:`vcred.verify_many` spreads it over
``batch_processes``), is recorded in the history like a single verification, and is answered
with the same body plus its ``index``, in order. An item that is not a secured credential
(a number, a string holding JSON, one holding a lone surrogate: not I-JSON, RFC 7493 §2.1;
one nested deeper than the single route takes a credential, or holding a member name twice,
which stops the whole body's parse: the body is then read item by item,
:func:`vcred._json.split_member_array`) fails on its own, answered as the single route
answers it; the others are still verified. A body refused whole (not JSON, faulty outside
its items, too many items or bytes — a chunked one too) costs one request.

``Accept: application/x-ndjson`` streams one JSON line per item as its chunk is verified;
otherwise one JSON document holds every result and a summary. The per-address rate limit
counts items: a batch of N costs N requests (:meth:`RateLimiter.allow`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Final

from flask import Blueprint, Response, current_app, request, stream_with_context

from vcred._json import escapes_a_surrogate, loads_strict, split_member_array
from vcred.batch import MIN_PARALLEL_BATCH, verify_many
from vcred.errors import MalformedError, ParsingError, VcredError
from vcred.model import check_depth, check_numbers, check_text
from vcred.verifier import VerificationResult, Verifier, unreadable
from vcred_service.problems import ProblemError, answer_to
from vcred_service.ratelimit import RateLimiter, client_key, too_many_requests
from vcred_service.requests import (
    body_problem,
    dumps,
    read_json_text,
    request_options,
    require_object,
    too_deep,
)
from verifier_app.api import CREDENTIAL_OPTIONS
from verifier_app.as_of import requested_moment
from verifier_app.config import VerifierConfig
from verifier_app.receipts import receipt_requested
from verifier_app.service import (
    LIMITER,
    Outcome,
    VerifierService,
    requested_checks,
    secured_input,
)

NDJSON: Final = "application/x-ndjson"
MEMBER: Final = "verifiableCredentials"
#: Items verified between two flushes of a streamed answer.
STREAM_CHUNK: Final = 256

batch = Blueprint("batch", __name__)
#: Endpoints that charge the rate limit themselves (by item), not the app's per-POST hook.
PRICED_BY_ITEM: Final = frozenset({"batch.verify_credentials"})


@dataclasses.dataclass(frozen=True, slots=True)
class Refused:
    """An item that is not a secured credential, and why."""

    value: Any
    """The item as sent; None for one no parser read (duplicate member names)."""
    error: VcredError


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BatchRequest:
    """A batch as read from the request: each item, or why it cannot be verified."""

    items: tuple[Any, ...]
    """Each item as sent, or a :class:`Refused` for one that is no secured credential."""
    checks: tuple[str, ...]
    receipt: bool = False
    at: datetime | None = None


def _service() -> VerifierService:
    found: VerifierService = current_app.extensions["vcred_verifier"]
    return found


def read_batch(service: VerifierService) -> BatchRequest:
    """The batch in the request body. Raises a 4xx problem for a body refused whole (413 past
    ``max_batch_body_bytes`` or ``max_batch_size``, 400 not JSON or of the wrong shape)."""
    config = service.config
    # a batch may be larger than one credential's request; still bounded (413 past it)
    request.max_content_length = config.max_batch_body_bytes
    text = read_json_text()
    # a lone surrogate (not I-JSON) or a number out of range in an item refuses that item;
    # anywhere else, the request. Most bodies hold neither, and are not walked for them: only
    # an escape writes a lone surrogate in UTF-8 text, and the strict parse tells of a number.
    escaped = escapes_a_surrogate(text)
    # nested past the depth limit, likewise (an item as deep as the single route takes it):
    # only a text with more brackets than the limit can be, and only such a text is walked
    deep = text.count("{") + text.count("[") > _item_depth(config)
    body, huge, read = _read_body(text, config)
    rest = {k: v for k, v in body.items() if not (k == MEMBER and isinstance(v, list))}
    if deep:
        try:
            check_depth(rest, limit=config.max_json_depth)
        except MalformedError as exc:
            raise too_deep(config.max_json_depth, pointer=exc.pointer) from exc
    if huge:
        check_numbers(rest)
    if escaped:
        check_text(rest)
    if read is None:
        raw = body.get(MEMBER)
        if not isinstance(raw, list):
            raise MalformedError(
                f"the request body needs {MEMBER}, an array of secured credentials",
                pointer=f"/{MEMBER}",
            )
        _refuse_too_many(len(raw), config.max_batch_size, exact=True)
        read = [(value, huge) for value in raw]
    options = request_options(body, CREDENTIAL_OPTIONS, members=(MEMBER,))
    depth = _item_depth(config) if deep else None
    return BatchRequest(
        items=tuple(
            value
            if isinstance(value, Refused)
            else _item(value, index, escaped=escaped, huge=numbers, depth=depth)
            for index, (value, numbers) in enumerate(read)
        ),
        checks=requested_checks(options.get("checks")),
        receipt=_receipt(service, options),
        at=requested_moment(options, clock=config.clock),
    )


def _item_depth(config: VerifierConfig) -> int:
    """How deep an item may nest: as deep as ``POST /credentials/verify`` takes the same
    credential, whose body nests it one level down (``max_json_depth`` counts the body)."""
    return config.max_json_depth - 1


def _read_body(
    text: str, config: VerifierConfig
) -> tuple[dict[str, Any], bool, list[tuple[Any, bool]] | None]:
    """The body parsed (lone surrogates kept), whether it holds a number out of range (kept
    too), and — when a fault of one item stopped the whole text's parse — each item read on
    its own (its value or a :class:`Refused`, and whether it holds such a number); None when
    the body parsed whole, its items in it. Raises the 400 / 413 problem of a body refused
    whole."""
    try:
        body, huge = _loads(text)
    except ParsingError as error:
        split = split_member_array(text, MEMBER, max_items=config.max_batch_size)
        if split is None:  # not JSON, or of no batch's shape: the request's fault
            raise body_problem(error, max_depth=config.max_json_depth) from error
        _refuse_too_many(split.count, config.max_batch_size, exact=False)
        try:
            body, huge = _loads(split.rest)
        except ParsingError as fault:  # outside the items: the request's
            raise body_problem(fault, max_depth=config.max_json_depth) from fault
        items = [_item_text(item, index) for index, item in enumerate(split.items)]
        return body, huge, items
    return require_object(body), huge, None


def _loads(text: str, *, what: str = "the request body") -> tuple[Any, bool]:
    """``text`` parsed strictly but for lone surrogates (kept), and whether it holds a number
    out of range (then kept too). Raises ParsingError."""
    try:
        return loads_strict(text, what=what, check_text=False), False
    except ParsingError:
        raise
    except MalformedError:  # a number no double holds (the only fault loads_strict says so)
        return loads_strict(text, what=what, check_text=False, check_numbers=False), True


def _item_text(text: str, index: int) -> tuple[Any, bool]:
    """An item's JSON text parsed as the whole body would have parsed it (and whether it
    holds a number out of range), or a :class:`Refused` for what made that parse fail:
    duplicate member names (PARSING_ERROR, as ``POST /credentials/verify`` answers for
    them)."""
    try:
        return _loads(text, what="the credential")
    except ParsingError as error:
        return Refused(None, ParsingError(error.message, pointer=f"/{MEMBER}/{index}")), False


def _refuse_too_many(count: int, most: int, *, exact: bool) -> None:
    """The 413 problem of a batch of ``count`` items, more than ``most`` (``exact``: counted
    to the end, else only to ``most + 1``)."""
    if count <= most:
        return
    raise ProblemError(
        413,
        "Content Too Large",
        f"a batch holds at most {most} credentials, not {count if exact else 'more'}",
        code="BATCH_TOO_LARGE",
        maxItems=most,
    )


def _receipt(service: VerifierService, options: dict[str, Any]) -> bool:
    """``options.receipt``, refused before anything is verified when there are none."""
    wanted = receipt_requested(options)
    if wanted:
        service.require_receipts()
    return wanted


def _item(value: Any, index: int, *, escaped: bool, huge: bool, depth: int | None) -> Any:
    """The item as sent, or a :class:`Refused` (``escaped``: the body escapes a surrogate,
    so its text is checked; ``huge``: it holds a number out of range, so its numbers are;
    ``depth``: the body may nest past it, so the item's depth is)."""
    pointer = f"/{MEMBER}/{index}"
    try:
        if depth is not None:
            check_depth(value, limit=depth, pointer=pointer)
        if huge:
            check_numbers(value, pointer=pointer)
        if escaped:
            check_text(value, pointer=pointer)
        return secured_input(value, pointer)
    except VcredError as error:
        return Refused(value, error)


def _limiter() -> RateLimiter | None:
    found: RateLimiter | None = current_app.extensions.get(LIMITER)
    return found


def _read_priced(service: VerifierService) -> BatchRequest:
    """The batch, its items charged to the caller's rate in one decision: N items cost N
    requests (a batch the rate refuses, or a body that cannot be read, costs one, as any
    request: its body was read). Raises the 429 problem, or what :func:`read_batch` raises."""
    limiter = _limiter()
    if limiter is None:
        return read_batch(service)
    key = client_key(request.environ)
    wait = limiter.peek(key)
    if wait > 0:  # refused before the body is read, like every other POST
        raise too_many_requests(wait)
    try:
        batch_request = read_batch(service)
    except Exception:
        limiter.allow(key)
        raise
    wait = limiter.allow(key, cost=max(1, len(batch_request.items)))
    if wait > 0:
        # refused for free, a batch a little too large for the bucket was a body parsed
        # again and again at no cost: it is one request, as any other
        limiter.allow(key)
        raise too_many_requests(wait + 1 / limiter.rate)
    return batch_request


def verify_batch(
    service: VerifierService,
    batch_request: BatchRequest,
    *,
    start: int = 0,
    stop: int | None = None,
) -> list[Outcome]:
    """Verify items ``start:stop`` of the batch, in order; never raises for a bad item (with
    receipts, raises the 503 problem when one cannot be signed: none of them is recorded)."""
    items = batch_request.items[start:stop]
    verifier: Verifier = service.verifier_at(batch_request.at)
    if tuple(batch_request.checks) != tuple(verifier.checks):
        verifier = dataclasses.replace(verifier, checks=batch_request.checks)
    wanted = [item for item in items if not isinstance(item, Refused)]
    processes = service.config.batch_processes
    first: list[VerificationResult] = []
    if processes > 1 and len(wanted) > MIN_PARALLEL_BATCH:
        # verified here first: its issuer's DID document and status lists are then in the
        # caches every forked worker inherits (a batch rarely has many issuers)
        first, wanted = [verifier.verify(wanted[0])], wanted[1:]
    verified = iter([*first, *verify_many(wanted, verifier=verifier, processes=processes)])
    results: list[VerificationResult] = [
        unreadable(item.error) if isinstance(item, Refused) else next(verified) for item in items
    ]
    # recorded together: with receipts, one transaction with their signing (all or none)
    return service.answer_credentials(
        [
            (result, item.value if isinstance(item, Refused) else item)
            for item, result in zip(items, results, strict=True)
        ],
        receipt=batch_request.receipt,
        at=batch_request.at,
        trust=verifier.trust,
        checks=batch_request.checks,
    )


def _line(index: int, outcome: Outcome) -> str:
    return dumps({"index": index, **outcome.body})


def _chunk(service: VerifierService, batch_request: BatchRequest, start: int) -> str:
    outcomes = verify_batch(service, batch_request, start=start, stop=start + STREAM_CHUNK)
    return "".join(_line(start + i, outcome) + "\n" for i, outcome in enumerate(outcomes))


def _stream(service: VerifierService, batch_request: BatchRequest, first: str) -> Iterator[str]:
    """The streamed lines: the ``first`` chunk's, verified before the answer began (so that a
    refusal of it — a receipt that cannot be signed, the history that cannot be written — is
    a status, not a 200 cut short), then each further chunk's as it is verified. A refusal
    then ends the stream with a line saying so — ``{"problem": {…}, "unanswered": [i, n]}``,
    the problem details the single route would answer and the items neither answered nor
    recorded — not a stream cut short, which a client cannot tell from a network fault."""
    yield first
    total = len(batch_request.items)
    for start in range(STREAM_CHUNK, total, STREAM_CHUNK):
        try:
            chunk = _chunk(service, batch_request, start)
        except Exception as error:  # whatever it is, answered as its problem details
            problem = json.loads(answer_to(current_app, error).get_data())
            yield json.dumps({"problem": problem, "unanswered": [start, total]}) + "\n"
            return
        yield chunk


def _document(outcomes: Sequence[Outcome]) -> str:
    verified = sum(outcome.verified for outcome in outcomes)
    parts = ",".join(_line(index, outcome) for index, outcome in enumerate(outcomes))
    summary = {
        "total": len(outcomes),
        "verified": verified,
        "notVerified": len(outcomes) - verified,
    }
    return f'{{"summary":{json.dumps(summary)},"results":[{parts}]}}'


@batch.post("/credentials/verify-batch")
def verify_credentials() -> Response:
    service = _service()
    batch_request = _read_priced(service)
    if request.accept_mimetypes.best_match(["application/json", NDJSON]) == NDJSON:
        first = _chunk(service, batch_request, 0)
        lines = stream_with_context(_stream(service, batch_request, first))
        return Response(lines, mimetype=NDJSON)
    outcomes = verify_batch(service, batch_request)
    return Response(_document(outcomes), status=200, mimetype="application/json")
