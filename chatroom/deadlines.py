# -*- test-case-name: tests.test_deadlines -*-
"""
Deadlines that all have the same length, kept with one timer per time slot
instead of one per item.

Every registering connection gets the same registration timeout.  A timer per
connection (TimeoutMixin's) costs a DelayedCall, a heap push and a cancellation
for each connect-and-register, about 5 % of the server's CPU in that loop
(docs/performance.md).  Here items due in the same slot share one timer: a
slot is a twentieth of the timeout (at most a second), which is how late an
item may expire.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable

from twisted.internet.interfaces import IDelayedCall, IReactorTime


class Deadlines:
    """Items that expire C{timeout} seconds after they are added, unless discarded."""

    def __init__(
        self, clock: IReactorTime, timeout: float, expire: Callable[[Hashable], None]
    ) -> None:
        self._clock = clock
        self._timeout = timeout
        self._slot = min(1.0, timeout / 20)
        self._expire = expire
        self._slots: dict[int, tuple[IDelayedCall, dict[Hashable, None]]] = {}

    def add(self, item: Hashable) -> int:
        """Start C{item}'s time; returns the ticket that L{discard} needs."""
        now = self._clock.seconds()
        slot = math.ceil((now + self._timeout) / self._slot)
        entry = self._slots.get(slot)
        if entry is None:
            timer = self._clock.callLater(slot * self._slot - now, self._fire, slot)
            entry = self._slots[slot] = (timer, {})
        entry[1][item] = None
        return slot

    def discard(self, item: Hashable, ticket: int) -> None:
        """C{item} is done in time (or gone); the last one out stops the timer."""
        entry = self._slots.get(ticket)
        if entry is not None:
            timer, items = entry
            items.pop(item, None)
            if not items:
                del self._slots[ticket]
                timer.cancel()

    def __len__(self) -> int:
        return sum(len(items) for _, items in self._slots.values())

    def _fire(self, slot: int) -> None:
        _, items = self._slots.pop(slot)
        for item in list(items):
            self._expire(item)
