# -*- test-case-name: tests.integration.test_web -*-
"""
A small WebSocket client over any Twisted stream transport, on wsproto.

The load tool measures the browser door with it, and the tests drive the door
with it (it can send a message in fragments, or refuse to read, which a
browser can't be asked to do).  Twisted's own C{WebSocketClientEndpoint}
hides the socket; these tests need it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Message,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)


class WebSocketClient(Protocol):
    """
    Opens a WebSocket on connect; C{messageReceived(text)} gets each whole
    text message.  C{opened} fires on the server's accept and fails with
    the HTTP status on a refusal; C{closed} fires when the socket closes.
    """

    def __init__(
        self,
        host: str,
        path: str = "/ws",
        origin: str | None = None,
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> None:
        self.host = host
        self.path = path
        self.origin = origin
        self.headers = list(headers)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.opened: defer.Deferred[None] = defer.Deferred()
        self.closed: defer.Deferred[None] = defer.Deferred()
        self.close_code: int | None = None
        self.status: int | None = None
        self._text: list[str] = []

    def connectionMade(self) -> None:
        try:
            self.transport.setTcpNoDelay(True)
        except (AttributeError, OSError):
            pass
        extra = [(b"Origin", self.origin.encode())] if self.origin else []
        extra += self.headers
        self.transport.write(
            self.ws.send(Request(host=self.host, target=self.path, extra_headers=extra))
        )

    def dataReceived(self, data: bytes) -> None:
        ws = self.ws
        ws.receive_data(data)
        for event in ws.events():
            if isinstance(event, TextMessage):
                if event.message_finished and not self._text:
                    self.messageReceived(event.data)
                else:
                    self._text.append(event.data)
                    if event.message_finished:
                        text, self._text = "".join(self._text), []
                        self.messageReceived(text)
            elif isinstance(event, AcceptConnection):
                self.opened.callback(None)
            elif isinstance(event, RejectConnection):
                self.status = event.status_code
                if not event.has_body:
                    self._refused()
            elif isinstance(event, RejectData):
                if event.body_finished:
                    self._refused()
            elif isinstance(event, Ping):
                self.transport.write(ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                self.close_code = event.code
                try:
                    self.transport.write(ws.send(event.response()))
                except Exception:
                    pass
                self.transport.loseConnection()

    def _refused(self) -> None:
        if not self.opened.called:
            self.opened.errback(ConnectionError(f"HTTP {self.status}"))
        self.transport.loseConnection()

    def connectionLost(self, reason: Failure = None) -> None:
        if not self.opened.called:
            self.opened.errback(ConnectionError(f"closed before the upgrade (HTTP {self.status})"))
        self.closed.callback(None)

    def messageReceived(self, text: str) -> None:
        """A whole text message arrived."""

    def send_text(self, text: str) -> None:
        self.transport.write(self.ws.send(Message(data=text)))

    def send_fragments(self, *parts: str) -> None:
        """One text message in several frames, each written on its own."""
        for index, part in enumerate(parts):
            frame = self.ws.send(TextMessage(data=part, message_finished=index == len(parts) - 1))
            self.transport.write(frame)

    def close(self, code: int = 1000) -> None:
        self.transport.write(self.ws.send(CloseConnection(code)))


def each_object(text: str) -> list[dict[str, Any]]:
    """The JSON objects in one message from the door (an object, or an array of them)."""
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


class JsonClient(WebSocketClient):
    """
    Collects the door's JSON objects and lets a test wait for one, by type
    and a predicate, with a timeout instead of a sleep.
    """

    def __init__(
        self,
        clock,
        host: str,
        path: str = "/ws",
        origin: str | None = None,
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> None:
        super().__init__(host, path, origin, headers)
        self.clock = clock
        self.received: list[dict[str, Any]] = []
        self._seen = 0
        self._waiting: list[tuple[Callable[[dict], bool], defer.Deferred[dict]]] = []
        self.messages = 0

    def messageReceived(self, text: str) -> None:
        self.messages += 1
        self.received.extend(each_object(text))
        self._check()

    def connectionLost(self, reason: Failure = None) -> None:
        super().connectionLost(reason)
        waiting, self._waiting = self._waiting, []
        for _, waiter in waiting:
            waiter.errback(AssertionError(f"connection closed; got {self.received!r}"))

    def _check(self) -> None:
        while self._waiting and self._seen < len(self.received):
            obj = self.received[self._seen]
            self._seen += 1
            match, waiter = self._waiting[0]
            if match(obj):
                self._waiting.pop(0)
                waiter.callback(obj)

    def expect(
        self, kind: str, match: Callable[[dict], bool] = lambda obj: True, timeout: float = 10.0
    ) -> defer.Deferred[dict]:
        """The next object (after those already matched) of type C{kind} that C{match}es."""
        waiter: defer.Deferred[dict] = defer.Deferred()

        def timed_out(result, seconds):
            raise AssertionError(f"no {kind!r} object in {seconds}s; got {self.received!r}")

        waiter.addTimeout(timeout, self.clock, onTimeoutCancel=timed_out)
        self._waiting.append((lambda obj: obj.get("type") == kind and match(obj), waiter))
        if self.transport is not None and not self.transport.connected:
            self._waiting.pop().errback(AssertionError(f"closed; got {self.received!r}"))
            return waiter
        self._check()
        return waiter

    def say(self, *lines: str) -> None:
        for line in lines:
            self.send_text(line)
