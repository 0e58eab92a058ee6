# -*- test-case-name: tests.test_protocol -*-
"""
The line protocol front door: bytes from telnet or nc in, lines of the room out.

This layer owns what is about the wire: telnet commands, line framing and its
limits, decoding, the output cap for clients that stop reading, timeouts, and
the connection limits.  Everything about people and messages is the session's
and the room's.
"""

from __future__ import annotations

import os
import socket
import sys

from twisted.internet import interfaces, tcp
from twisted.internet.address import UNIXAddress
from twisted.internet.defer import Deferred
from twisted.internet.protocol import Protocol, ServerFactory, connectionDone
from twisted.protocols.basic import LineReceiver
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure
from zope.interface import implementer

from chatroom import events, messages, writethrough
from chatroom.admission import Admission
from chatroom.events import Text
from chatroom.fanout import Audience
from chatroom.limits import address_key
from chatroom.lines import ENGLISH_LINES, line_audience
from chatroom.room import Room
from chatroom.session import Session
from chatroom.settings import Settings
from chatroom.telnet import OFFER, TelnetFilter

# Linux: hold a send back for what follows (here, the FIN); 0 elsewhere.
_MSG_MORE = getattr(socket, "MSG_MORE", 0)

# TCP keepalive: a peer that vanished (laptop lid shut, Wi-Fi gone) is noticed
# after about two minutes and its name freed, instead of after two hours.
_KEEPALIVE = (
    ("TCP_KEEPIDLE", 60),
    ("TCP_KEEPINTVL", 10),
    ("TCP_KEEPCNT", 6),
)


def format_peer(address: object) -> str:
    """C{[::1]:5000}, C{192.0.2.1:5000}, C{unix}, or what the address says of itself."""
    host = getattr(address, "host", None)
    port = getattr(address, "port", None)
    if host is None:
        if isinstance(address, UNIXAddress):
            # A UNIX socket's client is nameless but for its (rarely bound) path.
            name = address.name
            return f"unix:{os.fsdecode(name)}" if name else "unix"
        return str(address)
    host = address_key(host)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@implementer(interfaces.IPushProducer)
class OutputGuard:
    """
    Registered as the transport's producer to learn when a client stops reading.

    The transport pauses us when more than its C{bufferSize} (64 KiB) waits to
    be sent and resumes us once everything is sent.  While paused, the protocol
    counts what it writes; over the cap the client is cut off.  Twisted itself
    would buffer without limit.
    """

    __slots__ = ("paused", "queued")

    def __init__(self) -> None:
        self.paused = False
        self.queued = 0

    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        self.paused = False
        self.queued = 0

    def stopProducing(self) -> None:
        pass


