"""
--metrics over real HTTP: counters that move when people chat, read with
prometheus_client's own parser, and /healthz.
"""

from __future__ import annotations

import pytest_twisted
from prometheus_client.parser import text_string_to_metric_families
from twisted.internet import defer, endpoints, task
from twisted.internet.protocol import Protocol
from twisted.web.client import Agent

from chatroom import metrics
from chatroom.moderation import Ban, Moderation
from chatroom.settings import Settings
from chatroom.testing import connect, join, listen, quit_all


class Body(Protocol):
    """A response body, whole (readBody warns about Agent's own transport)."""

    def __init__(self) -> None:
        self.done: defer.Deferred[bytes] = defer.Deferred()
        self.chunks: list[bytes] = []

    def dataReceived(self, data: bytes) -> None:
        self.chunks.append(data)

    def connectionLost(self, reason=None) -> None:
        self.done.callback(b"".join(self.chunks))


async def fetch(reactor, port: int, path: str) -> tuple[int, str]:
    """GET http://[::1]:PORT/PATH; the status and the body."""
    response = await Agent(reactor).request(b"GET", f"http://[::1]:{port}{path}".encode())
    body = Body()
    response.deliverBody(body)
    return response.code, (await body.done).decode("utf-8")


async def scrape(reactor, port: int) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics, by name and labels, parsed by prometheus_client."""
    code, text = await fetch(reactor, port, "/metrics")
    assert code == 200
    samples = {}
    for family in text_string_to_metric_families(text):
        assert family.name.startswith("chatroom_"), family.name
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def moved(before: dict, after: dict, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after[key] - before.get(key, 0.0)


async def metrics_listener(reactor, server, now=None):
    site = metrics.site(server.room, lambda: server.listening.connected, now or reactor.seconds)
    return await endpoints.serverFromString(reactor, r"tcp6:0:interface=\:\:1").listen(site)


@pytest_twisted.ensureDeferred
async def test_metricsMoveWhenPeopleChat(reactor):
    server = await listen(reactor, Settings(max_clients=3))
    web = await metrics_listener(reactor, server)
    port = web.getHost().port
    try:
        start = await scrape(reactor, port)
        ala = await join(reactor, server.port, "ala", "GL3")
        bob = await join(reactor, server.port, "bob", "GL1")
        cyryl = await join(reactor, server.port, "cyryl", "GL2")
        refused = await connect(reactor, server.port)
        await refused.closed
        await ala.expect(r"\* cyryl \(GL2\) joined")
        await bob.expect(r"\* cyryl \(GL2\) joined")

        before = await scrape(reactor, port)
        for n in range(3):
            ala.say(f"line {n}")
        for client in (bob, cyryl):
            await client.expect("ala \\(GL3\\): line 2$")
        after = await scrape(reactor, port)
        assert moved(before, after, "chatroom_deliveries_total") == 6  # 3 lines x 2 people
        said = sum(len(line.encode()) + 2 for line in bob.lines if ": line " in line)
        assert moved(before, after, "chatroom_sent_bytes_total") == 2 * said
        assert moved(before, after, "chatroom_messages_received_total", kind="public") == 3

        ala.say("/msg bob psst", "/online", "/nosuchthing")
        await ala.expect("^Error: unknown command")
        await quit_all(bob)
        await ala.expect(r"\* bob \(GL1\) left")
        end = await scrape(reactor, port)
        assert moved(start, end, "chatroom_registrations_total") == 3
        assert moved(start, end, "chatroom_connections_total", door="line") == 3
        assert moved(start, end, "chatroom_refusals_total", reason="full") == 1
        assert moved(start, end, "chatroom_messages_received_total", kind="private") == 1
        assert moved(start, end, "chatroom_messages_received_total", kind="command") == 3
        assert moved(start, end, "chatroom_disconnects_total", reason="quit") == 1
        assert end["chatroom_members", ()] == 2
        assert end["chatroom_open_connections", (("door", "line"),)] == 2
        assert end["chatroom_process_resident_memory_bytes", ()] > 0
        await quit_all(ala, cyryl)
    finally:
        await server.stop()
        await web.stopListening()


@pytest_twisted.ensureDeferred
async def test_healthz(reactor):
    server = await listen(reactor)
    web = await metrics_listener(reactor, server)
    port = web.getHost().port
    try:
        assert await fetch(reactor, port, "/healthz") == (200, "ok\n")
        # A cluster's bus says how its Redis link is.
        server.room.counts.redis_up = lambda: False
        assert await fetch(reactor, port, "/healthz") == (503, "redis down\n")
        samples = await scrape(reactor, port)
        assert samples["chatroom_redis_up", ()] == 0
        assert samples["chatroom_cluster_events_total", (("direction", "in"),)] == 0
        server.room.counts.redis_up = lambda: True
        assert (await fetch(reactor, port, "/healthz"))[0] == 200
        await server.listening.stopListening()
        assert await fetch(reactor, port, "/healthz") == (503, "not accepting connections\n")
    finally:
        await server.stop()
        await web.stopListening()


@pytest_twisted.ensureDeferred
async def test_bansInForceAndNothingBelowThePages(reactor):
    clock = task.Clock()
    clock.advance(1_000_000)
    server = await listen(reactor, moderation=Moderation("sesame"), clock=clock)
    web = await metrics_listener(reactor, server, clock.seconds)
    port = web.getHost().port
    try:
        moderation = server.room.moderation
        moderation.ban(Ban("192.0.2.7", clock.seconds() + 60, "bob", "ala"))
        moderation.ban(Ban("192.0.2.8", clock.seconds() + 600, "eve", "ala"))
        assert (await scrape(reactor, port))["chatroom_bans", ()] == 2
        clock.advance(120)  # nobody looked at the first ban since it ended
        assert (await scrape(reactor, port))["chatroom_bans", ()] == 1
        for path in ("/metrics/anything", "/healthz/x", "/metricsx", "/"):
            assert (await fetch(reactor, port, path))[0] == 404, path
    finally:
        await server.stop()
        await web.stopListening()


@pytest_twisted.ensureDeferred
async def test_browsersCountUnderTheWebDoorAndGetHistoryMarked(reactor):
    from tests.integration.test_web import enter, leave, serve

    web = await serve(reactor)
    scraper = await metrics_listener(reactor, web.server)
    port = scraper.getHost().port
    try:
        ala = await join(reactor, web.server.port, "ala", "GL3")
        ala.say("said before the browser came")
        browser = await enter(reactor, web, "ola")
        old = await browser.expect("public")
        assert old["history"] is True and old["text"] == "said before the browser came"
        assert "[history]" in old["line"]
        ala.say("live")
        new = await browser.expect("public")
        assert new["history"] is False and new["text"] == "live"
        samples = await scrape(reactor, port)
        assert samples["chatroom_connections_total", (("door", "web"),)] == 1
        assert samples["chatroom_open_connections", (("door", "web"),)] == 1
        assert samples["chatroom_open_connections", (("door", "line"),)] == 1
        await leave(browser)
        await quit_all(ala)
    finally:
        await scraper.stopListening()
        await web.stop()
