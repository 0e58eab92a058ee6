"""
Moderation over real TCP: /op, each operator command, their refusals for
everyone else, and bans and mutes that expire (the server's clock is a
task.Clock, so time passes without a sleep).
"""

import pytest_twisted
from twisted.internet import endpoints, task

from chatroom import messages
from chatroom.journal import entries
from chatroom.moderation import Moderation
from chatroom.settings import Settings
from chatroom.testing import connect, join, listen, quit_all

PASSWORD = "sesame-Żółw"
STAMP = r"^\[\d\d:\d\d:\d\d\] "


async def server_with(reactor, protected=None):
    clock = task.Clock()
    clock.advance(1_000_000)
    moderation = Moderation(PASSWORD) if protected is None else Moderation(PASSWORD, protected)
    # Flood control refills with the server's time, which only moves when told: off.
    server = await listen(reactor, Settings(rate=0), moderation=moderation, clock=clock)
    return server, clock


async def become_operator(client):
    client.say(f"/op {PASSWORD}")
    await client.expect("^You are an operator now")


@pytest_twisted.ensureDeferred
async def test_operatorCommandsAndTheirRefusals(reactor, log_events):
    server, clock = await server_with(reactor)
    try:
        ala = await join(reactor, server.port, "ala", "GL3")
        bob = await join(reactor, server.port, "bob", "GL1")
        cyryl = await join(reactor, server.port, "cyryl", "GL2")
        for word in (
            "kick bob",
            "wyrzuc bob",
            "ban bob",
            "unban ::1",
            "bany",
            "mute bob",
            "unmute bob",
            "announce hi",
        ):
            bob.say(f"/{word}")
            command = word.split()[0]
            await bob.expect(f"^Error: /{command} is for operators; /op PASSWORD makes you one\\.$")
        bob.say("/pomoc")
        await bob.expect(r"^  /op PASSWORD, /oper +become an operator")
        await bob.expect("^Lines may be up to")
        assert not [line for line in bob.lines if "Operator commands" in line]

        ala.say("/op guess")
        await ala.expect("^Error: wrong password\\.$")
        ala.say(f"/op {PASSWORD}")  # too soon: not even compared
        await ala.expect("^Error: too many wrong passwords; try again in 1 second\\.$")
        clock.advance(1)
        await become_operator(ala)
        ala.say("/online")
        await ala.expect(r"^Online \(3/50\): @ala \(GL3\), bob \(GL1\), cyryl \(GL2\)$")
        ala.say("/help")
        await ala.expect("^Operator commands:$")
        await ala.expect(r"^  /zbanuj NAME \[MINUTES\] \[REASON\], /ban +kick NAME and refuse")
        await ala.expect(r"^  /oglos TEXT, /announce +a notice to everyone")

        ala.say("/announce Exam moved to Friday")
        for client in (ala, bob, cyryl):
            await client.expect(STAMP + r"\[announcement\] ala: Exam moved to Friday$")

        ala.say("/mute bob 5")
        await ala.expect("^bob is muted for 5 minutes\\.$")
        await bob.expect("^ala muted you for 5 minutes: the room won't see your lines")
        bob.say("can I speak?")
        await bob.expect("^Error: you are muted for 5 more minutes; your line was not sent\\.$")
        bob.say("/nick bobby")  # a rename doesn't shake a mute off
        await bob.expect(r"\* bob is now known as bobby$")
        bob.say("and now?")
        await bob.expect("^Error: you are muted for 5 more minutes")
        clock.advance(4 * 60 + 1)
        bob.say("still?")
        await bob.expect("^Error: you are muted for 1 more minute;")
        clock.advance(60)
        bob.say("free again")
        await cyryl.expect(STAMP + r"bobby \(GL1\): free again$")
        ala.say("/wycisz bobby")
        await ala.expect("^bobby is muted for 60 minutes\\.$")
        ala.say("/unmute bobby")
        await ala.expect("^bobby can speak again\\.$")
        await bob.expect("^ala lifted your mute")
        ala.say("/unmute bobby")
        await ala.expect("^Error: bobby is not muted\\.$")
        ala.say("/mute ala")
        await ala.expect("^Error: that is you; name someone else\\.$")
        ala.say("/mute bobby 0")
        await ala.expect("^Error: 0 is not a number of minutes from 1 to 10080\\.$")

        ala.say("/kick cyryl being loud")
        await cyryl.expect(
            "^Error: you were kicked out by ala \\(being loud\\); closing the connection\\.$"
        )
        await cyryl.closed
        for client in (ala, bob):
            await client.expect(STAMP + r"\* cyryl \(GL2\) was kicked out by ala \(being loud\)$")
        ala.say("/kick nobody")
        await ala.expect("^Error: nobody called nobody is online")
        assert not [line for line in cyryl.lines if "muted" in line]
        assert not [line for line in cyryl.lines if "Exam" in line and "announcement" not in line]
        await quit_all(ala, bob)
    finally:
        await server.stop()
    logged = [e["log_format"].format(**e) for e in entries(log_events) if "log_format" in e]
    assert any("wrong operator password from [::1]:" in line for line in logged)
    assert any("moderation: ala kicked cyryl" in line for line in logged)
    assert any("moderation: ala muted bob for 5 minutes" in line for line in logged)
    assert not [e for e in log_events if PASSWORD in repr(e) or "guess" in repr(e)]


