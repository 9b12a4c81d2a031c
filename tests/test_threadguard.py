"""The thread guard (tests/threadguard.py): a test that leaves a thread running fails in its
teardown; one whose threads end, or are not the project's daemons, passes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
ROOT = str(Path(__file__).resolve().parents[1])

# The runs' threads wait on STOP, set when their session ends: none outlives its run.
CONFTEST = """
import contextlib
import threading

import pytest

STOP = threading.Event()

@pytest.fixture(scope="session", autouse=True)
def _stopped_at_the_end():
    yield
    STOP.set()

@pytest.fixture(scope="session")
def run_until():
    def run(name, stop=STOP, daemon=True):
        thread = threading.Thread(target=stop.wait, name=name, daemon=daemon)
        thread.start()
        return thread
    return run

@pytest.fixture(scope="session")
def running(run_until):
    @contextlib.contextmanager
    def stopped_at_exit(name, daemon=True):
        stop = threading.Event()
        thread = run_until(name, stop, daemon)
        yield
        stop.set()
        thread.join()
    return stopped_at_exit
"""


def _run(
    pytester: pytest.Pytester, *args: str, subprocess: bool = False, **modules: str
) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(**modules)
    run = pytester.runpytest_subprocess if subprocess else pytester.runpytest_inprocess
    return run("-p", "tests.threadguard", *args)


def test_a_test_leaving_a_vcred_thread_fails_in_teardown(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        test_leaks="""
def test_leaks(run_until):
    run_until("vcred-leaked")

def test_after():
    pass
""",
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_leaks*",
            "*threads still running after the test: vcred-leaked (daemon=True)*",
        ]
    )


def test_a_non_daemon_thread_left_fails_whatever_its_name(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        test_leaks="""
def test_leaks(run_until):
    run_until("worker", daemon=False)

def test_after():
    pass
""",
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*threads still running after the test: worker (daemon=False)*"])


def test_tests_whose_threads_end_pass(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        test_clean="""
import threading
import time

import pytest

@pytest.fixture
def server(running):
    with running("vcred-serve"):
        yield

def test_stopped_by_its_fixture(server):
    pass

def test_joined(running):
    with running("vcred-worker", daemon=False):
        pass

def test_ending_within_the_grace():
    threading.Thread(target=time.sleep, args=(0.2,), name="vcred-ending").start()

def test_a_daemon_not_of_the_project_is_left_alone(run_until):
    run_until("someone-elses")
""",
    )
    result.assert_outcomes(passed=4)


def test_a_wider_fixture_owns_its_threads_until_torn_down(pytester: pytest.Pytester) -> None:
    """A module's server, and a thread its app starts lazily in a test (the history
    flusher), run on across the module's tests; the fixture's teardown must end both."""
    result = _run(
        pytester,
        test_a="""
import pytest

@pytest.fixture(scope="module")
def server(running):
    with running("vcred-serve"):
        yield

def test_first(server, run_until):
    run_until("vcred-history-flush")  # started by a request to the module's app

def test_second(server):
    pass
""",
        test_b="""
def test_after():
    pass
""",
    )
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_second*",
            "*threads still running after the test: vcred-history-flush (daemon=True)*",
        ]
    )


def test_a_leak_beside_a_wider_fixture_without_threads_is_seen_at_once(
    pytester: pytest.Pytester,
) -> None:
    result = _run(
        pytester,
        test_leaks="""
import pytest

@pytest.fixture(scope="session")
def key():
    return object()

def test_leaks(key, run_until):
    run_until("vcred-leaked")

def test_after(key):
    pass
""",
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_leaks*"])


@pytest.mark.slow  # starting xdist's workers takes seconds
def test_it_guards_the_tests_of_xdist_workers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # xdist's workers take the sys.path their controller had when it imported xdist: a run
    # of its own, told by PYTHONPATH where the plugin is (an in-process run's workers would
    # have this process's, which lacks the project's folder under the pytest script)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))
    )
    result = _run(
        pytester,
        "-n",
        "2",
        "--dist",
        "loadfile",  # a test after the leak in the same worker: the run's end stops it
        test_leaks="""
def test_leaks(run_until):
    run_until("vcred-leaked")

def test_after():
    pass
""",
        test_other="""
def test_elsewhere():
    pass
""",
        subprocess=True,
    )
    result.assert_outcomes(passed=3, errors=1)
