"""
The load client: one simulated user's connection.  It only frames what the
server sends and hands it on; counting and timing belong to the run, which
sees every client at once.
"""

from __future__ import annotations

import typing

from twisted.internet import defer, error
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure

from chatroom.bench.config import BenchConfig
from chatroom.telnet import TelnetFilter

# A line longer than this without a newline is cut to its tail (markers sit
# at the end of a line, after the server's decoration).
_MAX_PARTIAL = 1 << 16


class Listener(typing.Protocol):
    """What a L{BenchClient} reports to: the run, kept abstract so this module needs none."""

    config: BenchConfig

    def received(self, client: BenchClient, data: bytes) -> None:
        """Complete lines arrived for C{client}."""

    def lost(self, client: BenchClient, reason: Failure) -> None:
        """C{client}'s connection ended."""


class BenchClient(Protocol):
    """
    One simulated user: registers on connect, hands complete lines to the run.

    Lines are processed a received chunk at a time (one regular expression
    pass), not one call per line: the client side must stay cheaper than the
    server it measures.
    """

    def __init__(self, bench: Listener, name: str) -> None:
        self.bench = bench
        self.name = name
        self.sender = -1
        self.last_seq = [-1] * bench.config.senders
        self.synced = False
        self.alive = False
        self.greeting: defer.Deferred[None] | None = None
        self.closed: defer.Deferred[None] = defer.Deferred()
        self.tail = b""
        self._buffer = b""
        self._telnet = TelnetFilter()

    def connectionMade(self) -> None:
        self.alive = True
        try:
            # Our writes must not wait for ACKs (Nagle) or the latency is ours.
            self.transport.setTcpNoDelay(True)
        except (AttributeError, OSError, NotImplementedError):
            pass
        self.transport.write(f"{self.name}\n{self.bench.config.group}\n".encode())

    def dataReceived(self, data: bytes) -> None:
        data = self._telnet.feed(data)
        if self._buffer:
            data = self._buffer + data
        end = data.rfind(b"\n") + 1
        if not end:
            self._buffer = data[-_MAX_PARTIAL:]
        else:
            if end < len(data):
                self._buffer = data[end:]
                data = data[:end]
            else:
                self._buffer = b""
            self.tail = data[-300:]
            self.bench.received(self, data)
        self._greeted()

    def connectionLost(self, reason: Failure = error.ConnectionDone) -> None:
        self.alive = False
        self._greeted()
        self.bench.lost(self, reason)
        self.closed.callback(None)

    def _greeted(self) -> None:
        waiter, self.greeting = self.greeting, None
        if waiter is not None:
            waiter.callback(None)

    def last_line(self) -> str:
        """The last line the server sent (why it closed us, usually)."""
        lines = (self.tail + self._buffer).decode("utf-8", "replace").splitlines()
        lines = [line.strip() for line in lines if line.strip()]
        return lines[-1] if lines else ""
