"""
The line door behind a proxy that speaks the PROXY protocol
(C{--port haproxy:tcp:...}): bans, the per-address limit and the log go by
the address in the header, not the proxy's (loopback, never banned).
"""

from __future__ import annotations

import pytest_twisted
from twisted.internet import task
from twisted.logger import formatEvent

from chatroom.journal import entries
from chatroom.moderation import Moderation
from chatroom.settings import Settings
from chatroom.testing import connect, listen, quit_all

PASSWORD = "sesame"


async def via_proxy(
    reactor, port: int, address: str, client_port: int = 40000, host: str = "127.0.0.1"
):
    """A client whose proxy (on loopback) says it is C{address}, in a PROXY v1 header."""
    client = await connect(reactor, port, host)
    header = f"PROXY TCP4 {address} 127.0.0.1 {client_port} {port}\r\n"
    client.transport.write(header.encode("ascii"))
    return client


async def join_via_proxy(
    reactor, port: int, address: str, name: str, client_port: int = 40000, host: str = "127.0.0.1"
):
    client = await via_proxy(reactor, port, address, client_port, host)
    await client.expect("^Your name")
    client.say(name, "GL1")
    await client.expect(f"^Hello {name} ")
    return client


@pytest_twisted.ensureDeferred
async def test_bansAndLimitsGoByTheProxiedAddress(reactor, log_events):
    clock = task.Clock()
    clock.advance(1_000_000)
    server = await listen(
        reactor,
        Settings(rate=0, max_per_ip=1),
        endpoint="haproxy:tcp:0:interface=127.0.0.1",
        moderation=Moderation(PASSWORD),
        clock=clock,
    )
    try:
        teacher = await join_via_proxy(reactor, server.port, "192.0.2.1", "teacher")
        spammer = await join_via_proxy(reactor, server.port, "192.0.2.7", "spammer", 40007)
        # One per address: the second from 192.0.2.7 is refused, not the proxy's loopback.
        second = await via_proxy(reactor, server.port, "192.0.2.7", 40008)
        await second.expect(r"^Sorry, too many connections from your address \(1/1\)")
        await second.closed

        teacher.say(f"/op {PASSWORD}", "/ban spammer 10 spam")
        await spammer.closed
        await teacher.expect(r"\* spammer \(GL1\) was banned for 10 minutes by teacher \(spam\)")
        teacher.say("/bans")
        await teacher.expect(r"^  192\.0\.2\.7 ")
        again = await via_proxy(reactor, server.port, "192.0.2.7", 40009)
        await again.expect(r"^Sorry, your address is banned for 10 more minutes")
        await again.closed
        # Everyone else behind the same proxy still comes in.
        other = await join_via_proxy(reactor, server.port, "192.0.2.8", "ola", 40010)

        server.room.journal.flush()
        log = [formatEvent(entry) for entry in entries(log_events)]
        assert any(line.startswith("connection from 192.0.2.7:40007 ") for line in log), log
        assert any(line.startswith("refused 192.0.2.7:40009: banned") for line in log), log
        await quit_all(teacher, other)
    finally:
        await server.stop()


@pytest_twisted.ensureDeferred
async def test_noHeaderNoPrompt(reactor):
    """Until the header, nothing is said: garbage instead of a header is cut off."""
    server = await listen(reactor, endpoint="haproxy:tcp:0:interface=127.0.0.1")
    try:
        client = await connect(reactor, server.port, "127.0.0.1")
        client.say("ala", "GL1")
        await client.closed
        assert client.lines == []
        assert not server.factory.connections
    finally:
        await server.stop()
