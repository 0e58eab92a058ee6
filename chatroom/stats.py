# -*- test-case-name: tests.test_metrics -*-
"""
What the server counts as it runs: plain integers, bumped where things
happen and read only when someone asks (L{chatroom.metrics} turns them into
Prometheus metrics at scrape time).

Nothing here is on the per-recipient path: the fan-out counts its deliveries
and bytes once per batch (L{chatroom.fanout.Fanout.delivered}), and the rest
happen once per connection or per line received.  No locks, no library: an
integer increment is the cheapest thing Python does.
"""

from __future__ import annotations

from collections.abc import Callable

DISCONNECT_REASONS: dict[str, str] = {
    "quit": "quit",
    "timed out": "timeout",
    "flooding": "flood",
    "endless line": "endless_line",
    "not reading (output over the cap)": "slow_reader",
    "kicked": "kicked",
    "connection lost": "lost",
    "server shutdown": "shutdown",
    "no answer to ping": "timeout",
}
"""The reasons a session ends (as the doors give them) and their metric labels."""


class Counts:
    """
    One room's counters.

    @ivar open: the connections open now, by door (C{"line"}, C{"web"}):
        the admission registers it (L{chatroom.admission.Admission.open_by_door}).
    @ivar cluster_events: events exchanged with the other nodes (C{"in"},
        C{"out"}); a cluster bus bumps them.
    @ivar redis_up: set by a cluster bus: whether its Redis link is up now.
    """

    __slots__ = (
        "open",
        "connections",
        "refusals",
        "registrations",
        "received",
        "disconnects",
        "flood_notices",
        "cluster_events",
        "redis_up",
    )

    def __init__(self) -> None:
        self.open: Callable[[], dict[str, int]] | None = None
        self.connections: dict[str, int] = {"line": 0, "web": 0}
        self.refusals: dict[str, int] = {"full": 0, "per_address": 0, "banned": 0}
        self.registrations = 0
        self.received: dict[str, int] = {"public": 0, "private": 0, "command": 0}
        self.disconnects: dict[str, int] = dict.fromkeys((*DISCONNECT_REASONS.values(), "other"), 0)
        self.flood_notices = 0
        self.cluster_events: dict[str, int] = {"in": 0, "out": 0}
        self.redis_up: Callable[[], bool] | None = None

    def disconnected(self, reason: str) -> None:
        """A session ended for C{reason} (one of L{DISCONNECT_REASONS}, else "other")."""
        self.disconnects[DISCONNECT_REASONS.get(reason, "other")] += 1
