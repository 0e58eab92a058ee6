"""
The node's two Redis connections against a real redis-server: up once both
are usable (subscribed too), a dead link noticed by PING and cut, and the
reconnecting that follows, for ever, without anyone calling for it.
"""

from __future__ import annotations

import os
import signal

import pytest_twisted
from twisted.internet import defer

from chatroom.cluster.link import Link, LinkDown, parse_url


class Watch:
    """What a link reports: its ups and downs, and the messages."""

    def __init__(self) -> None:
        self.states: list[bool] = []
        self.messages: list[tuple[str, str]] = []
        self._waiting: list[tuple[bool, defer.Deferred]] = []

    def changed(self, up: bool) -> None:
        self.states.append(up)
        for state, waiter in list(self._waiting):
            if state == up:
                self._waiting.remove((state, waiter))
                waiter.callback(None)

    def received(self, channel: str, message: str) -> None:
        self.messages.append((channel, message))
        for state, waiter in list(self._waiting):
            if state == message:
                self._waiting.remove((state, waiter))
                waiter.callback(None)

    def until(self, up: bool | str, reactor, timeout: float = 10.0) -> defer.Deferred:
        """Until the link is up (C{True}), down (C{False}), or a message arrives."""
        waiter: defer.Deferred = defer.Deferred()
        waiter.addTimeout(timeout, reactor)
        self._waiting.append((up, waiter))
        return waiter


@pytest_twisted.ensureDeferred
async def test_pingCutsADeadLinkAndItComesBack(reactor, redis):
    watch = Watch()
    link = Link(
        reactor, parse_url(redis.url), ["t:room"], watch.received, watch.changed, ping_timeout=0.3
    )
    link.start()
    await watch.until(True, reactor)
    await link.publish("t:room", "hello")
    assert await link.execute("PING") == "PONG"

    # Redis hangs (the machine froze, a cable is out): TCP says nothing.
    os.kill(redis.process.transport.pid, signal.SIGSTOP)
    try:
        link.check()
        await watch.until(False, reactor)
        assert isinstance((await _failure(link.execute("PING"))), LinkDown)
    finally:
        os.kill(redis.process.transport.pid, signal.SIGCONT)
    await watch.until(True, reactor)  # reconnected on its own
    again = watch.until("again", reactor)
    await link.publish("t:room", "again")
    await again
    assert watch.states == [True, False, True]
    assert ("t:room", "hello") in watch.messages and ("t:room", "again") in watch.messages
    await link.stop()


async def _failure(deferred: defer.Deferred) -> BaseException | None:
    try:
        await deferred
    except Exception as e:
        return e
    return None
