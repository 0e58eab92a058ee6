# -*- test-case-name: tests.test_history -*-
"""
The room's recent public messages, replayed to each newcomer right after
they join, so a latecomer sees what was just said.

Only public messages are kept: joins, leaves and private messages never are.
A replay hands out events marked as history (C{Public(..., history=True)}):
ready events that each door renders with its marker
(C{[history]} on the line door, C{"history": true} in the JSON), and
nothing of it can be mistaken for a new line.

The room speaks to a L{History} only: L{LocalHistory} is a bounded deque in
this process.  A cluster backs the same two methods with the cluster's own
history (fed by every node's public messages, capped in Redis); replay
stays synchronous because each node keeps the recent window in memory.
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import Protocol

from chatroom.events import Public


class History(Protocol):
    """What the room needs of a history: keep a public message, give the recent ones."""

    def record(self, event: Public) -> None:
        """Keep C{event} (a public message just sent), dropping the oldest over the cap."""

    def replay(self) -> list[Public]:
        """The kept messages, oldest first, each marked C{history=True}."""

    def forget(self, name: str) -> None:
        """Drop C{name}'s messages: someone banned, whose spam latecomers shouldn't read."""


class LocalHistory:
    """
    The last C{size} public messages of this process, in a bounded deque.

    C{record} is on the path of every public message, so it only appends the
    event; the marked copies a replay hands out are made when someone joins,
    each message once (they are kept for the next newcomer).
    """

    __slots__ = ("size", "_events", "_marked", "_unmarked")

    def __init__(self, size: int) -> None:
        self.size = size
        self._events: deque[Public] = deque(maxlen=size)
        self._marked: deque[Public] = deque(maxlen=size)
        self._unmarked = 0  # recorded since the last replay

    def __len__(self) -> int:
        return len(self._events)

    def record(self, event: Public) -> None:
        self._events.append(event)
        self._unmarked += 1

    def events(self) -> list[Public]:
        """The kept messages as recorded, oldest first."""
        return list(self._events)

    def load(self, events: list[Public]) -> None:
        """Keep these instead (the last C{size}): a cluster's shared history, fetched."""
        self._events = deque(events, maxlen=self.size)
        self._marked = deque(maxlen=self.size)
        self._unmarked = len(self._events)

    def forget(self, name: str) -> None:
        if any(event.name == name for event in self._events):
            self.load([event for event in self._events if event.name != name])

    def replay(self) -> list[Public]:
        fresh = min(self._unmarked, self.size)
        if fresh:
            self._unmarked = 0
            events = self._events
            self._marked.extend(
                Public(e.time, e.name, e.group, e.text, True)
                for e in itertools.islice(events, len(events) - fresh, None)
            )
        return list(self._marked)


def make_history(size: int) -> LocalHistory | None:
    """A history of C{size} messages, or L{None} (no history) for 0."""
    return LocalHistory(size) if size > 0 else None
