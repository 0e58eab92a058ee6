# -*- test-case-name: tests.test_cluster_link -*-
"""
The node's two connections to Redis, kept up for ever.

A connection that has subscribed can do nothing else (RESP2), so there are
two, as in Synapse's replication: one subscribed to the room's channel and
the node's own, and one for commands and C{PUBLISH}.  Both reconnect with a
backoff capped at a few seconds, for ever.  A TCP connection to a Redis that
vanished (a machine off, a cable out) can look alive for hours, so L{check}
PINGs both and cuts a connection that doesn't answer in time; the reconnect
loop then takes over.

The protocol is txredisapi's (Twisted-native, what Synapse runs its workers
on); the connecting is Twisted's own C{ClientService}, so the reactor (and a
test's clock) is ours to pass in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import txredisapi
from twisted.application.internet import ClientService, backoffPolicy
from twisted.internet import defer, endpoints
from twisted.internet.protocol import Factory
from twisted.logger import Logger

RETRY = backoffPolicy(initialDelay=0.2, maxDelay=3.0)
"""How soon to reconnect: 0.2 s, then growing, never more than 3 s apart."""


class LinkDown(Exception):
    """There is no connection to Redis at the moment."""


@dataclass(frozen=True)
class Address:
    """Where Redis is: a host and port or a UNIX socket, a password, a database."""

    host: str = "localhost"
    port: int = 6379
    path: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = None

    def endpoint(self, reactor) -> endpoints.HostnameEndpoint | endpoints.UNIXClientEndpoint:
        if self.path is not None:
            return endpoints.UNIXClientEndpoint(reactor, self.path, timeout=5)
        return endpoints.HostnameEndpoint(reactor, self.host, self.port, timeout=5)

    def __str__(self) -> str:
        """Where, for the log: never the password."""
        where = f"unix:{self.path}" if self.path else f"{self.host}:{self.port}"
        return f"{where} db {self.db}"


def parse_url(url: str) -> Address:
    """
    C{redis://[[user]:password@]host[:port][/db]} or C{unix:/path[?db=N&password=P]}
    (also C{unix:///path}).

    @raise ValueError: anything else, with a sentence saying why.
    """
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    password = unquote(parts.password) if parts.password else None
    password = query.get("password", [password])[0]
    username = unquote(parts.username) if parts.username else None
    if parts.scheme in ("unix", "redis+unix"):
        path = parts.path
        if not path.startswith("/"):
            raise ValueError(
                f"{url!r}: a UNIX socket needs an absolute path (unix:/run/redis.sock)"
            )
        db = query.get("db", ["0"])[0]
        host, port = "localhost", 6379
    elif parts.scheme == "redis":
        path = None
        try:
            host, port = parts.hostname or "localhost", parts.port or 6379
        except ValueError:
            raise ValueError(f"{url!r}: the port must be a number") from None
        db = parts.path.strip("/") or "0"
    else:
        raise ValueError(f"{url!r}: use redis://host:port/db or unix:/path/to/redis.sock")
    if not db.isdigit():
        raise ValueError(f"{url!r}: the database must be a number, not {db!r}")
    return Address(host, port, path, int(db), username or None, password)


class _Commands(txredisapi.RedisProtocol):
    def connectionLost(self, why) -> None:
        super().connectionLost(why)
        self.factory.link._lost(self)


class _Subscriber(txredisapi.SubscriberProtocol):
    def messageReceived(self, pattern, channel, message) -> None:
        self.factory.link._received(channel, message)

    def connectionLost(self, why) -> None:
        super().connectionLost(why)
        self.factory.link._lost(self)


class _Factory(Factory):
    """Builds txredisapi's protocols with what their C{connectionMade} asks of a factory."""

    isLazy = True  # txredisapi: log an AUTH or SELECT failure rather than raise it

    def __init__(self, link: Link, protocol: type, ready: Callable) -> None:
        self.link = link
        self.protocol = protocol
        self.ready = ready

    def buildProtocol(self, addr):
        address = self.link.address
        protocol = self.protocol(
            password=address.password, dbid=address.db or None, username=address.username
        )
        protocol.factory = self
        protocol.whenConnected().addCallback(self.ready)
        return protocol

    def stopTrying(self) -> None:
        """txredisapi gives up after a failed AUTH; we keep trying (the password may be fixed)."""

    def connectionError(self, why: str) -> None:
        self.link.log.error("Redis {address}: {why}", address=str(self.link.address), why=why)


class Link:
    """
    A command connection and a subscribed one to one Redis.

    @param received: called with (channel, message) for each message.
    @param changed: called with C{True} once both connections are usable
        (subscribed, too), and with C{False} when either goes.
    """

    log = Logger()

    def __init__(
        self,
        reactor,
        address: Address,
        channels: list[str],
        received: Callable[[str, str], None],
        changed: Callable[[bool], None],
        ping_timeout: float = 3.0,
    ) -> None:
        self.reactor = reactor
        self.address = address
        self.channels = channels
        self.received = received
        self.changed = changed
        self.ping_timeout = ping_timeout
        self.commands: _Commands | None = None
        self.subscriber: _Subscriber | None = None
        self.up = False
        self._services: list[ClientService] = []

    def start(self) -> None:
        self._services = [
            ClientService(
                self.address.endpoint(self.reactor),
                _Factory(self, kind, ready),
                retryPolicy=RETRY,
                clock=self.reactor,
            )
            for kind, ready in (
                (_Commands, self._commands_ready),
                (_Subscriber, self._subscriber_ready),
            )
        ]
        for service in self._services:
            service.startService()

    def stop(self) -> defer.Deferred:
        """Close both connections and stop reconnecting."""
        self.changed = lambda up: None
        return defer.gatherResults([service.stopService() for service in self._services])

    # Commands

    def execute(self, *args: object) -> defer.Deferred:
        """Run a command; fails with L{LinkDown} at once if there is no connection."""
        commands = self.commands
        if commands is None:
            return defer.fail(LinkDown())
        return commands.execute_command(*args)

    def eval(self, script: str, keys: list[str], args: list[object]) -> defer.Deferred:
        commands = self.commands
        if commands is None:
            return defer.fail(LinkDown())
        return commands.eval(script, keys, args)

    def publish(self, channel: str, message: str) -> defer.Deferred:
        return self.execute("PUBLISH", channel, message)

    def check(self) -> None:
        """PING both connections; one that doesn't answer in time is cut (and reconnects)."""
        for connection in (self.commands, self.subscriber):
            if connection is None:
                continue
            pong = connection.ping()
            pong.addTimeout(self.ping_timeout, self.reactor)
            pong.addErrback(self._no_pong, connection)

    def _no_pong(self, failure, connection) -> None:
        if connection.transport is not None and connection.connected:
            self.log.warn(
                "Redis {address}: no answer to PING ({why}); reconnecting",
                address=str(self.address),
                why=failure.getErrorMessage() or failure.type.__name__,
            )
            connection.transport.abortConnection()

    # Connections coming and going

    def _commands_ready(self, protocol: _Commands) -> None:
        self.commands = protocol
        self._update()

    def _subscriber_ready(self, protocol: _Subscriber) -> None:
        subscribed = protocol.subscribe(self.channels)
        subscribed.addCallback(self._subscribed, protocol)
        subscribed.addErrback(self._not_subscribed, protocol)

    def _subscribed(self, _: object, protocol: _Subscriber) -> None:
        if protocol.connected:
            self.subscriber = protocol
            self._update()

    def _not_subscribed(self, failure, protocol: _Subscriber) -> None:
        self.log.error(
            "Redis {address}: SUBSCRIBE failed: {why}",
            address=str(self.address),
            why=failure.getErrorMessage(),
        )
        if protocol.transport is not None:
            protocol.transport.abortConnection()

    def _lost(self, protocol) -> None:
        if protocol is self.commands:
            self.commands = None
        elif protocol is self.subscriber:
            self.subscriber = None
        self._update()

    def _received(self, channel: str | bytes, message: str | bytes) -> None:
        if isinstance(channel, bytes):
            channel = channel.decode("utf-8", "replace")
        self.received(channel, message)

    def _update(self) -> None:
        up = self.commands is not None and self.subscriber is not None
        if up != self.up:
            self.up = up
            self.changed(up)
