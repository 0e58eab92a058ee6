"""
Closing a plain TCP connection: the fast way when nothing is queued (last words
and close at once, no timer), Twisted's buffered way when the socket is full.

These run the protocol on a real C{tcp.Server} transport over a loopback socket
pair, with a L{MemoryReactorClock} standing in for the reactor, so the kernel's
behaviour is real and nothing waits.
"""

import socket

import pytest
from twisted.internet import tcp
from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure

from chatroom.settings import Settings
from chatroom.testing import FakePeer, make_factory


@pytest.fixture
def loopback():
    """A connected pair of loopback TCP sockets: (server side, client side)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname(), timeout=5)
        server, _ = listener.accept()
    server.setblocking(False)
    yield server, client
    server.close()
    client.close()


def serve(factory, server: socket.socket):
    """The factory's protocol on a real TCP transport, as tcp.Port would build it."""
    reactor = MemoryReactorClock()
    peer = server.getpeername()
    protocol = factory.buildProtocol(IPv4Address("TCP", *peer))
    transport = tcp.Server(server, protocol, peer, None, 0, reactor)
    protocol.makeConnection(transport)
    return protocol, reactor


def read_to_end(client: socket.socket) -> bytes:
    chunks = []
    while chunk := client.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def fill(server: socket.socket) -> None:
    """The client reads nothing: fill its receive window and our send buffer."""
    with pytest.raises(BlockingIOError):
        for _ in range(10_000):
            server.send(b"x" * 65536)


def test_quitClosesAtOnceWithTheLastWords(loopback):
    server, client = loopback
    factory = make_factory()
    bob = FakePeer(factory)
    bob.register("bob")
    protocol, reactor = serve(factory, server)
    transport = protocol.transport
    assert transport in reactor.getReaders()
    bob.lines()

    protocol.dataReceived(b"ala\nGL1\nhello\n/quit\nnever handled\n")

    received = read_to_end(client)  # data, then EOF: both are already there
    assert received.endswith(b"Goodbye!\r\n")
    joined, hello, left = bob.lines()
    assert "ala (GL1): hello" in hello and "* ala (GL1) left" in left
    assert factory.connections == {bob.protocol}
    assert transport not in reactor.getReaders() + reactor.getWriters()
    assert not transport.connected
    assert not factory.clock.getDelayedCalls()  # no close timer, no timeout left
    assert factory.room.online == 1


def test_aFullSocketClosesTheBufferedWay(loopback):
    """
    When the kernel won't take the last words, they are queued in Twisted's
    buffer, the close waits for it to empty, and a timer bounds the wait.
    """
    server, client = loopback
    factory = make_factory(Settings(close_timeout=10))
    protocol, reactor = serve(factory, server)
    protocol.dataReceived(b"ala\nGL1\n")
    transport = protocol.transport
    fill(server)

    protocol.dataReceived(b"/quit\n")

    assert transport.disconnecting and transport.connected
    assert b"".join(transport._tempDataBuffer).endswith(b"Goodbye!\r\n")
    assert transport in reactor.getWriters()
    (closer,) = factory.clock.getDelayedCalls()
    assert closer.getTime() == factory.clock.seconds() + 10
    factory.clock.advance(10)  # the client never reads: cut off
    reactor.advance(0)
    assert not transport.connected
    assert not factory.connections
    assert not factory.clock.getDelayedCalls()


def test_outputGuardOnlyOnceSomethingIsQueued(loopback):
    """
    The slow-reader guard is registered with the first write that Twisted has to
    buffer, and from then on counts what piles up.
    """
    server, client = loopback
    factory = make_factory(Settings(max_output=100_000))
    protocol, reactor = serve(factory, server)
    protocol.dataReceived(b"ala\nGL1\n")
    transport = protocol.transport
    assert transport.producer is None  # all written through so far
    fill(server)

    protocol.send(b"a" * 70_000)  # over Twisted's 64 KiB: producer paused
    assert transport.producer is protocol._guard
    assert protocol._guard.paused and transport.connected
    protocol.send(b"b" * 40_000)  # 110,000 bytes queued: over the cap
    assert transport._aborting  # cut off: abortConnection
    reactor.advance(0)
    assert not transport.connected
    assert not factory.connections


def test_aReaderThatCatchesUpAfterQuitIsClosed(loopback):
    """
    A client far enough behind that the guard was paused, then /quit: once it
    has read everything, the connection closes (Twisted would resume a still
    registered producer instead, and leave the rest to the close timer).
    """
    server, client = loopback
    factory = make_factory(Settings(max_output=1_000_000))
    protocol, reactor = serve(factory, server)
    protocol.dataReceived(b"ala\nGL1\n")
    transport = protocol.transport
    fill(server)
    protocol.send(b"a" * 70_000)
    assert protocol._guard.paused

    protocol.dataReceived(b"/quit\n")
    assert transport.disconnecting

    client.setblocking(False)
    received = []

    def read():
        try:
            while chunk := client.recv(1 << 20):
                received.append(chunk)
        except BlockingIOError:
            pass

    result = None
    for _ in range(10_000):  # the client reads, the reactor writes, until done
        read()
        if transport not in reactor.getWriters():
            break  # the reactor would never call doWrite again
        result = transport.doWrite()
        if result is not None:
            break
    read()
    assert b"".join(received).endswith(b"Goodbye!\r\n")
    assert result is not None  # the reactor would now close: done, not resumed


def test_withoutWriteThroughEverythingGoesThroughTwisted(loopback):
    """
    The fallback for a Twisted whose internals differ: the same conversation,
    but every byte is queued by C{write} and the close is C{loseConnection}'s.
    """
    server, client = loopback
    factory = make_factory(Settings(write_through=False))
    protocol, reactor = serve(factory, server)
    transport = protocol.transport
    assert transport._tempDataLen > 0  # the welcome waits for the reactor
    protocol.dataReceived(b"ala\nGL1\n/quit\n")

    assert transport.disconnecting and transport.connected
    assert b"".join(transport._tempDataBuffer).endswith(b"Goodbye!\r\n")
    assert transport in reactor.getWriters()
    done = transport.doWrite()  # what the reactor does next: send, then close
    assert done is not None
    transport.connectionLost(Failure(done))
    assert read_to_end(client).endswith(b"Goodbye!\r\n")
    assert not factory.connections
    assert not factory.clock.getDelayedCalls()
