# -*- test-case-name: tests.test_room -*-
"""
The room: who is here, what they are called, and who hears what.

No sockets, no clock and no wording: front doors (the line protocol, the
WebSocket) hand us callables, an audience and the current time; the room
decides who hears what and emits L{events <chatroom.events>}, which the
L{Fanout} renders once per audience and delivers.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.defer import Deferred

from chatroom import events, messages
from chatroom.bus import Bus, LocalBus
from chatroom.events import Event, Text
from chatroom.fanout import Audience, Fanout
from chatroom.history import History
from chatroom.journal import Journal
from chatroom.moderation import Moderation, minutes_left
from chatroom.names import RuleError, name_key, normalize_group, normalize_name
from chatroom.stats import Counts
from chatroom.text import clean


class NameTaken(RuleError):
    pass


class NoSuchUser(RuleError):
    pass


class Muted(RuleError):
    pass


def _nowhere(data: bytes = b"") -> None:
    """The C{send} and C{close} of a member on another node: the room never calls them."""


class _Elsewhere:
    """The audience of a member on another node: their own node renders for them."""

    @staticmethod
    def render(event: Event) -> bytes:
        return b""

    @staticmethod
    def pack(pieces: list[bytes]) -> bytes:
        return b""


class Member:
    """
    One person: their name from the moment it is reserved, their group once joined.

    @ivar send: writes what the audience rendered to this person's connection.
    @ivar close: ends this person's session and connection when the room is
        done with them (an operator removed them; the room has said goodbye).
    @ivar audience: the wire and language this person reads.
    @ivar node: L{None} for a member connected here; for one connected to
        another node of a cluster, that node's id.
    @ivar id: the member's id in a cluster (unique there); C{""} otherwise.
    @ivar pending: the key of a name being claimed for a rename, if any.
    @ivar probe: set by a door that can check its connection is alive (the
        WebSocket's ping): called when someone else asks for this name, so
        that a ghost (a connection that dropped without a close) gives the
        name back in seconds instead of at the next regular ping.
    """

    __slots__ = (
        "name",
        "key",
        "group",
        "send",
        "close",
        "peer",
        "audience",
        "node",
        "id",
        "pending",
        "probe",
        "address",
    )

    def __init__(
        self,
        name: str,
        key: str,
        send: Callable[[bytes], None],
        close: Callable[[], None],
        peer: str,
        audience: Audience,
        node: str | None = None,
        id: str = "",
        address: str = "",
    ) -> None:
        self.name = name
        self.key = key
        self.group = ""
        self.send = send
        self.close = close
        self.peer = peer
        self.audience = audience
        self.node = node
        self.id = id
        self.pending: str | None = None
        self.probe: Callable[[], None] | None = None
        # The address the door admitted them by (what a ban refuses); "" elsewhere.
        self.address = address

    @classmethod
    def remote(cls, node: str, id: str, name: str, group: str) -> Member:
        """A member connected to another node: a name and a group, nothing to write to."""
        member = cls(name, name_key(name), _nowhere, _nowhere, node, _Elsewhere, node=node, id=id)
        member.group = group
        return member

    def __repr__(self) -> str:
        return f"<Member {self.name!r} ({self.group}) from {self.peer}>"


class Room:
    """
    One chat room with a fixed capacity.

    Names are unique case-insensitively among members and those still
    registering: a name is reserved when chosen, before the group is asked for,
    so nobody can take it in between.

    The operations everyone must see in one order (join, leave, public
    message, rename) are checked here, handed to the L{bus <Bus>}, and
    applied when the bus says so (the C{applied_*} methods): at once with the
    default L{LocalBus}; when they come back from Redis in a cluster, where
    the room also holds the members of the other nodes (C{member.node} set).
    """

    def __init__(
        self,
        capacity: int,
        fanout: Fanout | None = None,
        journal: Journal | None = None,
        history: History | None = None,
        moderation: Moderation | None = None,
        bus: Bus | None = None,
    ) -> None:
        self.capacity = capacity
        self.fanout = fanout if fanout is not None else Fanout()
        # The recent public messages a newcomer is shown; None: none kept.
        self.history = history
        # Operators, bans and mutes; without a password nobody becomes an operator.
        self.moderation = moderation if moderation is not None else Moderation()
        # What the metrics report (plain integers; see chatroom.stats).
        self.counts = Counts()
        # Unless told otherwise, the log keeps the fan-out's pace: one event a turn.
        self.journal = journal if journal is not None else Journal(self.fanout.schedule)
        self.bus: Bus = bus if bus is not None else LocalBus()
        self.bus.attach(self)
        self._names: dict[str, Member] = {}  # this node's members and registrants
        self._remote: dict[str, Member] = {}  # members on other nodes, by name key
        self._present: dict[Member, None] = {}  # everyone joined, in joining order
        self._closing = False
        # Live member lists (the browser's sidebar): off until a door wants them.
        self.live_roster = False
        self._roster_due = False

    @property
    def online(self) -> int:
        """How many members have joined (registering people don't count)."""
        return len(self._present)

    def find(self, name: str) -> Member | None:
        """The joined member called C{name} (any case), if any."""
        key = name_key(name)
        member = self._names.get(key)
        if member is not None and member in self._present:
            return member
        return self._remote.get(key)

    def is_present(self, member: Member) -> bool:
        """Has C{member} joined (and not left)?"""
        return member in self._present

    def holder(self, key: str) -> Member | None:
        """The member of this node holding or registering the name key C{key}, if any."""
        return self._names.get(key)

    def roster(self) -> list[tuple[str, str]]:
        """(name, group) of every member, in joining order."""
        return [(member.name, member.group) for member in self._present]

    def reserve(
        self,
        raw_name: str,
        send: Callable[[bytes], None],
        close: Callable[[], None],
        peer: str,
        audience: Audience,
        address: str = "",
    ) -> Member:
        """
        Reserve a name for someone who is registering.

        @raise RuleError: the name is invalid or taken; the message says which.
        """
        name = normalize_name(raw_name)
        key = name_key(name)
        holder = self._names.get(key)
        if holder is not None or key in self._remote:
            if holder is not None and holder.probe is not None:
                holder.probe()
            raise NameTaken(messages.NAME_TAKEN, name=name)
        member = Member(name, key, send, close, peer, audience, address=address)
        self._names[key] = member
        return member

    def claim(self, member: Member) -> Deferred[None] | None:
        """
        Make a reserved name the member's across the cluster.

        @return: L{None} when it is theirs already (always, in one process);
            otherwise a Deferred that fires once it is, or fails with
            L{NameTaken} (the reservation is then dropped).
        """
        pending = self.bus.claim(member)
        if pending is not None:
            pending.addErrback(self._unclaimed, member)
        return pending

    def _unclaimed(self, failure, member: Member):
        if self._names.get(member.key) is member:
            del self._names[member.key]
        return failure

    def join(self, member: Member, raw_group: str, now: float) -> Deferred[None] | None:
        """
        Let a member with a reserved name in, with their group.

        @return: L{None} once in (always, in one process); otherwise a
            Deferred for the moment they are, in the room's one order.
        @raise RuleError: the group is invalid.
        """
        member.group = normalize_group(raw_group)
        return self.bus.join(member, now)

    def applied_join(self, member: Member, now: float) -> None:
        """The bus says: C{member} is in now."""
        present = self._present
        if member in present:
            return
        present[member] = None
        online = len(present)
        fanout = self.fanout
        if member.node is not None:
            self._remote[member.key] = member
            fanout.broadcast(events.Joined(now, member.name, member.group, online, self.capacity))
            self._changed()
            return
        fanout.add(member)
        self.counts.registrations += 1
        fanout.direct(member, events.Registered(member.name, member.group, online, self.capacity))
        if self.history is not None:
            # Right after the confirmation, before anything live.
            fanout.direct_many(member, self.history.replay())
        fanout.broadcast(
            events.Joined(now, member.name, member.group, online, self.capacity), exclude=member
        )
        self._changed()
        self.journal.info(
            "joined: {name} ({group}) from {peer}, {online}/{capacity} online",
            name=member.name,
            group=member.group,
            peer=member.peer,
            online=online,
            capacity=self.capacity,
        )

    def leave(
        self, member: Member, now: float, reason: str, by: str = "", why: str = "", minutes: int = 0
    ) -> None:
        """
        Take a member (or a half-registered name) out; the others are told (who
        removed them, C{by}, and C{why}, if an operator did).
        """
        names = self._names
        if names.get(member.key) is member:
            del names[member.key]
        if member.pending is not None and names.get(member.pending) is member:
            del names[member.pending]
        left = None
        if member in self._present:
            del self._present[member]
            self.fanout.remove(member)
            self.moderation.left(member.key)
            if self._closing:
                self._log_leave(member, reason)
            else:
                left = events.Left(now, member.name, member.group, 0, 0, by, why, minutes)
        self.bus.leave(member, now, reason, left)

    def applied_leave(self, member: Member, left: events.Left, reason: str = "") -> None:
        """
        The bus says: C{member} has left (or their node is gone), as C{left}
        tells (the counts in it are this room's to fill in).
        """
        if member.node is not None:
            if member not in self._present:
                return
            del self._present[member]
            if self._remote.get(member.key) is member:
                del self._remote[member.key]
        if not self._closing:
            left.online, left.max = len(self._present), self.capacity
            self.fanout.broadcast(left)
            self._changed()
        if member.node is None:
            self._log_leave(member, reason)

    def _log_leave(self, member: Member, reason: str) -> None:
        self.journal.info(
            "left: {name} ({group}) from {peer}: {reason}",
            name=member.name,
            group=member.group,
            peer=member.peer,
            reason=reason,
        )

    def say(self, member: Member, text: str, now: float) -> None:
        """
        A public message: every other member gets it, once.

        @raise Muted: an operator muted this member; the error says for how long.
        """
        if self.moderation.mutes:
            left = self.moderation.muted(member.key, now)
            if left:
                raise Muted(messages.MUTED, minutes=minutes_left(now + left, now))
        self.bus.say(member, clean(text), now)

    def applied_say(self, member: Member, text: str, now: float) -> None:
        """The bus says: C{member} said C{text} to everyone."""
        event = events.Public(now, member.name, member.group, text)
        if self.history is not None:
            self.history.record(event)
        if member.node is not None:
            self.fanout.broadcast(event)
            return
        fanout = self.fanout
        fanout.broadcast(event, exclude=member)
        if getattr(member.audience, "confirms", False):
            # Said once it is applied: in a cluster, when it came back from
            # Redis in the room's order, not when it was handed to the bus.
            fanout.direct(member, events.PublicSent(now, text))
        self.journal.info("public {name}: {text}", name=member.name, text=text)

    def whisper(self, member: Member, raw_target: str, text: str, now: float) -> None:
        """
        A private message to one member; the sender gets a copy as confirmation.

        Deliberately not logged: the server never keeps private text.

        @raise RuleError: nobody by that name is online, or it is the sender.
        """
        target = self.find(raw_target)
        if target is None:
            raise NoSuchUser(messages.NO_SUCH_USER, name=clean(raw_target))
        if target is member:
            raise NoSuchUser(messages.THAT_IS_YOU)
        text = clean(text)
        if target.node is None:
            self.fanout.direct(target, events.Private(now, member.name, member.group, text))
        else:
            self.bus.whisper(member, target, text, now)
        self.fanout.direct(member, events.PrivateSent(now, target.name, text))

    def show(self, member: Member) -> None:
        """A member of another node is here, without a word (a roster rebuilt)."""
        if member not in self._present:
            self._present[member] = None
            self._remote[member.key] = member
            self._changed()

    def hide(self, member: Member) -> None:
        """A member of another node is out of reach, without a word (the room is split)."""
        if self._present.pop(member, 0) is None:
            if self._remote.get(member.key) is member:
                del self._remote[member.key]
            self._changed()

    def rename(self, member: Member, raw_name: str, now: float) -> None:
        """
        Change a member's name under the registration rules; everyone is told.

        @raise RuleError: the new name is invalid, taken, or the same.
        """
        name = normalize_name(raw_name)
        key = name_key(name)
        if name == member.name:
            raise NameTaken(messages.ALREADY_CALLED, name=name)
        holder = self._names.get(key) or self._remote.get(key)
        if holder is not None and holder is not member:
            raise NameTaken(messages.NAME_TAKEN, name=name)
        if member.pending is not None:
            raise NameTaken(messages.RENAME_UNDER_WAY)
        if key != member.key:
            self._names[key] = member
            member.pending = key
        self.bus.rename(member, name, now)

    def applied_rename(self, member: Member, name: str, now: float) -> None:
        """The bus says: C{member} is called C{name} now."""
        old, key = member.name, name_key(name)
        if key != member.key:
            self.moderation.renamed(member.key, key)  # a mute follows the person
        if member.node is not None:
            if self._remote.get(member.key) is member:
                del self._remote[member.key]
            member.name, member.key = name, key
            if member in self._present:
                self._remote[key] = member
                self.fanout.broadcast(events.Renamed(now, old, name))
                self._changed()
            return
        names = self._names
        if key != member.key and names.get(member.key) is member:
            del names[member.key]
        if member.pending == key:
            member.pending = None
        names[key] = member
        member.name, member.key = name, key
        if member in self._present:
            self.fanout.broadcast(events.Renamed(now, old, name))
            self._changed()
            self.journal.info("renamed: {old} is now {new}", old=old, new=name)

    def rename_refused(self, member: Member, name: str) -> None:
        """The bus says: C{name} was taken elsewhere first; the member keeps theirs."""
        key = member.pending
        member.pending = None
        if key is not None and self._names.get(key) is member:
            del self._names[key]
        if member in self._present:
            self.fanout.direct(member, events.Error(Text(messages.NAME_TAKEN, name=name)))

    def notify(self, member: Member, event: Event) -> None:
        """An event for one member only (a reply, an error), in order with their traffic."""
        self.fanout.direct(member, event)

    def flush(self) -> None:
        """Deliver everything queued now, rather than at the end of the turn."""
        self.fanout.flush()

    def release(self, member: Member) -> None:
        """Deliver now the last lines queued for a member that has left."""
        self.fanout.release(member)

    def tell_muted(self, member: Member, by: str, minutes: int) -> None:
        """Tell C{member}, if here, that C{by} muted them for C{minutes}."""
        if self.is_present(member):
            duration = Text(messages.FOR_MINUTES, minutes=minutes)
            self.notify(
                member, events.Notice(Text(messages.YOU_ARE_MUTED, by=by, duration=duration))
            )

    def tell_unmuted(self, member: Member, by: str) -> None:
        """Tell C{member}, if here, that C{by} lifted their mute."""
        if self.is_present(member):
            self.notify(member, events.Notice(Text(messages.YOU_ARE_UNMUTED, by=by)))

    def announce(self, text: Text) -> None:
        """A notice for every member."""
        self.fanout.broadcast(events.Notice(text))

    def roster_event(self, asked: bool = True) -> events.Roster:
        """Who is here, as an event (the answer to /online)."""
        operators = self.moderation.operators
        ops = tuple(member.name for member in self.fanout if member.key in operators)
        return events.Roster(tuple(self.roster()), self.online, self.capacity, asked, ops)

    def remove(self, member: Member, by: Member, now: float, why: str, minutes: int = 0) -> None:
        """
        An operator removes a member: last words to them (who, why, and for
        how long with a ban of C{minutes}), the room told the same, and the
        connection closed.  A member on another node is removed by that node.
        """
        if member.node is not None:
            self.bus.remove(member, by.name, now, why, minutes)
            return
        reason = why or Text(messages.NO_REASON)
        if minutes:
            duration = Text(messages.FOR_MINUTES, minutes=minutes)
            last = Text(messages.BANNED_YOU, by=by.name, reason=reason, duration=duration)
        else:
            last = Text(messages.KICKED_YOU, by=by.name, reason=reason)
        self.fanout.direct(member, events.Bye(last, error=True))
        if minutes and self.history is not None:
            self.history.forget(member.name)  # a latecomer is not shown the spam
        self.leave(
            member, now, f"{'banned' if minutes else 'kicked'} by {by.name}", by.name, why, minutes
        )
        self.fanout.release(member)
        self.counts.disconnected("kicked")
        member.close()

    def announcement(self, member: Member, text: str, now: float) -> None:
        """An operator's notice to everyone, the operator included."""
        self.bus.announce(member, clean(text), now)

    def applied_announcement(self, member: Member, text: str, now: float) -> None:
        """The bus says: an operator (C{member}, maybe elsewhere) announced C{text}."""
        self.fanout.broadcast(events.Announcement(now, member.name, text))
        if member.node is None:
            self.journal.info("moderation: {name} announced: {text}", name=member.name, text=text)

    def _changed(self) -> None:
        """
        Who is here changed: with L{live_roster} on, everyone gets the new
        list (a L{events.Roster} the line door doesn't show), at most once a
        reactor turn however many joined, left or renamed in it.  A full list
        to everyone is N squared in bytes; coalescing keeps that per turn,
        not per change.
        """
        if not self.live_roster or self._roster_due:
            return
        schedule = self.fanout.schedule
        if schedule is None:
            self._live_roster()
        else:
            self._roster_due = True
            schedule(self._live_roster)

    def _live_roster(self) -> None:
        self._roster_due = False
        if not self._closing:
            self.fanout.broadcast(self.roster_event(asked=False))

    def close(self, now: float) -> None:
        """
        The server is stopping: tell everyone, now.  Leaves from here on are
        not announced (a room of N emptying would cost N squared notices).
        """
        self.fanout.broadcast(events.Shutdown(now))
        self.fanout.flush()
        self._closing = True
        self.journal.info("shutting down: {online} members told", online=self.online)
