import pytest
from twisted.internet import task

from chatroom.protocol import ChatProtocol, Refusal, format_peer
from chatroom.settings import Settings
from chatroom.telnet import BINARY, DO, ECHO, IAC, OFFER, WILL, WONT
from chatroom.testing import FakePeer, make_factory


@pytest.fixture
def factory():
    return make_factory(Settings(max_clients=5, max_per_ip=2, exempt_loopback=False))


def pair(factory):
    ala, bob = FakePeer(factory, "2001:db8::1"), FakePeer(factory, "2001:db8::2")
    ala.register("ala", "GL3")
    bob.register("bob", "GL1")
    ala.lines()
    return ala, bob


def relay(factory, data: bytes) -> str:
    """What bob sees when ala sends C{data}: exactly one line."""
    ala, bob = pair(factory)
    bob.lines()
    ala.send(data)
    (line,) = bob.lines()
    return line


def test_telnetBinaryOfferedFirst(factory):
    peer = FakePeer(factory)
    assert peer.raw().startswith(OFFER + b"Welcome")


def test_noTelnetOption():
    peer = FakePeer(make_factory(Settings(telnet=False)))
    assert peer.raw().startswith(b"Welcome")


def test_linesEndWithCRLF(factory):
    peer = FakePeer(factory)
    assert peer.raw().endswith(b"online).\r\nYour name (1-20 letters, digits, _ or -):\r\n")


@pytest.mark.parametrize("ending", [b"\n", b"\r\n"])
def test_acceptsLFAndCRLF(factory, ending):
    peer = FakePeer(factory)
    peer.lines()
    peer.send(b"ala" + ending + b"GL3" + ending)
    assert peer.lines()[-1].startswith("Hello ala (GL3)")


def test_pipelinedRegistrationAndMessage(factory):
    bob = FakePeer(factory)
    bob.register("bob")
    ala = FakePeer(factory)
    ala.send(b"ala\nGL3\nhello\n")
    assert ala.lines()[-1].startswith("Hello ala (GL3)")
    assert [line[11:] for line in bob.lines()[-2:]] == [
        "* ala (GL3) joined (2/5 online)",
        "ala (GL3): hello",
    ]


def test_lineSplitAnywhere(factory):
    ala, bob = pair(factory)
    data = "zażółć gęślą\n".encode()
    for i in range(len(data)):
        ala.send(data[i : i + 1])  # even inside a multi-byte letter
    assert bob.lines()[-1].endswith("ala (GL3): zażółć gęślą")


def test_invalidUtf8Replaced(factory):
    assert relay(factory, b"caf\xe9 \xc3\x28 \xf0\x9f ok\n").endswith(
        "ala (GL3): caf\ufffd \ufffd( \ufffd ok"
    )


def test_controlBytesNeverRelayed(factory):
    assert relay(factory, b"a\x00b\x1b[2Jc\x07d\r\n").endswith("ala (GL3): ab[2Jcd")


def test_longLineRefusedConnectionKept(factory):
    factory = make_factory(Settings(max_line=10))
    ala, bob = pair(factory)
    bob.lines()
    ala.send(b"short\n" + b"x" * 11 + b"\nafter\n")
    assert ala.lines() == ["Error: line too long (the limit is 10 bytes); it was discarded."]
    assert [line.split(": ", 1)[1] for line in bob.lines()] == ["short", "after"]
    assert not ala.closing


def test_longLineInPiecesSkippedToTheNewline(factory):
    factory = make_factory(Settings(max_line=10, max_line_hard=100))
    ala, bob = pair(factory)
    bob.lines()
    ala.send(b"y" * 8)
    ala.send(b"y" * 8)  # over the limit with no newline yet: refused now
    assert ala.lines() == ["Error: line too long (the limit is 10 bytes); it was discarded."]
    ala.send(b"y" * 50)
    ala.send(b"yyy\nnext\n")
    assert [line.split(": ", 1)[1] for line in bob.lines()] == ["next"]
    assert ala.lines() == []
    assert not ala.closing
    assert len(ala.protocol._buffer) == 0


def test_endlessLineClosesTheConnection(factory):
    factory = make_factory(Settings(max_line=10, max_line_hard=100))
    ala, bob = pair(factory)
    bob.lines()
    for _ in range(20):
        ala.send(b"z" * 10)
    assert ala.lines() == [
        "Error: line too long (the limit is 10 bytes); it was discarded.",
        "Error: more than 100 bytes without a newline; closing the connection.",
    ]
    assert ala.closing
    assert bob.lines()[-1].endswith("* ala (GL3) left")
    assert len(ala.protocol._buffer) == 0


