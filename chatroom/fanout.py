# -*- test-case-name: tests.test_fanout -*-
"""
Delivery of encoded lines to the members of a room, coalesced per reactor turn.

A busy room's cost is deliveries: messages times recipients.  Writing each
message to each transport separately costs a Python call (and a system call)
per delivery.  Instead the room hands us each message once; we queue it, and
at the end of the reactor turn (C{schedule}) every recipient gets one write
with everything queued for it.  With ten messages in a turn that is a tenth of
the calls.

Per-recipient order is the order the room produced things in: a batch is a
list of broadcasts and direct lines, and a recipient's write is that list,
filtered for it.  Membership may change in the middle of a batch (a crowd
joining in one turn costs one write per member, not one per join): a joiner
gets only what was queued after it joined, a leaver everything queued before
it left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from twisted.logger import Logger


class Recipient(Protocol):
    """Anything with a C{send(bytes)}: the room's members."""

    def send(self, data: bytes) -> None: ...


# A queued line: (data, excluded, target).  A broadcast has target None and
# goes to everyone but C{excluded}; a direct line goes to C{target} only.
Entry = tuple[bytes, "Recipient | None", "Recipient | None"]


class Fanout:
    """
    Delivers to a set of recipients, now or at the end of the reactor turn.

    @param schedule: called with a function to run soon (C{lambda f:
        reactor.callLater(0, f)}); L{None} delivers every line at once, which
        is what unit tests of the rules want.
    """

    log = Logger()

    def __init__(self, schedule: Callable[[Callable[[], None]], object] | None = None) -> None:
        self.schedule = schedule
        # dict as an ordered set: O(1) removal, delivery in join order.
        self._members: dict[Recipient, None] = {}
        self._batch: list[Entry] = []
        # Where in the current batch a member joined or left.
        self._joined: dict[Recipient, int] = {}
        self._left: dict[Recipient, int] = {}

    def __len__(self) -> int:
        return len(self._members)

    def __iter__(self) -> Iterator[Recipient]:
        return iter(self._members)

    def __contains__(self, member: object) -> bool:
        return member in self._members

    def add(self, member: Recipient) -> None:
        if self._batch:
            self._joined[member] = len(self._batch)
        self._members[member] = None

    def remove(self, member: Recipient) -> None:
        if self._members.pop(member, 0) is None and self._batch:
            self._left[member] = len(self._batch)

    def release(self, member: Recipient) -> None:
        """
        Deliver now what is queued for a member that has left, so its
        connection can close behind its last lines; everyone else still gets
        theirs at the end of the turn, together with whatever else comes.
        """
        end = self._left.pop(member, None)
        if end is None:
            return
        own = b"".join(
            [
                data
                for data, excluded, target in self._batch[:end]
                if target is member or (target is None and excluded is not member)
            ]
        )
        if own:
            self._send(member, own)

    def broadcast(self, data: bytes, exclude: Recipient | None = None) -> None:
        """Queue C{data} for every member except C{exclude}."""
        if self.schedule is None:
            self._deliver([(data, exclude, None)], list(self._members), (), {}, {})
            return
        if not self._batch:
            self.schedule(self.flush)
        self._batch.append((data, exclude, None))

    def direct(self, member: Recipient, data: bytes) -> None:
        """Queue C{data} for one member, behind whatever is already queued for it."""
        if not self._batch:
            # Nothing queued, so nothing to keep order with: write now.
            self._send(member, data)
        else:
            self._batch.append((data, None, member))

    def flush(self) -> None:
        """Deliver everything queued (the scheduled call, or when order demands it)."""
        batch = self._batch
        if not batch:
            return
        joined, left = self._joined, self._left
        self._batch, self._joined, self._left = [], {}, {}
        # A send may end up closing a connection (a slow reader), whose leave
        # changes the membership: deliver to a snapshot.
        self._deliver(batch, list(self._members), (*joined, *left), joined, left)

    def _deliver(
        self,
        batch: list[Entry],
        members: list[Recipient],
        changed: tuple[Recipient, ...],
        joined: dict[Recipient, int],
        left: dict[Recipient, int],
    ) -> None:
        if len(batch) == 1 and not changed:
            data, excluded, target = batch[0]
            if target is not None:
                self._send(target, data)
                return
            for member in members:
                if member is not excluded:
                    try:
                        member.send(data)
                    except Exception:
                        self._failed(member)
            return
        # Members with a write of their own: excluded from a broadcast,
        # target of a direct line, or joined or left during the batch.
        special: set[Recipient] = set(changed)
        common: list[bytes] = []
        for data, excluded, target in batch:
            if target is None:
                common.append(data)
                if excluded is not None:
                    special.add(excluded)
            else:
                special.add(target)
        blob = b"".join(common)
        if blob:
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
            start = joined.get(member, 0)
            end = left.get(member, size)
            own = b"".join(
                [
                    data
                    for data, excluded, target in batch[start:end]
                    if target is member or (target is None and excluded is not member)
                ]
            )
            if own:
                self._send(member, own)

    def _send(self, member: Recipient, data: bytes) -> None:
        try:
            member.send(data)
        except Exception:
            self._failed(member)

    def _failed(self, member: Recipient) -> None:
        # One broken recipient must never stop a broadcast: log the bug, go on.
        self.log.failure("delivery to {member!r} failed", member=member)
