"""
The start-up check that decides whether the line door writes straight to TCP
sockets: it passes on the Twisted installed, fails on a Twisted that differs
in any of the ways the protocol relies on, and the server says so once.
"""

import pytest
from twisted.internet import tcp

from chatroom import writethrough
from chatroom.settings import Settings
from chatroom.testing import make_factory


def test_theInstalledTwistedPasses():
    assert writethrough.probe() is None
    assert writethrough.PROBLEM is None


class _WriteNotCounted(tcp.Server):
    """A Twisted whose write() buffers without counting in _tempDataLen."""

    def write(self, data):
        self._tempDataBuffer.append(data)
        self.startWriting()


class _NoAbortingFlag(tcp.Server):
    """A Twisted that renamed _aborting."""

    def abortConnection(self):
        self.__dict__["_abort_requested"] = True


class _CloseLeavesTheSocket(tcp.Server):
    """A Twisted whose connectionLost no longer closes the socket itself."""

    def _closeSocket(self, orderly):
        pass


class _NotAConnection:
    """A Twisted whose server transports are no longer tcp.Connection."""

    def __init__(self, *args):
        raise TypeError("takes other arguments now")


@pytest.mark.parametrize(
    "server_class, problem",
    [
        (_WriteNotCounted, "write() is not counted in _tempDataLen"),
        (_NoAbortingFlag, "abortConnection() does not set _aborting"),
        (_CloseLeavesTheSocket, "connectionLost() did not close the socket"),
        (_NotAConnection, "TypeError: takes other arguments now"),
    ],
)
def test_aTwistedThatDiffersIsRefused(server_class, problem):
    assert problem in writethrough.probe(server_class)


@pytest.fixture
def fresh_log(monkeypatch, log_events):
    """The once-per-process log line not yet written."""
    monkeypatch.setattr(writethrough, "_logged", False)
    return log_events


def _said(events):
    return [e["why"] for e in events if "public transport API" in e.get("log_format", "")]


def test_fallbackWhenTwistedDiffersLoggedOnce(monkeypatch, fresh_log):
    monkeypatch.setattr(writethrough, "PROBLEM", "Differs: buffer not empty")
    first, second = make_factory(), make_factory()
    assert not first.write_through and not second.write_through
    assert _said(fresh_log) == ["Twisted differs: Differs: buffer not empty"]


def test_switchedOffBySetting(fresh_log):
    assert not make_factory(Settings(write_through=False)).write_through
    assert _said(fresh_log) == ["switched off by --no-write-through"]


def test_onByDefaultAndNothingLogged(fresh_log):
    assert make_factory().write_through
    assert _said(fresh_log) == []