class ChatProtocol(LineReceiver, TimeoutMixin):
    """
    One connection speaking the line protocol (see docs/protocol.md).

    Lines end with LF or CRLF coming in and CRLF going out (C{delimiter}).  We
    keep LineReceiver's interface (C{lineReceived}, C{MAX_LENGTH},
    C{lineLengthExceeded}, C{sendLine}) but not its C{dataReceived}: that one
    splits one line at a time (quadratic in a large chunk of short lines),
    splits on the delimiter we send (so LF-only clients never get a line
    through), and on a long line drops the connection with everything queued
    behind it.  Ours splits a chunk in one pass, answers a long line with an
    error, skips to the next newline and keeps going.
    """

    delimiter = b"\r\n"
    wire = "line"  # the door, for the metrics

    factory: ChatFactory
    peer = "?"
    address_key = ""
    session: Session | None = None
    _telnet: TelnetFilter | None = None
    _skipped = -1  # bytes of an overlong line skipped so far; -1 when not skipping
    _guard: OutputGuard | None = None
    _direct = False  # plain TCP and the factory allows it: send() may write through
    _cork: list[bytes] | None = None  # writes held while we handle a chunk
    _closer = None
    _deadline: int | None = None  # ticket in the factory's registration deadlines

    def connectionMade(self) -> None:
        factory = self.factory
        settings = factory.settings
        self.MAX_LENGTH = settings.max_line
        transport = self.transport
        if not factory.listener_tuned:
            _tune_socket(transport)
        self._direct = factory.write_through and isinstance(transport, tcp.Connection)
        # Everything said on connecting goes out in one write (see _uncork).
        self._cork = [OFFER] if settings.telnet else []
        self.session = factory.admission.session(
            self.send,
            self.close,
            self.peer,
            self._joined,
            factory.audience,
            line_audience,
            address=self.address_key,
        )
        self.session.start()
        self._uncork()
        self._deadline = factory.registering.add(self)

    def callLater(self, period, func):
        """TimeoutMixin's timer, on the factory's clock (a task.Clock in tests)."""
        return self.factory.clock.callLater(period, func)

    def _joined(self) -> None:
        factory = self.factory
        factory.registering.discard(self, self._deadline)
        self._deadline = None
        if factory.settings.idle_timeout:
            self.setTimeout(factory.settings.idle_timeout)

    def dataReceived(self, data: bytes) -> None:
        """
        Frame and handle a chunk; what we answer to it goes out in one write.

        A registration sent in one packet gets its prompt and confirmation in
        one packet, a pasted burst of commands its answers in one: a system
        call (and a TCP segment) per chunk, not per line.
        """
        if self.transport.disconnecting:
            return  # closing: whatever else comes is not read
        self._cork = []
        try:
            self._frame(data)
        finally:
            self._uncork()

    def _frame(self, data: bytes) -> None:
        transport = self.transport
        if self._telnet is not None or b"\xff" in data:
            data = self._telnet_filter().feed(data)
        if self._skipped >= 0:
            end = data.find(b"\n")
            if end < 0:
                self._skipped += len(data)
                if self._skipped > self.factory.settings.max_line_hard:
                    self._stream_too_long()
                return
            self._skipped = -1
            data = data[end + 1 :]
        buffer = self._buffer
        if buffer:
            data = buffer + data
        lines = data.split(b"\n")
        self._buffer = lines.pop()
        for line in lines:
            if transport.disconnecting:
                self._buffer = b""
                return
            if len(line) > self.MAX_LENGTH:
                self.lineLengthExceeded(line)
            else:
                self.lineReceived(line)
        if transport.disconnecting:
            self._buffer = b""
        elif len(self._buffer) > self.MAX_LENGTH:
            partial, self._buffer = self._buffer, b""
            self._skipped = len(partial)
            self.lineLengthExceeded(partial)
            if self._skipped > self.factory.settings.max_line_hard:
                self._stream_too_long()

    def _telnet_filter(self) -> TelnetFilter:
        # Created on the first IAC byte: nc and our client never send one, and
        # an idle connection should cost as little memory as possible.
        if self._telnet is None:
            self._telnet = TelnetFilter(self.send, offered=self.factory.settings.telnet)
        return self._telnet

    def lineReceived(self, line: bytes) -> None:
        if line[-1:] == b"\r":
            line = line[:-1]
        elif self._telnet is not None:
            # telnet in BINARY mode ends lines with a bare LF and echoes it
            # locally as one: without a CR the user's cursor stays in the
            # column where they stopped typing, and every reply staircases.
            self.send(b"\r")
        session = self.session
        if self.timeOut is not None and session.joined:
            self.resetTimeout()
        session.line_received(line.decode("utf-8", "replace"), self.factory.clock.seconds())

    def lineLengthExceeded(self, line: bytes) -> None:
        """Refuse an overlong line, but keep the connection and what follows it."""
        self.session.error(messages.LINE_TOO_LONG, limit=self.MAX_LENGTH)

    def _stream_too_long(self) -> None:
        self.factory.journal.info(
            "closing {peer}: {size} bytes without a newline", peer=self.peer, size=self._skipped
        )
        self._buffer = b""
        self.session.kick(
            events.Bye(
                Text(messages.STREAM_TOO_LONG, limit=self.factory.settings.max_line_hard),
                error=True,
            ),
            self.factory.clock.seconds(),
            "endless line",
        )

    def _uncork(self) -> None:
        cork, self._cork = self._cork, None
        if cork:
            self.send(cork[0] if len(cork) == 1 else b"".join(cork))

    def send(self, data: bytes) -> None:
        """
        Write encoded lines, and cut off a client that has stopped reading.

        While a chunk is being handled, writes are held and joined (see
        L{dataReceived}).  When nothing is queued on a plain TCP transport,
        the lines go straight to its socket: through C{write} each delivery
        would cost two epoll registrations (start, then stop writing) and wait
        for the next reactor turn; in a busy room that was most of the
        server's time and all of its latency (docs/performance.md).  Whatever
        the socket doesn't take, and everything when something is already
        queued, goes through C{write} as usual, so order and the producer
        machinery are untouched.
        """
        cork = self._cork
        if cork is not None:
            cork.append(data)
            return
        transport = self.transport
        if (
            self._direct
            and not transport.dataBuffer
            and not transport._tempDataLen
            and not transport.disconnecting
            and not transport._aborting
        ):
            try:
                sent = transport.socket.send(data)
            except OSError:  # EAGAIN, a reset...: write() and the reactor handle it
                sent = 0
            if sent == len(data):
                return
            data = data[sent:]
        guard = self._guard
        if guard is None:
            # Only what goes through write() can pile up, so the guard is
            # registered before the first such write (most connections, all
            # written through, never need one).  Twisted's buffer is empty
            # until then, so nothing is missed.
            guard = self._guard = OutputGuard()
            transport.registerProducer(guard, True)
        transport.write(data)
        if guard.paused:
            guard.queued += len(data)
            if guard.queued > self.factory.settings.max_output:
                self._overflow()

    def _overflow(self) -> None:
        self.factory.journal.info(
            "closing {peer}: over {limit} bytes of output queued (not reading)",
            peer=self.peer,
            limit=self.factory.settings.max_output,
        )
        self._guard.paused = False  # stop counting; nothing more will be sent
        # The notice is written for the record; the client isn't reading it.
        self.transport.write(
            self.session.audience.render(events.Bye(Text(messages.SLOW_READER), error=True))
        )
        self.session.end(self.factory.clock.seconds(), "not reading (output over the cap)")
        self.transport.abortConnection()

    def close(self) -> None:
        """
        Close after what is queued has been sent, but don't wait for ever: a
        client that stopped reading would hold the connection open.

        With nothing queued on a plain TCP socket (the usual case: see
        L{send}), the last words and the close happen now (L{_close_now});
        otherwise Twisted closes once its buffer is empty, and a timer cuts
        off a client that never lets it empty.
        """
        transport = self.transport
        if transport.disconnecting or not transport.connected:
            return
        if self._unbuffered(transport) and self._close_now(transport):
            return
        self._uncork()
        if self._guard is not None:
            # Twisted closes once its buffer drains, unless a producer it had
            # paused is still registered: then it resumes that instead, and
            # the connection would wait for the timer below.
            transport.unregisterProducer()
        transport.loseConnection()
        if not self._unbuffered(transport):
            self._closer = self.factory.clock.callLater(
                self.factory.settings.close_timeout, transport.abortConnection
            )

    def _unbuffered(self, transport: tcp.Connection) -> bool:
        """Plain TCP with nothing in Twisted's buffer (L{send} inlines this)."""
        return self._direct and not transport.dataBuffer and not transport._tempDataLen

    def _close_now(self, transport: tcp.Connection) -> bool:
        """
        Send the last words and close in the same breath, if the socket takes them.

        C{loseConnection} would swap the read registration for a write one and
        close on the next turn (three epoll calls and an event for nothing to
        write).  And C{MSG_MORE} holds the words back for the shutdown that
        follows, so they leave with the FIN in one segment: one wake-up of the
        client instead of two.  Together, about a tenth of a
        connect-register-quit (docs/performance.md).  The close itself is what
        C{loseConnection} does when the write side is already shut.
        """
        cork, self._cork = self._cork, None
        if cork:
            data = cork[0] if len(cork) == 1 else b"".join(cork)
            try:
                sent = transport.socket.send(data, _MSG_MORE)
            except OSError:
                sent = 0
            if sent != len(data):
                self._cork = [data[sent:]]  # the slow way sends the rest
                return False
        transport.disconnecting = True  # as loseConnection: stop handling input
        transport.stopReading()
        transport.connectionLost(connectionDone)
        return True

    def timeoutConnection(self) -> None:
        line = messages.IDLE_TIMEOUT if self.session.joined else messages.REGISTRATION_TIMEOUT
        self.factory.journal.info("closing {peer}: timed out", peer=self.peer)
        self.session.kick(
            events.Bye(Text(line), error=True), self.factory.clock.seconds(), "timed out"
        )

    def shutdown(self, now: float) -> None:
        """The server is stopping: last words for those still registering, then close."""
        session = self.session
        if session is not None:
            if not session.joined:  # members heard it from the room
                session.reply(events.Shutdown(now))
            session.end(now, "server shutdown")
        self.close()

    def abort(self) -> None:
        """Cut the connection off now (a straggler at shutdown)."""
        self.transport.abortConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        # The transport has closed (and dropped) its socket; a batch still
        # being delivered may hold lines for us, which write() now ignores.
        self._direct = False
        if self._deadline is not None:
            self.factory.registering.discard(self, self._deadline)
        self.setTimeout(None)
        if self._closer is not None and self._closer.active():
            self._closer.cancel()
        if self.session is not None:
            self.session.end(self.factory.clock.seconds(), "connection lost")
        self.factory.connectionClosed(self)


