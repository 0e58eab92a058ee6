# -*- test-case-name: tests.test_room -*-
"""
The room: who is here, what they are called, and who hears what.

No sockets and no clock: front doors (the line protocol today, a WebSocket or a
Redis bus later) hand us callables and the current time.  Each message is
formatted and encoded once, then given to the L{Fanout} for every recipient.
"""

from __future__ import annotations

from collections.abc import Callable

from chatroom import messages
from chatroom.fanout import Fanout
from chatroom.journal import Journal
from chatroom.names import RuleError, name_key, normalize_group, normalize_name
from chatroom.text import clean


class NameTaken(RuleError):
    pass


class NoSuchUser(RuleError):
    pass


def encode(text: str) -> bytes:
    """One line on the wire: UTF-8, ended with CRLF."""
    return (text + "\r\n").encode("utf-8")


class Member:
    """
    One person: their name from the moment it is reserved, their group once joined.

    @ivar send: writes encoded lines to this person's connection.
    @ivar close: ends this person's connection.
    """

    __slots__ = ("name", "key", "group", "send", "close", "peer")

    def __init__(
        self,
        name: str,
        key: str,
        send: Callable[[bytes], None],
        close: Callable[[], None],
        peer: str,
    ) -> None:
        self.name = name
        self.key = key
        self.group = ""
        self.send = send
        self.close = close
        self.peer = peer

    def __repr__(self) -> str:
        return f"<Member {self.name!r} ({self.group}) from {self.peer}>"


class Room:
    """
    One chat room with a fixed capacity.

    Names are unique case-insensitively among members and those still
    registering: a name is reserved when chosen, before the group is asked for,
    so nobody can take it in between.
    """

    def __init__(
        self, capacity: int, fanout: Fanout | None = None, journal: Journal | None = None
    ) -> None:
        self.capacity = capacity
        self.fanout = fanout if fanout is not None else Fanout()
        # Unless told otherwise, the log keeps the fan-out's pace: one event a turn.
        self.journal = journal if journal is not None else Journal(self.fanout.schedule)
        self._names: dict[str, Member] = {}
        self._clock = messages.Clock()
        self._closing = False

    @property
    def online(self) -> int:
        """How many members have joined (registering people don't count)."""
        return len(self.fanout)

    def find(self, name: str) -> Member | None:
        """The joined member called C{name} (any case), if any."""
        member = self._names.get(name_key(name))
        return member if member is not None and member in self.fanout else None

    def roster(self) -> list[tuple[str, str]]:
        """(name, group) of every member, in joining order."""
        return [(member.name, member.group) for member in self.fanout]

    def reserve(
        self, raw_name: str, send: Callable[[bytes], None], close: Callable[[], None], peer: str
    ) -> Member:
        """
        Reserve a name for someone who is registering.

        @raise RuleError: the name is invalid or taken; the message says which.
        """
        name = normalize_name(raw_name)
        key = name_key(name)
        if key in self._names:
            raise NameTaken(f"the name {name} is taken; pick another.")
        member = Member(name, key, send, close, peer)
        self._names[key] = member
        return member

    def join(self, member: Member, raw_group: str, now: float) -> None:
        """
        Let a member with a reserved name in, with their group.

        @raise RuleError: the group is invalid.
        """
        member.group = normalize_group(raw_group)
        fanout = self.fanout
        fanout.add(member)
        online = len(fanout)
        fanout.direct(
            member, encode(messages.registered(member.name, member.group, online, self.capacity))
        )
        stamp = self._clock.stamp(now)
        fanout.broadcast(
            encode(messages.joined(stamp, member.name, member.group, online, self.capacity)),
            exclude=member,
        )
        self.journal.info(
            "joined: {name} ({group}) from {peer}, {online}/{capacity} online",
            name=member.name,
            group=member.group,
            peer=member.peer,
            online=online,
            capacity=self.capacity,
        )

    def leave(self, member: Member, now: float, reason: str) -> None:
        """Take a member (or a half-registered name) out; the others are told."""
        if self._names.get(member.key) is member:
            del self._names[member.key]
        if member not in self.fanout:
            return
        self.fanout.remove(member)
        if not self._closing:
            self.fanout.broadcast(
                encode(messages.left(self._clock.stamp(now), member.name, member.group))
            )
        self.journal.info(
            "left: {name} ({group}) from {peer}: {reason}",
            name=member.name,
            group=member.group,
            peer=member.peer,
            reason=reason,
        )

    def say(self, member: Member, text: str, now: float) -> None:
        """A public message: every other member gets it, once."""
        text = clean(text)
        self.fanout.broadcast(
            encode(messages.public(self._clock.stamp(now), member.name, member.group, text)),
            exclude=member,
        )
        self.journal.info("public {name}: {text}", name=member.name, text=text)

    def whisper(self, member: Member, raw_target: str, text: str, now: float) -> None:
        """
        A private message to one member; the sender gets a copy as confirmation.

        Deliberately not logged: the server never keeps private text.

        @raise RuleError: nobody by that name is online, or it is the sender.
        """
        target = self.find(raw_target)
        if target is None:
            raise NoSuchUser(f"nobody called {clean(raw_target)} is online; /online lists who is.")
        if target is member:
            raise NoSuchUser("that is you; /msg is for someone else.")
        text = clean(text)
        stamp = self._clock.stamp(now)
        self.fanout.direct(
            target, encode(messages.private_received(stamp, member.name, member.group, text))
        )
        self.fanout.direct(member, encode(messages.private_sent(stamp, target.name, text)))

    def rename(self, member: Member, raw_name: str, now: float) -> None:
        """
        Change a member's name under the registration rules; everyone is told.

        @raise RuleError: the new name is invalid, taken, or the same.
        """
        name = normalize_name(raw_name)
        key = name_key(name)
        if name == member.name:
            raise NameTaken(f"you are already called {name}.")
        holder = self._names.get(key)
        if holder is not None and holder is not member:
            raise NameTaken(f"the name {name} is taken; pick another.")
        old = member.name
        del self._names[member.key]
        member.name, member.key = name, key
        self._names[key] = member
        self.fanout.broadcast(encode(messages.renamed(self._clock.stamp(now), old, name)))
        self.journal.info("renamed: {old} is now {new}", old=old, new=name)

    def notify(self, member: Member, text: str) -> None:
        """A line for one member only (a reply, an error), in order with their traffic."""
        self.fanout.direct(member, encode(text))

    def flush(self) -> None:
        """Deliver everything queued now, rather than at the end of the turn."""
        self.fanout.flush()

    def release(self, member: Member) -> None:
        """Deliver now the last lines queued for a member that has left."""
        self.fanout.release(member)

    def announce(self, text: str) -> None:
        """A line for every member (server notices)."""
        self.fanout.broadcast(encode(text))

    def close(self, now: float) -> None:
        """
        The server is stopping: tell everyone, now.  Leaves from here on are
        not announced (a room of N emptying would cost N squared notices).
        """
        self.announce(messages.shutting_down(self._clock.stamp(now)))
        self.fanout.flush()
        self._closing = True
        self.journal.info("shutting down: {online} members told", online=self.online)

    def stamp(self, now: float) -> str:
        return self._clock.stamp(now)
