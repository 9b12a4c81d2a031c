"""``options.asOf``: verify as of a past moment (an entry date, audited months later).

The credential's validity, its issuer's key windows and the trust decision are judged at that
moment, and each status list is fetched as the version its issuer kept as in force then
(:attr:`vcred.Verifier.at`). Trust is decided under the trust list that was in force then
(:mod:`verifier_app.trust_history`), re-loaded from its kept text and verified as of that
moment; the decision names it (id and sequence number). When no accepted list was in force
then, no issuer is trusted as of that moment (``TRUST_INPUT_UNESTABLISHED``): the current list
never stands in for a past one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from vcred import values
from vcred.errors import MalformedError, TrustInputError
from vcred.model import parse_datetime
from vcred.status.listcred import format_datetime
from vcred.trust import TrustDecision

OPTION: Final = "asOf"
#: The earliest moment verified as of: the Unix epoch, where JWT dates (RFC 7519 §2) begin. No
#: credential was verifiable before it, and the year 1 minus a grace is no datetime at all.
EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)


def requested_moment(
    options: Mapping[str, Any], *, clock: Callable[[], datetime]
) -> datetime | None:
    """``options.asOf`` as a moment (None: verify now). Raises MalformedError for a value
    that is not an XML Schema dateTimeStamp, one after ``clock()`` (read only for an asOf:
    most requests have none), or one before :data:`EARLIEST`."""
    raw = options.get(OPTION)
    if raw is None:
        return None
    pointer = f"/options/{OPTION}"
    moment = parse_datetime(raw, pointer=pointer, in_utc=True).astimezone(UTC)
    if moment > clock():
        raise MalformedError(
            f"options.{OPTION} is in the future: verify now instead", pointer=pointer
        )
    if moment < EARLIEST:
        raise MalformedError(
            f"options.{OPTION} is before {format_datetime(EARLIEST)}: nothing was verifiable then",
            pointer=pointer,
        )
    return moment


@dataclass(frozen=True, slots=True)
class NoTrustListInForce:
    """The trust policy as of a moment at which no accepted trust list was in force: every
    issuer is untrusted, its input (the list) not established (fail closed)."""

    at: datetime

    def evaluate_credential(
        self,
        credential: Mapping[str, Any],
        *,
        now: datetime,
        signing_keys: Sequence[tuple[str, datetime | None]] | None = None,
    ) -> TrustDecision:
        try:
            issuer = values.identifier(credential.get("issuer"), "/issuer")
        except MalformedError:
            issuer = ""
        return TrustDecision(
            trusted=False,
            issuer=issuer,
            reason=f"no trust list accepted by this verifier was in force at "
            f"{format_datetime(self.at)}: trust as of then is not established",
            code=TrustInputError.code,
        )
