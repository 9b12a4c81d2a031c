"""No clock reading and no date a credential carries makes verify() raise.

A clock reading near the calendar's ends (datetime.max) made the validity check's ``now +
clock_skew`` overflow out of verify(): such a reading is a failed ``validity`` check now.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import credential
from tests.test_jose import forge, header_for
from vcred import Verifier
from vcred.did import did_key
from vcred.keys import KeyPair
from vcred.verifier import MAX_CLOCK_SKEW, MAX_KEY_BINDING_AGE

KEY = KeyPair.generate("ed25519")
#: the moments a verifier judges windows at: the calendar less the largest tolerances
MARGIN = MAX_CLOCK_SKEW + MAX_KEY_BINDING_AGE
EARLIEST, LATEST = (
    datetime.min.replace(tzinfo=UTC) + MARGIN,
    datetime.max.replace(tzinfo=UTC) - MARGIN,
)
ENDS = [datetime.min, datetime.max, datetime(1, 1, 2), datetime(9999, 12, 30, 23, 59)]
#: the calendar's ends, with and without a zone, beside ordinary moments
MOMENTS = st.one_of(
    st.sampled_from(ENDS).map(lambda at: at.replace(tzinfo=UTC)),
    st.sampled_from(ENDS),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=14))])),
    st.datetimes(),
)
#: xsd:dateTime texts of years 1 to 9999, with zones the offsets allow
DATES = st.one_of(
    st.sampled_from(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-14:00"]),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda at: at.strftime("%Y-%m-%dT%H:%M:%SZ").rjust(20, "0")
    ),
)
#: NumericDates from the year 1 to past 9999, and the edges of what a datetime holds
NUMERIC = st.one_of(
    st.sampled_from([-62135596800, 253402300799, 253402300800, -62135596801, 0]),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
)


def _token(dates: dict[str, Any], claims: dict[str, Any]) -> str:
    document = credential(issuer=did_key(KEY.public))
    document.pop("validFrom"), document.pop("validUntil")
    document.update(dates)
    document.update(claims)
    return forge(header_for(KEY), document, KEY)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    clock=MOMENTS,
    dates=st.dictionaries(st.sampled_from(["validFrom", "validUntil"]), DATES),
    claims=st.dictionaries(st.sampled_from(["nbf", "exp", "iat"]), NUMERIC),
)
def test_verify_returns_a_result_at_any_clock_and_any_dates(
    clock: datetime, dates: dict[str, Any], claims: dict[str, Any]
) -> None:
    result = Verifier(clock=lambda: clock).verify(_token(dates, claims))
    assert result.check("validity") is not None
    judgeable = clock.tzinfo is not None and EARLIEST <= clock <= LATEST
    if not judgeable:
        assert not result.verified
        assert result.check("validity").passed is False  # type: ignore[union-attr]


def _reading(moment: datetime) -> datetime:
    return moment


def test_a_clock_at_the_calendars_end_fails_the_validity_check() -> None:
    token = _token({}, {})
    for clock in (datetime.max.replace(tzinfo=UTC), datetime.max, datetime(2026, 6, 1)):
        result = Verifier(clock=partial(_reading, clock)).verify(token)
        assert not result.verified
        assert result.codes == ("VALIDITY",)
        assert result.check("proof").passed is True  # type: ignore[union-attr]
        assert "clock" in result.check("validity").detail  # type: ignore[union-attr]
