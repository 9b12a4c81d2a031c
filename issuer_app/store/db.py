"""Engines configured for several issuer processes sharing one database (vcred_service.db)."""

from __future__ import annotations

from vcred_service.db import SQLITE_BUSY_TIMEOUT_S, make_engine

__all__ = ["SQLITE_BUSY_TIMEOUT_S", "make_engine"]
