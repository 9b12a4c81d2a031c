"""The issuer's persistent state, over SQLAlchemy: SQLite by default, PostgreSQL in production.

``make_engine(url)`` configures an engine for safe use by several processes at once;
``SqlIndexStore`` keeps status-list index allocations and status values (DESIGN §8).
"""

from issuer_app.store.db import make_engine
from issuer_app.store.status import SqlIndexStore, status_tables

__all__ = ["SqlIndexStore", "make_engine", "status_tables"]
