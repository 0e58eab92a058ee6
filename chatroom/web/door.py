# -*- test-case-name: tests.integration.test_web -*-
"""
The WebSocket front door: a browser's messages in, the room's JSON out.

A browser is a member like any other: the same L{Session} (registration,
commands, flood control), the same L{Admission} (C{--max-clients}, the
per-address limit, the registration deadline) as the line door.  What is
about the wire lives here: one text message is one line as a TCP user would
type it (over C{--max-line} it gets the line door's error), the output cap
for a browser that stops reading, the idle timeout, and a ping that finds
browsers that vanished without a close.

We build on C{twisted.web.websocket} (wsproto underneath) but handle its
message events ourselves (L{_Wire}): up to Twisted 26.4 a fragmented or
partially received message reached the protocol as several calls with
nothing to tell where it ended, and from 26.10 a message is buffered whole,
without limit, before we see it.  Here a message is accumulated up to the
line cap and the rest skipped, whatever its framing, and a message that runs
past C{--max-line-hard} closes the connection, as an endless line does on TCP.
"""

from __future__ import annotations

from twisted.internet import interfaces, task
from twisted.internet.interfaces import IDelayedCall
from twisted.internet.tcp import Connection
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure
from wsproto.connection import ConnectionState
from wsproto.events import BytesMessage, CloseConnection, TextMessage

from chatroom import events, messages, writethrough
from chatroom.admission import Admission
from chatroom.events import Text
from chatroom.fanout import Audience
from chatroom.protocol import OutputGuard
from chatroom.room import Room
from chatroom.session import Session, is_chat
from chatroom.settings import Settings
from chatroom.web.render import ENGLISH_WEB, web_audience
from chatroom.web.twistedws import _handleEvent, _WebSocketWireProtocol


class _Wire(_WebSocketWireProtocol):
    """
    Twisted's WebSocket wire protocol, but message data goes to our
    protocol chunk by chunk, with wsproto's C{message_finished} flag.
    Everything else (handshake, ping, pong, close) is Twisted's.
    """

    def dataReceived(self, data: bytes) -> None:
        connection = self._wsconn
        connection.receive_data(data)
        door = self._wsp
        for event in connection.events():
            if isinstance(event, (TextMessage, BytesMessage)):
                door.chunkReceived(event.data, event.message_finished)
            else:
                _handleEvent(event, self)