@pytest_twisted.ensureDeferred
async def test_banSurvivesAReconnectAndExpires(reactor):
    # ::1 is protected by default; this server protects nothing, to ban over loopback.
    server, clock = await server_with(reactor, protected=())
    try:
        ala = await join(reactor, server.port, "ala", "GL3")
        bob = await join(reactor, server.port, "bob", "GL1")
        await become_operator(ala)
        ala.say("/ban bob 2 spam")
        await bob.expect(
            "^Error: you were banned for 2 minutes by ala \\(spam\\); closing the connection\\.$"
        )
        await bob.closed
        await ala.expect(STAMP + r"\* bob \(GL1\) was banned for 2 minutes by ala \(spam\)$")

        again = await connect(reactor, server.port)
        await again.closed
        assert again.lines == ["Sorry, your address is banned for 2 more minutes. Try again later."]
        ala.say("/bans")
        await ala.expect(r"^Bans \(1\):$")
        await ala.expect(r"^  ::1 \(bob\): 2 more minutes, by ala \(spam\)$")
        clock.advance(61)
        again = await connect(reactor, server.port)
        await again.closed
        assert again.lines == ["Sorry, your address is banned for 1 more minute. Try again later."]

        clock.advance(60)
        bob = await join(reactor, server.port, "bob", "GL1")
        ala.say("/bany")
        await ala.expect("^No bans\\.$")

        ala.say("/zbanuj bob")  # 60 minutes, no reason
        await ala.expect(r"\* bob \(GL1\) was banned for 60 minutes by ala \(no reason given\)$")
        ala.say("/unban ::1")
        await ala.expect(r"^The ban on ::1 \(bob\) is lifted\.$")
        ala.say("/unban ::1")
        await ala.expect(r"^Error: there is no ban on ::1; /bans lists them\.$")
        bob = await join(reactor, server.port, "bob", "GL1")
        await quit_all(ala, bob)
    finally:
        await server.stop()


@pytest_twisted.ensureDeferred
async def test_loopbackIsNeverBanned(reactor):
    server, _ = await server_with(reactor)
    try:
        ala = await join(reactor, server.port, "ala", "GL3")
        bob = await join(reactor, server.port, "bob", "GL1")
        await become_operator(ala)
        ala.say("/ban bob 10")
        await bob.closed
        await ala.expect(r"^::1 is a loopback address, never banned: bob was only kicked out\.$")
        bob = await join(reactor, server.port, "bob", "GL1")
        await quit_all(ala, bob)
    finally:
        await server.stop()


@pytest_twisted.ensureDeferred
async def test_noOperatorsWithoutAPassword(reactor):
    server = await listen(reactor)
    try:
        ala = await join(reactor, server.port, "ala", "GL3")
        ala.say("/op anything")
        await ala.expect(
            r"^Error: this server has no operators \(it runs without --op-password-file\)\.$"
        )
        ala.say("/pomoc")
        await ala.expect("^Lines may be up to")
        assert not [line for line in ala.lines if "/op" in line and "PASSWORD" in line]
        await quit_all(ala)
    finally:
        await server.stop()


@pytest_twisted.ensureDeferred
async def test_anOperatorKicksABrowser(reactor):
    from chatroom.web.door import WebDoor
    from chatroom.web.site import make_site
    from tests.integration.test_web import Web, enter

    server, _ = await server_with(reactor)
    door = WebDoor(server.room, server.factory.settings, reactor, server.factory.admission)
    port = await endpoints.serverFromString(reactor, r"tcp6:0:interface=\:\:1").listen(
        make_site(door)
    )
    web = Web(server, door, port)
    try:
        ala = await join(reactor, server.port, "ala", "GL3")
        await become_operator(ala)
        ola = await enter(reactor, web, "ola")
        ala.say("/kick ola off topic")
        bye = await ola.expect("bye")
        assert bye["error"] is True and bye["message"] == messages.KICKED_YOU.id
        await ola.closed
        await ala.expect(STAMP + r"\* ola \(GL1\) was kicked out by ala \(off topic\)$")
        await quit_all(ala)
    finally:
        await web.stop()
