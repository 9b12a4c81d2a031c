"""Reading request bodies safely: content type, size, UTF-8, nesting depth.

The size cap is Flask's ``MAX_CONTENT_LENGTH`` (413, a chunked body's too:
:func:`read_body`); this module adds the rest, each refused with a 4xx problem carrying a
vcred code: a wrong content type (415, ``UNSUPPORTED``), invalid UTF-8, invalid JSON or
duplicate members (400, ``PARSING_ERROR``), JSON nested deeper than ``max_depth`` (400,
``MALFORMED``, with the pointer of the first container past it) or not an object (400,
``MALFORMED``). :func:`request_options` reads a VC API
body's ``options``: one a route does not use is a 400 ``MALFORMED`` naming it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Final

from flask import Request, request
from werkzeug.exceptions import RequestEntityTooLarge

from vcred._json import compact_encoder, loads_strict
from vcred._pointer import child
from vcred.errors import MalformedError, ParsingError
from vcred.model import check_depth
from vcred_service.problems import ProblemError

DEFAULT_MAX_DEPTH = 64


def read_json(
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    expect_object: bool = True,
    check_text: bool = True,
    check_numbers: bool = True,
) -> Any:
    """The request's JSON body, or a ProblemError (415 / 413 / 400) saying what is wrong with it.

    ``check_text=False`` keeps a lone surrogate, ``check_numbers=False`` a number out of
    range (:func:`vcred._json.loads_strict`): the caller refuses the part holding it (a
    batch, the one item)."""
    return _parsed(
        read_json_text(),
        max_depth=max_depth,
        expect_object=expect_object,
        check_text=check_text,
        check_numbers=check_numbers,
    )


def read_json_text() -> str:
    """The request's body as text, not parsed yet: refused as :func:`read_json` refuses one
    before parsing it (415 not JSON, 413 too large, 400 not UTF-8), for a caller that parses
    it in parts (a batch, item by item)."""
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    ):
        raise ProblemError(
            415, "Unsupported Media Type", "send the body as application/json", code="UNSUPPORTED"
        )
    return _text(read_body())


def read_body(of: Request | None = None) -> bytes:
    """The request's body (``of``: that request, not the current one), refused with 413
    past ``request.max_content_length`` bytes whether its length was declared
    (Content-Length) or not (chunked).

    A body without a declared length is read to the end the server tells
    (``wsgi.input_terminated``: gunicorn, Werkzeug), but Werkzeug stops at the cap and hands
    on what it read as the whole body; cut short there, a body too large was answered as
    invalid JSON (400) — or, a form, taken in what was read. One byte more from the server's
    stream tells.
    """
    current = request if of is None else of
    data = current.get_data(cache=True)
    cap = current.max_content_length
    environ = current.environ
    if (
        cap is not None
        and current.content_length is None
        and len(data) >= cap
        and "wsgi.input_terminated" in environ
        and environ["wsgi.input"].read(1)
    ):
        raise RequestEntityTooLarge()
    return data


def parse_json_body(
    raw: bytes,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    expect_object: bool = True,
    check_text: bool = True,
    check_numbers: bool = True,
) -> Any:
    """``raw`` as :func:`read_json` reads a body (its checks past the content type), for a
    caller holding the bytes without Flask's request. Raises ProblemError (400)."""
    return _parsed(
        _text(raw),
        max_depth=max_depth,
        expect_object=expect_object,
        check_text=check_text,
        check_numbers=check_numbers,
    )


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProblemError(
            400, "Bad Request", "the body is not valid UTF-8", code="PARSING_ERROR"
        ) from exc


def _parsed(
    text: str, *, max_depth: int, expect_object: bool, check_text: bool, check_numbers: bool
) -> Any:
    try:
        body = loads_strict(
            text, what="the request body", check_text=check_text, check_numbers=check_numbers
        )
    except ParsingError as exc:
        raise body_problem(exc, max_depth=max_depth) from exc
    try:
        check_depth(body, limit=max_depth)
    except MalformedError as exc:
        raise too_deep(max_depth, pointer=exc.pointer) from exc
    return require_object(body) if expect_object else body


def require_object(body: Any) -> dict[str, Any]:
    """``body``, refused (400) when it is no JSON object."""
    if not isinstance(body, dict):
        raise ProblemError(400, "Bad Request", "the body must be a JSON object", code="MALFORMED")
    return body


def body_problem(error: ParsingError, *, max_depth: int) -> ProblemError:
    """The 400 problem for a body ``error`` says is no JSON :func:`loads_strict` reads: one
    nested past the parser's own recursion is :func:`too_deep`, any other PARSING_ERROR."""
    if "recursion" in error.message:
        return too_deep(max_depth)
    return ProblemError(400, "Bad Request", error.message, code="PARSING_ERROR")


def request_options(
    body: Mapping[str, Any], known: Collection[str], *, members: Collection[str]
) -> dict[str, Any]:
    """A VC API body's ``options`` (absent or null: none), each member one of ``known``; the
    body's own members each one of ``members`` or ``options``.

    An option or a member the route does not use is refused, never silently ignored (VC API
    §3.4: an implementation MUST throw an error for data, options or option values it does
    not understand): the caller asked for something the answer would not do — a misspelt
    ``option`` would issue without the options meant. Raises MalformedError (400) naming it.
    """
    for name in body:
        if name not in members and name != "options":
            refuse_unknown(body, (*members, "options"))
    options = body.get("options")
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise MalformedError("options must be a JSON object", pointer="/options")
    refuse_unknown(options, known, at="/options", what="option")
    return options


def refuse_unknown(
    members: Mapping[str, Any], known: Collection[str], *, at: str = "", what: str = "member"
) -> None:
    """Raise MalformedError (400) naming the first of ``members`` (the object at pointer
    ``at``) that is not one of ``known``: what a route would not use is refused."""
    for name in members:
        if name not in known:
            takes = ", ".join(sorted(known)) if known else f"no {what}s"
            raise MalformedError(
                f"unknown {what} {name!r}: this route takes {takes}", pointer=child(at, name)
            )


def too_deep(max_depth: int, *, pointer: str | None = None) -> ProblemError:
    """The 400 problem for a body nested past ``max_depth``; ``pointer``: the first container
    past it (:func:`vcred.model.check_depth`), when the body could be parsed to tell."""
    # the same code as vcred's own depth limit (vcred.model.check_depth) for a credential
    where = {"pointer": pointer} if pointer else {}
    return ProblemError(
        400,
        "Bad Request",
        f"the body nests deeper than {max_depth} levels",
        code="MALFORMED",
        **where,
    )


def dumps(value: Any) -> str:
    """``value`` as compact JSON, UTF-8 kept: the text of every JSON answer."""
    return _COMPACT(value)


#: ``json.dumps(ensure_ascii=False, separators=(",", ":"))`` made once, with no cycle check:
#: an answer is plain values built for it, and the check costs every container of every
#: verification's answer a dict insert
_COMPACT: Final = compact_encoder(ensure_ascii=False)
