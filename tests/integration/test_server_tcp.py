"""
The server over real TCP on loopback: every rule of the protocol, as a person
with telnet or nc would meet it.
"""

import socket

import pytest_twisted
from twisted.internet.error import ConnectionLost
from twisted.python.failure import Failure

from chatroom.journal import entries
from chatroom.settings import Settings
from chatroom.testing import connect, join, listen, quit_all

STAMP = r"^\[\d\d:\d\d:\d\d\] "


@pytest_twisted.async_yield_fixture
async def server(reactor):
    handle = await listen(reactor, Settings(max_clients=5))
    yield handle
    await handle.stop()


@pytest_twisted.ensureDeferred
async def test_welcomeAndPrompts(reactor, server):
    client = await connect(reactor, server.port)
    await client.expect(r"^Welcome to chatroom.*\(0/5 online\)\.$")
    await client.expect(r"^Your name \(1-20 letters, digits, _ or -\):$")
    client.say("Żaneta")
    await client.expect(r"^Your lab group")
    client.say("GL3")
    await client.expect(r"^Hello Żaneta \(GL3\), you are in: 1/5 online\. Type /pomoc")
    await quit_all(client)


@pytest_twisted.ensureDeferred
async def test_publicMessageReachesOthersNotTheSender(reactor, server):
    ala = await join(reactor, server.port, "ala", "GL3")
    bob = await join(reactor, server.port, "bob", "GL1")
    cyryl = await join(reactor, server.port, "cyryl", "GL2")
    await ala.expect(r"\* cyryl \(GL2\) joined \(3/5 online\)")
    ala.say("hello zażółć 😀")
    for other in (bob, cyryl):
        await other.expect(STAMP + r"ala \(GL3\): hello zażółć 😀$")
    ala.say("/online")  # ala's own message must not come back before this answer
    answer = await ala.expect("^Online")
    assert answer == "Online (3/5): ala (GL3), bob (GL1), cyryl (GL2)"
    assert not [line for line in ala.lines if "hello" in line]
    await quit_all(ala, bob, cyryl)


@pytest_twisted.ensureDeferred
async def test_conversationWithoutWriteThrough(reactor):
    """
    The fallback for a Twisted whose internals differ (chatroom/writethrough.py):
    registration, public and private messages, a quit, all through
    C{transport.write} and C{loseConnection}.
    """
    server = await listen(reactor, Settings(write_through=False))
    ala = await join(reactor, server.port, "ala", "GL3")
    bob = await join(reactor, server.port, "bob", "GL1")
    assert not [p for p in server.factory.connections if p._direct]
    ala.say("zażółć over the slow path")
    await bob.expect(STAMP + r"ala \(GL3\): zażółć over the slow path$")
    bob.say("/msg ala psst")
    await ala.expect(STAMP + r"\[private\] bob \(GL1\): psst$")
    bob.say("/wyjdz")
    await bob.expect("^Goodbye!$")
    await bob.closed
    await ala.expect(STAMP + r"\* bob \(GL1\) left$")
    await quit_all(ala)
    await server.stop()


@pytest_twisted.ensureDeferred
async def test_everyCommandOverTCP(reactor, server, log_events):
    ala = await join(reactor, server.port, "ala", "GL3")
    bob = await join(reactor, server.port, "bob", "GL1")
    eve = await join(reactor, server.port, "eve", "GL1")

    ala.say("/pomoc")
    await ala.expect(r"^  /msg NAME TEXT, /w +send TEXT to NAME only")
    ala.say("/HELP")
    await ala.expect(r"^  /wyjdz, /quit +leave the room")

    ala.say("/msg BOB top secret")
    await bob.expect(STAMP + r"\[private\] ala \(GL3\): top secret$")
    await ala.expect(STAMP + r"\[private to bob\] top secret$")
    ala.say("/w nobody hi")
    await ala.expect("^Error: nobody called nobody is online")
    ala.say("/msg bob")
    await ala.expect("^Error: usage: /msg NAME TEXT")

    ala.say("/changename Alicja")
    for client in (ala, bob, eve):
        await client.expect(STAMP + r"\* ala is now known as Alicja$")
    bob.say("/nick alicja")
    await bob.expect("^Error: the name alicja is taken")

    eve.say("/who")
    await eve.expect(r"^Online \(3/5\): Alicja \(GL3\), bob \(GL1\), eve \(GL1\)$")
    eve.say("/dance")
    await eve.expect(r"^Error: unknown command /dance; type /pomoc \(/help\)")

    eve.say("public after all that")
    await bob.expect(r"eve \(GL1\): public after all that$")
    # eve saw nothing private, and no error of anyone else's
    assert not [line for line in eve.lines if "secret" in line or "usage" in line]

    bob.say("/quit")
    await bob.expect("^Goodbye!$")
    await bob.closed
    await ala.expect(STAMP + r"\* bob \(GL1\) left$")
    await quit_all(ala, eve)
    assert not [e for e in log_events if "secret" in repr(e)]


