"""RFC 9457 problem details for every error a service answers with.

One handler turns :class:`vcred.errors.VcredError` into problem details (status from the error
class); HTTP errors (404, 405, 413, 415, 429 …) get the same shape; a database that cannot be
reached or cannot take work now is a 503 with ``Retry-After``
(:func:`vcred_service.db.storage_unavailable`); anything unexpected is a 500 whose body says
nothing about the internals (the traceback goes to the log only).
"""

from __future__ import annotations

import logging
from typing import Any, Final

from flask import Flask, Response, jsonify
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from vcred.errors import VcredError
from vcred_service.db import LocalStorageError, storage_unavailable

PROBLEM_JSON = "application/problem+json"
_log = logging.getLogger("vcred_service")
#: What a client is told to wait when the database is unavailable.
STORAGE_RETRY_AFTER_S: Final = 5


class ProblemError(Exception):
    """An HTTP error raised by a view, rendered as problem details."""

    def __init__(
        self, status: int, title: str, detail: str, *, type_: str = "about:blank", **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.type, self.extra = (
            status,
            title,
            detail,
            type_,
            extra,
        )


def problem_response(
    status: int, title: str, detail: str, *, type_: str = "about:blank", **extra: Any
) -> Response:
    body = {"type": type_, "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    return response


def answer_to(app: Flask, error: Exception) -> Response:
    """The problem details ``app``'s handlers answer ``error`` with (in a request context):
    for an answer already begun — a stream whose later part failed — to end it with."""
    return app.make_response(app.handle_user_exception(error))  # every Exception has one


def register_problem_handlers(app: Flask) -> None:
    """Every error path of ``app`` answers with problem details."""

    @app.errorhandler(ProblemError)
    def _problem(error: ProblemError) -> Response:
        response = problem_response(
            error.status, error.title, error.detail, type_=error.type, **error.extra
        )
        if error.status in (429, 503) and "retry_after" in error.extra:
            response.headers["Retry-After"] = str(error.extra["retry_after"])
        return response

    @app.errorhandler(VcredError)
    def _vcred(error: VcredError) -> Response:
        problem = error.as_problem()
        return problem_response(
            error.http_status,
            problem["title"],
            problem["detail"],
            type_=problem["type"],
            code=error.code,
            **({"pointer": error.pointer} if error.pointer else {}),
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        response = problem_response(status, error.name, error.description or error.name)
        if status == 405 and error.get_response().headers.get("Allow"):
            response.headers["Allow"] = error.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        _log.exception("unhandled error", exc_info=error)
        return problem_response(500, "Internal Server Error", "the service failed; see its log")

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeoutError)
    def _storage(error: Exception) -> Response:
        if not storage_unavailable(error):
            return _unexpected(error)
        # one line, not a traceback per request through an outage (the engine hides the
        # statement's parameters: vcred_service.db.make_engine)
        _log.error("the database is unavailable, answered 503: %s", error)
        return _unavailable("the service's database is unavailable; retry later")

    @app.errorhandler(LocalStorageError)
    def _local_storage(error: LocalStorageError) -> Response:
        _log.error("the service's own files cannot be written, answered 503: %s", error)
        return _unavailable("the service cannot record its work now; retry later")


def _unavailable(detail: str) -> Response:
    response = problem_response(503, "Service Unavailable", detail)
    response.headers["Retry-After"] = str(STORAGE_RETRY_AFTER_S)
    return response
