"""
Hostile input and resource limits over real TCP: each limit holds, the offender
is told why, and the server stays healthy for everyone else.
"""

import resource
import socket

import pytest
import pytest_twisted
from twisted.internet import defer, protocol, reactor
from twisted.internet.endpoints import TCP6ClientEndpoint

from chatroom.settings import Settings
from chatroom.testing import LINE_TIMEOUT, connect, join, listen, quit_all


async def assert_healthy(reactor, server):
    """A fresh pair of clients can still register and chat."""
    first = await join(reactor, server.port, "fresh1")
    second = await join(reactor, server.port, "fresh2")
    first.say("still alive?")
    await second.expect(r"fresh1 \(GL1\): still alive\?$")
    await quit_all(first, second)


@pytest_twisted.ensureDeferred
async def test_longLineRefusedConnectionSurvives(reactor):
    server = await listen(reactor, Settings(max_line=4096))
    ala = await join(reactor, server.port, "ala")
    bob = await join(reactor, server.port, "bob")
    ala.transport.write(b"x" * 5000 + b"\nafter the long one\n")
    await ala.expect(r"^Error: line too long \(the limit is 4096 bytes\); it was discarded\.$")
    await bob.expect(r"ala \(GL1\): after the long one$")
    assert not [line for line in bob.lines if "xxxx" in line]
    await quit_all(ala, bob)
    await assert_healthy(reactor, server)
    await server.stop()


@pytest_twisted.ensureDeferred
async def test_endlessLineClosedWithAReason(reactor):
    server = await listen(reactor, Settings(max_line=1024, max_line_hard=65536))
    ala = await join(reactor, server.port, "ala")
    chunk = b"z" * 8192
    for _ in range(16):  # 128 KiB, no newline
        if not ala.transport.connected:
            break
        ala.transport.write(chunk)
    await ala.closed
    assert (
        ala.lines[-1] == "Error: more than 65536 bytes without a newline; closing the connection."
    )
    (protocol_,) = server.factory.connections or [None]
    assert protocol_ is None
    await assert_healthy(reactor, server)
    await server.stop()


@pytest_twisted.ensureDeferred
async def test_floodDroppedThenKickedOthersUnaffected(reactor):
    server = await listen(reactor, Settings(rate=5, burst=10, flood_kick=50))
    flooder = await join(reactor, server.port, "flooder")
    bob = await join(reactor, server.port, "bob")
    carl = await join(reactor, server.port, "carl")
    flooder.transport.write(b"".join(b"spam %d\n" % i for i in range(30)))
    await flooder.expect(r"^Error: slow down: at most 5 lines a second \(bursts of 10\)")
    bob.say("can you hear me?")
    await carl.expect(r"bob \(GL1\): can you hear me\?$")
    spam = [line for line in carl.lines if "spam" in line]
    assert 1 <= len(spam) <= 12  # the burst (less registration), a token or two more
    flooder.transport.write(b"".join(b"more %d\n" % i for i in range(100)))
    await flooder.closed
    assert flooder.lines[-1] == "Error: too many lines too fast; closing the connection."
    await carl.expect(r"\* flooder \(GL1\) left$")
    await quit_all(bob, carl)
    await assert_healthy(reactor, server)
    await server.stop()


@pytest_twisted.ensureDeferred
async def test_registrationTimeout(reactor):
    server = await listen(reactor, Settings(register_timeout=0.3))
    silent = await connect(reactor, server.port)
    silent.say("ala")  # a name, but never a group
    await silent.closed
    assert silent.lines[-1] == "Error: registration took too long; closing the connection."
    assert server.room.find("ala") is None
    await assert_healthy(reactor, server)  # well within 0.3 s per client
    await server.stop()


class _Reader(protocol.Protocol):
    """Counts bytes; can stop reading (a client that went to sleep)."""

    def __init__(self):
        self.received = 0
        self.closed = defer.Deferred()

    def dataReceived(self, data):
        self.received += len(data)

    def connectionLost(self, reason):
        self.closed.callback(None)


