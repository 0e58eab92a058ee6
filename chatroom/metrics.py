# -*- test-case-name: tests.test_metrics -*-
"""
C{--metrics ENDPOINT}: Prometheus metrics at C{/metrics} and a health check
at C{/healthz}, served by twisted.web in the reactor thread.

The server keeps plain integers (L{chatroom.stats.Counts}, the fan-out's
C{delivered} and C{sent_bytes}); a custom collector reads them when
Prometheus scrapes, so counting costs the chat nothing more than an integer
addition, and nothing per recipient.  Every name starts with C{chatroom_};
docs/operating.md lists them with their meaning.

C{/healthz} answers 200 C{ok} while the server accepts connections, and 503
with the reason otherwise: stopping, or (in a cluster) the Redis link down,
so a load balancer sends newcomers to a node whose users see the whole room.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import CollectorRegistry
from twisted.web.pages import notFound
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from chatroom.room import Room


class RoomCollector:
    """The room's counters as Prometheus metrics, read at scrape time (a custom collector)."""

    def __init__(self, room: Room, now: Callable[[], float] = time.time) -> None:
        self.room = room
        self.now = now  # the server's clock: which bans are still in force

    def collect(self) -> Iterator[Metric]:
        room = self.room
        counts = room.counts
        yield _labelled(
            CounterMetricFamily,
            "connections",
            "Connections accepted, by door.",
            "door",
            counts.connections,
        )
        yield _labelled(
            GaugeMetricFamily,
            "open_connections",
            "Connections open now (registering ones included), by door.",
            "door",
            counts.open() if counts.open is not None else {},
        )
        yield GaugeMetricFamily("chatroom_members", "Members in the room now.", room.online)
        yield GaugeMetricFamily(
            "chatroom_capacity", "Connections allowed at once (--max-clients).", room.capacity
        )
        yield CounterMetricFamily(
            "chatroom_registrations",
            "People who chose a name and a group and joined.",
            counts.registrations,
        )
        yield _labelled(
            CounterMetricFamily,
            "messages_received",
            "Lines received from members, by kind: public, private (/msg), command.",
            "kind",
            counts.received,
        )
        yield CounterMetricFamily(
            "chatroom_deliveries",
            "Events delivered to members (a public message to 30 people is 30).",
            room.fanout.delivered,
        )
        yield CounterMetricFamily(
            "chatroom_sent_bytes",
            "Bytes of room traffic handed to the doors for members.",
            room.fanout.sent_bytes,
        )
        yield _labelled(
            CounterMetricFamily,
            "refusals",
            "Connections refused at the door, by reason: full, per_address, banned.",
            "reason",
            counts.refusals,
        )
        yield _labelled(
            CounterMetricFamily,
            "disconnects",
            "Connections ended, by reason: quit, timeout, flood, endless_line, slow_reader, "
            "kicked, lost, shutdown, other.",
            "reason",
            counts.disconnects,
        )
        yield CounterMetricFamily(
            "chatroom_flood_notices",
            "Slow-down notices sent to flooding senders.",
            counts.flood_notices,
        )
        moderation = room.moderation
        yield GaugeMetricFamily(
            "chatroom_operators", "Members who are operators now.", len(moderation.operators)
        )
        yield GaugeMetricFamily(
            "chatroom_bans",
            "Bans in force now (addresses, or IPv6 /64s).",
            len(moderation.active_bans(self.now())),
        )
        if counts.redis_up is not None:
            yield GaugeMetricFamily(
                "chatroom_redis_up",
                "1 while the link to Redis is up, else 0.",
                1 if counts.redis_up() else 0,
            )
            yield _labelled(
                CounterMetricFamily,
                "cluster_events",
                "Events exchanged with the other nodes through Redis, by direction: in, out.",
                "direction",
                counts.cluster_events,
            )


def _labelled(kind: type, name: str, documentation: str, label: str, values: dict) -> Metric:
    family = kind(f"chatroom_{name}", documentation, labels=[label])
    for value, count in values.items():
        family.add_metric([value], count)
    return family


def registry(room: Room, now: Callable[[], float] = time.time) -> CollectorRegistry:
    """The room's metrics and the process's (CPU, memory, open files), all C{chatroom_}."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RoomCollector(room, now))
    ProcessCollector(namespace="chatroom", registry=registry)
    return registry


class _Page(Resource):
    """Nothing below it: /metrics/anything is 404, not the metrics."""

    def getChild(self, path: bytes, request: Request) -> Resource:
        return notFound()


class MetricsPage(_Page):
    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__()
        self.registry = registry

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"Content-Type", CONTENT_TYPE_LATEST.encode("ascii"))
        return generate_latest(self.registry)


class HealthPage(_Page):
    """200 C{ok} while accepting connections (and linked to Redis, in a cluster); else 503."""

    def __init__(self, room: Room, accepting: Callable[[], bool]) -> None:
        super().__init__()
        self.room = room
        self.accepting = accepting

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        redis_up = self.room.counts.redis_up
        if not self.accepting():
            request.setResponseCode(503)
            return b"not accepting connections\n"
        if redis_up is not None and not redis_up():
            request.setResponseCode(503)
            return b"redis down\n"
        return b"ok\n"


class MetricsSite(Site):
    # A scrape every 15 seconds is not news: no access log line for each.
    def log(self, request: Request) -> None:
        pass


def site(room: Room, accepting: Callable[[], bool], now: Callable[[], float] = time.time) -> Site:
    """The web site for C{--metrics}: C{/metrics} and C{/healthz} (nothing below them)."""
    root = _Page()
    root.putChild(b"metrics", MetricsPage(registry(room, now)))
    root.putChild(b"healthz", HealthPage(room, accepting))
    return MetricsSite(root)