class WebChat(TimeoutMixin):
    """One browser's WebSocket: a L{websocket.WebSocketProtocol} and a room member."""

    wire = "web"  # the door, for the metrics

    session: Session | None = None
    address_key = ""
    _wire: _Wire | None = None
    _deadline: int | None = None
    _closer: IDelayedCall | None = None
    _pinger: task.LoopingCall | None = None
    _probing: IDelayedCall | None = None
    _gone = False
    _direct = False  # plain TCP and write-through allowed: send() may use the socket

    def __init__(self, door: WebDoor, peer: str, audience: Audience) -> None:
        self.door = door
        self.peer = peer
        self.audience = audience  # what the newcomer reads until a /lang
        self._guard = OutputGuard()
        self._pending: list[str] = []  # the message so far
        self._size = 0  # its size in bytes so far
        self._refuse: messages.Message | None = None  # why the message is skipped
        self._head = ""  # its first two characters: a chat line or a command?
        self._alive = True  # heard from since the last ping

    # The WebSocket's life

    def negotiationStarted(self, transport: _Wire) -> None:
        self._wire = transport

    def negotiationFinished(self) -> None:
        door = self.door
        settings = door.settings
        tcp = self._wire.transport
        # The HTTP channel registered itself as the socket's producer; it is
        # done now, and the guard takes its place.
        if getattr(tcp, "producer", None) is not None:
            tcp.unregisterProducer()
        tcp.registerProducer(self._guard, True)
        self._direct = door.write_through and isinstance(tcp, Connection)
        self.session = door.admission.session(
            self.send,
            self.close,
            self.peer,
            self._joined,
            self.audience,
            web_audience,
            self.probe,
            address=self.address_key,
        )
        self.session.start()
        self._deadline = door.admission.registering.add(self)
        if settings.web_ping:
            self._pinger = task.LoopingCall(self._ping)
            self._pinger.clock = door.clock
            self._pinger.start(settings.web_ping, now=False)

    def callLater(self, period, func):
        """TimeoutMixin's timer, on the door's clock (a task.Clock in tests)."""
        return self.door.clock.callLater(period, func)

    def _joined(self) -> None:
        admission = self.door.admission
        admission.registering.discard(self, self._deadline)
        self._deadline = None
        if self.door.settings.idle_timeout:
            self.setTimeout(self.door.settings.idle_timeout)

    def _ping(self) -> None:
        """No word since the last ping, not even its pong: the browser is gone."""
        if not self._alive:
            self.door.journal.info("closing {peer}: no answer to ping", peer=self.peer)
            self.session.end(self.door.clock.seconds(), "no answer to ping")
            self.abort()
            return
        self._alive = False
        if self._wire._wsconn.state is ConnectionState.OPEN:
            self._wire.ping(b"chatroom")

    def pongReceived(self, payload: bytes) -> None:
        self._alive = True

    def probe(self) -> None:
        """
        Someone asks for this browser's name: ping now, and drop the connection
        unless it answers (or says anything) within C{door.probe_timeout}.

        A page whose Wi-Fi dropped reconnects at once and asks for its own name,
        which its old, half-open connection still holds: without this it would
        wait for the regular ping to notice (up to twice C{--web-ping}).  A live
        browser answers a ping in a round trip, so it loses nothing.
        """
        if self._probing is not None or self._gone:
            return
        if self._wire._wsconn.state is not ConnectionState.OPEN:
            return
        self._alive = False
        self._wire.ping(b"chatroom")
        self._probing = self.door.clock.callLater(self.door.probe_timeout, self._probed)

    def _probed(self) -> None:
        self._probing = None
        if self._alive or self._gone:
            return
        self.door.journal.info(
            "closing {peer}: no answer to a ping (its name was asked for)", peer=self.peer
        )
        self.session.end(self.door.clock.seconds(), "no answer to ping")
        self.abort()

    # What the browser says

    def chunkReceived(self, data: str | bytes, finished: bool) -> None:
        """
        A piece of a message: text (a line, or part of one) or bytes (a
        binary message, refused whole).  A message over C{--max-line} is
        skipped to its end, then refused; one over C{--max-line-hard} closes
        the connection.  Memory per connection stays under the line cap.
        """
        self._alive = True
        if self._gone or self._wire.transport.disconnecting:
            return
        settings = self.door.settings
        if isinstance(data, str):
            if len(self._head) < 2:
                self._head += data[: 2 - len(self._head)]
            self._size += len(data) if data.isascii() else len(data.encode("utf-8"))
            if self._refuse is None:
                if self._size > settings.max_line:
                    self._refuse = messages.LINE_TOO_LONG
                    self._pending = []
                elif finished and not self._pending:
                    self._size, self._head = 0, ""
                    self._lines(data)
                    return
                else:
                    self._pending.append(data)
        else:
            self._size += len(data)
            self._refuse = messages.BINARY_MESSAGE
            self._pending = []
        if self._size > settings.max_line_hard:
            self.door.journal.info(
                "closing {peer}: a message over {size} bytes",
                peer=self.peer,
                size=settings.max_line_hard,
            )
            self.session.kick(
                events.Bye(Text(messages.MESSAGE_TOO_LONG, limit=settings.max_line_hard), True),
                self.door.clock.seconds(),
                "endless message",
            )
            self._gone = True
            return
        if not finished:
            return
        refuse, pending, head = self._refuse, self._pending, self._head
        self._refuse, self._pending, self._size, self._head = None, [], 0, ""
        if refuse is messages.LINE_TOO_LONG:
            # Said to be a chat line, the page strikes it out (see events.Error).
            said = self.session.joined and is_chat(head)
            self.session.reply(events.Error(Text(refuse, limit=settings.max_line), said=said))
        elif refuse is not None:
            self.session.error(refuse)
        else:
            self._lines("".join(pending))

    def _lines(self, text: str) -> None:
        """One message: one line, or several if it holds newlines (as on TCP)."""
        session = self.session
        now = self.door.clock.seconds()
        for line in text.split("\n") if "\n" in text else (text,):
            if self._gone or self._wire.transport.disconnecting:
                return
            if line[-1:] == "\r":
                line = line[:-1]
            if self.timeOut is not None and session.joined:
                self.resetTimeout()
            session.line_received(line, now)

    # What the browser gets

    def send(self, data: bytes) -> None:
        """
        Write framed messages (a L{WebAudience}'s C{pack}), and cut off a
        browser that has stopped reading.

        As on the line door (L{chatroom.protocol.ChatProtocol.send}), with
        nothing queued on a plain TCP socket the frames go straight to it,
        saving two epoll registrations and a reactor turn a delivery; what it
        doesn't take goes through C{write}, behind which everything else
        (pings, the close frame) queues in order.
        """
        tcp = self._wire.transport
        if (
            self._direct
            and not tcp.dataBuffer
            and not tcp._tempDataLen
            and not tcp.disconnecting
            and not tcp._aborting
        ):
            try:
                sent = tcp.socket.send(data)
            except OSError:  # EAGAIN, a reset...: write() and the reactor handle it
                sent = 0
            if sent == len(data):
                return
            data = data[sent:]
        tcp.write(data)
        guard = self._guard
        if guard.paused:
            guard.queued += len(data)
            if guard.queued > self.door.settings.max_output:
                self._overflow()

    def _overflow(self) -> None:
        door = self.door
        door.journal.info(
            "closing {peer}: over {limit} bytes of output queued (not reading)",
            peer=self.peer,
            limit=door.settings.max_output,
        )
        self._guard.paused = False  # stop counting; nothing more will be sent
        self._gone = True
        self.session.end(door.clock.seconds(), "not reading (output over the cap)")
        self.abort()

    def close(self) -> None:
        """
        Close after what is queued has been sent (a close frame last), but
        don't wait for ever: a browser that stopped reading would hold it open.
        """
        wire = self._wire
        tcp = wire.transport
        if tcp.disconnecting or not tcp.connected:
            return
        self._gone = True
        # Twisted closes once its buffer drains, unless a producer it paused
        # is still registered: it would resume that instead.
        tcp.unregisterProducer()
        _close(wire, 1000)
        if not tcp.disconnected:
            self._closer = self.door.clock.callLater(
                self.door.settings.close_timeout, tcp.abortConnection
            )

    def abort(self) -> None:
        """Cut the connection off now."""
        self._gone = True
        self._wire.transport.abortConnection()

    def timeoutConnection(self) -> None:
        line = messages.IDLE_TIMEOUT if self.session.joined else messages.REGISTRATION_TIMEOUT
        self.door.journal.info("closing {peer}: timed out", peer=self.peer)
        self.session.kick(
            events.Bye(Text(line), error=True), self.door.clock.seconds(), "timed out"
        )

    def shutdown(self, now: float) -> None:
        """The server is stopping: last words for those still registering, then close."""
        session = self.session
        if session is None:
            self.abort()
            return
        if not session.joined and not session.ended:
            self.send(session.audience.pack([session.audience.render(events.Shutdown(now))]))
        session.end(now, "server shutdown")
        self.close()

    def textMessageReceived(self, message: str) -> None:
        """Unused: L{_Wire} hands us chunks (see L{chunkReceived})."""
        self.chunkReceived(message, True)

    def bytesMessageReceived(self, data: bytes) -> None:
        self.chunkReceived(data, True)

    def connectionLost(self, reason: Failure) -> None:
        self._gone = True
        self._direct = False  # the socket is closed and gone
        door = self.door
        if self._deadline is not None:
            door.admission.registering.discard(self, self._deadline)
            self._deadline = None
        self.setTimeout(None)
        if self._closer is not None and self._closer.active():
            self._closer.cancel()
        if self._pinger is not None and self._pinger.running:
            self._pinger.stop()
        if self._probing is not None and self._probing.active():
            self._probing.cancel()
        if self.session is not None:
            self.session.end(door.clock.seconds(), "connection lost")
        door.admission.connectionClosed(self)


