"""Bitstring Status List v1.0: revocation and suspension of credentials.

https://www.w3.org/TR/vc-bitstring-status-list/

The lower layer behind ``vcred.verify``'s ``status`` check and the issuer's status lists:

- the bitstring (``codec``): ``encode_bitstring`` / ``decode_bitstring``, ``Bitstring``
  (immutable lookups), ``MutableBitstring`` (an issuer writing one);
- the data model: ``BitstringStatusListEntry`` (``entry``), building and reading a
  ``BitstringStatusListCredential`` (``listcred``); the legacy ``StatusList2021Entry`` and
  ``RevocationList2020Status`` and their lists are read (``parse_entry``), never issued;
- the verifier side: ``StatusChecker`` / ``check_status`` → ``StatusReport`` of
  ``EntryStatus`` (``check``), over a ``StatusListCache`` (``cache``);
- the issuer side: the ``IndexStore`` protocol and random index allocation (``index``).

Nothing here touches the network or a database: lists arrive through a ``Fetcher`` and are
verified by a ``verify_list`` callable, both handed in.
"""

from vcred.status.cache import CachedList, StatusListCache
from vcred.status.check import (
    DEFAULT_MAX_FETCH_BYTES,
    DEFAULT_STATUS_MAX_AGE,
    STATUS_LIST_ACCEPT,
    EntryStatus,
    StatusChecker,
    StatusReport,
    VerifiedList,
    VerifyList,
    as_of_url,
    check_status,
    parse_fetched,
    status_message,
)
from vcred.status.codec import (
    DEFAULT_MAX_BITSTRING_BYTES,
    MAX_GZIP_MEMBERS,
    MAX_STATUS_SIZE,
    MIN_ENTRIES,
    Bitstring,
    MutableBitstring,
    decode_bitstring,
    encode_bitstring,
)
from vcred.status.entry import (
    ENTRY_TYPE,
    ENTRY_TYPES,
    IRREVERSIBLE_PURPOSES,
    PURPOSES,
    BitstringStatusListEntry,
    StatusMessage,
    parse_entry,
    status_entries,
)
from vcred.status.index import (
    RANDOM_ATTEMPTS,
    Allocation,
    CredentialStatus,
    IndexStore,
    StatusListInfo,
    pick_free_index,
    set_credential_status,
    set_status_value,
    status_list_credential_for,
)
from vcred.status.listcred import (
    LIST_CREDENTIAL_TYPE,
    LIST_SUBJECT_TYPE,
    MAX_TTL_MS,
    StatusList,
    build_status_list_credential,
    parse_status_list_credential,
)
from vcred.status.versions import ListVersion, ListVersions, MemoryListVersions

__all__ = [
    "DEFAULT_MAX_BITSTRING_BYTES",
    "DEFAULT_MAX_FETCH_BYTES",
    "DEFAULT_STATUS_MAX_AGE",
    "ENTRY_TYPE",
    "ENTRY_TYPES",
    "IRREVERSIBLE_PURPOSES",
    "LIST_CREDENTIAL_TYPE",
    "LIST_SUBJECT_TYPE",
    "MAX_GZIP_MEMBERS",
    "MAX_STATUS_SIZE",
    "MAX_TTL_MS",
    "MIN_ENTRIES",
    "PURPOSES",
    "RANDOM_ATTEMPTS",
    "STATUS_LIST_ACCEPT",
    "Allocation",
    "Bitstring",
    "BitstringStatusListEntry",
    "CachedList",
    "CredentialStatus",
    "EntryStatus",
    "IndexStore",
    "ListVersion",
    "ListVersions",
    "MemoryListVersions",
    "MutableBitstring",
    "StatusChecker",
    "StatusList",
    "StatusListCache",
    "StatusListInfo",
    "StatusMessage",
    "StatusReport",
    "VerifiedList",
    "VerifyList",
    "as_of_url",
    "build_status_list_credential",
    "check_status",
    "decode_bitstring",
    "encode_bitstring",
    "parse_entry",
    "parse_fetched",
    "parse_status_list_credential",
    "pick_free_index",
    "set_credential_status",
    "set_status_value",
    "status_entries",
    "status_list_credential_for",
    "status_message",
]
