"""A pytest plugin: a test that leaves a thread running fails in its teardown.

A leaked thread outlives its test: a server's thread holding a port, a history flusher writing
into a database a later test reads, a non-daemon thread that keeps the run (or an xdist
worker) from ever ending. After each test, the threads started since it began are checked:
one named ``vcred-…`` (every background thread the project starts) or any non-daemon one
must have ended, given a short grace (:data:`GRACE_SECONDS` in all) to finish what it was
ending.

A fixture wider than a function (a module's server) may own threads: those its setup
started, and those started while a test used it (its app's history flusher starts at the
first verification). They are checked when it is torn down, in that test's teardown.

Registered by tests/conftest.py (``pytest_plugins``); ``-p no:tests.threadguard`` turns
it off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Sequence
from typing import Any

import pytest

PREFIX = "vcred-"
#: how long the threads left by one test get, in all, to end by themselves
GRACE_SECONDS = 1.0

_before = pytest.StashKey[frozenset[threading.Thread]]()


def pytest_configure(config: pytest.Config) -> None:
    # state of its own per run (a run inside a test, pytester's, has its own)
    config.pluginmanager.register(ThreadGuard(), "vcred-threadguard")


#: asyncio's default executor names its workers ``asyncio_N``: they are an event loop's
#: (Playwright's, in the browser tests, which lives as long as the session), ended when that
#: loop closes, not by the test that first used it
LOOP_WORKERS = "asyncio_"


def _watched(thread: threading.Thread) -> bool:
    if thread.name.startswith(PREFIX):
        return True
    return not thread.daemon and not thread.name.startswith(LOOP_WORKERS)


def _started_since(before: frozenset[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t not in before and _watched(t)]


class ThreadGuard:
    def __init__(self) -> None:
        #: the wider-scoped fixtures set up now whose setup started a watched thread
        self.owning: set[pytest.FixtureDef[Any]] = set()
        #: watched threads left while such fixtures were set up: checked once they are not
        self.held: dict[threading.Thread, tuple[pytest.FixtureDef[Any], ...]] = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[Any]) -> Generator[None, Any, Any]:
        if fixturedef.scope == "function":
            return (yield)
        before = frozenset(threading.enumerate())
        try:
            return (yield)
        finally:
            started = _started_since(before)
            if started:
                self.owning.add(fixturedef)
                for thread in started:
                    self.held[thread] = (fixturedef,)

    def pytest_fixture_post_finalizer(self, fixturedef: pytest.FixtureDef[Any]) -> None:
        self.owning.discard(fixturedef)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        item.stash[_before] = frozenset(threading.enumerate())

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None]:
        """After the test's own teardown: fail when a thread it started is still running."""
        yield
        new = _started_since(item.stash.get(_before, frozenset()))
        if not new and not self.held:
            return
        owners = self._owners(item)
        due = []
        for thread in new:
            if thread in self.held:
                continue  # a fixture's, set up by this test
            if owners:
                self.held[thread] = owners
            else:
                due.append(thread)
        for thread, held_by in list(self.held.items()):
            if self.owning.isdisjoint(held_by):  # every owner torn down
                del self.held[thread]
                due.append(thread)
        left = _still_running(due)
        if left:
            names = ", ".join(f"{t.name} (daemon={t.daemon})" for t in left)
            raise RuntimeError(
                f"threads still running after the test: {names}; stop them in the test or its "
                "fixtures (close the service, stop the server, join the thread)"
            )

    def _owners(self, item: pytest.Item) -> tuple[pytest.FixtureDef[Any], ...]:
        """The thread-owning wider fixtures that the test used, still set up."""
        if not self.owning:
            return ()
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            return ()
        # the last definition of a name is the one in force (a closer one overrides)
        return tuple(d[-1] for d in info.name2fixturedefs.values() if d and d[-1] in self.owning)


def _still_running(threads: Sequence[threading.Thread]) -> list[threading.Thread]:
    """``threads`` that have not ended once each was given until a shared deadline."""
    deadline = time.monotonic() + GRACE_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [thread for thread in threads if thread.is_alive()]
