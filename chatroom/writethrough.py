# -*- test-case-name: tests.test_writethrough -*-
"""
Whether the line door may write straight to a TCP socket, decided once.

L{chatroom.protocol.ChatProtocol} sends and closes through Twisted's
internals when it can (C{transport.socket}, C{dataBuffer}, C{_tempDataLen},
C{_aborting}, then C{connectionLost} for the close): that is most of the
server's speed in a busy room (docs/performance.md).  None of it is public
API, so a new Twisted release may change it.  At import this module checks
that a real C{tcp.Server} on a socket pair still has those attributes and
behaves as the protocol assumes; if not, L{PROBLEM} says what differs and the
server uses C{transport.write} and C{loseConnection} for everything, slower
but correct, and says so once in the log.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from twisted.internet import error, tcp
from twisted.internet.protocol import Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure

_log = Logger(namespace="chatroom")


class _ProbeReactor:
    """Just what a C{tcp.Server} asks of its reactor, with no event loop behind it."""

    def __init__(self) -> None:
        self.calls: list[Callable[[], object]] = []

    def addReader(self, reader: object) -> None:
        pass

    removeReader = addWriter = removeWriter = addReader

    def callLater(self, delay: float, f: Callable[..., object], *args: object) -> None:
        self.calls.append(lambda: f(*args))


class _Closed(Protocol):
    def __init__(self) -> None:
        self.reasons: list[Failure] = []

    def connectionLost(self, reason: Failure) -> None:
        self.reasons.append(reason)


def _server(sock: socket.socket, protocol: Protocol, server_class: type) -> tcp.Server:
    transport = server_class(sock, protocol, ("127.0.0.1", 1), None, 0, _ProbeReactor())
    protocol.makeConnection(transport)
    return transport


class Differs(Exception):
    """Twisted does not behave as the write-through path assumes."""


def _expect(condition: object, what: str) -> None:
    # Not assert: python -O would skip the checks and always say yes.
    if not condition:
        raise Differs(what)


def _check(server_class: type) -> None:
    """Raise (L{Differs}, AttributeError...) where Twisted differs from our assumptions."""
    ours, theirs = socket.socketpair()
    spare, spare_peer = socket.socketpair()
    with ours, theirs, spare, spare_peer:
        protocol = _Closed()
        transport = _server(ours, protocol, server_class)
        _expect(isinstance(transport, tcp.Connection), "not a tcp.Connection")
        _expect(transport.socket is ours, "transport.socket is not the socket")
        _expect(transport.connected and not transport.disconnecting, "not connected")
        _expect(transport._aborting is False, "_aborting")
        _expect(not transport.dataBuffer and transport._tempDataLen == 0, "buffer not empty")
        # write() queues: _tempDataLen counts it until the reactor's doWrite.
        transport.write(b"queued")
        _expect(transport._tempDataLen == 6, "write() is not counted in _tempDataLen")
        transport.doWrite()
        _expect(theirs.recv(16) == b"queued", "doWrite() did not send the queue")
        _expect(not transport.dataBuffer and transport._tempDataLen == 0, "sent, not emptied")
        # ChatProtocol._close_now: the close that loseConnection does once written.
        transport.disconnecting = True
        transport.stopReading()
        transport.connectionLost(Failure(error.ConnectionDone()))
        _expect(len(protocol.reasons) == 1, "connectionLost() did not reach the protocol")
        _expect(ours.fileno() == -1, "connectionLost() did not close the socket")
        _expect(theirs.recv(16) == b"", "the peer was not told")
        # abortConnection() sets _aborting at once (send() checks it), closes later.
        aborted = _server(spare, _Closed(), server_class)
        aborted.abortConnection()
        _expect(aborted._aborting is True, "abortConnection() does not set _aborting")


def probe(server_class: type = tcp.Server) -> str | None:
    """L{None} if C{server_class} behaves as the write-through path assumes, else why not."""
    try:
        _check(server_class)
    except Exception as e:  # any difference at all means: don't rely on it
        return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
    return None


PROBLEM = probe()
"""Why writing through is off for this Twisted, or L{None} if it works."""

_logged = False


def wanted(setting: bool) -> bool:
    """
    Whether to write through, given the C{write_through} setting; says once
    in the log when a server is not going to, and why.
    """
    global _logged
    enabled = setting and PROBLEM is None
    if not enabled and not _logged:
        _logged = True
        why = (
            "switched off by --no-write-through"
            if PROBLEM is None
            else f"Twisted differs: {PROBLEM}"
        )
        _log.info("writing through Twisted's public transport API only: {why}", why=why)
    return enabled
