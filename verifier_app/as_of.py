"""``options.asOf``: verify as of a past moment (an entry date, audited months later).

The credential's validity, its issuer's key windows and the trust decision are judged at that
moment, and each status list is fetched as the version its issuer kept as in force then
(:attr:`vcred.Verifier.at`). This verifier keeps no history of trust lists: the trust
decision uses the list loaded now, and the answer says so (warning ``TRUST_LIST_CURRENT``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from vcred.errors import MalformedError
from vcred.status.listcred import parse_datetime
from vcred.verifier import Problem, VerificationResult

OPTION: Final = "asOf"
TRUST_LIST_CURRENT: Final = Problem(
    code="TRUST_LIST_CURRENT",
    message="verified as of a past moment, but trust was decided with the trust list in "
    "force now: this verifier keeps no history of trust lists",
    path="/options/asOf",
)


def requested_moment(options: Mapping[str, Any], *, now: datetime) -> datetime | None:
    """``options.asOf`` as a moment (None: verify now). Raises MalformedError for a value
    that is not an XML Schema dateTimeStamp, or one after ``now``."""
    raw = options.get(OPTION)
    if raw is None:
        return None
    moment = parse_datetime(raw, pointer=f"/options/{OPTION}").astimezone(UTC)
    if moment > now:
        raise MalformedError(
            f"options.{OPTION} is in the future: verify now instead", pointer=f"/options/{OPTION}"
        )
    return moment


def as_of_warnings(result: VerificationResult) -> list[Problem]:
    """The warnings of a verification as of a past moment."""
    return [TRUST_LIST_CURRENT] if result.trust is not None else []
