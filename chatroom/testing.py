# -*- test-case-name: tests.test_testing -*-
"""
Test doubles and helpers that the tests, and future front doors, share.

In the spirit of C{twisted.internet.testing}: a L{FakePeer} drives the line
protocol through a C{StringTransport} with a C{task.Clock}, and L{LineClient}
and L{listen} run a real server and real TCP clients on loopback, with
Deferreds (never sleeps) to wait for lines.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet import defer, endpoints, error, task
from twisted.internet.address import IPv6Address
from twisted.internet.protocol import Factory
from twisted.internet.testing import StringTransport
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure

from chatroom.catalog import ENGLISH
from chatroom.events import Message
from chatroom.fanout import Fanout
from chatroom.history import make_history
from chatroom.journal import DELAY, Journal
from chatroom.lines import ENGLISH_LINES
from chatroom.moderation import Moderation
from chatroom.protocol import ChatFactory
from chatroom.proxyheader import line_endpoint
from chatroom.room import Room
from chatroom.settings import Settings
from chatroom.telnet import TelnetFilter

# Time for one line to arrive over loopback in a test: generous, because CI
# machines are slow and shared; a passing test never waits this long.
LINE_TIMEOUT = 10.0


def make_factory(
    settings: Settings | None = None, clock: task.Clock | None = None, batch: bool = False
) -> ChatFactory:
    """
    A chat factory on a fake clock.  With C{batch}, fan-out is coalesced until
    C{clock.advance(0)}, as the real server does per reactor turn.
    """
    settings = settings or Settings()
    clock = clock or task.Clock()
    schedule = (lambda flush: clock.callLater(0, flush)) if batch else None
    room = Room(settings.max_clients, Fanout(schedule), history=make_history(settings.history))
    return ChatFactory(room, settings, clock)


def en(message: Message, **fields: Any) -> str:
    """A catalog message in English, as the line door says it (for assertions)."""
    return ENGLISH.format(message, **fields)


class Recorder:
    """A C{send} callable for the room that keeps what it got, line by line."""

    audience = ENGLISH_LINES

    def __init__(self) -> None:
        self.data = b""
        self.closed = False

    def send(self, data: bytes) -> None:
        self.data += data

    def close(self) -> None:
        self.closed = True

    def lines(self) -> list[str]:
        """Everything received since the last call, decoded, one string a line."""
        data, self.data = self.data, b""
        return data.decode("utf-8").split("\r\n")[:-1]


class FakePeer:
    """One client connected to a L{ChatFactory} through a C{StringTransport}."""

    _ports = iter(range(40000, 65000))

    def __init__(self, factory: ChatFactory, host: str = "::1", port: int | None = None) -> None:
        self.factory = factory
        self.address = IPv6Address("TCP", host, port or next(self._ports))
        self.protocol = factory.buildProtocol(self.address)
        self.transport = StringTransport(peerAddress=self.address)
        self.transport.connected = True
        self.protocol.makeConnection(self.transport)
        self._telnet = TelnetFilter()

    def send(self, data: bytes | str) -> None:
        """Bytes as the peer would send them (a str is encoded, LF appended per line)."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.protocol.dataReceived(data)

    def say(self, *lines: str) -> None:
        self.send("".join(line + "\n" for line in lines))

    def raw(self) -> bytes:
        """Everything written to the peer since the last read, telnet commands included."""
        value = self.transport.value()
        self.transport.clear()
        return value

    def lines(self) -> list[str]:
        """Lines written to the peer since the last read, telnet negotiation removed."""
        return self._telnet.feed(self.raw()).decode("utf-8").split("\r\n")[:-1]

    def register(self, name: str, group: str = "GL1") -> list[str]:
        self.say(name, group)
        return self.lines()

    @property
    def closing(self) -> bool:
        return bool(self.transport.disconnecting)

    def drop(self, reason: Failure | None = None) -> None:
        """The connection ends (the peer went away, or the close completed)."""
        if self.transport.connected:
            self.transport.connected = False
            self.protocol.connectionLost(reason or Failure(error.ConnectionDone()))


class LineClient(LineReceiver):
    """
    A real TCP client for integration tests: collects the server's lines and
    lets a test wait for one by predicate, with a timeout instead of a sleep.
    """

    delimiter = b"\r\n"
    MAX_LENGTH = 1 << 20

    def __init__(self, clock) -> None:
        self.clock = clock
        self.lines: list[str] = []
        self._seen = 0
        self._waiting: list[tuple[Callable[[str], bool], defer.Deferred[str]]] = []
        self._telnet = TelnetFilter()
        self.closed: defer.Deferred[None] = defer.Deferred()

    def dataReceived(self, data: bytes) -> None:
        super().dataReceived(self._telnet.feed(data))

    def lineReceived(self, line: bytes) -> None:
        self.lines.append(line.decode("utf-8", "replace"))
        self._check()

    def connectionLost(self, reason: Failure = None) -> None:
        if self._buffer:
            self.lines.append(self._buffer.decode("utf-8", "replace"))
            self._buffer = b""
        for _, waiter in self._waiting:
            waiter.errback(AssertionError(f"connection closed; lines so far: {self.lines!r}"))
        self._waiting = []
        self.closed.callback(None)

    def _check(self) -> None:
        while self._waiting and self._seen < len(self.lines):
            line = self.lines[self._seen]
            self._seen += 1
            match, waiter = self._waiting[0]
            if match(line):
                self._waiting.pop(0)
                waiter.callback(line)

    def expect(self, pattern: str | Callable[[str], bool], timeout: float = LINE_TIMEOUT):
        """
        A Deferred for the next line (after those already matched) that
        contains C{pattern} (a regular expression) or satisfies it (a callable).
        Lines before it are passed over; they stay in C{lines}.
        """
        match = pattern if callable(pattern) else re.compile(pattern).search
        waiter: defer.Deferred[str] = defer.Deferred()
        waiter.addTimeout(timeout, self.clock, onTimeoutCancel=self._timed_out(pattern))
        self._waiting.append((match, waiter))
        self._check()
        return waiter

    def _timed_out(self, pattern):
        def describe(result, timeout):
            raise AssertionError(f"no line matching {pattern!r} in {timeout}s; got {self.lines!r}")

        return describe

    def say(self, *lines: str) -> None:
        self.transport.write("".join(line + "\n" for line in lines).encode("utf-8"))


