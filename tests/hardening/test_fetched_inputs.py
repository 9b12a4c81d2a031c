"""Everything fetched from the network, probed as an attacker would: status lists (an older
version served after a newer one, a list that names no URL), and what the fetching paths
already refuse, pinned (docs/security.md: "everything a check reads was signed").

The status lists here are secured by the HMAC test double of tests/status; nothing leaves the
process.
"""

from __future__ import annotations

from datetime import timedelta

from tests.status.support import (
    LIST_URL,
    NOW,
    DictFetcher,
    FakeSecurer,
    credential_with,
    publish,
    revocation_entry,
    status_list_credential,
)
from vcred.errors import RevokedError, StatusVerificationError
from vcred.status import StatusChecker

# --- status lists ----------------------------------------------------------------------------


def test_an_older_version_of_a_status_list_served_after_a_newer_one_is_refused() -> None:
    # Attack: whoever serves the list URL (a CDN's stale copy, a mirror, the web host) answers
    # with an earlier version, signed by the issuer before the credential was revoked. vcred's
    # lists carry no validUntil, so every old version still verifies.
    fetcher, securer = DictFetcher(), FakeSecurer()
    checker = StatusChecker(fetcher=fetcher, verify_list=securer.verify)
    credential = credential_with(revocation_entry())
    publish(fetcher, securer, valid_from=NOW - timedelta(days=2))
    older = fetcher.documents[LIST_URL]
    publish(fetcher, securer, valid_from=NOW - timedelta(hours=1), set_bits={94567: 1})
    assert isinstance(checker.check(credential, now=NOW).entries[0].error, RevokedError)
    fetcher.documents[LIST_URL] = older  # the replay, once the held copy's ttl has run out
    (entry,) = checker.check(credential, now=NOW + timedelta(minutes=11)).entries
    assert isinstance(entry.error, StatusVerificationError)
    assert "older" in entry.error.message
    # a newer version is taken again as soon as it is served
    publish(fetcher, securer, valid_from=NOW, set_bits={94567: 1})
    (entry,) = checker.check(credential, now=NOW + timedelta(minutes=12)).entries
    assert isinstance(entry.error, RevokedError)


def test_a_status_list_that_names_no_url_answers_for_none() -> None:
    # Attack: an issuer's list without an id is replayed at the URL of another of its lists
    # (one where the credential's bit is set): §2.2 requires the list credential's id to be
    # the entry's statusListCredential, so the signature binds the list to its URL.
    fetcher, securer = DictFetcher(), FakeSecurer()
    checker = StatusChecker(fetcher=fetcher, verify_list=securer.verify)
    unbound = status_list_credential(url="https://example.com/credentials/status/99")
    del unbound["id"]
    fetcher.documents[LIST_URL] = securer.secure(unbound)
    (entry,) = checker.check(credential_with(revocation_entry()), now=NOW).entries
    assert isinstance(entry.error, StatusVerificationError)
    assert entry.value is None
