"""
Shared fixtures.  pytest-twisted runs one global reactor for the session; the
real-socket tests use it, the unit tests use StringTransport and task.Clock.
"""

from __future__ import annotations

import os

import pytest
import pytest_twisted
from twisted.internet import reactor as _reactor
from twisted.internet import task
from twisted.logger import globalLogPublisher

# chatroom-client follows the locale (LC_ALL first): pin it, so the tests and
# the client processes they start read English on any machine; the tests of
# other languages ask for theirs.
os.environ["LC_ALL"] = "C.UTF-8"


@pytest.fixture
def reactor():
    return _reactor


@pytest.fixture(autouse=True)
def no_timers_left_behind():
    """
    pytest has no dirty-reactor check (pytest-twisted#43): a test that leaves a
    timer running (a timeout never cancelled, say) fails here instead of
    surprising the next test.  Zero-delay calls still queued (a connection's
    last turn) are given a few reactor turns to run first.
    """
    yield
    for _ in range(20):
        pending = [call for call in _reactor.getDelayedCalls() if call.active()]
        if not any(call.getTime() <= _reactor.seconds() for call in pending):
            break
        pytest_twisted.blockon(task.deferLater(_reactor, 0, lambda: None))
    pending = [call for call in _reactor.getDelayedCalls() if call.active()]
    for call in pending:
        call.cancel()
    assert not pending, f"timers left running: {pending!r}"


@pytest.fixture
def log_events():
    """Every log event emitted during the test (the server's log, as twistd would get it)."""
    events: list[dict] = []
    globalLogPublisher.addObserver(events.append)
    yield events
    globalLogPublisher.removeObserver(events.append)