def test_hugeChunkOfShortLinesIsOnePass(factory):
    factory = make_factory(Settings(rate=0))
    ala, bob = pair(factory)
    bob.lines()
    ala.send(b"m\n" * 20000)
    assert len(bob.lines()) == 20000


def test_telnetNegotiationAnsweredNotRelayed(factory):
    ala, bob = pair(factory)
    bob.lines()
    ala.raw()
    ala.send(bytes((IAC, DO, BINARY, IAC, WILL, BINARY, IAC, DO, ECHO)) + b"hi\n")
    assert ala.raw() == bytes((IAC, WONT, ECHO)) + b"\r"
    (line,) = bob.lines()
    assert line.endswith("ala (GL3): hi")


def test_telnetBinaryPolishLetters(factory):
    # In binary mode Debian's telnet sends UTF-8 intact and ends lines with LF.
    assert relay(
        factory, bytes((IAC, DO, BINARY, IAC, WILL, BINARY)) + "ĄĘŁŃÓŚŹŻ ąęłńóśźż\n".encode()
    ).endswith("ala (GL3): ĄĘŁŃÓŚŹŻ ąęłńóśźż")


def test_telnetCRNUL(factory):
    assert relay(factory, b"one\r\x00two\r\n").endswith("ala (GL3): onetwo")


def test_roomFullRefusesWithOneLine(log_events):
    factory = make_factory(Settings(max_clients=2))
    first, second = FakePeer(factory), FakePeer(factory)  # registering counts
    third = FakePeer(factory, "2001:db8::9", 4242)
    assert isinstance(third.protocol, Refusal)
    assert third.lines() == ["Sorry, the room is full (2/2). Try again later."]
    assert third.closing
    assert not first.closing and not second.closing
    assert any(
        e.get("log_format", "").startswith("refused") and e["peer"] == "[2001:db8::9]:4242"
        for e in log_events
    )
    first.drop()
    assert isinstance(FakePeer(factory).protocol, ChatProtocol)


def test_perAddressLimitCountsMappedIPv4AsIPv4(factory):
    FakePeer(factory, "192.0.2.7")
    FakePeer(factory, "::ffff:192.0.2.7")
    third = FakePeer(factory, "::ffff:192.0.2.7")
    assert third.lines() == [
        "Sorry, too many connections from your address (2/2). Try again later."
    ]
    assert isinstance(FakePeer(factory, "192.0.2.8").protocol, ChatProtocol)


def test_perAddressSlotFreedOnDisconnect(factory):
    a = FakePeer(factory, "192.0.2.7")
    FakePeer(factory, "192.0.2.7")
    a.drop()
    assert isinstance(FakePeer(factory, "192.0.2.7").protocol, ChatProtocol)


def test_formatPeerUnix():
    from twisted.internet.address import UNIXAddress

    assert format_peer(UNIXAddress(None)) == "unix"
    assert format_peer(UNIXAddress(b"/run/me.sock")) == "unix:/run/me.sock"


def test_formatPeer():
    peer = FakePeer(make_factory(), "::ffff:192.0.2.7", 5000)
    assert format_peer(peer.address) == "192.0.2.7:5000"
    assert format_peer(FakePeer(make_factory(), "::1", 5).address) == "[::1]:5"


def test_dropTellsTheOthers(factory):
    ala, bob = pair(factory)
    bob.lines()
    ala.drop()
    assert bob.lines()[-1].endswith("* ala (GL3) left")
    assert factory.room.online == 1
    assert len(factory.connections) == 1


def test_registrationTimeout():
    clock = task.Clock()
    factory = make_factory(Settings(register_timeout=60), clock)
    slow, quick = FakePeer(factory), FakePeer(factory)
    quick.register("ala")
    slow.say("bob")
    clock.advance(59)
    assert not slow.closing
    slow.lines()
    clock.advance(1)
    assert slow.lines() == ["Error: registration took too long; closing the connection."]
    assert slow.closing
    assert not quick.closing
    slow.drop()
    clock.advance(1000)  # registered members have no timeout by default
    assert not quick.closing
    assert clock.getDelayedCalls() == []


