"""Locks that a forked child gets unheld: :func:`renew_locks_in_children`.

A lock that another thread holds at the moment of a fork stays held forever in the child:
the thread that would release it does not exist there. :func:`vcred.verify_many` forks its
workers from processes that run other threads (a service's history flusher, its status
refresher, a status list fetch in progress), so every long-lived vcred object whose locks a
verification may take registers here, and each forked child gives it new, unheld locks before
it runs anything else. The data those locks guard needs nothing: each dictionary operation
is whole at the fork, and what a lock orders (look up, fetch, store) is a cache's, which the
child at worst does again.

CPython does the same for its own: logging reinitialises its module lock and every handler's
in the child (its at-fork hooks, read in 3.11's ``logging/__init__.py``), the interpreter its
import lock, ``threading`` its own state. ``functools.lru_cache`` (the C one: our memoised
DID methods, JWK thumbprints …) takes no lock.
"""

from __future__ import annotations

import os
import weakref
from typing import Protocol


class HasLocks(Protocol):
    def _new_locks(self) -> None:
        """Set every lock of the object to a new, unheld one."""


#: every registered object still alive (weakly held: registration keeps nothing alive)
_OWNERS: weakref.WeakSet[HasLocks] = weakref.WeakSet()


def renew_locks_in_children(owner: HasLocks) -> None:
    """Give ``owner`` its locks now (``owner._new_locks()``) and new ones again in every child
    process forked later."""
    owner._new_locks()
    _OWNERS.add(owner)


def _renew_all() -> None:
    for owner in list(_OWNERS):
        owner._new_locks()


if hasattr(os, "register_at_fork"):  # not on Windows, where nothing forks
    os.register_at_fork(after_in_child=_renew_all)
