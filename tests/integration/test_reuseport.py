"""
Two C{twistd chatroom} processes sharing one port (C{reuseport:}) and one room
(C{--redis}): the kernel spreads the connections, the room stays one.
"""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import defer
from twisted.internet.endpoints import serverFromString

from chatroom.reuseport import ReusePortEndpoint
from chatroom.testing import join, quit_all
from tests.integration.process import spawn, stop_all
from tests.integration.redis import free_port
from tests.integration.test_twistd import TWISTD, environment


@pytest.fixture
def processes(reactor):
    started = []
    yield started
    pytest_twisted.blockon(defer.ensureDeferred(stop_all(started)))


def test_endpointString(reactor):
    endpoint = serverFromString(reactor, r"reuseport:5000:interface=\:\:1:backlog=1024")
    assert isinstance(endpoint, ReusePortEndpoint)
    assert (endpoint.port, endpoint.interface, endpoint.backlog) == (5000, "::1", 1024)
    with pytest.raises(ValueError, match="IP address"):
        serverFromString(reactor, "reuseport:5000:interface=localhost")


@pytest_twisted.ensureDeferred
async def test_twoProcessesOnePortOneRoom(reactor, processes, tmp_path, redis):
    port = free_port()
    nodes = []
    for n in range(2):
        argv = [TWISTD, "-n", "--pidfile=", "--logfile=-", "chatroom",
                "--port", rf"reuseport:{port}:interface=\:\:1", "--redis", redis.url,
                "--node-id", f"node{n}"]  # fmt: skip
        child = spawn(reactor, argv, environment(), path=str(tmp_path))
        processes.append(child)
        nodes.append(child)
    for child in nodes:
        assert int((await child.expect(r"ChatFactory starting on (\d+)")).group(1)) == port
        await child.expect(r"Redis .* connected")
    people = []
    for n in range(16):
        people.append(await join(reactor, port, f"p{n}", "GL1"))
    await people[0].expect(r"\* p15 \(GL1\) joined \(16/100 online\)$")
    people[0].say("one room")
    for person in people[1:]:
        await person.expect(r"p0 \(GL1\): one room$")
    await quit_all(*people)
    for child in nodes:
        child.signal("TERM")
        await child.wait()  # its log is complete now
    # The kernel spread them (all 16 on one process: a chance of 1 in 32768).
    counts = [child.output.count("connection from") for child in nodes]
    assert sum(counts) == 16 and min(counts) > 0, counts