def test_registrationTimersAreSharedAndStopped():
    """A crowd connecting in the same second costs one timer, gone once all are in."""
    clock = task.Clock()
    factory = make_factory(Settings(max_clients=100, max_per_ip=0), clock)
    clock.advance(0.5)
    peers = [FakePeer(factory) for _ in range(50)]
    assert len(clock.getDelayedCalls()) == 1
    for i, peer in enumerate(peers[:-1]):
        peer.register(f"p{i}")
    assert len(clock.getDelayedCalls()) == 1
    peers[-1].drop()
    assert clock.getDelayedCalls() == []


def test_idleTimeoutResetByTalking():
    clock = task.Clock()
    factory = make_factory(Settings(idle_timeout=30, rate=0), clock)
    ala, bob = pair(factory)
    for _ in range(5):
        clock.advance(20)
        ala.say("still here")
    assert not ala.closing
    assert bob.closing  # silent for 100 s
    assert bob.lines()[-1] == "Error: idle for too long; closing the connection."


def test_closeCutsOffAPeerThatNeverReads():
    clock = task.Clock()
    factory = make_factory(Settings(close_timeout=10), clock)
    ala, _ = pair(factory)
    ala.say("/quit")
    assert ala.closing and not ala.transport.disconnected
    clock.advance(10)
    assert ala.transport.disconnected  # abortConnection
    ala.drop()
    assert clock.getDelayedCalls() == []


def test_slowReaderCutOffOthersKeepReceiving(log_events):
    factory = make_factory(Settings(max_output=1000, rate=0))
    ala, bob = pair(factory)
    carl = FakePeer(factory)
    carl.register("carl")
    bob.lines()
    bob.protocol._guard.pauseProducing()  # the transport says: buffer full
    for i in range(30):
        ala.say(f"message {i:02} " + "x" * 40)
    assert bob.transport.disconnected  # aborted
    assert [line[-5:] for line in carl.lines()[-30:]][-1] == "x" * 5
    assert any("not reading" in e.get("log_format", "") for e in log_events)
    assert factory.room.online == 2
    ala.say("after")
    assert carl.lines()[-1].endswith("ala (GL3): after")


def test_slowReaderThatCatchesUpIsForgiven():
    factory = make_factory(Settings(max_output=1000, rate=0))
    ala, bob = pair(factory)
    guard = bob.protocol._guard
    for _ in range(5):
        guard.pauseProducing()
        for _ in range(10):
            ala.say("y" * 50)
        guard.resumeProducing()  # the buffer drained
    assert not bob.transport.disconnected


def test_batchedFanoutPerTurn():
    clock = task.Clock()
    factory = make_factory(Settings(rate=0), clock, batch=True)
    ala, bob = pair(factory)
    clock.advance(0)
    bob.lines()
    ala.send(b"one\ntwo\n/msg bob three\nfour\n")
    assert bob.lines() == []
    clock.advance(0)
    assert [line.split(": ", 1)[1] for line in bob.lines()] == ["one", "two", "three", "four"]


def test_shutdownTellsEveryoneAndCloses():
    clock = task.Clock()
    factory = make_factory(Settings(shutdown_grace=2), clock)
    ala, bob = pair(factory)
    pending = FakePeer(factory)
    bob.lines(), pending.lines()
    done = factory.shutdown()
    for peer in (ala, bob, pending):
        assert peer.lines()[-1].endswith("* The server is shutting down. Goodbye!")
        assert peer.closing
    assert bob.lines() == []  # nobody's leave is announced
    ala.drop()
    bob.drop()
    assert not done.called
    clock.advance(2)  # the last one is not reading: cut off
    assert pending.transport.disconnected
    pending.drop()
    assert done.called


def test_telnetBareLFGetsACarriageReturn(factory):
    # telnet in BINARY mode echoes Enter as a bare LF: a CR puts the user's
    # cursor back at the margin before any reply.
    telnet_user = FakePeer(factory)
    telnet_user.send(bytes((IAC, DO, BINARY, IAC, WILL, BINARY)))
    telnet_user.raw()
    telnet_user.send(b"ala\n")
    assert telnet_user.raw().startswith(b"\rYour lab group")
    nc_user = FakePeer(factory, "2001:db8::7")
    nc_user.raw()
    nc_user.send(b"bob\n")
    assert nc_user.raw().startswith(b"Your lab group")
