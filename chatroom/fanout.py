# -*- test-case-name: tests.test_fanout -*-
"""
Delivery of encoded lines to the members of a room, coalesced per reactor turn.

A busy room's cost is deliveries: messages times recipients.  Writing each
message to each transport separately costs a Python call per delivery.  Instead
the room hands us each message once; we queue it, and at the end of the reactor
turn (C{schedule}) every recipient gets one write with everything queued for it.
With ten messages in a turn that is a tenth of the calls.

Per-recipient order is the order the room produced things in: a batch is a
list of broadcasts and direct lines, and a recipient's write is that list,
filtered for it.  Membership changes flush first, so nobody gets a line from
before they joined, and a leaver gets everything up to their leaving.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from twisted.logger import Logger


class Recipient(Protocol):
    """Anything with a C{send(bytes)}: the room's members."""

    def send(self, data: bytes) -> None: ...


class Fanout:
    """
    Delivers to a set of recipients, now or at the end of the reactor turn.

    @param schedule: called with a function to run soon (C{lambda f:
        reactor.callLater(0, f)}); L{None} delivers every line at once, which
        is what unit tests of the rules want.
    """

    log = Logger()

    def __init__(self, schedule: Callable[[Callable[[], None]], object] | None = None) -> None:
        self._schedule = schedule
        # dict as an ordered set: O(1) removal, delivery in join order.
        self._members: dict[Recipient, None] = {}
        # (data, excluded, target): a broadcast has target None.
        self._batch: list[tuple[bytes, Recipient | None, Recipient | None]] = []

    def __len__(self) -> int:
        return len(self._members)

    def __iter__(self):
        return iter(self._members)

    def __contains__(self, member: object) -> bool:
        return member in self._members

    def add(self, member: Recipient) -> None:
        self.flush()
        self._members[member] = None

    def remove(self, member: Recipient) -> None:
        self.flush()
        self._members.pop(member, None)

    def broadcast(self, data: bytes, exclude: Recipient | None = None) -> None:
        """Queue C{data} for every member except C{exclude}."""
        self._queue((data, exclude, None))

    def direct(self, member: Recipient, data: bytes) -> None:
        """Queue C{data} for one member, behind whatever is already queued for it."""
        if not self._batch:
            # Nothing queued, so nothing to keep order with: write now.
            self._send(member, data)
        else:
            self._batch.append((data, None, member))

    def _queue(self, entry: tuple[bytes, Recipient | None, Recipient | None]) -> None:
        if self._schedule is None:
            self._batch.append(entry)
            self.flush()
            return
        if not self._batch:
            self._schedule(self.flush)
        self._batch.append(entry)

    def flush(self) -> None:
        """Deliver everything queued (the scheduled call, or before a membership change)."""
        batch = self._batch
        if not batch:
            return
        self._batch = []
        # A send may end up closing a connection (slow reader), whose leave
        # changes the membership: iterate over a snapshot.
        members = list(self._members)
        if len(batch) == 1:
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
        special: set[Recipient] = set()
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
        for member in special:
            own = b"".join(
                [
                    data
                    for data, excluded, target in batch
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
