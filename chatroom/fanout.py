# -*- test-case-name: tests.test_fanout -*-
"""
Delivery of the room's events to its members, rendered once per audience and
coalesced per reactor turn.

A busy room's cost is deliveries: messages times recipients.  Two things keep
it down.  First, an event is rendered once per I{audience} (a wire format and
a language, see L{Audience}) present in the room, and the same bytes go to
every member of that audience: never a rendering per recipient.  Second, the
room hands us each event once; we queue it, and at the end of the reactor
turn (C{schedule}) every recipient gets one write with everything queued for
it.  With ten messages in a turn that is a tenth of the calls.

Per-recipient order is the order the room produced things in: a batch is a
list of broadcasts and direct events, and a recipient's write is that list,
filtered for it.  Membership may change in the middle of a batch (a crowd
joining in one turn costs one write per member, not one per join): a joiner
gets only what was queued after it joined, a leaver everything queued before
it left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from twisted.logger import Logger

from chatroom.events import Event


class Audience(Protocol):
    """
    Everyone who reads the same bytes for the same event: one wire, one language.

    Audiences are shared objects (one per wire and language), so the fan-out
    can group members by them.
    """

    def render(self, event: Event) -> bytes:
        """C{event} for this wire and language; C{b""} when it shows nothing."""

    def pack(self, pieces: list[bytes]) -> bytes:
        """Several rendered events (in order) as one write."""

    # An audience may also say C{confirms = True}: its members are told when
    # their own public line went out (L{chatroom.events.PublicSent}).


class Recipient(Protocol):
    """The room's members: a C{send(bytes)} and the audience they belong to."""

    audience: Audience

    def send(self, data: bytes) -> None: ...


# A queued event: (event, excluded, target).  A broadcast has target None and
# goes to everyone but C{excluded}; a direct event goes to C{target} only.
Entry = tuple[Event, "Recipient | None", "Recipient | None"]