def _tune_socket(transport: object) -> None:
    """
    No Nagle: a chat line must leave now, not wait for the previous one's ACK
    (Nagle alone costs about 30 ms at the 99th percentile).  Keepalive to find
    vanished peers.  Transports that are not TCP sockets are left alone.
    """
    try:
        _tune(transport.getHandle())
    except (AttributeError, OSError, NotImplementedError):
        pass


def _tune(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in _KEEPALIVE:
        if hasattr(socket, name):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


@implementer(interfaces.IStreamServerEndpoint)
class TunedEndpoint:
    """
    Wraps a server endpoint so that its listening socket carries the options
    of L{_tune_socket}.  On Linux accepted sockets inherit them, which saves
    five system calls per connection (a tenth of a connect-and-quit's cost);
    elsewhere, or for listeners that are not TCP, each connection is tuned
    as it comes.
    """

    def __init__(self, endpoint: interfaces.IStreamServerEndpoint) -> None:
        self._endpoint = endpoint

    async def _listen(self, factory: ChatFactory) -> interfaces.IListeningPort:
        port = await self._endpoint.listen(factory)
        sock = getattr(port, "socket", None)
        if (
            sys.platform.startswith("linux")
            and isinstance(sock, socket.socket)
            and sock.family in (socket.AF_INET, socket.AF_INET6)
            and sock.type == socket.SOCK_STREAM
        ):
            _tune(sock)
            factory.listener_tuned = True
        return port

    def listen(self, factory: ChatFactory) -> Deferred[interfaces.IListeningPort]:
        return Deferred.fromCoroutine(self._listen(factory))


class Refusal(Protocol):
    """Says one line (the room is full, too many from your address) and hangs up."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def connectionMade(self) -> None:
        self.transport.write(self.data)
        self.transport.loseConnection()


class ChatFactory(ServerFactory):
    """
    The line door's factory: builds a protocol for each connection that the
    L{Admission} (shared with the other doors) lets in, and a one-line
    refusal for the others.
    """

    protocol = ChatProtocol
    # Set by TunedEndpoint: accepted sockets inherit the listener's options.
    listener_tuned = False

    def __init__(
        self,
        room: Room,
        settings: Settings,
        clock: interfaces.IReactorTime,
        audience: Audience = ENGLISH_LINES,
        admission: Admission | None = None,
    ) -> None:
        self.room = room
        # What a newcomer reads until they choose otherwise: the server's language.
        self.audience = audience
        self.journal = room.journal
        self.settings = settings
        self.clock = clock
        # Decided once: Twisted's internals as send() and close() expect them.
        self.write_through = writethrough.wanted(settings.write_through)
        self.admission = admission if admission is not None else Admission(room, settings, clock)
        # The admission's, under the names the line door has always used.
        self.connections = self.admission.connections
        self.addresses = self.admission.addresses
        self.registering = self.admission.registering

    def buildProtocol(self, addr: interfaces.IAddress) -> Protocol:
        peer = format_peer(addr)
        key, refused = self.admission.refusal(peer, getattr(addr, "host", peer))
        if refused is not None:
            return Refusal(self.audience.render(events.Bye(refused)))
        protocol = self.protocol()
        protocol.factory = self
        protocol.peer = peer
        self.admission.enter(protocol, peer, key)
        return protocol

    def connectionClosed(self, protocol: ChatProtocol) -> None:
        self.admission.connectionClosed(protocol)

    def shutdown(self) -> Deferred[None]:
        """Tell everyone, at every door, that the server is stopping; see L{Admission}."""
        return self.admission.shutdown()
