"""JSON Pointer (RFC 6901) tokens: the one place that escapes and unescapes them.

https://www.rfc-editor.org/rfc/rfc6901#section-3 — ``~`` is written ``~0`` and ``/`` is written
``~1``; unescaping replaces ``~1`` first, so ``~01`` stays the name ``~1``.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["child", "escape", "from_path", "unescape"]


def escape(token: str | int) -> str:
    """One reference token as written in a pointer."""
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """The member name an escaped reference token stands for (§4)."""
    return token.replace("~1", "/").replace("~0", "~")


def child(parent: str, token: str | int) -> str:
    """``parent`` extended by one step."""
    return f"{parent}/{escape(token)}"


def from_path(path: Iterable[str | int]) -> str:
    """The pointer of a path of member names and array indexes (``()`` is ``""``, the whole)."""
    return "".join("/" + escape(token) for token in path)