class Fanout:
    """
    Delivers to a set of recipients, now or at the end of the reactor turn.

    @param schedule: called with a function to run soon (C{lambda f:
        reactor.callLater(0, f)}); L{None} delivers every event at once, which
        is what unit tests of the rules want.
    """

    log = Logger()

    def __init__(self, schedule: Callable[[Callable[[], None]], object] | None = None) -> None:
        self.schedule = schedule
        # dicts as ordered sets: O(1) removal, delivery in join order.
        self._members: dict[Recipient, None] = {}
        self._audiences: dict[Audience, dict[Recipient, None]] = {}
        self._batch: list[Entry] = []
        # Where in the current batch a member joined or left.
        self._joined: dict[Recipient, int] = {}
        self._left: dict[Recipient, int] = {}
        # For the metrics: events delivered (one per recipient) and bytes
        # handed to the doors, added up per write group, never per recipient.
        self.delivered = 0
        self.sent_bytes = 0

    def __len__(self) -> int:
        return len(self._members)

    def __iter__(self) -> Iterator[Recipient]:
        return iter(self._members)

    def __contains__(self, member: object) -> bool:
        return member in self._members

    def audiences(self) -> list[Audience]:
        """The audiences present, each once."""
        return list(self._audiences)

    def add(self, member: Recipient) -> None:
        if self._batch:
            self._joined[member] = len(self._batch)
        self._members[member] = None
        group = self._audiences.get(member.audience)
        if group is None:
            group = self._audiences[member.audience] = {}
        group[member] = None

    def remove(self, member: Recipient) -> None:
        if self._members.pop(member, 0) is None:
            group = self._audiences[member.audience]
            del group[member]
            if not group:
                del self._audiences[member.audience]
            if self._batch:
                self._left[member] = len(self._batch)

    def regroup(self, member: Recipient, audience: Audience) -> None:
        """
        Move a member to another audience (a change of language): what is
        queued for them so far goes out now, in the audience it was meant
        for; what comes after, at the end of the turn, in the new one.
        Everyone else's batch is left alone (one write each this turn still),
        so switching languages back and forth costs the room nothing.
        """
        if member not in self._members:
            member.audience = audience
            return
        if self._batch:
            self._send_share(member, self._batch[self._joined.get(member, 0) :])
        self.remove(member)
        self._left.pop(member, None)
        member.audience = audience
        self.add(member)

    def release(self, member: Recipient) -> None:
        """
        Deliver now what is queued for a member that has left, so its
        connection can close behind its last lines; everyone else still gets
        theirs at the end of the turn, together with whatever else comes.
        """
        end = self._left.pop(member, None)
        if end is not None:
            self._send_share(member, self._batch[:end])

    def _send_share(self, member: Recipient, entries: list[Entry]) -> None:
        """What of C{entries} is for C{member}, rendered for its audience, in one write."""
        self._write(
            member,
            [
                event
                for event, excluded, target in entries
                if target is member or (target is None and excluded is not member)
            ],
        )

    def _write(self, member: Recipient, events: list[Event] | tuple[Event, ...]) -> None:
        """C{events} for one member, rendered for its audience, in one write (if any show)."""
        audience = member.audience
        render = audience.render
        pieces = [piece for event in events if (piece := render(event))]
        if pieces:
            self._send(member, audience.pack(pieces), len(pieces))

    def broadcast(self, event: Event, exclude: Recipient | None = None) -> None:
        """Queue C{event} for every member except C{exclude}."""
        if self.schedule is None:
            self._deliver([(event, exclude, None)], self._snapshot(), (), {}, {})
            return
        if not self._batch:
            self.schedule(self.flush)
        self._batch.append((event, exclude, None))

    def direct(self, member: Recipient, event: Event) -> None:
        """Queue C{event} for one member, behind whatever is already queued for it."""
        if not self._batch:
            # Nothing queued, so nothing to keep order with: write now.
            self._write(member, (event,))
        else:
            self._batch.append((event, None, member))

    def direct_many(self, member: Recipient, events: list[Event]) -> None:
        """
        Queue several events for one member, in order: with nothing queued,
        they go out at once in one write (a newcomer's history, say).
        """
        if not events:
            return
        if not self._batch:
            self._write(member, events)
        else:
            self._batch.extend((event, None, member) for event in events)

    def flush(self) -> None:
        """Deliver everything queued (the scheduled call, or when order demands it)."""
        batch = self._batch
        if not batch:
            return
        joined, left = self._joined, self._left
        self._batch, self._joined, self._left = [], {}, {}
        # A send may end up closing a connection (a slow reader), whose leave
        # changes the membership: deliver to a snapshot.
        self._deliver(batch, self._snapshot(), (*joined, *left), joined, left)

    def _snapshot(self) -> list[tuple[Audience, list[Recipient]]]:
        return [(audience, list(group)) for audience, group in self._audiences.items()]

    def _deliver(
        self,
        batch: list[Entry],
        groups: list[tuple[Audience, list[Recipient]]],
        changed: tuple[Recipient, ...],
        joined: dict[Recipient, int],
        left: dict[Recipient, int],
    ) -> None:
        if len(batch) == 1 and not changed:
            event, excluded, target = batch[0]
            if target is not None:
                self._write(target, (event,))
                return
            for audience, members in groups:
                data = audience.render(event)
                if not data:
                    continue
                data = audience.pack([data])
                reached = len(members)
                if excluded is not None and excluded.audience is audience:
                    reached -= 1
                self.delivered += reached
                self.sent_bytes += reached * len(data)
                for member in members:
                    if member is not excluded:
                        try:
                            member.send(data)
                        except Exception:
                            self._failed(member)
            return
        # Members with a write of their own: excluded from a broadcast,
        # target of a direct event, or joined or left during the batch.
        special: set[Recipient] = set(changed)
        common: list[Event] = []
        for event, excluded, target in batch:
            if target is None:
                common.append(event)
                if excluded is not None:
                    special.add(excluded)
            else:
                special.add(target)
        # Each audience renders each event at most once: the common blob,
        # then whatever the special members need, from the same renderings.
        rendered: dict[Audience, list[bytes | None]] = {}
        for audience, members in groups:
            render = audience.render
            cache = rendered[audience] = [
                render(event) if target is None else None for event, _, target in batch
            ]
            if not common:
                continue
            pieces = [piece for piece in cache if piece]
            if not pieces:
                continue
            blob = audience.pack(pieces)
            current = self._members
            reached = len(members) - sum(
                1 for member in special if member.audience is audience and member in current
            )
            self.delivered += reached * len(pieces)
            self.sent_bytes += reached * len(blob)
            for member in members:
                if member not in special:
                    try:
                        member.send(blob)
                    except Exception:
                        self._failed(member)
        size = len(batch)
        current = self._members
        for member in special:
            if member not in current and member not in left:
                continue  # released early (see release), or long gone
            audience = member.audience
            cache = rendered.get(audience)
            if cache is None:
                cache = rendered[audience] = [None] * size
            start = joined.get(member, 0)
            end = left.get(member, size)
            own = []
            for index in range(start, end):
                event, excluded, target = batch[index]
                if target is member or (target is None and excluded is not member):
                    piece = cache[index]
                    if piece is None:
                        piece = cache[index] = audience.render(event)
                    if piece:
                        own.append(piece)
            if own:
                self._send(member, audience.pack(own), len(own))

    def _send(self, member: Recipient, data: bytes, events: int = 1) -> None:
        self.delivered += events
        self.sent_bytes += len(data)
        try:
            member.send(data)
        except Exception:
            self._failed(member)

    def _failed(self, member: Recipient) -> None:
        # One broken recipient must never stop a broadcast: log the bug, go on.
        self.log.failure("delivery to {member!r} failed", member=member)
