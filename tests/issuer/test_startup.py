"""An issuer that does not start, or whose app is not built, leaves nothing open: whatever
the reason (a configuration refused, a token removed from the HSM, a bug), its database
connections and key store are closed before the error goes on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from issuer_app import app as app_module
from issuer_app import create_app
from issuer_app import service as service_module
from issuer_app.oid4vci_store import OFFERS_TABLE, OfferStore
from issuer_app.service import Issuer
from issuer_app.store.records import IssuerStore
from tests.issuer.conftest import BACKENDS, make_config


@pytest.fixture
def closed_stores(monkeypatch: pytest.MonkeyPatch) -> list[IssuerStore]:
    """Every IssuerStore closed while the test runs."""
    closed: list[IssuerStore] = []
    close = IssuerStore.close

    def recorded(store: IssuerStore) -> None:
        closed.append(store)
        close(store)

    monkeypatch.setattr(IssuerStore, "close", recorded)
    return closed


def _fails(*_: Any, **__: Any) -> Any:
    raise RuntimeError("the token was removed")


def test_a_start_that_fails_for_any_reason_closes_its_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, closed_stores: list[IssuerStore]
) -> None:
    config = make_config(tmp_path, "sqlite")
    Issuer.open(config).close()  # set up once
    closed_stores.clear()
    monkeypatch.setattr(service_module, "KeyStore", _fails)
    with pytest.raises(RuntimeError, match="removed"):
        Issuer.open(config)
    with pytest.raises(RuntimeError, match="removed"):
        Issuer.open_existing(config)
    assert len(closed_stores) == 2


def test_an_app_that_is_not_built_closes_its_issuer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, closed_stores: list[IssuerStore]
) -> None:
    monkeypatch.setattr(app_module, "add_security_headers", _fails)
    with pytest.raises(RuntimeError, match="removed"):
        create_app(make_config(tmp_path, "sqlite"))
    assert len(closed_stores) == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_dropping_the_tables_drops_the_offers_table_beside_them(
    tmp_path: Path, backend: str
) -> None:
    # the OpenID4VCI offers table is made beside the issuer's own, with its prefix: left
    # behind by drop_tables, it piled up in the shared test database run after run
    issuer = Issuer.open(make_config(tmp_path, backend))
    try:
        OfferStore(issuer.store.engine, prefix=issuer.config.table_prefix)
        prefix = issuer.config.table_prefix

        def ours() -> list[str]:
            names = inspect(issuer.store.engine).get_table_names()
            return [name for name in names if name.startswith(prefix)]

        assert prefix + OFFERS_TABLE in ours()
        issuer.store.drop_tables()
        assert ours() == []
    finally:
        issuer.close()
