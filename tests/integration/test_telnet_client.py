"""
A real C{telnet} (Debian's inetutils) in a pseudo-terminal: with the BINARY
offer every Polish letter arrives intact; without it, the same client mangles
them (which is why the offer is on by default).
"""

from __future__ import annotations

import shutil

import pytest
import pytest_twisted

from chatroom.settings import Settings
from chatroom.testing import join, listen
from tests.integration.process import Screen, spawn, stop_all


@pytest.fixture(autouse=True)
def telnet_installed():
    """Fail, not skip, without Debian's telnet: the README's test command installs it."""
    assert shutil.which("telnet"), "no telnet: apt-get install telnet (see the README's tests)"


POLISH = "ĄĆĘŁŃÓŚŹŻ ąćęłńóśźż"


async def chat_from_telnet(reactor, settings, text):
    server = await listen(reactor, settings)
    bob = await join(reactor, server.port, "bob")
    telnet = spawn(reactor, ["telnet", "::1", str(server.port)], terminal=(80, 24),
                   env={"TERM": "xterm", "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"})  # fmt: skip
    try:
        await telnet.expect(r"Your name")
        telnet.write("ala\r")
        await telnet.expect(r"Your lab group")
        telnet.write("GL3\r")
        await telnet.expect(r"Hello ala \(GL3\)")
        telnet.write(text + "\r")
        telnet.write("marker\r")
        await bob.expect(r"ala \(GL3\): marker$")
        said = [line.split(": ", 1)[1] for line in bob.lines if "ala (GL3): " in line]
        return said, telnet
    finally:
        await stop_all([telnet])
        bob.say("/quit")
        await bob.closed
        await server.stop()


@pytest_twisted.ensureDeferred
async def test_telnetTypesEveryPolishLetter(reactor):
    said, telnet = await chat_from_telnet(reactor, Settings(), POLISH)
    assert said == [POLISH, "marker"]
    # Nothing of the negotiation shows on the telnet user's screen, and
    # replies start at the left margin, not where the typing stopped.
    screen = Screen(80, 24).feed(telnet.raw).text
    assert "\ufffd" not in "".join(screen)
    assert "Your lab group (1-16 characters, e.g. GL3):" in screen
    assert POLISH in screen


@pytest_twisted.ensureDeferred
async def test_withoutBinaryTelnetMangles(reactor):
    said, _ = await chat_from_telnet(reactor, Settings(telnet=False), POLISH)
    assert said[-1] == "marker"
    assert POLISH not in said
