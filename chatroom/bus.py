# -*- test-case-name: tests.test_room -*-
"""
The interface between the room and whatever carries its operations.

The room decides what may happen (a name is valid and free here, a group is
valid, the target of /msg exists); a bus decides I{when} it happens.  The
room hands each operation that everyone must see in one order (joins, leaves,
public messages, renames) to its bus, and the bus calls the room back to
apply it: L{LocalBus} at once, in the same call, so one process behaves and
performs exactly as it always did; the Redis bus (L{chatroom.cluster.node})
when the operation comes back from Redis's one ordered channel, on every
node, the originating one included.
"""

from __future__ import annotations

from typing import Protocol

from twisted.internet.defer import Deferred

from chatroom.events import Left


class Member(Protocol):
    """A room member as a bus carries it (L{chatroom.room.Member})."""

    name: str
    key: str
    group: str


class Room(Protocol):
    """
    What a bus calls back to apply an operation (L{chatroom.room.Room}): the
    bus is written against this, so it does not import the room it serves.
    """

    def applied_join(self, member: Member, now: float) -> None: ...

    def applied_leave(self, member: Member, left: Left, reason: str) -> None: ...

    def applied_say(self, member: Member, text: str, now: float) -> None: ...

    def applied_rename(self, member: Member, name: str, now: float) -> None: ...

    def applied_announcement(self, member: Member, text: str, now: float) -> None: ...


class Bus(Protocol):
    """What the room asks of a bus; the bus applies through the room's C{applied_*} methods."""

    def attach(self, room: Room) -> None:
        """The room this bus serves (called once, by the room)."""

    def claim(self, member: Member) -> Deferred[None] | None:
        """
        Make the member's (already locally free) name theirs.

        @return: L{None} if it is theirs now; otherwise a Deferred that fires
            once it is, or fails with L{chatroom.room.NameTaken}.
        """

    def join(self, member: Member, now: float) -> Deferred[None] | None:
        """Let a member in; L{None} if applied now, else a Deferred for when it is."""

    def leave(self, member: Member, now: float, reason: str, left: Left | None) -> None:
        """
        A local member is gone: free the name, and tell everyone C{left}
        (L{None}: nobody is to be told, they had not joined).
        """

    def say(self, member: Member, text: str, now: float) -> None:
        """A public message from a local member."""

    def rename(self, member: Member, name: str, now: float) -> None:
        """A local member takes C{name} (already reserved locally as C{member.pending})."""

    def whisper(self, member: Member, target: Member, text: str, now: float) -> None:
        """A private message to a member on another node."""

    def announce(self, member: Member, text: str, now: float) -> None:
        """An operator's announcement, for everyone."""

    def remove(self, target: Member, by: str, now: float, why: str, minutes: int) -> None:
        """An operator here kicks (C{minutes}: and bans) a member on another node."""

    def share(self, kind: str, data: dict[str, object]) -> None:
        """
        A moderation decision made here, for the other nodes to apply too:
        C{ban}, C{unban}, C{mute}, C{unmute} (see L{chatroom.cluster.node}).
        """


class LocalBus:
    """One process is the whole room: every operation is applied at once, here."""

    def __init__(self) -> None:
        self.room: Room | None = None

    def attach(self, room: Room) -> None:
        self.room = room
        # The hot path (a public message) costs no extra call: saying is applying.
        self.say = room.applied_say

    def claim(self, member: Member) -> None:
        return None

    def join(self, member: Member, now: float) -> None:
        self.room.applied_join(member, now)

    def leave(self, member: Member, now: float, reason: str, left: Left | None) -> None:
        if left is not None:
            self.room.applied_leave(member, left, reason)

    def say(self, member: Member, text: str, now: float) -> None:
        self.room.applied_say(member, text, now)

    def rename(self, member: Member, name: str, now: float) -> None:
        self.room.applied_rename(member, name, now)

    def whisper(self, member: Member, target: Member, text: str, now: float) -> None:
        raise AssertionError("one process has no members on other nodes")

    def announce(self, member: Member, text: str, now: float) -> None:
        self.room.applied_announcement(member, text, now)

    def remove(self, target: Member, by: str, now: float, why: str, minutes: int) -> None:
        raise AssertionError("one process has no members on other nodes")

    def share(self, kind: str, data: dict[str, object]) -> None:
        """Nobody else to tell."""
