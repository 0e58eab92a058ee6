# -*- test-case-name: tests.test_protocol -*-
"""
Who may come in, whatever the door: the connection count, the per-address
limit, the registration deadlines, and the goodbye when the server stops.

Both front doors (the line protocol and the browser's WebSocket) admit
through one L{Admission}, so bans, C{--max-clients} and C{--max-per-ip} hold
for every connection, whichever door it came through.  A connection it holds has an
C{address_key}, C{timeoutConnection()} (its registration time is up),
C{shutdown(now)} (the server is stopping) and C{abort()} (cut it off now).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from twisted.internet import interfaces
from twisted.internet.defer import Deferred, succeed

from chatroom import messages
from chatroom.deadlines import Deadlines
from chatroom.events import Text
from chatroom.fanout import Audience
from chatroom.limits import AddressLimiter, FloodGuard, address_key
from chatroom.moderation import minutes_left
from chatroom.room import Room
from chatroom.session import Session
from chatroom.settings import Settings


class Connection(Protocol):
    """What the admission needs of a connection, whichever the door."""

    address_key: str

    def timeoutConnection(self) -> None: ...

    def shutdown(self, now: float) -> None: ...

    def abort(self) -> None: ...


class Admission:
    """
    Holds every connection of every door, and refuses those over the limits.

    Registering connections count towards C{max_clients} too: the room can't
    be filled with half-open connections that then all pick names.
    """

    def __init__(self, room: Room, settings: Settings, clock: interfaces.IReactorTime) -> None:
        self.room = room
        self.settings = settings
        self.clock = clock
        self.journal = room.journal
        self.connections: set[Connection] = set()
        self.counts = room.counts
        self.counts.open = self.open_by_door
        self._drained: Deferred[None] | None = None
        self.addresses = AddressLimiter(
            settings.max_per_ip, settings.exempt, settings.exempt_loopback
        )
        # Registration timeouts share a timer per time slot (see deadlines.py);
        # each door keeps its own per-connection idle timeout.
        self.registering = Deadlines(
            clock, settings.register_timeout, lambda connection: connection.timeoutConnection()
        )

    def refusal(self, peer: str, host: str) -> tuple[str, Text | None]:
        """
        The address key a newcomer from C{host} is counted under, and why it
        is refused (L{None}: it may come in, and its address is now counted:
        L{enter} or L{connectionClosed} must follow).
        """
        key = address_key(host)
        now = self.clock.seconds()
        ban = self.room.moderation.banned(key, now)
        if ban is not None:
            minutes = minutes_left(ban.until, now)
            self.journal.info(
                "refused {peer}: banned for {minutes} more minutes (by {by})",
                peer=peer,
                minutes=minutes,
                by=ban.by,
            )
            self.counts.refusals["banned"] += 1
            return "", Text(messages.BANNED_REFUSAL, minutes=minutes)
        count = len(self.connections)
        limit = self.settings.max_clients
        if count >= limit:
            self.journal.info(
                "refused {peer}: room full ({count}/{max})", peer=peer, count=count, max=limit
            )
            self.counts.refusals["full"] += 1
            return "", Text(messages.ROOM_FULL, count=count, max=limit)
        if not self.addresses.acquire(key):
            limit = self.settings.max_per_ip
            self.journal.info(
                "refused {peer}: {limit} connections from that address already",
                peer=peer,
                limit=limit,
            )
            self.counts.refusals["per_address"] += 1
            return key, Text(
                messages.TOO_MANY_FROM_ADDRESS, count=self.addresses.count(key), limit=limit
            )
        return key, None

    def enter(self, connection: Connection, peer: str, key: str) -> None:
        """Count an admitted connection (its address was counted by L{refusal})."""
        connection.address_key = key
        self.connections.add(connection)
        door = getattr(connection, "wire", "line")
        self.counts.connections[door] = self.counts.connections.get(door, 0) + 1
        self.journal.info(
            "connection from {peer} ({count}/{max})",
            peer=peer,
            count=len(self.connections),
            max=self.settings.max_clients,
        )

    def open_by_door(self) -> dict[str, int]:
        """Connections open now, by door (their C{wire}): read at scrape time only."""
        counts = dict.fromkeys(self.counts.connections, 0)
        for connection in self.connections:
            door = getattr(connection, "wire", "line")
            counts[door] = counts.get(door, 0) + 1
        return counts

    def session(
        self,
        send: Callable[[bytes], None],
        close: Callable[[], None],
        peer: str,
        on_join: Callable[[], None],
        audience: Audience,
        audience_for: Callable[[str], Audience] | None = None,
        probe: Callable[[], None] | None = None,
        address: str = "",
    ) -> Session:
        """
        A newcomer's session, under the same rules (flood control, line cap)
        at every door; C{address} is the key L{refusal} admitted it under.
        """
        settings = self.settings
        flood = None
        if settings.rate > 0:
            flood = FloodGuard(
                settings.rate, settings.burst, settings.flood_kick, self.clock.seconds()
            )
        return Session(
            self.room,
            send,
            close,
            peer,
            audience,
            flood=flood,
            max_line=settings.max_line,
            on_join=on_join,
            audience_for=audience_for,
            probe=probe,
            address=address,
        )

    def connectionClosed(self, connection: Connection) -> None:
        if connection in self.connections:
            self.connections.discard(connection)
            self.addresses.release(connection.address_key)
        if self._drained is not None and not self.connections:
            drained, self._drained = self._drained, None
            drained.callback(None)

    def shutdown(self) -> Deferred[None]:
        """
        Tell everyone the server is stopping and close every connection.

        Fires once all are closed, or after C{shutdown_grace} seconds, when the
        stragglers (clients not reading) are cut off.
        """
        now = self.clock.seconds()
        self.room.close(now)
        for connection in list(self.connections):
            connection.shutdown(now)
        if not self.connections:
            self.journal.flush()
            return succeed(None)
        self._drained = drained = Deferred()
        timer = self.clock.callLater(self.settings.shutdown_grace, self._abort_all)
        drained.addBoth(_cancel_timer, timer)
        drained.addBoth(self._flush_journal)
        return drained

    def _flush_journal(self, result: object) -> object:
        self.journal.flush()
        return result

    def _abort_all(self) -> None:
        for connection in list(self.connections):
            connection.abort()


def _cancel_timer(result: object, timer) -> object:
    if timer.active():
        timer.cancel()
    return result
