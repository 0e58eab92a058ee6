"""History over real TCP: a latecomer sees what was just said, and nothing else."""

import pytest_twisted

from chatroom.settings import Settings
from chatroom.testing import join, listen, quit_all

STAMP = r"\[\d\d:\d\d:\d\d\]"


@pytest_twisted.ensureDeferred
async def test_latecomerSeesTheLastPublicMessagesMarked(reactor):
    server = await listen(reactor, Settings(history=2))
    try:
        ala = await join(reactor, server.port, "ala", "GL3")
        bob = await join(reactor, server.port, "bob", "GL1")
        for text in ("one", "two", "three"):
            ala.say(text)
            await bob.expect(f"ala \\(GL3\\): {text}$")
        ala.say("/msg bob top secret")
        await bob.expect("top secret")
        await quit_all(bob)
        cyryl = await join(reactor, server.port, "cyryl", "GL2")
        ala.say("live")
        await cyryl.expect(f"^{STAMP} ala \\(GL3\\): live$")
        hello = cyryl.lines.index(next(line for line in cyryl.lines if line.startswith("Hello")))
        after = cyryl.lines[hello + 1 :]
        assert [line[11:] for line in after] == [
            "[history] ala (GL3): two",
            "[history] ala (GL3): three",
            "ala (GL3): live",
        ]
        assert not [line for line in cyryl.lines if "secret" in line or "bob" in line]
        await quit_all(ala, cyryl)
    finally:
        await server.stop()


@pytest_twisted.ensureDeferred
async def test_noHistoryWithZero(reactor):
    server = await listen(reactor, Settings(history=0))
    try:
        ala = await join(reactor, server.port, "ala")
        ala.say("before")
        bob = await join(reactor, server.port, "bob")
        ala.say("after")
        await bob.expect("ala \\(GL1\\): after$")
        assert not [line for line in bob.lines if "before" in line or "[history]" in line]
        await quit_all(ala, bob)
    finally:
        await server.stop()