async def connect(reactor, port: int, host: str = "::1", tls=None) -> LineClient:
    """
    A L{LineClient} connected over real TCP (C{host} "::1" or "127.0.0.1"),
    through TLS with C{tls} (an C{optionsForClientTLS}: see L{trusting}).
    """
    kind = endpoints.TCP6ClientEndpoint if ":" in host else endpoints.TCP4ClientEndpoint
    endpoint = kind(reactor, host, port, timeout=LINE_TIMEOUT)
    if tls is not None:
        endpoint = endpoints.wrapClientTLS(tls, endpoint)
    return await endpoint.connect(Factory.forProtocol(lambda: LineClient(reactor)))


async def join(
    reactor, port: int, name: str, group: str = "GL1", host: str = "::1", tls=None
) -> LineClient:
    """Connect and register; returns once the server confirmed the registration."""
    client = await connect(reactor, port, host, tls)
    client.say(name, group)
    await client.expect(f"^Hello {re.escape(name)} ")
    return client


async def quit_all(*clients: LineClient) -> None:
    """Say /wyjdz for each client still connected and wait until all are closed."""
    for client in clients:
        if client.transport.connected:
            client.say("/wyjdz")
    await defer.gatherResults([client.closed for client in clients])


class ServerHandle:
    """A chat server listening on a loopback port, as C{twistd chatroom} runs it."""

    def __init__(self, reactor, factory: ChatFactory, port) -> None:
        self.reactor = reactor
        self.factory = factory
        self.listening = port
        self.port: int = port.getHost().port

    @property
    def room(self) -> Room:
        return self.factory.room

    async def stop(self) -> None:
        """Stop listening, close every connection, and wait until they are gone."""
        await defer.maybeDeferred(self.listening.stopListening)  # once stopped, None
        await self.factory.shutdown()


async def listen(
    reactor,
    settings: Settings | None = None,
    interface: str = "::1",
    endpoint: str | None = None,
    moderation: Moderation | None = None,
    clock: task.Clock | None = None,
) -> ServerHandle:
    """
    Start a chat server on a free port of C{interface}, through an endpoint
    string (C{endpoint}, if given: L{ssl_endpoint} for TLS).  C{moderation}
    holds the operators' password; C{clock} is the server's time (a
    C{task.Clock} to let bans and mutes expire without waiting).
    """
    settings = settings or Settings()
    room = Room(
        settings.max_clients,
        Fanout(lambda flush: reactor.callLater(0, flush)),
        Journal(lambda flush: reactor.callLater(DELAY, flush)),
        make_history(settings.history),
        moderation,
    )
    factory = ChatFactory(room, settings, clock or reactor)
    escaped = interface.replace(":", r"\:")
    kind = "tcp6" if ":" in interface else "tcp"
    # A deep accept queue, as for a real crowd: with Twisted's default of 50,
    # a burst of connects overflows it and each lost SYN costs a 1 s retry.
    description = endpoint or f"{kind}:0:interface={escaped}:backlog=1024"
    port = await line_endpoint(reactor, description).listen(factory)
    return ServerHandle(reactor, factory, port)


def make_certificate(directory: Path | str, hostname: str = "::1") -> tuple[Path, Path]:
    """
    A self-signed certificate for C{hostname} (a name or an IP address), and
    its key, written as C{key.pem} and C{cert.pem} in C{directory}: for
    C{ssl:PORT:privateKey=KEY:certKey=CERT} on the server, and as the one
    trusted root (C{--ca CERT}) on the client.  Any TLS door can be tested so.

    @return: (key path, certificate path)
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())  # much faster to make than RSA
    try:
        alternative: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(hostname))
    except ValueError:
        alternative = x509.DNSName(hostname)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([alternative]), critical=False)
        # Its own CA, so that a client can trust it as a root.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = Path(directory)
    key_path, cert_path = directory / "key.pem", directory / "cert.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def trusting(cert_path: Path | str, hostname: str = "::1"):
    """Client TLS options that trust only C{cert_path} and check it names C{hostname}."""
    from twisted.internet import ssl

    root = ssl.Certificate.loadPEM(Path(cert_path).read_bytes())
    return ssl.optionsForClientTLS(hostname, trustRoot=root)


def ssl_endpoint(key_path: Path | str, cert_path: Path | str, interface: str = "::1") -> str:
    """A server endpoint string for TLS on a free port of C{interface}."""

    def escape(value: str | Path) -> str:
        return str(value).replace("\\", "\\\\").replace(":", r"\:")

    return (
        f"ssl:0:interface={escape(interface)}:privateKey={escape(key_path)}"
        f":certKey={escape(cert_path)}"
    )