@pytest_twisted.ensureDeferred
async def test_droppedConnectionLeavesAndFreesTheName(reactor, server):
    ala = await join(reactor, server.port, "ala", "GL3")
    bob = await join(reactor, server.port, "bob")
    ala.transport.abortConnection()
    await bob.expect(STAMP + r"\* ala \(GL3\) left$")
    again = await join(reactor, server.port, "ALA")
    await quit_all(bob, again)


@pytest_twisted.ensureDeferred
async def test_roomFullOverTheLimit(reactor, log_events):
    server = await listen(reactor, Settings(max_clients=2))
    ala = await join(reactor, server.port, "ala")
    registering = await connect(reactor, server.port)  # counts, though nameless
    await registering.expect("^Your name")
    refused = await connect(reactor, server.port)
    await refused.closed
    assert refused.lines == ["Sorry, the room is full (2/2). Try again later."]
    assert not [line for line in ala.lines if "joined" in line or "left" in line]
    await quit_all(ala, registering)
    await server.stop()
    assert [
        e
        for e in entries(log_events)
        if e.get("log_format", "").startswith("refused {peer}: room full")
        and e["peer"].startswith("[::1]:")
    ]


@pytest_twisted.ensureDeferred
async def test_ipv4ClientsOnAnIPv6ListenerCountAsIPv4(reactor):
    # Bound to the IPv4-mapped loopback, so only IPv4 clients can come, and
    # they do arrive as ::ffff:127.0.0.1 (as on a dual-stack tcp6: listener).
    server = await listen(
        reactor, Settings(max_per_ip=1, exempt_loopback=False), interface="::ffff:127.0.0.1"
    )
    first = await join(reactor, server.port, "ala", host="127.0.0.1")
    (protocol,) = server.factory.connections
    assert protocol.peer.startswith("127.0.0.1:")
    second = await connect(reactor, server.port, host="127.0.0.1")
    await second.closed
    assert second.lines == ["Sorry, too many connections from your address (1/1). Try again later."]
    await quit_all(first)
    await server.stop()


@pytest_twisted.ensureDeferred
async def test_pipelinedRegistrationAndMessage(reactor, server):
    bob = await join(reactor, server.port, "bob")
    client = await connect(reactor, server.port)
    client.transport.write(b"ala\r\nGL3\r\nfirst words\r\n")
    await bob.expect(r"ala \(GL3\): first words$")
    await quit_all(bob, client)


@pytest_twisted.ensureDeferred
async def test_wholeVisitInOneWrite(reactor, server, log_events):
    """
    Registration, a message and /quit in one packet (as load generators and
    scripts send them): all handled in order, the goodbye arrives before the
    close, and what follows /quit is not read.
    """
    bob = await join(reactor, server.port, "bob")
    client = await connect(reactor, server.port)
    client.transport.write(b"ala\r\nGL3\r\nhi\r\n/quit\r\nafter quit\r\n")
    await client.closed
    assert client.lines[-1] == "Goodbye!"
    await bob.expect(r"\* ala \(GL3\) joined")
    await bob.expect(r"ala \(GL3\): hi$")
    await bob.expect(r"\* ala \(GL3\) left")
    assert not [line for line in bob.lines if "after quit" in line]
    assert len(server.factory.connections) == 1
    assert not [e for e in log_events if e.get("log_failure")]
    await quit_all(bob)


@pytest_twisted.ensureDeferred
async def test_shutdownTellsEveryone(reactor):
    server = await listen(reactor)
    ala = await join(reactor, server.port, "ala")
    pending = await connect(reactor, server.port)
    await pending.expect("^Your name")
    await server.stop()
    for client in (ala, pending):
        await client.closed
        assert client.lines[-1].endswith("* The server is shutting down. Goodbye!")


@pytest_twisted.ensureDeferred
async def test_memberLostWhileABatchIsQueued(reactor, server, log_events):
    """
    A connection that dies in the same reactor turn as a message (its leave
    lands in the middle of the batch) gets nothing more, and nobody else
    misses anything.
    """
    ala = await join(reactor, server.port, "ala")
    bob = await join(reactor, server.port, "bob")
    cyryl = await join(reactor, server.port, "cyryl")
    protocols = {p.session.member.name: p for p in server.factory.connections}
    room = server.room
    room.say(protocols["ala"].session.member, "first", reactor.seconds())
    # What the reactor does when bob's socket errors out: the transport
    # closes its socket, then tells the protocol.
    protocols["bob"].transport.connectionLost(Failure(ConnectionLost()))
    room.say(protocols["ala"].session.member, "second", reactor.seconds())
    await cyryl.expect(r"ala \(GL1\): first$")
    await cyryl.expect(r"\* bob \(GL1\) left$")
    await cyryl.expect(r"ala \(GL1\): second$")
    await bob.closed
    assert not [e for e in log_events if e.get("log_failure")]
    await quit_all(ala, cyryl)


@pytest_twisted.ensureDeferred
async def test_acceptedSocketsHaveNoNagleAndKeepalive(reactor, server):
    client = await join(reactor, server.port, "ala")
    (protocol,) = server.factory.connections
    sock = protocol.transport.getHandle()
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
    if hasattr(socket, "TCP_KEEPIDLE"):
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 60
    await quit_all(client)
