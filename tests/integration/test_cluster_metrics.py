"""
A real C{twistd chatroom --redis --metrics} node scraped over HTTP: the Redis
link's state in C{chatroom_redis_up} and C{/healthz}, and the events it
exchanges with the room's channel in C{chatroom_cluster_events_total}.
"""

from __future__ import annotations

import re

import pytest_twisted

from chatroom.testing import join, quit_all
from tests.integration.test_cluster import processes, start_nodes  # noqa: F401 (a fixture)
from tests.integration.test_metrics_tcp import fetch, moved, scrape


@pytest_twisted.ensureDeferred
async def test_redisDownShowsInHealthAndMetrics(reactor, processes, tmp_path, redis):  # noqa: F811
    options = ("--metrics", r"tcp6:0:interface=\:\:1")
    (node,), (port,) = await start_nodes(reactor, processes, tmp_path, redis, 1, *options)
    web = int(re.search(r"MetricsSite starting on (\d+)", node.output).group(1))
    assert await fetch(reactor, web, "/healthz") == (200, "ok\n")
    start = await scrape(reactor, web)
    assert start["chatroom_redis_up", ()] == 1

    ala = await join(reactor, port, "ala", "GL3")
    bob = await join(reactor, port, "bob", "GL1")
    await ala.expect(r"\* bob \(GL1\) joined")
    ala.say("hello")
    await bob.expect(r"ala \(GL3\): hello$")
    chatted = await scrape(reactor, web)
    # Two joins and a line went out to Redis and came back (batched or not).
    assert moved(start, chatted, "chatroom_cluster_events_total", direction="out") >= 3
    assert moved(start, chatted, "chatroom_cluster_events_total", direction="in") >= 3

    await redis.stop()
    await ala.expect("^The room is split: ")
    assert await fetch(reactor, web, "/healthz") == (503, "redis down\n")
    assert (await scrape(reactor, web))["chatroom_redis_up", ()] == 0

    await redis.start()
    await ala.expect("^The room is whole again; ", timeout=10)
    assert await fetch(reactor, web, "/healthz") == (200, "ok\n")
    assert (await scrape(reactor, web))["chatroom_redis_up", ()] == 1
    await quit_all(ala, bob)
