"""A stored credential stays in its row on PostgreSQL (``IN_ROW``): no compression tried in
vain, no TOAST chunks written per issuance; an upgraded database gets the same setting."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, func, select, text

from issuer_app import issuer_of
from issuer_app.store.records import IN_ROW, SCHEMA_VERSION, IssuerStore
from tests.issuer.conftest import PG_URL, ApiClient, auth, credential, table_prefix

pytestmark = pytest.mark.postgres


def _options(conn: Connection, table: str) -> list[str]:
    found = conn.execute(text("select reloptions from pg_class where relname = :t"), {"t": table})
    return list(found.scalar_one() or [])


def _toasted_bytes(conn: Connection, table: str) -> int:
    size = conn.execute(
        text("select pg_relation_size(reltoastrelid) from pg_class where relname = :t"),
        {"t": table},
    )
    return int(size.scalar_one())


def test_an_issued_credential_is_kept_in_its_row(make_app: Callable[..., Flask]) -> None:
    app = make_app("postgres")
    api = ApiClient(app)
    # an AEO certificate's size (about 2.4 KB as vc+jwt), of text that does not compress
    subject = {"id": "did:example:trader", "description": secrets.token_urlsafe(900)}
    for _ in range(3):
        issued: Any = api.issue(credential(credentialSubject=subject), auth(app))
        assert issued.status_code == 201
    store = issuer_of(app).store
    with store.engine.connect() as conn:
        secured = store.t.credentials.c.secured
        stored = conn.execute(
            select(func.octet_length(secured), func.pg_column_compression(secured))
        ).all()
        assert len(stored) == 3
        for size, compression in stored:
            assert size > 2048  # large enough that PostgreSQL would compress it, move it out
            assert compression is None
        assert _toasted_bytes(conn, store.t.credentials.name) == 0
        for table in (store.t.credentials.name, store.t.idempotency.name):
            assert "toast_tuple_target=8160" in _options(conn, table)


def test_a_database_of_schema_5_gets_the_setting() -> None:
    prefix = table_prefix()
    store = IssuerStore(PG_URL, prefix=prefix)
    try:
        store.bootstrap(lambda conn: None)
        names = (store.t.credentials.name, store.t.idempotency.name)
        with store.engine.begin() as conn:
            store.set_meta(conn, "schema", "5")
            for name in names:
                conn.execute(text(f'ALTER TABLE "{name}" RESET (toast_tuple_target)'))
                assert _options(conn, name) == []
        store.close()
        store = IssuerStore(PG_URL, prefix=prefix)
        assert not store.initialised()
        store.bootstrap(lambda conn: None)
        assert store.schema_version() == SCHEMA_VERSION == "6"
        with store.engine.connect() as conn:
            for name in names:
                assert _options(conn, name) == [f"{k}={v}" for k, v in IN_ROW.items()]
    finally:
        with store.engine.begin() as conn:
            for table in reversed(store.metadata.sorted_tables):
                conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}" CASCADE'))
        store.close()