@pytest.mark.parametrize("write_through", [True, False], ids=["write-through", "fallback"])
@pytest_twisted.ensureDeferred
async def test_slowReaderCutOffMemoryBounded(reactor, write_through):
    """The cap holds both ways of writing (see chatroom/writethrough.py)."""
    cap = 256 * 1024
    server = await listen(reactor, Settings(max_output=cap, rate=0, write_through=write_through))
    sleeper = await TCP6ClientEndpoint(reactor, "::1", server.port).connect(
        protocol.Factory.forProtocol(_Reader)
    )
    sleeper.transport.write(b"sleepy\nGL1\n")
    ala = await join(reactor, server.port, "ala")
    bob = await join(reactor, server.port, "bob")
    # Small kernel buffers, so the server's own queue is what fills up.
    sleeper.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    (slow,) = [p for p in server.factory.connections if p.session.member.name == "sleepy"]
    slow.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    sleeper.transport.pauseProducing()  # stop reading

    peak = 0
    text = "y" * 3000
    for i in range(400):  # 1.2 MB of messages for the sleeper, bounded
        ala.say(f"m{i:03} {text}")
        if i % 20 == 19:
            await bob.expect(rf"ala \(GL1\): m{i:03} ")
            transport = slow.transport
            peak = max(peak, len(transport.dataBuffer) + transport._tempDataLen)
            if not transport.connected:
                break
    sleeper.transport.resumeProducing()  # wakes up, and finds the connection cut
    await sleeper.closed
    assert slow.session.ended
    # Bounded: the cap plus Twisted's 64 KiB pause threshold plus one batch.
    assert peak <= cap + 64 * 1024 + 64 * 1024
    assert server.room.online == 2
    ala.say("last")
    await bob.expect(r"ala \(GL1\): last$")
    assert len([line for line in bob.lines if ": m" in line]) >= 100
    await quit_all(ala, bob)
    await assert_healthy(reactor, server)
    await server.stop()


class _Member(protocol.Protocol):
    """A light client for crowds: registers and waits for one marker."""

    def __init__(self, name):
        self.name = name
        self.tail = b""
        self.registered = defer.Deferred()
        self._registering = True
        self.marker = None
        self.closed = defer.Deferred()

    def connectionMade(self):
        self.transport.write(b"%s\ngroup\n" % self.name)

    def dataReceived(self, data):
        tail = self.tail + data
        if self._registering and b"Hello " in tail:
            self._registering = False
            self.registered.callback(self)
        if self.marker is not None and self.marker[0] in tail:
            self.marker, (_, waiter) = None, self.marker
            waiter.callback(None)
        self.tail = tail[-200:]

    def expect(self, marker):
        waiter = defer.Deferred()
        self.marker = (marker, waiter)
        waiter.addTimeout(LINE_TIMEOUT * 3, reactor)
        return waiter

    def connectionLost(self, reason):
        self.closed.callback(None)


@pytest_twisted.ensureDeferred
async def test_thousandRegisteredClients(reactor):
    crowd = 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * crowd + 100
    if soft < need:
        if hard < need:
            pytest.skip(f"fd limit {hard} < {need}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    server = await listen(reactor, Settings(max_clients=crowd, rate=0))
    endpoint = TCP6ClientEndpoint(reactor, "::1", server.port, timeout=LINE_TIMEOUT)
    members = []
    for start in range(0, crowd, 100):  # 100 connects in flight at a time
        batch = [_Member(b"u%04d" % i) for i in range(start, start + 100)]
        await defer.gatherResults(
            [endpoint.connect(protocol.Factory.forProtocol(lambda m=m: m)) for m in batch]
        )
        await defer.gatherResults([m.registered for m in batch])
        members.extend(batch)
    assert server.room.online == crowd
    waiting = [m.expect(b"u0999 (group): hello, crowd") for m in members[:-1]]
    members[-1].transport.write(b"hello, crowd\n")
    await defer.gatherResults(waiting)
    for m in members:
        m.transport.loseConnection()
    await defer.gatherResults([m.closed for m in members])
    await server.stop()


@pytest_twisted.ensureDeferred
async def test_idleTimeoutForMembersWhenAsked(reactor):
    server = await listen(reactor, Settings(idle_timeout=0.3))
    lurker = await join(reactor, server.port, "lurker")
    await lurker.closed
    assert lurker.lines[-1] == "Error: idle for too long; closing the connection."
    await assert_healthy(reactor, server)
    await server.stop()


@pytest_twisted.ensureDeferred
async def test_perAddressLimitThenHealthy(reactor):
    server = await listen(reactor, Settings(max_per_ip=2, exempt_loopback=False))
    first = await join(reactor, server.port, "first")
    second = await join(reactor, server.port, "second")
    third = await connect(reactor, server.port)
    await third.closed
    assert third.lines == ["Sorry, too many connections from your address (2/2). Try again later."]
    await quit_all(first, second)
    await assert_healthy(reactor, server)  # the slots are free again
    await server.stop()


@pytest_twisted.ensureDeferred
async def test_roomFullThenHealthy(reactor):
    server = await listen(reactor, Settings(max_clients=2))
    first = await join(reactor, server.port, "first")
    second = await join(reactor, server.port, "second")
    refused = await connect(reactor, server.port)
    await refused.closed
    assert refused.lines == ["Sorry, the room is full (2/2). Try again later."]
    await quit_all(first, second)
    await assert_healthy(reactor, server)
    await server.stop()
