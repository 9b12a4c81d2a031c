"""Status entries of any JSON, checked end to end by ``Verifier.verify`` (§13.34).

A credential signed by its issuer may still carry any JSON in each member of its
``credentialStatus`` entries: verify() never raises for it, and it verifies only when every
entry reads a bit of the issuer's own list that is unset for a purpose the list serves.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import credential
from vcred import Verifier, did_key, issue, jose
from vcred.errors import MalformedError
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.status import MutableBitstring, build_status_list_credential
from vcred.status.entry import parse_entry
from vcred.testing import StaticFetcher

NOW = datetime(2026, 6, 1, tzinfo=UTC)
KEY = KeyPair.generate()
ISSUER = did_key(KEY.public)
#: Index 7 is set on the revoking list, unset on the clean one; both serve two purposes.
REVOKING = "https://issuer.example/status/1"
CLEAN = "https://issuer.example/status/2"
SET_INDEX = 7


def _fetcher() -> StaticFetcher:
    fetcher = StaticFetcher()
    for url, value in ((REVOKING, 1), (CLEAN, 0)):
        bits = MutableBitstring(131_072)
        bits.set(SET_INDEX, value)
        document = build_status_list_credential(
            list_url=url,
            issuer=ISSUER,
            purpose=["revocation", "suspension"],
            bitstring=bits,
            valid_from=NOW - timedelta(days=1),
        )
        fetcher.publish(url, str(issue(document, KEY)))
    return fetcher


VERIFIER = Verifier(fetcher=_fetcher(), clock=lambda: NOW)
SIGNER = signer_for(KEY)


def _signed(status: object) -> str:
    """A vc+jwt its issuer signed, unchecked: issue() would refuse a malformed entry."""
    document = credential(issuer=ISSUER, credentialStatus=status)
    return jose.sign_compact(document, SIGNER, typ="vc+jwt")


BASE: dict[str, Any] = {
    "id": f"{REVOKING}#{SET_INDEX}",
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": str(SET_INDEX),
    "statusListCredential": REVOKING,
}
MEMBERS = [
    *BASE,
    "statusSize",
    "statusMessage",
    "statusReference",
    "revocationListIndex",
    "revocationListCredential",
]
#: Near misses of the members' values beside arbitrary JSON.
NEAR = st.sampled_from(
    [
        "7", "8", "007", "+7", " 7", "7 ", "7.0", "٧", "-1", "0x7", "9" * 40,
        REVOKING, CLEAN, REVOKING.upper(), f"{REVOKING}#x", f"{REVOKING}?", f"{CLEAN}#7",
        "BitstringStatusListEntry", "StatusList2021Entry", "RevocationList2020Status",
        "revocation", "suspension", "message", "refresh", "Revocation",
        "0x0", "0x1", "0x2", "0x3",
    ]
)  # fmt: skip
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | NEAR,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["status", "message", "type", "id"]), inner, max_size=3)
    ),
    max_leaves=8,
)
#: A member set to a value, or (None) removed.
CHANGES = st.lists(st.tuples(st.sampled_from(MEMBERS), JSON | st.just(None)), max_size=4)


def _unset_bit_of_a_served_purpose(raw: object) -> bool:
    try:
        entry = parse_entry(raw)
    except MalformedError:
        return False
    served = entry.purpose in ("revocation", "suspension") and entry.status_size == 1
    unset = entry.list_url == CLEAN or (entry.list_url == REVOKING and entry.index != SET_INDEX)
    return served and unset


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=CHANGES, clean_first=st.booleans(), as_array=st.booleans())
def test_no_status_entry_makes_verify_raise_or_pass_a_set_bit(
    changes: list[tuple[str, Any]], clean_first: bool, as_array: bool
) -> None:
    entry = dict(BASE)
    for member, value in changes:
        if value is None:
            entry.pop(member, None)
        else:
            entry[member] = value
    # beside it, an entry of the same purpose on another list, reading an unset bit
    clean = {**BASE, "id": f"{CLEAN}#{SET_INDEX}", "statusListCredential": CLEAN}
    entries = [clean, entry] if clean_first else [entry, clean]
    status: object = entries if as_array else entry
    result = VERIFIER.verify(_signed(status))
    assert result.verified == _unset_bit_of_a_served_purpose(entry)


def _signed(status: object) -> str:
    """A vc+jwt its issuer signed, unchecked: issue() would refuse a malformed entry."""
    return jose.sign_compact(
        credential(issuer=ISSUER, credentialStatus=status), SIGNER, typ="vc+jwt"
    )


class _Lenient(StaticFetcher):
    """A host that serves one document under every spelling of its URL (a fragment, the
    host's case, the default port, a percent-encoded letter, an empty query)."""

    def fetch(self, url: str, *, accept: str, max_bytes: int = 1 << 22) -> bytes:
        plain = url.split("#")[0].rstrip("?").replace(":443", "").replace("%32", "2")
        return super().fetch(plain.replace("ISSUER", "issuer"), accept=accept, max_bytes=max_bytes)


@pytest.mark.parametrize(
    "spelling",
    [f"{CLEAN}#x", f"{CLEAN}?", CLEAN.replace("issuer", "ISSUER"),
     CLEAN.replace(".example", ".example:443"), CLEAN.replace("/2", "/%32")],
)  # fmt: skip
def test_a_list_answers_only_under_the_url_it_names(spelling: str) -> None:
    # the cache is keyed by the entry's URL as written: another spelling is another key,
    # and the list served there names its own id, which is not that spelling (§2.2)
    fetcher = _Lenient(documents=_fetcher().documents)
    verifier = Verifier(fetcher=fetcher, clock=lambda: NOW)
    clean = {**BASE, "statusListCredential": CLEAN}
    assert verifier.verify(_signed(clean)).verified
    result = verifier.verify(_signed({**clean, "statusListCredential": spelling}))
    assert result.codes == ("STATUS_VERIFICATION",)
    assert "not the URL it was fetched from" in result.errors[0].message