def _close(wire: _Wire, code: int) -> None:
    """A close frame (unless a close is already under way), then close the socket."""
    if wire._wsconn.state is ConnectionState.OPEN:
        wire.transport.write(wire._wsconn.send(CloseConnection(code)))
    wire.transport.loseConnection()


class _Refused:
    """A browser the admission turned away: it reads why, then the socket closes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._wire: _Wire | None = None

    def negotiationStarted(self, transport: _Wire) -> None:
        self._wire = transport

    def negotiationFinished(self) -> None:
        self._wire.transport.write(self.data)
        _close(self._wire, 1008)

    def chunkReceived(self, data: str | bytes, finished: bool) -> None:
        pass

    def pongReceived(self, payload: bytes) -> None:
        pass

    def textMessageReceived(self, message: str) -> None:
        pass

    def bytesMessageReceived(self, data: bytes) -> None:
        pass

    def connectionLost(self, reason: Failure) -> None:
        pass


class WebDoor:
    """
    Builds a L{WebChat} for each WebSocket the admission lets in.

    Turning the door on turns the room's live roster on: browsers keep a
    member list, so they get a L{events.Roster} whenever it changes.

    @ivar probe_timeout: seconds a browser whose name someone asks for has
        to answer a ping (L{WebChat.probe}).
    """

    probe_timeout = 5.0

    def __init__(
        self,
        room: Room,
        settings: Settings,
        clock: interfaces.IReactorTime,
        admission: Admission,
        audience: Audience = ENGLISH_WEB,
    ) -> None:
        self.room = room
        self.settings = settings
        self.clock = clock
        self.admission = admission
        self.audience = audience
        self.journal = room.journal
        # As the line door: Twisted's internals checked once (chatroom.writethrough).
        self.write_through = writethrough.wanted(settings.write_through)
        room.live_roster = True

    def admit(self, peer: str, host: str, lang: str | None = None) -> WebChat | _Refused:
        """
        A WebSocket's protocol: a newcomer, or a refusal (full, too many from
        C{host}, banned).  C{lang}, the page's language, is what both read
        from their first word (else the server's, C{--lang}).
        """
        audience = self.audience if lang is None else web_audience(lang)
        key, refused = self.admission.refusal(peer, host)
        if refused is not None:
            return _Refused(audience.pack([audience.render(events.Bye(refused))]))
        chat = WebChat(self, peer, audience)
        self.admission.enter(chat, peer, key)
        return chat
