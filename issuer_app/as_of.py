"""``GET /status/<signer>/<list_id>?timestamp=<dateTimeStamp>``: a status list as it was.

Verifiers checking a credential *as of* a past moment (an entry date, months later) ask for
the version of the list that was in force then (:func:`vcred.status.as_of_url`). The answer
is that signed document, as it was served then (its ``validFrom`` is when it came into
force), with ``Status-List-Valid-Until`` saying when the next version replaced it (absent:
still in force). A moment in the future, before the list's first version, or past the
retention period (``status_history_retention``) is a 404 problem.
"""

from __future__ import annotations

from datetime import UTC
from typing import Final

from flask import Response, current_app

from issuer_app.service import Issuer
from vcred.model import parse_datetime
from vcred_service.problems import ProblemError

#: The header naming when the version served went out of force.
VALID_UNTIL_HEADER: Final = "Status-List-Valid-Until"


def status_list_as_of(signer: str, list_id: str, raw: str) -> Response:
    """The version of a list in force at ``raw`` (an XML Schema dateTimeStamp)."""
    issuer: Issuer = current_app.extensions["vcred_issuer"]
    moment = parse_datetime(raw, pointer="/timestamp", in_utc=True).astimezone(UTC)
    if moment > issuer.now():
        raise ProblemError(
            400, "Bad Request", "timestamp is in the future: no version is known yet"
        )
    found = issuer.status_list_at(signer, list_id, moment)
    if found is None:
        raise ProblemError(
            404,
            "Not Found",
            f"no version of this status list is kept for {raw[:40]}",
            code="STATUS_VERSION_UNAVAILABLE",
        )
    response = Response(found.document, mimetype=found.media_type)
    if found.valid_until is not None:
        response.headers[VALID_UNTIL_HEADER] = found.valid_until
        # a version out of force never changes again
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        ttl = int(issuer.config.status_list_ttl.total_seconds())
        response.headers["Cache-Control"] = f"public, max-age={ttl}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
